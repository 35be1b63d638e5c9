"""CPU families the bare-metal CMake flavour builds for, one module each (`arm`, `riscv`).

Each module describes its family with a `Target`: the compiler flags a board's ``cmake:`` section
turns into, the checks that section must pass, the port folder (``runtime/ports/baremetal/<family>``)
and the CMake toolchain file, the cross compiler, and what the family adds to a QEMU command line.
The rest of mcuforge asks `target_for(arch)` instead of testing the architecture itself.

This package knows nothing of board files: `cpu_flags` and `check_cmake` take any object with the
attributes of `generator.boards.CMakeFlags` (and `Cpu`), so `generator.boards` can use it freely.
"""

from __future__ import annotations

from .base import Target, TargetError

__all__ = ["Target", "TargetError", "target_for", "targets"]


def targets() -> dict[str, Target]:
    """Every family, by architecture name."""
    from . import arm, riscv

    return {t.arch: t for t in (arm.TARGET, riscv.TARGET)}


def target_for(arch: str) -> Target:
    """The family for a board's ``cpu.arch``; `TargetError` if the CMake flavour has none."""
    known = targets()
    try:
        return known[arch]
    except KeyError:
        raise TargetError(f"the bare-metal CMake flavour has no target for {arch} cores",
                          hint=f"supported: {', '.join(sorted(known))}") from None
