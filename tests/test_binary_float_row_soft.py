"""SUB, and ADD / MUL between DequantizeLinear and QuantizeLinear, without an FPU (binary_s8_f32.c,
mcf_float_row): the fixed-point route (float_requant.float_row_constants) against the float32 formula
it stands for (two table dequantizations, the operation, the division by the output scale, rounding
half to even; that formula is checked against onnxruntime in test_onnx_ops.py), on every (a, b) pair
of int8 values for many scale and zero-point sets, including scales whose results land exactly
halfway between two integers. With its constant one unit low and no margin (a planted error) the
route must go wrong on those."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pair_harness import pair_harness, run_pairs

from mcuforge.generator.ops import float_requant

# per line: scale1_bits zp1 scale2_bits zp2 out_scale_bits zo, then the route's six constants
SETUP = """
        static float t1[256], t2[256];
        int j;
        float s1, s2;
        memcpy(&s1, &v[0], 4);
        memcpy(&s2, &v[2], 4);
        memcpy(&p.out_scale, &v[4], 4);
        for (j = -128; j < 128; ++j) {
            t1[(uint8_t)j] = s1 * (float)(j - v[1]);
            t2[(uint8_t)j] = s2 * (float)(j - v[3]);
        }
        p.dequant1 = t1;
        p.dequant2 = t2;
        p.input1_offset = -v[1];
        p.input2_offset = -v[3];
        p.out_zero_point = v[5];"""
ROUTE = """
        p.fx_shift = v[6];
        p.fx_ratio1 = v[7];
        p.fx_ratio2 = v[8];
        p.fx_fixed = v[9];
        p.fx_fixed_hi = v[10];
        p.fx_margin = (uint32_t)v[11];"""
FUNCTIONS = {"SUB": "mcf_sub_s8_f32_ort", "ADD": "mcf_add_s8_f32_dq", "MUL": "mcf_mul_s8_f32_dq"}


def _bits(x: float) -> int:
    return int(np.array([x], dtype=np.float32).view(np.int32)[0])


def _lines(opcode: str, count: int, seed: int, cut: bool = False) -> list[str]:
    rng = np.random.default_rng(seed)
    lines = []
    for j in range(count):
        zp1, zp2, zo = (int(z) for z in rng.integers(-128, 128, 3))
        so = float(np.float32(2.0 ** rng.uniform(-9, -3)))
        if j % 3 == 0:  # powers of two: many results exactly halfway (ties)
            so = float(np.float32(2.0 ** -rng.integers(3, 8)))
            s1 = so * 2.0 ** -int(rng.integers(1, 4))
            s2 = so * 2.0 ** (-int(rng.integers(1, 4)) + (6 if opcode == "MUL" else 0))
            if opcode == "MUL":
                s1, s2 = so * 2.0 ** -int(rng.integers(3, 7)), 2.0 ** -int(rng.integers(1, 5))
        elif opcode == "MUL":
            s1, s2 = so * float(rng.uniform(0.01, 0.2)), float(2.0 ** rng.uniform(-8, 0))
        else:
            s1, s2 = so * float(rng.uniform(0.2, 1.5)), so * float(rng.uniform(0.2, 1.5))
        s1, s2 = float(np.float32(s1)), float(np.float32(s2))
        c = float_requant.float_row_constants(opcode, s1, zp1, s2, zp2, so)
        assert c["fx_shift"] > 0, (opcode, s1, s2, so)
        k = (c["fx_fixed_hi"] << 32 | (c["fx_fixed"] & 0xFFFFFFFF)) - (1 if cut else 0)  # planted: one unit low
        margin = 0 if cut else c["fx_margin"]
        words = [c["fx_shift"], c["fx_ratio1"], c["fx_ratio2"], k & 0xFFFFFFFF, (k >> 32) & 0xFFFFFFFF, margin]
        words = [int(np.int64(w).astype(np.int32)) if w >= 2**31 else w for w in words]
        lines.append(" ".join(str(w) for w in [_bits(s1), zp1, _bits(s2), zp2, _bits(so), zo, *words]))
    return lines


@pytest.mark.parametrize("opcode", list(FUNCTIONS))
def test_fixed_point_route_equals_the_float32_formula(tmp_path: Path, opcode: str) -> None:
    harness = pair_harness("binary_s8_f32.h", "mcf_binary_f32_params", FUNCTIONS[opcode], 12, SETUP, ROUTE)
    lines = _lines(opcode, 90, seed=len(opcode))
    bad, inside = run_pairs(tmp_path, harness, "binary_s8_f32.c", lines)
    assert not any(bad), [(line, b) for line, b in zip(lines, bad, strict=True) if b]
    assert sum(inside) > len(lines) * 65536 // 4  # most outputs are not saturated: the route is really tested
    cut, _ = run_pairs(tmp_path, harness, "binary_s8_f32.c", _lines(opcode, 30, seed=len(opcode), cut=True))
    assert sum(cut) > 0  # the planted error shows on the ties: the comparison can fail


def test_route_refused_where_the_margin_is_not_small() -> None:
    # a product scale so large that half a unit per unit of |A B| no longer fits the words
    assert float_requant.float_row_constants("MUL", 1e6, 0, 1e6, 0, 1e-6)["fx_shift"] == 0
    c = float_requant.float_row_constants("SUB", 0.02, 3, 0.02, -5, 0.04)
    assert c["fx_shift"] == 31 and c["fx_ratio2"] == -c["fx_ratio1"] == -(2**30)
