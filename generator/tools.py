"""The one place where mcuforge runs external tools (compilers, west, pio, cmake, qemu)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Sequence
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
