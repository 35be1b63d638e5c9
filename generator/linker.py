"""GNU ld linker scripts for bare-metal Cortex-M projects, from a board's memory regions.

`render_linker_script(regions, placements)` writes the whole script: one MEMORY entry per region,
the usual sections (vector table first in flash, code, read-only data, initialised data copied
from flash at boot, zeroed .bss, optional heap, main stack at the top of the default RAM region),
and for every region that a buffer class is placed in a dedicated output section that C code
targets with `__attribute__((section(".mcf_<region>")))`.

Buffer classes and what placing them does:

* ``arena`` / ``io`` (activations, input/output buffers): go to ``.mcf_<region>`` in a RAM region
  (kinds sram, tcm, ccm, psram). These sections are ``NOLOAD``: they are neither loaded nor zeroed
  at boot, because the generated code writes every arena byte before reading it. An initialiser
  on a variable placed there is therefore lost. Placing them in a flash region is an error.
* ``weights`` (constant tensors): unplaced, they are plain ``const`` data in ``.rodata`` of the
  default flash region. Placed in a flash region they go to its ``.mcf_<region>`` section (loaded,
  read-only). Placed in a RAM region they go to ``.mcf_<region>_init``: stored in the default
  flash region and copied to RAM at boot (an entry in the startup copy table), for boards where
  RAM is faster than flash.

Symbols for C code and tests: ``__mcf_<region>_start`` / ``__mcf_<region>_end`` around every
``.mcf_<region>[_init]`` section (with ``_init`` in the name for the copied one),
``__mcf_region_<region>_start`` / ``_end`` for each whole region, and the startup contract of
``runtime/ports/baremetal/startup.c``: ``__mcf_stack_top``, ``__mcf_stack_limit``,
``__mcf_copy_table_start/_end`` (``{load, start, end}`` word triples),
``__mcf_zero_table_start/_end`` (``{start, end}`` pairs), ``__mcf_init_array_start/_end``,
``__mcf_heap_start/_end`` (also as picolibc's ``__heap_start/__heap_end``).

`render_insert_fragment(regions, placements, ram_region=...)` writes the other kind of script: a
fragment for projects whose framework owns the linker script (PlatformIO's Arduino cores). Passed
with an extra ``-T``, its ``INSERT BEFORE .data`` / ``INSERT AFTER .bss`` statements add the
``.mcf_<region>`` sections of the placed arena/io buffers to the framework's script, which stays
in charge of everything else (see the function for how each region is reached).

The output is deterministic: regions are listed by base address, numbers in fixed-width hex.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from .errors import McuforgeError

__all__ = [
    "BUFFER_CLASSES",
    "RAM_KINDS",
    "REGION_KINDS",
    "LinkerScriptError",
    "MemoryRegionLike",
    "placement_sections",
    "region_symbols",
    "render_insert_fragment",
    "render_linker_script",
    "section_name",
]

#: Kinds of memory a region can be (the board model's `kind` field).
REGION_KINDS = ("flash", "sram", "tcm", "ccm", "psram")
#: Kinds that are writable at run time.
RAM_KINDS = frozenset({"sram", "tcm", "ccm", "psram"})
#: Logical buffers the generated code can place.
BUFFER_CLASSES = ("arena", "io", "weights")

_NAME_RE = re.compile(r"[^A-Za-z0-9_]")
_ADDRESS_LIMIT = 1 << 32


class LinkerScriptError(McuforgeError):
    """The regions or placements cannot be turned into a linker script."""


@runtime_checkable
class MemoryRegionLike(Protocol):
    """What the renderer needs from a memory region (a `generator.boards` model fits)."""

    @property
    def name(self) -> str: ...

    @property
    def base(self) -> int: ...

    @property
    def size(self) -> int: ...

    @property
    def kind(self) -> Any:  # 'flash' | 'sram' | 'tcm' | 'ccm' | 'psram', or an Enum with such a value
        ...


@dataclass(frozen=True)
class _Region:
    name: str  # as given (for comments and messages)
    ident: str  # lower-case C/ld identifier: section and symbol names
    memory: str  # upper-case MEMORY name
    base: int
    size: int
    kind: str
    default: bool = False  # the board marks it as its default RAM region

    @property
    def is_ram(self) -> bool:
        return self.kind in RAM_KINDS

    @property
    def end(self) -> int:
        return self.base + self.size


def _field(region: object, key: str) -> Any:
    if isinstance(region, Mapping):
        if key not in region:
            raise LinkerScriptError(f"memory region {dict(region)!r} has no '{key}'")
        return region[key]
    try:
        return getattr(region, key)
    except AttributeError:
        raise LinkerScriptError(f"memory region {region!r} has no attribute '{key}'") from None


def _identifier(name: str) -> str:
    ident = _NAME_RE.sub("_", name.strip()).lower()
    if not ident or ident[0].isdigit():
        ident = "r_" + ident
    return ident


def _normalize(regions: Iterable[MemoryRegionLike | Mapping[str, Any]]) -> list[_Region]:
    out: list[_Region] = []
    seen: dict[str, str] = {}
    for raw in regions:
        name = str(_field(raw, "name"))
        kind_raw = _field(raw, "kind")
        kind = str(getattr(kind_raw, "value", kind_raw)).lower()
        base, size = _field(raw, "base"), _field(raw, "size")
        if kind not in REGION_KINDS:
            raise LinkerScriptError(
                f"memory region '{name}' has kind '{kind}'", hint=f"use one of: {', '.join(REGION_KINDS)}"
            )
        if not isinstance(base, int) or not isinstance(size, int) or isinstance(base, bool):
            raise LinkerScriptError(f"memory region '{name}': base and size must be integers")
        if base < 0 or size <= 0 or base + size > _ADDRESS_LIMIT:
            raise LinkerScriptError(
                f"memory region '{name}' (base 0x{base:x}, size 0x{size:x}) "
                "is outside the 32-bit address space"
            )
        ident = _identifier(name)
        if ident in seen:
            raise LinkerScriptError(
                f"memory regions '{seen[ident]}' and '{name}' map to the same name '{ident}'"
            )
        seen[ident] = name
        default = raw.get("default", False) if isinstance(raw, Mapping) else getattr(raw, "default", False)
        out.append(_Region(name, ident, ident.upper(), base, size, kind, bool(default)))
    if not out:
        raise LinkerScriptError("no memory regions given")
    out.sort(key=lambda r: (r.base, r.ident))
    for a, b in itertools.pairwise(out):
        if b.base < a.end:
            raise LinkerScriptError(f"memory regions '{a.name}' and '{b.name}' overlap")
    return out


def _pick(regions: list[_Region], wanted: str | None, kinds: Iterable[str], role: str) -> _Region:
    kinds = tuple(kinds)
    if wanted is not None:
        region = _lookup(regions, wanted)
        if region.kind not in kinds:
            raise LinkerScriptError(
                f"the {role} region '{wanted}' has kind '{region.kind}', not {'/'.join(kinds)}"
            )
        return region
    for region in regions:  # the board's own choice (MemoryRegion.default) comes first
        if region.default and region.kind in kinds:
            return region
    for kind in kinds:  # then by kind preference, then by address
        for region in regions:
            if region.kind == kind:
                return region
    raise LinkerScriptError(f"no memory region of kind {'/'.join(kinds)} for the {role}")


def _lookup(regions: list[_Region], name: str) -> _Region:
    for region in regions:
        if name in (region.name, region.ident):
            return region
    close = difflib.get_close_matches(name, [r.name for r in regions], n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"regions: {', '.join(r.name for r in regions)}"
    raise LinkerScriptError(f"unknown memory region '{name}'", hint=hint)


def _check_placements(regions: list[_Region], placements: Mapping[str, str]) -> dict[str, _Region]:
    out: dict[str, _Region] = {}
    for buffer_class in sorted(placements):
        if buffer_class not in BUFFER_CLASSES:
            close = difflib.get_close_matches(buffer_class, BUFFER_CLASSES, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"buffer classes: {', '.join(BUFFER_CLASSES)}"
            raise LinkerScriptError(f"unknown buffer class '{buffer_class}'", hint=hint)
        region = _lookup(regions, placements[buffer_class])
        if buffer_class != "weights" and not region.is_ram:
            raise LinkerScriptError(
                f"cannot place '{buffer_class}' in '{region.name}': it is {region.kind}, not writable RAM"
            )
        out[buffer_class] = region
    return out


def section_name(region_name: str, *, initialized: bool = False) -> str:
    """Output section that holds buffers placed in `region_name` (``.mcf_<region>[_init]``)."""
    return f".mcf_{_identifier(region_name)}" + ("_init" if initialized else "")


def region_symbols(region_name: str, *, initialized: bool = False) -> tuple[str, str]:
    """Start and end symbols the script defines around `section_name(region_name, ...)`."""
    base = section_name(region_name, initialized=initialized)[1:]  # drop the leading dot
    return f"__{base}_start", f"__{base}_end"


def placement_sections(
    regions: Iterable[MemoryRegionLike | Mapping[str, Any]],
    placements: Mapping[str, str],
) -> dict[str, str | None]:
    """The section each buffer class goes to: a name for `__attribute__((section(...)))`, or None.

    None means "no attribute": arena/io are ordinary zeroed globals in .bss of the default RAM and
    weights ordinary `const` data in .rodata of the default flash.
    """
    norm = _normalize(regions)
    placed = _check_placements(norm, placements)
    out: dict[str, str | None] = {}
    for buffer_class in BUFFER_CLASSES:
        region = placed.get(buffer_class)
        if region is None:
            out[buffer_class] = None
        else:
            copied = buffer_class == "weights" and region.is_ram
            out[buffer_class] = section_name(region.ident, initialized=copied)
    return out


def _hex(value: int) -> str:
    return f"0x{value:08X}"


def _size_comment(size: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift} {unit}"
    return f"{size} B"


@dataclass(frozen=True)
class _Layout:
    """What the script is built from: the regions, where code and data go, and which placed
    sections each region gets (region ident → buffer classes)."""

    regions: list[_Region]
    flash: _Region
    ram: _Region
    placed: dict[str, _Region]
    plain: dict[str, list[str]]  # arena/io (NOLOAD in RAM), weights in flash: .mcf_<region>
    copied: dict[str, list[str]]  # weights in RAM, copied at boot: .mcf_<region>_init


def _layout(
    regions: Iterable[MemoryRegionLike | Mapping[str, Any]],
    placements: Mapping[str, str],
    flash_region: str | None,
    ram_region: str | None,
) -> _Layout:
    norm = _normalize(regions)
    placed = _check_placements(norm, placements)
    ram = _pick(norm, ram_region, ("sram", "tcm", "ccm", "psram"), "data (RAM)")
    flash = _image_region(norm, flash_region)
    plain: dict[str, list[str]] = {}
    copied: dict[str, list[str]] = {}
    for buffer_class, region in placed.items():
        if buffer_class == "weights" and region.is_ram:
            copied.setdefault(region.ident, []).append(buffer_class)
        else:
            plain.setdefault(region.ident, []).append(buffer_class)
    return _Layout(norm, flash, ram, placed, plain, copied)


def _image_region(regions: list[_Region], wanted: str | None) -> _Region:
    """Where code and constants go: the flash region asked for or found, or a RAM region when
    `wanted` names one (boards without flash, whose program is loaded into RAM, e.g. QEMU's
    RISC-V virt: `Board.image_region()`)."""
    if wanted is not None and _lookup(regions, wanted).is_ram:
        return _lookup(regions, wanted)
    return _pick(regions, wanted, ("flash",), "code (flash)")


def _check_sizes(stack_size: int, heap_size: int, ram: _Region | None = None) -> None:
    if stack_size <= 0 or stack_size % 8:
        raise LinkerScriptError(f"stack size {stack_size} must be a positive multiple of 8")
    if heap_size < 0 or heap_size % 8:
        raise LinkerScriptError(f"heap size {heap_size} must be a non-negative multiple of 8")
    if ram is not None and stack_size + heap_size > ram.size:
        raise LinkerScriptError(f"stack and heap ({stack_size + heap_size} B) do not fit in '{ram.name}'")


def _section(name: str, body: list[str], where: str, *, attrs: str = "", align: int = 4) -> list[str]:
    """One output section statement, indented for a SECTIONS block, and a blank line."""
    head = f"  {name}{' ' + attrs if attrs else ''} :"
    return [f"{head} ALIGN({align})", "  {", *(f"    {line}" if line else "" for line in body),
            f"  }} {where}".rstrip(), ""]


def _placed_section(lay: _Layout, region: _Region, *, initialized: bool) -> list[str]:
    """The `.mcf_<region>[_init]` section holding the buffer classes placed in `region`."""
    sec = section_name(region.ident, initialized=initialized)
    start, end = region_symbols(region.ident, initialized=initialized)
    classes = ", ".join(lay.copied[region.ident] if initialized else lay.plain[region.ident])
    if initialized:
        comment = f"  /* {classes} placed in {region.name}: stored in {lay.flash.name}, copied at boot. */"
        where, attrs = f"> {region.memory} AT> {lay.flash.memory}", ""
    elif region.is_ram:
        comment = f"  /* {classes} placed in {region.name}: NOLOAD, neither loaded nor zeroed at boot. */"
        where, attrs = f"> {region.memory} AT> {region.memory}", "(NOLOAD)"
    else:
        comment = f"  /* {classes} placed in {region.name}: read-only, part of the image. */"
        where, attrs = f"> {region.memory}", ""
    body = [f"{start} = .;", f"*({sec} {sec}.*)", ". = ALIGN(4);", f"{end} = .;"]
    return [comment, *_section(sec, body, where, attrs=attrs, align=16)]


def _banner(lay: _Layout, origin: str | None) -> list[str]:
    banner = f" for {origin}" if origin else ""
    out = [f"/* Linker script generated by mcuforge (generator/linker.py){banner}. Do not edit. */", "/*",
           f" * Code and constants: {lay.flash.name}. Data, .bss, heap, stack: {lay.ram.name}."]
    for buffer_class in BUFFER_CLASSES:
        if buffer_class in lay.placed:
            region = lay.placed[buffer_class]
            sec = section_name(region.ident, initialized=region.ident in lay.copied and buffer_class == "weights")
            out.append(f" * {buffer_class:<8} -> {region.name} ({sec})")
        else:
            out.append(f" * {buffer_class:<8} -> default ({'.rodata' if buffer_class == 'weights' else '.bss'})")
    return [*out, " */", ""]


def _memory_block(lay: _Layout, stack_size: int, heap_size: int) -> list[str]:
    """Entry point, stack and heap sizes, MEMORY, and the start/end symbols of every region."""
    out = ["ENTRY(Reset_Handler)", "", f"__mcf_stack_size = {_hex(stack_size)};",
           f"__mcf_heap_size = {_hex(heap_size)};", "", "MEMORY", "{"]
    width = max(len(r.memory) for r in lay.regions)
    for r in lay.regions:
        attrs = "rwx" if r.is_ram else "rx"
        out.append(f"  {r.memory:<{width}} ({attrs:<3}) : ORIGIN = {_hex(r.base)}, LENGTH = {_hex(r.size)}"
                   f"  /* {r.name}: {r.kind}, {_size_comment(r.size)} */")
    out += ["}", ""]
    for r in lay.regions:
        out += [f"__mcf_region_{r.ident}_start = ORIGIN({r.memory});",
                f"__mcf_region_{r.ident}_end = ORIGIN({r.memory}) + LENGTH({r.memory});"]
    return [*out, ""]


def _flash_sections(lay: _Layout) -> list[str]:
    """Vector table, code, read-only data, unwind tables, init/fini arrays, weights placed in flash."""
    flash = f"> {lay.flash.memory}"
    out = [f"  /* Vector table (Arm) or entry code (RISC-V) first: the core boots from {_hex(lay.flash.base)}. */",
           *_section(".isr_vector", ["KEEP(*(.isr_vector))"], flash, align=4),
           *_section(".text", ["*(.text .text.* .gnu.linkonce.t.*)",
                               "*(.glue_7) *(.glue_7t) *(.vfp11_veneer) *(.v4_bx)",
                               "KEEP(*(.init)) KEEP(*(.fini))"], flash),
           *_section(".rodata", ["*(.rodata .rodata.* .gnu.linkonce.r.*)", "*(.srodata .srodata.*)",
                                 ". = ALIGN(4);"], flash),
           *_section(".ARM.extab", ["*(.ARM.extab* .gnu.linkonce.armextab.*)"], flash),
           *_section(".ARM.exidx", ["__exidx_start = .;", "*(.ARM.exidx* .gnu.linkonce.armexidx.*)",
                                    "__exidx_end = .;"], flash),
           *_section(".init_array", ["__mcf_init_array_start = .;", "KEEP(*(.preinit_array))",
                                     "KEEP(*(SORT(.init_array.*)))", "KEEP(*(.init_array))",
                                     "__mcf_init_array_end = .;"], flash),
           *_section(".fini_array", ["KEEP(*(SORT(.fini_array.*)))", "KEEP(*(.fini_array))"], flash)]
    for r in lay.regions:
        if not r.is_ram and r.ident in lay.plain:
            out += _placed_section(lay, r, initialized=False)
    return out


def _startup_tables(lay: _Layout) -> list[str]:
    """The copy and zero tables Reset_Handler walks (startup.c)."""
    lines = ["__mcf_copy_table_start = .;"]
    if lay.flash is not lay.ram:  # in a RAM-only image .data is loaded where it runs
        lines.append("LONG(LOADADDR(.data)) LONG(ADDR(.data)) LONG(ADDR(.data) + SIZEOF(.data))")
    for r in lay.regions:
        if r.ident in lay.copied:
            sec = section_name(r.ident, initialized=True)
            lines.append(f"LONG(LOADADDR({sec})) LONG(ADDR({sec})) LONG(ADDR({sec}) + SIZEOF({sec}))")
    lines += ["__mcf_copy_table_end = .;", "__mcf_zero_table_start = .;",
              "LONG(ADDR(.bss)) LONG(ADDR(.bss) + SIZEOF(.bss))", "__mcf_zero_table_end = .;"]
    return ["  /* Read by Reset_Handler: {load, start, end} sections to copy, then {start, end} to zero. */",
            *_section(".mcf_startup_tables", lines, f"> {lay.flash.memory}")]


def _ram_sections(lay: _Layout) -> list[str]:
    """The default RAM: .data, .bss, the buffers placed there, heap, and the stack at its top."""
    ram, flash = lay.ram, lay.flash
    # Small data (.sdata/.sbss, RISC-V) last in .data and first in .bss, with the global pointer
    # 2 KiB past its start: gp-relative accesses reach 4 KiB around the boundary.
    data = ["*(.data .data.* .gnu.linkonce.d.*)", "*(.ramfunc .ramfunc.*)", ". = ALIGN(4);",
            "PROVIDE(__global_pointer$ = . + 0x800);", "*(.sdata .sdata.* .gnu.linkonce.s.*)", ". = ALIGN(4);"]
    if flash is ram:
        out = [f"  /* Initialised data: loaded into {ram.name} with the program, where it runs. */",
               *_section(".data", data, f"> {ram.memory}")]
    else:
        out = [f"  /* Initialised data: runs in {ram.name}, stored in {flash.name}, copied by Reset_Handler. */",
               *_section(".data", data, f"> {ram.memory} AT> {flash.memory}")]
    if ram.ident in lay.copied:
        out += _placed_section(lay, ram, initialized=True)
    # NOLOAD sections in RAM get `AT> <their own region>` (load address = run address): otherwise
    # ld gives them .data's flash load address and puts them in .data's load segment, whose memsz
    # then covers them; a loader that zero-fills memsz past filesz at the segment's physical
    # address (QEMU's -kernel does) clears flash beyond the image (on mps2 it wraps through the
    # alias at 4 MiB onto the vector table: lockup at reset with a .bss of a few MB).
    out += ["  /* Zero-initialised data, cleared by Reset_Handler. */",
            *_section(".bss", ["__mcf_bss_start = .;", "*(.sbss .sbss.* .gnu.linkonce.sb.* .scommon)",
                               "*(.bss .bss.* .gnu.linkonce.b.*)", "*(COMMON)",
                               ". = ALIGN(4);", "__mcf_bss_end = .;"], f"> {ram.memory} AT> {ram.memory}",
                       attrs="(NOLOAD)")]
    if ram.ident in lay.plain:
        out += _placed_section(lay, ram, initialized=False)
    out += _section(".heap", ["__mcf_heap_start = .;", "PROVIDE(__heap_start = .);", ". += __mcf_heap_size;",
                              "__mcf_heap_end = .;", "PROVIDE(__heap_end = .);"],
                    f"> {ram.memory}", attrs="(NOLOAD)", align=8)
    return out


def _stack_section(lay: _Layout, stack_size: int) -> list[str]:
    ram = lay.ram
    return [f"  /* Main stack: the top {_size_comment(stack_size)} of {ram.name}, grows down from __mcf_stack_top. */",
            f"  .stack ORIGIN({ram.memory}) + LENGTH({ram.memory}) - __mcf_stack_size (NOLOAD) :",
            "  {", "    __mcf_stack_limit = .;", "    . += __mcf_stack_size;", "    __mcf_stack_top = .;",
            f"  }} > {ram.memory}", ""]


def _other_ram_sections(lay: _Layout) -> list[str]:
    """Buffers placed in RAM regions other than the default one."""
    out: list[str] = []
    for r in lay.regions:
        if r is lay.ram or not r.is_ram:
            continue
        if r.ident in lay.copied:
            out += _placed_section(lay, r, initialized=True)
        if r.ident in lay.plain:
            out += _placed_section(lay, r, initialized=False)
    return out


def _final_checks(lay: _Layout) -> list[str]:
    overflow = f"{lay.ram.name} overflow: data + bss + heap run into the stack"
    return [f'ASSERT(__mcf_heap_end <= __mcf_stack_limit, "{overflow}")',
            'ASSERT(__mcf_stack_top % 8 == 0, "the stack top must be 8-byte aligned")', ""]


def render_linker_script(
    regions: Iterable[MemoryRegionLike | Mapping[str, Any]],
    placements: Mapping[str, str] | None = None,
    *,
    stack_size: int = 8192,
    heap_size: int = 0,
    flash_region: str | None = None,
    ram_region: str | None = None,
    origin: str | None = None,
) -> str:
    """Render a GNU ld script for `regions` with buffer classes placed per `placements`.

    Args:
        regions: objects or dicts with ``name``, ``base``, ``size`` and ``kind``.
        placements: buffer class (``arena``, ``io``, ``weights``) → region name.
        stack_size: bytes reserved for the main stack at the top of the default RAM region.
        heap_size: bytes reserved for a heap after .bss (0: no heap).
        flash_region: region that holds code, read-only data and load images; default: the
            first region of kind flash (lowest address). The vector table goes to its start.
            On a board without flash, name a RAM region: the image is loaded where it runs
            (.data is not copied).
        ram_region: region for .data, .bss, heap and stack; default: the RAM region whose
            ``default`` attribute is true (board models have one), else the first sram region
            (then tcm, ccm, psram).
        origin: what the script was generated for, quoted in the banner (e.g. a board id).

    Raises:
        LinkerScriptError: unknown or overlapping regions, bad kinds, impossible placements.
    """
    _check_sizes(stack_size, heap_size)
    lay = _layout(regions, placements or {}, flash_region, ram_region)
    _check_sizes(stack_size, heap_size, lay.ram)
    out = [*_banner(lay, origin), *_memory_block(lay, stack_size, heap_size), "SECTIONS", "{",
           *_flash_sections(lay), *_startup_tables(lay), *_ram_sections(lay), *_stack_section(lay, stack_size),
           *_other_ram_sections(lay), "  .ARM.attributes 0 : { KEEP(*(.ARM.attributes)) }", "}", "",
           *_final_checks(lay)]
    return "\n".join(out)


def _ram_span(regions: list[_Region], start: _Region) -> list[_Region]:
    """`start` and the RAM regions that follow it without a gap: the span a framework's single
    RAM memory region covers when it begins at `start` (e.g. DTCM + SRAM on an STM32F7)."""
    span = [start]
    for r in regions:  # sorted by base
        if r.is_ram and r.base == span[-1].end:
            span.append(r)
    return span


def _fragment_section(region: _Region, classes: list[str], where: str = "") -> list[str]:
    sec = section_name(region.ident)
    start, end = region_symbols(region.ident)
    return [f"  /* {', '.join(classes)} placed in {region.name}: NOLOAD, neither loaded nor zeroed at boot. */",
            *_section(sec, [f"{start} = .;", f"*({sec} {sec}.*)", ". = ALIGN(4);", f"{end} = .;"],
                      where, attrs="(NOLOAD)", align=16)]


def render_insert_fragment(
    regions: Iterable[MemoryRegionLike | Mapping[str, Any]],
    placements: Mapping[str, str],
    *,
    ram_region: str,
    origin: str | None = None,
) -> str:
    """A GNU ld fragment that adds placed arena/io sections to a framework's own linker script.

    `ram_region` is the region where the framework's RAM memory region begins (where its .data
    and .bss go); that RAM region is taken to cover `ram_region` and the RAM regions directly
    after it. For each region a buffer class is placed in:

    * `ram_region` itself: ``.mcf_<region>`` is inserted before ``.data``, so it starts the
      framework's RAM;
    * a later region of that span: inserted after ``.bss``, behind a ``.mcf_<region>_gap``
      section that moves the location counter up to the region's base. The framework's sections
      after .bss (the Arduino cores' heap reservation, whose end is where the heap starts) follow
      the buffers, so the heap never grows over them; the price is that the earlier regions' RAM
      after .bss stays unused (a memory report counts the gap as used);
    * a region outside the span: its own MEMORY entry ``MCF_<REGION>`` (no attributes, so the
      framework's unplaced sections never go there) and an output section in it.

    An ASSERT per section fails the link if a buffer does not land inside its region. Weights are
    not placed this way (the framework's startup copies only its own .data).
    """
    norm = _normalize(regions)
    placed = _check_placements(norm, placements)
    if "weights" in placed:
        raise LinkerScriptError("a linker-script fragment places only the arena and IO buffers, not weights",
                                hint="keep the weights in the framework's flash (.rodata)")
    start = _lookup(norm, ram_region)
    if not start.is_ram:
        raise LinkerScriptError(f"the framework's RAM region '{start.name}' is {start.kind}, not RAM")
    span = _ram_span(norm, start)
    by_region: dict[str, list[str]] = {}
    for buffer_class, region in sorted(placed.items()):
        by_region.setdefault(region.ident, []).append(buffer_class)
    targets = [r for r in norm if r.ident in by_region]
    banner = f" for {origin}" if origin else ""
    out = [f"/* Linker script fragment generated by mcuforge (generator/linker.py){banner}. Do not edit.",
           f" * Read with -T beside the framework's own script, whose RAM begins in {start.name}:",
           *(f" *   {', '.join(by_region[r.ident])} -> {r.name} ({section_name(r.ident)})" for r in targets),
           " */", ""]
    outside = [r for r in targets if r not in span]
    if outside:
        out += ["MEMORY", "{"]
        out += [f"  MCF_{r.memory} : ORIGIN = {_hex(r.base)}, LENGTH = {_hex(r.size)}  /* {r.name} */"
                for r in outside]
        out += ["}", ""]
    if start in targets:
        out += ["SECTIONS", "{", *_fragment_section(start, by_region[start.ident]), "}", "INSERT BEFORE .data;", ""]
    after = [r for r in targets if r is not start]
    if after:
        out += ["SECTIONS", "{"]
        for r in after:
            if r in span:
                out += [f"  /* Up to the start of {r.name} (the RAM before it, after .bss, stays unused). */",
                        f"  {section_name(r.ident)}_gap (NOLOAD) :",
                        "  {", f"    . += MAX({_hex(r.base)}, ABSOLUTE(.)) - ABSOLUTE(.);", "  }", "",
                        *_fragment_section(r, by_region[r.ident])]
            else:
                out += _fragment_section(r, by_region[r.ident], f"> MCF_{r.memory}")
        out += ["}", "INSERT AFTER .bss;", ""]
    for r in targets:
        first, last = region_symbols(r.ident)
        out.append(f"ASSERT({first} >= {_hex(r.base)} && {last} <= {_hex(r.end)}, "
                   f'"mcuforge: the buffers placed in {r.name} do not fit it")')
    out.append("")
    return "\n".join(out)
