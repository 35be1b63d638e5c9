"""Shared by the sensor tests: small int8-input IMU models and recordings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tflite_builder import Op, T, build, options, rng_int8

REPO = Path(__file__).resolve().parents[1]
GESTURE = REPO / "examples" / "models" / "gesture_mlp_int8.tflite"
GESTURE_SET = REPO / "examples" / "models" / "gesture_test_set.npz"

IN_SCALE = 0.0234375  # ±3 g over int8, like the gesture model's first QUANTIZE
IN_ZERO = -3


def int8_imu_model(shape: tuple[int, ...] = (1, 32, 3), units: int = 4, seed: int = 0) -> bytes:
    """int8 input `shape` (96 values: 32 samples × 3 axes in some layout) → RESHAPE [1, 96] →
    FULLY_CONNECTED → int8 [1, units]: the model itself does not quantize, so the sensor glue does."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    w = T((units, n), "int8", 0.01, 0, data=rng_int8(rng, (units, n)))
    b = T((units,), "int32", IN_SCALE * 0.01, 0, data=rng.integers(-3000, 3000, units).astype(np.int32))
    tensors = [T(shape, "int8", IN_SCALE, IN_ZERO, name="imu_window"),
               T((2,), "int32", data=np.array([1, n], dtype=np.int32)),
               T((1, n), "int8", IN_SCALE, IN_ZERO), w, b, T((1, units), "int8", 0.05, 0, name="scores")]
    return build(tensors, [Op("RESHAPE", [0, 1], [2], options("ReshapeOptions", newShape=[1, n])),
                           Op("FULLY_CONNECTED", [2, 3, 4], [5], options("FullyConnectedOptions"))], [0], [5])


def gesture_recording(windows: int, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Held-out gesture windows back to back: float32 [windows * 32, 3] in g, and their labels."""
    d = np.load(GESTURE_SET)
    x = d["x"][start:start + windows].reshape(-1, 3).astype(np.float32)
    return x, d["y"][start:start + windows]


def write_csv(path: Path, samples: np.ndarray, channels: list[str], rate_hz: float | None = None) -> Path:
    """A CSV with a header; with rate_hz, a leading time column `t` in seconds."""
    cols = (["t"] if rate_hz else []) + channels
    lines = [",".join(cols)]
    for i, row in enumerate(samples):
        vals = ([f"{i / rate_hz:.6f}"] if rate_hz else []) + [repr(float(v)) for v in row]
        lines.append(",".join(vals))
    path.write_text("\n".join(lines) + "\n")
    return path
