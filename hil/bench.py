"""`mcuforge bench`: instructions per inference of the optimized kernels against the portable
reference loops (and, optionally, a firmware built elsewhere), on emulated boards.

For every model and board, two firmwares are built from the same generated project: the default
build (the kernels' fast and DSP paths, runtime/kernels/mcf_dsp.h) and one with
-DMCF_PORTABLE_KERNELS (the reference loops only). Both run the same random vectors over the
serial protocol; every output is checked against TFLite Micro, so a benchmark never reports a
firmware that computes something else. Under QEMU with `-icount shift=0` the tick counts are
exact instruction counts, identical from run to run.

A peer firmware (`--peer-elf NAME=PATH`, e.g. TensorFlow Lite Micro built by the user; mcuforge
builds none) runs in the same emulator. It must run the model at boot and print one line per
inference holding `instructions=<N>` or mcuforge's self-test form `ticks=<N> unit=instructions`
on the board's console UART; the bench takes the median of the first values it reads.

With `vs_tflm` (CLI `--vs tflm`), TensorFlow Lite Micro is built from the user's tree with its own
Makefile, once with its reference kernels and once with CMSIS-NN (mcuforge.hil.tflm_peer), linked
with a harness of mcuforge's own, and run in the same emulator on the same vectors; its outputs are
checked against the same reference. Every firmware's memory is read from its ELF and link map
(`MemorySplit`): flash as code / weights / other, RAM as arena / other, and the inference engine's
own code and constants (ours: the generated model library; TFLM: libtensorflow-microlite.a).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import socket
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from mcuforge.generator.errors import McuforgeError, UsageError

from .profile import ProfileRun

PORTABLE_FLAGS = ("-DMCF_PORTABLE_KERNELS",)
_MAP_SECTION = re.compile(r"^ (\.\S+)(?:\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S+))?\s*$")
_MAP_CONT = re.compile(r"^\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S+)\s*$")
_PEER_VALUE = re.compile(r"(?:\binstructions=(\d+)|\bticks=(\d+)\s+unit=instructions\b)")


@dataclass
class BuildMeasure:
    """One firmware: its instruction counts per inference and its model's flash."""

    instructions: list[int] = field(default_factory=list)  # per vector
    flash_model: int = 0  # .text + .rodata of the generated model library (model, data, kernels)
    bit_exact: int = 0  # vectors whose outputs all matched TFLite Micro
    unit: str = ""

    @property
    def median(self) -> int | None:
        return int(statistics.median(self.instructions)) if self.instructions else None


@dataclass
class MemorySplit:
    """A firmware's memory, from its ELF and link map. Flash: `code` (executable sections), `weights`
    (the model's constant data: mcuforge's `<prefix>_data.c`, or the .tflite flatbuffer TFLM reads),
    `other` (vector table, other constants, the .data image). RAM: `arena` (the model's tensor
    arena: mcuforge's planned arena, or the bytes TFLM's interpreter reports using) and `other`
    (.data, .bss and placed sections, without the arena buffer and the stack and heap reservations).
    `engine`: code and constants of the inference engine alone, weights excluded (ours: the
    generated model library and its kernels; TFLM: what the link took from libtensorflow-microlite.a),
    `engine_code` its executable part. `inputs`: the test inputs embedded in the firmware (ours: the
    self-test input; TFLM: the harness's vectors), counted apart from `other`."""

    flash_code: int = 0
    flash_weights: int = 0
    flash_other: int = 0
    ram_arena: int = 0
    ram_other: int = 0
    engine: int = 0
    engine_code: int = 0
    flash_inputs: int = 0

    @property
    def flash_total(self) -> int:
        return self.flash_code + self.flash_weights + self.flash_other + self.flash_inputs

    @property
    def ram_total(self) -> int:
        return self.ram_arena + self.ram_other

    def to_json(self) -> dict:
        return asdict(self) | {"flash_total": self.flash_total, "ram_total": self.ram_total}


@dataclass
class PeerLayer:
    """One operator of a peer's profiled inference: `instructions` measured around its invoke
    ("timed"), or the gap between its timed neighbours ("gap", interpreter overhead included)."""

    index: int
    op_type: str
    instructions: int | None
    how: str = "timed"


@dataclass
class PeerMeasure:
    name: str
    elf: str
    instructions: list[int] = field(default_factory=list)
    flash_elf: int = 0  # .text + .rodata of the whole peer ELF
    error: str = ""
    # TFLM peers built by mcuforge (--vs tflm):
    variant: str = ""  # e.g. tflm_ref, tflm_cmsis_nn
    label: str = ""
    build: str = ""  # how the library was built
    vectors: int = 0
    bit_exact: int = 0
    arena_used: int | None = None
    memory: MemorySplit | None = None
    layers: list[PeerLayer] = field(default_factory=list)
    profile_total: int | None = None

    @property
    def median(self) -> int | None:
        return int(statistics.median(self.instructions)) if self.instructions else None

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.instructions) and self.bit_exact == self.vectors

    def to_json(self) -> dict:
        d = asdict(self)
        d.update(median=self.median, ok=self.ok, memory=self.memory.to_json() if self.memory else None)
        return d


