"""Real quantized ONNX models against onnxruntime: which compile, and how close the generated C is.

The corpus is a folder of QDQ / QOperator `.onnx` models (float models of microcontroller size
quantized with onnxruntime's `quantize_static`), kept outside the repository (never commit
third-party models) and found through $MCUFORGE_ONNX_ZOO or `--zoo`; `*.onnx` directly in it or in
sub-folders, except a `float/` sub-folder (the unquantized originals). Each model goes through the
real command line: `mcuforge compile`, then `mcuforge validate --json`, which compares the host
build with onnxruntime (CPU provider, default session options). A traceback is reported as a crash.

With `--vs-tflite`, each model is instead measured against the same network as a .tflite: `mcuforge
convert` writes it, and one `mcuforge bench` run per emulated board measures both (instructions
under QEMU -icount, each checked against its own reference: onnxruntime, TFLite Micro); the table
gives the .onnx / .tflite ratio. Models are the corpus or the paths given.

    python benchmarks/onnx_zoo.py [--zoo DIR] [--inputs N] [--json OUT]
    python benchmarks/onnx_zoo.py --vs-tflite [-b BOARD ...] [--zoo DIR | MODEL.onnx ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from survey_cli import first_error, run_mcuforge


@dataclass
class OnnxOutcome:
    model: str
    compiled: bool = False
    inputs: int = 0
    bit_exact: int = 0  # inferences with every output bit-exact
    elements: int = 0
    differing: int = 0  # output elements that differ
    max_steps: float = 0.0  # largest output difference, in quantization steps
    top1: int = 0  # inferences whose top-1 agreed on every output
    first_difference: str = ""
    crashed: list[str] = field(default_factory=list)
    reason: str = ""


def survey_model(path: Path, inputs: int = 3, timeout: float = 900.0, name: str = "") -> OnnxOutcome:
    """`name`: how the report names the model (its path within the corpus; default the file name)."""
    out = OnnxOutcome(model=name or path.name)
    with tempfile.TemporaryDirectory(prefix="mcuforge-onnx-zoo-") as tmp:
        r = run_mcuforge(["compile", str(path), "-o", str(Path(tmp) / "lib")], timeout)
    if "Traceback" in r.stderr:
        out.crashed.append("compile")
    if r.returncode != 0:
        out.reason = first_error(r.stderr)
        return out
    out.compiled = True
    r = run_mcuforge(["validate", "--json", "--inputs", str(inputs), str(path)], timeout)
    if "Traceback" in r.stderr:
        out.crashed.append("validate")
    try:
        res = json.loads(r.stdout)
    except json.JSONDecodeError:
        out.reason = first_error(r.stderr)
        return out
    if "error" in res:
        out.reason = res["error"]
        return out
    out.inputs = res["inputs"]
    out.bit_exact = res["bit_exact"]
    outs = res["outputs"]
    out.elements = sum(o["elements"] for o in outs)
    out.differing = sum(o["differing_elements"] for o in outs)
    out.max_steps = max((o["max_steps"] for o in outs), default=0.0)
    out.top1 = min((o["top1_agree"] for o in outs), default=out.inputs)
    fd = res.get("first_difference")
    if fd:
        out.first_difference = f"#{fd['operator']} {fd['opcode']} ({fd['tensor']})"
    return out


def find_models(zoo: Path) -> list[Path]:
    return sorted(p for p in zoo.rglob("*.onnx") if "float" not in p.relative_to(zoo).parts[:-1])


def render(outcomes: list[OnnxOutcome]) -> str:
    lines = ["| model | compiles | bit-exact inferences | output elements that differ | max steps | top-1 | "
             "first differing op |",
             "|---|---|---|---|---|---|---|"]
    for o in outcomes:
        if not o.compiled or not o.inputs:
            reason = o.reason.removeprefix(f"{o.model}: ")  # the message starts with the file name
            lines.append(f"| {o.model} | {'yes' if o.compiled else 'no'} | - | - | - | - | {reason[:100]} |")
            continue
        lines.append(f"| {o.model} | yes | {o.bit_exact}/{o.inputs} | {o.differing}/{o.elements} "
                     f"| {o.max_steps:g} | {o.top1}/{o.inputs} | {o.first_difference or '-'} |")
    crashed = [o.model for o in outcomes if o.crashed]
    lines.append("")
    lines.append(f"{len(outcomes)} models, {sum(o.compiled for o in outcomes)} compile, "
                 f"{sum(o.compiled and o.inputs > 0 and o.bit_exact == o.inputs for o in outcomes)} bit-exact, "
                 f"{sum(o.compiled and o.inputs > 0 and o.max_steps <= 1 for o in outcomes)} within one step, "
                 f"{len(crashed)} crashed{': ' + ', '.join(crashed) if crashed else ''}")
    return "\n".join(lines)


@dataclass
class SpeedPair:
    """One model on one board: instructions per inference of the .onnx and of its .tflite."""
    model: str
    board: str
    onnx: int = 0
    tflite: int = 0
    onnx_exact: str = ""  # bit-exact vectors / vectors against the model's own reference
    tflite_exact: str = ""
    reason: str = ""

    @property
    def ratio(self) -> float:
        return self.onnx / self.tflite if self.onnx and self.tflite else 0.0


def compare_with_tflite(path: Path, boards: list[str], vectors: int = 1, timeout: float = 3600.0) -> list[SpeedPair]:
    """`mcuforge convert` the model, then one `mcuforge bench --json` of both files per board (a board
    the model does not fit then fails alone, with its own reason)."""
    pairs = [SpeedPair(model=path.name, board=b) for b in boards]
    with tempfile.TemporaryDirectory(prefix="mcuforge-onnx-speed-") as tmp:
        onnx_copy = Path(tmp) / f"{path.stem}.onnx"
        tflite = Path(tmp) / f"{path.stem}.from_onnx.tflite"
        onnx_copy.write_bytes(path.read_bytes())
        r = run_mcuforge(["convert", str(onnx_copy), "-o", str(tflite)], timeout)
        if r.returncode != 0:
            for p in pairs:
                p.reason = "convert: " + first_error(r.stderr)
            return pairs
        for p in pairs:
            r = run_mcuforge(["bench", "--json", "-n", str(vectors), "-b", p.board, str(onnx_copy), str(tflite)],
                             timeout)
            _read_pair(p, r, onnx_copy.stem, tflite.stem)
    return pairs


def _read_pair(p: SpeedPair, r: subprocess.CompletedProcess[str], onnx_stem: str, tflite_stem: str) -> None:
    """The .onnx and .tflite medians of board p.board from one `mcuforge bench --json` run, or the reason."""
    try:
        rows = json.loads(r.stdout)["rows"]
    except (json.JSONDecodeError, KeyError):
        p.reason = "bench: " + first_error(r.stderr)
        return
    for row in rows:
        if row.get("board") != p.board or not row.get("optimized"):
            continue
        opt = row["optimized"]
        exact = f"{opt.get('bit_exact', 0)}/{row.get('vectors', 0)}"
        if row["model"] == onnx_stem:
            p.onnx, p.onnx_exact = int(opt.get("median") or 0), exact
        elif row["model"] == tflite_stem:
            p.tflite, p.tflite_exact = int(opt.get("median") or 0), exact
    if not (p.onnx and p.tflite):
        p.reason = "bench: " + (first_error(r.stderr) or "no measurement")


def render_speed(pairs: list[SpeedPair]) -> str:
    lines = ["| model | board | .onnx instructions | .tflite instructions | .onnx / .tflite | bit-exact (.onnx vs "
             "onnxruntime, .tflite vs TFLite Micro) |", "|---|---|---|---|---|---|"]
    for p in pairs:
        if p.reason:
            lines.append(f"| {p.model} | {p.board} | - | - | - | {p.reason[:100]} |")
        else:
            lines.append(f"| {p.model} | {p.board} | {p.onnx:,} | {p.tflite:,} | {p.ratio:.3f} "
                         f"| {p.onnx_exact}, {p.tflite_exact} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zoo", type=Path, default=os.environ.get("MCUFORGE_ONNX_ZOO"),
                    help="corpus folder (default $MCUFORGE_ONNX_ZOO)")
    ap.add_argument("--inputs", type=int, default=3, help="random inputs per model")
    ap.add_argument("--json", type=Path, help="also write the outcomes as JSON")
    ap.add_argument("--vs-tflite", action="store_true",
                    help="instructions of each model against the same network converted to .tflite")
    ap.add_argument("-b", "--board", action="append", help="emulated board for --vs-tflite; repeatable "
                    "(default: mps2_an386 and mps2_an385)")
    ap.add_argument("models", nargs="*", type=Path, help="models for --vs-tflite (default: the corpus)")
    args = ap.parse_args(argv)
    if args.vs_tflite and args.models:
        missing = [str(m) for m in args.models if not m.is_file()]
        if missing:
            print(f"error: no such model: {missing[0]}", file=sys.stderr)
            return 2
        return speed_main(args.models, args.board or ["mps2_an386", "mps2_an385"], args.inputs, args.json)
    if args.zoo is None or not Path(args.zoo).is_dir():
        print("error: no corpus: pass --zoo DIR or set MCUFORGE_ONNX_ZOO", file=sys.stderr)
        return 2
    if args.vs_tflite:
        return speed_main(find_models(Path(args.zoo)), args.board or ["mps2_an386", "mps2_an385"], args.inputs,
                          args.json)
    outcomes = []
    for p in find_models(Path(args.zoo)):
        outcomes.append(survey_model(p, args.inputs, name=p.relative_to(args.zoo).as_posix()))
        print(f"{outcomes[-1].model}: {'compiled' if outcomes[-1].compiled else 'refused'}", file=sys.stderr)
    print(render(outcomes))
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
    return 1 if any(o.crashed for o in outcomes) else 0


def speed_main(models: list[Path], boards: list[str], vectors: int, out: Path | None) -> int:
    pairs: list[SpeedPair] = []
    for m in models:
        pairs += compare_with_tflite(m, boards, vectors)
        print(f"{m.name}: measured", file=sys.stderr)
    print(render_speed(pairs))
    if out:
        out.write_text(json.dumps([{**asdict(p), "ratio": p.ratio} for p in pairs], indent=1))
    return 1 if any(p.reason for p in pairs) else 0


if __name__ == "__main__":
    sys.exit(main())
