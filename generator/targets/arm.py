"""Arm Cortex-M (ARMv7-M): arm-none-eabi-gcc, runtime/ports/baremetal/arm, QEMU's MPS2 machines."""

from __future__ import annotations

from typing import Any

from .base import Target


def cpu_flags(cmake: Any) -> list[str]:
    """``-mcpu=<core> -mthumb [-mfpu=...] -mfloat-abi=...`` from a board's ``cmake:`` section."""
    out = [f"-mcpu={cmake.mcpu}", "-mthumb"]
    if cmake.mfpu is not None:
        out.append(f"-mfpu={cmake.mfpu}")
    out.append(f"-mfloat-abi={cmake.mfloat_abi}")
    return out


def check_cmake(cpu: Any, cmake: Any) -> None:
    if cmake.mcpu is None or cmake.march is not None or cmake.mabi is not None:
        raise ValueError("cmake: an Arm board gives mcpu (and mfpu, mfloat_abi), not march/mabi")
    if cmake.mcpu != cpu.core:
        raise ValueError(f"cmake.mcpu: '{cmake.mcpu}' does not match cpu.core '{cpu.core}'")
    if cpu.fpu == "none":
        if cmake.mfpu is not None or cmake.mfloat_abi != "soft":
            raise ValueError("cmake: cpu.fpu is none, so no mfpu and mfloat_abi must be soft")
    elif cmake.mfloat_abi != "soft" and cmake.mfpu is None:
        raise ValueError(f"cmake.mfpu: needed with mfloat_abi {cmake.mfloat_abi}")
    if cpu.fpu == "sp" and cmake.mfpu is not None and "-sp-" not in cmake.mfpu:
        raise ValueError(f"cmake.mfpu: '{cmake.mfpu}' is double precision but cpu.fpu is sp")


TARGET = Target(
    arch="arm",
    port_family="arm",
    toolchain_file="toolchain-arm-none-eabi.cmake",
    compiler="arm-none-eabi-gcc",
    packages="gcc-arm-none-eabi libnewlib-arm-none-eabi",
    qemu_binary="qemu-system-arm",
    qemu_packages="qemu-system-arm",
    # mcf_exit() ends the emulator through semihosting (SYS_EXIT_EXTENDED)
    emulator_args=("-semihosting-config", "enable=on,target=native"),
    cpu_flags=cpu_flags,
    check_cmake=check_cmake,
)