@dataclass
class BenchRow:
    model: str
    board: str
    macs: int
    arena_bytes: int
    lower_bound_bytes: int
    vectors: int
    optimized: BuildMeasure
    portable: BuildMeasure
    peer: PeerMeasure | None = None
    memory: MemorySplit | None = None  # the optimized firmware's
    tflm: list[PeerMeasure] = field(default_factory=list)
    profile: ProfileRun | None = None  # --per-layer: the optimized kernels built with MCF_PROFILE=1, first vector
    profile_bit_exact: bool | None = None  # whether that profiled inference matched TFLite Micro

    @property
    def speedup(self) -> float | None:
        o, p = self.optimized.median, self.portable.median
        return p / o if o and p else None

    @property
    def macs_per_instruction(self) -> float | None:
        o = self.optimized.median
        return self.macs / o if o else None

    @property
    def vs_peer(self) -> float | None:
        """Peer instructions / ours: above 1, mcuforge is faster."""
        o = self.optimized.median
        p = self.peer.median if self.peer else None
        return p / o if o and p else None

    def vs_tflm(self, variant: str) -> float | None:
        """Ours / TFLM instructions per inference (below 1: mcuforge runs fewer)."""
        o = self.optimized.median
        p = next((m.median for m in self.tflm if m.variant == variant), None)
        return o / p if o and p else None

    @property
    def ok(self) -> bool:
        return (self.optimized.bit_exact == self.vectors and self.portable.bit_exact == self.vectors
                and bool(self.optimized.instructions) and bool(self.portable.instructions)
                and all(m.ok for m in self.tflm) and self.profile_bit_exact is not False)

    def to_json(self) -> dict:
        d = asdict(self)
        d["optimized"]["median"] = self.optimized.median
        d["portable"]["median"] = self.portable.median
        if self.peer is not None:
            d["peer"]["median"] = self.peer.median
        d["memory"] = self.memory.to_json() if self.memory else None
        d["tflm"] = [m.to_json() for m in self.tflm]
        d["profile"] = self.profile.to_json() if self.profile else None
        for m in self.tflm:
            ratio = self.vs_tflm(m.variant)
            d[f"ours_vs_{m.variant}"] = ratio
        d.update(speedup=self.speedup, macs_per_instruction=self.macs_per_instruction, vs_peer=self.vs_peer,
                 ok=self.ok)
        return d


@dataclass
class BenchReport:
    rows: list[BenchRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # one-line remarks for the user (e.g. no TFLM tree)
    tflm_tree: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(r.ok for r in self.rows)

    def to_json(self) -> dict:
        return {"rows": [r.to_json() for r in self.rows], "ok": self.ok, "notes": self.notes,
                "tflm_tree": self.tflm_tree or None, "unit": "instructions per inference (QEMU -icount shift=0)"}


def parse_peers(specs: Sequence[str]) -> dict[str, Path]:
    """NAME=PATH options → {NAME: PATH}; NAME is a model name (file stem), or MODEL@BOARD."""
    peers: dict[str, Path] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise UsageError(f"--peer-elf {spec!r} is not NAME=PATH",
                             hint="e.g. --peer-elf kws_ref_model=/path/to/tflm_kws.elf")
        if not Path(path).is_file():
            raise UsageError(f"--peer-elf {name}: no file at {path}")
        peers[name] = Path(path)
    return peers


def map_input_sections(map_file: Path) -> list[tuple[str, int, str]]:
    """(section, size, object) of every input section the linker kept, from a GNU ld map."""
    lines = map_file.read_text(errors="replace").splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("Linker script and memory map"))
    except StopIteration:
        raise McuforgeError(f"{map_file} is not a GNU ld map file") from None
    out: list[tuple[str, int, str]] = []
    pending: str | None = None
    for line in lines[start:]:
        m = _MAP_SECTION.match(line)
        if m:
            if m.group(2) is None:  # the name alone; address, size and object on the next line
                pending = m.group(1)
                continue
            out.append((m.group(1), int(m.group(3), 16), m.group(4)))
        elif pending and (c := _MAP_CONT.match(line)):
            out.append((pending, int(c.group(2), 16), c.group(3)))
        pending = None
    return out


def _from_objects(obj: str, names: Sequence[str]) -> bool:
    return any(obj.endswith((f"({n})", f"/{n}")) or obj == n for n in names)


def model_flash_bytes(map_file: Path, sources: Sequence[str]) -> int:
    """.text* and .rodata* input sections the linker kept from the generated model's sources
    (its invoke code, parameters and weights, and the kernels), read from the GNU ld map."""
    objects = [f"{Path(s).name}.obj" for s in sources]
    return sum(size for sec, size, obj in map_input_sections(map_file)
               if sec.startswith((".text", ".rodata")) and _from_objects(obj, objects))


