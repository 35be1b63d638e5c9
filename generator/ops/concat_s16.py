"""CONCATENATION of int16 tensors, reached from concat.py.

TFLite Micro copies int16 values unchanged, whatever the scales; it only requires zero points 0.
The copy is pack_split's join (runtime/kernels/pack_split.c): `outer` repetitions of one
contiguous slab per input, sizes in bytes.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator, Tensor
from .base import KernelCall, reject
from .fully_connected_s16 import require_int16

MAX_INPUTS = 10  # TFLite Micro's limit


def lower_concat_s16(graph: Graph, op: Operator, ins: list[Tensor], out: Tensor) -> KernelCall:
    require_int16(op, *ins, out)
    if len(ins) > MAX_INPUTS:
        raise reject(op, f"{len(ins)} inputs; TFLite Micro takes at most {MAX_INPUTS}")
    act = op.options.get("fused_activation_function", "NONE")
    if act != "NONE":
        raise reject(op, f"fused activation {act} is not supported (TFLite Micro requires NONE)")
    for t in (*ins, out):
        if t.zero_point != 0:
            raise reject(op, f"int16 tensor '{t.name}' has zero point {t.zero_point}; TFLite Micro needs 0")
    rank = len(out.shape)
    axis = int(op.options.get("axis", 0))
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        raise reject(op, f"axis {op.options.get('axis', 0)} is out of range for a {rank}-D output")
    for t in ins:
        if len(t.shape) != rank or any(t.shape[d] != out.shape[d] for d in range(rank) if d != axis):
            raise reject(op, f"input '{t.name}' {list(t.shape)} does not fit output {list(out.shape)} "
                             f"concatenated along axis {axis}")
    if sum(t.shape[axis] for t in ins) != out.shape[axis]:
        raise reject(op, f"the inputs do not add up to the output's {out.shape[axis]} along axis {axis}")
    outer = int(np.prod(out.shape[:axis], dtype=np.int64))
    inner = int(np.prod(out.shape[axis + 1:], dtype=np.int64))
    sizes = [2 * t.shape[axis] * inner for t in ins] + [0] * (16 - len(ins))  # MCF_PARTS_MAX
    return KernelCall(
        op=op, kernel="pack_split", function=f"mcf_join{len(ins)}", params_type="mcf_parts_params",
        params={"outer": outer, "num_parts": len(ins), "size": "{" + ", ".join(map(str, sizes)) + "}"},
        args=[*op.inputs, op.outputs[0]], comment=f", int16, {len(ins)} inputs along axis {axis}",
    )
