"""Hot weights: the constants of the layers read most per byte, copied from flash to a RAM region at
startup (`mcuforge new --place weights=REGION --hot-weights N`; default: every weight in flash)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mcuforge.generator.codegen import generate
from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UsageError
from mcuforge.generator.frontends import read_model
from mcuforge.generator.placement import PlacementError, plan_placement
from mcuforge.generator.scaffold import new_project
from mcuforge.generator.weights import hot_layers, layer_weight_bytes


def test_hot_layers_rank_by_macs_per_weight_byte(models_dir: Path) -> None:
    cm = compile_graph(read_model(models_dir / "kws_ref_model.tflite"))
    hot = hot_layers(cm, 3)
    assert hot == (2, 4, 6)  # the 1x1 convolutions: 512,000 MACs on 4,352 weight bytes each
    ratio = {c.op.index: c.macs / layer_weight_bytes(cm, c.op.index) for c in cm.calls if c.macs}
    assert min(ratio[i] for i in hot) >= max(r for i, r in ratio.items() if i not in hot)
    lib = generate(cm, "kws", hot_ops=hot)
    data = lib.files["kws_data.c"].decode()
    hot_defs = [line for line in data.splitlines() if "MCF_HOT_WEIGHTS_ATTR" in line]
    names = {f"kws_op{i}_" for i in hot} | {f"kws_tensor{t}[" for i in hot for t in cm.graph.operators[i].inputs}
    assert hot_defs and all(any(n in line for n in names) for line in hot_defs)  # (tensors: portable builds)
    assert lib.manifest["hot_ops"] == [2, 4, 6] and 0 < lib.manifest["hot_const_bytes"] < lib.manifest["const_bytes"]
    header = lib.files["kws.h"].decode()
    assert "#define MCF_HOT_WEIGHTS_ATTR MCF_WEIGHTS_ATTR" in header  # default: with the other weights
    with pytest.raises(UsageError):
        hot_layers(cm, 0)


class _R:
    def __init__(self, name: str, size: int, kind: str) -> None:
        self.name, self.size, self.kind = name, size, kind

    @property
    def is_ram(self) -> bool:
        return self.kind != "flash"


def test_copied_weights_count_in_ram_and_in_flash() -> None:
    flash, sram, dtcm = _R("flash", 1 << 20, "flash"), _R("sram", 256 << 10, "sram"), _R("dtcm", 64 << 10, "tcm")
    regions = [flash, sram, dtcm]
    common = dict(ram_order=[dtcm, sram], system_ram="sram", flash="flash", arena_bytes=10_000,
                  io_bytes_if_separate=0, const_bytes=100_000)
    p = plan_placement(regions, requested={"weights": "dtcm"}, moved_const_bytes=30_000, **common)
    assert p.used["dtcm"] >= 30_000 and p.used["flash"] == 64 * 1024 + 100_000
    assert p.sizes["weights_copied"] == 30_000
    default = plan_placement(regions, requested={}, **common)
    assert default.regions["weights"] == "flash" and default.sizes["weights_copied"] == 0
    with pytest.raises(PlacementError, match="dtcm needs"):  # all 100 kB do not fit the 64 kB DTCM
        plan_placement(regions, requested={"weights": "dtcm"}, **common)


def test_hot_weights_need_a_region(tmp_path: Path, models_dir: Path) -> None:
    model = models_dir / "kws_ref_model.tflite"
    with pytest.raises(UsageError, match="--place weights=REGION"):
        new_project(tmp_path / "a", model, "mps2_an386", framework="cmake", hot_weights=2)
    with pytest.raises(UsageError, match="PlatformIO"):
        new_project(tmp_path / "b", model, "nucleo_f746zg", framework="platformio", place=["weights=dtcm"],
                    hot_weights=2)
    with pytest.raises(UsageError, match="DTCM and CCM"):  # Zephyr initialises no other RAM section
        new_project(tmp_path / "c", model, "nucleo_f746zg", framework="zephyr", place=["weights=sram"],
                    hot_weights=2)
    assert not any((tmp_path / d).exists() for d in "abc")


def test_zephyr_copies_hot_weights_into_its_dtcm_data(tmp_path: Path, models_dir: Path) -> None:
    p = new_project(tmp_path / "z", models_dir / "kws_ref_model.tflite", "nucleo_f746zg", framework="zephyr",
                    place=["weights=dtcm"], hot_weights=2)
    header = p.library.files[f"{p.config.prefix}.h"].decode()
    assert "#define MCF_HOT_WEIGHTS_ATTR __dtcm_data_section" in header
    assert "#include <zephyr/linker/section_tags.h>" in header
    assert "#define MCF_WEIGHTS_ATTR\n" in header  # the rest: flash
    assert p.placement.sizes["weights_copied"] == p.library.manifest["hot_const_bytes"]


def test_bad_hot_weights_option_is_a_usage_error(tmp_path: Path, models_dir: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", "new", str(tmp_path / "p"), "--model",
                           str(models_dir / "kws_ref_model.tflite"), "--board", "mps2_an386", "--hot-weights", "3"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")
                         and shutil.which("ninja")), reason="needs arm-none-eabi-gcc, ninja and qemu-system-arm")
def test_hot_weights_in_psram_bit_exact_on_emulated_board(tmp_path: Path, models_dir: Path) -> None:
    """mps2_an386: the 3 hottest layers' constants at the PSRAM's addresses (copied by startup.c from
    the copy table), the rest in flash; every output bit-exact with TFLite Micro."""
    project = tmp_path / "p"
    cli = [sys.executable, "-m", "mcuforge.generator.cli"]
    for cmd in (("new", str(project), "--model", str(models_dir / "kws_ref_model.tflite"), "--board", "mps2_an386",
                 "--place", "weights=psram", "--hot-weights", "3"), ("build", str(project))):
        proc = subprocess.run([*cli, *cmd], capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stderr
    nm = subprocess.run(["arm-none-eabi-nm", str(project / "build" / "firmware.elf")], capture_output=True,
                        text=True, check=True).stdout
    symbols = {parts[2]: int(parts[0], 16) for parts in (line.split() for line in nm.splitlines()) if len(parts) == 3}
    psram = range(0x21000000, 0x22000000)
    for op in (2, 4, 6):
        assert symbols[f"kws_ref_model_op{op}_filter_fast"] in psram
        assert symbols[f"kws_ref_model_op{op}_bias"] in psram
    assert symbols["kws_ref_model_op8_filter_fast"] < 0x00400000  # not hot: flash
    assert symbols["kws_ref_model_op0_filter_first"] < 0x00400000  # layer 0 (conv2d_s8_first): not hot
    proc = subprocess.run([*cli, "test", str(project), "--random", "4", "--json"], capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["passed"] == 4 and report["failed"] == 0
