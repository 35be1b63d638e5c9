"""The one place where mcuforge runs external tools (compilers, west, pio, cmake, qemu)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import ToolError


def find_tool(name: str, hint: str | None = None) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolError(f"'{name}' was not found on PATH", hint=hint)
    return path


def run_tool(cmd: Sequence[str | Path], *, cwd: Path | None = None, input: bytes | None = None,
             timeout: float | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run a tool; on failure raise ToolError quoting the command, its exit status and output tail."""
    argv = [str(c) for c in cmd]
    try:
        proc = subprocess.run(argv, cwd=cwd, input=input, capture_output=True, timeout=timeout, env=env)
    except FileNotFoundError as exc:
        raise ToolError(f"'{argv[0]}' was not found on PATH") from exc
    except subprocess.TimeoutExpired as exc:
        raise ToolError(f"`{shlex.join(argv)}` did not finish within {timeout:g} s") from exc
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).decode(errors="replace").strip().splitlines()[-15:]
        detail = ("\n" + "\n".join(tail)) if tail else ""
        raise ToolError(f"`{shlex.join(argv)}` failed with exit status {proc.returncode}{detail}")
    return proc


def stream_tool(cmd: Sequence[str | Path], *, cwd: Path | None = None, env: dict[str, str] | None = None,
                on_line: Callable[[str], None] | None = None, timeout: float | None = None) -> None:
    """Run a long tool (a build), passing each output line to on_line as it comes.

    On failure, ToolError quotes the command, its exit status and the last lines of output.
    """
    argv = [str(c) for c in cmd]
    tail: deque[str] = deque(maxlen=25)
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace", bufsize=1)
    except FileNotFoundError as exc:
        raise ToolError(f"'{argv[0]}' was not found on PATH") from exc
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            if on_line:
                on_line(line)
        status = proc.wait(timeout=timeout)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if status != 0:
        raise ToolError(f"`{shlex.join(argv)}` failed with exit status {status}\n" + "\n".join(tail))
