"""The load segments of an image linked with the generated script (linker.render_linker_script)
for mps2_an386, with a .bss of 3 MiB: what a loader writes must stay inside the board's memory.

QEMU's -kernel loads each PT_LOAD at its physical (load) address and zero-fills memsz past
filesz there. When .bss shared .data's segment, that segment had .data's load address in flash
and .bss's size as memsz: the zero fill ran past the end of the 4 MiB flash into QEMU's alias of
it at 0x400000 and cleared the vector table, so large models locked up at reset. Needs
arm-none-eabi-gcc; no QEMU.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from generator.boards import load_board
from generator.linker import render_linker_script

GCC = shutil.which("arm-none-eabi-gcc")

PROGRAM = """
int counter = 7;
__attribute__((section(".mcf_sram"))) unsigned char placed[64];
unsigned char big[3u << 20];
volatile unsigned char *volatile sink;
void Reset_Handler(void) { sink = big; sink = placed; counter++; for (;;) {} }
__attribute__((section(".isr_vector"))) void (*const vectors[2])(void) = {0, Reset_Handler};
"""


@pytest.mark.skipif(GCC is None, reason="needs arm-none-eabi-gcc (apt-get install gcc-arm-none-eabi)")
@pytest.mark.parametrize("placements", [{}, {"arena": "sram"}], ids=["bss", "arena-in-sram"])
def test_zero_fill_stays_where_the_data_runs(tmp_path: Path, placements: dict[str, str]) -> None:
    from elftools.elf.elffile import ELFFile

    board = load_board("mps2_an386")
    (tmp_path / "fw.ld").write_text(render_linker_script(board.memory, placements, origin=board.id))
    (tmp_path / "app.c").write_text(PROGRAM)
    assert GCC is not None
    subprocess.run([GCC, "-mcpu=cortex-m4", "-mthumb", "-O1", "-nostartfiles", "-nostdlib", "-Wl,-T,fw.ld",
                    "app.c", "-o", "app.elf"], cwd=tmp_path, check=True)
    regions = [(r.base, r.base + r.size) for r in board.memory]
    with open(tmp_path / "app.elf", "rb") as fh:
        loads = [s.header for s in ELFFile(fh).iter_segments() if s.header.p_type == "PT_LOAD"]
    assert any(h.p_memsz >= 3 << 20 for h in loads)  # the big .bss is in some segment
    for h in loads:
        where = f"LOAD paddr {h.p_paddr:#x} vaddr {h.p_vaddr:#x} filesz {h.p_filesz:#x} memsz {h.p_memsz:#x}"
        assert any(lo <= h.p_paddr and h.p_paddr + h.p_memsz <= hi for lo, hi in regions), where
        if h.p_memsz > h.p_filesz:
            assert h.p_paddr == h.p_vaddr, where  # zero fill where it runs, not over flash