def memory_split(elf: Path, map_file: Path, board_id: str, *, weights: int, engine: int, engine_code: int,
                 arena: int, arena_buffer_symbols: Sequence[str], input_symbols: str = "") -> MemorySplit:
    """Flash code / weights / other and RAM arena / other of a firmware (see MemorySplit).
    `weights` and `engine` are computed by the caller from the map; `arena` is the model's arena
    bytes; the buffers named in `arena_buffer_symbols` are taken out of RAM "other", the symbols
    matching the regular expression `input_symbols` out of flash "other"."""
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    from mcuforge.generator.boards import load_board
    from mcuforge.generator.elf_report import memory_report

    board = load_board(board_id, [])
    rep = memory_report(elf, board, {s: s for s in arena_buffer_symbols})
    if board.flash_region() is None:  # the program is loaded into RAM: split that region by section kind
        flash, ram = _ram_image_split(elf)
    else:
        flash = sum(r.used for r in rep.regions if r.kind == "flash")
        ram = sum(r.used - r.sections.get(".stack", 0) - r.sections.get(".heap", 0)
                  for r in rep.regions if r.kind != "flash")
    ram -= sum(s.size for s in rep.symbols.values())
    from elftools.elf.sections import SymbolTableSection

    inputs = 0
    with open(elf, "rb") as fh:
        ef = ELFFile(fh)
        code = sum(s["sh_size"] for s in ef.iter_sections()
                   if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and s["sh_flags"] & SH_FLAGS.SHF_EXECINSTR)
        symtab = ef.get_section_by_name(".symtab")
        if input_symbols and isinstance(symtab, SymbolTableSection):
            pattern = re.compile(input_symbols)
            inputs = sum(s["st_size"] for s in symtab.iter_symbols()
                         if s["st_info"]["type"] == "STT_OBJECT" and pattern.fullmatch(s.name))
    return MemorySplit(flash_code=code, flash_weights=weights, flash_other=max(flash - code - weights - inputs, 0),
                       ram_arena=arena, ram_other=max(ram, 0), engine=engine, engine_code=engine_code,
                       flash_inputs=inputs)


def _ram_image_split(elf: Path) -> tuple[int, int]:
    """(image, RAM) bytes of a firmware for a board without flash (QEMU loads it into RAM): the
    image is every section with content (code, constants, the initial .data), as flash would hold
    it; RAM is every writable section but the stack and heap reservations, as on a board with flash."""
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    image = ram = 0
    with open(elf, "rb") as fh:
        for sec in ELFFile(fh).iter_sections():
            if not sec["sh_flags"] & SH_FLAGS.SHF_ALLOC:
                continue
            if sec["sh_type"] != "SHT_NOBITS":
                image += sec["sh_size"]
            if sec["sh_flags"] & SH_FLAGS.SHF_WRITE and sec.name not in (".stack", ".heap"):
                ram += sec["sh_size"]
    return image, ram


def ours_memory(project: Path, board_id: str, manifest: dict) -> MemorySplit | None:
    """MemorySplit of a generated project's firmware (weights: the `<prefix>_data.c` constants);
    None if its build writes no link map."""
    files = firmware_files(project)
    if files is None:
        return None
    elf, link_map = files
    sections = map_input_sections(link_map)
    prefix = str(manifest.get("prefix", "model"))
    data = [f"{prefix}_data.c.obj"]
    lib = [f"{Path(s).name}.obj" for s in manifest["sources"]]
    weights = sum(size for sec, size, obj in sections if sec.startswith(".rodata") and _from_objects(obj, data))
    engine = sum(size for sec, size, obj in sections
                 if sec.startswith((".text", ".rodata")) and _from_objects(obj, lib)) - weights
    engine_code = sum(size for sec, size, obj in sections if sec.startswith(".text") and _from_objects(obj, lib))
    arena = int(manifest.get("arena_bytes", 0)) + int(manifest.get("io_bytes", 0))
    return memory_split(elf, link_map, board_id, weights=weights, engine=engine,
                        engine_code=engine_code, arena=arena, arena_buffer_symbols=[f"{prefix}_arena", f"{prefix}_io"],
                        input_symbols=r"selftest_input\d+")


def elf_flash_bytes(elf: Path) -> int:
    """.text* and .rodata* section bytes of a whole ELF (for a peer firmware)."""
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as fh:
        return sum(s["sh_size"] for s in ELFFile(fh).iter_sections()
                   if s.name.startswith((".text", ".rodata")))


def firmware_files(project: Path) -> tuple[Path, Path] | None:
    """The ELF and GNU ld map of a built project's firmware (None if its build writes no map):
    build/firmware.{elf,map} of the cmake flavor, else where the project's framework puts them."""
    from mcuforge.generator.boards import load_board
    from mcuforge.generator.build import firmware_path
    from mcuforge.generator.scaffold import _board_dirs, load_config

    elf = project / "build" / "firmware.elf"
    if not (elf.is_file() and elf.with_suffix(".map").is_file()):
        cfg = load_config(project)
        elf = firmware_path(project, cfg, load_board(cfg.board, _board_dirs(project, cfg)))
    for candidate in (elf.with_suffix(".map"), elf.parent / "firmware.map"):
        if candidate.is_file():
            return elf, candidate
    return None


def map_path(project: Path) -> Path | None:
    """The GNU ld map of a built project's firmware, if its build writes one."""
    files = firmware_files(project)
    return files[1] if files else None


