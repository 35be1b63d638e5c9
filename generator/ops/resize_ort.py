"""RESIZE_BILINEAR as onnxruntime's Resize computes it for quantized ONNX models.

onnxruntime (checked element by element against onnxruntime 1.32's outputs, tests/test_onnx_resize.py)
runs a linear Resize of quantized data three ways; every one starts from the same source
coordinates: per output position along an axis a float32 coordinate from the coordinate
transformation mode (the position itself where the scale is 1), clamped to [0, in - 1], its two
neighbours x1 = int(coordinate), x2 = min(x1 + 1, in - 1).

- "float": a QOperator Resize (uint8 or int8 data) on NCHW data, its 8-bit kernel: weights
  dx1 = |coordinate - x1|, dx2 = |coordinate - x2| (both 0.5 where x1 == x2), each output
  (dx2*dy2)*v11 + (dx1*dy2)*v21 + (dx2*dy1)*v12 + (dx1*dy1)*v22 in float32, left to right, every
  product rounded, then truncated toward zero.
- "nhwc_int": the same Resize on NHWC data (onnxruntime's layout optimizer moves it there after a
  QLinearConv, generator/frontends/onnx_layout.py): its integer kernel, weights in 1/1024:
  c10 = int(float32(coordinate * 1024)), dx1 = |c10 - 1024*x1|, dx2 = |c10 - 1024*x2| (512 each
  where x1 == x2), the sum of the four products dx*dy*v divided by 2^20 toward zero.
- "qdq": DequantizeLinear -> Resize -> QuantizeLinear, which onnxruntime leaves in float32 (it drops
  no Q / DQ pair around a linear Resize): the four values dequantized, (v - zero point) * scale,
  the float formula above without truncation, then QuantizeLinear: round half to even of
  float32(value / output scale), plus the output zero point, saturated. The kernel has no division:
  that quantization is monotone in the value, so it is the count of the 255 thresholds (the
  smallest float32 reaching each output level, found here by bisection over float32 values) that
  the value reaches, a binary search of eight comparisons.

uint8 data is interpolated as uint8 by the first two (the int8 value plus 128); the "qdq" form is
the same either way (the zero points move with the values). TFLite's RESIZE_BILINEAR rounds an
integer interpolation instead (generator/ops/resize.py).

The front end marks such an operator with `options["ort_linear"] = (coordinate mode, scale_h,
scale_w, offset, kind)`: offset 128 where onnxruntime's tensor is uint8 (0 for int8 and for
"qdq"), kind one of the three above.
"""

from __future__ import annotations

import numpy as np

from ..ir import Operator, Tensor
from .base import ConstArray, ConstRef, KernelCall, ParamValue, reject

KINDS = ("float", "nhwc_int", "qdq")

COORD_MODES = ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric")


def ort_source_coordinate(o: int, in_size: int, out_size: int, scale: np.float32, coord: str) -> np.float32:
    """onnxruntime's float32 source coordinate of output position o (before clamping)."""
    f32 = np.float32
    x = f32(o)
    if coord == "asymmetric":
        return f32(x / scale)
    if coord == "align_corners":
        return f32(0) if out_size == 1 else f32(f32(x * f32(in_size - 1)) / f32(out_size - 1))
    if coord == "pytorch_half_pixel" and out_size <= 1:
        return f32(0)
    if coord in ("half_pixel", "pytorch_half_pixel"):
        return f32(f32(f32(x + f32(0.5)) / scale) - f32(0.5))
    raise ValueError(f"coordinate transformation mode {coord!r}")


def _clamped_coordinates(in_size: int, out_size: int, scale: float, coord: str) -> list[np.float32]:
    f32 = np.float32
    res = []
    for o in range(out_size):
        c = f32(o) if f32(scale) == f32(1) else ort_source_coordinate(o, in_size, out_size, f32(scale), coord)
        res.append(f32(min(max(c, f32(0)), f32(in_size - 1))))
    return res


def ort_linear_taps(in_size: int, out_size: int, scale: float, coord: str) -> list[tuple[int, int, float, float]]:
    """(x1, x2, dx1, dx2) per output position, as onnxruntime's float32 bilinear setup computes them."""
    f32 = np.float32
    taps = []
    for c in _clamped_coordinates(in_size, out_size, scale, coord):
        x1 = min(int(c), in_size - 1)
        x2 = min(x1 + 1, in_size - 1)
        d1, d2 = (f32(0.5), f32(0.5)) if x1 == x2 else (f32(abs(c - f32(x1))), f32(abs(c - f32(x2))))
        taps.append((x1, x2, float(d1), float(d2)))
    return taps


def ort_linear_taps_q10(in_size: int, out_size: int, scale: float, coord: str) -> list[tuple[int, int, int, int]]:
    """(x1, x2, dx1, dx2) per output position with weights in 1/1024, as onnxruntime's integer
    (NHWC) bilinear setup computes them."""
    taps = []
    for c in _clamped_coordinates(in_size, out_size, scale, coord):
        c10 = int(np.float32(c * np.float32(1024)))
        x1 = min(int(c), in_size - 1)
        x2 = min(x1 + 1, in_size - 1)
        taps.append((x1, x2, 512, 512) if x1 == x2 else (x1, x2, abs(c10 - 1024 * x1), abs(c10 - 1024 * x2)))
    return taps


def _order_key(x: np.ndarray) -> np.ndarray:
    """float32 values → int64 keys in the same order (and back: the map is its own inverse)."""
    b = np.asarray(x, dtype=np.float32).view(np.int32).astype(np.int64)
    return np.where(b < 0, -(b & 0x7FFFFFFF) - 1, b)


