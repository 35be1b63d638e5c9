"""Writing output folders safely: never half-written, never clobbering without --force."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import McuforgeError, OutputExistsError


def replace_dir(out_dir: Path, fill: Callable[[Path], None], *, force: bool = False) -> None:
    """Create `out_dir` by calling fill(tmp) on a fresh temp folder beside it, then renaming.

    An existing `out_dir` is refused unless force; with force it is replaced only once the new
    contents are complete. On any failure the temp folder is removed and `out_dir` is untouched.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not force:
        raise OutputExistsError(f"output folder already exists: {out_dir}",
                                hint="choose another folder, or pass --force to replace it")
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputExistsError(f"output path exists and is not a folder: {out_dir}")
    parent = out_dir.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise McuforgeError(f"cannot create folder {parent}: {exc.strerror}") from exc
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=parent))
    except OSError as exc:  # a read-only or special file system: one line, not a traceback
        raise McuforgeError(f"cannot write the output folder {out_dir}: {exc.strerror or exc}",
                            hint="choose a folder you can write to") from exc
    old: Path | None = None
    try:
        fill(tmp)
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=parent))
            old.rmdir()
            out_dir.rename(old)
        tmp.rename(out_dir)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not out_dir.exists():
            old.rename(out_dir)
        if isinstance(exc, OSError):  # e.g. the disk filled up while writing
            raise McuforgeError(f"cannot write the output folder {out_dir}: {exc.strerror or exc}") from exc
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
