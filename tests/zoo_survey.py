"""Loading the corpus survey scripts of benchmarks/ (not a package) from the tests."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def survey_module(name: str) -> ModuleType:
    """benchmarks/<name>.py as a module (its own imports of survey_cli resolve beside it)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.append(str(BENCHMARKS))
    return importlib.import_module(name)
