"""CONV_2D on contiguous windows: each output pixel a fully connected layer (conv2d_s8_narrow.c).

A convolution whose every window lies inside the image as one contiguous run of input bytes (a
1x1 filter without padding, or one output pixel whose window spans whole input rows) is, pixel by
pixel, a fully connected layer on that run. Two paths of runtime/kernels/conv2d_s8_narrow.c take
the shapes where the im2col path's blocks of 2 pixels x 2 channels waste work or pay more for
their columns than for the products:

- `_narrow_*`: one output pixel (a classifier head, a 1x1 image), or one or two output channels
  (a detection head): blocks of four, two, one output channels of one pixel, each input word
  widened once for the block (the fully connected kernel's scheme);
- `_narrow_k8_*`: 1x1 filters on 8 input channels over many pixels: the pixel's eight inputs are
  widened once and kept in registers, each output channel four SMLAD on weights widened (and
  doubled) here;
- `_narrow_k4_*`: 1x1 filters on 4 input channels over many pixels: two pixels per pass, their
  inputs in registers, each output channel's constants read once for both (at four MACs an output,
  the output stage is most of the cost).

1x1 filters over many pixels with few output channels (up to FEW_1X1_CHANNELS, depths a multiple of
4 from 12 to FEW_1X1_MAX_DEPTH) take `_narrow_*` too: measured on Cortex-M4, fewer instructions than
the pointwise and im2col paths there (e.g. 24 -> 8 channels 2.16 instructions per MAC against 3.37).

Every constant, the output stage's included, is computed here; the kernel only loops.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..ir import Operator
from . import float_requant
from .base import ConstArray, ConstRef, FastOr, KernelCall

# conv.short_output_constants: (weights, folded bias, multipliers, shifts, output zero point) -> constants
OutStage = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int], "np.ndarray | None"]
FEW_OUTPUT_CHANNELS = 2  # up to this many, the per-pixel blocks beat the im2col path's 2 x 2 blocks
FEW_1X1_CHANNELS = 8  # ... and on 1x1 filters up to this many, for depths 12 .. FEW_1X1_MAX_DEPTH
FEW_1X1_MAX_DEPTH = 48


def window_run(geo: dict[str, int], ic: int, fh: int, fw: int) -> int | None:
    """Bytes of every window if each one is a contiguous run of input bytes inside the image (no
    padding tap), else None: a 1x1 filter, or a single output pixel (per batch) whose window is one
    part of a row or whole rows."""
    h, w = geo["input_h"], geo["input_w"]
    oh, ow = geo["output_h"], geo["output_w"]
    if geo["pad_top"] or geo["pad_left"]:
        return None
    if (oh - 1) * geo["stride_h"] + (fh - 1) * geo["dilation_h"] + 1 > h:
        return None
    if (ow - 1) * geo["stride_w"] + (fw - 1) * geo["dilation_w"] + 1 > w:
        return None
    if (fh, fw) == (1, 1):
        return ic
    if (oh, ow) != (1, 1):
        return None
    row_run = fw == 1 or geo["dilation_w"] == 1
    whole_rows = fh == 1 or (fw == w and geo["dilation_h"] == 1)
    return fh * fw * ic if row_run and whole_rows else None


def block_sizes(channels: int) -> list[int]:
    """Channels per block of the _narrow path: fours, then a two, then a one."""
    return [4] * (channels // 4) + ([2] if channels % 4 >= 2 else []) + ([1] if channels % 2 else [])


def group_words(w: np.ndarray) -> np.ndarray:
    """[channels, depth] int8 → [groups, channels] uint32: per group of four inputs, each channel's
    word (byte j = weight of input 4g + j). A partial last group is read at depth - 4: its word holds
    the weights of inputs depth - 4 .. depth - 1, zero for the ones the group before already had."""
    depth = w.shape[1]
    whole = depth // 4
    groups = [w[:, 4 * g:4 * g + 4] for g in range(whole)]
    if depth % 4:
        last = w[:, depth - 4:].copy()
        last[:, :4 - depth % 4] = 0
        groups.append(last)
    b = np.stack(groups).astype(np.int64) & 0xFF  # [groups, oc, 4]
    return (b[..., 0] | (b[..., 1] << 8) | (b[..., 2] << 16) | (b[..., 3] << 24)).astype(np.uint32)


def block_layout(w: np.ndarray, folded: np.ndarray, out_q: np.ndarray) -> np.ndarray:
    """The filter of the _narrow path: per block (block_sizes) its channels' folded biases, then per
    group their weight words, then their output constants {multiplier, round, e}."""
    words = group_words(w)
    q = out_q.reshape(-1, 3)
    parts = []
    c = 0
    for n in block_sizes(w.shape[0]):
        parts += [folded[c:c + n].astype(np.int64) & 0xFFFFFFFF, words[:, c:c + n].reshape(-1),
                  q[c:c + n].reshape(-1) & 0xFFFFFFFF]
        c += n
    return np.concatenate(parts).astype(np.uint32)


def k8_layout(w: np.ndarray, folded: np.ndarray, out_q: np.ndarray, clamp: tuple[int, int] | None) -> np.ndarray:
    """The filter of the _narrow_k8 path: per output channel {2 * folded bias, multiplier, then the
    doubled weights as int16 pairs (w0, w2) (w1, w3) (w4, w6) (w5, w7), low halfword first (the
    order SXTB16 widens the pixel's words in), round, e}, and for a clamped range {act_min, act_max}."""
    d = (2 * w.astype(np.int64)) & 0xFFFF
    pairs = np.stack([d[:, 0] | d[:, 2] << 16, d[:, 1] | d[:, 3] << 16,
                      d[:, 4] | d[:, 6] << 16, d[:, 5] | d[:, 7] << 16], axis=1)
    q = out_q.reshape(w.shape[0], -1).astype(np.int64)  # three output words, four in the float32 copy
    cols = [(2 * folded.astype(np.int64))[:, None], q[:, :1], pairs, q[:, 1:]]
    if clamp is not None:
        cols.append(np.broadcast_to(np.array(clamp, dtype=np.int64), (w.shape[0], 2)))
    rows = np.concatenate(cols, axis=1)
    return (rows & 0xFFFFFFFF).reshape(-1).astype(np.uint32)


def k4_layout(w: np.ndarray, folded: np.ndarray, out_q: np.ndarray, clamp: tuple[int, int] | None) -> np.ndarray:
    """The filter of the _narrow_k4 path: per output channel {2 * folded bias, multiplier, the doubled
    weights as int16 pairs (w0, w2) (w1, w3), low halfword first, round, e}, bit 8 set in the last
    channel's e (the end of a pass), and for a clamped range {act_min, act_max}, each in both halfwords."""
    d = (2 * w.astype(np.int64)) & 0xFFFF
    pairs = np.stack([d[:, 0] | d[:, 2] << 16, d[:, 1] | d[:, 3] << 16], axis=1)
    q = out_q.reshape(-1, 3).astype(np.int64).copy()
    q[-1, 2] |= 0x100
    cols = [(2 * folded.astype(np.int64))[:, None], q[:, :1], pairs, q[:, 1:]]
    if clamp is not None:
        both = [(v & 0xFFFF) | ((v & 0xFFFF) << 16) for v in clamp]
        cols.append(np.broadcast_to(np.array(both, dtype=np.int64), (w.shape[0], 2)))
    rows = np.concatenate(cols, axis=1)
    return (rows & 0xFFFFFFFF).reshape(-1).astype(np.uint32)


def half_scale_constants(w: np.ndarray, folded: np.ndarray, scale_bits: np.ndarray, output_offset: int
                         ) -> np.ndarray | None:
    """onnxruntime's output stage for the doubled sums of the depth-8 path (conv2d_s8_narrow_f32.h):
    per channel {half the float32 scale's bits, output_offset, mq, pq}, the last two
    mcf_requant_f32_pre's constants for the half scale and the doubled sums' bound (cores without an
    FPU). float32(2 * acc) * (scale / 2) is float32(acc) * scale exactly while 2 * acc stays in int32
    and scale / 2 is a normal float32 (one lower exponent); None where either could fail."""
    bound = 2 * (np.abs(folded) + 128 * np.abs(w.astype(np.int64)).sum(axis=1))
    bits = np.asarray(scale_bits, dtype=np.int64) & 0xFFFFFFFF
    exponent = (bits >> 23) & 0xFF
    if bound.max(initial=0) >= 2**31 or np.any(exponent < 2) or np.any(exponent == 0xFF) or np.any(bits >> 31):
        return None
    half = bits - (1 << 23)
    soft = float_requant.soft_constants(half, bound).astype(np.int64).reshape(2, -1)
    return np.stack([half, np.full_like(half, output_offset), soft[0], soft[1]], axis=1).reshape(-1)


def lower_narrow(op: Operator, geo: dict[str, int], ic: int, w: np.ndarray, groups: int,
                 params: dict, consts: list[ConstArray], macs: int, overlap: dict[int, int],
                 out_stage: OutStage) -> KernelCall | None:
    """The call of a _narrow path where one fits the convolution (see the module docstring), else
    None. `w` is the OHWI filter, `out_stage` conv.short_output_constants (the output constants for
    sums that start at the folded bias, None where they do not apply)."""
    oc, fh, fw, _ = w.shape
    if groups != 1 or not params["fold_interior"]:
        return None
    depth = window_run(geo, ic, fh, fw)
    if depth is None or depth < 4:
        return None
    pixels = geo["output_h"] * geo["output_w"]
    one_by_one = (fh, fw) == (1, 1) and pixels > 1
    k8 = depth == 8 and one_by_one
    k4 = depth == 4 and one_by_one
    few_1x1 = one_by_one and oc <= FEW_1X1_CHANNELS and depth % 4 == 0 and 12 <= depth <= FEW_1X1_MAX_DEPTH
    if not (k8 or k4 or few_1x1 or pixels == 1 or oc <= FEW_OUTPUT_CHANNELS):
        return None
    if float_requant.wants_float32(op) and k4:
        return None  # the depth-4 path has no float32 copy (conv2d_s8_narrow_f32.c)
    by_name = {c.name: c.values for c in consts}
    w2 = w.reshape(oc, depth)
    folded = by_name["folded_bias"].astype(np.int64)
    if float_requant.wants_float32(op):
        out_q = half_scale_constants(w2, folded, np.broadcast_to(by_name["mult"], (oc,)), params["output_offset"])
        if out_q is not None and not k8:  # the blocks' three words {half scale, mq, pq}, the offset in the params
            out_q = out_q.reshape(oc, 4)[:, [0, 2, 3]].reshape(-1)
    else:
        out_q = out_stage(w2, folded, np.broadcast_to(by_name["mult"], (oc,)),
                          np.broadcast_to(by_name["shift"], (oc,)), params["output_offset"])
    if out_q is None:
        return None
    act = "full" if (params["act_min"], params["act_max"]) == (-128, 127) else "clamp"
    clamp = None if act == "full" else (params["act_min"], params["act_max"])
    if k4:
        layout = k4_layout(w2, folded, out_q, clamp)
    else:
        layout = k8_layout(w2, folded, out_q, clamp) if k8 else block_layout(w2, folded, out_q)
    path = "_k8" if k8 else "_k4" if k4 else ""
    in_c = geo["input_w"] * ic
    kept = [c for c in consts if c.name in ("mult", "shift", "bias")]
    return float_requant.entry_points(op, KernelCall(
        op=op, kernel="conv2d_s8_narrow", function=f"mcf_conv2d_s8_narrow{path}_{act}",
        params_type="mcf_conv2d_narrow_params",
        params={"batches": geo["batches"], "rows": geo["output_h"], "cols": geo["output_w"],
                "batch_step": geo["input_h"] * in_c, "row_step": geo["stride_h"] * in_c,
                "col_step": geo["stride_w"] * ic, "depth": depth, "output_c": oc,
                "act_min": params["act_min"], "act_max": params["act_max"],
                "input_offset": params["input_offset"], "output_offset": params["output_offset"],
                "per_channel": params["per_channel"], "bias": ConstRef("bias"),
                "multiplier": ConstRef("mult"), "shift": ConstRef("shift")},
        args=[op.inputs[0], FastOr(ConstRef("filter_narrow"), op.inputs[1]), op.outputs[0]],
        consts=[*kept, ConstArray("filter_narrow", "uint32_t", layout, fast_only=True)],
        macs=macs, comment=f", {fh}x{fw} stride {geo['stride_h']}x{geo['stride_w']}, "
        f"{'8 inputs in registers' if k8 else 'pixel pairs in registers' if k4 else 'contiguous windows'}",
        overlap=overlap))
