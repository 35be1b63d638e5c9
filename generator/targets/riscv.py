"""RV32: riscv64-unknown-elf-gcc (32-bit multilibs) with picolibc, runtime/ports/baremetal/riscv,
QEMU's virt machine (qemu-system-riscv32)."""

from __future__ import annotations

from typing import Any

from .base import Target


def cpu_flags(cmake: Any) -> list[str]:
    """``-march=<isa> -mabi=<abi>`` from a board's ``cmake:`` section. The compiler driver picks the
    C library build (multilib) from this pair, so it must be one the toolchain has (Debian's:
    rv32imac/ilp32 among others; ``riscv64-unknown-elf-gcc --specs=picolibc.specs -print-multi-lib``)."""
    return [f"-march={cmake.march}", f"-mabi={cmake.mabi}"]


def check_cmake(cpu: Any, cmake: Any) -> None:
    if cmake.march is None or cmake.mabi is None or cmake.mcpu is not None or cmake.mfpu is not None:
        raise ValueError("cmake: a RISC-V board gives march and mabi, not mcpu/mfpu")
    if not cmake.march.startswith("rv32"):
        raise ValueError(f"cmake.march: '{cmake.march}' is not a 32-bit ISA (rv32...)")
    hard_float = cmake.mabi in ("ilp32f", "ilp32d")
    if hard_float and cpu.fpu == "none":
        raise ValueError(f"cmake.mabi: '{cmake.mabi}' passes floats in FPU registers but cpu.fpu is none")


TARGET = Target(
    arch="riscv",
    port_family="riscv",
    toolchain_file="toolchain-riscv-elf.cmake",
    compiler="riscv64-unknown-elf-gcc",
    packages="gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf",
    qemu_binary="qemu-system-riscv32",
    qemu_packages="qemu-system-misc",
    # mcf_exit() ends the emulator through the virt machine's SiFive test device: nothing to add
    emulator_args=(),
    cpu_flags=cpu_flags,
    check_cmake=check_cmake,
)
