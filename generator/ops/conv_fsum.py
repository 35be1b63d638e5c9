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
  MlasSgemmOperation). The threads' shares are computed for onnxruntime's intra-op thread count
  (`ort_threads`): as MlasConvPrepare does for the segmented im2col path, as MlasGemmBatch does
  where the whole product goes to MlasGemm (more output channels than pixels, or a 1x1 product):
  split by output channels every share keeps all pixels and so the whole product's K blocks; split
  by pixels (in units of 16) each share has its own. Left to the integer convolution: a split with
  a one-channel share (MLAS's M = 1 kernel there, not the others'), one-pixel shares whose blocks of
  four channels do not line up with the whole's, and three different K blocks.

The user chooses (`onnx_settings`, set by `compile_graph`'s arguments: mcuforge.yaml's
`onnx_numerics` / `ort_threads`, `compile --onnx-numerics / --ort-threads`):
- numerics "onnxruntime" (the default): these convolutions as above, bit-exact; "integer": the
  ordinary integer kernels at full speed, which may differ from onnxruntime by a step;
- the thread count the K blocks are computed for: pinned, else MCUFORGE_ORT_THREADS, else the
  compiling machine's cores (onnxruntime's default). The host reference (references/onnxrt.py)
  runs onnxruntime with the same count, and the generated C says which count it was made for.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..ir import Operator, Tensor
from .base import ConstArray, ConstRef, KernelCall, ScratchRef, reject
from .float_requant import UNIT_ROUNDOFF, gamma

OPTION = "float_conv"
SGEMM_STRIDE = 128  # MLAS_SGEMM_STRIDEN and MLAS_SGEMM_STRIDEK
DW_MAX_TAPS = 64  # MCF_FSUM_DW_MAX_TAPS of conv2d_s8_fsum.h
DW_PLANE_MAX = 256  # MCF_FSUM_DW_PLANE_MAX of conv2d_s8_fsum.h
SGEMM_THREAD_COMPLEXITY = 64 * 1024  # MLAS_SGEMM_THREAD_COMPLEXITY: below it one thread


_KINDS = {"gemm": "fused multiply-adds", "m1": "M = 1", "dw": "M = 1", "n1": "one pixel, eight lanes"}


NUMERICS = ("onnxruntime", "integer")
THREADS_NOTE = "K blocks for onnxruntime intra-op threads:"  # in the generated C's comment
_SETTINGS: ContextVar[tuple[str, int | None]] = ContextVar("mcuforge_onnx_settings", default=("onnxruntime", None))


@dataclass(frozen=True)
class FloatConvs:
    """What a compile did with the convolutions onnxruntime leaves in float."""

    count: int  # operators the front end marked
    numerics: str  # "onnxruntime" | "integer"
    threads: int  # onnxruntime intra-op threads the K blocks are computed for
    threads_from: str  # where that count came from
    thread_dependent: int = 0  # of them, those whose sums depend on the count (after a compile)
    integer: int = 0  # of them, those left to the integer kernels: MLAS's path not reproduced (after a compile)

    def describe(self) -> str:
        if self.numerics == "integer":
            return (f"{self.count} convolution(s) onnxruntime runs in float lowered to integer kernels "
                    "(onnx_numerics: integer; results may differ from onnxruntime by a step)")
        left = (f"; {self.integer} of them on the integer kernels, where onnxruntime's summation order is not "
                "reproduced (may differ by a step)") if self.integer else ""
        return (f"{self.count - self.integer} of {self.count} convolution(s) onnxruntime runs in float reproduced "
                f"bit-exactly (onnx_numerics: onnxruntime) for {self.threads} onnxruntime thread(s) "
                f"({self.threads_from}; pin with ort_threads / --ort-threads / MCUFORGE_ORT_THREADS); "
                f"{self.thread_dependent} of them depend on the thread count{left}")


