"""Connecting to a project's device: the board on a serial port, or its emulator.

`open_session` is the one place that decides how to reach a device: an explicit `--port` URL,
the board's USB VID:PID, or — for emulated boards — a QEMU started for the duration of the
session and stopped when it ends (also on Ctrl-C).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from mcuforge.generator.boards import Board, load_board
from mcuforge.generator.build import firmware_path
from mcuforge.generator.errors import McuforgeError
from mcuforge.generator.ir import Graph
from mcuforge.generator.scaffold import ProjectConfig, _board_dirs, load_config
from mcuforge.generator.tflite_import import read_model

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


@contextmanager
def open_session(root: Path, *, port: str | None = None, timeout: float = 5.0, infer_timeout: float = 120.0,
                 retries: int = 3, on_log: Callable[[str], None] | None = None) -> Iterator[Session]:
    root = Path(root).resolve()
    cfg = load_config(root)
    board = load_board(cfg.board, _board_dirs(root, cfg))
    model_path = root / cfg.model
    graph = read_model(model_path)
    model_bytes = model_path.read_bytes()
    elf = firmware_path(root, cfg, board)
    with ExitStack() as stack:
        emulated = port is None and board.emulator is not None
        if emulated:
            if not elf.is_file():
                raise McuforgeError(f"no firmware at {elf}", hint=f"run `mcuforge build {root}` first")
            emu = stack.enter_context(start_emulator(board, elf))
            url = emu.url
        else:
            url = resolve_port(board, port)
        device = stack.enter_context(Device.open(url, timeout=timeout, infer_timeout=infer_timeout,
                                                 retries=retries, on_log=on_log))
        info = device.hello(expect_sha256=hashlib.sha256(model_bytes).hexdigest(), wait=30.0 if emulated else None)
        yield Session(root, cfg, board, graph, model_bytes, elf, device, info, url, emulated)
