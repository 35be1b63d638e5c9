"""The CPU-family split of the bare-metal CMake flavour (generator/targets) and what the RV32 board
needs from the shared modules: board validation, the QEMU command line, a linker script for a
board without flash. Fast: nothing is built or run (tests/test_riscv_port.py and
tests/test_riscv_hil.py do that)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from generator import boards
from generator.boards import BoardFileError
from generator.linker import render_linker_script
from generator.targets import TargetError, target_for

REPO = Path(__file__).resolve().parents[1]


def test_one_target_per_family() -> None:
    arm, riscv = target_for("arm"), target_for("riscv")
    assert (arm.port_family, riscv.port_family) == ("arm", "riscv")
    for t in (arm, riscv):  # each names files that exist
        assert (REPO / "runtime" / "ports" / "baremetal" / t.port_family).is_dir()
        assert (REPO / "runtime" / "ports" / "baremetal" / t.toolchain_file).is_file()
    with pytest.raises(TargetError, match="no target for xtensa"):
        target_for("xtensa")


def _board_with(tmp_path: Path, board_id: str, **changes: object) -> Path:
    data = yaml.safe_load((REPO / "board_defs" / f"{board_id}.yaml").read_text())
    data.update(changes)
    data["id"] = "custom"
    path = tmp_path / "custom.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("board_id", "cmake", "message"),
    [
        ("qemu_riscv32", {"mcpu": "cortex-m4"}, "a RISC-V board gives march and mabi"),
        ("qemu_riscv32", {"march": "rv64imac", "mabi": "lp64"}, "not a 32-bit ISA"),
        ("mps2_an386", {"march": "rv32imac", "mabi": "ilp32"}, "an Arm board gives mcpu"),
        ("esp32c3_devkitm", {"march": "rv32imc", "mabi": "ilp32f"}, "cpu.fpu is none"),
    ],
)
def test_cmake_section_is_checked_per_family(tmp_path: Path, board_id: str, cmake: dict[str, str],
                                             message: str) -> None:
    with pytest.raises(BoardFileError, match=message):
        boards.load_board_file(_board_with(tmp_path, board_id, cmake=cmake))


@pytest.mark.skipif(not (shutil.which("qemu-system-riscv32") and shutil.which("qemu-system-arm")),
                    reason="needs qemu-system-riscv32 and qemu-system-arm on PATH")
def test_qemu_command_lines(tmp_path: Path) -> None:
    from mcuforge.hil.emulator import qemu_argv

    rv = qemu_argv(boards.load_board("qemu_riscv32"), tmp_path / "f.elf", "stdio")
    assert Path(rv[0]).name == "qemu-system-riscv32" and rv[1:3] == ["-M", "virt"]
    assert "-semihosting-config" not in rv  # the SiFive test device ends it
    assert rv[rv.index("-bios") + 1] == "none" and rv[rv.index("-icount") + 1] == "shift=0"
    arm = qemu_argv(boards.load_board("mps2_an386"), tmp_path / "f.elf", "stdio")
    assert arm[arm.index("-semihosting-config") + 1] == "enable=on,target=native"


def test_linker_script_for_a_board_without_flash() -> None:
    board = boards.load_board("qemu_riscv32")
    assert board.flash_region() is None and board.image_region().name == "ram"
    script = render_linker_script(board.memory, {"arena": "ram"}, flash_region="ram", ram_region="ram")
    # loaded where it runs, nothing copied: any load region named is the section's own region
    placements = re.findall(r">\s*(\w+)\s+AT>\s*(\w+)", script)
    assert all(run == load for run, load in placements), placements
    assert "LONG(LOADADDR(.data))" not in script
    assert "PROVIDE(__global_pointer$ = . + 0x800);" in script
    assert "*(.sdata .sdata.* .gnu.linkonce.s.*)" in script and "*(.sbss .sbss.* .gnu.linkonce.sb.* .scommon)" in script
    assert "*(.srodata .srodata.*)" in script
    # the entry code goes first, at the address QEMU jumps to
    assert script.index(".isr_vector") < script.index(".text :")
    assert "ORIGIN = 0x80000000, LENGTH = 0x10000000" in script
