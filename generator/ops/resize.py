"""RESIZE_NEAREST_NEIGHBOR (int8, int16) and RESIZE_BILINEAR (int8), NHWC, constant output size.

Neither operator requantizes in TFLite Micro: the output holds (an interpolation of) the raw input
values. Every source index and weight depends only on the output row or column, so both are
computed here, with TFLite Micro's own arithmetic, into two small tables; the kernels only walk
them.

- Nearest neighbour (reference GetNearestNeighbor): scale = in / out, or (in - 1) / (out - 1) with
  align_corners, in float32; source = floor((o + offset) * scale) (offset 0.5 with
  half_pixel_centers), rounded half away from zero instead with align_corners; at most in - 1, and
  at least 0 with half_pixel_centers.
- Bilinear (reference ResizeBilinearInteger, integer only): scale_10 = round(1024 * in / out)
  (or with in - 1 and out - 1 for align_corners) as an integer division; the source position in
  1/1024 units is o * scale_10 (+ scale_10 / 2 - 512 with half_pixel_centers); the lower index is
  that over 1024 truncated (at least 0), the upper one rounded up (at most in - 1), and the weight
  of the upper one is position - 1024 * lower. The four products summed are in 1/2^20 units and
  rounded half away from zero (TFLite's default, double-rounding build).
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator, Tensor
from ..quant import tflite_round
from .base import ConstArray, ConstRef, KernelCall, lowering, reject, require_int8
from .resize_ort import lower_ort_bilinear


def _c_div(a: int, b: int) -> int:
    """C integer division (truncates toward zero), b > 0."""
    q = abs(a) // b
    return q if a >= 0 else -q


def nearest_indices(in_size: int, out_size: int, align_corners: bool, half_pixel: bool) -> list[int]:
    if align_corners and out_size > 1:
        scale = np.float32(in_size - 1) / np.float32(out_size - 1)
    else:
        scale = np.float32(in_size) / np.float32(out_size)
    offset = np.float32(0.5 if half_pixel else 0.0)
    indices = []
    for o in range(out_size):
        pos = float((np.float32(o) + offset) * scale)
        v = min(tflite_round(pos) if align_corners else int(np.floor(pos)), in_size - 1)
        indices.append(max(0, v) if half_pixel else v)
    return indices


def bilinear_taps(in_size: int, out_size: int, align_corners: bool,
                  half_pixel: bool) -> list[tuple[int, int, int]]:
    """(lower index, upper index, weight of the upper one in 1/1024) per output position."""
    scale = ((1 << 10) * in_size + out_size // 2) // out_size
    if align_corners and out_size > 1:
        scale = ((1 << 10) * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    taps = []
    for o in range(out_size):
        pos = o * scale + scale // 2 - (1 << 9) if half_pixel else o * scale
        lo = max(_c_div(pos, 1 << 10), 0)
        hi = min(_c_div(pos + (1 << 10) - 1, 1 << 10), in_size - 1)
        taps.append((lo, hi, pos - (1 << 10) * lo))
    return taps


def _check(graph: Graph, op: Operator, int16: bool = False) -> tuple[Tensor, Tensor, bool, bool]:
    """`int16`: int16 input and output are taken too (nearest neighbour copies them as they are)."""
    if len(op.inputs) != 2 or len(op.outputs) != 1:
        raise reject(op, f"expected 2 inputs (data, size) and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    inp, size = graph.op_inputs(op)
    out = graph.op_outputs(op)[0]
    if inp is None or size is None:
        raise reject(op, "the data and size inputs are both required")
    if not (int16 and inp.dtype == out.dtype == "int16"):
        require_int8(op, inp, out)
    if len(inp.shape) != 4 or len(out.shape) != 4:
        raise reject(op, f"input and output must be 4-D NHWC, got {list(inp.shape)} and {list(out.shape)}")
    if size.dtype != "int32" or size.data is None or size.size != 2:
        raise reject(op, "the size input must be a constant int32 tensor of 2 values")
    oh, ow = (int(v) for v in np.asarray(size.data).reshape(-1))
    n, h, w, c = inp.shape
    if min(n, h, w, c, oh, ow) < 1:
        raise reject(op, f"empty input {list(inp.shape)} or output size {[oh, ow]}")
    if tuple(out.shape) != (n, oh, ow, c):
        raise reject(op, f"output shape {list(out.shape)} does not match [{n}, {oh}, {ow}, {c}] (the size input)")
    align = bool(op.options.get("align_corners", False))
    half = bool(op.options.get("half_pixel_centers", False))
    if align and half:
        raise reject(op, "align_corners and half_pixel_centers cannot both be set")
    return inp, out, align, half


@lowering("RESIZE_NEAREST_NEIGHBOR")
def lower_resize_nearest(graph: Graph, op: Operator) -> KernelCall:
    inp, out, align, half = _check(graph, op, int16=True)
    n, h, w, c = inp.shape
    _, oh, ow, _ = out.shape
    rows = [y * w * c for y in nearest_indices(h, oh, align, half)]
    cols = [x * c for x in nearest_indices(w, ow, align, half)]
    s16 = inp.dtype == "int16"  # 16x8 models: runtime/kernels/resize_s16.c, the same tables
    return KernelCall(
        op=op,
        kernel="resize_s16" if s16 else "resize_s8",
        function="mcf_resize_nearest_s16" if s16 else "mcf_resize_nearest_s8",
        params_type="mcf_resize_s16_params" if s16 else "mcf_resize_params",
        params={"batches": n, "input_h": h, "input_w": w, "channels": c, "output_h": oh, "output_w": ow,
                "rows": ConstRef("rows"), "cols": ConstRef("cols")},
        args=[op.inputs[0], op.outputs[0]],
        consts=[ConstArray("rows", "int32_t", np.array(rows, dtype=np.int32)),
                ConstArray("cols", "int32_t", np.array(cols, dtype=np.int32))],
        comment=f", {h}x{w} -> {oh}x{ow}" + (", align_corners" if align else "") + (", half_pixel" if half else ""),
    )


@lowering("RESIZE_BILINEAR")
def lower_resize_bilinear(graph: Graph, op: Operator) -> KernelCall:
    inp, out, align, half = _check(graph, op)
    if op.options.get("ort_linear") is not None:  # an ONNX model: onnxruntime's arithmetic
        return lower_ort_bilinear(op, inp, out)
    n, h, w, c = inp.shape
    _, oh, ow, _ = out.shape
    ys, xs = bilinear_taps(h, oh, align, half), bilinear_taps(w, ow, align, half)
    if max(lo for lo, _, _ in ys) >= h or max(lo for lo, _, _ in xs) >= w:
        # TFLite Micro would read past the input there (its scale is rounded up).
        raise reject(op, f"resizing {h}x{w} to {oh}x{ow} makes TFLite Micro's integer source index leave the input")
    rows = [v for lo, hi, wt in ys for v in (lo * w * c, hi * w * c, wt)]
    cols = [v for lo, hi, wt in xs for v in (lo * c, hi * c, wt)]
    return KernelCall(
        op=op,
        kernel="resize_s8",
        function="mcf_resize_bilinear_s8",
        params_type="mcf_resize_params",
        params={"batches": n, "input_h": h, "input_w": w, "channels": c, "output_h": oh, "output_w": ow,
                "rows": ConstRef("rows"), "cols": ConstRef("cols")},
        args=[op.inputs[0], op.outputs[0]],
        consts=[ConstArray("rows", "int32_t", np.array(rows, dtype=np.int32)),
                ConstArray("cols", "int32_t", np.array(cols, dtype=np.int32))],
        comment=f", {h}x{w} -> {oh}x{ow}" + (", align_corners" if align else "") + (", half_pixel" if half else ""),
    )
