"""onnxruntime's float32 output stage, chosen per operator by `options["requant"] = "float32"`.

The ONNX front end sets that option on operators that onnxruntime (CPU provider, MLAS) computes
with an integer kernel and a float32 requantization: the int32 sum becomes float32, is multiplied
by one float32 scale, rounded half to even, offset by the zero point and saturated
(docs/kernels.md, "Float32 requantization"). Without the option the lowerings keep TFLite's
fixed-point arithmetic.

The scales are computed here exactly as onnxruntime computes them, in numpy float32, and handed
to the kernels as their IEEE-754 bit patterns in the int32 `multiplier` arrays (mcf_requant_f32 in
runtime/kernels/mcf_common.h reads them back). The kernels' float32 copies are separate entry points
(`entry_points`), so the TFLite ones compile exactly as before.
"""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction

import numpy as np

from ..ir import Operator
from .base import KernelCall

OPTION = "requant"
FLOAT32 = "float32"


def wants_float32(op: Operator) -> bool:
    """Whether the operator's output stage is onnxruntime's float32 requantization."""
    return op.options.get(OPTION) == FLOAT32


def product_scales(input_scale: float, weight_scales: np.ndarray, output_scale: float) -> np.ndarray:
    """QLinearConv / QLinearMatMul / QGemm: (x_scale * w_scale[c]) / y_scale, each step rounded
    to float32 in that order (onnxruntime's ComputeOutputScale)."""
    ws = np.asarray(weight_scales, dtype=np.float64).astype(np.float32).reshape(-1)
    return (np.float32(input_scale) * ws) / np.float32(output_scale)


def mean_scale(input_scale: float, output_scale: float, count: int) -> np.ndarray:
    """QLinearGlobalAveragePool: x_scale / (y_scale * float32(count)), one float32 (in an array)."""
    return np.array([np.float32(input_scale) / (np.float32(output_scale) * np.float32(count))], dtype=np.float32)


def add_constants(a_scale: float, a_zp: int, b_scale: float, b_zp: int, out_scale: float,
                  out_zp: int) -> tuple[int, int, int]:
    """QLinearAdd (AVX2): the bits of r_a = a_scale / out_scale, r_b = b_scale / out_scale and
    k = float32(out_zp) - (r_a * a_zp + r_b * b_zp), each step in float32."""
    f32 = np.float32
    ra, rb = f32(a_scale) / f32(out_scale), f32(b_scale) / f32(out_scale)
    k = f32(out_zp) - f32(f32(ra * f32(a_zp)) + f32(rb * f32(b_zp)))
    bits = scale_bits(np.array([ra, rb, k], dtype=np.float32))
    return int(bits[0]), int(bits[1]), int(bits[2])


def add_soft_constants(r1_bits: int, r2_bits: int, k_bits: int, reach: int = 128) -> tuple[int, int, int, int]:
    """The fixed-point route of QLinearAdd's formula on cores without an FPU (add_s8.c, mcf_add_row_f32;
    binary_s8_f32.c, mcf_add_row): F fraction bits and r1, r2 and k + 1/2 + 512 units as integers of
    that unit, each rounded to nearest; F = 30 - B for the first B with reach * (|r1| + |r2|) + |k| <
    2^(B-1), `reach` the largest magnitude of an input value (128, or 255 for raw uint8 values), so
    every sum and float32 value stays below 2^(30 - F) and g below 2^31. (0, 0, 0, 0) where F would
    fall outside 12..28 (or a value is not finite): the kernel then evaluates the float32 formula for
    every output."""
    if reach > 255:
        raise ValueError("reach above 255: the fixed-point route's margin does not cover it")
    vals = [Fraction(float(np.array([b], dtype=np.uint32).view(np.float32)[0]))
            if ((b >> 23) & 0xFF) != 0xFF else None for b in (r1_bits & 0xFFFFFFFF, r2_bits & 0xFFFFFFFF,
                                                                k_bits & 0xFFFFFFFF)]
    if any(v is None for v in vals):
        return 0, 0, 0, 0
    r1, r2, k = (v for v in vals if v is not None)
    bound = reach * (abs(r1) + abs(r2)) + abs(k)
    b = 1
    while bound >= Fraction(2) ** (b - 1):
        b += 1
    f = 30 - b
    if not 12 <= f <= 28:
        return 0, 0, 0, 0
    unit = 2**f
    return f, round(r1 * unit), round(r2 * unit), round(k * unit) + unit // 2 + 512


