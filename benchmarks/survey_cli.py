"""What the corpus surveys (model_zoo.py, onnx_zoo.py) share: running the real command line on a
model, and the one-line reason of a refusal."""

from __future__ import annotations

import subprocess
import sys

MCUFORGE = [sys.executable, "-c", "import sys; from mcuforge.generator.cli import main; sys.exit(main())"]


def run_mcuforge(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """`mcuforge ARGS` in a fresh interpreter, output captured, whatever its exit status."""
    return subprocess.run([*MCUFORGE, *args], capture_output=True, text=True, timeout=timeout, check=False)


def first_error(text: str) -> str:
    """The text of the first `error:` line, else the last non-empty line."""
    for line in text.splitlines():
        if line.startswith("error:"):
            return line[len("error:"):].strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ""