def _build(project: Path, model: Path, board: str, *, framework: str, cflags: Sequence[str] = (),
           port: str | None = None, profile: bool = False, say: Callable[[str], None]) -> dict:
    """Generates and builds one firmware of the bench (and, on a board without emulator, flashes
    it); returns the generated library's manifest."""
    from mcuforge.generator.boards import load_board
    from mcuforge.generator.build import build_project
    from mcuforge.generator.flash import flash_project
    from mcuforge.generator.scaffold import new_project

    if project.exists():
        shutil.rmtree(project)
    p = new_project(project, model, board, framework=framework, profile=profile)
    build_project(project, extra_cflags=cflags)
    if load_board(board, []).emulator is None:
        for line in flash_project(project, port=port):
            say(f"{model.stem} on {board}: {line}")
    return p.library.manifest


DevicePort = Callable[[Path], AbstractContextManager[str]]
"""Flashes a built project somewhere (a board-farm place) and yields the serial URL to measure it on."""


def _measure(project: Path, model_bytes: bytes, inputs: list[list[np.ndarray]], measure: BuildMeasure,
             sources: Sequence[str], label: str, on_progress: Callable[[str], None], port: str | None = None,
             device: DevicePort | None = None) -> None:
    from contextlib import nullcontext

    from mcuforge.generator.references import open_reference

    from .session import open_session

    link_map = map_path(project)
    measure.flash_model = model_flash_bytes(link_map, sources) if link_map else 0
    ref = open_reference(model_bytes)
    with (device(project) if device is not None else nullcontext(port)) as port, \
            open_session(project, port=port, infer_timeout=600.0) as s:
        for k, x in enumerate(inputs):
            res = s.device.infer(x)
            want = ref.run(x, len(s.graph.outputs))
            same = all(np.array_equal(g.reshape(-1), w.reshape(-1)) for g, w in zip(res.outputs, want, strict=True))
            measure.bit_exact += same
            measure.unit = res.unit
            if res.elapsed is not None:
                measure.instructions.append(int(res.elapsed))
            on_progress(f"{label}vector {k + 1}/{len(inputs)}: {res.elapsed:,} {res.unit}"
                        + ("" if same else " (NOT bit-exact)"))


def measure_peer(board_id: str, name: str, elf: Path, count: int, timeout: float = 300.0,
                 quiet: float = 5.0) -> PeerMeasure:
    """Runs a peer firmware in the board's emulator and reads its per-inference instruction counts:
    up to `count` of them, until it exits, or until it has printed one and then nothing for
    `quiet` seconds; `timeout` bounds the wait for the first."""
    from mcuforge.generator.boards import load_board

    from .emulator import start_emulator

    board = load_board(board_id, [])
    peer = PeerMeasure(name, str(elf), flash_elf=elf_flash_bytes(elf))
    text = ""
    with start_emulator(board, elf) as emu, socket.create_connection(("127.0.0.1", emu.port), timeout=10) as sock:
        sock.settimeout(0.5)
        deadline = time.monotonic() + timeout
        last = time.monotonic()
        while len(peer.instructions) < count and time.monotonic() < deadline:
            if peer.instructions and time.monotonic() - last > quiet:
                break
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                if not emu.alive():
                    break
                continue
            if not chunk:
                break
            last = time.monotonic()
            text += chunk.decode(errors="replace")
            peer.instructions = [int(a or b) for a, b in _PEER_VALUE.findall(text)][:count]
    if not peer.instructions:
        tail = text.strip()[-200:]
        peer.error = ("printed no `instructions=N` (or `ticks=N unit=instructions`) line within "
                      f"{timeout:g} s" + (f"; it printed: {tail!r}" if tail else ""))
    return peer


def _profile(project: Path, model: Path, board: str, x: list[np.ndarray], say: Callable[[str], None], *,
             framework: str = "cmake", port: str | None = None) -> tuple[ProfileRun, bool]:
    """Builds the optimized kernels with the per-operator profile and profiles one inference of `x`;
    also says whether its outputs matched TFLite Micro."""
    from mcuforge.generator.references import open_reference

    from .profile import measure_profile

    say(f"{model.stem} on {board}, per-layer profile: generating and building")
    _build(project, model, board, framework=framework, port=port, profile=True, say=say)
    run = measure_profile(project, x, port=port)
    want = open_reference(model.read_bytes()).run(x, len(run.outputs))
    same = all(np.array_equal(g.reshape(-1), w.reshape(-1)) for g, w in zip(run.outputs, want, strict=True))
    say(f"{model.stem} on {board}, per-layer profile: {len(run.layers)} operators, {run.total:,} {run.unit}"
        + ("" if same else " (NOT bit-exact)"))
    return run, same


