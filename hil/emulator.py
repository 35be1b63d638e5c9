"""Emulated boards: start QEMU with a firmware ELF and expose its UART as a `socket://` URL.

The emulator always runs in its own process group and is killed with the group when the
context ends, whatever ends it (normal exit, an exception, Ctrl-C), so it never outlives the
command. `-icount shift=0` makes the virtual clock advance one nanosecond per instruction:
timer readings become exact, repeatable instruction counts.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcuforge.generator.boards import Board
from mcuforge.generator.errors import McuforgeError, ToolError
from mcuforge.generator.targets import target_for
from mcuforge.generator.tools import find_tool


class EmulatorError(McuforgeError):
    """The emulator could not be started or did not behave."""


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def qemu_argv(board: Board, elf: Path, serial: str) -> list[str]:
    """The QEMU command line for a board's emulator section; `serial` is QEMU's -serial value."""
    if board.emulator is None:
        raise EmulatorError(f"board '{board.id}' is not an emulated board",
                            hint="flash real hardware with `mcuforge flash --port …`")
    target = target_for(board.cpu.arch)
    qemu = find_tool(target.qemu_binary, hint=f"apt-get install {target.qemu_packages}")
    emu = board.emulator
    argv = [qemu, "-M", emu.machine]
    if emu.cpu:
        argv += ["-cpu", emu.cpu]
    argv += ["-display", "none", "-monitor", "none", "-nodefaults", "-nic", "none",
             *target.emulator_args, "-icount", "shift=0"]
    # Earlier UARTs go nowhere so that the console UART is the one wired to `serial`.
    for _ in range(emu.uart_index):
        argv += ["-serial", "null"]
    argv += ["-serial", serial, *emu.extra_args, "-kernel", str(elf)]
    return argv


@dataclass
class RunningEmulator:
    board: Board
    elf: Path
    proc: subprocess.Popen[bytes]
    port: int
    argv: list[str] = field(default_factory=list)
    qmp_path: Path | None = None

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int | None:
        """Kill the emulator's whole process group; returns its exit status if it had ended."""
        status = self.proc.poll()
        if status is None:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        if self.qmp_path is not None:
            shutil.rmtree(self.qmp_path.parent, ignore_errors=True)
        return status

    def reset(self, *, timeout: float = 5.0) -> None:
        """Reset the emulated board (QMP `system_reset`), as its reset button would; needs
        `start_emulator(..., qmp=True)`. The firmware boots again; the serial connection stays."""
        if self.qmp_path is None:
            raise EmulatorError("this emulator was started without a QMP socket",
                                hint="start it with start_emulator(..., qmp=True)")
        if not self.alive():
            raise EmulatorError(f"the emulator has exited (status {self.proc.returncode})")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(timeout)
                s.connect(str(self.qmp_path))
                f = s.makefile("rwb")
                _qmp_reply(f)  # the greeting
                for cmd in ("qmp_capabilities", "system_reset"):
                    f.write(json.dumps({"execute": cmd}).encode() + b"\n")
                    f.flush()
                    reply = _qmp_reply(f)
                    if "error" in reply:
                        raise EmulatorError(f"QEMU refused {cmd}: {reply['error'].get('desc', reply['error'])}")
        except (OSError, ValueError) as exc:
            raise EmulatorError(f"cannot reset the emulator through {self.qmp_path}: {exc}") from None

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGKILL the child when the thread that started it ends (with
    the whole process when it is killed outright); None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)  # loaded before the fork: the child only calls it
    pr_set_pdeathsig = 1

    def preexec() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)

    return preexec


def start_emulator(board: Board, elf: Path, *, port: int | None = None,
                   wait_for_client: bool = True, qmp: bool = False,
                   die_with_parent: bool = False) -> RunningEmulator:
    """Start QEMU with the UART on a TCP server socket. With wait_for_client the guest does not
    run until the host connects, so no boot output is lost. With qmp, QEMU also listens on a
    QMP unix socket, which `RunningEmulator.reset()` uses. With die_with_parent (Linux), QEMU is
    killed when the calling thread ends, so a service killed outright (SIGKILL) leaves no
    emulator behind: call it from a thread that lives as long as the emulator should.

    The listening socket is opened here and handed to QEMU (chardev `fd=`), not named by a port
    QEMU binds later: between choosing a free port and QEMU binding it, another process could
    take the port, and the host would then talk to someone else's socket (or another client to
    this QEMU) and read nothing."""
    if not Path(elf).is_file():
        raise EmulatorError(f"firmware not found: {elf}", hint="run `mcuforge build` first")
    listener = _listen(port)
    port = int(listener.getsockname()[1])
    wait = "on" if wait_for_client else "off"
    argv = qemu_argv(board, Path(elf), "chardev:mcf-uart")
    argv += ["-chardev", f"socket,id=mcf-uart,fd={listener.fileno()},server=on,wait={wait},nodelay=on"]
    qmp_path = Path(tempfile.mkdtemp(prefix="mcuforge-qmp-")) / "qmp.sock" if qmp else None
    if qmp_path is not None:
        argv += ["-qmp", f"unix:{qmp_path},server=on,wait=off"]
    try:
        with listener:  # QEMU has its own copy
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, pass_fds=(listener.fileno(),), start_new_session=True,
                                    preexec_fn=_die_with_parent() if die_with_parent else None)
    except BaseException:
        if qmp_path is not None:
            shutil.rmtree(qmp_path.parent, ignore_errors=True)
        raise
    emu = RunningEmulator(board, Path(elf), proc, port, argv, qmp_path)
    # Clients may connect at once (the socket listens already); waiting here only turns a QEMU
    # that fails at start into an error that says why. With wait_for_client QEMU says when it
    # waits for its client; without, there is nothing to wait for.
    seen = b""
    deadline = time.monotonic() + 10
    while wait_for_client and b"waiting for connection" not in seen and time.monotonic() < deadline:
        assert proc.stderr is not None
        if select.select([proc.stderr], [], [], 0.05)[0]:
            chunk = os.read(proc.stderr.fileno(), 4096)
            seen += chunk
            if chunk:
                continue
        if proc.poll() is not None:
            break
    if proc.poll() is not None:
        err = (seen + (proc.stderr.read() if proc.stderr else b"")).decode(errors="replace").strip()
        emu.stop()
        raise ToolError(f"QEMU exited at start with status {proc.returncode}: {err[-500:]}")
    return emu


def _listen(port: int | None) -> socket.socket:
    """A TCP socket listening on 127.0.0.1: `port`, else one the system picks (no other socket
    holds it: nothing can take it before QEMU does)."""
    s = socket.socket()
    try:
        if port:  # a fixed port (a farm place restarted): the last emulator's connection may linger
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port or 0))
        s.listen(1)
    except OSError as exc:
        s.close()
        raise EmulatorError(f"cannot listen on 127.0.0.1:{port} for the emulator's serial port: {exc}") from None
    return s


def _qmp_reply(f: Any) -> dict[str, Any]:
    """The next QMP message that is not an asynchronous event."""
    while True:
        line = f.readline()
        if not line:
            raise ValueError("QMP connection closed")
        msg: dict[str, Any] = json.loads(line)
        if "event" not in msg:
            return msg
