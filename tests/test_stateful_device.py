"""A streaming model on emulated Cortex-M4 (mps2_an386): the state persists across INFER_RUNs, every
step of a stream matches TFLite Micro run on the same sequence, RESET_STATE starts a new stream."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from stateful_models import ring_model

from mcuforge.generator.references import Reference
from mcuforge.hil.runner import TestReport as Report
from mcuforge.hil.runner import random_vectors, run_vectors
from mcuforge.hil.session import open_session

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")
                            and shutil.which("ninja")),
                       reason="needs arm-none-eabi-gcc, ninja and qemu-system-arm"),
]

STEPS = 12


def mcuforge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", *args], capture_output=True, text=True,
                          timeout=1800)


def _project(tmp_path: Path, model: Path) -> Path:
    project = tmp_path / "p"
    for cmd in (("new", str(project), "--model", str(model), "--board", "mps2_an386"), ("build", str(project))):
        proc = mcuforge(*cmd)
        assert proc.returncode == 0, proc.stderr
    return project


@pytest.fixture(scope="module")
def ring_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("ring")
    (tmp / "ring.tflite").write_bytes(ring_model())
    return _project(tmp, tmp / "ring.tflite")


def test_stream_bit_exact_through_the_cli(ring_project: Path) -> None:
    proc = mcuforge("test", str(ring_project), "--random", str(STEPS), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["passed"] == STEPS and all(v["max_abs_diff"] == 0 for v in report["vectors"])
    assert report["stream"] is True and all(v["state_match"] for v in report["vectors"])


def test_state_persists_and_reset_starts_a_new_stream(ring_project: Path) -> None:
    with open_session(ring_project) as s:
        vectors = random_vectors(s.graph, STEPS, seed=5)
        for _ in range(2):  # the second stream passes only if RESET_STATE put the state back
            report = run_vectors(s.device, s.graph, s.model_bytes, vectors,
                                 Report("ring", s.graph.sha256, s.board.id, s.url, 0.0))
            assert report.passed == STEPS, [v.error or v.max_abs_diff for v in report.vectors]
            assert all(v.state_match for v in report.vectors)  # the state read back, byte for byte
        # Without a reset the device continues the stream: it agrees with a reference that ran the
        # two streams back to back, not with one that starts afresh.
        extra = random_vectors(s.graph, 1, seed=99)[0][1]
        got = s.device.infer(extra).outputs
        ref = Reference(s.model_bytes)
        for _, xs in vectors:
            ref.run(xs, 2)
        continued = ref.run(extra, 2)
        ref.restart()
        fresh = ref.run(extra, 2)
        assert all(np.array_equal(g, w.reshape(g.shape)) for g, w in zip(got, continued, strict=True))
        assert not all(np.array_equal(g, w.reshape(g.shape)) for g, w in zip(got, fresh, strict=True))


def _zoo_streaming() -> list[Path]:
    zoo = os.environ.get("MCUFORGE_MODEL_ZOO")
    return sorted(Path(zoo).glob("microwakeword/*.tflite"))[:1] if zoo else []


@pytest.mark.skipif(not _zoo_streaming(), reason="set MCUFORGE_MODEL_ZOO to a folder with microwakeword/*.tflite")
def test_microwakeword_stream_on_device(tmp_path: Path) -> None:
    model = _zoo_streaming()[0]
    proc = mcuforge("inspect", str(model))
    if proc.returncode != 0:
        pytest.skip(f"{model.name} does not compile yet: {proc.stderr.strip()}")
    project = _project(tmp_path, model)
    proc = mcuforge("test", str(project), "--random", str(STEPS), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["passed"] == STEPS
