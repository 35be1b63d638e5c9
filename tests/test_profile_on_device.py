"""Per-layer profile on an emulated board (mps2_an386, bare-metal CMake flavor, QEMU -icount):
`mcuforge test --profile` gives a row for every operator, operators without a kernel call are 0,
the per-operator instructions add up to the per-inference total the device reports (less the call to
invoke() and one counter reading), two runs give identical profiles, the outputs stay bit-exact; the
Python API (`measure_profile`) agrees; firmware built without the profile is refused in one line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends import read_model
from mcuforge.generator.ops.base import Alias
from mcuforge.generator.references import Reference
from mcuforge.generator.validate import random_inputs

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")
                            and shutil.which("ninja")),
                       reason="needs arm-none-eabi-gcc, ninja and qemu-system-arm"),
]

REPO = Path(__file__).resolve().parents[1]
BOARD = "mps2_an386"
# invoke() measured around the call minus the sum over operators: the call itself and the first counter
# reading (on this port both ends of a reading are a few dozen instructions; 280 measured, 7 ticks of 40).
MAX_OVERHEAD = 400


def mcuforge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", *args], capture_output=True, text=True,
                          timeout=1800)


@pytest.mark.parametrize("model", ["kws_ref_model", "pretrainedResnet_quant"])
def test_profile_of_every_operator_adds_up_and_repeats(models_dir: Path, tmp_path: Path, model: str) -> None:
    project = tmp_path / "p"
    for cmd in (("new", str(project), "--model", str(models_dir / f"{model}.tflite"), "--board", BOARD, "--profile"),
                ("build", str(project))):
        proc = mcuforge(*cmd)
        assert proc.returncode == 0, proc.stderr
    assert "profile: true" in (project / "mcuforge.yaml").read_text()
    cm = compile_graph(read_model(models_dir / f"{model}.tflite"))
    profiles = []
    for _ in range(2):
        proc = mcuforge("test", str(project), "--random", "2", "--profile", "--json")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        report = json.loads(proc.stdout)
        assert report["passed"] == 2 and all(v["max_abs_diff"] == 0 for v in report["vectors"])
        prof = report["profile"]
        assert prof["unit"] == "instructions" and prof["elapsed"] == report["vectors"][-1]["elapsed"]
        layers = prof["layers"]
        assert [layer["index"] for layer in layers] == list(range(len(cm.graph.operators)))
        for layer, step in zip(layers, cm.steps, strict=True):
            assert layer["op"] == step.op.opcode
            if isinstance(step, Alias):
                assert layer["alias"] and layer["ticks"] == 0, layer
            else:
                assert not layer["alias"] and layer["ticks"] > 0 and layer["macs"] == step.macs, layer
        assert prof["total"] == sum(layer["ticks"] for layer in layers)
        # the empty region (one counter reading) measured in the same invoke, subtracted from each operator
        cal = prof["calibration"]
        assert 0 < cal <= MAX_OVERHEAD and prof["net_total"] == sum(layer["net"] for layer in layers), prof
        assert all(layer["net"] == (0 if layer["alias"] else max(layer["ticks"] - cal, 0)) for layer in layers)
        assert 0 <= prof["elapsed"] - prof["total"] - cal <= MAX_OVERHEAD, prof
        profiles.append([layer["ticks"] for layer in layers])
    assert profiles[0] == profiles[1], "per-operator instruction counts differ between two runs"

    # The table the user sees.
    proc = mcuforge("test", str(project), "--random", "1", "--profile")
    assert proc.returncode == 0, proc.stderr
    assert "per-layer profile of random-0-0" in proc.stdout and "sum of operators" in proc.stdout
    assert "RESHAPE (alias)" in proc.stdout

    if model == "kws_ref_model":  # the API the bench uses: one inference, outputs bit-exact
        from mcuforge.hil.profile import measure_profile, render_markdown

        x = random_inputs(cm.graph, 1, 5)[0]
        run = measure_profile(project, x)
        want = Reference((models_dir / f"{model}.tflite").read_bytes()).run(x, len(cm.graph.outputs))
        assert all(np.array_equal(g.reshape(-1), w.reshape(-1)) for g, w in zip(run.outputs, want, strict=True))
        assert len(run.layers) == len(cm.graph.operators) and 0 <= run.overhead <= MAX_OVERHEAD
        assert run.board == BOARD and "| 0 | CONV_2D |" in render_markdown(run)


def test_profile_of_firmware_without_it_is_one_line_with_the_hint(tmp_path: Path) -> None:
    project = tmp_path / "p"
    for cmd in (("new", str(project), "--model", str(REPO / "examples" / "models" / "gesture_mlp_int8.tflite"),
                 "--board", BOARD), ("build", str(project))):
        proc = mcuforge(*cmd)
        assert proc.returncode == 0, proc.stderr
    proc = mcuforge("test", str(project), "--random", "1", "--profile")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("error: --profile: the firmware of p records no per-operator profile"), lines
    assert lines[1].startswith("Hint:") and "profile: true" in lines[1] and "--profile" in lines[1]


@pytest.mark.skipif(not os.environ.get("ZEPHYR_BASE"), reason="needs a Zephyr tree (ZEPHYR_BASE; see "
                    "tests/test_project_zephyr.py)")
def test_profile_on_zephyr_in_qemu(models_dir: Path, tmp_path: Path) -> None:
    """The Zephyr flavor on mps2_an385 in QEMU: instructions (the port's re-based CMSDK timer under
    -icount; never "cycles" in an emulator), every operator, aliases 0, the sum within 1% of invoke()."""
    project = tmp_path / "z"
    for cmd in (("new", str(project), "--model", str(models_dir / "kws_ref_model.tflite"), "--board", "mps2_an385",
                 "--framework", "zephyr", "--profile"), ("build", str(project))):
        proc = mcuforge(*cmd)
        assert proc.returncode == 0, proc.stderr
    proc = mcuforge("test", str(project), "--random", "1", "--profile", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    prof = report["profile"]
    assert report["passed"] == 1 and prof["unit"] == "instructions"
    layers = prof["layers"]
    assert len(layers) == 13 and all((layer["ticks"] == 0) == layer["alias"] for layer in layers)
    assert 0 <= prof["elapsed"] - prof["total"] <= prof["elapsed"] // 100
