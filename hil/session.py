"""Connecting to a project's device: the board on a serial port, or its emulator.

`open_session` is the one place that decides how to reach a device: an explicit `--port` URL,
the board's USB VID:PID, or — for emulated boards — a QEMU started for the duration of the
session and stopped when it ends (also on Ctrl-C). `--port native` runs a PlatformIO project's
host program (`pio run -e native`) instead, its host link on a loopback TCP port
(MCUFORGE_HOST=tcp:PORT, runtime/ports/native); what the program prints goes to stderr.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from mcuforge.generator.boards import Board, load_board
from mcuforge.generator.build import firmware_path
from mcuforge.generator.errors import McuforgeError
from mcuforge.generator.frontends import read_model
from mcuforge.generator.ir import Graph
from mcuforge.generator.scaffold import ProjectConfig, _board_dirs, load_config

from .device import Device
from .emulator import start_emulator
from .protocol import DeviceInfo
from .transport import resolve_port


@dataclass
class Session:
    root: Path
    config: ProjectConfig
    board: Board
    graph: Graph
    model_bytes: bytes
    elf: Path
    device: Device
    info: DeviceInfo
    url: str
    emulated: bool
    native: bool = False  # PlatformIO's host program (--port native), not the board


NATIVE_PORT = "native"


@contextmanager
def _native_program(program: Path) -> Iterator[str]:
    """Runs the host program with its host link on a free loopback port; yields the pyserial URL.
    The program ends by itself when the link closes; it is stopped if it has not."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    proc = subprocess.Popen([str(program)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            env=dict(os.environ, MCUFORGE_HOST=f"tcp:{port}"))
    try:
        yield f"socket://127.0.0.1:{port}"
    finally:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _open_native(url: str, deadline: float, **kw: object) -> Device:
    """Device.open, retried while the program starts listening (a refused connect costs nothing)."""
    from .device import LinkLost

    while True:
        try:
            return Device.open(url, **kw)  # type: ignore[arg-type]
        except LinkLost:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextmanager
def open_session(root: Path, *, port: str | None = None, timeout: float = 5.0, infer_timeout: float = 120.0,
                 retries: int = 3, on_log: Callable[[str], None] | None = None) -> Iterator[Session]:
    root = Path(root).resolve()
    cfg = load_config(root)
    board = load_board(cfg.board, _board_dirs(root, cfg))
    model_path = root / cfg.model
    graph = read_model(model_path)
    model_bytes = model_path.read_bytes()
    native = port == NATIVE_PORT
    if native and cfg.framework != "platformio":
        raise McuforgeError(f"--port {NATIVE_PORT} runs a PlatformIO project's host program; "
                            f"{root.name} is a {cfg.framework} project")
    elf = firmware_path(root, cfg, board, NATIVE_PORT if native else None)
    with ExitStack() as stack:
        emulated = port is None and board.emulator is not None
        if native:
            if not elf.is_file():
                raise McuforgeError(f"no host program at {elf}",
                                    hint=f"run `mcuforge build {root} --env native` or `pio run -e native` first")
            url = stack.enter_context(_native_program(elf))
        elif emulated:
            if not elf.is_file():
                raise McuforgeError(f"no firmware at {elf}", hint=f"run `mcuforge build {root}` first")
            emu = stack.enter_context(start_emulator(board, elf))
            url = emu.url
        else:
            url = resolve_port(board, port)
        opts = {"timeout": timeout, "infer_timeout": infer_timeout, "retries": retries, "on_log": on_log}
        device = stack.enter_context(_open_native(url, time.monotonic() + 30.0, **opts) if native
                                     else Device.open(url, **opts))  # type: ignore[arg-type]
        info = device.hello(expect_sha256=hashlib.sha256(model_bytes).hexdigest(),
                            wait=30.0 if emulated or native else None)
        yield Session(root, cfg, board, graph, model_bytes, elf, device, info, url, emulated, native)
