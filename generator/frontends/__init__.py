"""Model front ends: each turns one model file format into the IR (`mcuforge.generator.ir.Graph`).

`read_model` picks the front end from the file's contents (falling back to its suffix), so every
command that takes a model takes any format listed here. A new format is a new module in this
package with a `read_model(path) -> Graph`, plus one line in `_FRONTENDS`.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ModelError
from ..ir import Graph
from .files import model_bytes

# suffix → front-end module name (inside this package)
_FRONTENDS = {".tflite": "tflite", ".onnx": "onnx"}


def model_format(path: str | Path) -> str:
    """The front end for a model file: "tflite" or "onnx"."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            head = f.read(8)
    except OSError:
        head = b""
    if len(head) >= 8 and head[4:8] == b"TFL3":
        return "tflite"
    return _FRONTENDS.get(p.suffix.lower(), "tflite")


def read_model(path: str | Path) -> Graph:
    """Read any supported model file into the IR. Raises ModelError with one clear line."""
    fmt = model_format(path)
    if fmt == "onnx":
        try:
            from . import onnx as frontend
        except ImportError as exc:
            raise ModelError(f"{Path(path).name}: reading ONNX models needs the 'onnx' extra: "
                             "pip install 'mcuforge[onnx]'") from exc
        return frontend.read_model(path)
    from . import tflite
    return tflite.read_model(path)


__all__ = ["model_bytes", "model_format", "read_model"]
