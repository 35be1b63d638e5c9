"""conv2d_s8_fsum's integer float32 arithmetic (cores without an FPU) is IEEE's, bit for bit.

On Cortex-M0/M3 and RV32 without F, conv2d_s8_fsum computes onnxruntime's float convolution with
integer code: fused multiply-adds (_gemm), rounded products and sums (_m1, _dw, _n1), the
DequantizeLinear of its inputs. tests/c/fsum_soft_fma.c includes the kernel built for that route
on the host (-DMCF_REQUANT_F32_SOFT=1) and compares every result with the host's own IEEE single
precision (glibc's exact fmaf, SSE's float * and +) on millions of operands: the kernel's
ranges, ties (products half an ulp of the addend, products halfway between two floats, ties the
sticky bits decide), carries into the next binade, cancellation to zero and its sign, exponent gaps
beyond the 64-bit window, subnormal and overflowing results, zeros, infinities and NaNs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT / "tests" / "c" / "fsum_soft_fma.c"

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exe = tmp_path_factory.mktemp("fsum") / "fsum_soft_fma"
    subprocess.run(["gcc", "-O2", "-std=c99", "-DMCF_REQUANT_F32_SOFT=1", "-I", str(ROOT / "runtime" / "kernels"),
                    str(HARNESS), "-lm", "-o", str(exe)], check=True, capture_output=True, text=True)
    return exe


@pytest.mark.parametrize("op", ["fma", "fma_exact", "mul", "add", "deq"])
@pytest.mark.parametrize("seed", [1, 2])
def test_integer_route_equals_ieee(harness: Path, op: str, seed: int) -> None:
    r = subprocess.run([str(harness), op, "2000000", str(seed)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().endswith("differing 0"), r.stdout
