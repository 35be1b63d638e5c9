"""Coverage of a corpus of real models: which compile, which validate bit-exact, per source.

The corpus is a folder of public `.tflite` models kept outside the repository (never commit
third-party models), one sub-folder per source (e.g. `tflite-micro/`, `mlcommons/`), found through
$MCUFORGE_MODEL_ZOO or `--zoo`. Every model goes through the real command line, as a user would run
it: `mcuforge inspect --json`, `mcuforge compile` and `mcuforge validate --json`; a traceback in
any of them is reported as a crash.

    python benchmarks/model_zoo.py [--zoo DIR] [--inputs N] [--json OUT] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from survey_cli import first_error, run_mcuforge

# The installed command line, exactly as a user runs it.


@dataclass
class ModelOutcome:
    source: str
    model: str
    inspect_rc: int = -1
    supported: bool = False
    compiled: bool = False
    bit_exact: bool = False
    crashed: list[str] = field(default_factory=list)  # commands that printed a traceback
    reason: str = ""  # first line of the refusal or mismatch


def survey_model(path: Path, source: str, inputs: int = 3, timeout: float = 600.0) -> ModelOutcome:
    out = ModelOutcome(source=source, model=path.name)
    r = run_mcuforge(["inspect", "--json", str(path)], timeout)
    out.inspect_rc = r.returncode
    if "Traceback" in r.stderr:
        out.crashed.append("inspect")
    try:
        report = json.loads(r.stdout)
        out.supported = bool(report.get("supported"))
        problems = report.get("problems") or []
        if problems:
            out.reason = str(problems[0])
    except json.JSONDecodeError:
        out.reason = first_error(r.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        r = run_mcuforge(["compile", str(path), "-o", str(Path(tmp) / "out")], timeout)
        if "Traceback" in r.stderr:
            out.crashed.append("compile")
        out.compiled = r.returncode == 0
        if not out.compiled and not out.reason:
            out.reason = first_error(r.stderr)
    r = run_mcuforge(["validate", "--json", "--inputs", str(inputs), str(path)], timeout)
    if "Traceback" in r.stderr:
        out.crashed.append("validate")
    if out.compiled:
        try:
            result = json.loads(r.stdout)
            out.bit_exact = r.returncode == 0 and result.get("bit_exact") == result.get("inputs")
            if not out.bit_exact:
                out.reason = out.reason or f"{result.get('bit_exact')}/{result.get('inputs')} bit-exact"
        except json.JSONDecodeError:
            out.reason = out.reason or first_error(r.stderr)
    return out


def find_models(zoo: Path) -> list[tuple[str, Path]]:
    found = []
    for p in sorted(zoo.rglob("*.tflite")):
        rel = p.relative_to(zoo)
        found.append((rel.parts[0] if len(rel.parts) > 1 else ".", p))
    return found


def summary_rows(outcomes: list[ModelOutcome]) -> list[tuple[str, int, int, int, int]]:
    """(source, models, compiled, bit-exact, crashes) per source, then the total."""
    per: dict[str, list[ModelOutcome]] = defaultdict(list)
    for o in outcomes:
        per[o.source].append(o)
    rows = []
    for source in sorted(per):
        group = per[source]
        rows.append((source, len(group), sum(o.compiled for o in group), sum(o.bit_exact for o in group),
                     sum(bool(o.crashed) for o in group)))
    rows.append(("total", len(outcomes), sum(o.compiled for o in outcomes),
                 sum(o.bit_exact for o in outcomes), sum(bool(o.crashed) for o in outcomes)))
    return rows


def render(outcomes: list[ModelOutcome], markdown: bool) -> str:
    lines = []
    if markdown:
        lines += ["| source | models | compile | bit-exact | crashes |", "|---|---|---|---|---|"]
        lines += [f"| {s} | {n} | {c} | {b} | {x} |" for s, n, c, b, x in summary_rows(outcomes)]
    else:
        lines.append(f"{'source':<16} {'models':>6} {'compile':>8} {'bit-exact':>9} {'crashes':>7}")
        lines += [f"{s:<16} {n:>6} {c:>8} {b:>9} {x:>7}" for s, n, c, b, x in summary_rows(outcomes)]
    lines.append("")
    for o in outcomes:
        if not o.bit_exact or o.crashed:
            crash = f" CRASH in {', '.join(o.crashed)}" if o.crashed else ""
            lines.append(f"{o.source}/{o.model}:{crash} {o.reason}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zoo", type=Path, default=os.environ.get("MCUFORGE_MODEL_ZOO"))
    ap.add_argument("--inputs", type=int, default=3)
    ap.add_argument("--json", type=Path, help="write every model's outcome here")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args(argv)
    if args.zoo is None or not Path(args.zoo).is_dir():
        print("error: give the corpus folder with --zoo or $MCUFORGE_MODEL_ZOO", file=sys.stderr)
        return 2
    outcomes = []
    for source, path in find_models(Path(args.zoo)):
        o = survey_model(path, source, args.inputs)
        outcomes.append(o)
        print(f"{source}/{path.name}: {'bit-exact' if o.bit_exact else 'no'} {o.reason}"[:160],
              file=sys.stderr, flush=True)
    print(render(outcomes, args.markdown))
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