@contextmanager
def onnx_settings(numerics: str | None = None, threads: int | None = None) -> Iterator[None]:
    """Within the block, lowerings and the onnxruntime reference use these settings (None: the
    enclosing block's, by default "onnxruntime" and no pinned thread count)."""
    numerics = numerics if numerics is not None else _SETTINGS.get()[0]
    threads = threads if threads is not None else _SETTINGS.get()[1]
    if numerics not in NUMERICS:
        raise ValueError(f"onnx_numerics must be one of {', '.join(NUMERICS)}, not '{numerics}'")
    if threads is not None and threads < 1:
        raise ValueError(f"ort_threads must be at least 1, not {threads}")
    token = _SETTINGS.set((numerics, threads))
    try:
        yield
    finally:
        _SETTINGS.reset(token)


def float_convs(graph: object, steps: Iterable[object] = ()) -> FloatConvs | None:
    """The convolutions of `graph` (an IR Graph) the front end marked, and the current settings;
    `steps`, the compiled calls, tell which depend on the thread count."""
    count = sum(1 for op in getattr(graph, "operators", ()) if op.options.get(OPTION))
    if not count:
        return None
    threads, source = thread_count()
    calls = [s for s in steps if isinstance(s, KernelCall) and s.op.options.get(OPTION)]
    dependent = sum(1 for s in calls if s.kernel == "conv2d_s8_fsum" and THREADS_NOTE in s.comment)
    fsum = {id(s.op) for s in calls if s.kernel == "conv2d_s8_fsum"}
    integer = len({id(s.op) for s in calls} - fsum) if _SETTINGS.get()[0] == "onnxruntime" else 0
    return FloatConvs(count, _SETTINGS.get()[0], threads, source, dependent, integer)


def wanted(op: Operator) -> bool:
    return bool(op.options.get(OPTION)) and _SETTINGS.get()[0] == "onnxruntime"


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


def thread_count() -> tuple[int, str]:
    """(onnxruntime intra-op threads, where the count comes from): pinned (onnx_settings), else
    MCUFORGE_ORT_THREADS, else one per core of this machine (onnxruntime's default). Where MLAS
    splits a product over threads, its K blocks depend on how many."""
    pinned = _SETTINGS.get()[1]
    if pinned is not None:
        return pinned, "pinned"
    env = os.environ.get("MCUFORGE_ORT_THREADS", "").strip()
    if env:
        try:
            return max(1, int(env)), "MCUFORGE_ORT_THREADS"
        except ValueError:
            raise ValueError(f"MCUFORGE_ORT_THREADS must be a whole number, not '{env}'") from None
    return max(1, os.cpu_count() or 1), "this machine's cores"


def ort_threads() -> int:
    """The intra-op thread count the lowerings and the onnxruntime reference use (thread_count)."""
    return thread_count()[0]


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


def partition(index: int, count: int, total: int) -> tuple[int, int]:
    """(start, size) of share `index` of `count` over `total` items (MlasPartitionWork)."""
    per, extra = divmod(total, count)
    if index < extra:
        return (per + 1) * index, per + 1
    return per * index + extra, per


