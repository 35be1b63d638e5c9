"""MEAN, SUM, REDUCE_MAX and REDUCE_MIN (int8) over any set of axes.

TFLite Micro's int8 MEAN and SUM (reference QuantizedMeanOrSum) sum the raw int8 values over the
reduced axes in int32, subtract input_zero_point * count, and requantize with the input/output
scale multiplier (QuantizeMultiplier of the double ratio of the float scales). MEAN folds 1/count
into it: with n = floor(log2(count)) (at most 32 and at most 31 + shift),
multiplier' = (multiplier << n) / count (integer division) and shift' = shift - n; SUM does not.
All of that is done here; the kernel sums and requantizes. The output is clamped to int8 only
(no fused activation); keep_dims changes the output shape, not its element order.

REDUCE_MAX / REDUCE_MIN (TFLite Micro's ReduceGeneric with an int8 comparison) require equal input
and output quantization and take the maximum / minimum of the raw values, starting from the int8
lowest / highest value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import Graph, Operator, Tensor
from ..quant import quantize_multiplier
from . import float_requant
from .base import KernelCall, ParamValue, lowering, reject, require_int8
from .fully_connected_s16 import require_int16
from .mean_s16 import as_int16

MAX_GROUPS = 4  # MCF_MEAN_MAX_GROUPS in mean_s8.h
_MAX_COUNT = 1 << 23  # elements per output: keeps 256 * count inside int32


def _groups(shape: tuple[int, ...], reduced: set[int], strides: list[int]) -> list[tuple[bool, int, int]]:
    """(is_reduced, count, input stride) for runs of adjacent same-kind dimensions, size-1 dims dropped."""
    groups: list[tuple[bool, int, int]] = []
    for i, size in enumerate(shape):
        if size == 1:
            continue
        kind = i in reduced
        if groups and groups[-1][0] == kind and groups[-1][2] == size * strides[i]:
            # merging with the previous (outer) group: it steps by a whole run of this dimension
            groups[-1] = (kind, groups[-1][1] * size, strides[i])
        else:
            groups.append((kind, size, strides[i]))
    return groups


def _c_array(values: list[int]) -> str:
    return "{" + ", ".join(str(v) for v in values) + "}"


def _arrays(groups: list[tuple[int, int]]) -> tuple[str, str]:
    """C initialisers for counts and strides, groups right-aligned, unused leading slots 1/0."""
    lead = MAX_GROUPS - len(groups)
    counts = [1] * lead + [c for c, _ in groups]
    strides = [0] * lead + [s for _, s in groups]
    return _c_array(counts), _c_array(strides)


@dataclass
class _Reduction:
    inp: Tensor
    out: Tensor
    axes: list[int]  # sorted, resolved
    count: int  # elements reduced into each output
    params: dict[str, ParamValue]  # the group counts and strides


def _reduction(graph: Graph, op: Operator, int16_ok: bool = False) -> _Reduction:
    """Checks shared by every reduction; the kept and reduced dimension groups."""
    if len(op.inputs) != 2 or len(op.outputs) != 1:
        raise reject(op, f"expected 2 inputs (data, axes) and 1 output, got {len(op.inputs)} and "
                         f"{len(op.outputs)}")
    inp, axis_t = graph.op_inputs(op)
    out = graph.op_outputs(op)[0]
    if inp is None or axis_t is None:
        raise reject(op, "the data and axis inputs are both required")
    if int16_ok and inp.dtype == "int16":  # MEAN and SUM with int16 (mean_s16.py)
        require_int16(op, inp, out)
    else:
        require_int8(op, inp, out)
    if axis_t.dtype != "int32":
        raise reject(op, f"the axis tensor must be int32, got {axis_t.dtype}")
    if axis_t.data is None and axis_t.size != 0:  # an empty axis list has no data to hold
        raise reject(op, "the axis tensor must be constant")
    assert inp.quant is not None and out.quant is not None
    if inp.quant.per_channel or out.quant.per_channel:
        raise reject(op, "input and output must be quantized per tensor")

    # The dimensions the axes name, each with its step in the input's bytes: the input's own, or
    # (a TRANSPOSE folded into this reduction, generator/constfold.py) the transposed order of the
    # TRANSPOSE's input, which this operator then reads.
    steps = [int(np.prod(inp.shape[i + 1:], dtype=np.int64)) for i in range(len(inp.shape))]
    shape = tuple(inp.shape)
    perm = op.options.get("transposed_input")
    if perm is not None:
        if sorted(perm) != list(range(len(shape))):
            raise reject(op, f"transposed_input {perm} is not a permutation of {len(shape)} dimensions")
        shape, steps = tuple(shape[p] for p in perm), [steps[p] for p in perm]
    rank = len(shape)
    reduced: set[int] = set()
    axes = np.asarray(axis_t.data if axis_t.data is not None else [], dtype=np.int64).reshape(-1)
    for a in (int(v) for v in axes):
        r = a + rank if a < 0 else a
        if not 0 <= r < rank:
            raise reject(op, f"axis {a} is out of range for a {rank}-D input")
        reduced.add(r)
    if any(d == 0 for d in shape):
        raise reject(op, f"input shape {list(shape)} has an empty dimension")
    count = int(np.prod([shape[a] for a in reduced], dtype=np.int64)) if reduced else 1
    kept_shape = [d for i, d in enumerate(shape) if i not in reduced]
    if out.size != int(np.prod(kept_shape, dtype=np.int64)):
        raise reject(op, f"output {list(out.shape)} has {out.size} elements; reducing axes "
                         f"{sorted(reduced)} of {list(shape)} gives {kept_shape}")
    if count >= _MAX_COUNT:
        raise reject(op, f"the reduction is over {count} elements; at most {_MAX_COUNT - 1} are supported")

    groups = _groups(shape, reduced, steps)
    kept = [(c, s) for r, c, s in groups if not r]
    summed = [(c, s) for r, c, s in groups if r]
    if len(kept) > MAX_GROUPS or len(summed) > MAX_GROUPS:
        raise reject(op, f"reducing axes {sorted(reduced)} of a {list(shape)} input interleaves "
                         f"more than {MAX_GROUPS} kept or reduced dimension groups")
    kept_count, kept_stride = _arrays(kept)
    red_count, red_stride = _arrays(summed)
    params: dict[str, ParamValue] = {"kept_count": kept_count, "kept_stride": kept_stride,
                                     "reduced_count": red_count, "reduced_stride": red_stride}
    return _Reduction(inp, out, sorted(reduced), count, params)


@lowering("MEAN", "SUM")
def lower_mean_or_sum(graph: Graph, op: Operator) -> KernelCall:
    r = _reduction(graph, op, int16_ok=True)
    # Same arithmetic as TFLite Micro's Prepare (QuantizeMultiplier on a double ratio of the float
    # scales) and, for MEAN, its 1/count folding (integer, truncating).
    ratio = np.float64(np.float32(r.inp.scale)) / np.float64(np.float32(r.out.scale))
    mult, shift = quantize_multiplier(float(ratio))
    is_mean = op.opcode == "MEAN"
    if is_mean:
        n = min(r.count.bit_length() - 1, 32, 31 + shift)
        mult = (mult << n) // r.count
        shift -= n
    f32 = is_mean and r.inp.dtype == "int8" and float_requant.wants_float32(op)
    if f32:  # onnxruntime's QLinearGlobalAveragePool (mean_s8_f32.h): the float32 scale's bits
        mult, shift = int(float_requant.scale_bits(float_requant.mean_scale(r.inp.scale, r.out.scale, r.count))[0]), 0
    call = KernelCall(
        op=op,
        kernel="mean_s8",
        function="mcf_mean_s8",
        params_type="mcf_mean_params",
        params={
            **r.params,
            "acc_init": -r.inp.zero_point * r.count,
            "multiplier": mult,
            "shift": shift,
            "output_offset": r.out.zero_point,
        },
        args=[op.inputs[0], op.outputs[0]],
        comment=f", {'mean' if is_mean else 'sum'} over axes {r.axes} ({r.count} elements)",
    )
    if f32:
        return float_requant.entry_points(op, call)
    return as_int16(call) if r.inp.dtype == "int16" else call


@lowering("REDUCE_MAX", "REDUCE_MIN")
def lower_reduce_max_min(graph: Graph, op: Operator) -> KernelCall:
    r = _reduction(graph, op)
    # TFLite Micro's EvalMinMaxHelper: the scales compared as doubles, the zero points equal.
    if float(np.float32(r.inp.scale)) != float(np.float32(r.out.scale)) or r.inp.zero_point != r.out.zero_point:
        raise reject(op, f"input and output quantization must match (input scale {r.inp.scale:g} zero point "
                         f"{r.inp.zero_point}, output scale {r.out.scale:g} zero point {r.out.zero_point})")
    is_max = op.opcode == "REDUCE_MAX"
    return KernelCall(
        op=op,
        kernel="mean_s8",
        function="mcf_reduce_max_s8" if is_max else "mcf_reduce_min_s8",
        params_type="mcf_reduce_params",
        params=r.params,
        args=[op.inputs[0], op.outputs[0]],
        comment=f", {'maximum' if is_max else 'minimum'} over axes {r.axes} ({r.count} elements)",
    )
