"""Bad input: one clear line on stderr, exit status 2, no traceback, nothing left behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tflite_builder import T, options, single_op


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def assert_clean_failure(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    first = proc.stderr.strip().splitlines()[0]
    assert first.startswith("error: ")
    for n in needles:
        assert n in proc.stderr, proc.stderr


@pytest.fixture()
def bad_models(tmp_path: Path, models_dir: Path) -> dict[str, Path]:
    good = (models_dir / "kws_ref_model.tflite").read_bytes()
    files = {
        "empty": b"",
        "random": np.random.default_rng(0).integers(0, 256, 5000).astype(np.uint8).tobytes(),
        "truncated": good[: len(good) // 3],
        "float": single_op("FULLY_CONNECTED",
                           [T((1, 4), "float32"), T((2, 4), "float32", data=np.ones((2, 4), np.float32))],
                           [T((1, 2), "float32")], options("FullyConnectedOptions")),
        "unsupported": single_op("SEGMENT_SUM", [T((1, 4), "int8", 0.1, 0)], [T((1, 4), "int8", 0.1, 0)]),
    }
    out = {}
    for name, data in files.items():
        p = tmp_path / f"{name}.tflite"
        p.write_bytes(data)
        out[name] = p
    return out


@pytest.mark.parametrize("kind,needle", [
    ("empty", "empty"),
    ("random", "not a TFLite model"),
    ("truncated", "truncated or corrupted"),
    ("float", "float32 only"),
    ("unsupported", "SEGMENT_SUM (operator 0)"),
])
@pytest.mark.parametrize("command", ["compile", "validate", "inspect"])
def test_bad_model(bad_models: dict[str, Path], tmp_path: Path, kind: str, needle: str, command: str) -> None:
    out = tmp_path / f"out-{kind}"
    args = [command, str(bad_models[kind])] + (["-o", str(out)] if command == "compile" else [])
    proc = run_cli(*args)
    assert_clean_failure(proc, needle)
    assert not out.exists()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out-")]
    assert leftovers == []


def test_missing_file(tmp_path: Path) -> None:
    assert_clean_failure(run_cli("validate", str(tmp_path / "nope.tflite")), "not found")
    assert_clean_failure(run_cli("compile", str(tmp_path / "nope.tflite"), "-o", str(tmp_path / "o")), "not found")
    assert not (tmp_path / "o").exists()


def test_existing_output_folder_is_kept(tmp_path: Path, models_dir: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my own file")
    proc = run_cli("compile", str(models_dir / "ad01_int8.tflite"), "-o", str(out))
    assert_clean_failure(proc, "already exists", "--force")
    assert (out / "notes.txt").read_text() == "my own file"
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_force_replaces_output(tmp_path: Path, models_dir: Path) -> None:
    out = tmp_path / "lib"
    out.mkdir()
    (out / "old.txt").write_text("x")
    proc = run_cli("compile", str(models_dir / "ad01_int8.tflite"), "-o", str(out), "--force", "--prefix", "ad")
    assert proc.returncode == 0, proc.stderr
    assert (out / "ad.h").exists() and not (out / "old.txt").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_bad_prefix(tmp_path: Path, models_dir: Path) -> None:
    proc = run_cli("compile", str(models_dir / "ad01_int8.tflite"), "-o", str(tmp_path / "o"), "--prefix", "9x")
    assert_clean_failure(proc, "C identifier")
    assert not (tmp_path / "o").exists()


def test_model_is_a_folder(tmp_path: Path) -> None:
    assert_clean_failure(run_cli("validate", str(tmp_path)), "folder")



def test_refused_model_as_json(bad_models: dict[str, Path]) -> None:
    """Machine readers get JSON on stdout as well as the error line and exit status 2."""
    proc = run_cli("validate", str(bad_models["unsupported"]), "--json")
    assert_clean_failure(proc, "SEGMENT_SUM (operator 0)")
    assert "SEGMENT_SUM (operator 0)" in json.loads(proc.stdout)["error"]
    proc = run_cli("inspect", str(bad_models["unsupported"]), "--json")
    assert_clean_failure(proc, "SEGMENT_SUM (operator 0)")
    rep = json.loads(proc.stdout)
    assert rep["supported"] is False and rep["ops"][0]["reason"] == "no kernel for this operator"


def test_unwritable_output_folder(tmp_path: Path, models_dir: Path) -> None:
    target = Path("/proc") / f"mcuforge-test-{tmp_path.name}"  # no folder can be made there, even as root
    proc = run_cli("compile", str(models_dir / "ad01_int8.tflite"), "-o", str(target))
    assert_clean_failure(proc, "cannot write the output folder")
    assert len(proc.stderr.strip().splitlines()) <= 2  # the error and its hint
    proc = run_cli("new", str(target), "--model", str(models_dir / "ad01_int8.tflite"), "--board", "mps2_an386")
    assert_clean_failure(proc, "cannot write the output folder")


@pytest.mark.parametrize(("kind", "needle"), [("garbage", "not an ONNX model"), ("float", "quantize_static"),
                                              ("dynamic", "make_dynamic_shape_fixed")])
def test_bad_onnx_model(tmp_path: Path, kind: str, needle: str) -> None:
    """A bad .onnx file: one line naming the problem and its fix, for compile as for inspect."""
    pytest.importorskip("onnx")
    from onnx_builder import float_model, node

    model = float_model([node("Relu", ["x"], ["y"])], {"x": (1, 4)}, {"y": (1, 4)})
    if kind == "dynamic":
        model.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    data = np.random.default_rng(0).integers(0, 256, 3000).astype(np.uint8).tobytes() if kind == "garbage" \
        else model.SerializeToString()
    path = tmp_path / f"{kind}.onnx"
    path.write_bytes(data)
    out = tmp_path / "out"
    assert_clean_failure(run_cli("compile", str(path), "-o", str(out)), needle)
    assert not out.exists()
