"""Checks shared by the tests of models whose graph inputs are not int8 (int16 features, uint8
images): `mcuforge validate` with random and given inputs, and `mcuforge test` on an emulated
Cortex-M4 with random vectors and vectors from .npy files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

needs_firmware_tools = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("arm-none-eabi-gcc", "qemu-system-arm", "ninja", "cmake")),
    reason="needs arm-none-eabi-gcc, cmake, ninja and qemu-system-arm")


def mcuforge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", *args], capture_output=True, text=True,
                          timeout=1800)


def check_validate(model: Path, batch: np.ndarray, tmp_path: Path) -> None:
    """Random inputs, then `batch` (the input's type) from a file, are bit-exact; the same batch in
    int8 is a one-line usage error that names the input's type."""
    proc = mcuforge("validate", str(model), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["inputs"] > 0 and report["bit_exact"] == report["inputs"] and report["max_abs_diff"] == 0
    npy = tmp_path / "batch.npy"
    np.save(npy, batch)
    proc = mcuforge("validate", str(model), "--input", str(npy), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["inputs"] == len(batch) and report["bit_exact"] == len(batch)
    np.save(npy, batch.astype(np.int8))
    proc = mcuforge("validate", str(model), "--input", str(npy))
    assert proc.returncode == 2 and proc.stderr.startswith("error:") and str(batch.dtype) in proc.stderr
    assert "Traceback" not in proc.stderr


def check_on_cortex_m4(model: Path, tmp_path: Path, vectors: dict[str, np.ndarray] | None = None) -> None:
    """A CMake project for mps2_an386 passes `mcuforge test` with 3 random vectors (counted in
    instructions) and with `vectors` saved as .npy files."""
    project = tmp_path / "p"
    for cmd in (("new", str(project), "--model", str(model), "--board", "mps2_an386"), ("build", str(project))):
        proc = mcuforge(*cmd)
        assert proc.returncode == 0, proc.stderr
    proc = mcuforge("test", str(project), "--random", "3", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["passed"] == 3 and report["failed"] == 0
    assert all(v["max_abs_diff"] == 0 and v["unit"] == "instructions" for v in report["vectors"])
    if vectors:
        folder = tmp_path / "vectors"
        folder.mkdir()
        for name, data in vectors.items():
            np.save(folder / f"{name}.npy", data)
        proc = mcuforge("test", str(project), "--vectors", str(folder), "--json")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        report = json.loads(proc.stdout)
        assert report["passed"] == len(vectors) and report["failed"] == 0
