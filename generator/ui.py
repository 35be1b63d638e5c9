"""The consoles. Only the CLI (and the pytest plugin) write to the user; libraries return data."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class Verbosity:
    level = 0  # 0 normal, 1 -v (debug), 2 -vv (tracebacks)


def debug(msg: str) -> None:
    if Verbosity.level >= 1:
        err.print(f"[dim]{escape(msg)}[/dim]")


def info(msg: str) -> None:
    err.print(escape(msg))


def warning(msg: str) -> None:
    err.print(f"[yellow]warning:[/yellow] {escape(msg)}")


def error(msg: str, hint: str | None = None) -> None:
    err.print(f"[bold red]error:[/bold red] {escape(msg)}")
    if hint:
        err.print(f"Hint: {escape(hint)}")
