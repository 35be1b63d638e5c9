"""Emulated boards: start QEMU with a firmware ELF and expose its UART as a `socket://` URL.

The emulator always runs in its own process group and is killed with the group when the
context ends, whatever ends it (normal exit, an exception, Ctrl-C), so it never outlives the
command. `-icount shift=0` makes the virtual clock advance one nanosecond per instruction:
timer readings become exact, repeatable instruction counts.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from mcuforge.generator.boards import Board
from mcuforge.generator.errors import McuforgeError, ToolError
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
    qemu = find_tool(board.qemu_binary(), hint="apt-get install qemu-system-arm qemu-system-misc")
    emu = board.emulator
    argv = [qemu, "-M", emu.machine]
    if emu.cpu:
        argv += ["-cpu", emu.cpu]
    argv += ["-display", "none", "-monitor", "none", "-nodefaults", "-nic", "none",
             "-semihosting-config", "enable=on,target=native", "-icount", "shift=0"]
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
        return status

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulator(board: Board, elf: Path, *, port: int | None = None,
                   wait_for_client: bool = True) -> RunningEmulator:
    """Start QEMU with the UART on a TCP server socket. With wait_for_client the guest does not
    run until the host connects, so no boot output is lost."""
    if not Path(elf).is_file():
        raise EmulatorError(f"firmware not found: {elf}", hint="run `mcuforge build` first")
    port = port or free_tcp_port()
    wait = "on" if wait_for_client else "off"
    argv = qemu_argv(board, Path(elf), f"tcp:127.0.0.1:{port},server=on,wait={wait}")
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    emu = RunningEmulator(board, Path(elf), proc, port, argv)
    deadline = time.monotonic() + 10
    while True:  # wait until QEMU listens (without connecting: that would start the guest)
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
            raise ToolError(f"QEMU exited at start with status {proc.returncode}: {err[-500:]}")
        if _listening(port):
            return emu
        if time.monotonic() > deadline:
            emu.stop()
            raise EmulatorError(f"QEMU did not open its serial port 127.0.0.1:{port} within 10 s")
        time.sleep(0.02)


def _listening(port: int) -> bool:
    try:
        with open("/proc/net/tcp") as fh:
            rows = fh.read().splitlines()[1:]
    except OSError:
        return True  # cannot tell without connecting; assume yes and let the connect retry
    want = f"0100007F:{port:04X}"
    return any(r.split()[1] == want and r.split()[3] == "0A" for r in rows)


def run_to_exit(board: Board, elf: Path, *, timeout: float = 60.0) -> tuple[int, str]:
    """Run the firmware until it exits through semihosting; returns (status, UART text)."""
    argv = qemu_argv(board, Path(elf), "stdio")
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        raise EmulatorError(f"the firmware did not exit within {timeout:g} s; UART so far: "
                            f"{out.decode(errors='replace')[-300:]!r}") from None
    finally:
        if proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, out.decode(errors="replace")
