"""CONCATENATION (int8, any axis, 1 to 10 inputs).

TFLite Micro's int8 concatenation copies bytes: it requires every input to have exactly the
output's scale and zero point (no requantization), no fused activation, and at most 10 inputs.
The same limits apply here. Each input becomes its own argument of the fixed-arity entry point
`mcf_concat<N>_s8` (N = number of inputs), which hands them to the one copying loop.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator
from .base import KernelCall, lowering, reject, require_int8
from .concat_s16 import lower_concat_s16
from .signal_int32 import lower_concat_i32

MAX_INPUTS = 10  # MCF_CONCAT_MAX_INPUTS in concat_s8.h, and TFLite Micro's limit
MAX_RANK = 6  # TFLite Micro's RuntimeShape limit for this op


@lowering("CONCATENATION")
def lower_concat(graph: Graph, op: Operator) -> KernelCall:
    if not 1 <= len(op.inputs) <= MAX_INPUTS or len(op.outputs) != 1:
        raise reject(op, f"expected 1 to {MAX_INPUTS} inputs and 1 output, got {len(op.inputs)} and "
                         f"{len(op.outputs)}")
    ins = graph.op_inputs(op)
    out = graph.op_outputs(op)[0]
    if any(t is None for t in ins):
        raise reject(op, "an input is missing")
    if out.dtype == "int32":  # plain int32 (signal_int32.py)
        return lower_concat_i32(graph, op, [t for t in ins if t is not None], out)
    if out.dtype == "int16":  # concat_s16.py
        return lower_concat_s16(graph, op, [t for t in ins if t is not None], out)
    require_int8(op, *ins, out)
    act = op.options.get("fused_activation_function", "NONE")
    if act != "NONE":
        raise reject(op, f"fused activation {act} is not supported (TFLite Micro requires NONE)")

    rank = len(out.shape)
    if rank > MAX_RANK:
        raise reject(op, f"output has {rank} dimensions; at most {MAX_RANK} are supported")
    axis = int(op.options.get("axis", 0))
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        raise reject(op, f"axis {op.options.get('axis', 0)} is out of range for a {rank}-D output")

    assert out.quant is not None
    total = 0
    for t in ins:
        assert t is not None and t.quant is not None
        if np.float32(t.scale) != np.float32(out.scale) or t.zero_point != out.zero_point:
            raise reject(op, f"input '{t.name}' (scale {t.scale:g}, zero point {t.zero_point}) and the "
                             f"output (scale {out.scale:g}, zero point {out.zero_point}) must have the same "
                             "quantization; TFLite Micro does not rescale int8 concatenation")
        if len(t.shape) != rank or any(t.shape[d] != out.shape[d] for d in range(rank) if d != axis):
            raise reject(op, f"input '{t.name}' {list(t.shape)} does not fit output {list(out.shape)} "
                             f"concatenated along axis {axis}")
        total += t.shape[axis]
    if total != out.shape[axis]:
        raise reject(op, f"inputs add up to {total} along axis {axis}, the output has {out.shape[axis]}")

    outer = int(np.prod(out.shape[:axis], dtype=np.int64))
    inner = int(np.prod(out.shape[axis + 1:], dtype=np.int64))
    sizes = [t.shape[axis] * inner for t in ins if t is not None]
    sizes += [0] * (MAX_INPUTS - len(sizes))
    n = len(op.inputs)
    return KernelCall(
        op=op,
        kernel="concat_s8",
        function=f"mcf_concat{n}_s8",
        params_type="mcf_concat_params",
        params={
            "outer": outer,
            "num_inputs": n,
            "size": "{" + ", ".join(str(s) for s in sizes) + "}",
        },
        args=[*op.inputs, op.outputs[0]],
        comment=f", {n} inputs along axis {axis}",
    )
