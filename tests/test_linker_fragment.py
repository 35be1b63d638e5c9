"""The GNU ld fragment that places the arena / IO buffers in PlatformIO projects
(linker.render_insert_fragment): its text, and, with arm-none-eabi-gcc, real links against a
framework-style script (one RAM region over DTCM + SRAM, as the STM32 Arduino core's F746 variant
has) proving from the ELF (generator/elf_report) that each buffer lands in the region asked for,
that the heap starts after a buffer inserted after .bss, and that a buffer too big for its region
fails the link. No PlatformIO needed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from mcuforge.generator.boards import Board, MemoryRegion, load_board
from mcuforge.generator.elf_report import memory_report
from mcuforge.generator.linker import LinkerScriptError, render_insert_fragment

GCC = shutil.which("arm-none-eabi-gcc")
needs_gcc = pytest.mark.skipif(GCC is None, reason="needs arm-none-eabi-gcc (apt-get install gcc-arm-none-eabi)")

CCM = {"name": "ccm", "base": 0x10000000, "size": 64 * 1024, "kind": "ccm"}


@pytest.fixture(scope="module")
def f746() -> Board:
    return load_board("nucleo_f746zg")


# ---- the text ------------------------------------------------------------------------------------

def test_region_after_the_framework_ram_start_goes_after_bss_behind_a_gap(f746: Board) -> None:
    text = render_insert_fragment(f746.memory, {"arena": "sram"}, ram_region="dtcm", origin="board nucleo_f746zg")
    assert text == render_insert_fragment(f746.memory, {"arena": "sram"}, ram_region="dtcm",
                                          origin="board nucleo_f746zg")
    assert "INSERT AFTER .bss;" in text and "INSERT BEFORE" not in text
    assert ".mcf_sram_gap (NOLOAD) :" in text
    assert ". += MAX(0x20010000, ABSOLUTE(.)) - ABSOLUTE(.);" in text
    assert ".mcf_sram (NOLOAD) : ALIGN(16)" in text and "*(.mcf_sram .mcf_sram.*)" in text
    assert "ASSERT(__mcf_sram_start >= 0x20010000 && __mcf_sram_end <= 0x20050000," in text
    assert "MEMORY" not in text  # the framework's RAM region already covers SRAM
    assert "for board nucleo_f746zg" in text


def test_the_framework_ram_start_region_goes_before_data(f746: Board) -> None:
    text = render_insert_fragment(f746.memory, {"arena": "dtcm", "io": "sram"}, ram_region="dtcm")
    before, after = text.split("INSERT BEFORE .data;")
    assert ".mcf_dtcm (NOLOAD)" in before and ".mcf_sram" not in before.split("*/", 1)[1]
    assert ".mcf_sram (NOLOAD)" in after and "INSERT AFTER .bss;" in after
    assert "ASSERT(__mcf_dtcm_start >= 0x20000000 && __mcf_dtcm_end <= 0x20010000," in text


def test_region_outside_the_framework_ram_gets_its_own_memory_entry(f746: Board) -> None:
    regions = [*f746.memory, CCM]
    text = render_insert_fragment(regions, {"arena": "ccm"}, ram_region="dtcm")
    assert "MCF_CCM : ORIGIN = 0x10000000, LENGTH = 0x00010000" in text
    assert "} > MCF_CCM" in text and ".mcf_ccm_gap" not in text


def test_weights_and_non_ram_regions_are_refused(f746: Board) -> None:
    with pytest.raises(LinkerScriptError, match="not weights"):
        render_insert_fragment(f746.memory, {"weights": "sram"}, ram_region="dtcm")
    with pytest.raises(LinkerScriptError, match="not writable RAM"):
        render_insert_fragment(f746.memory, {"arena": "flash"}, ram_region="dtcm")
    with pytest.raises(LinkerScriptError, match="not RAM"):
        render_insert_fragment(f746.memory, {"arena": "sram"}, ram_region="flash")
    with pytest.raises(LinkerScriptError, match="unknown memory region"):
        render_insert_fragment(f746.memory, {"arena": "sram"}, ram_region="itcm")


# ---- real links ----------------------------------------------------------------------------------

# What an Arduino core's script looks like where it matters: ONE RAM region from 0x20000000 over
# DTCM and SRAM, .data then .bss then the heap reservation whose end symbol starts the heap.
FRAMEWORK_LD = """
ENTRY(Reset_Handler)
_estack = ORIGIN(RAM) + LENGTH(RAM);
MEMORY
{
  RAM (xrw) : ORIGIN = 0x20000000, LENGTH = 320K
  FLASH (rx) : ORIGIN = 0x08000000, LENGTH = 1024K
}
SECTIONS
{
  .isr_vector : { . = ALIGN(4); KEEP(*(.isr_vector)) . = ALIGN(4); } > FLASH
  .text : { *(.text .text.*) } > FLASH
  .rodata : { *(.rodata .rodata.*) } > FLASH
  _sidata = LOADADDR(.data);
  .data : { . = ALIGN(4); _sdata = .; *(.data .data.*) . = ALIGN(4); _edata = .; } > RAM AT> FLASH
  .bss : { _sbss = .; *(.bss .bss.* COMMON) . = ALIGN(4); _ebss = .; } > RAM
  ._user_heap_stack : { . = ALIGN(8); PROVIDE(end = .); PROVIDE(_end = .); . = . + 0x200; . = . + 0x400; } > RAM
}
"""

PROGRAM = """
int counter = 5;
int table[64];
__attribute__((section(".mcf_{region}"))) unsigned char arena[{size}];
volatile unsigned char *volatile sink;
void Reset_Handler(void) {{ sink = arena; sink = (unsigned char *)table; table[1] = counter; for (;;) {{}} }}
__attribute__((section(".isr_vector"))) void (*const vectors[2])(void) = {{0, Reset_Handler}};
"""


def _link(tmp: Path, regions: list, region: str, size: int, *, default_script: bool) -> subprocess.CompletedProcess:
    assert GCC is not None
    (tmp / "fw.ld").write_text(FRAMEWORK_LD)
    (tmp / "mcf_place.ld").write_text(render_insert_fragment(regions, {"arena": region}, ram_region="dtcm"))
    (tmp / "app.c").write_text(PROGRAM.format(region=region, size=size))
    subprocess.run([GCC, "-mcpu=cortex-m7", "-mthumb", "-O1", "-c", "app.c", "-o", "app.o"], cwd=tmp, check=True)
    # PlatformIO's STM32 Arduino core passes its script with --default-script; other cores use -T,
    # which the fragment must precede (ld: "not found for insert" otherwise). PlatformIO puts the
    # link flags of libraries before the framework's.
    framework = ["-Wl,--default-script=fw.ld"] if default_script else ["-Wl,-T,fw.ld"]
    return subprocess.run([GCC, "-mcpu=cortex-m7", "-mthumb", "-nostartfiles", "-nostdlib",
                           "-Wl,--gc-sections,--check-sections", "-Wl,-T,mcf_place.ld", *framework,
                           "app.o", "-o", "app.elf"], cwd=tmp, capture_output=True, text=True)


def _symbols(elf: Path) -> dict[str, int]:
    """Symbol → address, and each section's start as `section:<name>`."""
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    with open(elf, "rb") as fh:
        sections = list(ELFFile(fh).iter_sections())
        sym = next(s for s in sections if isinstance(s, SymbolTableSection))
        return {**{s.name: s["st_value"] for s in sym.iter_symbols() if s.name},
                **{f"section:{s.name}": s["sh_addr"] for s in sections}}


