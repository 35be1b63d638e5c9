"""The pytest plugin, as a user meets it: the HIL tests a generated project ships, run with pytest."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mcuforge.generator.build import build_project
from mcuforge.generator.scaffold import new_project

needs_qemu = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm") and shutil.which("ninja")),
    reason="needs arm-none-eabi-gcc, ninja and qemu-system-arm")


def _pytest(project: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "hil_tests",
                           "--mcuforge-project", str(project), *extra], capture_output=True, text=True,
                          cwd=project, timeout=600)


@pytest.mark.slow
@needs_qemu
def test_generated_hil_tests_pass_on_the_emulated_board(models_dir: Path, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    new_project(project, models_dir / "ad01_int8.tflite", "mps2_an500")
    build_project(project)
    proc = _pytest(project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout


def test_dut_fixture_reports_a_missing_build_clearly(models_dir: Path, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    new_project(project, models_dir / "ad01_int8.tflite", "mps2_an385")
    proc = _pytest(project)
    assert proc.returncode != 0
    assert "mcuforge: no firmware at" in proc.stdout and "mcuforge build" in proc.stdout
    assert "Traceback" not in proc.stdout
