#!/usr/bin/env python3
"""Benchmark the generated kernels on the emulated Cortex-M boards and print a Markdown table.

    python benchmarks/run_bench.py                       # the reference models, an385/an386/an500
    python benchmarks/run_bench.py --board mps2_an386 --vectors 5 --json bench.json
    python benchmarks/run_bench.py --peer-elf kws_ref_model@mps2_an386=tflm_kws.elf
    python benchmarks/run_bench.py --board mps2_an386 --vs tflm --tflm-dir ../tflite-micro

For every model and board it builds the optimized firmware and the portable one
(-DMCF_PORTABLE_KERNELS), runs the same random vectors on both (each output checked bit-exact
against TensorFlow Lite Micro) and reports instructions per inference under QEMU -icount: the same
measurement as `mcuforge bench` (mcuforge.hil.bench.run_bench), for several boards at once and as
Markdown. A peer firmware built elsewhere (--peer-elf) is measured in the same emulator. With
`--vs tflm`, TensorFlow Lite Micro is built from the given tree by its own Makefile (reference and
CMSIS-NN kernels) and run on the same vectors; a second table gives ours / TFLM instructions and a
third the flash (code / weights / other, engine) and RAM (arena / other) of every firmware, from the
ELF. Exit status 1 if any firmware is not bit-exact.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from mcuforge.hil.bench import BenchReport, parse_peers, per_layer_markdown, run_bench, tflm_summary

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


def tflm_markdown(report: BenchReport) -> str:
    """Instructions and memory, mcuforge vs TFLite Micro (without TFLM peers: mcuforge's memory alone)."""
    rows = [r for r in report.rows if r.tflm]
    lines: list[str] = []
    if not rows:
        rows = [r for r in report.rows if r.memory is not None]
        if not rows:
            return ""
    variants = list(dict.fromkeys((m.variant, m.label) for r in rows for m in r.tflm))
    head = ["model", "board", "MACs", "ours (per MAC)"]
    for _v, label in variants:
        head += [f"{label} (per MAC)", f"ours / {label}"]
    head.append("bit-exact (ours, " + ", ".join(label for _v, label in variants) + ")")
    if variants:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def per(v: int | None, macs: int) -> str:
        return f"{v:,} ({v / macs:.2f})" if v and macs else "-"

    for r in rows if variants else []:
        cells = [r.model, r.board, f"{r.macs:,}", per(r.optimized.median, r.macs)]
        exact = [f"{r.optimized.bit_exact}/{r.vectors}"]
        for v, _label in variants:
            m = next((x for x in r.tflm if x.variant == v), None)
            ratio = r.vs_tflm(v)
            cells += [per(m.median if m else None, r.macs), f"{ratio:.2f}" if ratio else "-"]
            exact.append(f"{m.bit_exact if m else 0}/{r.vectors}")
        cells.append(", ".join(exact))
        lines.append("| " + " | ".join(cells) + " |")
    mem_head = ["model", "board", "firmware", "flash code B", "weights B", "other B", "test inputs B",
                "engine (code) B", "RAM arena B", "RAM other B"]
    lines += ([""] if lines else []) + ["| " + " | ".join(mem_head) + " |", "|" + "---|" * len(mem_head)]
    for r in rows:
        for name, ms in [("mcuforge", r.memory)] + [(m.label, m.memory) for m in r.tflm]:
            if ms is not None:
                lines.append(f"| {r.model} | {r.board} | {name} | {ms.flash_code:,} | {ms.flash_weights:,} | "
                             f"{ms.flash_other:,} | {ms.flash_inputs:,} | {ms.engine:,} ({ms.engine_code:,}) | "
                             f"{ms.ram_arena:,} | {ms.ram_other:,} |")
    lines += [""] + [f"{line}  " for line in tflm_summary(report)]
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
    ap.add_argument("--vs", choices=["tflm"], help="also TensorFlow Lite Micro, built from --tflm-dir")
    ap.add_argument("--tflm-dir", type=Path, help="TensorFlow Lite Micro tree (default: $MCUFORGE_TFLM_DIR)")
    ap.add_argument("--per-layer", action="store_true", help="also a per-operator profile (ours beside TFLM's)")
    ap.add_argument("--workdir", type=Path, help="keep the generated projects here")
    ap.add_argument("--json", type=Path, help="also write the full report as JSON here")
    args = ap.parse_args(argv)
    models = args.models or [args.models_dir / f"{m}.tflite" for m in MODELS]
    missing = [str(m) for m in models if not m.is_file()]
    if missing:
        print(f"error: model not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    report = run_bench(models, args.board or BOARDS, vectors=args.vectors, seed=args.seed, workdir=args.workdir,
                       peers=parse_peers(args.peer_elf), vs_tflm=args.vs == "tflm", tflm_dir=args.tflm_dir,
                       per_layer=args.per_layer, on_progress=lambda msg: print(msg, file=sys.stderr))
    for note in report.notes:
        print(note, file=sys.stderr)
    sys.stdout.write(markdown(report))
    if report.rows:
        sys.stdout.write("\n" + tflm_markdown(report))
    if args.per_layer:
        sys.stdout.write("\n" + per_layer_markdown(report))
    if args.json:
        args.json.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    from mcuforge.generator.errors import McuforgeError

    try:
        sys.exit(main())
    except McuforgeError as exc:
        print(f"error: {exc.message}" + (f"\nHint: {exc.hint}" if exc.hint else ""), file=sys.stderr)
        sys.exit(exc.exit_code)
