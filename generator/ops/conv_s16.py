"""CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV with 16x8 quantization (int16 activations with
zero point 0, int8 symmetric weights per tensor or per channel), reached from conv.py and
transpose_conv.py when the input is int16.

TFLite Micro's 16x8 loops (reference_integer_ops, the int16 overloads): the sum of w * x (no
offsets), plus the bias, rescaled by its MultiplyByQuantizedMultiplier: the 64-bit one when the
sum is int64 (int64 bias, and an int16 TRANSPOSE_CONV bias widened to int64), the 32-bit one when
the bias is int32 (CONV_2D only; FULLY_CONNECTED's rule: no bias counts as int64 unless the model
declares int32 biases). No output offset; the fused activation is a clamp within int16.
Per-tensor scales are broadcast, so the kernels (runtime/kernels/conv_s16.c) index every table
by output channel.
"""

from __future__ import annotations

import numpy as np

from ..ir import Operator, Tensor
from ..quant import quantize_multipliers
from .base import ConstArray, ConstRef, FastOr, KernelCall, ParamValue, ScratchRef, reject
from .fully_connected_s16 import fc_s16_fast_layout, int16_activation_range, reduced_multipliers, require_int16

CONV_S16_STACK_MAX_K = 256  # MCF_CONV_S16_STACK_MAX_K of conv_s16.h
DEPTHWISE_S16_MAX_FILTER_W = 256  # the fast depthwise loop sums one window row in int32 (below 2^30)


def check_s16_quant(op: Operator, inp: Tensor, weights: Tensor, out: Tensor, channels: int,
                    axis: int) -> np.ndarray:
    """Validates 16x8 quantization; returns the weight scale of every output channel."""
    require_int16(op, inp, out)
    if weights.dtype != "int8" or weights.quant is None:
        raise reject(op, f"weights '{weights.name}' are {weights.dtype}; 16x8 takes quantized int8 weights")
    if weights.data is None:
        raise reject(op, "weights must be constant")
    for t in (inp, out):
        assert t.quant is not None
        if t.quant.per_channel:
            raise reject(op, f"tensor '{t.name}' must be quantized per tensor, it has {len(t.quant.scale)} scales")
        if t.zero_point != 0:
            raise reject(op, f"int16 tensor '{t.name}' has zero point {t.zero_point}; 16x8 needs 0")
    q = weights.quant
    if any(z != 0 for z in q.zero_point):
        raise reject(op, "int8 weights must be symmetric (zero point 0)")
    if q.per_channel:
        if len(q.scale) != channels:
            raise reject(op, f"weights have {len(q.scale)} scales, expected 1 or {channels} (one per output channel)")
        if q.axis != axis:
            raise reject(op, f"per-channel weights must be quantized along axis {axis}, got axis {q.axis}")
        return np.array(q.scale, dtype=np.float64)
    return np.full(channels, q.scale[0], dtype=np.float64)


def s16_bias(op: Operator, bias: Tensor | None, channels: int, allowed: tuple[str, ...]) -> tuple[np.ndarray, bool]:
    """(bias as int64, whether the sums are 64-bit)."""
    if bias is None:
        return np.zeros(channels, dtype=np.int64), True
    if bias.data is None:
        raise reject(op, "bias must be constant")
    if bias.dtype not in allowed:
        raise reject(op, f"bias must be {' or '.join(allowed)} for 16x8, got {bias.dtype}")
    if bias.size != channels:
        raise reject(op, f"bias has {bias.size} elements, expected {channels} (one per output channel)")
    return bias.data.reshape(-1).astype(np.int64), bias.dtype != "int32"


