"""Reading a model file's bytes, shared by every front end (kept apart from the package's
`__init__`, which imports the front ends, so that they need not import it back)."""

from __future__ import annotations

from pathlib import Path

from ..errors import ModelError


def model_bytes(path: str | Path, kind: str) -> tuple[bytes, str]:
    """The bytes and file name of a model file (`kind`: ".tflite", ".onnx" for the messages);
    ModelError with one clear line when it is missing, a folder or unreadable."""
    p = Path(path)
    if not p.exists():
        raise ModelError(f"model file not found: {p}")
    if p.is_dir():
        raise ModelError(f"model path is a folder, not a model file ({kind}): {p}")
    try:
        return p.read_bytes(), p.name
    except OSError as exc:
        raise ModelError(f"cannot read model file {p}: {exc.strerror}") from exc