def per_layer_rows(row: BenchRow) -> tuple[list[str], list[list[str]]]:
    """Header and cells of the per-layer table of one bench row: our profile, operator by operator,
    beside each TFLM peer's (when measured) and the ratio ours / TFLM."""
    prof = row.profile
    if prof is None:
        return [], []
    unit = prof.unit
    head = ["#", "op", "output", "MACs", f"ours {unit}" + (" (net)" if prof.calibration is not None else ""),
            "per MAC", "share"]
    for m in row.tflm:
        head += [m.label, f"ours / {m.label}"]
    cells = []
    for layer in prof.layers:
        line = [str(layer.index), layer.op + (" (alias)" if layer.alias else ""),
                "×".join(str(d) for d in layer.output_shape), f"{layer.macs:,}", f"{layer.net:,}",
                _ratio(layer.per_mac), f"{100 * layer.share:.1f}%"]
        for m in row.tflm:
            theirs = next((p for p in m.layers if p.index == layer.index), None)
            n = theirs.instructions if theirs else None
            mark = "*" if theirs is not None and theirs.how == "gap" else ""
            line += [(_num(n) + mark) if n is not None else "-",
                     _ratio(layer.net / n) if n and not layer.alias else "-"]
        cells.append(line)
    total = ["", "total", "", f"{prof.macs:,}", f"{prof.net_total:,}",
             _ratio(prof.net_total / prof.macs if prof.macs else None), "100%"]
    for m in row.tflm:
        n = sum(p.instructions or 0 for p in m.layers) or None
        total += [_num(n), _ratio(prof.net_total / n) if n else "-"]
    cells.append(total)
    return head, cells


PER_LAYER_NOTE = ("per-layer: the optimized kernels built with the per-operator profile (MCF_PROFILE=1, a counter "
                  "reading after each operator), first vector; (net): each operator's measured figure minus an empty "
                  "region measured the same way in the same invoke (one counter reading, about 120 instructions "
                  "under QEMU), exact within one tick (40 instructions); TFLM: each operator's invoke timed in a "
                  "second run, its own timer readings included (* = the gap between timed neighbours)")


def per_layer_tables(report: BenchReport) -> list[object]:
    """Rich tables for the CLI, one per (model, board) with a profile."""
    from rich.table import Table

    out: list[object] = []
    for r in report.rows:
        head, cells = per_layer_rows(r)
        if not head:
            continue
        t = Table(title=f"per-layer profile: {r.model} on {r.board}", title_justify="left")
        for k, col in enumerate(head):
            t.add_column(col, justify="left" if k in (1, 2) else "right")
        for line in cells:
            t.add_row(*line)
        out.append(t)
    if out:
        out.append(PER_LAYER_NOTE)
    return out


def per_layer_markdown(report: BenchReport) -> str:
    """The same tables in Markdown."""
    parts = []
    for r in report.rows:
        head, cells = per_layer_rows(r)
        if not head:
            continue
        lines = [f"**{r.model} on {r.board}**", "", "| " + " | ".join(head) + " |",
                 "|" + "|".join("---" if k in (1, 2) else "---:" for k in range(len(head))) + "|"]
        lines += ["| " + " | ".join(c) + " |" for c in cells]
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts) + (f"\n{PER_LAYER_NOTE}\n" if parts else "")


def peer_layers(graph: object, events: Sequence[object], timed_types: set[str]) -> list[PeerLayer]:
    """Operators of the graph (execution order) with the harness's events: operators whose type is
    timed take the next event; the others get the gap between their timed neighbours."""
    ops = list(graph.operators)  # type: ignore[attr-defined]
    layers: list[PeerLayer] = []
    queue = list(events)
    spans: list[tuple[int, int] | None] = []
    for k, op in enumerate(ops):
        if op.opcode in timed_types and queue:
            ev = queue.pop(0)
            spans.append((ev.begin, ev.begin + ev.instructions))  # type: ignore[attr-defined]
            layers.append(PeerLayer(k, op.opcode, ev.instructions))  # type: ignore[attr-defined]
        else:
            spans.append(None)
            layers.append(PeerLayer(k, op.opcode, None, "none"))
    for k, layer in enumerate(layers):
        if spans[k] is None and 0 < k < len(layers) - 1:
            before, after = spans[k - 1], spans[k + 1]
            if before is not None and after is not None:
                layer.instructions, layer.how = max(after[0] - before[1], 0), "gap"
    return layers


