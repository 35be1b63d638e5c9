"""Model writers: the IR out to a standard file format (`mcuforge convert`)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from ..errors import McuforgeError, OutputExistsError
from .tflite import WrittenModel, write_tflite

__all__ = ["WrittenModel", "write_file", "write_tflite"]


def write_file(path: Path, data: bytes, *, force: bool = False) -> None:
    """Write `data` to `path` whole or not at all: a temp file beside it, renamed over it. An
    existing `path` is refused unless force."""
    path = Path(path)
    if path.exists() and not force:
        raise OutputExistsError(f"output file already exists: {path}", hint="choose another name, or pass --force")
    if path.is_dir():
        raise OutputExistsError(f"output path is a folder: {path}")
    tmp: str | None = None
    try:
        path.resolve().parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.resolve().parent)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise McuforgeError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
