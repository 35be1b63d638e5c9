"""BATCH_MATMUL (int8 lhs, rhs and output, per-tensor quantization).

TFLite Micro's int8 kernel computes, for every batch (the leading dimensions broadcast like
NumPy's matmul, ranks 2 to 5), out[i][j] = clamp(requant(sum_k (lhs[i][k] - lhs_zp) *
(rhs[k][j] - rhs_zp)) + output_zp, -128, 127), with lhs transposed first when adj_x is set and rhs
when adj_y is not (its rhs is read as [N][K]). The multiplier is QuantizeMultiplier of
float32(lhs_scale * rhs_scale) / output_scale in double. There is no fused activation.

The kernel takes the zero points out of the inner loop: sum (x - zx)(y - zy) = dot(x, y)
- zy * sum(x) - zx * sum(y) + K * zx * zy, the row sums once per row, the column terms precomputed
here for a constant rhs (stored as [batch][N][K]) or once per batch in scratch for a variable one,
and multiplies two rhs columns per pass (SMLAD on cores with the DSP extension), both operands
contiguous along K: a variable operand that is not (adj_x, or rhs without adj_y) is copied
transposed into scratch first, as TFLite Micro does. A constant 2-D rhs stored as [N][K] (adj_y)
with zero point 0 is a FULLY_CONNECTED layer over all rows of lhs: that case runs the
fully_connected_s8 fast paths.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator
from ..quant import quantize_multiplier
from . import float_requant
from .base import ConstArray, ConstRef, FastOr, KernelCall, ScratchRef, lowering, reject, require_int8
from .batch_matmul_s16 import lower_batch_matmul_s16
from .fully_connected import fc_fast_layout
from .matmul_shapes import matmul_shapes, strides

MAX_BATCH_DIMS = 3  # MCF_BMM_MAX_BATCH_DIMS in batch_matmul_s8.h
_MAX_DEPTH = (2**31 - 1) // (255 * 255)  # keeps the int32 sum of (x - zx) * (y - zy) exact


@lowering("BATCH_MATMUL")
def lower_batch_matmul(graph: Graph, op: Operator) -> KernelCall:
    if len(op.inputs) != 2 or len(op.outputs) != 1:
        raise reject(op, f"expected 2 inputs and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    lhs, rhs = graph.op_inputs(op)
    out = graph.op_outputs(op)[0]
    if lhs is None or rhs is None:
        raise reject(op, "both operands are required")
    if lhs.dtype == "int16":  # 16x8 models (batch_matmul_s16.py)
        return lower_batch_matmul_s16(graph, op)
    require_int8(op, lhs, rhs, out)
    for t in (lhs, rhs, out):
        assert t.quant is not None
        if t.quant.per_channel:
            raise reject(op, f"tensor '{t.name}' must be quantized per tensor")
    if not (2 <= len(lhs.shape) <= 5 and 2 <= len(rhs.shape) <= 5):
        raise reject(op, f"operands must have rank 2 to 5, got {list(lhs.shape)} and {list(rhs.shape)}")
    rank = max(len(lhs.shape), len(rhs.shape))
    adj_x, adj_y = bool(op.options.get("adj_x", False)), bool(op.options.get("adj_y", False))
    ls, rs, m, k, n, batch = matmul_shapes(op, tuple(lhs.shape), tuple(rhs.shape), rank)
    if tuple(out.shape) != (*batch, m, n):
        raise reject(op, f"output shape {list(out.shape)} does not match {[*batch, m, n]}")
    if min(m, n, k, *batch) < 1:
        raise reject(op, "empty operand")
    if k > _MAX_DEPTH:
        raise reject(op, f"inner dimension {k} is larger than {_MAX_DEPTH}")

    scale = np.float64(np.float32(np.float32(lhs.scale) * np.float32(rhs.scale))) / np.float64(np.float32(out.scale))
    mult, shift = quantize_multiplier(float(scale))
    if float_requant.wants_float32(op):  # onnxruntime's QLinearMatMul: the float32 scale's bits
        scales = float_requant.product_scales(lhs.scale, np.array([rhs.scale]), out.scale)
        mult, shift = int(float_requant.scale_bits(scales)[0]), 0
    rows = int(np.prod(batch, dtype=np.int64)) * m
    macs = rows * n * k

    rhs_batch = rs[:-2]
    if rhs.data is not None and adj_y and all(d == 1 for d in rhs_batch) and not adj_x and rhs.zero_point == 0:
        fc = _as_fully_connected(op, rows, k, n, mult, shift, lhs.zero_point, out.zero_point,
                                 rhs.data.reshape(n, k).astype(np.int8))
        return float_requant.entry_points(op, fc)

    lst = strides(ls)
    # lhs element (i, k): row stride and depth stride
    l_i, l_k = (lst[-1], lst[-2]) if adj_x else (lst[-2], lst[-1])
    args: list[int | ConstRef | FastOr] = [op.inputs[0]]
    consts = []
    lo, ro = -lhs.zero_point, -rhs.zero_point
    lead = MAX_BATCH_DIMS - len(batch)
    if rhs.data is not None:
        # stored [batch..][N][K]; its column terms lo * sum_k rhs[k][j] + K * lo * ro precomputed
        data = rhs.data.reshape(rs).astype(np.int64)
        data = data if adj_y else np.swapaxes(data, -1, -2)
        terms = lo * data.sum(axis=-1) + k * lo * ro  # [batch..][N]
        if np.abs(terms).max(initial=0) >= 2**31:
            raise reject(op, "the folded zero-point terms do not fit in int32")
        consts += [ConstArray("rhs", "int8_t", np.ascontiguousarray(data).astype(np.int8).reshape(-1)),
                   ConstArray("col_terms", "int32_t", terms.astype(np.int32).reshape(-1))]
        args.append(ConstRef("rhs"))
        rst = strides((*rhs_batch, n, k))
        r_j, r_k = k, 1
        tst = strides((*rhs_batch, n))
        t_b = [0] * lead + [0 if rs[i] == 1 else tst[i] for i in range(len(batch))]
    else:
        args.append(op.inputs[1])
        rst = strides(rs)
        r_j, r_k = (rst[-2], rst[-1]) if adj_y else (rst[-1], rst[-2])
        t_b = [0] * MAX_BATCH_DIMS
    args.append(op.outputs[0])
    # Scratch: the column terms of a variable rhs, then the operands not contiguous along k, transposed.
    scratch = 0 if rhs.data is not None else 4 * n
    lhs_copy = rhs_copy = -1
    if l_k != 1:
        lhs_copy, scratch = scratch, scratch + m * k
    if r_k != 1:
        rhs_copy, scratch = scratch, scratch + n * k
    counts = [1] * lead + batch
    l_b = [0] * lead + [0 if ls[i] == 1 else lst[i] for i in range(len(batch))]
    r_b = [0] * lead + [0 if rs[i] == 1 else rst[i] for i in range(len(batch))]
    return float_requant.entry_points(op, KernelCall(
        op=op,
        kernel="batch_matmul_s8",
        function="mcf_batch_matmul_s8",
        params_type="mcf_batch_matmul_params",
        params={
            "batch_count": _c(counts), "lhs_batch_stride": _c(l_b), "rhs_batch_stride": _c(r_b),
            "rhs_term_stride": _c(t_b), "rows": m, "cols": n, "depth": k,
            "lhs_row_stride": l_i, "lhs_depth_stride": l_k, "rhs_col_stride": r_j, "rhs_depth_stride": r_k,
            "lhs_offset": lo, "rhs_offset": ro, "output_offset": out.zero_point,
            "multiplier": mult, "shift": shift,
            "col_terms": ConstRef("col_terms") if rhs.data is not None else "0",
            "scratch": ScratchRef("int32_t") if scratch else "0", "lhs_copy": lhs_copy, "rhs_copy": rhs_copy,
        },
        args=args,
        consts=consts,
        scratch_bytes=(scratch + 3) // 4 * 4,
        macs=macs,
        comment=f", [{m}x{k}] x [{k}x{n}] x {rows // m}" + (" adj_x" if adj_x else "") + (" adj_y" if adj_y else ""),
    ))


def _c(values: list[int]) -> str:
    return "{" + ", ".join(str(v) for v in values) + "}"


def _as_fully_connected(op: Operator, rows: int, depth: int, units: int, mult: int, shift: int, lhs_zp: int,
                        out_zp: int, weights: np.ndarray) -> KernelCall:
    """The fully_connected_s8 call for a constant [N][K] rhs with zero point 0: bias = -lhs_zp * row sums."""
    folded = -np.int64(lhs_zp) * weights.astype(np.int64).sum(axis=1)
    return KernelCall(
        op=op,
        kernel="fully_connected_s8",
        function="mcf_fully_connected_s8_fast_path",
        params_type="mcf_fc_params",
        params={"batches": rows, "depth": depth, "units": units, "output_offset": out_zp, "act_min": -128,
                "act_max": 127, "per_channel": 0, "multiplier": ConstRef("mult"), "shift": ConstRef("shift"),
                "bias": ConstRef("bias"), "fast_layout": 1},
        args=[op.inputs[0], FastOr(ConstRef("weights_fast"), op.inputs[1]), op.outputs[0]],
        consts=[ConstArray("mult", "int32_t", np.array([mult], dtype=np.int32)),
                ConstArray("shift", "int32_t", np.array([shift], dtype=np.int32)),
                ConstArray("bias", "int32_t", folded.astype(np.int32)),
                ConstArray("weights_fast", "uint32_t", fc_fast_layout(weights), fast_only=True)],
        macs=rows * units * depth,
        comment=f", [{rows}x{depth}] x [{depth}x{units}] as a fully connected layer",
    )
