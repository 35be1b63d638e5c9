"""TFLite Micro's 513-entry int16 lookup tables (LUTPopulate for int16), computed in float32.

An int16 value v selects entry 256 + (v >> 7) and interpolates towards the next one with its low
seven bits (runtime/kernels/softmax_s16.c). Each entry is the function's sample on the output
grid, lowered by half the error that linear interpolation makes at the middle of its step. Every
float step below is one float32 operation, as in TFLite Micro's Prepare (std::round on floats).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import numpy as np

F32 = np.float32
LUT16_SIZE = 513


def _round(x: np.float32) -> np.float32:
    v = float(x)
    return F32(math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5))


def populate(input_scale: np.float32, input_zero_point: int, output_scale: np.float32, output_zero_point: int,
             fn: Callable[[np.float32], np.float32]) -> np.ndarray:
    input_min = F32(input_scale) * F32(-32768 - input_zero_point)
    input_max = F32(input_scale) * F32(32767 - input_zero_point)
    output_min = F32(output_scale) * F32(-32768 - output_zero_point)
    output_max = F32(output_scale) * F32(32767 - output_zero_point)
    step = (input_max - input_min) / F32(512)
    half = step / F32(2)
    inv = F32(65536) / (output_max - output_min)
    lo, hi = F32(-32768), F32(32767)
    table = np.zeros(LUT16_SIZE, dtype=np.int16)
    for i in range(512):
        x = input_min + F32(i) * step
        sample = _round(fn(x) * inv)
        interpolated = _round((fn(input_min + F32(i + 1) * step) * inv + sample) / F32(2))
        bias = _round((interpolated - _round(fn(x + half) * inv)) / F32(2))
        table[i] = int(min(max(sample - bias, lo), hi))
    table[512] = int(min(max(_round(fn(input_max) * inv), lo), hi))
    return table


def _exp(x: np.float32) -> np.float32:
    # expf rounded from double: on the tables' arguments this equals glibc's expf, which the
    # interpreter calls (tests/test_int16_ops.py checks the whole softmax against it).
    return F32(math.exp(float(x)))


def _one_over_one_plus(x: np.float32) -> np.float32:
    return F32(1.0) / (F32(1.0) + F32(x))


@cache
def softmax_luts() -> tuple[np.ndarray, np.ndarray]:
    """(exp over [-10, 0], 1 / (1 + x) over [0, 1]) as int16 softmax uses them."""
    span = 32767 - (-32768)
    exp_lut = populate(F32(10.0) / F32(span), 32767, F32(2.0) / F32(span), 0, _exp)
    recip_lut = populate(F32(1.0) / F32(span), -32768, F32(2.0) / F32(span), 0, _one_over_one_plus)
    return exp_lut, recip_lut
