"""Quantization arithmetic done ahead of time, matching TFLite Micro's reference bit for bit.

These functions are the "Prepare" half of every kernel: the C side only ever sees the integer
multipliers, shifts and clamps computed here. Float steps are carried out in the same precision
TFLite Micro uses (double for multipliers, float32 for activation ranges).
"""

from __future__ import annotations

import math

import numpy as np

INT8_MIN, INT8_MAX = -128, 127


def tflite_round(x: float) -> int:
    """std::round: halves go away from zero (Python's round() goes to even)."""
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """Real multiplier → (int32 Q31 multiplier, shift); shift > 0 means a left shift.

    Same algorithm as TFLite's QuantizeMultiplier (double-rounding build): frexp into [0.5, 1),
    round to Q31, renormalise 2^31, flush multipliers below 2^-31 to zero.
    """
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = tflite_round(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def quantize_multipliers(reals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pairs = [quantize_multiplier(float(r)) for r in reals]
    return (np.array([m for m, _ in pairs], dtype=np.int32), np.array([s for _, s in pairs], dtype=np.int32))


def quantize_value(f: float, scale: float, zero_point: int) -> int:
    """zero_point + round(f / scale), with the division in float32 as TFLite does."""
    q = np.float32(f) / np.float32(scale)
    return zero_point + tflite_round(float(q))


def activation_range(activation: str, scale: float, zero_point: int,
                     qmin: int = INT8_MIN, qmax: int = INT8_MAX) -> tuple[int, int]:
    """Clamp bounds for a fused activation on a quantized output (CalculateActivationRangeQuantized)."""
    if activation in ("NONE", None):
        return qmin, qmax
    if activation == "RELU":
        return max(qmin, quantize_value(0.0, scale, zero_point)), qmax
    if activation == "RELU6":
        return (max(qmin, quantize_value(0.0, scale, zero_point)),
                min(qmax, quantize_value(6.0, scale, zero_point)))
    if activation == "RELU_N1_TO_1":
        return (max(qmin, quantize_value(-1.0, scale, zero_point)),
                min(qmax, quantize_value(1.0, scale, zero_point)))
    raise ValueError(f"fused activation {activation} has no quantized form")


# ---- integer reference helpers (used by tests and the host-side sensor pipeline) ----

def saturating_rounding_doubling_high_mul(a: int, b: int) -> int:
    if a == b == -(1 << 31):
        return (1 << 31) - 1
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    v = ab + nudge
    # C++ integer division truncates toward zero
    q = abs(v) // (1 << 31)
    return q if v >= 0 else -q


def rounding_divide_by_pot(x: int, exponent: int) -> int:
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def multiply_by_quantized_multiplier(x: int, multiplier: int, shift: int) -> int:
    left = shift if shift > 0 else 0
    right = -shift if shift < 0 else 0
    v = x * (1 << left)
    v = ((v + (1 << 31)) % (1 << 32)) - (1 << 31)  # int32 wrap like the C code
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(v, multiplier), right)
