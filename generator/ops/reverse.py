"""REVERSE_V2 (int8, int16, int32): the input read backwards along the given axes, as TFLite
Micro does (axes negative from the end allowed; after sorting they must be adjacent, its limit).
An index map with negative steps, run by the strided copy (generator/ops/strided.py)."""

from __future__ import annotations

from ..ir import Graph, Operator
from .base import KernelCall, lowering, reject
from .layout import INT_TYPES, const_ints
from .strided import require_types, row_major_steps, strided_copy_call

MAX_RANK = 5  # TFLite Micro's kMaxDimensions for REVERSE_V2


@lowering("REVERSE_V2")
def lower_reverse(graph: Graph, op: Operator) -> KernelCall:
    if len(op.inputs) != 2 or len(op.outputs) != 1:
        raise reject(op, f"expected 2 inputs (input, axis) and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    inp, axis_t = graph.op_inputs(op)
    out = graph.op_outputs(op)[0]
    if inp is None or axis_t is None:
        raise reject(op, "an input is missing")
    require_types(op, INT_TYPES, inp, out)
    if inp.dtype != out.dtype or tuple(inp.shape) != tuple(out.shape):
        raise reject(op, f"output {out.dtype} {list(out.shape)} differs from input {inp.dtype} {list(inp.shape)}")
    rank = len(inp.shape)
    if not 1 <= rank <= MAX_RANK:
        raise reject(op, f"{rank} dimensions; TFLite Micro reverses 1 to {MAX_RANK}")
    axes = sorted(a + rank if a < 0 else a for a in const_ints(op, axis_t, "axis"))
    if any(not 0 <= a < rank for a in axes) or len(set(axes)) != len(axes):
        raise reject(op, f"axes {const_ints(op, axis_t, 'axis')} are out of range or repeated for {rank} dimensions")
    if axes and axes != list(range(axes[0], axes[0] + len(axes))):
        raise reject(op, f"axes {axes} are not adjacent; TFLite Micro reverses adjacent axes only")
    steps = row_major_steps(inp.shape)
    start = sum((inp.shape[a] - 1) * steps[a] for a in axes)
    signed = [-s if d in axes else s for d, s in enumerate(steps)]
    return strided_copy_call(op, inp, list(inp.shape), signed, start, comment=f", axes {axes}")
