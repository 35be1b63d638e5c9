"""QUANTIZE of float32 inputs without an FPU (quantize.c, `mcf_quantize_fixed`): the fixed-point
reciprocal route (quantize.soft_reciprocal) against the float32 division it stands for, with both
roundings (TFLite's half away from zero, onnxruntime's half to even), on a million inputs per
scale set: random values over and past the int8 range, exact ties (k + 1/2) * scale, their float
neighbours, zeros, subnormals, infinities and NaN. A planted error (the reciprocal one unit off,
the margin ignored) must show."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pair_harness import run_harness

from mcuforge.generator.ops.quantize import soft_reciprocal

HARNESS = r"""
#include <stdio.h>
#include <string.h>
#include "quantize.h"
static uint32_t state = 12345u;
static uint32_t rnd(void) { state = state * 1664525u + 1013904223u; return state; }
int main(void)
{
    static float x[1 << 20];
    static int8_t a[1 << 20], b[1 << 20];
    unsigned sbits, recip, planted;
    int shift, zp;
    while (scanf("%u %d %u %d %u", &sbits, &zp, &recip, &shift, &planted) == 5) {
        mcf_quantize_params p;
        float s;
        int i, r, bad = 0;
        memcpy(&s, &sbits, 4);
        for (i = 0; i < (1 << 20); ++i) {
            const uint32_t k = rnd();
            float v;
            switch (k % 8u) {
            case 0: case 1: case 2: v = ((float)(int32_t)(rnd() >> 8) / 16777216.0f) * 300.0f * s; break;
            case 3: case 4: v = ((float)((int32_t)(rnd() % 600u) - 300) + 0.5f) * s; break; /* ties */
            case 5: { uint32_t w; v = ((float)((int32_t)(rnd() % 600u) - 300) + 0.5f) * s;
                      memcpy(&w, &v, 4); w += (k >> 8) % 3u - 1u; memcpy(&v, &w, 4); break; } /* next to them */
            case 6: v = ((float)(int32_t)rnd() / 2147483648.0f) * 1e6f * s; break; /* far */
            default: { uint32_t w = rnd(); if ((k >> 8) % 4u == 0u) w &= 0x807FFFFFu; memcpy(&v, &w, 4); } /* bits */
            }
            x[i] = v;
        }
        for (r = 0; r < 2; ++r) {
            p.size = 1 << 20;
            p.scale = s;
            p.zero_point = zp;
            p.fx_recip = 0u;
            p.fx_shift = 0;
            (r ? mcf_quantize_f32_s8_rne : mcf_quantize_f32_s8)(&p, x, a);
            p.fx_recip = recip + planted;
            p.fx_shift = shift;
            (r ? mcf_quantize_f32_s8_rne : mcf_quantize_f32_s8)(&p, x, b);
            for (i = 0; i < (1 << 20); ++i) {
                bad += a[i] != b[i];
            }
        }
        printf("%d\n", bad);
    }
    return 0;
}
"""


def _run(tmp_path: Path, lines: list[str]) -> list[int]:
    return [int(v) for v in run_harness(tmp_path, HARNESS, "quantize.c", lines)]


def _lines(planted: int = 0) -> list[str]:
    rng = np.random.default_rng(5)
    scales = [2.0**-7, 1.0, 0.00392156862745098, 1.7e-5, 3.3e4]
    scales += [float(2.0 ** rng.uniform(-20, 10)) for _ in range(11)]
    lines = []
    for j, s in enumerate(scales):
        s32 = np.float32(s)
        c = soft_reciprocal(float(s32))
        assert 2**31 <= c["fx_recip"] < 2**32
        bits = int(np.array([s32]).view(np.uint32)[0])
        lines.append(f"{bits} {int(rng.integers(-128, 128)) if j else 0} {c['fx_recip']} {c['fx_shift']} {planted}")
    return lines


def test_fixed_point_route_equals_the_float32_division(tmp_path: Path) -> None:
    assert _run(tmp_path, _lines()) == [0] * 16
    assert sum(_run(tmp_path, _lines(planted=2**20))) > 0  # a planted error shows


def test_route_not_taken_for_odd_scales() -> None:
    assert soft_reciprocal(0.0)["fx_recip"] == 0
    assert soft_reciprocal(float("inf"))["fx_recip"] == 0
    assert soft_reciprocal(1e-40)["fx_recip"] == 0  # subnormal
    assert soft_reciprocal(0.5) == {"fx_recip": 2**31, "fx_shift": 150 + 30 - 32}
