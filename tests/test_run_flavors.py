"""benchmarks/run_flavors.py: the model library's code compared function by function between two
builds (how the PlatformIO flavor, which has no emulated board, is tied to the cmake flavor's
instruction counts), and its table. Host only: arm-none-eabi-gcc compiles two tiny objects."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = """
int mcf_t_sum(const signed char *x, int n) { int s = 0; for (int i = 0; i < n; i++) s += x[i] * 3; return s; }
int mcf_t_call(const signed char *x) { return mcf_t_sum(x, 7) + 1; }
"""


def _script():
    spec = importlib.util.spec_from_file_location("run_flavors", ROOT / "benchmarks" / "run_flavors.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def _object(tmp: Path, build: str, suffix: str, *flags: str) -> Path:
    src = tmp / "k.c"
    src.write_text(SOURCE)
    obj = tmp / build / "lib" / "model" / f"k.c{suffix}"   # a build's model/ folder, as every flavor has
    obj.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-ffunction-sections", *flags,
                    "-c", str(src), "-o", str(obj)], check=True)
    return obj


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="needs arm-none-eabi-gcc")
def test_model_code_compared_function_by_function(tmp_path: Path) -> None:
    rf = _script()
    _object(tmp_path, "cmake", ".obj", "-O2")
    _object(tmp_path, "pio", ".o", "-O2", "-DUNUSED=1")       # other flags, same code: same
    _object(tmp_path, "zephyr", ".obj", "-O2", "-fno-inline", "-funroll-loops")   # other code
    same = rf.compare_code(tmp_path / "cmake", tmp_path / "pio", "arm-none-eabi-objdump")
    assert same == (2, 2, [])
    n_same, total, differ = rf.compare_code(tmp_path / "cmake", tmp_path / "zephyr", "arm-none-eabi-objdump")
    assert total == 2 and n_same < 2 and "k:mcf_t_sum" in differ
    assert rf.compare_code(tmp_path / "cmake", tmp_path / "nowhere", "arm-none-eabi-objdump") == \
        (0, 2, ["k:mcf_t_sum", "k:mcf_t_call"])


def test_table_gives_the_cmake_count_only_to_identical_code() -> None:
    rf = _script()
    rows = [rf.FlavorRow("m", "cmake", "mps2_an386", [100, 110, 90], "instructions", 3, 3, 1000, 200, 64, "sram"),
            rf.FlavorRow("m", "zephyr", "mps2_an386", [101, 111, 91], "instructions", 3, 3, 1200, 300, 64, "sram",
                         same_functions=9, functions=10),
            rf.FlavorRow("m", "platformio", "disco_l475_iot1", flash=1100, ram=250, arena=64, arena_region="sram1",
                         same_functions=10, functions=10),
            rf.FlavorRow("n", "cmake", "mps2_an386", [50], "instructions", 0, 1, max_diff=0.00392),
            rf.FlavorRow("n", "platformio", "disco_l475_iot1", same_functions=9, functions=10)]
    md = rf.markdown(rows).splitlines()
    assert md[2].startswith("| m | cmake | mps2_an386 | 100 | +0.00 % | 3/3 | - | 1,000 | 200 | 64 (sram) |")
    assert md[3].startswith("| m | zephyr | mps2_an386 | 101 | +1.00 % | 3/3 | 9/10 |")
    assert "| = cmake (100) | same code | (cmake's) | 10/10 | 1,100 | 250 | 64 (sram1) |" in md[4]
    assert md[5].startswith("| n | cmake | mps2_an386 | 50 | +0.00 % | 0/1 (max diff 0.00392) | - |")
    assert "| not measured | - | - | 9/10 |" in md[6]


def test_models_by_name_or_by_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rf = _script()
    shared = tmp_path / "models"
    assert rf.resolve_model("kws_ref_model", shared) == ("kws_ref_model", shared / "kws_ref_model.tflite")
    assert rf.resolve_model("zoo/ds_cnn.onnx", shared) == ("ds_cnn.onnx", Path("zoo/ds_cnn.onnx"))
    assert rf.resolve_model("/m/ds_cnn.tflite", shared) == ("ds_cnn.tflite", Path("/m/ds_cnn.tflite"))
    # a .onnx and a .tflite of one stem get their own projects
    assert rf.project_dir(tmp_path, "cmake", "b", "m.onnx") != rf.project_dir(tmp_path, "cmake", "b", "m.tflite")
    work = tmp_path / "work"
    assert rf.main(["--models", str(tmp_path / "none.onnx"), "--workdir", str(work)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no model file" in err and "none.onnx" in err and not work.exists()
