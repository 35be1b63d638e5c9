"""MIRROR_PAD (int8): REFLECT and SYMMETRIC padding, as TFLite Micro computes each padded
position's input coordinate (its GetInputDimension, one dimension at a time, including its clamp
of a padding wider than the mirror allows). The coordinates are computed here, per dimension, as
byte offsets; the kernel only adds one table entry per dimension (runtime/kernels/dim_gather_s8.c).
A padding that would make TFLite Micro read outside the input is refused.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator
from .base import ConstArray, ConstRef, KernelCall, ParamValue, lowering, reject
from .layout import const_ints

MAX_DIMS = 5  # MCF_DIM_GATHER_DIMS in dim_gather_s8.h


def mirrored_index(i: int, left: int, size: int, offset: int) -> int:
    """The input coordinate of padded coordinate i (offset 1: REFLECT, 0: SYMMETRIC)."""
    if i < left:
        original = left + offset - 1
        return original - min(i, original - offset)
    i -= left
    if i >= size:
        i -= size
        original = size - (1 + offset)
        return original - min(i, original)
    return i


def _c_array(values: list[int]) -> str:
    return "{" + ", ".join(str(v) for v in values) + "}"


@lowering("MIRROR_PAD")
def lower_mirror_pad(graph: Graph, op: Operator) -> KernelCall:
    if len(op.inputs) != 2 or len(op.outputs) != 1:
        raise reject(op, f"expected 2 inputs (input, paddings) and 1 output, got {len(op.inputs)} and "
                         f"{len(op.outputs)}")
    inp, pads_t = graph.op_inputs(op)
    out = graph.op_outputs(op)[0]
    if inp is None or pads_t is None:
        raise reject(op, "an input is missing")
    for t in (inp, out):
        if t.dtype != "int8":
            raise reject(op, f"tensor '{t.name}' is {t.dtype}; TFLite Micro's MIRROR_PAD takes int8 (or float32)")
    rank = len(inp.shape)
    if not 1 <= rank <= MAX_DIMS:
        raise reject(op, f"{rank} dimensions; 1 to {MAX_DIMS} are supported")
    pads = const_ints(op, pads_t, "paddings", ("int32", "int64"))
    if len(pads) != 2 * rank:
        raise reject(op, f"paddings has {len(pads)} values; a {rank}-D input needs {2 * rank}")
    mode = {0: "REFLECT", 1: "SYMMETRIC"}.get(op.options.get("mode", 0), op.options.get("mode"))
    if mode not in ("REFLECT", "SYMMETRIC"):
        raise reject(op, f"mode {mode} is not REFLECT or SYMMETRIC")
    offset = 1 if mode == "REFLECT" else 0
    want = [inp.shape[d] + pads[2 * d] + pads[2 * d + 1] for d in range(rank)]
    if list(out.shape) != want or min(pads) < 0:
        raise reject(op, f"paddings {pads} give an output {want}, the model says {list(out.shape)}")
    steps = [int(np.prod(inp.shape[d + 1:], dtype=np.int64)) for d in range(rank)]
    tables: list[int] = [0]  # entry 0: the table of the unused leading dimensions
    starts: list[int] = []
    for d in range(rank):
        starts.append(len(tables))
        for i in range(want[d]):
            k = mirrored_index(i, pads[2 * d], inp.shape[d], offset)
            if not 0 <= k < inp.shape[d]:
                raise reject(op, f"padding {pads[2 * d]}, {pads[2 * d + 1]} of dimension {d} (extent "
                                 f"{inp.shape[d]}) is wider than {mode} mirroring allows")
            tables.append(k * steps[d])
    lead = MAX_DIMS - rank
    params: dict[str, ParamValue] = {"count": _c_array([1] * lead + want), "start": _c_array([0] * lead + starts),
                                     "offsets": ConstRef("offsets")}
    return KernelCall(op=op, kernel="dim_gather_s8", function="mcf_dim_gather_s8",
                      params_type="mcf_dim_gather_params", params=params,
                      consts=[ConstArray("offsets", "int32_t", np.array(tables, np.int32))],
                      args=[op.inputs[0], op.outputs[0]], comment=f", {mode.lower()}")
