"""LOGICAL_AND, LOGICAL_OR, LOGICAL_NOT on bool tensors (bytes 0 / 1) between comparisons and
SELECT_V2 (support.py allows bool tensors only there).

TFLite Micro computes each output as the C++ `&&`, `||` or `!` of its inputs, broadcasting the two
inputs of AND / OR numpy-style; the result is 0 or 1. LOGICAL_NOT runs here as an exclusive or with
a constant 1 (a one-byte array broadcast over the input), so one loop serves all three.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator, Tensor
from .base import ConstArray, ConstRef, KernelCall, lowering, reject

RANK = 5  # MCF_LOGICAL_RANK in runtime/kernels/logical.h
OPERATIONS = {"LOGICAL_AND": 0, "LOGICAL_OR": 1, "LOGICAL_NOT": 2}


def _strides(shape: tuple[int, ...], out_shape: tuple[int, ...]) -> list[int]:
    """Element strides of a tensor of `shape` over the RANK-padded output dimensions (0 where broadcast)."""
    padded = (1,) * (RANK - len(shape)) + tuple(shape)
    full = (1,) * (RANK - len(out_shape)) + tuple(out_shape)
    return [0 if padded[d] == 1 and full[d] != 1 else int(np.prod(padded[d + 1:], dtype=np.int64))
            for d in range(RANK)]


def _bool(op: Operator, t: Tensor | None, what: str) -> Tensor:
    if t is None:
        raise reject(op, f"the {what} is missing")
    if t.dtype != "bool":
        raise reject(op, f"{what} '{t.name}' is {t.dtype}; TFLite Micro's {op.opcode} takes bool only")
    return t


@lowering(*OPERATIONS)
def lower_logical(graph: Graph, op: Operator) -> KernelCall:
    unary = op.opcode == "LOGICAL_NOT"
    count = 1 if unary else 2
    if len(op.inputs) != count or len(op.outputs) != 1:
        raise reject(op, f"expected {count} input(s) and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    ins = [_bool(op, t, f"input {k + 1}") for k, t in enumerate(graph.op_inputs(op))]
    out = _bool(op, graph.op_outputs(op)[0], "output")
    shapes = [tuple(t.shape) for t in ins]
    try:
        shape = tuple(int(d) for d in np.broadcast_shapes(*shapes))
    except ValueError:
        raise reject(op, "input shapes " + ", ".join(str(list(s)) for s in shapes) + " do not broadcast") from None
    if tuple(out.shape) != shape:
        raise reject(op, f"output shape {list(out.shape)} differs from the broadcast shape {list(shape)}")
    if len(shape) > RANK or any(len(s) > RANK for s in shapes):
        raise reject(op, f"tensors of rank above {RANK} are not supported")
    if out.size == 0:
        raise reject(op, "empty tensors are not supported")
    dims = (1,) * (RANK - len(shape)) + shape
    consts = [ConstArray("dims", "int32_t", np.array(dims, np.int32)),
              ConstArray("stride_a", "int32_t", np.array(_strides(shapes[0], shape), np.int32)),
              ConstArray("stride_b", "int32_t", np.array(_strides(shapes[-1] if not unary else (1,), shape), np.int32))]
    second: int | ConstRef = op.inputs[-1]
    if unary:
        consts.append(ConstArray("one", "uint8_t", np.array([1], np.uint8)))
        second = ConstRef("one")
    return KernelCall(
        op=op,
        kernel="logical",
        function="mcf_logical_u8",
        params_type="mcf_logical_params",
        params={"operation": OPERATIONS[op.opcode], "dims": ConstRef("dims"), "stride_a": ConstRef("stride_a"),
                "stride_b": ConstRef("stride_b")},
        args=[op.inputs[0], second, op.outputs[0]],
        consts=consts,
    )
