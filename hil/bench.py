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
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from mcuforge.generator.errors import McuforgeError, UsageError

PORTABLE_FLAGS = ("-DMCF_PORTABLE_KERNELS",)
_MAP_SECTION = re.compile(r"^ (\.(?:text|rodata)\S*)(?:\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S+))?\s*$")
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
class PeerMeasure:
    name: str
    elf: str
    instructions: list[int] = field(default_factory=list)
    flash_elf: int = 0  # .text + .rodata of the whole peer ELF
    error: str = ""

    @property
    def median(self) -> int | None:
        return int(statistics.median(self.instructions)) if self.instructions else None


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

    @property
    def ok(self) -> bool:
        return (self.optimized.bit_exact == self.vectors and self.portable.bit_exact == self.vectors
                and bool(self.optimized.instructions) and bool(self.portable.instructions))

    def to_json(self) -> dict:
        d = asdict(self)
        d["optimized"]["median"] = self.optimized.median
        d["portable"]["median"] = self.portable.median
        if self.peer is not None:
            d["peer"]["median"] = self.peer.median
        d.update(speedup=self.speedup, macs_per_instruction=self.macs_per_instruction, vs_peer=self.vs_peer,
                 ok=self.ok)
        return d


@dataclass
class BenchReport:
    rows: list[BenchRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(r.ok for r in self.rows)

    def to_json(self) -> dict:
        return {"rows": [r.to_json() for r in self.rows], "ok": self.ok,
                "unit": "instructions per inference (QEMU -icount shift=0)"}


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


def model_flash_bytes(map_file: Path, sources: Sequence[str]) -> int:
    """.text* and .rodata* input sections the linker kept from the generated model's sources
    (its invoke code, parameters and weights, and the kernels), read from the GNU ld map."""
    objects = {f"({Path(s).name}.obj)" for s in sources} | {f"/{Path(s).name}.obj" for s in sources}
    total = 0
    lines = map_file.read_text(errors="replace").splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("Linker script and memory map"))
    except StopIteration:
        raise McuforgeError(f"{map_file} is not a GNU ld map file") from None
    pending = False
    for line in lines[start:]:
        m = _MAP_SECTION.match(line)
        if m:
            if m.group(2) is None:  # the name alone; address, size and object on the next line
                pending = True
                continue
            size, obj = int(m.group(3), 16), m.group(4)
            pending = False
        elif pending and (c := _MAP_CONT.match(line)):
            size, obj = int(c.group(2), 16), c.group(3)
            pending = False
        else:
            pending = False
            continue
        if any(obj.endswith(o) for o in objects):
            total += size
    return total


def elf_flash_bytes(elf: Path) -> int:
    """.text* and .rodata* section bytes of a whole ELF (for a peer firmware)."""
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as fh:
        return sum(s["sh_size"] for s in ELFFile(fh).iter_sections()
                   if s.name.startswith((".text", ".rodata")))


def _configure(project: Path, cflags: Sequence[str]) -> None:
    """Configures the project's cmake build folder with extra C flags (CMake appends $CFLAGS to the
    toolchain's CPU flags); mcuforge build then builds it."""
    from mcuforge.generator.tools import find_tool, run_tool

    cmake = find_tool("cmake", hint="apt-get install cmake ninja-build")
    env = dict(os.environ, CFLAGS=" ".join([os.environ.get("CFLAGS", ""), *cflags]).strip())
    run_tool([cmake, "-G", "Ninja", "-S", str(project), "-B", str(project / "build")], env=env, timeout=600)


def _measure(project: Path, model_bytes: bytes, inputs: list[list[np.ndarray]], measure: BuildMeasure,
             sources: Sequence[str], label: str, on_progress: Callable[[str], None]) -> None:
    from mcuforge.generator.reference import Reference

    from .session import open_session

    measure.flash_model = model_flash_bytes(project / "build" / "firmware.map", sources)
    ref = Reference(model_bytes)
    with open_session(project, infer_timeout=600.0) as s:
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


def run_bench(models: Sequence[Path], boards: Sequence[str], *, vectors: int = 3, seed: int = 0,
              workdir: Path | None = None, peers: dict[str, Path] | None = None,
              on_progress: Callable[[str], None] | None = None) -> BenchReport:
    """Builds, runs and measures every (model, board); see the module docstring."""
    from mcuforge.generator.boards import load_board
    from mcuforge.generator.build import build_project
    from mcuforge.generator.scaffold import new_project
    from mcuforge.generator.tflite_import import read_model
    from mcuforge.generator.validate import random_inputs

    say = on_progress or (lambda _msg: None)
    peers = dict(peers or {})
    for b in boards:
        if load_board(b, []).emulator is None:
            raise UsageError(f"board '{b}' is not emulated: the bench counts instructions under QEMU",
                             hint="choose an emulated board, e.g. --board mps2_an386 (see `mcuforge boards`)")
    names = {Path(m).stem for m in models}
    unknown = [n for n in peers if n.split("@")[0] not in names]
    if unknown:
        raise UsageError(f"--peer-elf {unknown[0]}: no benchmarked model is named {unknown[0].split('@')[0]!r}",
                         hint="NAME is the model file's name without .tflite: " + ", ".join(sorted(names)))
    tmp = None if workdir else tempfile.TemporaryDirectory(prefix="mcuforge-bench-")
    root = Path(workdir) if workdir else Path(tmp.name)  # type: ignore[union-attr]
    report = BenchReport()
    try:
        for model in models:
            model = Path(model)
            graph = read_model(model)
            model_bytes = model.read_bytes()
            inputs = random_inputs(graph, vectors, seed)
            for board in boards:
                row: BenchRow | None = None
                builds = {"optimized": BuildMeasure(), "portable": BuildMeasure()}
                for variant, flags in (("optimized", ()), ("portable", PORTABLE_FLAGS)):
                    project = root / f"{model.stem}-{board}-{variant}"
                    if project.exists():
                        shutil.rmtree(project)
                    say(f"{model.stem} on {board}, {variant}: generating and building")
                    p = new_project(project, model, board, framework="cmake")
                    _configure(project, flags)
                    build_project(project)
                    m = p.library.manifest
                    if row is None:
                        row = BenchRow(model.stem, board, int(m["macs"]), int(m["arena_bytes"]),
                                       int(m["lower_bound_bytes"]), vectors, builds["optimized"], builds["portable"])
                    prefix = f"{model.stem} on {board}, {variant}: "
                    _measure(project, model_bytes, inputs, builds[variant], m["sources"], prefix, say)
                assert row is not None
                peer_elf = peers.get(f"{model.stem}@{board}") or peers.get(model.stem)
                if peer_elf is not None:
                    say(f"{model.stem} on {board}: running peer {peer_elf}")
                    row.peer = measure_peer(board, model.stem, peer_elf, vectors)
                report.rows.append(row)
    finally:
        if tmp is not None:
            tmp.cleanup()
    return report
