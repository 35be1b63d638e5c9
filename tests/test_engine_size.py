"""Flash of the inference engine (issue 6: "code, excluding weights, <= 16 KB for kws_ref_model's
op set"), measured on a linked firmware as `mcuforge bench` splits it (hil/bench.py MemorySplit):
`engine_code` is the .text the link kept from the generated model library (invoke code and
kernels), `engine` adds its constants without the weights (parameter structs, tensor tables).

Generated code calls one kernel entry point per path (conv2d_s8.h, depthwise_conv2d_s8.h,
fully_connected_s8.h), so --gc-sections drops the paths a model does not use. Measured with
arm-none-eabi-gcc 12.2 -O2 on mps2_an386 (Cortex-M4): kws engine_code 7,464 B, engine 8,884 B
(before the entry points: 15,920 / 17,340). The short FULLY_CONNECTED output stage linked a
full-range and a clamped variant behind one entry point (~2.9 KB for kws's 64x12 layer: 10,476 /
11,952 B); with one entry point per activation range and per tail (fully_connected_s8.h
_blocks_full for kws) kws is 8,240 / 9,716 B. The bounds leave room for compiler versions, stay
under issue 6's 16 KB, and fail if every path were linked again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mcuforge.generator.build import build_project
from mcuforge.generator.scaffold import new_project
from mcuforge.hil.bench import ours_memory

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("ninja")),
                       reason="needs arm-none-eabi-gcc and ninja (apt-get install gcc-arm-none-eabi "
                              "libnewlib-arm-none-eabi ninja-build)"),
]

# kws measured 11,360 B code / 12,824 B engine on mps2_an386: the first layer (10x4 on one input channel)
# takes conv2d_s8_first (~2.9 KB, 1.54 instead of ~3 instructions per MAC, 2.4% of the inference);
# the fully-connected short path alone is 8,240 / 9,716. Still under issue 6's 16 KB.
KWS_ENGINE_CODE_MAX = 12 * 1024  # .text of the model library
KWS_ENGINE_MAX = 13 * 1024       # .text + constants other than the weights


def _kws_engine(project: Path, models_dir: Path, board: str):
    """kws built for `board` in `project`: the new project and its model library's memory."""
    p = new_project(project, models_dir / "kws_ref_model.tflite", board)
    build_project(project)
    mem = ours_memory(project, board, p.library.manifest)
    assert mem is not None, "the build wrote no link map"
    return p, mem


def test_kws_engine_flash(tmp_path: Path, models_dir: Path) -> None:
    project = tmp_path / "kws"
    p, mem = _kws_engine(project, models_dir, "mps2_an386")
    assert 0 < mem.engine_code <= KWS_ENGINE_CODE_MAX, mem
    assert mem.engine_code < mem.engine <= KWS_ENGINE_MAX, mem
    # Entry points of the paths kws uses only: the run-time dispatchers would link every path.
    prefix = p.library.manifest["prefix"]
    calls = next(project.rglob(f"{prefix}.c")).read_text()
    assert "mcf_conv2d_s8_im2col_full(" in calls
    for generic in ("mcf_conv2d_s8(", "mcf_depthwise_conv2d_s8(", "mcf_fully_connected_s8("):
        assert generic not in calls
    # RAM for inference: the arena is the model library's only RAM (issue 6: total RAM for inference
    # <= the live-tensor bound); everything else in the firmware's RAM is the port and the protocol.
    from mcuforge.hil.bench import map_input_sections, map_path

    link_map = map_path(project)
    assert link_map is not None
    lib = [f"{Path(s).name}.obj" for s in p.library.manifest["sources"]]
    ram = [(sec, size) for sec, size, obj in map_input_sections(link_map)
           if sec.startswith((".bss", ".data")) and size and any(obj.endswith(f"({o})") for o in lib)]
    assert ram == [(f".bss.{prefix}_arena", p.library.manifest["arena_bytes"])], ram
    assert p.library.manifest["arena_bytes"] <= p.library.manifest["lower_bound_bytes"]


# qemu_riscv32 (riscv64-unknown-elf-gcc 12.2 -O2, rv32imac): kws measured 14,900 B code / 16,372 B engine.
# The RV32 paths are plain loads and MUL + ADD (mcf_rv32.h): conv2d_s8_first's RV32 block takes
# ~2.6 KB (1.08 M fewer instructions than its plain-C DSP arithmetic, 70 K fewer than the im2col
# route for kws's first layer), the fully connected layer links two RV32 routines (~2.6 KB). Over
# issue 13's 12 KB line: see the README's RV32 section.
KWS_RV32_ENGINE_CODE_MAX = 15 * 1024
KWS_RV32_ENGINE_MAX = 16 * 1024 + 512


@pytest.mark.skipif(not shutil.which("riscv64-unknown-elf-gcc"),
                    reason="needs riscv64-unknown-elf-gcc (apt-get install gcc-riscv64-unknown-elf "
                           "picolibc-riscv64-unknown-elf)")
def test_kws_engine_flash_rv32(tmp_path: Path, models_dir: Path) -> None:
    _, mem = _kws_engine(tmp_path / "kws_rv32", models_dir, "qemu_riscv32")
    assert 0 < mem.engine_code <= KWS_RV32_ENGINE_CODE_MAX, mem
    assert mem.engine_code < mem.engine <= KWS_RV32_ENGINE_MAX, mem