def mul_soft_constants(ratio_bits: int, zero_point: int) -> tuple[int, int, int]:
    """QLinearMul's fixed-point route on cores without an FPU (binary_s8_f32.c, mcf_mul_row): 32
    fraction bits, the ratio (scale1 * scale2 / out_scale, a float32) times 2^32 rounded, and the raw
    output zero point. (0, 0, 0) where the ratio is not a normal float32 in (0, 1/2) (the product's
    high word could then overflow the margin the route's error bound needs): the kernel evaluates the
    float32 formula for every output."""
    b = ratio_bits & 0xFFFFFFFF
    exponent = (b >> 23) & 0xFF
    if b >> 31 or exponent in (0, 0xFF):
        return 0, 0, 0
    ratio = Fraction(float(np.array([b], dtype=np.uint32).view(np.float32)[0]))
    if not 0 < ratio < Fraction(1, 2):
        return 0, 0, 0
    return 32, round(ratio * 2**32), int(zero_point)


def float_row_constants(opcode: str, a_scale: float, a_zp: int, b_scale: float, b_zp: int,
                        out_scale: float) -> dict[str, int]:
    """The float operator's fixed-point route on cores without an FPU (binary_s8_f32.c,
    mcf_float_row): SUB, or ADD / MUL between DequantizeLinear and QuantizeLinear, on int8 bytes x, y
    with A = x - zp1, B = y - zp2 and float32 scales s1, s2, so.

    The value before rounding is V = (A s1 +- B s2) / so, or A B s1 s2 / so. onnxruntime's float32
    result r (two dequantizations, the operation, the division: each one rounding) is within
    gamma(3) (|A| s1 + |B| s2) / so of it, or gamma(4) |V|. In units of 2^-F the kernel computes
    t = x R1 + y R2 + K (MUL: A B R1 + K), V + 1/2 with each rounded constant off by at most half a
    unit per unit of its factor; fx_margin covers both errors, so where t's fraction is farther from
    0 and 1 than that, floor(t) is r rounded. F is the largest at most 31 that keeps the constants in
    their words; fx_shift 0 (the float formula everywhere) where the margin would not be small."""
    f32 = np.float32
    s1, s2, so = (Fraction(float(f32(v))) for v in (a_scale, b_scale, out_scale))
    a_max, b_max = max(127 - a_zp, a_zp + 128), max(127 - b_zp, b_zp + 128)  # largest |A|, |B|
    off = {"fx_shift": 0, "fx_ratio1": 0, "fx_ratio2": 0, "fx_fixed": 0, "fx_fixed_hi": 0, "fx_margin": 0}
    if opcode == "MUL":
        ratios = [s1 * s2 / so, Fraction(0)]
        base = Fraction(0)
        error = gamma(4) * a_max * b_max * ratios[0]
        slack = Fraction(a_max * b_max, 2)  # R1's rounding times |A B|
    else:
        sign = -1 if opcode == "SUB" else 1
        ratios = [s1 / so, sign * s2 / so]
        base = -(a_zp * s1 + sign * b_zp * s2) / so
        error = gamma(3) * (a_max * s1 + b_max * s2) / so
        slack = Fraction(128 + 128 + 1, 2)  # |x|, |y| <= 128 and K
    for f in range(31, 0, -1):
        scaled = [round(r * 2**f) for r in ratios]
        k = round((base + Fraction(1, 2)) * 2**f)
        margin = math.ceil(error * 2**f + slack) + 1
        if all(abs(r) < 2**31 for r in scaled) and abs(k) < 2**62:
            if margin >= 2 ** (f - 2):
                return off
            low = k & 0xFFFFFFFF  # the int32 words of k
            return {"fx_shift": f, "fx_ratio1": scaled[0], "fx_ratio2": scaled[1],
                    "fx_fixed": low - (1 << 32) if low >> 31 else low, "fx_fixed_hi": k >> 32, "fx_margin": margin}
    return off


UNIT_ROUNDOFF = Fraction(1, 2**24)  # float32, round to nearest


def gamma(n: int) -> Fraction:
    """Higham's gamma_n = n u / (1 - n u): the relative error bound of n float32 roundings."""
    return n * UNIT_ROUNDOFF / (1 - n * UNIT_ROUNDOFF)


def entry_points(op: Operator, call: KernelCall) -> KernelCall:
    """The call (and its fallback / in-place variants) on the kernel's float32 copy when the
    operator asks for it: runtime/kernels/<kernel>_f32.c compiles <kernel>.c again with
    MCF_REQUANT_F32 set, every entry point named with the suffix _f32."""
    if not wants_float32(op):
        return call
    return _renamed(call)


def _renamed(call: KernelCall) -> KernelCall:
    return replace(call, kernel=call.kernel + "_f32", function=call.function + "_f32",
                   fallback=_renamed(call.fallback) if call.fallback else None,
                   in_place=_renamed(call.in_place) if call.in_place else None)


