#!/usr/bin/env python3
"""Benchmark the generated kernels on the emulated Cortex-M boards and print a Markdown table.

    python benchmarks/run_bench.py                       # the reference models, an385/an386/an500
    python benchmarks/run_bench.py --board mps2_an386 --vectors 5 --json bench.json
    python benchmarks/run_bench.py --peer-elf kws_ref_model@mps2_an386=tflm_kws.elf

For every model and board it builds the optimized firmware and the portable one
(-DMCF_PORTABLE_KERNELS), runs the same random vectors on both (each output checked bit-exact
against TensorFlow Lite Micro) and reports instructions per inference under QEMU -icount: the same
measurement as `mcuforge bench` (mcuforge.hil.bench.run_bench), for several boards at once and as
Markdown. A peer firmware built elsewhere (--peer-elf) is measured in the same emulator; this
repository builds none. Exit status 1 if any firmware is not bit-exact.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from mcuforge.hil.bench import BenchReport, parse_peers, run_bench

MODELS = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8"]
BOARDS = ["mps2_an385", "mps2_an386", "mps2_an500"]


def markdown(report: BenchReport) -> str:
    peer = any(r.peer is not None for r in report.rows)
    head = ["model", "board", "MACs", "optimized", "portable", "speed-up", "MACs/instr", "arena / bound B",
            "flash optimized / portable B"] + (["peer", "peer / ours"] if peer else []) + ["bit-exact"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in report.rows:
        cells = [r.model, r.board, f"{r.macs:,}", f"{r.optimized.median or 0:,}", f"{r.portable.median or 0:,}",
                 f"{r.speedup:.2f}x" if r.speedup else "-",
                 f"{r.macs_per_instruction:.3f}" if r.macs_per_instruction else "-",
                 f"{r.arena_bytes:,} / {r.lower_bound_bytes:,}",
                 f"{r.optimized.flash_model:,} / {r.portable.flash_model:,}"]
        if peer:
            cells += [f"{r.peer.median:,}" if r.peer and r.peer.median else "-",
                      f"{r.vs_peer:.2f}x" if r.vs_peer else "-"]
        cells.append(f"{min(r.optimized.bit_exact, r.portable.bit_exact)}/{r.vectors}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="*", type=Path, help="models (default: the reference models)")
    ap.add_argument("--models-dir", type=Path,
                    default=Path(os.environ.get("MCUFORGE_MODELS_DIR", Path(__file__).resolve().parents[2]
                                                / "shared" / "models")))
    ap.add_argument("--board", action="append", help=f"emulated board, repeatable (default: {' '.join(BOARDS)})")
    ap.add_argument("--vectors", type=int, default=3, help="random vectors per firmware (default 3)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--peer-elf", action="append", default=[], metavar="NAME=PATH",
                    help="firmware built elsewhere for model NAME (or MODEL@BOARD), see `mcuforge bench --help`")
    ap.add_argument("--workdir", type=Path, help="keep the generated projects here")
    ap.add_argument("--json", type=Path, help="also write the full report as JSON here")
    args = ap.parse_args(argv)
    models = args.models or [args.models_dir / f"{m}.tflite" for m in MODELS]
    missing = [str(m) for m in models if not m.is_file()]
    if missing:
        print(f"error: model not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    report = run_bench(models, args.board or BOARDS, vectors=args.vectors, seed=args.seed, workdir=args.workdir,
                       peers=parse_peers(args.peer_elf), on_progress=lambda msg: print(msg, file=sys.stderr))
    sys.stdout.write(markdown(report))
    if args.json:
        args.json.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