def s16_rescaling(op: Operator, inp: Tensor, out: Tensor, weight_scales: np.ndarray, wide: bool
                  ) -> tuple[dict[str, ParamValue], list[ConstArray]]:
    """Per-channel multiplier and shift (reduced for 64-bit sums) and the activation clamp."""
    mult, shift = quantize_multipliers(np.float64(inp.scale) * weight_scales / np.float64(out.scale))
    if wide:
        if np.any(shift > 7) or np.any(shift < -31):
            raise reject(op, "the output rescaling is outside TFLite Micro's 64-bit range (shift -31..7)")
        mult, shift = reduced_multipliers(mult, shift)
    act_min, act_max = int16_activation_range(op, out)
    params: dict[str, ParamValue] = {"act_min": act_min, "act_max": act_max, "wide": int(wide),
                                     "multiplier": ConstRef("mult"), "shift": ConstRef("shift"),
                                     "bias": ConstRef("bias")}
    return params, [ConstArray("mult", "int32_t", mult), ConstArray("shift", "int32_t", shift)]


def as_words(b: np.ndarray) -> np.ndarray:
    """int8 bytes (a multiple of 4 of them) -> little-endian uint32 words."""
    return np.frombuffer(np.ascontiguousarray(b, dtype=np.int8).tobytes(), dtype="<u4").astype(np.uint32)


def folded_bias(bias: np.ndarray, mult: np.ndarray, shift: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool] | None:
    """bias * multiplier + 2^(shift - 1) per output channel (reduced 64-bit rescaling) and the
    multipliers: the fast paths' output is then (folded + sum * multiplier) >> shift, sum an int32
    of at most 256 products (|sum| < 2^30). When every shift is at most 32 and both scaled by
    2^(32 - shift) stay in range (multiplier < 2^31, folded < 2^62), they are scaled and the flag is
    set: the output is the high word (the same floor). None when a folded value would not stay far
    inside int64 (the kernel then adds the bias before multiplying, as TFLite Micro does)."""
    folded = [int(b) * int(m) + (1 << (int(s) - 1)) for b, m, s in zip(bias, mult, shift, strict=True)]
    if any(abs(v) >= 1 << 62 for v in folded):
        return None
    ups = [32 - int(s) for s in shift]
    high = all(u >= 0 and int(m) << u < 1 << 31 and abs(f << u) < 1 << 62
               for u, m, f in zip(ups, mult, folded, strict=True))
    if high:
        folded = [f << u for f, u in zip(folded, ups, strict=True)]
        mult = np.array([int(m) << u for m, u in zip(mult, ups, strict=True)], dtype=np.int64)
    return np.array(folded, dtype=np.int64), np.asarray(mult, dtype=np.int64).astype(np.int32), high


def folded_params(folded: tuple[np.ndarray, np.ndarray, bool] | None) -> tuple[dict[str, ParamValue],
                                                                                 list[ConstArray]]:
    """The parameters and constants of folded_bias's result (NULL pointers without one)."""
    if folded is None:
        return {"folded": "0", "fold_mult": "0", "fold_high": 0}, []
    return ({"folded": ConstRef("folded"), "fold_mult": ConstRef("fold_mult"), "fold_high": int(folded[2])},
            [ConstArray("folded", "int64_t", folded[0]), ConstArray("fold_mult", "int32_t", folded[1])])