def gemm_shares(m: int, n: int, k: int, threads: int) -> tuple[str, list[tuple[int, int]]]:
    """How MlasGemm (MlasGemmBatch, one product) splits an M x N x K product over onnxruntime's
    intra-op threads: ("m", [(first row, rows)]) or ("n", [(first column, columns)]); a single
    share where the product is too small for several threads."""
    complexity = m * n * k
    target = complexity // SGEMM_THREAD_COMPLEXITY + 1 if complexity < SGEMM_THREAD_COMPLEXITY * 16 else 16
    target = min(target, threads)
    if n > m:
        blocked = -(-n // 16)  # MLAS_SGEMM_STRIDEN_THREAD_ALIGN columns a unit
        count = min(target, blocked)
        shares = [partition(i, count, blocked) for i in range(count)]
        return "n", [(16 * s, min(16 * c, n - 16 * s)) for s, c in shares]
    count = min(target, m)
    return "m", [partition(i, count, m) for i in range(count)]


def n1_rows(rows: int) -> list[int]:
    """Each row's block (4, 2 or 1 rows) in MLAS's M = 1 transposed kernel over `rows` rows."""
    fours = rows & ~3
    return [4] * fours + [2] * (2 if rows - fours >= 2 else 0) + [1] * ((rows - fours) % 2)


def kernel_order(geo: dict[str, int], groups: int, group_m: int, k: int, fh: int, fw: int,
                 group_c: int, threads: int | None = None) -> tuple[str, int, int, int] | None:
    """(entry point suffix, taps per block, taps per block from pixel `tail_start`, tail_start) of
    the MLAS path onnxruntime takes, or None where it is not reproduced."""
    threads = ort_threads() if threads is None else threads
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
    suffix = "m1" if group_m == 1 else "gemm"
    whole = mlas_k_stride(pixels, k)  # a share of fewer pixels has this K stride or a wider one
    if segmented:
        if pixels == 1:
            return "n1", k, k, pixels
        if whole >= k or groups > 1 or geo["batches"] > 1:
            # one block whatever the split; or MlasConvExpandThenGemmSegmentedThreaded: each
            # (batch, group) whole on one thread
            return suffix, whole, whole, pixels
        # MlasConvTryMultithread: the pixels in shares, each with its K stride
        parts = segments(pixels, k, group_m, threads)
        return suffix, mlas_k_stride(parts[0][1], k), mlas_k_stride(parts[-1][1], k), parts[-1][0]
    if direct and (groups > 1 or geo["batches"] > 1):
        # MlasConvGemmDirectThreaded: each (batch, group) product whole on one thread
        return ("n1", k, k, pixels) if pixels == 1 else (suffix, whole, whole, pixels)
    # MlasGemm for each (batch, group), split over threads by rows (output channels) or columns
    # (pixels); a share's sums are MlasSgemmOperation's on that share alone
    axis, shares = gemm_shares(group_m, pixels, k, threads)
    if axis == "m":
        if any(rows == 1 for _, rows in shares):
            return None  # that share takes MLAS's M = 1 kernel, the others not
        if pixels == 1:
            # N = 1: MlasSgemmKernelM1TransposeB over the whole K on each share, its rows in blocks
            # of four, two, one from the share's first row: reproduced where that is the whole's layout
            split = [kind for _, rows in shares for kind in n1_rows(rows)]
            return ("n1", k, k, pixels) if split == n1_rows(group_m) else None
        return suffix, whole, whole, pixels  # every share has all N columns: the same K stride
    if whole >= k:
        return suffix, whole, whole, pixels
    strides = [mlas_k_stride(cols, k) for _, cols in shares]
    change = next((i for i, s in enumerate(strides) if s != strides[0]), len(strides))
    if any(s != strides[-1] for s in strides[change:]):
        return None  # three different K strides: the kernel takes two
    return suffix, strides[0], strides[-1], shares[change][0] if change < len(shares) else pixels


def gemm_layout(w: np.ndarray, groups: int, blocks: tuple[int, ...] = (8, 4, 1)) -> np.ndarray:
    """[out_c, K] -> the _gemm path's order: each group's output channels in blocks of the first
    width that fits (eight, then four, then one: the float32 filter; four, then one: the int8 filter
    of builds without an FPU), a block's taps interleaved (tap k of its channels side by side)."""
    oc = w.shape[0]
    gm = oc // groups
    parts = []
    for g in range(groups):
        m, end = g * gm, (g + 1) * gm
        while m < end:
            n = next(b for b in blocks if end - m >= b)
            parts.append(w[m:m + n].T.reshape(-1))
            m += n
    return np.concatenate(parts).astype(w.dtype)


PARTIAL_BITS = 8  # the P and W words' extra fraction bits (conv2d_s8_fsum.h)


def screen_constants(input_scale: float, weight_scales: np.ndarray, output_scale: float, bias: np.ndarray,
                     weights: np.ndarray, blocks: int, x_max: int | None = None) -> tuple[np.ndarray, int] | None:
    """_gemm's and _dw's screens without an FPU (conv2d_s8_fsum.h): six int32 words per output
    channel (multiplier, first margin per unit of W, the 64-bit bias's low and high words, second
    margin per unit of P, margin per unit of A) and the margins' constant part, in units of 2^-32
    output steps (the words per unit of W and of P in 2^-40: their products are shifted right by
    PARTIAL_BITS, rounding up); None where the fixed-point form does not fit (a multiplier of 1 or more,
    a huge bias, sums that could overflow int32, quotients of 2^30 or more).

    With X the integer taps, W the int8 weights, acc = sum X W, M = input_scale * weight_scale /
    output_scale and V = acc * M + bias / output_scale, the float Conv's quotient r is within E of
    V. The sum's N = K + blocks roundings (every fused multiply-add, every block's sum added to the
    total, in any order MLAS uses) each err by at most u = 2^-24 of the value rounded; that value
    is the exact partial sum of the float products, within (2u + u^2) sum |X W| s_x s_w of the
    integer partial sum I_j (the two dequantizations), plus the errors before it (at most
    gamma(N) sum |t|). So E <= M (u P + c2 S) (1 + g2) + g2 |V| with P = sum_j |I_j| over the N
    roundings, S = sum |X W|, c2 = (2u + u^2)(1 + N u) + N u gamma(N) (1 + u)^2 and g2 = gamma(2)
    (the bias addition and the division). Both screens bound S by A max|W|, A = sum |X|. The second
    computes P; the first bounds it: P <= sum_k |X_k W_k| c_k <= max|W| W, c_k the number of
    roundings whose partial sum holds tap k's product (the block's fused multiply-adds from k on, and
    the later blocks' additions to the total: at most (K - k) + blocks - 1), so the kernel takes
    W = (K + blocks - 1) A - sum_k k |X_k| per pixel, and the first word is max|W| times the second
    screen's word per unit of P. (For _dw, `x_max` given, the first screen is the classic one,
    E <= M gamma(N + 3) S (1 + g2) + g2 |V| with S <= x_max sum |W|, x_max the largest |X|, and its
    second word is the whole margin, a constant; the fifth is the word per unit of S, in 2^-40,
    for the second screen, which computes the window's own S.) The kernel uses g2 |V|
    where |V| < 2^11 + 1 (further out both candidates clamp alike); the fixed-point constants add
    half a unit per unit of |acc| <= S and of the bias."""
    k = int(weights[0].size)
    if k * 255 * 128 >= 2 ** 31:
        return None  # the kernel's int32 sums could overflow
    big = 2 ** 32
    u = UNIT_ROUNDOFF
    n = k + blocks
    g = gamma(n + 3)
    g2 = gamma(2)
    c2 = (2 * u + u * u) * (1 + n * u) + n * u * gamma(n) * (1 + u) ** 2
    margin0 = math.ceil(big * g2 * (2 ** 11 + 1) + Fraction(1, 2)) + 1
    sx, sy = Fraction(float(np.float32(input_scale))), Fraction(float(np.float32(output_scale)))
    words = np.zeros((len(bias), 6), dtype=np.int64)
    for c, (ws, b, w) in enumerate(zip(weight_scales, bias, weights, strict=True)):
        m = sx * Fraction(float(np.float32(ws))) / sy
        mult = round(m * big)
        bq = round((Fraction(float(np.float32(b))) / sy + Fraction(1, 2)) * big)
        wabs = np.abs(w.astype(np.int64))
        wmax = int(wabs.max(initial=0) if x_max is None else wabs.sum())
        per_partial = math.ceil(big * 2 ** PARTIAL_BITS * m * u * (1 + g2))  # 2^-8 units: often below one
        if x_max is not None:  # _dw: the whole margin, and the second screen's word per unit of S
            per_abs = x_max * math.ceil(wmax * (big * g * m * (1 + g2) + Fraction(1, 2))) + margin0
            per_partial = math.ceil(2 ** PARTIAL_BITS * (big * g * m * (1 + g2) + Fraction(1, 2)))
            if per_abs >= 2 ** 31 or per_partial >= 2 ** 32:
                return None
        else:  # _gemm: per unit of W = sum |X_k| c_k, which bounds P / max|W|
            per_abs = wmax * per_partial
        per_abs2 = math.ceil(wmax * (big * m * c2 * (1 + g2) + Fraction(1, 2)))
        if not 0 <= mult < 2 ** 32 or abs(bq) >= 2 ** 62 or per_abs >= 2 ** 32:
            return None
        if k * 255 * 128 * m + abs(Fraction(bq, big)) + 1 >= 2 ** 30:
            return None  # the kernel's floor(t / 2^32) must stay below 2^30 in magnitude
        words[c] = (mult, per_abs, bq & 0xFFFFFFFF, bq >> 32, per_partial, per_abs2)
    signed = np.where(words >= 2 ** 31, words - 2 ** 32, words)
    return signed.astype(np.int32).reshape(-1), margin0


def block_margins(words: np.ndarray, group_m: int) -> np.ndarray:
    """_gemm's screening words with the margin's (1 and 5) raised to the largest of the channel's
    block: the kernel's usual case takes four channels of a group at a time (then single ones) and
    computes one margin per pixel for the block from its first channel's words."""
    w = words.reshape(-1, 6).copy()
    for g0 in range(0, len(w), group_m):
        for b in range(g0, g0 + group_m - 3, 4):
            w[b:b + 4, [1, 5]] = w[b:b + 4, [1, 5]].view(np.uint32).max(axis=0).view(np.int32)
    return w.reshape(-1)


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
    threads = ort_threads()
    # one group of an ONNX grouped Conv the front end split (`options["onnx_groups"]`): onnxruntime
    # splits its threads over the groups, each group's product whole on one thread
    split_groups = max(groups, int(op.options.get("onnx_groups", 1)))
    order = kernel_order(geo, split_groups, group_m, k, fh, fw, gc, threads)
    if order is None:
        return None
    suffix, k_block, k_block_tail, tail_start = order
    # which thread count shaped the sums (only where onnxruntime's threads split them)
    depends = len({kernel_order(geo, split_groups, group_m, k, fh, fw, gc, t) for t in (1, 2, 3, 4, 8, 16)}) > 1
    split = f", {THREADS_NOTE} {threads}" if depends else ""
    if suffix == "m1" and (gc, group_m) == (1, 1) and fh * fw <= DW_MAX_TAPS and min(k_block, k_block_tail) >= k:
        suffix = "dw"  # the same sums, channels in the inner loop
    sx = np.float32(inp.scale)
    ws = np.asarray(weight_scales, dtype=np.float64).astype(np.float32).reshape(-1)
    ws = np.broadcast_to(ws, (oc,)) if ws.size == 1 else ws
    wf = (weights.transpose(0, 3, 1, 2).reshape(oc, k).astype(np.float32) * ws[:, None]).astype(np.float32)
    extra: dict[str, object] = {}
    consts: list[ConstArray] = []
    scratch_floats = {"m1": 0, "n1": k}.get(suffix, 256 + k)
    if suffix == "gemm":
        wf = gemm_layout(wf, groups)
    # builds without an FPU (MCF_FSUM_INT) run _gemm from the int8 filter and a screen (below)
    filter_arg = ConstArray("filter_f32", "float", wf.reshape(-1), float_build="hw" if suffix == "gemm" else "")
    if suffix == "dw":
        # the int8 filter, taps by channel, and one float scale per channel: DequantizeLinear's
        # float32(w * scale) is computed per channel at run time, exactly as in `wf`
        filter_arg = ConstArray("filter_s8", "int8_t", weights.reshape(oc, k).T.astype(np.int8).reshape(-1))
        extra["weight_scale"] = ConstRef("wscale_f32")
        span = (fh - 1) * geo["dilation_h"] + 1
        width = (geo["output_w"] - 1) * geo["stride_w"] + (fw - 1) * geo["dilation_w"] + 1
        plane = ((geo["output_h"] - 1) * geo["stride_h"] + span) * width  # the kernel's whole padded image
        scratch_floats = 256 + k + (plane if plane <= DW_PLANE_MAX else span * width)
    # builds without an FPU (MCF_FSUM_INT) decide _gemm's and _dw's outputs from integer sums where
    # they can (screen_constants; conv2d_s8_fsum.h)
    s8 = weights.transpose(0, 3, 1, 2).reshape(oc, k).astype(np.int8)
    fb = op.options.get("float_bias")
    if fb is not None:
        bf = np.asarray(fb, dtype=np.float32).reshape(-1)
        if bf.size != oc:
            raise reject(op, f"float bias has {bf.size} values, expected {oc}")
    else:
        bf = (bias.astype(np.float32) * (sx * ws)).astype(np.float32)
    x_max = max(127 - inp.zero_point, inp.zero_point + 128)  # the largest |x - zero point|
    screen = screen_constants(float(sx), ws, float(np.float32(out.scale)), bf, s8,
                              -(-k // min(k_block, k_block_tail)), x_max if suffix == "dw" else None) \
        if suffix in ("gemm", "dw") else None
    if screen is not None:
        if suffix == "gemm":
            screen = (block_margins(screen[0], oc // groups), screen[1])
        consts.append(ConstArray("screen", "int32_t", screen[0], float_build="int"))
        extra.update({"screen": ConstRef("screen"), "screen_margin": f"{screen[1]}u"})
    if suffix == "gemm":
        consts += [ConstArray("filter_s8", "int8_t", gemm_layout(s8, groups, (4, 1)), float_build="int"),
                   ConstArray("wscale_f32", "float", ws.astype(np.float32), float_build="int")]
        extra.update({"weight_scale": ConstRef("wscale_f32"), "filter_s8": ConstRef("filter_s8")})
        scratch_floats += k  # two pixels' integer columns
    params = {
        "batches": geo["batches"], "input_h": geo["input_h"], "input_w": geo["input_w"],
        "input_c": int(inp.shape[3]), "output_h": geo["output_h"], "output_w": geo["output_w"], "output_c": oc,
        "filter_h": fh, "filter_w": fw, "group_c": gc, "group_m": group_m,
        "stride_h": geo["stride_h"], "stride_w": geo["stride_w"], "dilation_h": geo["dilation_h"],
        "dilation_w": geo["dilation_w"], "pad_top": geo["pad_top"], "pad_left": geo["pad_left"],
        "k_block": int(k_block), "k_block_tail": int(k_block_tail), "tail_start": int(tail_start),
        "input_offset": -inp.zero_point, "input_scale": float(sx),
        "output_scale": float(np.float32(out.scale)), "output_offset": out.zero_point,
        "act_min": act[0], "act_max": act[1], "bias": ConstRef("bias_f32"), **extra,
        "scratch": ScratchRef("float") if suffix != "m1" else "0",  # conv2d_s8_fsum.h says how much
    }
    macs = geo["batches"] * geo["output_h"] * geo["output_w"] * oc * k
    return KernelCall(op=op, kernel="conv2d_s8_fsum", function=f"mcf_conv2d_s8_fsum_{suffix}",
                      params_type="mcf_conv2d_fsum_params", params=params,
                      args=[op.inputs[0], ConstRef(filter_arg.name), op.outputs[0]],
                      consts=[filter_arg, ConstArray("bias_f32", "float", bf), *consts]
                      + ([ConstArray("wscale_f32", "float", ws.astype(np.float32))] if suffix == "dw" else []),
                      scratch_bytes=4 * scratch_floats,
                      macs=macs,
                      comment=f", {fh}x{fw} stride {geo['stride_h']}x{geo['stride_w']}, "
                              f"onnxruntime's float Conv ({_KINDS[suffix]}{split})")
