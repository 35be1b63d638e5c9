"""QUANTIZE and DEQUANTIZE with int16 on one side, reached from quantize.py.

float32 -> int16 divides in float32 and rounds halves away from zero (TFLite Micro's
AffineQuantize); between integer types it is TFLite Micro's Requantize (multiplier in double):
int8 -> int16 tabulated over the 256 input bytes, int16 -> int8 / int16 / int32 and int32 -> int16
computed per element.
DEQUANTIZE int16 -> float32 is one float32 multiply (see quantize_s16.h).
"""

from __future__ import annotations

import numpy as np

from ..ir import Operator, Tensor
from ..overlap import elementwise_min_shift
from ..quant import multiply_by_quantized_multiplier, quantize_multiplier
from .base import ConstArray, ConstRef, KernelCall, reject

_SIZES = {"int8": 1, "int16": 2, "int32": 4, "float32": 4}
QUANTIZE_PAIRS = (("float32", "int16"), ("int8", "int16"), ("int16", "int8"), ("int16", "int16"), ("int32", "int16"),
                  ("int16", "int32"))


def _checked(op: Operator, *tensors: Tensor) -> None:
    for t in tensors:
        if t.quant is None:
            raise reject(op, f"tensor '{t.name}' has no quantization parameters")
        if t.quant.per_channel:
            raise reject(op, f"tensor '{t.name}' is quantized per channel; only per-tensor is supported")


def _overlap(op: Operator, inp: Tensor, out: Tensor) -> dict[int, int]:
    return {op.inputs[0]: elementwise_min_shift(out.size, _SIZES[inp.dtype], _SIZES[out.dtype])}


def lower_quantize_s16(op: Operator, inp: Tensor, out: Tensor) -> KernelCall:
    if (inp.dtype, out.dtype) not in QUANTIZE_PAIRS:
        raise reject(op, f"{inp.dtype} -> {out.dtype} is not supported; with int16 only "
                         + ", ".join(f"{a} -> {b}" for a, b in QUANTIZE_PAIRS))
    _checked(op, out)
    overlap = _overlap(op, inp, out)
    if inp.dtype == "float32":
        return KernelCall(op=op, kernel="quantize_s16", function="mcf_quantize_f32_s16",
                          params_type="mcf_quantize_s16_params",
                          params={"size": out.size, "scale": out.scale, "zero_point": out.zero_point},
                          args=[op.inputs[0], op.outputs[0]], overlap=overlap, comment=", float32 -> int16")
    _checked(op, inp)
    mult, shift = quantize_multiplier(float(inp.scale) / float(out.scale))  # double, as its Prepare
    if inp.dtype == "int8":
        table = np.zeros(256, dtype=np.int16)
        for x in range(-128, 128):
            y = multiply_by_quantized_multiplier(x - inp.zero_point, mult, shift) + out.zero_point
            table[x & 0xFF] = min(32767, max(-32768, y))
        return KernelCall(op=op, kernel="quantize_s16", function="mcf_requantize_s8_s16",
                          params_type="mcf_requantize_s8_s16_params",
                          params={"size": out.size, "table": ConstRef("table")},
                          args=[op.inputs[0], op.outputs[0]], consts=[ConstArray("table", "int16_t", table)],
                          overlap=overlap, comment=", int8 -> int16 by 256-entry table")
    function = f"mcf_requantize_{inp.dtype.replace('int', 's')}_{out.dtype.replace('int', 's')}"
    return KernelCall(op=op, kernel="quantize_s16", function=function,
                      params_type="mcf_requantize_s16_params",
                      params={"size": out.size, "input_zero_point": inp.zero_point, "multiplier": mult,
                              "shift": shift, "output_zero_point": out.zero_point},
                      args=[op.inputs[0], op.outputs[0]], overlap=overlap, comment=f", {inp.dtype} -> {out.dtype}")


def lower_dequantize_s16(op: Operator, inp: Tensor, out: Tensor) -> KernelCall:
    if out.dtype != "float32":
        raise reject(op, f"{inp.dtype} -> {out.dtype} is not supported; only int16 -> float32")
    _checked(op, inp)
    return KernelCall(op=op, kernel="quantize_s16", function="mcf_dequantize_s16_f32",
                      params_type="mcf_dequantize_s16_params",
                      params={"size": out.size, "scale": inp.scale, "zero_point": inp.zero_point},
                      args=[op.inputs[0], op.outputs[0]], comment=", int16 -> float32")