@needs_gcc
@pytest.mark.parametrize("default_script", [True, False], ids=["default-script", "dash-T"])
@pytest.mark.parametrize("region", ["dtcm", "sram", "ccm"])
def test_the_arena_lands_in_the_region_asked_for(f746: Board, tmp_path: Path, region: str,
                                                 default_script: bool) -> None:
    regions = [*f746.memory, CCM]
    board = f746.model_copy(update={"memory": (*f746.memory, MemoryRegion.model_validate(CCM))})
    res = _link(tmp_path, regions, region, 10112, default_script=default_script)
    assert res.returncode == 0, res.stderr
    report = memory_report(tmp_path / "app.elf", board, {"arena": "arena", "table": "table"})
    assert report.symbols["arena"].region == region
    assert report.symbols["arena"].size == 10112
    assert report.symbols["table"].region == "dtcm"  # the framework's own .bss stays where it was
    syms = _symbols(tmp_path / "app.elf")
    target = board.region(region)
    assert syms["arena"] % 16 == 0
    if region == "dtcm":
        assert syms["arena"] == target.base < syms["_sdata"]  # before .data, at the start of the RAM
    if region == "sram":
        assert syms["arena"] == target.base
        # the heap reservation (where the heap starts) follows the arena, so the heap never grows over it
        assert syms["section:._user_heap_stack"] >= syms["arena"] + 10112


@needs_gcc
def test_a_buffer_too_big_for_its_region_fails_the_link(f746: Board, tmp_path: Path) -> None:
    res = _link(tmp_path, list(f746.memory), "dtcm", 70 * 1024, default_script=True)
    assert res.returncode != 0
    assert "mcuforge: the buffers placed in dtcm do not fit it" in res.stderr
