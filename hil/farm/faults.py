"""What is a fault of the place (its board or its exporter), as opposed to a failed vector.

A vector fails when the device answers wrongly; the place is at fault when it does not answer at
all (the link is lost, replies time out), when it cannot be flashed, or when the coordinator no
longer lists its resources (the exporter went away). A faulty place is taken out of the run and
released; the vectors it had not finished go back to the queue for another place.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..device import Device, DeviceTimeout, LinkLost


class PlaceFault(Exception):
    """The place stopped answering or disappeared; its unfinished work must go elsewhere."""


@dataclass
class LostPlace:
    place: str
    reason: str

    def describe(self) -> str:
        return f"place {self.place} lost: {self.reason}"


class WatchedDevice:
    """A Device whose link faults (and a place marked lost from outside) raise PlaceFault, so that
    the runner, which records device errors as failed vectors, stops instead."""

    def __init__(self, device: Device, lost: threading.Event) -> None:
        self._device = device
        self._lost = lost

    def _check(self) -> None:
        if self._lost.is_set():
            raise PlaceFault("the place was taken out of the run")

    def infer(self, inputs: Sequence[np.ndarray], *, reset_state: bool = False) -> Any:
        self._check()
        try:
            return self._device.infer(inputs, reset_state=reset_state)
        except (LinkLost, DeviceTimeout) as exc:
            raise PlaceFault(exc.message) from None

    def read_state(self, nbytes: int) -> Any:
        self._check()
        try:
            return self._device.read_state(nbytes)
        except (LinkLost, DeviceTimeout) as exc:
            raise PlaceFault(exc.message) from None
