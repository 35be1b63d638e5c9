"""AVERAGE_POOL_2D and MAX_POOL_2D (int8, NHWC).

TFLite Micro requires the input and output to share one quantization, so pooling works on the raw
int8 values: the maximum, or the average over the window's taps that fall inside the input
(padding taps are skipped, not counted as zeros), rounded to nearest with halves away from zero.
The fused activation becomes a clamp. Geometry and clamp are computed here.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..ir import Graph, Operator
from ..overlap import window_min_shift
from ..quant import activation_range
from .base import KernelCall, explicit_padding, lowering, padding_offsets, reject, require_int8, unary_tensors
from .float_requant import wants_float32
from .fully_connected_s16 import require_int16
from .pooling_f32 import lower_avgpool_f32
from .pooling_s16 import as_int16

_ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")
_MAX_WINDOW = 1 << 24  # taps per window: keeps 128 * taps well inside int32
ROW_STACK_BYTES = 512  # MCF_POOL_ROW_STACK_BYTES of pooling_s8.h: larger rows of column maxima go to scratch


def _taps(size: int, out: int, stride: int, pad: int, filt: int) -> list[int]:
    """Number of window taps inside the input, for every output position along one axis."""
    counts = []
    for o in range(out):
        origin = o * stride - pad
        counts.append(min(filt, size - origin) - max(0, -origin))
    return counts


@lowering("AVERAGE_POOL_2D", "MAX_POOL_2D")
def lower_pool(graph: Graph, op: Operator) -> KernelCall:
    if op.opcode == "AVERAGE_POOL_2D" and wants_float32(op):  # onnxruntime's arithmetic (pooling_f32.py)
        return lower_avgpool_f32(graph, op)
    inp, out = unary_tensors(graph, op)
    if inp.dtype == "int16":  # 16x8: the same checks and geometry, the int16 kernel (pooling_s16.py)
        require_int16(op, inp, out)
    else:
        require_int8(op, inp, out)
    assert inp.quant is not None and out.quant is not None
    if inp.quant.per_channel or out.quant.per_channel:
        raise reject(op, "input and output must be quantized per tensor")
    # TFLite Micro's PoolingPrepare: |input scale - output scale| <= 1e-6 (float) and equal zero points.
    if float(abs(np.float32(inp.scale) - np.float32(out.scale))) > 1e-6 or inp.zero_point != out.zero_point:
        raise reject(op, f"input and output quantization must match (input scale {inp.scale:g} zero point "
                         f"{inp.zero_point}, output scale {out.scale:g} zero point {out.zero_point})")
    if len(inp.shape) != 4 or len(out.shape) != 4:
        raise reject(op, f"input and output must be 4-D NHWC, got {list(inp.shape)} and {list(out.shape)}")

    opts = op.options
    pads = opts.get("pads")  # explicit (top, left, bottom, right), e.g. from an ONNX pool
    padding = "explicit" if pads is not None else opts.get("padding", "SAME")
    if padding not in ("SAME", "VALID", "explicit"):
        raise reject(op, f"unsupported padding {padding!r}")
    sh, sw = int(opts.get("stride_h", 0)), int(opts.get("stride_w", 0))
    fh, fw = int(opts.get("filter_height", 0)), int(opts.get("filter_width", 0))
    if sh < 1 or sw < 1:
        raise reject(op, f"strides must be >= 1, got stride_h={sh} stride_w={sw}")
    if fh < 1 or fw < 1:
        raise reject(op, f"filter size must be >= 1, got filter_height={fh} filter_width={fw}")
    if fh * fw >= _MAX_WINDOW:
        raise reject(op, f"the {fh}x{fw} window has {fh * fw} taps; at most {_MAX_WINDOW - 1} are supported")
    act = opts.get("fused_activation_function", "NONE")
    if act not in _ACTIVATIONS:
        raise reject(op, f"fused activation {act} is not supported (only {', '.join(_ACTIVATIONS)})")

    n, h, w, c = inp.shape
    if pads is not None:
        oh, pad_top, ow, pad_left = explicit_padding(op, pads, (h, w), (fh, fw), (sh, sw), (1, 1))
    else:
        oh, pad_top = padding_offsets(padding, h, fh, sh, 1)
        ow, pad_left = padding_offsets(padding, w, fw, sw, 1)
    if oh < 1 or ow < 1:
        raise reject(op, f"the {fh}x{fw} window does not fit the {h}x{w} input with {padding} padding")
    if tuple(out.shape) != (n, oh, ow, c):
        raise reject(op, f"output shape {list(out.shape)} does not match the computed [{n}, {oh}, {ow}, {c}] "
                         f"({padding} padding, {fh}x{fw} window, stride {sh}x{sw})")
    if min(_taps(h, oh, sh, pad_top, fh)) < 1 or min(_taps(w, ow, sw, pad_left, fw)) < 1:
        raise reject(op, "a pooling window lies entirely in the padding")  # TFLite Micro fails there too

    act_min, act_max = activation_range(act, out.scale, out.zero_point)
    is_avg = op.opcode == "AVERAGE_POOL_2D"
    call = KernelCall(
        op=op,
        kernel="pooling_s8",
        function="mcf_avgpool_s8" if is_avg else "mcf_maxpool_s8",
        params_type="mcf_pool_params",
        params={
            "batches": n, "input_h": h, "input_w": w, "channels": c, "output_h": oh, "output_w": ow,
            "stride_h": sh, "stride_w": sw, "filter_h": fh, "filter_w": fw,
            "pad_top": pad_top, "pad_left": pad_left, "act_min": act_min, "act_max": act_max,
        },
        args=[op.inputs[0], op.outputs[0]],
        comment=f", {fh}x{fw} window, stride {sh}x{sw}, {padding}",
        # pooling_s8.c: output pixels in raster order, every channel of one pixel from its window
        overlap={op.inputs[0]: window_min_shift(
            batches=n, input_h=h, input_w=w, input_c=c, output_h=oh, output_w=ow, output_c=c, stride_h=sh,
            stride_w=sw, pad_top=pad_top, pad_left=pad_left, filter_h=fh, filter_w=fw)},
    )
    if inp.dtype == "int16":
        return as_int16(graph, op, call, out)
    return call if is_avg else _max_in_two_passes(call)


def _max_in_two_passes(call: KernelCall) -> KernelCall:
    """mcf_maxpool_s8_rows (the window's rows, then its columns, through one row of column maxima)
    where it moves fewer bytes than the direct loop: windows of 3x3 and more at stride 1, 4x4 and
    more at stride 2. The row is on the stack when it fits ROW_STACK_BYTES, else in scratch with the
    direct loop as the scratch-free fallback. 2x2 windows, and 3x3 at stride 2, keep the direct loop."""
    g = {k: int(v) for k, v in call.params.items() if isinstance(v, int)}
    fh, fw, oh, ow, c = g["filter_h"], g["filter_w"], g["output_h"], g["output_w"], g["channels"]
    used_w = min(g["input_w"], (ow - 1) * g["stride_w"] - g["pad_left"] + fw)  # columns some window reads
    direct = oh * ow * fh * fw  # bytes read (per channel)
    two_pass = oh * (fh * used_w + used_w + ow * fw)  # the rows read, their maxima written and read
    if two_pass >= direct:  # 2x2 and 3x3 windows at stride 2, 1-D windows, global pooling
        return call
    if used_w * c <= ROW_STACK_BYTES:
        return replace(call, function="mcf_maxpool_s8_rows_stack", comment=call.comment + ", rows then columns")
    return replace(call, function="mcf_maxpool_s8_rows", scratch_bytes=used_w * c, fallback=call,
                   comment=call.comment + ", rows then columns")