def measure_tflm(lib: object, board_id: str, graph: object, model: Path, inputs: list[list[np.ndarray]],
                 folder: Path, *, on_progress: Callable[[str], None] | None = None) -> PeerMeasure:
    """Builds the TFLM harness against `lib` (a tflm_peer.TflmLibrary), runs it in the board's
    emulator, checks every output against the reference and reads its memory from the ELF."""
    from mcuforge.generator.boards import load_board
    from mcuforge.generator.references import Reference

    from . import tflm_peer as tp

    say = on_progress or (lambda _m: None)
    variant = lib.variant  # type: ignore[attr-defined]
    model_bytes = model.read_bytes()
    sha = hashlib.sha256(model_bytes).hexdigest()
    fw = tp.build_harness(folder, load_board(board_id, []), lib, graph, model_bytes,  # type: ignore[arg-type]
                          inputs, model_name=model.stem, sha256=sha)
    peer = PeerMeasure(variant.name, str(fw.elf), variant=variant.name, label=variant.label,
                       build=lib.make_command, vectors=len(inputs))  # type: ignore[attr-defined]
    say(f"{model.stem} on {board_id}, {variant.label}: running")
    out, _text = tp.run_harness(board_id, fw.elf)
    peer.error = out.error or ("" if out.done == 0 else f"the harness ended with status {out.done}")
    peer.arena_used = out.arena_used
    ref = Reference(model_bytes)
    outs = graph.outputs  # type: ignore[attr-defined]
    for vec in out.vectors:
        peer.instructions.append(vec.instructions)
        if vec.index >= len(inputs) or len(vec.outputs) != len(outs):
            continue
        want = ref.run(inputs[vec.index], len(outs))
        same = all(got == np.ascontiguousarray(w).tobytes() for got, w in zip(vec.outputs, want, strict=True))
        peer.bit_exact += same
        say(f"{model.stem} on {board_id}, {variant.label}: vector {vec.index + 1}/{len(inputs)}: "
            f"{vec.instructions:,} instructions" + ("" if same else " (NOT bit-exact)"))
    timed = {e.op_type for e in out.events}
    peer.layers = peer_layers(graph, out.events, timed)
    peer.profile_total = out.profile_total
    sections = map_input_sections(fw.map_file)
    engine = sum(size for sec, size, obj in sections
                 if sec.startswith((".text", ".rodata")) and "libtensorflow-microlite.a(" in obj)
    engine_code = sum(size for sec, size, obj in sections
                      if sec.startswith(".text") and "libtensorflow-microlite.a(" in obj)
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    weights = 0
    with open(fw.elf, "rb") as fh:
        symtab = ELFFile(fh).get_section_by_name(".symtab")
        if isinstance(symtab, SymbolTableSection):
            weights = sum(s["st_size"] for s in symtab.iter_symbols() if s.name == "mcf_tflm_model")
    peer.memory = memory_split(fw.elf, fw.map_file, board_id, weights=weights, engine=engine, engine_code=engine_code,
                               arena=out.arena_used or 0, arena_buffer_symbols=[tp.ARENA_SYMBOL],
                               input_symbols=r"(?:_ZL\d+)?mcf_tflm_input_\d+_\d+")
    peer.flash_elf = peer.memory.flash_total
    return peer


def _num(v: int | None) -> str:
    return f"{v:,}" if v is not None else "-"


def _ratio(v: float | None) -> str:
    return f"{v:.2f}" if v is not None else "-"


def tflm_summary(report: BenchReport) -> list[str]:
    """Plain lines saying how the TFLM peers were built and what the memory columns mean."""
    if not any(r.tflm for r in report.rows):
        return []
    home = str(Path.home())  # printed as ~, so the notes pasted into the docs name no one's machine
    builds = dict.fromkeys(f"{m.label}: {m.build}".replace(f"={home}/", "=~/") for r in report.rows for m in r.tflm)
    tree = "~" + report.tflm_tree[len(home):] if report.tflm_tree.startswith(home + "/") else report.tflm_tree
    return [f"TFLite Micro from {tree}, built by its own Makefile (BUILD_TYPE=release, -O2 for its "
            "core, kernels and third-party kernels; TFLM's own default is -Os for the core); mcuforge: -O2. "
            "Both with the board's CPU flags.", *builds,
            "flash: code = executable sections, weights = the model's constants (ours: <prefix>_data.c; TFLM: the "
            ".tflite flatbuffer), other = the rest (vector table, constants, .data image) but the embedded test "
            "inputs; engine = inference code and its constants without weights, in brackets its code alone (ours: "
            "the model library; TFLM: libtensorflow-microlite.a). "
            "RAM: arena = ours planned / TFLM arena_used_bytes(), other = .data + .bss without the arena buffer, "
            "stack and heap."]


def _memory_table(rows: Sequence[BenchRow]) -> list[object]:
    """mcuforge's own memory split (no TFLM peer measured): flash code / weights / other, RAM arena / other."""
    from rich.table import Table

    rows = [r for r in rows if r.memory is not None]
    if not rows:
        return []
    mem = Table(title="memory from the ELF (bytes): flash code / weights / other, the model library (engine) "
                      "without weights, RAM arena / other", title_justify="left")
    for col in ("model", "board", "flash code", "weights", "other", "test inputs", "engine (code)", "RAM arena",
                "other"):
        mem.add_column(col, justify="left" if col in ("model", "board") else "right")
    for r in rows:
        ms = r.memory
        assert ms is not None
        mem.add_row(r.model, r.board, f"{ms.flash_code:,}", f"{ms.flash_weights:,}", f"{ms.flash_other:,}",
                    f"{ms.flash_inputs:,}", f"{ms.engine:,} ({ms.engine_code:,})", f"{ms.ram_arena:,}",
                    f"{ms.ram_other:,}")
    return [mem]


