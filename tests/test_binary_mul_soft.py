"""QLinearMul without an FPU (binary_s8_f32.c, mcf_mul_row): the fixed-point route
(float_requant.mul_soft_constants) against the float32 formula it stands for (the product times the
ratio rounded to float32, plus the zero point rounded, then rounded half to even; that formula is
checked against onnxruntime's QLinearMul in test_onnx_ops.py), on every (a, b) pair of int8 values
for many scale and zero-point sets, raw int8 and raw uint8 (shift 128), including ratios whose
products land exactly halfway between two integers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mcuforge.generator.ops import float_requant
from mcuforge.generator.resources import runtime_dir

HARNESS = r"""
#include <stdio.h>
#include <string.h>
#include "binary_s8_f32.h"
/* per line: ratio_bits zp1 zp2 zo shift M; prints how many of the 65536 (a, b) pairs the fixed-point
 * route gives differently from the float32 formula, and how many outputs are not saturated */
int main(void)
{
    static int8_t x[65536], y[65536], o1[65536], o2[65536];
    int32_t v[6], dims[1] = {65536}, st[1] = {1};
    int i;
    for (i = 0; i < 65536; ++i) {
        x[i] = (int8_t)(i >> 8);
        y[i] = (int8_t)i;
    }
    while (scanf("%d %d %d %d %d %d", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) == 6) {
        mcf_binary_f32_params p = {0};
        int bad = 0, inside = 0;
        memcpy(&p.ratio1, &v[0], 4);
        p.input1_offset = -v[1];
        p.input2_offset = -v[2];
        p.fixed = (float)(v[3] + v[4]);
        p.out_offset = -v[4];
        p.raw_min = -128 + v[4];
        p.raw_max = 127 + v[4];
        p.act_min = -128;
        p.act_max = 127;
        p.ndims = 1;
        p.dims = dims;
        p.stride1 = st;
        p.stride2 = st;
        mcf_mul_s8_f32_ort(&p, x, y, o1);
        p.fx_shift = 32;
        p.fx_ratio1 = v[5];
        p.fx_fixed = v[3] + v[4];
        mcf_mul_s8_f32_ort(&p, x, y, o2);
        for (i = 0; i < 65536; ++i) {
            bad += o1[i] != o2[i];
            inside += o1[i] > -128 && o1[i] < 127;
        }
        printf("%d %d\n", bad, inside);
    }
    return 0;
}
"""


def _ratio_bits(r: float) -> int:
    return int(np.array([r], dtype=np.float32).view(np.uint32)[0])


def test_fixed_point_route_equals_the_float32_formula(tmp_path: Path) -> None:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("needs a host C compiler")
    kernels = runtime_dir() / "kernels"
    (tmp_path / "m.c").write_text(HARNESS)
    exe = tmp_path / "m"
    subprocess.run([cc, "-O2", "-DMCF_REQUANT_F32_SOFT=1", "-I", str(kernels), str(tmp_path / "m.c"),
                    str(kernels / "binary_s8_f32.c"), "-o", str(exe)], check=True)
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
    out = subprocess.run([str(exe)], input="\n".join(lines) + "\n", capture_output=True, text=True,
                         check=True).stdout.split()
    bad, inside = [int(v) for v in out[0::2]], [int(v) for v in out[1::2]]
    assert len(bad) == 240 and not any(bad), [(line, b) for line, b in zip(lines, bad, strict=True) if b]
    assert sum(inside) > 240 * 65536 // 4  # most outputs are not saturated: the route is really tested


def test_constants_refuse_what_the_bound_does_not_cover() -> None:
    assert float_requant.mul_soft_constants(_ratio_bits(0.5), 3) == (0, 0, 0)
    assert float_requant.mul_soft_constants(_ratio_bits(-0.01), 3) == (0, 0, 0)
    assert float_requant.mul_soft_constants(_ratio_bits(1e-40), 3) == (0, 0, 0)  # subnormal
    assert float_requant.mul_soft_constants(0x7F800000, 3) == (0, 0, 0)  # infinite
    assert float_requant.mul_soft_constants(_ratio_bits(0.25), -7) == (32, 2**30, -7)
