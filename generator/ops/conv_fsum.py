"""CONV_2D / DEPTHWISE_CONV_2D as onnxruntime computes a convolution it leaves unfused
(`options["float_conv"]`, set by the ONNX front end): DequantizeLinear, a float32 Conv in MLAS,
QuantizeLinear. runtime/kernels/conv2d_s8_fsum.h says what the kernel computes; here the
compiler prepares it:

- the weights dequantized once, float32(w * scale[channel]) as DequantizeLinear computes them,
  each output channel's taps in im2col order (input channel of the group, filter row, column);
- the bias as onnxruntime's float Conv sees it, float32(b * bias scale) (the bias's own
  DequantizeLinear, whatever its scale: `options["float_bias"]`), else the int32 bias on the
  accumulator's scale;
- which of MLAS's SGEMM kernels runs: M = 1 (one output channel per group, e.g. depthwise) its
  multiply-then-add kernel (`_m1`); a single output pixel with several output channels per group
  its transposed M = 1 kernel (`_n1`, eight lanes); otherwise the fused multiply-add kernels
  (`_gemm`). Where none of these is what onnxruntime runs (`kernel_order` gives None) the integer
  convolution is used, which differs by a rounding step at most;
- MLAS's K stride: a sum over more than 128 taps may be split in blocks summed apart, their size
  set by how many output pixels the thread computing them has (MlasConvOperation /
  MlasSgemmOperation). For the segmented im2col path the threads' shares are computed as
  MlasConvPrepare does for onnxruntime's default thread count (`ort_threads`: the compiling
  machine's cores, or MCUFORGE_ORT_THREADS); a product MlasGemm splits over threads with blocks
  that depend on the split is left to the integer convolution.
"""

from __future__ import annotations

import os

import numpy as np

from ..ir import Operator, Tensor
from .base import ConstArray, ConstRef, KernelCall, ScratchRef, reject

OPTION = "float_conv"
SGEMM_STRIDE = 128  # MLAS_SGEMM_STRIDEN and MLAS_SGEMM_STRIDEK
DW_MAX_TAPS = 64  # MCF_FSUM_DW_MAX_TAPS of conv2d_s8_fsum.h
SGEMM_THREAD_COMPLEXITY = 64 * 1024  # MLAS_SGEMM_THREAD_COMPLEXITY: below it one thread


_KINDS = {"gemm": "fused multiply-adds", "m1": "M = 1", "dw": "M = 1", "n1": "one pixel, eight lanes"}


def wanted(op: Operator) -> bool:
    return bool(op.options.get(OPTION))


def mlas_k_stride(n: int, k: int) -> int:
    """The K stride MLAS picks for a product with n output columns and k taps (the same rule in
    MlasConvOperation and MlasSgemmOperation): a wider stride where n is small, a narrower one
    where k is."""
    stride_n, stride_k = SGEMM_STRIDE, SGEMM_STRIDE
    if n >= k:
        while stride_k // 2 >= k:
            stride_n, stride_k = stride_n * 2, stride_k // 2
    else:
        while stride_n > 16 and stride_n // 2 >= n:
            stride_n, stride_k = stride_n // 2, stride_k * 2
    return stride_k


def ort_threads() -> int:
    """The threads onnxruntime's CPU provider uses by default (one per core) on the machine that
    compiles, or MCUFORGE_ORT_THREADS: where MLAS splits a product over threads, its K blocks
    depend on how many (the reference must be run with as many)."""
    return max(1, int(os.environ.get("MCUFORGE_ORT_THREADS") or os.cpu_count() or 1))


