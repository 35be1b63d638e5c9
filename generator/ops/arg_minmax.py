"""ARG_MAX and ARG_MIN (int8 input, int32 output).

TFLite Micro's kernel (reference ArgMinMax) walks the axis from index 0 and replaces the running
best value only on a strictly greater (ARG_MAX) or strictly smaller (ARG_MIN) one, so the first
of equal values wins. It accepts an int32 axis and an int32 output only; an int64 output (the
TensorFlow default) is refused with that reason. The axis must be constant here: the compiler
turns it into outer / axis / inner extents.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator
from .base import KernelCall, lowering, reject


@lowering("ARG_MAX", "ARG_MIN")
def lower_arg_min_max(graph: Graph, op: Operator) -> KernelCall:
    if len(op.inputs) != 2 or len(op.outputs) != 1:
        raise reject(op, f"expected 2 inputs (data, axis) and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    inp, axis_t = graph.op_inputs(op)
    out = graph.op_outputs(op)[0]
    if inp is None or axis_t is None:
        raise reject(op, "the data and axis inputs are both required")
    if inp.dtype != "int8":
        raise reject(op, f"tensor '{inp.name}' is {inp.dtype}; only int8 is supported here")
    if out.dtype != "int32":
        raise reject(op, f"output '{out.name}' is {out.dtype}; TFLite Micro's {op.opcode} produces int32 only")
    if axis_t.dtype != "int32":
        raise reject(op, f"the axis tensor is {axis_t.dtype}; TFLite Micro's {op.opcode} takes an int32 axis only")
    if axis_t.data is None or axis_t.size != 1:
        raise reject(op, "the axis must be one constant value")
    rank = len(inp.shape)
    if rank < 1:
        raise reject(op, "the input must have at least one dimension")
    a = int(np.asarray(axis_t.data).reshape(-1)[0])
    axis = a + rank if a < 0 else a
    if not 0 <= axis < rank:
        raise reject(op, f"axis {a} is out of range for a {rank}-D input")
    if any(d == 0 for d in inp.shape):
        raise reject(op, f"input shape {list(inp.shape)} has an empty dimension")
    expected = [d for i, d in enumerate(inp.shape) if i != axis]
    if list(out.shape) != expected:
        raise reject(op, f"output shape {list(out.shape)} does not match {expected} (input {list(inp.shape)} "
                         f"without axis {axis})")
    outer = int(np.prod(inp.shape[:axis], dtype=np.int64))
    inner = int(np.prod(inp.shape[axis + 1:], dtype=np.int64))
    is_max = op.opcode == "ARG_MAX"
    return KernelCall(
        op=op,
        kernel="arg_minmax_s8",
        function="mcf_arg_max_s8" if is_max else "mcf_arg_min_s8",
        params_type="mcf_arg_params",
        params={"outer": outer, "axis_size": inp.shape[axis], "inner": inner},
        args=[op.inputs[0], op.outputs[0]],
        comment=f", {'largest' if is_max else 'smallest'} along axis {axis} ({inp.shape[axis]} values)",
    )
