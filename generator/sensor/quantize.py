"""The quantization of a sensor pipeline's input: float32 → int8 or int16 exactly as the device does it.

One rule for the host reference (reference.py) and the camera's value table (pipeline.py), matching
TFLite's QUANTIZE and ``runtime/sensor/mcf_sensor.c``: q = y / scale in float32 (NaN → 0), rounded
half away from zero, plus the zero point, saturated to the integer type. Before rounding, q is
clamped to ±512 (int8) or ±131072 (int16), far enough out that every clamped value saturates
anyway (|zero point| ≤ 128 resp. 32768) and close enough in that the rounding stays exact in
float32 and int32.
"""

from __future__ import annotations

import numpy as np

__all__ = ["QUANTIZED_INPUTS", "quantize_input", "quantize_int8", "quantize_int16"]

#: dtype → (numpy type, min, max, clamp of y / scale before rounding), for the quantized inputs
#: the glue writes.
QUANTIZED_INPUTS: dict[str, tuple[type[np.integer], int, int, float]] = {
    "int8": (np.int8, -128, 127, 512.0),
    "int16": (np.int16, -32768, 32767, 131072.0),
}


def quantize_input(values: np.ndarray, dtype: str, scale: np.float32, zero_point: int) -> np.ndarray:
    """float32 → `dtype` ("int8" or "int16") as TFLite's QUANTIZE and mcf_sensor.c: division in
    float32, round half away from zero, saturation."""
    np_type, lo, hi, bound = QUANTIZED_INPUTS[dtype]
    with np.errstate(over="ignore", invalid="ignore"):
        q = np.asarray(values, dtype=np.float32) / np.float32(scale)
        q = np.where(np.isnan(q), np.float32(0), q)
        q = np.clip(q, np.float32(-bound), np.float32(bound))
        t = np.trunc(q)
        frac = q - t  # exact
    r = t.astype(np.int32) + (frac >= 0.5).astype(np.int32) - (frac <= -0.5).astype(np.int32)
    return np.clip(r + zero_point, lo, hi).astype(np_type)


def quantize_int8(values: np.ndarray, scale: np.float32, zero_point: int) -> np.ndarray:
    """float32 → int8 as TFLite's QUANTIZE and mcf_sensor.c: division in float32, round half away."""
    return quantize_input(values, "int8", scale, zero_point)


def quantize_int16(values: np.ndarray, scale: np.float32, zero_point: int) -> np.ndarray:
    """float32 → int16 as TFLite's QUANTIZE (16x8 models' inputs) and mcf_sensor.c."""
    return quantize_input(values, "int16", scale, zero_point)