def scale_bits(scales: np.ndarray) -> np.ndarray:
    """float32 scales → their bit patterns as int32 (what the kernels' multiplier arrays hold)."""
    return np.ascontiguousarray(np.asarray(scales, dtype=np.float32)).view(np.int32).copy()


def soft_constants(bits: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """The per-channel constants of mcf_requant_f32_pre (mcf_common.h), the output stage of cores
    without an FPU: for scale bit patterns `bits` and bounds `bound` on the sums' magnitudes (one per
    channel, or one for all), the words [mq[0..n-1], pq[0..n-1]]. mq = m * 2^t (the 24-bit
    significand, t <= 7), pq = a | s << 8 | (2^(s-1) + 1) << 16 with bound * 2^a < 2^31 and
    s = 118 + t + a - e as close to 14 as those allow (the high word of (acc << a) * mq then holds
    s bits below the integer result); where s would be outside 1..14 (scales below 2^-23 or not
    normal, sums too wide for the scale) mq is the scale's bits and pq is 0 (the kernel's general
    route)."""
    b = np.asarray(bits, dtype=np.int64).reshape(-1) & 0xFFFFFFFF
    lim = np.broadcast_to(np.asarray(bound, dtype=np.int64).reshape(-1), b.shape)
    mq = np.zeros(b.shape, dtype=np.int64)
    pq = np.zeros(b.shape, dtype=np.int64)
    for i, (sb, bd) in enumerate(zip(b.tolist(), lim.tolist(), strict=True)):
        e = (sb >> 23) & 0xFF
        mq[i], pq[i] = sb, 0
        if sb >> 31 or e == 0 or e == 0xFF or e < 104:
            continue
        a_max = 0
        while a_max < 30 and (int(bd) << (a_max + 1)) < 2**31:
            a_max += 1
        shift = e - 104  # t + a for s = 14
        t = min(7, shift)
        a = min(shift - t, a_max)
        s = 118 + t + a - e
        if not 1 <= s <= 14:
            continue
        mq[i] = ((sb & 0x7FFFFF) | 0x800000) << t
        pq[i] = a | (s << 8) | (((1 << (s - 1)) + 1) << 16)
    return np.concatenate([mq, pq]).astype(np.uint32).view(np.int32)


def sum_bounds(weights: np.ndarray, bias: np.ndarray, input_offset: int) -> np.ndarray:
    """Per output channel, a bound on |bias + sum(w * (x + input_offset))| over every int8 input x:
    weights [channels, K] (int8), bias [channels]."""
    reach = max(abs(-128 + input_offset), abs(127 + input_offset))
    w = np.abs(np.asarray(weights, dtype=np.int64)).reshape(len(bias), -1)
    return np.abs(np.asarray(bias, dtype=np.int64)) + w.sum(axis=1) * reach


def requantize(acc: np.ndarray, scales: np.ndarray, zero_point: int, lo: int = -128, hi: int = 127) -> np.ndarray:
    """numpy emulation of the output stage (the C does the same): acc int32, scales float32
    broadcast against it; round half to even (np.rint), zero point, saturation to [lo, hi]."""
    v = np.asarray(acc, dtype=np.int32).astype(np.float32) * np.asarray(scales, dtype=np.float32)
    v = np.clip(v, np.float32(-1024), np.float32(1024))
    return np.clip(np.rint(v).astype(np.int64) + zero_point, lo, hi).astype(np.int8)


def requantize_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    """int8 -> int8 as onnxruntime requantizes (DequantizeLinear then QuantizeLinear; QLinearConcat's
    per-input lookup table is the same computation): float32(in_scale * (x - in_zp)), divided by
    out_scale in float32, rounded half to even, plus out_zp, saturated. uint8[256] indexed by the
    input byte's bit pattern."""
    x = np.arange(-128, 128, dtype=np.int32)
    real = np.float32(in_scale) * (x - in_zp).astype(np.float32)
    v = np.clip(real / np.float32(out_scale), np.float32(-1024), np.float32(1024))
    y = np.clip(np.rint(v).astype(np.int64) + out_zp, -128, 127)
    table = np.zeros(256, dtype=np.uint8)
    table[x & 0xFF] = y.astype(np.int64) & 0xFF
    return table


def dequant_table(scale: float, zero_point: int) -> np.ndarray:
    """float32(scale) * float32(x - zero_point) for every int8 x, indexed by x's byte: onnxruntime's
    DequantizeLinear (the difference is an exact integer in float32, the product rounds once)."""
    x = np.arange(-128, 128, dtype=np.int32)
    values = np.float32(scale) * (x - zero_point).astype(np.float32)
    table = np.zeros(256, dtype=np.float32)
    table[x & 0xFF] = values
    return table
