"""Bare-metal CMake projects: generate, build, run in QEMU, compare with the host checksum,
and prove buffer placement from the ELF."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from mcuforge.generator.build import build_project
from mcuforge.generator.scaffold import new_project
from mcuforge.generator.validate import validate_model
from mcuforge.hil.emulator import start_emulator
from mcuforge.hil.serial_link import open_serial

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")
                            and shutil.which("ninja")),
                       reason="needs arm-none-eabi-gcc, ninja and qemu-system-arm (apt-get install "
                              "gcc-arm-none-eabi libnewlib-arm-none-eabi ninja-build qemu-system-arm)"),
]

LINE = re.compile(r"mcuforge: selftest model=(\w+) checksum=0x([0-9a-f]{8}) ticks=(\d+) unit=(\w+) result=(\w+)")


def boot_line(board: object, elf: Path, timeout: float = 300.0) -> re.Match[str]:
    """Start the firmware in QEMU and read its UART until the self-test line (then stop QEMU:
    after the line the firmware serves the host protocol forever). open_serial, not pyserial's
    serial_for_url: that empties its input after connecting, and the line can come first."""
    with start_emulator(board, elf) as emu, open_serial(emu.url, timeout=timeout) as link:  # type: ignore[arg-type]
        text = link.read_until(b"\n").decode(errors="replace")
    m = LINE.search(text)
    assert m, text
    return m


def _run(project: Path) -> tuple[int, int, object]:
    res = build_project(project)
    m = boot_line(res.board, res.elf)
    assert m.group(5) == "ok", m.group(0)
    return int(m.group(2), 16), int(m.group(3)), res


@pytest.mark.parametrize("board", ["mps2_an385", "mps2_an386", "mps2_an500"])
@pytest.mark.parametrize("model", ["kws_ref_model", "pretrainedResnet_quant"])
def test_cmake_project_runs_bit_exact(models_dir: Path, tmp_path: Path, board: str, model: str) -> None:
    path = models_dir / f"{model}.tflite"
    host = validate_model(path, count=1, seed=0)
    assert host.ok
    project = tmp_path / "proj"
    p = new_project(project, path, board)
    checksum, ticks, res = _run(project)
    assert checksum == host.checksums[0]
    assert ticks > 0
    arena = res.report.symbols["arena"]
    assert arena.region == p.placement.regions["arena"] == "sram"
    assert arena.size == host.arena_bytes


@pytest.mark.parametrize("board", ["mps2_an385", "mps2_an500"])
def test_explicit_placement_is_proven_by_the_elf(models_dir: Path, tmp_path: Path, board: str) -> None:
    path = models_dir / "kws_ref_model.tflite"
    project = tmp_path / "placed"
    new_project(project, path, board, place=["arena=psram", "io=sram"])
    checksum, _, res = _run(project)
    assert checksum == validate_model(path, count=1, seed=0, separate_io=True).checksums[0]
    psram = next(r for r in res.board.memory if r.name == "psram")
    arena = res.report.symbols["arena"]
    assert arena.region == "psram" and psram.base <= arena.address < psram.base + psram.size
    assert res.report.symbols["io"].region == "sram"


def test_update_keeps_user_files(models_dir: Path, tmp_path: Path) -> None:
    project = tmp_path / "u"
    new_project(project, models_dir / "ad01_int8.tflite", "mps2_an386")
    main_c = project / "src" / "main.c"
    main_c.write_text(main_c.read_text() + "\n/* my change */\n")
    (project / "notes.md").write_text("mine")
    from mcuforge.generator.scaffold import update_project

    update_project(project)
    assert main_c.read_text().endswith("/* my change */\n")
    assert (project / "notes.md").read_text() == "mine"
    checksum, _, _ = _run(project)
    assert checksum == validate_model(models_dir / "ad01_int8.tflite", count=1, seed=0).checksums[0]
