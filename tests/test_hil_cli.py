"""`mcuforge test` on emulated boards, through the CLI: every reference model, bit-exact, a valid
JUnit report, and instruction counts that repeat exactly from one run to the next."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from junitparser import JUnitXml

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")
                            and shutil.which("ninja")),
                       reason="needs arm-none-eabi-gcc, ninja and qemu-system-arm"),
]

MODELS = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8"]


def mcuforge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", *args], capture_output=True, text=True,
                          timeout=1800)


@pytest.mark.parametrize("board", ["mps2_an386", "mps2_an500"])
@pytest.mark.parametrize("model", MODELS)
def test_random_vectors_bit_exact_on_emulated_board(models_dir: Path, tmp_path: Path, model: str, board: str) -> None:
    project = tmp_path / "p"
    for cmd in (("new", str(project), "--model", str(models_dir / f"{model}.tflite"), "--board", board),
                ("build", str(project))):
        proc = mcuforge(*cmd)
        assert proc.returncode == 0, proc.stderr
    runs = []
    for k in range(2):
        junit = tmp_path / f"out{k}.xml"
        proc = mcuforge("test", str(project), "--random", "5", "--junit", str(junit), "--json")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        report = json.loads(proc.stdout)
        assert report["passed"] == 5 and report["failed"] == 0
        assert all(v["max_abs_diff"] == 0 and v["unit"] == "instructions" and v["elapsed"] > 0
                   for v in report["vectors"])
        xml = JUnitXml.fromfile(str(junit))
        suites = list(xml)
        assert len(suites) == 1 and suites[0].tests == 5 and suites[0].failures == 0 and suites[0].errors == 0
        runs.append([v["elapsed"] for v in report["vectors"]])
    assert runs[0] == runs[1], "instruction counts differ between two runs"