def conv_s16_pair_layout(w: np.ndarray) -> np.ndarray:
    """[oc, k] int8 -> the CONV_2D fast path's words (mcf_dot_s16w_quads in mcf_dot_s16.h): output
    channels in blocks of four (the last padded with zero channels), k padded with zeros to a
    multiple of 4; per block and pair of inputs, one word per channel holding its two weights as
    int16 (low half first). Twice the bytes of the int8 weights, and no sign extension at run time."""
    oc, k = w.shape
    o4, k4 = -(-oc // 4) * 4, -(-k // 4) * 4
    padded = np.zeros((o4, k4), dtype=np.int64)
    padded[:oc, :k] = w
    words = (padded[:, 0::2] & 0xFFFF) | ((padded[:, 1::2] & 0xFFFF) << 16)  # [channel, pair]
    return np.ascontiguousarray(words.reshape(o4 // 4, 4, k4 // 2).transpose(0, 2, 1)).reshape(-1).astype(np.uint32)


def lower_conv2d_s16(op: Operator, inp: Tensor, weights: Tensor, bias: Tensor | None, out: Tensor,
                     geo: dict[str, int]) -> KernelCall:
    oc, fh, fw, fc = weights.shape
    scales = check_s16_quant(op, inp, weights, out, oc, axis=0)
    ic = inp.shape[3]
    if fc < 1 or ic % fc or oc % (ic // fc):
        raise reject(op, f"input has {ic} channels and the weights {fc} per group: no whole number of groups "
                         f"for {oc} output channels")
    if out.shape[3] != oc:
        raise reject(op, f"output has {out.shape[3]} channels, the weights have {oc}")
    b, wide = s16_bias(op, bias, oc, ("int64", "int32"))
    params, consts = s16_rescaling(op, inp, out, scales, wide)
    assert weights.data is not None
    k = fh * fw * fc
    consts += [ConstArray("bias", "int64_t", b),
               # int16 weight pairs as words: 4-byte aligned for the word-pair loads
               ConstArray("filter_fast", "uint32_t", conv_s16_pair_layout(weights.data.reshape(oc, k)),
                          fast_only=True)]
    fold_params, fold_consts = folded_params(folded_bias(b, consts[0].values, consts[1].values) if wide else None)
    consts += fold_consts  # after the three constants of the grouped (reference) call below
    # K <= 256: the window column on the stack; larger windows take it from the arena.
    scratch = 0 if k <= CONV_S16_STACK_MAX_K else 2 * (-(-k // 4) * 4)  # whole groups of four
    geometry = f", 16x8, {fh}x{fw} stride {geo['stride_h']}x{geo['stride_w']}"
    if ic != fc:  # grouped: the reference loop on the model's filter
        return KernelCall(
            op=op, kernel="conv_s16", function="mcf_conv2d_s16_ref", params_type="mcf_conv_s16_params",
            params={**geo, "input_c": ic, "filter_c": fc, "output_c": oc, "filter_h": fh, "filter_w": fw,
                    "depth_multiplier": 1, **params},
            args=[op.inputs[0], op.inputs[1], op.outputs[0]], consts=consts[:3],
            macs=geo["batches"] * geo["output_h"] * geo["output_w"] * oc * k,
            comment=geometry + f", {ic // fc} groups, reference loop")
    return KernelCall(
        op=op, kernel="conv_s16", function="mcf_conv2d_s16", params_type="mcf_conv_s16_params",
        params={**geo, "input_c": fc, "filter_c": fc, "output_c": oc, "filter_h": fh, "filter_w": fw,
                "depth_multiplier": 1, **params, "scratch": ScratchRef() if scratch else "0", **fold_params},
        args=[op.inputs[0], FastOr(ConstRef("filter_fast"), op.inputs[1]), op.outputs[0]],
        consts=consts, scratch_bytes=scratch,
        macs=geo["batches"] * geo["output_h"] * geo["output_w"] * oc * k,
        comment=f", 16x8, {fh}x{fw} stride {geo['stride_h']}x{geo['stride_w']}" + (" (64-bit sums)" if wide else
                                                                                    " (32-bit sums)"),
    )


def lower_depthwise_conv2d_s16(op: Operator, inp: Tensor, weights: Tensor, bias: Tensor | None, out: Tensor,
                               geo: dict[str, int]) -> KernelCall:
    _, fh, fw, oc = weights.shape
    scales = check_s16_quant(op, inp, weights, out, oc, axis=3)
    ic = inp.shape[3]
    mult = int(op.options.get("depth_multiplier", 1))
    if mult < 1 or ic * mult != oc or out.shape[3] != oc:
        raise reject(op, f"depth_multiplier {mult} with {ic} input channels does not give the weights' "
                         f"{oc} output channels (output has {out.shape[3]})")
    if fw > DEPTHWISE_S16_MAX_FILTER_W:
        raise reject(op, f"filter width {fw} is above {DEPTHWISE_S16_MAX_FILTER_W}")
    b, _ = s16_bias(op, bias, oc, ("int64",))  # TFLite Micro reads a 16x8 depthwise bias as int64 only
    params, consts = s16_rescaling(op, inp, out, scales, True)
    assert weights.data is not None
    if mult == 1:  # per tap, channel pairs as two int16 in a word
        taps = weights.data.reshape(fh * fw, oc).astype(np.int64)
        padded = np.zeros((fh * fw, oc + oc % 2), dtype=np.int64)
        padded[:, :oc] = taps
        words = (padded[:, 0::2] & 0xFFFF) | ((padded[:, 1::2] & 0xFFFF) << 16)
        fast = ConstArray("filter_fast", "uint32_t", words.reshape(-1).astype(np.uint32), fast_only=True)
    else:  # [channel][tap]
        fast = ConstArray("filter_fast", "int8_t", np.ascontiguousarray(weights.data.reshape(fh * fw, oc).T),
                          fast_only=True)
    consts += [ConstArray("bias", "int64_t", b), fast]
    # the rescaling folded into per-channel constants: depth multiplier 1, a channel's whole sum in int32
    fold_params, fold_consts = folded_params(
        folded_bias(b, consts[0].values, consts[1].values) if mult == 1 and fh * fw <= 256 else None)
    consts += fold_consts
    return KernelCall(
        op=op, kernel="conv_s16", function="mcf_depthwise_conv2d_s16", params_type="mcf_conv_s16_params",
        params={**geo, "input_c": ic, "output_c": oc, "filter_h": fh, "filter_w": fw, "depth_multiplier": mult,
                **params, **fold_params},
        args=[op.inputs[0], FastOr(ConstRef("filter_fast"), op.inputs[1]), op.outputs[0]],
        consts=consts, macs=geo["batches"] * geo["output_h"] * geo["output_w"] * oc * fh * fw,
        comment=f", 16x8, {fh}x{fw} stride {geo['stride_h']}x{geo['stride_w']}" + (f" x{mult}" if mult > 1 else ""),
    )


def transpose_fast_layout(w: np.ndarray) -> np.ndarray:
    """[oc, fh, fw, ic] int8 -> per block of four output channels, per tap, the block of
    fc_s16_fast_layout over the input channels (the last block padded with zero channels)."""
    oc, fh, fw, _ = w.shape
    taps = fh * fw
    per_tap = np.stack([fc_s16_fast_layout(w[:, t // fw, t % fw, :]) for t in range(taps)])  # [tap, bytes]
    blocks = (oc + 3) // 4
    return np.ascontiguousarray(per_tap.reshape(taps, blocks, -1).transpose(1, 0, 2)).reshape(-1)


def lower_transpose_conv_s16(op: Operator, inp: Tensor, weights: Tensor, bias: Tensor | None, out: Tensor,
                             geo: dict[str, int], rows: list[int], cols: list[int]) -> KernelCall:
    oc, fh, fw, ic = weights.shape
    scales = check_s16_quant(op, inp, weights, out, oc, axis=0)
    b, _ = s16_bias(op, bias, oc, ("int64", "int16"))  # TFLite Micro widens an int16 bias to int64
    params, consts = s16_rescaling(op, inp, out, scales, True)
    assert weights.data is not None
    consts += [ConstArray("bias", "int64_t", b),
               ConstArray("rows", "int32_t", np.array(rows, dtype=np.int32)),
               ConstArray("cols", "int32_t", np.array(cols, dtype=np.int32)),
               ConstArray("filter_fast", "uint32_t", as_words(transpose_fast_layout(weights.data)), fast_only=True)]
    n, ih, iw, _ = inp.shape
    return KernelCall(
        op=op, kernel="conv_s16", function="mcf_transpose_conv_s16", params_type="mcf_conv_s16_params",
        params={**geo, "input_c": ic, "output_c": oc, "filter_h": fh, "filter_w": fw, "depth_multiplier": 1,
                **params, "rows": ConstRef("rows"), "cols": ConstRef("cols")},
        args=[op.inputs[2], FastOr(ConstRef("filter_fast"), op.inputs[1]), op.outputs[0]],
        consts=consts, macs=n * ih * iw * ic * fh * fw * oc,
        comment=f", 16x8, {fh}x{fw} stride {geo['stride_h']}x{geo['stride_w']}",
    )


