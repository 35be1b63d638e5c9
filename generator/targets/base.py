"""What describes one CPU family (`Target`); the families themselves are `arm` and `riscv`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import McuforgeError


class TargetError(McuforgeError):
    """No bare-metal target for a CPU architecture."""


@dataclass(frozen=True)
class Target:
    arch: str  # the board's cpu.arch
    port_family: str  # folder under runtime/ports/baremetal/
    toolchain_file: str  # file in runtime/ports/baremetal/
    compiler: str  # the cross compiler's name
    packages: str  # Debian packages that provide the compiler and C library
    qemu_binary: str
    qemu_packages: str  # Debian package with qemu_binary
    emulator_args: tuple[str, ...]  # on every QEMU command line for this family
    cpu_flags: Callable[[Any], list[str]]  # CMakeFlags -> compile and link flags
    check_cmake: Callable[[Any, Any], None]  # (Cpu, CMakeFlags) -> None; ValueError if inconsistent
