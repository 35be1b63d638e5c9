"""DYNAMIC_UPDATE_SLICE: the operand with the update written over one block of it.

TFLite Micro (int8, int16, int32, float32 operands; int32 or int64 start indices, one per axis)
clamps each start index to [0, operand extent - update extent], copies the operand to the output
and the update's rows into it, bytes unchanged (no requantization, whatever the quantizations
say); an update as large as the operand is copied alone. Start indices computed at run time are
read and clamped by the kernel; constant ones (int64 too) are clamped here.
"""

from __future__ import annotations

import numpy as np

from ..ir import DTYPE_BYTES, Graph, Operator
from .base import ConstArray, ConstRef, KernelCall, lowering, reject

LOOPS = 4  # MCF_DUS_LOOPS in runtime/kernels/dynamic_update_slice.h; one more axis is the run
TYPES = ("int8", "int16", "int32", "float32")


@lowering("DYNAMIC_UPDATE_SLICE")
def lower_dynamic_update_slice(graph: Graph, op: Operator) -> KernelCall:
    if len(op.inputs) != 3 or len(op.outputs) != 1:
        raise reject(op, f"expected 3 inputs (operand, update, start indices) and 1 output, got "
                         f"{len(op.inputs)} and {len(op.outputs)}")
    operand, update, starts = graph.op_inputs(op)
    out = graph.op_outputs(op)[0]
    if operand is None or update is None or starts is None:
        raise reject(op, "the operand, update and start indices are all required")
    for t in (operand, update, out):
        if t.dtype not in TYPES:
            raise reject(op, f"tensor '{t.name}' is {t.dtype}; TFLite Micro takes {', '.join(TYPES)}")
    if len({operand.dtype, update.dtype, out.dtype}) != 1:
        raise reject(op, f"operand, update and output types differ ({operand.dtype}, {update.dtype}, {out.dtype})")
    rank = len(operand.shape)
    if starts.dtype not in ("int32", "int64") or tuple(starts.shape) != (rank,):
        raise reject(op, f"start indices '{starts.name}' are {starts.dtype} {list(starts.shape)}; TFLite Micro "
                         f"takes {rank} int32 or int64 values")
    if starts.dtype == "int64" and starts.data is None:
        raise reject(op, "int64 start indices computed at run time are not supported (int32 or constant ones are)")
    if not 1 <= rank <= LOOPS + 1:
        raise reject(op, f"rank {rank} is not supported (1 to {LOOPS + 1})")
    if len(update.shape) != rank or any(u > o for u, o in zip(update.shape, operand.shape, strict=True)):
        raise reject(op, f"update {list(update.shape)} does not fit in operand {list(operand.shape)}")
    if tuple(out.shape) != tuple(operand.shape):
        raise reject(op, f"output shape {list(out.shape)} differs from the operand's {list(operand.shape)}")
    if update.size == 0 or operand.size == 0:
        raise reject(op, "empty tensors are not supported")
    elem = DTYPE_BYTES[operand.dtype]
    limit = [int(o - u) for o, u in zip(operand.shape, update.shape, strict=True)]
    step = [int(np.prod(operand.shape[k + 1:], dtype=np.int64)) * elem for k in range(rank)]
    lead = (1,) * (LOOPS + 1 - rank)
    counts = [*lead, *update.shape][:LOOPS]
    out_steps = [*(0,) * len(lead), *step][:LOOPS]
    consts = [ConstArray("limit", "int32_t", np.array(limit, np.int32)),
              ConstArray("start_step", "int32_t", np.array(step, np.int32))]
    start_arg: int | ConstRef = starts.index
    if starts.data is not None:  # clamped here, passed as int32
        given = np.asarray(starts.data, dtype=np.int64).reshape(-1)
        consts.append(ConstArray("starts", "int32_t", np.clip(given, 0, limit).astype(np.int32)))
        start_arg = ConstRef("starts")
    return KernelCall(
        op=op,
        kernel="dynamic_update_slice",
        function="mcf_dynamic_update_slice",
        params_type="mcf_dus_params",
        params={"whole": int(update.size == operand.size), "total": operand.size * elem, "rank": rank,
                "limit": ConstRef("limit"), "start_step": ConstRef("start_step"),
                "count": "{" + ", ".join(map(str, counts)) + "}",
                "out_step": "{" + ", ".join(map(str, out_steps)) + "}",
                "run": int(update.shape[-1]) * elem},
        args=[operand.index, update.index, start_arg, out.index],
        consts=consts,
        comment=f", update {list(update.shape)} into {list(operand.shape)}",
    )
