"""BATCH_MATMUL on int16 operands and output (16x8 models); ops/batch_matmul.py hands int16
operators to this module.

TFLite Micro's int16 kernel needs zero points 0 on all three tensors. For every batch (the leading
dimensions broadcast like NumPy's matmul) it sums lhs(i, k) * rhs(k, j) in int64 and rescales with
its 64-bit MultiplyByQuantizedMultiplier (the Q31 multiplier of float32(lhs_scale * rhs_scale) /
output_scale, in double, reduced to 16 bits; one rounding right shift), saturated to int16; no
fused activation. adj_x / adj_y only change the element steps the kernel walks, so neither operand
is copied.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator
from ..quant import quantize_multiplier
from .base import KernelCall, reject
from .fully_connected_s16 import reduced_multipliers
from .matmul_shapes import matmul_shapes, strides

BATCH_DIMS = 3  # MCF_BMM_S16_BATCH_DIMS in runtime/kernels/batch_matmul_s16.h
MAX_DEPTH = 1 << 17  # |sum| < 2^47, the range of TFLite's 64-bit rescaling


def _list(values: list[int]) -> str:
    return "{" + ", ".join(str(v) for v in values) + "}"


def lower_batch_matmul_s16(graph: Graph, op: Operator) -> KernelCall:
    if len(op.inputs) != 2 or len(op.outputs) != 1:
        raise reject(op, f"expected 2 inputs and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    lhs, rhs = graph.op_inputs(op)
    out = graph.op_outputs(op)[0]
    if lhs is None or rhs is None:
        raise reject(op, "both operands are required")
    for t in (lhs, rhs, out):
        if t.dtype != "int16" or t.quant is None or t.quant.per_channel:
            raise reject(op, f"tensor '{t.name}' is {t.dtype}; an int16 BATCH_MATMUL needs int16 tensors "
                             "quantized per tensor")
        if t.zero_point != 0:
            raise reject(op, f"tensor '{t.name}' has zero point {t.zero_point}; TFLite Micro's int16 "
                             "BATCH_MATMUL needs 0")
    if not (2 <= len(lhs.shape) <= BATCH_DIMS + 2 and 2 <= len(rhs.shape) <= BATCH_DIMS + 2):
        raise reject(op, f"operands must have rank 2 to {BATCH_DIMS + 2}, got {list(lhs.shape)} and {list(rhs.shape)}")
    rank = BATCH_DIMS + 2
    adj_x, adj_y = bool(op.options.get("adj_x", False)), bool(op.options.get("adj_y", False))
    ls, rs, m, k, n, batch = matmul_shapes(op, tuple(lhs.shape), tuple(rhs.shape), rank)
    out_rank = max(len(lhs.shape), len(rhs.shape))
    if tuple(out.shape) != (*batch[rank - out_rank:], m, n):
        raise reject(op, f"output shape {list(out.shape)} does not match {[*batch[rank - out_rank:], m, n]}")
    if min(m, n, k, *batch) < 1:
        raise reject(op, "empty operand")
    if k > MAX_DEPTH:
        raise reject(op, f"inner dimension {k} is larger than {MAX_DEPTH}")
    scale = np.float64(np.float32(np.float32(lhs.scale) * np.float32(rhs.scale))) / np.float64(np.float32(out.scale))
    mult, shift = quantize_multiplier(float(scale))
    if not -31 <= shift < 8:
        raise reject(op, f"the output multiplier {float(scale):.6g} is outside TFLite Micro's 64-bit rescaling range")
    reduced, right = reduced_multipliers(np.array([mult]), np.array([shift]))
    lst, rst = strides(ls), strides(rs)
    lhs_row, lhs_col = (lst[-1], lst[-2]) if adj_x else (lst[-2], lst[-1])
    rhs_row, rhs_col = (rst[-1], rst[-2]) if adj_y else (rst[-2], rst[-1])
    return KernelCall(
        op=op,
        kernel="batch_matmul_s16",
        function="mcf_batch_matmul_s16",
        params_type="mcf_bmm_s16_params",
        params={"batches": _list(batch),
                "lhs_batch_step": _list([0 if ls[d] == 1 else lst[d] for d in range(BATCH_DIMS)]),
                "rhs_batch_step": _list([0 if rs[d] == 1 else rst[d] for d in range(BATCH_DIMS)]),
                "rows": m, "cols": n, "depth": k, "lhs_row": lhs_row, "lhs_col": lhs_col,
                "rhs_row": rhs_row, "rhs_col": rhs_col, "multiplier": int(reduced[0]), "shift": int(right[0])},
        args=[op.inputs[0], op.inputs[1], op.outputs[0]],
        macs=int(np.prod(batch, dtype=np.int64)) * m * n * k,
        comment=f", {m}x{k} by {k}x{n}" + (", adj_x" if adj_x else "") + (", adj_y" if adj_y else ""),
    )
