"""`mcuforge new/build/test` for the emulated RV32 board (qemu_riscv32, QEMU virt, bare-metal CMake
flavour): the four reference models bit-exact with TFLite Micro on random vectors, and instruction
counts (minstret) that repeat exactly from one run to the next. One firmware build per model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("riscv64-unknown-elf-gcc") and shutil.which("qemu-system-riscv32")
                            and shutil.which("ninja") and shutil.which("cmake")),
                       reason="needs riscv64-unknown-elf-gcc with picolibc, cmake, ninja and qemu-system-riscv32 "
                       "(Debian: gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc)"),
]

BOARD = "qemu_riscv32"
MODELS = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8"]
VECTORS = 3


def mcuforge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", *args], capture_output=True, text=True,
                          timeout=1800)


@pytest.mark.parametrize("model", MODELS)
def test_random_vectors_bit_exact_on_rv32(models_dir: Path, tmp_path: Path, model: str) -> None:
    project = tmp_path / "p"
    for cmd in (("new", str(project), "--model", str(models_dir / f"{model}.tflite"), "--board", BOARD),
                ("build", str(project))):
        proc = mcuforge(*cmd)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    generated = project / "mcuforge_model" / "ports" / "baremetal"
    assert (generated / "riscv").is_dir() and not (generated / "arm").exists()
    runs = []
    for _ in range(2):
        proc = mcuforge("test", str(project), "--random", str(VECTORS), "--json")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        report = json.loads(proc.stdout)
        assert report["passed"] == VECTORS and report["failed"] == 0
        assert all(v["max_abs_diff"] == 0 and v["unit"] == "instructions" and v["elapsed"] > 0
                   for v in report["vectors"])
        runs.append([v["elapsed"] for v in report["vectors"]])
    assert runs[0] == runs[1], "instruction counts differ between two runs"
