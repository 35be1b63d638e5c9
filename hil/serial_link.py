"""Opening a board's serial link (pyserial) without losing what the board printed first.

pyserial's ``socket://`` handler empties its input at the end of ``open()``, after connecting.
An emulator started with ``wait_for_client`` (hil/emulator.py) starts its guest the moment the
connection is made, so whatever the firmware prints at once (its self-test line) can arrive in
that window and be thrown away; on a loaded machine it sometimes is. Here a ``socket://`` link
keeps it. Other URLs and device paths open exactly as ``serial.serial_for_url`` opens them.
"""

from __future__ import annotations

from typing import Any

import serial
from serial.urlhandler.protocol_socket import Serial as SocketSerial


class _KeepsFirstBytes(SocketSerial):
    """pyserial's socket link, except that opening it does not empty its input."""

    _opening = False

    def open(self) -> None:
        self._opening = True
        try:
            super().open()
        finally:
            self._opening = False

    def reset_input_buffer(self) -> None:
        if not self._opening:
            super().reset_input_buffer()


def open_serial(url: str, **kw: Any) -> Any:
    """``serial.serial_for_url(url, **kw)``; a ``socket://`` link keeps the bytes that arrived while
    it was opened."""
    if not url.startswith("socket://"):
        return serial.serial_for_url(url, **kw)
    link = _KeepsFirstBytes(None, **kw)
    link.port = url
    link.open()
    return link
