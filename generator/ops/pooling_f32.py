"""AVERAGE_POOL_2D with onnxruntime's float32 arithmetic (`options["requant"] = "float32"`).

onnxruntime's QLinearAveragePool (which the DequantizeLinear -> AveragePool -> QuantizeLinear
pattern of a QDQ model becomes) dequantizes the input to float32, sums each window in float32,
divides by the float32 count (the taps inside the input, or the whole window with
count_include_pad), divides by the output scale, adds the zero point in float32 and rounds half to
even. Input and output quantizations may differ. Here: the 256-entry dequantization table (numpy
float32), the geometry and the clamp; runtime/kernels/pooling_s8_f32.c sums in onnxruntime's order.

Option keys the ONNX front end sets: `pads` (top, left, bottom, right; a ceil_mode pool has its
extra bottom / right rows in them), `count_include_pad`, and `zero_point_shift` (128 where the
model's activations are uint8: onnxruntime adds the uint8 zero point before rounding).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..ir import Graph, Operator
from ..overlap import window_min_shift
from ..quant import activation_range
from .base import (
    ConstArray,
    ConstRef,
    KernelCall,
    explicit_padding,
    padding_offsets,
    reject,
    require_int8,
    unary_tensors,
)
from .float_requant import dequant_table

_ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def _inside(size: int, out: int, stride: int, pad: int, filt: int) -> int:
    """The fewest window taps inside the input along one axis."""
    return min(min(filt, size - (o * stride - pad)) - max(0, pad - o * stride) for o in range(out))


def soft_constants(in_scale: float, in_zp: int, out_scale: float, out_zp: int, taps: int) -> dict[str, int]:
    """The fixed-point route of pooling_s8_f32.c on cores without an FPU, for windows of `taps` input
    values all inside the input (the divisor is then `taps`); `out_zp` is the raw output zero point
    onnxruntime adds in float32. V = s * sum(x - in_zp) / (taps * s_out) + out_zp is the real value of
    the float32 computation; each rounding in it (the table's products, every partial sum, the two
    divisions, the zero point's addition) moves a value by at most 2^-24 of a bound on it, which
    bounds |v - V| by E (computed here exactly, then 1 % added). g = (T - taps * in_zp) * mult + add
    approximates (V + 1/2) * 2^F within 2^-(F+1) * (|T - taps * in_zp| + 1) units; `near` covers both.
    fx_shift 0 where the route does not apply (`taps` 0: a window reaches outside the input; scales near
    the float32 range's ends, a window or bound too wide)."""
    off = {"fx_shift": 0, "fx_base": 0, "fx_mult": 0, "fx_add_lo": 0, "fx_add_hi": 0, "fx_near": 0}
    s, so = Fraction(float(np.float32(in_scale))), Fraction(float(np.float32(out_scale)))
    if not 1 <= taps < 2**16 or not (Fraction(2) ** -100 <= s <= 2**100 and Fraction(2) ** -100 <= so <= 2**100):
        return off
    u = Fraction(1, 2**24)
    reach = max(abs(-128 - in_zp), abs(127 - in_zp))  # largest |x - in_zp|
    n, zo = Fraction(taps), Fraction(out_zp)
    maxdq = s * reach * (1 + u)
    partial = n * maxdq
    e1 = n * maxdq * u + n * partial * u  # the table's products, then every partial sum
    acc = partial + e1
    q1 = acc / n * (1 + u)
    q2 = q1 / so * (1 + u)
    err = e1 / (n * so) + (acc / n) * u / so + q2 * u + (q2 + abs(zo)) * u
    ratio = s / (n * so)
    f = 30
    while ratio * Fraction(2) ** f >= 2**31:
        f -= 1
    while ratio * Fraction(2) ** f < 2**30:
        f += 1
    if not 4 <= f <= 53:
        return off
    unit = Fraction(2) ** f
    mult = round(ratio * unit)
    add = round((zo + Fraction(1, 2)) * unit)
    near = int((err * Fraction(101, 100) * unit + Fraction(n * reach + 1, 2)).__ceil__()) + 1
    if near >= min(2**f // 8, 2**31):
        return off
    return {"fx_shift": f, "fx_base": taps * in_zp, "fx_mult": mult, "fx_add_lo": add & 0xFFFFFFFF,
            "fx_add_hi": (add >> 32) & 0xFFFFFFFF, "fx_near": near}


def lower_avgpool_f32(graph: Graph, op: Operator) -> KernelCall:
    inp, out = unary_tensors(graph, op)
    require_int8(op, inp, out)
    assert inp.quant is not None and out.quant is not None
    if inp.quant.per_channel or out.quant.per_channel:
        raise reject(op, "input and output must be quantized per tensor")
    if len(inp.shape) != 4 or len(out.shape) != 4:
        raise reject(op, f"input and output must be 4-D NHWC, got {list(inp.shape)} and {list(out.shape)}")
    opts = op.options
    sh, sw = int(opts.get("stride_h", 0)), int(opts.get("stride_w", 0))
    fh, fw = int(opts.get("filter_height", 0)), int(opts.get("filter_width", 0))
    if min(sh, sw, fh, fw) < 1:
        raise reject(op, f"strides and filter sizes must be >= 1, got stride {sh}x{sw}, filter {fh}x{fw}")
    act = opts.get("fused_activation_function", "NONE")
    if act not in _ACTIVATIONS:
        raise reject(op, f"fused activation {act} is not supported (only {', '.join(_ACTIVATIONS)})")
    shift = int(opts.get("zero_point_shift", 0))
    if shift not in (0, 128):
        raise reject(op, f"zero_point_shift must be 0 or 128, got {shift}")
    n, h, w, c = inp.shape
    if opts.get("pads") is not None:
        oh, pad_top, ow, pad_left = explicit_padding(op, opts["pads"], (h, w), (fh, fw), (sh, sw), (1, 1))
    else:
        padding = opts.get("padding", "SAME")
        if padding not in ("SAME", "VALID"):
            raise reject(op, f"unsupported padding {padding!r}")
        oh, pad_top = padding_offsets(padding, h, fh, sh, 1)
        ow, pad_left = padding_offsets(padding, w, fw, sw, 1)
    if oh < 1 or ow < 1 or tuple(out.shape) != (n, oh, ow, c):
        raise reject(op, f"output shape {list(out.shape)} does not match the computed [{n}, {oh}, {ow}, {c}]")
    if _inside(h, oh, sh, pad_top, fh) < 1 or _inside(w, ow, sw, pad_left, fw) < 1:
        raise reject(op, "a pooling window lies entirely in the padding")
    act_min, act_max = activation_range(act, out.scale, out.zero_point)
    inside = pad_top == 0 and pad_left == 0 and (oh - 1) * sh + fh <= h and (ow - 1) * sw + fw <= w
    # cores without an FPU: the fixed-point route where every window lies inside the input
    fixed = soft_constants(inp.scale, inp.zero_point, out.scale, out.zero_point + shift, fh * fw if inside else 0)
    fixed = {k: v - 2**32 if v >= 2**31 else v for k, v in fixed.items()}  # int32 fields
    return KernelCall(
        op=op,
        kernel="pooling_s8_f32",
        function="mcf_avgpool_s8_f32",
        params_type="mcf_avgpool_f32_params",
        params={
            "batches": n, "input_h": h, "input_w": w, "channels": c, "output_h": oh, "output_w": ow,
            "stride_h": sh, "stride_w": sw, "filter_h": fh, "filter_w": fw, "pad_top": pad_top,
            "pad_left": pad_left, "count": fh * fw if opts.get("count_include_pad") else 0,
            "output_scale": float(np.float32(out.scale)), "zero_point": float(out.zero_point + shift),
            "offset": -shift, "act_min": act_min, "act_max": act_max, "dequant": ConstRef("dequant"),
            **fixed,
        },
        args=[op.inputs[0], op.outputs[0]],
        consts=[ConstArray("dequant", "float", dequant_table(inp.scale, inp.zero_point))],
        comment=f", {fh}x{fw} window, stride {sh}x{sw}, onnxruntime's float32 arithmetic",
        # pooling_s8_f32.c: output pixels in raster order, every channel of one pixel from its window
        overlap={op.inputs[0]: window_min_shift(
            batches=n, input_h=h, input_w=w, input_c=c, output_h=oh, output_w=ow, output_c=c, stride_h=sh,
            stride_w=sw, pad_top=pad_top, pad_left=pad_left, filter_h=fh, filter_w=fw)},
    )