def tflm_tables(report: BenchReport) -> list[object]:
    """Rich tables (and lines) for the CLI: instructions and memory, mcuforge vs TFLite Micro."""
    from rich.table import Table

    rows = [r for r in report.rows if r.tflm]
    if not rows:
        return _memory_table(report.rows)
    variants = list(dict.fromkeys((m.variant, m.label) for r in rows for m in r.tflm))
    speed = Table(title="mcuforge vs TensorFlow Lite Micro: instructions per inference (QEMU -icount shift=0), "
                        "median; per MAC in brackets; ours / TFLM below 1: mcuforge runs fewer",
                  title_justify="left")
    for col in ("model", "board", "ours"):
        speed.add_column(col, justify="left" if col != "ours" else "right")
    for _v, label in variants:
        speed.add_column(label, justify="right")
        speed.add_column(f"ours / {label}", justify="right")
    speed.add_column("bit-exact", justify="left")
    for r in rows:
        o = r.optimized.median
        cells = [r.model, r.board, f"{_num(o)} ({o / r.macs:.2f})" if o and r.macs else _num(o)]
        exact = [f"ours {r.optimized.bit_exact}/{r.vectors}"]
        for v, label in variants:
            m = next((x for x in r.tflm if x.variant == v), None)
            med = m.median if m else None
            cells += [f"{_num(med)} ({med / r.macs:.2f})" if med and r.macs else _num(med), _ratio(r.vs_tflm(v))]
            exact.append(f"{label} {m.bit_exact if m else 0}/{r.vectors}")
        ok = r.ok
        cells.append(("[green]" if ok else "[red]") + ", ".join(exact) + ("[/green]" if ok else "[/red]"))
        speed.add_row(*cells)
    mem = Table(title="memory from the ELF (bytes)", title_justify="left")
    vs = "ours / " + " | ".join(label for _v, label in variants)
    for col in ("model", "board", "firmware", "flash code", "weights", "other", "test inputs", "engine (code)",
                f"engine {vs}", "RAM arena", "other", f"arena {vs}"):
        mem.add_column(col, justify="left" if col in ("model", "board", "firmware") else "right")
    for r in rows:
        firmwares: list[tuple[str, MemorySplit | None]] = [("ours", r.memory)]
        firmwares += [(m.label, m.memory) for m in r.tflm]
        for name, ms in firmwares:
            if ms is None:
                continue
            eng = arena = "-"
            if name == "ours":
                eng = " | ".join(_ratio(ms.engine / m.memory.engine) if m.memory and m.memory.engine else "-"
                                 for m in r.tflm)
                arena = " | ".join(_ratio(ms.ram_arena / m.memory.ram_arena)
                                   if m.memory and m.memory.ram_arena else "-" for m in r.tflm)
            mem.add_row(r.model, r.board, name, f"{ms.flash_code:,}", f"{ms.flash_weights:,}", f"{ms.flash_other:,}",
                        f"{ms.flash_inputs:,}", f"{ms.engine:,} ({ms.engine_code:,})", eng, f"{ms.ram_arena:,}",
                        f"{ms.ram_other:,}", arena)
    out: list[object] = [speed, mem, *tflm_summary(report)]
    for r in rows:
        for m in r.tflm:
            if m.error:
                out.append(f"[red]{m.label} on {r.model}/{r.board}: {m.error}[/red]")
    return out


def _bench_framework(board: object, framework: str | None) -> str:
    """The flavor a board is benchmarked with: cmake (bare metal) in emulation, else `framework` or
    the board's default; a connected board cannot use the cmake flavor (it has no flash runner)."""
    from mcuforge.generator.boards import Board

    assert isinstance(board, Board)
    if board.emulator is not None:
        if framework not in (None, "cmake"):
            raise UsageError(f"board '{board.id}' is emulated: the bench uses the bare-metal cmake flavor there",
                             hint="leave out --framework, or pick a connected board")
        return "cmake"
    fw = framework or board.default_framework
    if fw == "cmake" or fw not in board.frameworks:
        raise UsageError(f"board '{board.id}' is benchmarked on the device: it needs a framework that can flash it "
                         f"({', '.join(f for f in board.frameworks if f != 'cmake')}), not {fw}")
    return fw


