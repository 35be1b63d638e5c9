"""`mcuforge flash`: put the built firmware on the device.

Zephyr projects use `west flash`, PlatformIO projects `pio run -t upload`. An emulated board has
nothing to program: its emulator is started with the firmware and keeps serving the UART on a
socket:// URL (for `mcuforge run/test --port …` or a terminal) until Ctrl-C.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from .build import _zephyr_env, built_project, pio_default_env, west_workspace
from .errors import UsageError
from .tools import find_tool, stream_tool


def flash_project(root: Path, *, port: str | None = None) -> Iterator[str]:
    """Yields progress lines; returns when flashing is done (or, for an emulator, on Ctrl-C)."""
    built = built_project(root)
    root, cfg, board, elf = built.root, built.config, built.board, built.elf
    if board.emulator is not None and port is None:
        from mcuforge.hil.emulator import start_emulator

        with start_emulator(board, elf, wait_for_client=True) as emu:
            yield f"{board.id} is running in {board.emulator.machine} (QEMU); its UART is at {emu.url}"
            yield f"connect with: mcuforge run {root} --port {emu.url}   (Ctrl-C stops the emulator)"
            while emu.alive():
                time.sleep(0.2)
            yield f"the emulator exited with status {emu.proc.returncode}"
        return
    lines: list[str] = []
    if cfg.framework == "zephyr":
        env = _zephyr_env(board)
        cmd = [find_tool("west"), "flash", "-d", str(root / "build")]
        stream_tool(cmd, cwd=west_workspace(env), env=env, on_line=lines.append)
    elif cfg.framework == "platformio":
        cmd = [find_tool("pio"), "run", "-d", str(root), "-e", pio_default_env(board), "-t", "upload"]
        if port:
            cmd += ["--upload-port", port]
        stream_tool(cmd, cwd=root, on_line=lines.append)
    else:
        raise UsageError(f"board '{board.id}' has no emulator and the cmake flavor has no flash runner",
                         hint="flash build/firmware.elf with your probe's tool (openocd, pyocd, J-Link)")
    yield from lines[-5:]
    yield f"flashed {elf.name} to {board.id}"
