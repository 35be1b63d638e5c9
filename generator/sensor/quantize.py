"""The int8 quantization of a sensor pipeline's input: float32 → int8 exactly as the device does it.

One rule for the host reference (reference.py) and the camera's value table (pipeline.py), matching
TFLite's QUANTIZE and ``runtime/sensor/mcf_sensor.c``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["quantize_int8"]


def quantize_int8(values: np.ndarray, scale: np.float32, zero_point: int) -> np.ndarray:
    """float32 → int8 as TFLite's QUANTIZE and mcf_sensor.c: division in float32, round half away."""
    with np.errstate(over="ignore", invalid="ignore"):
        q = np.asarray(values, dtype=np.float32) / np.float32(scale)
        q = np.where(np.isnan(q), np.float32(0), q)
        q = np.clip(q, np.float32(-512), np.float32(512))
        t = np.trunc(q)
        frac = q - t  # exact
    r = t.astype(np.int32) + (frac >= 0.5).astype(np.int32) - (frac <= -0.5).astype(np.int32)
    return np.clip(r + zero_point, -128, 127).astype(np.int8)