def run_bench(models: Sequence[Path], boards: Sequence[str], *, vectors: int = 3, seed: int = 0,
              workdir: Path | None = None, peers: dict[str, Path] | None = None, vs_tflm: bool = False,
              tflm_dir: Path | None = None, per_layer: bool = False, framework: str | None = None,
              port: str | None = None, on_progress: Callable[[str], None] | None = None,
              device: DevicePort | None = None, device_slots: dict[str, int] | None = None) -> BenchReport:
    """Builds, runs and measures every (model, board); see the module docstring. With `vs_tflm`,
    also TFLite Micro (reference and CMSIS-NN kernels) from `tflm_dir` or $MCUFORGE_TFLM_DIR; without
    a tree the report says so in `notes` and measures mcuforge alone. With `per_layer`, a third build
    of the optimized kernels with the per-operator profile (MCF_PROFILE=1) runs the first vector and
    its profile goes into `BenchRow.profile` (the totals above come from the build without it).
    With `device` (a board-farm place, `mcuforge bench --place`), each firmware is measured where
    `device(project)` flashed it instead of in a local emulator; with `device_slots` (free places
    per board), the firmwares are built first and then measured in parallel, at most that many of a
    board at once.

    Emulated boards use the bare-metal cmake flavor. A board without emulator is a connected board:
    each firmware is built with `framework` (default: the board's own), flashed, and measured on
    `port` (default: found by USB VID:PID) in its port's unit (cycles); TFLite Micro peers run only
    in emulation."""
    from mcuforge.generator.boards import load_board
    from mcuforge.generator.frontends import read_model
    from mcuforge.generator.validate import random_inputs

    say = on_progress or (lambda _msg: None)
    peers = dict(peers or {})
    hardware = [b for b in boards if load_board(b, []).emulator is None]
    frameworks = {b: _bench_framework(load_board(b, []), framework) for b in boards}
    if len(hardware) > 1 and port:
        raise UsageError("--port names one board, and the bench was given several connected boards",
                         hint="benchmark one connected board at a time")
    if peers and hardware:
        raise UsageError(f"--peer-elf runs in an emulator; board '{hardware[0]}' is not emulated")
    names = {Path(m).stem for m in models}
    unknown = [n for n in peers if n.split("@")[0] not in names]
    if unknown:
        raise UsageError(f"--peer-elf {unknown[0]}: no benchmarked model is named {unknown[0].split('@')[0]!r}",
                         hint="NAME is the model file's name without .tflite: " + ", ".join(sorted(names)))
    from . import tflm_peer as tp

    report = BenchReport()
    tree = tp.tflm_tree(tflm_dir) if vs_tflm else None
    if vs_tflm and tree is None:
        report.notes.append(tp.NO_TREE_MESSAGE)
    if vs_tflm and hardware:
        report.notes.append(f"TFLite Micro is built with mcuforge's bare-metal harness, which runs only in "
                            f"emulation: not measured on {', '.join(hardware)}")
    if tree is not None:
        wanted = [v for b in boards if b not in hardware for v in tp.variants_for(load_board(b, []))]
        tp.check_tree(tree, wanted or tp.VARIANTS)
        report.tflm_tree = str(tree.resolve())
    libs: dict[tuple[str, str], tp.TflmLibrary] = {}
    tmp = None if workdir else tempfile.TemporaryDirectory(prefix="mcuforge-bench-")
    root = Path(workdir) if workdir else Path(tmp.name)  # type: ignore[union-attr]
    later: list[tuple[str, Callable[[], None]]] = []  # (board, measurement) when the places run them in parallel
    try:
        for model in models:
            model = Path(model)
            graph = read_model(model)
            model_bytes = model.read_bytes()
            inputs = random_inputs(graph, vectors, seed)
            for board in boards:
                row: BenchRow | None = None
                builds = {"optimized": BuildMeasure(), "portable": BuildMeasure()}
                fw = frameworks[board]
                on_port = port if board in hardware else None
                for variant, flags in (("optimized", ()), ("portable", PORTABLE_FLAGS)):
                    project = root / f"{model.stem}-{board}-{variant}"
                    say(f"{model.stem} on {board}, {variant}: generating and building ({fw})")
                    m = _build(project, model, board, framework=fw, cflags=flags, port=on_port, say=say)
                    if row is None:
                        row = BenchRow(model.stem, board, int(m["macs"]), int(m["arena_bytes"]),
                                       int(m["lower_bound_bytes"]), vectors, builds["optimized"], builds["portable"])
                    prefix = f"{model.stem} on {board}, {variant}: "
                    task = partial(_measure, project, model_bytes, inputs, builds[variant], m["sources"], prefix, say,
                                   port=on_port, device=device)
                    if device is not None and device_slots:
                        later.append((board, task))
                    else:
                        task()
                    if variant == "optimized":
                        row.memory = ours_memory(project, board, m)
                assert row is not None
                if per_layer:
                    row.profile, row.profile_bit_exact = _profile(root / f"{model.stem}-{board}-profile", model,
                                                                  board, inputs[0], say, framework=fw, port=on_port)
                if tree is not None and board not in hardware:
                    for tv in tp.variants_for(load_board(board, [])):
                        if (board, tv.name) not in libs:
                            libs[board, tv.name] = tp.build_library(tree, load_board(board, []), tv,
                                                                    on_progress=say)
                        row.tflm.append(measure_tflm(libs[board, tv.name], board, graph, model, inputs,
                                                     root / f"{model.stem}-{board}-{tv.name}", on_progress=say))
                peer_elf = peers.get(f"{model.stem}@{board}") or peers.get(model.stem)
                if peer_elf is not None:
                    say(f"{model.stem} on {board}: running peer {peer_elf}")
                    row.peer = measure_peer(board, model.stem, peer_elf, vectors)
                report.rows.append(row)
        _in_parallel(later, device_slots or {})
    finally:
        if tmp is not None:
            tmp.cleanup()
    return report


def _in_parallel(tasks: list[tuple[str, Callable[[], None]]], slots: dict[str, int]) -> None:
    """Runs every (board, task), at most slots[board] of a board at once; the first error is raised
    once every started task has ended (each releases its place itself)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    if not tasks:
        return
    gates = {b: threading.BoundedSemaphore(max(1, slots.get(b, 1))) for b, _ in tasks}

    def gated(board: str, task: Callable[[], None]) -> None:
        with gates[board]:
            task()

    with ThreadPoolExecutor(max_workers=max(1, sum(max(1, slots.get(b, 1)) for b in gates))) as pool:
        futures = [pool.submit(gated, b, t) for b, t in tasks]
        try:
            errors = [f.exception() for f in futures]
        except BaseException:  # Ctrl-C: nothing new starts; the running measurements end and release
            for f in futures:
                f.cancel()
            raise
    for err in errors:
        if err is not None:
            raise err
