"""CONV_2D and DEPTHWISE_CONV_2D (int8 activations, int8 weights per-tensor or per-channel).

Both lowerings share one "Prepare": geometry (output size, leading padding) as TFLite's
ComputePaddingHeightWidth, per-channel multipliers/shifts from input_scale * weight_scale /
output_scale (the per-tensor scale is broadcast to every channel, as TFLite Micro does), the
fused-activation clamp, and two bias tables:

- `bias`: the model's bias (zeros when it is omitted), used for output pixels whose window
  crosses the border. TFLite Micro skips taps that fall outside the image, so those taps add
  nothing to sum(w * (x - input_zero_point)); the zero point must not be folded there.
- `folded_bias`: bias - input_zero_point * sum(all weights of the channel), used for interior
  pixels (every tap inside the image), where the kernel then only accumulates w * x.

When a folded value does not fit in int32, `fold_interior` is 0 and the kernel uses the
unfolded form everywhere (the result is the same; only the fast form is lost).
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator, Tensor
from ..overlap import window_min_shift
from ..quant import activation_range, quantize_multipliers
from . import conv_first, conv_fsum, conv_narrow, depthwise_line, float_requant
from .base import (
    ConstArray,
    ConstRef,
    FastOr,
    KernelCall,
    ScratchRef,
    explicit_padding,
    lowering,
    padding_offsets,
    reject,
    require_int8,
)
from .conv_s16 import lower_conv2d_s16, lower_depthwise_conv2d_s16

_ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")
CONV2D_DIRECT_MAX_ROWS = 16  # MCF_CONV2D_DIRECT_MAX_ROWS of conv2d_s8.c: taller filters take the reference loop
CONV2D_STACK_MAX_K = 128  # MCF_CONV2D_STACK_MAX_K of conv2d_s8.h: larger windows take the reference loop
DW_MULT_MAX_TAPS = 128  # MCF_DW_MULT_MAX_TAPS of depthwise_conv2d_s8.h: larger windows take the reference loop
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def _geometry(op: Operator, inp: Tensor, fh: int, fw: int, out: Tensor) -> dict[str, int]:
    """Strides, dilations, padding and output size; checks them against the stored output shape."""
    opts = op.options
    pads = opts.get("pads")  # explicit (top, left, bottom, right), e.g. from an ONNX Conv
    padding = "explicit" if pads is not None else opts.get("padding", "SAME")
    if padding not in ("SAME", "VALID", "explicit"):
        raise reject(op, f"unsupported padding {padding!r}; only SAME and VALID exist for this op")
    sh, sw = int(opts.get("stride_h", 1)), int(opts.get("stride_w", 1))
    dh, dw = int(opts.get("dilation_h_factor", 1)), int(opts.get("dilation_w_factor", 1))
    if sh < 1 or sw < 1:
        raise reject(op, f"strides must be >= 1, got stride_h={sh} stride_w={sw}")
    if dh < 1 or dw < 1:
        raise reject(op, f"dilation factors must be >= 1, got dilation_h_factor={dh} dilation_w_factor={dw}")
    if len(inp.shape) != 4:
        raise reject(op, f"input must be 4-D NHWC, got shape {list(inp.shape)}")
    if len(out.shape) != 4:
        raise reject(op, f"output must be 4-D NHWC, got shape {list(out.shape)}")
    n, h, w, _ = inp.shape
    if pads is not None:
        oh, pad_top, ow, pad_left = explicit_padding(op, pads, (h, w), (fh, fw), (sh, sw), (dh, dw))
    else:
        oh, pad_top = padding_offsets(padding, h, fh, sh, dh)
        ow, pad_left = padding_offsets(padding, w, fw, sw, dw)
    if oh < 1 or ow < 1:
        raise reject(op, f"the {fh}x{fw} filter (dilation {dh}x{dw}) does not fit the {h}x{w} input "
                         f"with {padding} padding")
    if out.shape[0] != n or out.shape[1] != oh or out.shape[2] != ow:
        raise reject(op, f"output shape {list(out.shape)} does not match the computed "
                         f"[{n}, {oh}, {ow}, {out.shape[3]}] ({padding} padding, stride {sh}x{sw}, "
                         f"dilation {dh}x{dw})")
    return {"batches": n, "input_h": h, "input_w": w, "output_h": oh, "output_w": ow,
            "stride_h": sh, "stride_w": sw, "dilation_h": dh, "dilation_w": dw,
            "pad_top": pad_top, "pad_left": pad_left}


def _check_quant(op: Operator, inp: Tensor, weights: Tensor, out: Tensor, channels: int,
                 axis: int) -> np.ndarray:
    """Validates the quantization and returns the weight scale of every output channel."""
    require_int8(op, inp, out)
    if weights.dtype == "int4":
        raise reject(op, "int4 weights are not supported")
    require_int8(op, weights)
    if weights.data is None:
        raise reject(op, "weights must be constant")
    for t in (inp, out):
        assert t.quant is not None
        if t.quant.per_channel:
            raise reject(op, f"tensor '{t.name}' must be quantized per tensor, "
                             f"it has {len(t.quant.scale)} scales")
    assert weights.quant is not None
    q = weights.quant
    if any(z != 0 for z in q.zero_point):
        raise reject(op, "int8 weights must be symmetric (zero point 0)")
    if q.per_channel:
        if len(q.scale) != channels:
            raise reject(op, f"weights have {len(q.scale)} scales, expected 1 or {channels} "
                             "(one per output channel)")
        if q.axis != axis:
            raise reject(op, f"per-channel weights must be quantized along axis {axis}, got axis {q.axis}")
        return np.array(q.scale, dtype=np.float64)
    return np.full(channels, q.scale[0], dtype=np.float64)


def _bias(op: Operator, bias: Tensor | None, channels: int) -> np.ndarray:
    if bias is None:
        return np.zeros(channels, dtype=np.int64)
    if bias.data is None:
        raise reject(op, "bias must be constant")
    if bias.dtype != "int32":
        raise reject(op, f"bias must be int32 for int8 inputs, got {bias.dtype}")
    if bias.size != channels:
        raise reject(op, f"bias has {bias.size} elements, expected {channels} (one per output channel)")
    return bias.data.reshape(-1).astype(np.int64)


def fold_bias(bias: np.ndarray, weight_sums: np.ndarray, input_offset: int) -> np.ndarray | None:
    """bias + input_offset * sum(weights) per channel, or None if any value leaves int32."""
    folded = bias + np.int64(input_offset) * weight_sums
    if folded.min(initial=0) < _INT32_MIN or folded.max(initial=0) > _INT32_MAX:
        return None
    return folded


def _quant_params(op: Operator, inp: Tensor, out: Tensor, weight_scales: np.ndarray, bias: np.ndarray,
                  weight_sums: np.ndarray, abs_sums: np.ndarray | None = None) -> tuple[dict, list[ConstArray]]:
    """`abs_sums`: per channel the sum of |weights| (the float32 copies' soft-float constants bound the
    sums with it; without it their `shift` array stays zeros, which the kernel does not read)."""
    act = op.options.get("fused_activation_function", "NONE")
    if act not in _ACTIVATIONS:
        raise reject(op, f"fused activation {act} is not supported (only {', '.join(_ACTIVATIONS)})")
    act_min, act_max = activation_range(act, out.scale, out.zero_point)
    if float_requant.wants_float32(op):
        # onnxruntime: float32 scales, bit patterns in the multiplier array (conv2d_s8_f32.h).
        mult = float_requant.scale_bits(float_requant.product_scales(inp.scale, weight_scales, out.scale))
        shift = np.zeros_like(mult)
    else:
        # TFLite computes input_scale * weight_scale / output_scale in double, from float32 scales.
        effective = np.float64(inp.scale) * weight_scales / np.float64(out.scale)
        mult, shift = quantize_multipliers(effective)
    per_channel = bool(np.any(mult != mult[0]) or np.any(shift != shift[0]))
    if not per_channel:
        mult, shift = mult[:1], shift[:1]
    input_offset = -inp.zero_point
    if float_requant.wants_float32(op) and abs_sums is not None:
        # cores without an FPU: the constants of mcf_requant_f32_pre in `shift` ([mq..., pq...])
        bounds = float_requant.sum_bounds(abs_sums.reshape(-1, 1), bias, input_offset)
        shift = float_requant.soft_constants(mult, bounds if per_channel else bounds.max(initial=0))
    folded = fold_bias(bias, weight_sums, input_offset)
    consts = [
        ConstArray("mult", "int32_t", mult),
        ConstArray("shift", "int32_t", shift),
        ConstArray("bias", "int32_t", bias.astype(np.int32)),
    ]
    if folded is not None:
        consts.append(ConstArray("folded_bias", "int32_t", folded.astype(np.int32)))
    params = {
        "input_offset": input_offset,
        "output_offset": out.zero_point,
        "act_min": act_min,
        "act_max": act_max,
        "per_channel": int(per_channel),
        "fold_interior": int(folded is not None),
        "multiplier": ConstRef("mult"),
        "shift": ConstRef("shift"),
        "bias": ConstRef("bias"),
        "folded_bias": ConstRef("folded_bias" if folded is not None else "bias"),
    }
    return params, consts


def pack_words(groups: np.ndarray) -> np.ndarray:
    """[..., 4] int8 → uint32 words, byte j of a word = element j (little-endian packing)."""
    b = groups.astype(np.int64) & 0xFF
    return (b[..., 0] | (b[..., 1] << 8) | (b[..., 2] << 16) | (b[..., 3] << 24)).astype(np.uint32)


def channel_pair_layout(w: np.ndarray) -> np.ndarray:
    """[channels, K] int8 weights → the layout of the conv2d_s8 fast paths, as uint32 words.

    K is padded with zeros to an even number of groups of four. Channels go in pairs (0, 1), (2, 3), …: for
    each group g, a word of channel 2p's weights 4g..4g+3, then one of channel 2p+1's; an odd last
    channel follows alone, one word per group. One pointer then walks both channels of a pair.
    """
    oc, k = w.shape
    g = 2 * ((k + 7) // 8)  # groups of four, an even number of them (the DSP loop takes two)
    padded = np.zeros((oc, g * 4), dtype=np.int8)
    padded[:, :k] = w
    words = pack_words(padded.reshape(oc, g, 4))  # [oc, g]
    pairs = oc // 2
    out = [words[:2 * pairs].reshape(pairs, 2, g).transpose(0, 2, 1).reshape(-1)]
    if oc % 2:
        out.append(words[-1])
    return np.concatenate(out).astype(np.uint32)


def depthwise_fast_layout(w: np.ndarray) -> np.ndarray:
    """[taps, channels] int8 depthwise weights → the layout of the depthwise_conv2d_s8 fast paths.

    Channels in groups of four (the last padded with zeros); per group and tap, two uint32 words of
    int16 weights: (w[c], w[c+2]) and (w[c+1], w[c+3]), low halfword first.
    """
    taps, ch = w.shape
    groups = (ch + 3) // 4
    padded = np.zeros((taps, groups * 4), dtype=np.int64)
    padded[:, :ch] = w
    q = padded.reshape(taps, groups, 4).transpose(1, 0, 2) & 0xFFFF  # [group, tap, 4]
    words = np.stack([q[..., 0] | (q[..., 2] << 16), q[..., 1] | (q[..., 3] << 16)], axis=-1)
    return words.reshape(-1).astype(np.uint32)


def depthwise_tap_pair_layout(w: np.ndarray, multiplier: int) -> np.ndarray:
    """[taps, channels] int8 depthwise weights (multiplier >= 2) → the layout of its multiplier path.

    Per output channel, words j of int16 pairs (w[2j], w[2j+1]), low halfword first, zeros past the last
    tap. Per input channel, its output channels in groups of four (the four channels' word j side by side),
    then a pair the same way and a single channel as the multiplier leaves them.
    """
    taps, oc = w.shape
    words = (taps + 1) // 2
    padded = np.zeros((2 * words, oc), dtype=np.int64)
    padded[:taps] = w
    q = padded & 0xFFFF
    per_out = (q[0::2] | (q[1::2] << 16)).T  # [oc, words]
    out = []
    for c in range(oc // multiplier):
        o = c * multiplier
        end = o + multiplier
        for n in (4, 2, 1):
            while end - o >= n and (n == 4 or end - o < 2 * n):
                out.append(per_out[o:o + n].T.reshape(-1))  # [words, n]
                o += n
    return np.concatenate(out).astype(np.uint32)


def one_channel_layout(w: np.ndarray, bias: np.ndarray, act: tuple[int, int]) -> np.ndarray:
    """[channels, 9] int8 weights of a one-input-channel 3x3 CONV_2D → the layout of its _c1 path.

    Per output channel four words {2 * bias, 2 * bias, act_min, act_max} (the assembly loop of
    conv2d_s8.c reads them beside the weights), then five words of two doubled weights as int16 (low halfword first;
    the path accumulates twice the sum, see one_channel_constants), taps in the order (0,0) (0,1) |
    (1,0) (1,1) | (2,0) (2,1) | (0,2) (1,2) | - (2,2): the kernel reads an interior window as three row
    words that way.
    """
    oc = w.shape[0]
    padded = np.zeros((oc, 10), dtype=np.int64)
    for j, tap in enumerate((0, 1, 3, 4, 6, 7, 2, 5, -1, 8)):
        if tap >= 0:
            padded[:, j] = 2 * w[:, tap]
    q = padded & 0xFFFF
    words = q[:, 0::2] | (q[:, 1::2] << 16)
    head = np.zeros((oc, 4), dtype=np.int64)
    head[:, 0] = head[:, 1] = 2 * bias
    head[:, 2], head[:, 3] = act
    return np.concatenate([head & 0xFFFFFFFF, words], axis=1).reshape(-1).astype(np.uint32)


def one_channel_constants(w: np.ndarray, bias: np.ndarray, mult: np.ndarray, shift: np.ndarray,
                          output_offset: int) -> np.ndarray | None:
    """Per output channel {multiplier, 2^(e-1) + output_offset * 2^e, e} (e = -shift) of the
    _c1 path's output stage, or None where it does not apply: a shift that is not a right shift (e < 1),
    or a doubled sum, a high product plus its rounding constant that could leave int32.

    The path computes t = SMMULR(2 * acc, m) = floor((acc * m + 2^30) / 2^31), TFLite Micro's saturating
    rounding doubling high multiply for m >= 0, then (t + 2^(e-1) + output_offset * 2^e - [t < 0]) >> e,
    its rounding right shift (half away from zero) plus the output offset.
    """
    oc = w.shape[0]
    mult = np.broadcast_to(mult.astype(np.int64), (oc,))
    e = -np.broadcast_to(shift.astype(np.int64), (oc,))
    if e.min() < 1 or e.max() > 31:
        return None
    limit = 2**31 - 1
    out = []
    for c in range(oc):
        acc_max = abs(int(bias[c])) + 255 * int(np.abs(w[c]).sum())  # |x + input_offset| <= 255
        if 2 * acc_max > limit:
            return None
        t_max = (acc_max * int(mult[c])) // 2**31 + 1
        ec = int(e[c])
        round_c = 2 ** (ec - 1) + output_offset * 2**ec
        if t_max + abs(round_c) + 1 > limit:
            return None
        out.append((int(mult[c]), round_c, ec))
    return np.array(out, dtype=np.int64).reshape(-1)


def short_output_constants(w: np.ndarray, folded: np.ndarray, mult: np.ndarray, shift: np.ndarray,
                        output_offset: int) -> np.ndarray | None:
    """{multiplier, 2^(e-1) + output_offset * 2^e, e} (e = -shift) per output channel of `w` [out, K]
    (one triple when `mult` holds one entry): the short output stage of the fast paths
    (fully_connected_s8.h `out_q`, conv2d_s8.h `pw_out`), or None where it does not apply: a shift
    that is not a right shift, or a doubled sum, a high product plus its rounding constant that could
    leave int32 (sums start at the folded bias and add w * x with |x| <= 128)."""
    units = w.shape[0]
    m = np.broadcast_to(np.asarray(mult, dtype=np.int64), (units,))
    e = -np.broadcast_to(np.asarray(shift, dtype=np.int64), (units,))
    if e.min(initial=1) < 1 or e.max(initial=1) > 31:
        return None
    limit = 2**31 - 1
    acc_max = np.abs(folded.astype(np.int64)) + 128 * np.abs(w.astype(np.int64)).sum(axis=1)
    rounding = [2 ** (int(k) - 1) + output_offset * 2 ** int(k) for k in e]
    for u in range(units):
        t_max = (int(acc_max[u]) * int(m[u])) // 2**31 + 1
        if 2 * int(acc_max[u]) > limit or t_max + abs(rounding[u]) + 1 > limit:
            return None
    n = len(np.atleast_1d(mult))
    return np.array([(int(m[u]), rounding[u], int(e[u])) for u in range(n)], dtype=np.int64).reshape(-1)


def inplace_columns_fit(geo: dict[str, int], in_c: int, out_c: int, column_bytes: int) -> bool:
    """Whether every pixel pair of a convolution finds its im2col columns (`column_bytes`) in free
    bytes, as mcf_conv2d_inplace_cols looks for them: the end of the output not written yet, or the
    start of the input before the pair's first window row. Offsets are relative to 16-byte aligned
    buffers."""
    oh, ow = geo["output_h"], geo["output_w"]
    pixels = geo["batches"] * oh * ow
    in_row, in_image = geo["input_w"] * in_c, geo["input_h"] * geo["input_w"] * in_c
    tail = (pixels * out_c - column_bytes) // 4 * 4
    for i in range(0, pixels, 2):
        b, oy = divmod(i // ow, oh)
        dead = b * in_image + max(0, oy * geo["stride_h"] - geo["pad_top"]) * in_row
        if tail < (i + 2) * out_c and dead < column_bytes:
            return False
    return True


def window_overlap(op: Operator, geo: dict[str, int], in_c: int, out_c: int, fh: int, fw: int) -> dict[int, int]:
    """The output may overlap the input (when it dies here) from this shift on: see overlap.py. Every
    path of conv2d_s8.c / depthwise_conv2d_s8.c walks output pixels in raster order, one pixel or
    (im2col) one pair at a time, reading only the pixels' windows."""
    keys = ("batches", "input_h", "input_w", "output_h", "output_w", "stride_h", "stride_w", "pad_top",
            "pad_left", "dilation_h", "dilation_w")
    shift = window_min_shift(**{k: geo[k] for k in keys}, input_c=in_c, output_c=out_c, filter_h=fh, filter_w=fw)
    return {op.inputs[0]: shift}


def conv2d_scratch_bytes(k: int, filter_c: int) -> int:
    """MCF_CONV2D_SCRATCH_BYTES of conv2d_s8.h."""
    return 32 * ((k + 7) // 8) + (4 * ((k + 1) // 2) if filter_c % 4 else 0)


def _inputs(graph: Graph, op: Operator) -> tuple[Tensor, Tensor, Tensor | None, Tensor]:
    if len(op.inputs) not in (2, 3):
        raise reject(op, f"expected 2 or 3 inputs (input, weights[, bias]), got {len(op.inputs)}")
    if len(op.outputs) != 1:
        raise reject(op, f"expected 1 output, got {len(op.outputs)}")
    ins = [*graph.op_inputs(op), None]
    inp, weights, bias = ins[0], ins[1], ins[2]
    if inp is None or weights is None:
        raise reject(op, "the input and the weights are required")
    return inp, weights, bias, graph.op_outputs(op)[0]


@lowering("CONV_2D")
def lower_conv2d(graph: Graph, op: Operator) -> KernelCall:
    inp, weights, bias, out = _inputs(graph, op)
    if len(weights.shape) != 4:
        raise reject(op, f"weights must be 4-D [out_channels, h, w, in_channels], got {list(weights.shape)}")
    oc, fh, fw, fc = weights.shape
    if inp.dtype == "int16":  # 16x8 (conv_s16.py)
        return lower_conv2d_s16(op, inp, weights, bias, out, _geometry(op, inp, fh, fw, out))
    weight_scales = _check_quant(op, inp, weights, out, oc, axis=0)
    geo = _geometry(op, inp, fh, fw, out)
    ic = inp.shape[3]
    if fc < 1 or ic % fc:
        raise reject(op, f"input has {ic} channels, not a multiple of the weights' {fc} input channels")
    groups = ic // fc
    if oc % groups:
        raise reject(op, f"{oc} output channels cannot be split into {groups} groups")
    if out.shape[3] != oc:
        raise reject(op, f"output has {out.shape[3]} channels, the weights have {oc}")
    b = _bias(op, bias, oc)
    assert weights.data is not None  # rejected above when not constant
    w = weights.data.astype(np.int64)
    params, consts = _quant_params(op, inp, out, weight_scales, b, w.reshape(oc, -1).sum(axis=1),
                                   np.abs(w.reshape(oc, -1)).sum(axis=1))
    if conv_fsum.wanted(op):  # onnxruntime's float Conv between DequantizeLinear and QuantizeLinear
        fsum = conv_fsum.lower_float_conv(op, inp, w, weight_scales, b, out, geo, groups,
                                          (params["act_min"], params["act_max"]))
        if fsum is not None:
            return fsum
    macs = geo["batches"] * geo["output_h"] * geo["output_w"] * oc * fh * fw * fc
    # The fast paths (im2col + blocked product, runtime/kernels/conv2d_s8.c) need two int16
    # columns of K values, and for channel counts that are not a multiple of 4 a staging copy:
    # MCF_CONV2D_SCRATCH_BYTES. Grouped convolutions keep the reference loop.
    scratch = conv2d_scratch_bytes(fh * fw * fc, fc) if groups == 1 else 0
    common = {**geo, "input_c": ic, "output_c": oc, "filter_h": fh, "filter_w": fw, "filter_c": fc,
              "groups": groups, **params}
    geometry = f", {fh}x{fw} stride {geo['stride_h']}x{geo['stride_w']}"
    fast_filter = ConstArray("filter_fast", "uint32_t", channel_pair_layout(w.reshape(oc, -1)), fast_only=True)
    # The entry point of the chosen path (conv2d_s8.h): only the paths a model uses are linked.
    act = "full" if (params["act_min"], params["act_max"]) == (-128, 127) else "clamp"
    overlap = window_overlap(op, geo, ic, oc, fh, fw)
    narrow = conv_narrow.lower_narrow(op, geo, ic, w, groups, params, consts, macs, overlap, short_output_constants)
    if narrow is not None:  # contiguous windows, one pixel or few outputs: conv_narrow.py
        return narrow
    c1_out = None
    if (ic, fh, fw, geo["dilation_h"], geo["dilation_w"]) == (1, 3, 3, 1, 1) and not float_requant.wants_float32(op):
        by_name = {c.name: c.values for c in consts}
        c1_out = one_channel_constants(w.reshape(oc, -1), b, by_name["mult"], by_name["shift"], out.zero_point)
    pw_out = None
    pixels = geo["batches"] * geo["output_h"] * geo["output_w"]
    # (measured on Cortex-M4: fewer instructions than the im2col path's 2 x 2 blocks up to 16 input
    # channels, or for a single pixel; more from 32 channels on)
    if ((fh, fw, groups) == (1, 1, 1) and ic % 4 == 0 and (ic <= 16 or pixels == 1)
            and ic <= CONV2D_STACK_MAX_K and params["fold_interior"]
            and (geo["pad_top"], geo["pad_left"]) == (0, 0)
            and (geo["output_h"], geo["output_w"]) == (geo["input_h"], geo["input_w"])
            and not float_requant.wants_float32(op)):
        by_name = {c.name: c.values for c in consts}
        pw_out = short_output_constants(w.reshape(oc, -1), by_name["folded_bias"],
                                        np.broadcast_to(by_name["mult"], (oc,)),
                                        np.broadcast_to(by_name["shift"], (oc,)), out.zero_point)
    if conv_first.wanted(geo, ic, fc, oc, fh, fw, groups):
        # 1 to 3 input channels (a first layer): conv2d_s8_first.c, its columns on the stack, no scratch;
        # onnxruntime's output stage takes the undoubled sums (conv2d_s8_first_f32.c).
        by_name = {c.name: c.values for c in consts}
        first_q = None if float_requant.wants_float32(op) else one_channel_constants(
            w.reshape(oc, -1), b, by_name["mult"], by_name["shift"], out.zero_point)
        return float_requant.entry_points(
            op, conv_first.lower(op, geo, w, b, first_q, params, consts, macs, geometry, overlap))
    if pw_out is not None:
        # 1x1, every output pixel on its own input pixel: four channels per pass read in place, the
        # short output stage, no scratch (conv2d_s8.h, _pointwise_*).
        return KernelCall(op=op, kernel="conv2d_s8", function=f"mcf_conv2d_s8_pointwise_{act}",
                          params_type="mcf_conv2d_params",
                          params={**common, "scratch": "0", "fast_layout": 1, "pw_out": ConstRef("pw_out")},
                          args=[op.inputs[0], FastOr(ConstRef("filter_fast"), op.inputs[1]), op.outputs[0]],
                          consts=[*consts, fast_filter, ConstArray("pw_out", "int32_t", pw_out)],
                          macs=macs, comment=geometry + ", pointwise", overlap=overlap)
    if c1_out is not None:
        # One input channel, 3x3 (a first layer): windows gathered on the stack, no scratch (conv2d_s8.h, _c1_*).
        c1_filter = one_channel_layout(w.reshape(oc, -1), b, (params["act_min"], params["act_max"]))
        return KernelCall(op=op, kernel="conv2d_s8", function=f"mcf_conv2d_s8_c1_{act}",
                          params_type="mcf_conv2d_params",
                          params={**common, "scratch": "0", "fast_layout": 1, "c1_out": ConstRef("c1_out")},
                          args=[op.inputs[0], FastOr(ConstRef("filter_c1"), op.inputs[1]), op.outputs[0]],
                          consts=[*consts, ConstArray("c1_out", "int32_t", c1_out),
                                  ConstArray("filter_c1", "uint32_t", c1_filter, fast_only=True)],
                          macs=macs, comment=geometry + ", one input channel", overlap=overlap)
    if groups == 1 and fc % 4 == 0 and geo["dilation_w"] == 1 and fh <= CONV2D_DIRECT_MAX_ROWS:
        # Without scratch: the direct fast path (whole groups of four input channels read in place).
        plain = KernelCall(op=op, kernel="conv2d_s8", function=f"mcf_conv2d_s8_direct_{act}",
                           params_type="mcf_conv2d_params",
                           params={**common, "scratch": "0", "fast_layout": 1},
                           args=[op.inputs[0], FastOr(ConstRef("filter_fast"), op.inputs[1]), op.outputs[0]],
                           consts=[*consts, fast_filter], macs=macs, comment=geometry + ", direct")
    elif groups == 1 and fh * fw * fc <= CONV2D_STACK_MAX_K:
        # Without scratch, a small window (few input channels, e.g. a first layer on 1 or 3): the im2col
        # path with each pixel pair's columns on the stack.
        plain = KernelCall(op=op, kernel="conv2d_s8", function=f"mcf_conv2d_s8_stack_{act}",
                           params_type="mcf_conv2d_params",
                           params={**common, "scratch": "0", "fast_layout": 1},
                           args=[op.inputs[0], FastOr(ConstRef("filter_fast"), op.inputs[1]), op.outputs[0]],
                           consts=[*consts, fast_filter], macs=macs, comment=geometry + ", columns on the stack")
    else:
        # Without scratch the kernel runs its reference loop on the filter as stored.
        plain = KernelCall(op=op, kernel="conv2d_s8", function="mcf_conv2d_s8_ref", params_type="mcf_conv2d_params",
                           params={**common, "scratch": "0"}, args=[op.inputs[0], op.inputs[1], op.outputs[0]],
                           consts=list(consts), macs=macs, comment=geometry + ", reference loop")
    plain.overlap = overlap
    if not scratch:
        return float_requant.entry_points(op, plain)
    in_place = None
    if groups == 1 and inplace_columns_fit(geo, ic, oc, scratch):
        in_place = KernelCall(op=op, kernel="conv2d_s8", function=f"mcf_conv2d_s8_im2col_{act}",
                              params_type="mcf_conv2d_params",
                              params={**common, "scratch": "0", "fast_layout": 1, "inplace": scratch},
                              args=[op.inputs[0], FastOr(ConstRef("filter_fast"), op.inputs[1]), op.outputs[0]],
                              consts=[*consts, fast_filter], macs=macs, comment=geometry + ", columns in place")
    return float_requant.entry_points(op, KernelCall(
        op=op,
        kernel="conv2d_s8",
        function=f"mcf_conv2d_s8_im2col_{act}",
        params_type="mcf_conv2d_params",
        params={**common, "scratch": ScratchRef()},
        args=[op.inputs[0], FastOr(ConstRef("filter_fast"), op.inputs[1]), op.outputs[0]],
        consts=[*consts, fast_filter],
        scratch_bytes=scratch,
        fallback=plain,
        in_place=in_place,
        macs=macs,
        comment=geometry,
        overlap=overlap,
    ))


@lowering("DEPTHWISE_CONV_2D")
def lower_depthwise_conv2d(graph: Graph, op: Operator) -> KernelCall:
    inp, weights, bias, out = _inputs(graph, op)
    if len(weights.shape) != 4 or weights.shape[0] != 1:
        raise reject(op, f"weights must be 4-D [1, h, w, channels], got {list(weights.shape)}")
    _, fh, fw, oc = weights.shape
    if inp.dtype == "int16":  # 16x8 (conv_s16.py)
        return lower_depthwise_conv2d_s16(op, inp, weights, bias, out, _geometry(op, inp, fh, fw, out))
    weight_scales = _check_quant(op, inp, weights, out, oc, axis=3)
    geo = _geometry(op, inp, fh, fw, out)
    ic = inp.shape[3]
    mult = int(op.options.get("depth_multiplier", 1))
    if mult < 1 or ic * mult != oc:
        raise reject(op, f"depth_multiplier {mult} with {ic} input channels does not give the weights' "
                         f"{oc} output channels")
    if out.shape[3] != oc:
        raise reject(op, f"output has {out.shape[3]} channels, the weights have {oc}")
    b = _bias(op, bias, oc)
    assert weights.data is not None  # rejected above when not constant
    w = weights.data.astype(np.int64)
    params, consts = _quant_params(op, inp, out, weight_scales, b, w.reshape(-1, oc).sum(axis=0),
                                   np.abs(w.reshape(-1, oc)).sum(axis=0))
    if conv_fsum.wanted(op):  # onnxruntime's float Conv between DequantizeLinear and QuantizeLinear
        fsum = conv_fsum.lower_float_conv(op, inp, w.transpose(3, 1, 2, 0), weight_scales, b, out, geo, ic,
                                          (params["act_min"], params["act_max"]))
        if fsum is not None:
            return fsum
    macs = geo["batches"] * geo["output_h"] * geo["output_w"] * oc * fh * fw
    # Depth multiplier 1 (the common case) has a fast path that reads int16 weights in groups of four
    # channels; larger multipliers one that reads int16 pairs of taps (windows up to DW_MULT_MAX_TAPS):
    # fast builds hold that copy (twice the bytes of these small filters).
    filter_arg: int | FastOr = op.inputs[1]
    # The entry point of the chosen path (depthwise_conv2d_s8.h): only the paths a model uses are linked.
    function = "mcf_depthwise_conv2d_s8_ref"
    fast = mult == 1 or fh * fw <= DW_MULT_MAX_TAPS
    if fast:
        act = "full" if (params["act_min"], params["act_max"]) == (-128, 127) else "clamp"
        # 3x3 windows over channel counts that are not a multiple of four (3, 6: first layers) or over
        # eight channels (two groups: MobileNet's first depthwise layer) pay the per-pixel call of the
        # general path on few MACs: their own entry point inlines whole windows.
        small = mult == 1 and fh == fw == 3 and (ic % 4 != 0 or ic == 8)
        function = f"mcf_depthwise_conv2d_s8_{'small' if small else 'fast' if mult == 1 else 'mult'}_{act}"
        layout = (depthwise_fast_layout(w.reshape(-1, oc)) if mult == 1
                  else depthwise_tap_pair_layout(w.reshape(-1, oc), mult))
        consts.append(ConstArray("filter_fast", "uint32_t", layout, fast_only=True))
        filter_arg = FastOr(ConstRef("filter_fast"), op.inputs[1])
        # One-column / one-row windows: the line path, where its short output stage applies.
        line_q = None
        if depthwise_line.takes(fh, fw, mult) and not float_requant.wants_float32(op):
            q = {c.name: c.values for c in consts}
            line_q = depthwise_line.output_constants(w.reshape(-1, oc), b, q["mult"], q["shift"], out.zero_point)
        if line_q is not None:
            function = f"mcf_depthwise_conv2d_s8_line_{act}"
            consts.append(ConstArray("line_q", "int32_t", line_q))
            params["line_q"] = ConstRef("line_q")
    return float_requant.entry_points(op, KernelCall(
        op=op,
        kernel="depthwise_conv2d_s8",
        function=function,
        params_type="mcf_depthwise_conv2d_params",
        params={**geo, "input_c": ic, "output_c": oc, "filter_h": fh, "filter_w": fw,
                "depth_multiplier": mult, **params, "fast_layout": int(fast)},
        args=[op.inputs[0], filter_arg, op.outputs[0]],
        consts=consts,
        macs=macs,
        comment=f", {fh}x{fw} stride {geo['stride_h']}x{geo['stride_w']}" + (f" x{mult}" if mult > 1 else ""),
        overlap=window_overlap(op, geo, ic, oc, fh, fw),
    ))
