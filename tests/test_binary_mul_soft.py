"""QLinearMul without an FPU (binary_s8_f32.c, mcf_mul_row): the fixed-point route
(float_requant.mul_soft_constants) against the float32 formula it stands for (the product times the
ratio rounded to float32, plus the zero point rounded, then rounded half to even; that formula is
checked against onnxruntime's QLinearMul in test_onnx_ops.py), on every (a, b) pair of int8 values
for many scale and zero-point sets, raw int8 and raw uint8 (shift 128), including ratios whose
products land exactly halfway between two integers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pair_harness import pair_harness, run_pairs

from mcuforge.generator.ops import float_requant

# per line: ratio_bits zp1 zp2 zo shift M; the float32 formula, then the fixed-point route
HARNESS = pair_harness("binary_s8_f32.h", "mcf_binary_f32_params", "mcf_mul_s8_f32_ort", 6, """
        memcpy(&p.ratio1, &v[0], 4);
        p.input1_offset = -v[1];
        p.input2_offset = -v[2];
        p.fixed = (float)(v[3] + v[4]);
        p.out_offset = -v[4];
        p.raw_min = -128 + v[4];
        p.raw_max = 127 + v[4];""", """
        p.fx_shift = 32;
        p.fx_ratio1 = v[5];
        p.fx_fixed = v[3] + v[4];""")


def _ratio_bits(r: float) -> int:
    return int(np.array([r], dtype=np.float32).view(np.uint32)[0])


def test_fixed_point_route_equals_the_float32_formula(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    lines = []
    for j in range(240):
        shift = 128 if j % 2 else 0
        if j % 3 == 0:  # 1 / 2^k: products on exact halves (ties) and quarters
            ratio = float(np.float32(2.0 ** -rng.integers(2, 12)))
        else:  # typical: scale1 * scale2 / out_scale around 1/255, and wider
            ratio = float(np.float32(2.0 ** rng.uniform(-14, -1.05)))
        zp1, zp2, zo = (int(z) for z in rng.integers(-128, 128, 3))
        f, m, z = float_requant.mul_soft_constants(_ratio_bits(ratio), zo + shift)
        assert (f, z) == (32, zo + shift) and 0 < m < 2**31
        lines.append(f"{np.int64(_ratio_bits(ratio)).astype(np.int32)} {zp1} {zp2} {zo} {shift} {m}")
    bad, inside = run_pairs(tmp_path, HARNESS, "binary_s8_f32.c", lines)
    assert len(bad) == 240 and not any(bad), [(line, b) for line, b in zip(lines, bad, strict=True) if b]
    assert sum(inside) > 240 * 65536 // 4  # most outputs are not saturated: the route is really tested


def test_constants_refuse_what_the_bound_does_not_cover() -> None:
    assert float_requant.mul_soft_constants(_ratio_bits(0.5), 3) == (0, 0, 0)
    assert float_requant.mul_soft_constants(_ratio_bits(-0.01), 3) == (0, 0, 0)
    assert float_requant.mul_soft_constants(_ratio_bits(1e-40), 3) == (0, 0, 0)  # subnormal
    assert float_requant.mul_soft_constants(0x7F800000, 3) == (0, 0, 0)  # infinite
    assert float_requant.mul_soft_constants(_ratio_bits(0.25), -7) == (32, 2**30, -7)