def segments(pixels: int, k: int, m: int, threads: int) -> list[tuple[int, int]]:
    """(first pixel, pixels) of each thread's share in MLAS's segmented im2col convolution
    (MlasConvPrepare's thread count and stride, MlasConvTryMultithread's slices)."""
    complexity = m * pixels * k
    target = complexity // SGEMM_THREAD_COMPLEXITY + 1 if complexity < SGEMM_THREAD_COMPLEXITY * 16 else 16
    target = min(target, threads)
    stride = -(-pixels // target)
    if target > 1:
        stride = (stride + 15) & ~15
        if stride >= pixels:
            target = 1
        elif stride * (target - 1) >= pixels:
            target -= 1
    if stride >= pixels:
        return [(0, pixels)]
    return [(start, min(stride, pixels - start)) for start in range(0, pixels, stride)]


def kernel_order(geo: dict[str, int], groups: int, group_m: int, k: int, fh: int, fw: int,
                 group_c: int) -> tuple[str, int, int, int] | None:
    """(entry point suffix, taps per block, taps per block from pixel `tail_start`, tail_start) of
    the MLAS path onnxruntime takes, or None where it is not reproduced."""
    pixels = geo["output_h"] * geo["output_w"]
    dh, dw = geo["dilation_h"], geo["dilation_w"]
    unpadded = ((geo["stride_h"], geo["stride_w"], geo["pad_top"], geo["pad_left"]) == (1, 1, 0, 0)
                and geo["output_h"] == geo["input_h"] - dh * (fh - 1)
                and geo["output_w"] == geo["input_w"] - dw * (fw - 1))
    direct = (fh, fw) == (1, 1) and unpadded
    if not direct and unpadded and group_c == 1 and (dh, dw) == (1, 1) \
            and (fw == geo["input_w"] or (fh == geo["input_h"] and fw == 1)):
        return None  # MLAS's transposed direct product of a one-channel input: another kernel
    segmented = not direct and group_m <= pixels  # MlasConvAlgorithmExpandThenGemmSegmented
    if group_m == 1 and not segmented:
        return "m1", k, k, pixels  # MlasSgemmKernelM1 on the whole K
    if pixels == 1:
        # N = 1: MlasSgemmKernelM1TransposeB over the whole K, output channels in blocks of four; a
        # product big enough for several threads may have its channels split other ways
        return ("n1", k, k, pixels) if group_m * k < SGEMM_THREAD_COMPLEXITY else None
    suffix = "m1" if group_m == 1 else "gemm"
    whole = mlas_k_stride(pixels, k)
    if whole >= k or groups > 1 or geo["batches"] > 1:
        # one block whatever the split; or the whole output on one thread per group
        return suffix, whole, whole, pixels
    if segmented:
        parts = segments(pixels, k, group_m, ort_threads())
        return suffix, mlas_k_stride(parts[0][1], k), mlas_k_stride(parts[-1][1], k), parts[-1][0]
    if group_m * pixels * k < SGEMM_THREAD_COMPLEXITY:
        return suffix, whole, whole, pixels  # MlasGemm on one thread
    return None  # MlasGemm's split over threads is not modelled


def gemm_layout(wf: np.ndarray, groups: int) -> np.ndarray:
    """[out_c, K] float32 -> the _gemm path's order: each group's output channels in blocks of
    eight, then four, then one, a block's taps interleaved (tap k of its channels side by side)."""
    oc = wf.shape[0]
    gm = oc // groups
    parts = []
    for g in range(groups):
        m, end = g * gm, (g + 1) * gm
        while m < end:
            n = 8 if end - m >= 8 else (4 if end - m >= 4 else 1)
            parts.append(wf[m:m + n].T.reshape(-1))
            m += n
    return np.concatenate(parts).astype(np.float32)


def lower_float_conv(op: Operator, inp: Tensor, weights: np.ndarray, weight_scales: np.ndarray,
                     bias: np.ndarray, out: Tensor, geo: dict[str, int], groups: int,
                     act: tuple[int, int]) -> KernelCall | None:
    """The call, or None where onnxruntime's kernel is not reproduced (the caller then lowers the
    integer convolution). `weights` [out_c, fh, fw, group_c] int8 (DEPTHWISE_CONV_2D's transposed
    to that by the caller), `bias` int32 on the accumulator's scale."""
    assert inp.quant is not None and out.quant is not None
    oc, fh, fw, gc = weights.shape
    group_m = oc // groups
    k = gc * fh * fw
    order = kernel_order(geo, groups, group_m, k, fh, fw, gc)
    if order is None:
        return None
    suffix, k_block, k_block_tail, tail_start = order
    if suffix == "m1" and (gc, group_m) == (1, 1) and fh * fw <= DW_MAX_TAPS and min(k_block, k_block_tail) >= k:
        suffix = "dw"  # the same sums, channels in the inner loop
    sx = np.float32(inp.scale)
    ws = np.asarray(weight_scales, dtype=np.float64).astype(np.float32).reshape(-1)
    ws = np.broadcast_to(ws, (oc,)) if ws.size == 1 else ws
    wf = (weights.transpose(0, 3, 1, 2).reshape(oc, k).astype(np.float32) * ws[:, None]).astype(np.float32)
    if suffix == "gemm":
        wf = gemm_layout(wf, groups)
    fb = op.options.get("float_bias")
    if fb is not None:
        bf = np.asarray(fb, dtype=np.float32).reshape(-1)
        if bf.size != oc:
            raise reject(op, f"float bias has {bf.size} values, expected {oc}")
    else:
        bf = (bias.astype(np.float32) * (sx * ws)).astype(np.float32)
    params = {
        "batches": geo["batches"], "input_h": geo["input_h"], "input_w": geo["input_w"],
        "input_c": int(inp.shape[3]), "output_h": geo["output_h"], "output_w": geo["output_w"], "output_c": oc,
        "filter_h": fh, "filter_w": fw, "group_c": gc, "group_m": group_m,
        "stride_h": geo["stride_h"], "stride_w": geo["stride_w"], "dilation_h": geo["dilation_h"],
        "dilation_w": geo["dilation_w"], "pad_top": geo["pad_top"], "pad_left": geo["pad_left"],
        "k_block": int(k_block), "k_block_tail": int(k_block_tail), "tail_start": int(tail_start),
        "input_offset": -inp.zero_point, "input_scale": float(sx),
        "output_scale": float(np.float32(out.scale)), "output_offset": out.zero_point,
        "act_min": act[0], "act_max": act[1], "bias": ConstRef("bias_f32"),
        "scratch": ScratchRef("float") if suffix != "m1" else "0",  # conv2d_s8_fsum.h says how much
    }
    macs = geo["batches"] * geo["output_h"] * geo["output_w"] * oc * k
    return KernelCall(op=op, kernel="conv2d_s8_fsum", function=f"mcf_conv2d_s8_fsum_{suffix}",
                      params_type="mcf_conv2d_fsum_params", params=params,
                      args=[op.inputs[0], ConstRef("filter_f32"), op.outputs[0]],
                      consts=[ConstArray("filter_f32", "float", wf.reshape(-1)),
                              ConstArray("bias_f32", "float", bf)],
                      scratch_bytes={"m1": 0, "dw": 4 * (256 + oc), "n1": 4 * k}.get(suffix, 4 * (256 + k)),
                      macs=macs,
                      comment=f", {fh}x{fw} stride {geo['stride_h']}x{geo['stride_w']}, "
                              f"onnxruntime's float Conv ({_KINDS[suffix]})")
