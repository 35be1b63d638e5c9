"""int8 EQUAL, NOT_EQUAL, GREATER, GREATER_EQUAL, LESS, LESS_EQUAL (bool outputs) and SELECT_V2 (bool
condition, int8 values), numpy-style broadcasting.

TFLite Micro always compares int8 inputs after scaling: each input, offset by its zero point and
shifted left by 8, is multiplied by its own scale (a Q31 multiplier below one, from the scale in
double) with rounding; the two results are compared. Equal quantizations therefore still go through
the scaling (two stored values may round to the same scaled value). SELECT_V2 copies the stored
bytes of x or y, without requantization (TFLite Micro neither). bool tensors are bytes (0 / 1).
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator, Tensor
from ..quant import quantize_multiplier
from .base import ConstArray, ConstRef, KernelCall, lowering, reject, require_int8

MAX_RANK = 5
COMPARE_LEFT_SHIFT = 8
COMPARISONS = {"EQUAL": 0, "NOT_EQUAL": 1, "GREATER": 2, "GREATER_EQUAL": 3, "LESS": 4, "LESS_EQUAL": 5}


def loops_of(op: Operator, out_shape: tuple[int, ...], shapes: list[tuple[int, ...]]
             ) -> tuple[list[int], list[list[int]]]:
    """Extents of the output's dimensions other than 1 (outermost first) and each input's element
    strides over them (0 where the input is broadcast)."""
    rank = len(out_shape)
    dims: list[int] = []
    strides: list[list[int]] = [[] for _ in shapes]
    padded = []
    for s in shapes:
        if len(s) > rank:
            raise reject(op, f"input shape {list(s)} has more dimensions than the output {list(out_shape)}")
        padded.append((1,) * (rank - len(s)) + tuple(s))
    for d in range(rank):
        if out_shape[d] == 1:
            continue
        dims.append(out_shape[d])
        for k, s in enumerate(padded):
            strides[k].append(0 if s[d] == 1 else int(np.prod(s[d + 1:], dtype=np.int64)))
    if not dims:
        return [1], [[0] for _ in shapes]
    return dims, strides


def _broadcast(op: Operator, out: Tensor, ins: list[Tensor]) -> tuple[dict, list[ConstArray]]:
    try:
        shape = tuple(int(d) for d in np.broadcast_shapes(*(tuple(t.shape) for t in ins)))
    except ValueError:
        raise reject(op, "input shapes " + ", ".join(str(list(t.shape)) for t in ins)
                     + " do not broadcast") from None
    if max(len(t.shape) for t in (*ins, out)) > MAX_RANK:
        raise reject(op, f"tensors of rank above {MAX_RANK} are not supported")
    rank = max(len(shape), len(out.shape))
    if (1,) * (rank - len(shape)) + shape != (1,) * (rank - len(out.shape)) + tuple(out.shape):
        raise reject(op, f"output shape {list(out.shape)} differs from the broadcast shape {list(shape)}")
    if out.size == 0:
        raise reject(op, "empty tensors are not supported")
    dims, strides = loops_of(op, tuple(out.shape), [tuple(t.shape) for t in ins])
    params: dict = {"ndims": len(dims), "dims": ConstRef("dims")}
    consts = [ConstArray("dims", "int32_t", np.array(dims, np.int32))]
    for k, st in enumerate(strides):
        params[f"stride{k + 1}"] = ConstRef(f"stride{k + 1}")
        consts.append(ConstArray(f"stride{k + 1}", "int32_t", np.array(st, np.int32)))
    return params, consts


def compare_multiplier(op: Operator, t: Tensor) -> tuple[int, int]:
    """TFLite's QuantizeMultiplierSmallerThanOneExp of the tensor's scale."""
    assert t.quant is not None
    if t.quant.per_channel:
        raise reject(op, f"tensor '{t.name}' is quantized per channel; only per-tensor is supported")
    if not 0.0 < float(t.scale) < 1.0:
        raise reject(op, f"tensor '{t.name}' has scale {float(t.scale):.6g}, outside (0, 1); "
                         "TFLite Micro cannot compare it either")
    return quantize_multiplier(float(t.scale))


def _operands(graph: Graph, op: Operator, count: int) -> tuple[list[Tensor], Tensor]:
    ins = graph.op_inputs(op)
    outs = graph.op_outputs(op)
    if len(ins) != count or any(t is None for t in ins) or len(outs) != 1:
        raise reject(op, f"expected {count} inputs and 1 output, got {len(ins)} and {len(outs)}")
    return [t for t in ins if t is not None], outs[0]


@lowering(*COMPARISONS)
def lower_compare(graph: Graph, op: Operator) -> KernelCall:
    (a, b), out = _operands(graph, op, 2)
    require_int8(op, a, b)
    if out.dtype != "bool":
        raise reject(op, f"output '{out.name}' is {out.dtype}; expected bool")
    m1, s1 = compare_multiplier(op, a)
    m2, s2 = compare_multiplier(op, b)
    loops, consts = _broadcast(op, out, [a, b])
    params = {"comparison": COMPARISONS[op.opcode], "left_shift": COMPARE_LEFT_SHIFT,
              "input1_offset": -a.zero_point, "input1_multiplier": m1, "input1_shift": s1,
              "input2_offset": -b.zero_point, "input2_multiplier": m2, "input2_shift": s2, **loops}
    return KernelCall(op=op, kernel="compare_s8", function="mcf_compare_s8", params_type="mcf_compare_params",
                      params=params, args=[op.inputs[0], op.inputs[1], op.outputs[0]], consts=consts)


@lowering("SELECT_V2")
def lower_select_v2(graph: Graph, op: Operator) -> KernelCall:
    (cond, x, y), out = _operands(graph, op, 3)
    if cond.dtype != "bool":
        raise reject(op, f"condition '{cond.name}' is {cond.dtype}; expected bool")
    require_int8(op, x, y, out)
    loops, consts = _broadcast(op, out, [cond, x, y])
    return KernelCall(op=op, kernel="compare_s8", function="mcf_select_s8", params_type="mcf_select_params",
                      params=loops, args=[op.inputs[0], op.inputs[1], op.inputs[2], op.outputs[0]], consts=consts)
