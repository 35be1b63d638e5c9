"""The bit-exact reference: TFLite Micro's interpreter from the `tflite-micro` package."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

import numpy as np

from .errors import ModelError


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """TFLM's C++ prints to fd 2 directly; keep it off the user's terminal unless something fails."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):
        yield
        return
    saved = os.dup(fd)
    with open(os.devnull, "wb") as null:
        os.dup2(null.fileno(), fd)
        try:
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)


class Reference:
    def __init__(self, model_bytes: bytes, arena_size: int | None = None) -> None:
        from tflite_micro.python.tflite_micro import runtime

        size = arena_size or max(len(model_bytes) * 10, 1 << 21)
        try:
            with _quiet_stderr():
                self.interp = runtime.Interpreter.from_bytes(model_bytes, arena_size=size)
        except Exception as exc:
            raise ModelError(f"the TFLite Micro reference cannot load the model: {exc}") from exc

    def run(self, inputs: list[np.ndarray], num_outputs: int) -> list[np.ndarray]:
        for i, x in enumerate(inputs):
            self.interp.set_input(x, i)
        with _quiet_stderr():
            self.interp.invoke()
        return [np.array(self.interp.get_output(i)) for i in range(num_outputs)]
