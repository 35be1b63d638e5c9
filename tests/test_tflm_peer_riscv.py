"""`mcuforge bench --vs tflm` on the emulated RV32 board (qemu_riscv32): TensorFlow Lite Micro built by
its own Makefile for TARGET=riscv32_generic (reference kernels) with Debian's riscv64-unknown-elf-gcc
and picolibc, run in the same QEMU as mcuforge's firmware. The unit tests need nothing; the bench
test needs a TFLM tree ($MCUFORGE_TFLM_DIR, with the third-party folders its Makefile would download,
eyalroz_printf among them, and a riscv_toolchain folder, which may be empty) and skips without it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from mcuforge.generator.boards import load_board
from mcuforge.hil import tflm_peer as tp

TOOLS = ("riscv64-unknown-elf-gcc", "riscv64-unknown-elf-g++", "qemu-system-riscv32", "make", "cmake", "ninja")
TFLM_DIR = os.environ.get("MCUFORGE_TFLM_DIR", "")


def test_an_rv32_board_gets_the_riscv32_generic_reference_build() -> None:
    rv, arm = load_board("qemu_riscv32", []), load_board("mps2_an386", [])
    assert [v.name for v in tp.variants_for(rv)] == ["tflm_ref"] and tp.variants_for(arm) == tp.VARIANTS
    (ref,) = tp.variants_for(rv)
    args = tp.make_variables(Path("/t"), rv, ref, Path("/cache/x"), "/usr/bin/", ["-isystem", "/inc dir"])
    assert {"TARGET=riscv32_generic", "TARGET_TOOLCHAIN_PREFIX=riscv64-unknown-elf-", "RISCV_ARCH=rv32imac",
            "RISCV_ABI=ilp32", "BUILD_TYPE=release", "KERNEL_OPTIMIZATION_LEVEL=-O2", "BASE_GENDIR=/cache/x",
            "TARGET_TOOLCHAIN_ROOT=/usr/bin/"} <= set(args)
    extra = next(a for a in args if a.startswith("RISCV_EXTRA_CFLAGS="))
    assert "--specs=picolibc.specs" in extra and "'/inc dir'" in extra
    assert not any(a.startswith(("OPTIMIZED_KERNEL_DIR", "TARGET_ARCH=")) for a in args)


def test_riscv_downloads(tmp_path: Path) -> None:
    (ref,) = tp.RISCV_VARIANTS
    base = tmp_path / tp.DOWNLOADS
    for d in ("flatbuffers", "gemmlowp", "ruy", "kissfft", "eyalroz_printf"):
        (base / d).mkdir(parents=True)
        (base / d / "README").write_text("x")
    assert tp.missing_downloads(tmp_path, [ref]) == ["pigweed", "riscv_toolchain"]
    (base / "pigweed").mkdir()
    (base / "riscv_toolchain").mkdir()  # empty: the Makefile's own toolchain download is not used
    assert tp.missing_downloads(tmp_path, [ref]) == []
    (base / "eyalroz_printf" / "README").unlink()
    assert tp.missing_downloads(tmp_path, [ref]) == ["eyalroz_printf"]


def test_riscv_harness_has_no_cortex_m_debug_log() -> None:
    entries = [tp.ResolverEntry("CONV_2D", "AddConv2D", "Register_CONV_2D")]
    arm = tp.render_harness(entries, model_name="m", arena_bytes=1024, banner="b")
    rv = tp.render_harness(entries, model_name="m", arena_bytes=1024, banner="b", riscv=True)
    assert "cortex_m_generic" in arm and "RegisterDebugLogCallback(Log)" in arm
    assert "cortex_m_generic" not in rv and "RegisterDebugLogCallback" not in rv


@pytest.mark.slow
@pytest.mark.skipif(not all(shutil.which(t) for t in TOOLS), reason="needs " + ", ".join(TOOLS))
@pytest.mark.skipif(not TFLM_DIR, reason="MCUFORGE_TFLM_DIR is not set: no TensorFlow Lite Micro tree to build "
                                         "the peer from")
def test_bench_vs_tflm_on_rv32(models_dir: Path, tmp_path: Path) -> None:
    from mcuforge.hil.bench import run_bench

    report = run_bench([models_dir / "ad01_int8.tflite"], ["qemu_riscv32"], vectors=2, workdir=tmp_path,
                       vs_tflm=True, tflm_dir=Path(TFLM_DIR))
    assert report.ok and len(report.rows) == 1
    (row,) = report.rows
    (m,) = row.tflm
    assert m.variant == "tflm_ref" and m.ok and m.bit_exact == 2 and len(m.instructions) == 2, m.error
    again, _ = tp.run_harness("qemu_riscv32", Path(m.elf))
    assert [v.instructions for v in again.vectors] == m.instructions
    ratio = row.vs_tflm("tflm_ref")
    assert ratio is not None and ratio < 1.0  # fewer instructions than TFLM's reference kernels (0.38 measured)