def _from_key(k: np.ndarray) -> np.ndarray:
    b = np.where(k < 0, (-(k + 1)) | -0x80000000, k).astype(np.int64)
    return (b & 0xFFFFFFFF).astype(np.uint32).view(np.float32)


def quantize_linear(x: np.ndarray, scale: float, zp: int) -> np.ndarray:
    """onnxruntime's QuantizeLinear to int8: round half to even of float32(x / scale) + zp, saturated."""
    q = np.rint(np.asarray(x, dtype=np.float32) / np.float32(scale)).astype(np.float64) + zp
    return np.clip(q, -128, 127).astype(np.int64)


def quantize_thresholds(scale: float, zp: int) -> np.ndarray:
    """T[k], k = 0..254: the smallest float32 whose quantize_linear is at least k - 127, so that
    quantize_linear(x) = -128 + #{k : x >= T[k]}."""
    levels = np.arange(-127, 128, dtype=np.int64)
    lo = np.full(levels.shape, int(_order_key(np.array(-np.inf))), dtype=np.int64)  # below every level
    hi = np.full(levels.shape, int(_order_key(np.array(np.inf))), dtype=np.int64)  # reaches every level
    while np.any(hi - lo > 1):
        mid = (lo + hi) // 2
        reach = quantize_linear(_from_key(mid), scale, zp) >= levels
        hi = np.where(reach, mid, hi)
        lo = np.where(reach, lo, mid)
    return _from_key(hi).astype(np.float32)


def lower_ort_bilinear(op: Operator, inp: Tensor, out: Tensor) -> KernelCall:
    coord, scale_h, scale_w, offset, kind = op.options["ort_linear"]
    if coord not in COORD_MODES or offset not in (0, 128) or kind not in KINDS:
        raise reject(op, f"onnxruntime linear Resize with coordinate mode {coord!r}, offset {offset}, kind {kind!r}")
    n, h, w, c = inp.shape
    _, oh, ow, _ = out.shape
    if kind == "nhwc_int":
        qy, qx = ort_linear_taps_q10(h, oh, scale_h, coord), ort_linear_taps_q10(w, ow, scale_w, coord)
        return KernelCall(
            op=op,
            kernel="resize_s8_q10",
            function="mcf_resize_bilinear_q10_s8",
            params_type="mcf_resize_bilinear_q10_params",
            params={"batches": n, "input_h": h, "input_w": w, "channels": c, "output_h": oh, "output_w": ow,
                    "offset": int(offset), "rows": ConstRef("rows"), "cols": ConstRef("cols")},
            args=[op.inputs[0], op.outputs[0]],
            consts=[ConstArray("rows", "int32_t", np.array(
                        [v for y1, y2, d1, d2 in qy for v in (y1 * w * c, y2 * w * c, d1, d2)], dtype=np.int32)),
                    ConstArray("cols", "int32_t", np.array(
                        [v for x1, x2, d1, d2 in qx for v in (x1 * c, x2 * c, d1, d2)], dtype=np.int32))],
            comment=f", {h}x{w} -> {oh}x{ow}, onnxruntime NHWC linear {coord}, 1/1024 weights"
                    + (", uint8" if offset else ""),
        )
    ys, xs = ort_linear_taps(h, oh, scale_h, coord), ort_linear_taps(w, ow, scale_w, coord)
    rows = [v for y1, y2, _, _ in ys for v in (y1 * w * c, y2 * w * c)]
    cols = [v for x1, x2, _, _ in xs for v in (x1 * c, x2 * c)]
    row_w = [v for _, _, d1, d2 in ys for v in (d1, d2)]
    col_w = [v for _, _, d1, d2 in xs for v in (d1, d2)]
    params: dict[str, ParamValue] = {
        "batches": n, "input_h": h, "input_w": w, "channels": c, "output_h": oh, "output_w": ow,
        "offset": int(offset), "rows": ConstRef("rows"), "cols": ConstRef("cols"),
        "row_weights": ConstRef("row_weights"), "col_weights": ConstRef("col_weights")}
    consts = [ConstArray("rows", "int32_t", np.array(rows, dtype=np.int32)),
              ConstArray("cols", "int32_t", np.array(cols, dtype=np.int32)),
              ConstArray("row_weights", "float", np.array(row_w, dtype=np.float32)),
              ConstArray("col_weights", "float", np.array(col_w, dtype=np.float32))]
    if kind == "qdq":
        if inp.quant is None or out.quant is None:
            raise reject(op, "a DequantizeLinear -> Resize -> QuantizeLinear needs quantized tensors")
        params.update(input_scale=float(np.float32(inp.quant.scale[0])),
                      input_zero_point=int(inp.quant.zero_point[0]), thresholds=ConstRef("thresholds"))
        consts.append(ConstArray("thresholds", "float",
                                 quantize_thresholds(out.quant.scale[0], int(out.quant.zero_point[0]))))
    return KernelCall(
        op=op,
        kernel="resize_s8_f32",
        function="mcf_resize_bilinear_dq_q_s8" if kind == "qdq" else "mcf_resize_bilinear_trunc_s8",
        params_type="mcf_resize_bilinear_f32_params",
        params=params,
        args=[op.inputs[0], op.outputs[0]],
        consts=consts,
        comment=f", {h}x{w} -> {oh}x{ow}, onnxruntime linear {coord}"
                + (", float32 between DequantizeLinear and QuantizeLinear" if kind == "qdq" else "")
                + (", uint8" if offset else ""),
    )
