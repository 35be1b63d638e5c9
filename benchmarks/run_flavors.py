#!/usr/bin/env python3
"""The same model in every project flavor: instructions, bit-exactness, flash and RAM, Markdown.

    python benchmarks/run_flavors.py                         # the reference models on mps2_an386
    python benchmarks/run_flavors.py --models kws_ref_model --flavors cmake zephyr
    python benchmarks/run_flavors.py --models path/to/model.onnx --flavors cmake zephyr --workdir /tmp/fl
    python benchmarks/run_flavors.py --pio-board disco_l475_iot1 --json flavors.json

A model is a name (`<models-dir>/<name>.tflite`) or the path of a `.tflite` or `.onnx` file. For each
model it generates and builds a project per flavor (`mcuforge new --framework F`, `mcuforge build`)
and runs the same random vectors (seed 0) through the host protocol, each output checked bit for bit
against the model's reference, TensorFlow Lite Micro for .tflite and onnxruntime for .onnx
(`mcuforge test --random N`); instructions are the median under QEMU -icount, as `mcuforge bench`
measures the cmake flavor. The zephyr flavor needs a Zephyr tree ($ZEPHYR_BASE, west on PATH).

PlatformIO has no emulated board: its project is built for `--pio-board` (a board of the same core
and FPU, default disco_l475_iot1 for the Cortex-M4F mps2_an386) and its model library's object
code, function by function, is compared with the cmake build's (the instruction sequence with
relocations, addresses left out). When every function is the same, the cmake flavor's instruction
count holds for it; the flash and RAM columns are that board's. Offline, a PlatformIO core with
the platform is needed ($MCUFORGE_PIO_CORE_DIR, as tests/test_project_platformio.py describes).

The "code = cmake" column counts the model library's functions (generated model and kernels)
whose code is identical to the cmake flavor's. Exit status 1 if any output is not bit-exact, 2 if a
model file is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

MODELS = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8"]
FLAVORS = ["cmake", "zephyr", "platformio"]
MODEL_SUFFIXES = (".tflite", ".onnx")


@dataclass
class FlavorRow:
    model: str
    flavor: str
    board: str
    instructions: list[int] = field(default_factory=list)
    unit: str = ""
    bit_exact: int = 0
    vectors: int = 0
    flash: int = 0
    ram: int = 0
    arena: int = 0
    arena_region: str = ""
    same_functions: int | None = None   # model library functions identical to the cmake build's
    functions: int | None = None
    differing: list[str] = field(default_factory=list)
    error: str = ""
    max_diff: float | None = None   # largest output difference from the reference (output units)

    @property
    def median(self) -> int | None:
        return int(statistics.median(self.instructions)) if self.instructions else None


def resolve_model(name: str, models_dir: Path) -> tuple[str, Path]:
    """(the table's name, the file) for a --models entry: a path ending in .tflite or .onnx is taken
    as it is and named by its file name (a .onnx and a .tflite of one stem stay apart); anything
    else is a name in the models folder, `<models_dir>/<name>.tflite`."""
    if Path(name).suffix in MODEL_SUFFIXES:
        return Path(name).name, Path(name)
    return name, models_dir / f"{name}.tflite"


def model_objects(build: Path) -> dict[str, Path]:
    """The model library's objects of a build folder (generated model and kernels: its model/ folder)."""
    return {p.name.split(".")[0]: p for p in sorted(build.rglob("*.c.o*"))
            if p.parent.name == "model" and p.suffix in (".o", ".obj")}


def functions(obj: Path, objdump: str) -> dict[str, list[str]]:
    """Each function's instructions and relocations, addresses and offsets left out."""
    out = subprocess.run([objdump, "-d", "-r", "--no-show-raw-insn", str(obj)], capture_output=True, text=True,
                         check=True).stdout
    fs: dict[str, list[str]] = {}
    cur: list[str] | None = None
    for line in out.splitlines():
        head = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if head:
            cur = fs.setdefault(head.group(1), [])
            continue
        body = re.match(r"^\s*[0-9a-f]+:\s*(.*)$", line)
        if cur is not None and body:
            ins = re.sub(r"\b[0-9a-f]+ <", "<", body.group(1))
            cur.append(re.sub(r"<[^>]*\+0x[0-9a-f]+>", "<.>", ins).split(";")[0].strip())
    return fs


def compare_code(ref_build: Path, build: Path, objdump: str) -> tuple[int, int, list[str]]:
    """(functions identical, functions in the reference build, the ones that differ or are missing)."""
    ref, other = model_objects(ref_build), model_objects(build)
    same, total, differ = 0, 0, []
    for name, obj in ref.items():
        fa = functions(obj, objdump)
        fb = functions(other[name], objdump) if name in other else {}
        for fn, code in fa.items():
            total += 1
            if fb.get(fn) == code:
                same += 1
            else:
                differ.append(f"{name}:{fn}")
    return same, total, differ


def _offline_unity(project: Path, env: str) -> None:
    """PlatformIO wants the test framework even for `pio run`; offline, copy it from the core folder."""
    core = os.environ.get("MCUFORGE_PIO_CORE_DIR")
    unity = Path(core) / "libdeps" / "Unity" if core else None
    dst = project / ".pio" / "libdeps" / env / "Unity"
    if unity is not None and unity.is_dir() and not dst.exists():
        shutil.copytree(unity, dst)


def project_dir(work: Path, flavor: str, board: str, name: str) -> Path:
    return work / f"{flavor}_{board}_{name.replace('.', '_')}"


def build_and_measure(name: str, model: Path, flavor: str, board: str, work: Path, vectors: int,
                      say: Callable[[str], None]) -> FlavorRow:
    from mcuforge.generator.build import build_project
    from mcuforge.generator.scaffold import new_project, pio_default_env
    from mcuforge.hil.runner import TestReport, random_vectors, run_vectors
    from mcuforge.hil.session import open_session

    row = FlavorRow(name, flavor, board)
    project = project_dir(work, flavor, board, name)
    if project.exists():
        shutil.rmtree(project)
    p = new_project(project, model, board, framework=flavor)
    if flavor == "platformio":
        _offline_unity(project, pio_default_env(p.board))
    say(f"{name}: building the {flavor} project for {board}")
    res = build_project(project)
    assert res.report is not None
    row.flash = sum(r.used for r in res.report.regions if r.kind == "flash")
    row.ram = sum(r.used for r in res.report.regions if r.kind != "flash")
    arena = res.report.symbols.get("arena")
    if arena is not None:
        row.arena, row.arena_region = arena.size, arena.region or "?"
    if res.board.emulator is None:
        return row
    with open_session(project, infer_timeout=600.0) as s:
        report = TestReport(s.config.model, s.graph.sha256, s.board.id, s.url, 0.0)
        run_vectors(s.device, s.graph, s.model_bytes, random_vectors(s.graph, vectors), report)
    row.vectors = len(report.vectors)
    row.bit_exact = sum(v.passed and v.max_abs_diff == 0 for v in report.vectors)
    diffs = [v.max_abs_diff for v in report.vectors if v.max_abs_diff is not None]
    row.max_diff = max(diffs) if diffs else None
    row.instructions = [int(v.elapsed) for v in report.vectors if v.elapsed is not None]
    row.unit = next((v.unit for v in report.vectors if v.unit), "")
    say(f"{name} {flavor}: {row.instructions} {row.unit}, bit-exact {row.bit_exact}/{row.vectors}")
    return row


def markdown(rows: list[FlavorRow]) -> str:
    cmake = {r.model: r.median for r in rows if r.flavor == "cmake"}
    head = ["model", "flavor", "board", "instructions", "vs cmake", "bit-exact", "code = cmake", "flash B", "RAM B",
            "arena B"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        base = cmake.get(r.model)
        if r.error:
            lines.append(f"| {r.model} | {r.flavor} | {r.board} | error: {r.error} |" + " |" * (len(head) - 4))
            continue
        if r.median is not None:
            instr = f"{r.median:,}"
            vs = f"{(r.median / base - 1) * 100:+.2f} %" if base else "-"
            exact = f"{r.bit_exact}/{r.vectors}"
            if r.max_diff:  # e.g. a Softmax that onnxruntime computes in float: within a step, not equal
                exact += f" (max diff {r.max_diff:.3g})"
        elif r.functions and r.same_functions == r.functions and base:
            instr, vs, exact = f"= cmake ({base:,})", "same code", "(cmake's)"
        else:
            instr, vs, exact = "not measured", "-", "-"
        code = f"{r.same_functions}/{r.functions}" if r.functions is not None else "-"
        lines.append(f"| {r.model} | {r.flavor} | {r.board} | {instr} | {vs} | {exact} | {code} | {r.flash:,} "
                     f"| {r.ram:,} | {r.arena:,} ({r.arena_region}) |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="mps2_an386")
    ap.add_argument("--pio-board", default="disco_l475_iot1", help="the PlatformIO flavor's board (same core)")
    ap.add_argument("--models", nargs="+", default=MODELS,
                    help="names in --models-dir (.tflite) or paths of .tflite / .onnx files")
    ap.add_argument("--models-dir", type=Path,
                    default=Path(os.environ.get("MCUFORGE_MODELS_DIR",
                                                Path(__file__).resolve().parents[1].parent / "shared" / "models")))
    ap.add_argument("--flavors", nargs="+", default=FLAVORS, choices=FLAVORS)
    ap.add_argument("--vectors", type=int, default=3)
    ap.add_argument("--objdump", default="arm-none-eabi-objdump")
    ap.add_argument("--workdir", type=Path, default=Path("flavors-work"))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    from mcuforge.generator.errors import McuforgeError

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    models = [resolve_model(m, args.models_dir) for m in args.models]
    missing = [str(path) for _, path in models if not path.is_file()]
    if missing:
        say(f"error: no model file {', '.join(missing)}")
        return 2
    args.workdir.mkdir(parents=True, exist_ok=True)
    flavors = ["cmake"] + [f for f in args.flavors if f != "cmake"]  # the reference build comes first
    rows: list[FlavorRow] = []
    for name, model in models:
        ref_build: Path | None = None
        for flavor in flavors:
            board = args.pio_board if flavor == "platformio" else args.board
            try:
                row = build_and_measure(name, model, flavor, board, args.workdir, args.vectors, say)
            except McuforgeError as exc:  # a flavor that does not build or run is a row of the table
                rows.append(FlavorRow(name, flavor, board, error=str(exc).splitlines()[0][:200]))
                continue
            project = project_dir(args.workdir, flavor, board, name)
            if flavor == "cmake":
                ref_build = project / "build"
            elif ref_build is not None:
                row.same_functions, row.functions, row.differing = compare_code(ref_build, project, args.objdump)
            rows.append(row)
    print(markdown(rows), end="")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) | {"median": r.median} for r in rows], indent=2) + "\n")
    return 0 if all(r.bit_exact == r.vectors and not r.error for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
