"""The RV32 kernel paths (MCF_KERNELS_RV32) with riscv64-unknown-elf-gcc's real instructions, bit for
bit against TFLite Micro on the emulated RV32 board: the spread model of tests/test_kernels_on_device.py
(every single-operator configuration of the host kernel tests as parallel branches, next to a small
chain) in one firmware, convolutions with their im2col scratch where it fits. Host tests of the same
C (-DMCF_EMULATE_RV32) are in tests/test_kernel_rv32.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_kernels_on_device import build_firmware, run_vectors, spread_model

TOOLS = ("riscv64-unknown-elf-gcc", "qemu-system-riscv32", "cmake", "ninja")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not all(shutil.which(t) for t in TOOLS),
                       reason="needs " + ", ".join(TOOLS) + " (apt-get install gcc-riscv64-unknown-elf "
                              "picolibc-riscv64-unknown-elf qemu-system-misc cmake ninja-build)"),
]


def test_every_kernel_configuration_on_rv32(tmp_path: Path) -> None:
    model = tmp_path / "kernel_spread.tflite"
    model.write_bytes(spread_model())
    project = build_firmware(tmp_path, model, "qemu_riscv32")
    assert run_vectors(project, model.read_bytes(), 2, seed=7) == []
