"""What every reference runner offers: the interface validate, test and bench call."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class ReferenceRunner(Protocol):
    """Runs a model the way its own runtime does, on IR-typed inputs, giving IR-typed outputs
    (graph order), so they compare directly with the generated C's."""

    def run(self, inputs: list[np.ndarray], num_outputs: int) -> list[np.ndarray]:
        """One inference; successive calls are one session (a stateful model's state carries over)."""
        ...

    def restart(self) -> None:
        """A new session: the state as before the first invoke."""
        ...

    def tensor(self, index: int) -> np.ndarray:
        """An IR tensor's value after the last run, where the runner can give it."""
        ...
