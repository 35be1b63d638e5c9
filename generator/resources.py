"""Where the non-Python parts of mcuforge live.

Installed, `generator/` becomes `mcuforge/generator/` and the data folders sit beside it as
`mcuforge/runtime/`, `mcuforge/board_defs/`, `mcuforge/project_templates/`; in a source checkout
they sit beside `generator/` too. So one rule serves both: the sibling folder.
"""

from __future__ import annotations

from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent


def runtime_dir() -> Path:
    return _ROOT / "runtime"


def templates_dir() -> Path:
    return _ROOT / "project_templates"


def board_defs_dir() -> Path:
    return _ROOT / "board_defs"
