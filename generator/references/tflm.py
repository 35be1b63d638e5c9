"""The reference for .tflite models: TFLite Micro's interpreter from the `tflite-micro` package."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..errors import ModelError


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


class TflmReference:
    """One TFLite Micro interpreter. Successive `run` calls are one session: a stateful model's
    resource variables carry over from one invoke to the next, as on the device. `restart` starts
    a new session (a fresh interpreter: CALL_ONCE runs again at the next invoke), which is what a
    generated model's reset_state() matches; TFLM's own Interpreter.reset() would instead fill
    the variables with their zero point and never run CALL_ONCE again."""

    def __init__(self, model_bytes: bytes, arena_size: int | None = None, *, keep_tensors: bool = False) -> None:
        """`keep_tensors`: every tensor keeps its value after invoke (TFLM's kPreserveAllTensors),
        so `tensor()` can read intermediate ones, e.g. the values a stream assigns to its state."""
        self._model = model_bytes
        self._arena = arena_size or max(len(model_bytes) * 10, 1 << 21)
        self._keep = keep_tensors
        self.interp = self._load()

    def _load(self) -> Any:
        from tflite_micro.python.tflite_micro import runtime

        config = (runtime.InterpreterConfig.kPreserveAllTensors if self._keep
                  else runtime.InterpreterConfig.kAllocationRecording)
        try:
            with _quiet_stderr():
                return runtime.Interpreter.from_bytes(self._model, arena_size=self._arena, intrepreter_config=config)
        except Exception as exc:
            raise ModelError(f"the TFLite Micro reference cannot load the model: {exc}") from exc

    def restart(self) -> None:
        """A new session: the state as before the first invoke."""
        self.interp = self._load()

    def tensor(self, index: int) -> np.ndarray:
        """A tensor of the main subgraph after the last invoke (needs keep_tensors=True)."""
        return np.array(self.interp.GetTensor(index, 0)["tensor_data"])

    def run(self, inputs: list[np.ndarray], num_outputs: int) -> list[np.ndarray]:
        for i, x in enumerate(inputs):
            self.interp.set_input(x, i)
        with _quiet_stderr():
            self.interp.invoke()
        return [np.array(self.interp.get_output(i)) for i in range(num_outputs)]
