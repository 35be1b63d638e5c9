"""RESIZE_BILINEAR as onnxruntime's Resize kernel for 8-bit tensors computes it (ONNX models).

onnxruntime runs a QOperator model's linear Resize (uint8 or int8 data, NCHW, outer scales 1) on
the stored values: every output position along an axis gets a float32 source coordinate from the
coordinate transformation mode, clamped to [0, in - 1]; its two neighbours x1 = int(coordinate),
x2 = min(x1 + 1, in - 1) and weights dx1 = |coordinate - x1|, dx2 = |coordinate - x2| (both 0.5
where x1 == x2). Each output is (dx2*dy2)*v11 + (dx1*dy2)*v21 + (dx2*dy1)*v12 + (dx1*dy1)*v22 in
float32, left to right, converted to the integer type by truncation (toward zero). Checked against
onnxruntime's output element by element (tests/test_onnx_resize.py); TFLite's RESIZE_BILINEAR
rounds an integer interpolation instead (generator/ops/resize.py).

Not reproduced yet: where onnxruntime's layout optimizer moves the Resize into NHWC (after an int8
QLinearConv it runs in NHWC), it runs another kernel, weights in 1/1024 from int(coordinate * 1024)
and the sum of the four products divided by 2^20 toward zero; mcuforge then differs by one step in
a few elements (tests/onnx_op_cases.py allows one step for linear Resize for that reason).

The front end marks such an operator with `options["ort_linear"] = (coordinate mode, scale_h,
scale_w, offset)`: offset 128 where onnxruntime's tensor is uint8 (the int8 value plus 128 is what
it interpolates), 0 for int8.
"""

from __future__ import annotations

import numpy as np

from ..ir import Operator, Tensor
from .base import ConstArray, ConstRef, KernelCall, reject

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


def ort_linear_taps(in_size: int, out_size: int, scale: float, coord: str) -> list[tuple[int, int, float, float]]:
    """(x1, x2, dx1, dx2) per output position, as onnxruntime's bilinear setup computes them."""
    f32 = np.float32
    taps = []
    for o in range(out_size):
        c = ort_source_coordinate(o, in_size, out_size, f32(scale), coord)
        c = f32(min(max(c, f32(0)), f32(in_size - 1)))
        x1 = min(int(c), in_size - 1)
        x2 = min(x1 + 1, in_size - 1)
        d1, d2 = (f32(0.5), f32(0.5)) if x1 == x2 else (f32(abs(c - f32(x1))), f32(abs(c - f32(x2))))
        taps.append((x1, x2, float(d1), float(d2)))
    return taps


def lower_ort_bilinear(op: Operator, inp: Tensor, out: Tensor) -> KernelCall:
    coord, scale_h, scale_w, offset = op.options["ort_linear"]
    if coord not in COORD_MODES or offset not in (0, 128):
        raise reject(op, f"onnxruntime linear Resize with coordinate mode {coord!r} and offset {offset}")
    n, h, w, c = inp.shape
    _, oh, ow, _ = out.shape
    ys, xs = ort_linear_taps(h, oh, scale_h, coord), ort_linear_taps(w, ow, scale_w, coord)
    rows = [v for y1, y2, _, _ in ys for v in (y1 * w * c, y2 * w * c)]
    cols = [v for x1, x2, _, _ in xs for v in (x1 * c, x2 * c)]
    row_w = [v for _, _, d1, d2 in ys for v in (d1, d2)]
    col_w = [v for _, _, d1, d2 in xs for v in (d1, d2)]
    return KernelCall(
        op=op,
        kernel="resize_s8_f32",
        function="mcf_resize_bilinear_trunc_s8",
        params_type="mcf_resize_bilinear_f32_params",
        params={"batches": n, "input_h": h, "input_w": w, "channels": c, "output_h": oh, "output_w": ow,
                "offset": int(offset), "rows": ConstRef("rows"), "cols": ConstRef("cols"),
                "row_weights": ConstRef("row_weights"), "col_weights": ConstRef("col_weights")},
        args=[op.inputs[0], op.outputs[0]],
        consts=[ConstArray("rows", "int32_t", np.array(rows, dtype=np.int32)),
                ConstArray("cols", "int32_t", np.array(cols, dtype=np.int32)),
                ConstArray("row_weights", "float", np.array(row_w, dtype=np.float32)),
                ConstArray("col_weights", "float", np.array(col_w, dtype=np.float32))],
        comment=f", {h}x{w} -> {oh}x{ow}, onnxruntime linear {coord}" + (", uint8" if offset else ""),
    )

