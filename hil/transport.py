"""Finding the serial port of a board: an explicit ``--port``, or the board's USB VID:PID.

``resolve_port`` returns something ``serial.serial_for_url`` opens: a device path
(``/dev/ttyACM0``, ``COM3``) or a URL (``socket://…``, ``rfc2217://…``, ``loop://``). Emulated
boards have no port to find: the caller starts the emulator and uses its ``socket://`` URL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mcuforge.generator.boards import Board

from .device import DeviceError

__all__ = ["PortNotFound", "describe_port", "resolve_port"]


class PortNotFound(DeviceError):
    """No port, or more than one, matches the board."""


def _comports() -> list[Any]:
    from serial.tools import list_ports

    return list(list_ports.comports())


def _usb_id(p: Any) -> str | None:
    vid, pid = getattr(p, "vid", None), getattr(p, "pid", None)
    return f"{vid:04x}:{pid:04x}" if vid is not None and pid is not None else None


def describe_port(p: Any) -> str:
    """One line for a ``ListPortInfo``: device, USB id, description, serial number."""
    parts = [str(p.device)]
    usb = _usb_id(p)
    if usb:
        parts.append(f"[{usb}]")
    desc = getattr(p, "description", None)
    if desc and desc != "n/a" and desc != p.device:
        parts.append(str(desc))
    serial_number = getattr(p, "serial_number", None)
    if serial_number:
        parts.append(f"serial {serial_number}")
    return " ".join(parts)


def resolve_port(board: Board, port: str | None, *,
                 comports: Callable[[], Sequence[Any]] | None = None) -> str:
    """The port to open for ``board``.

    ``port`` given: returned as is (a URL such as ``socket://127.0.0.1:4321`` or
    ``rfc2217://host:port``, or a device path or name). ``port`` None: the one serial port whose
    USB VID:PID is in the board's ``usb`` list; none or several raise PortNotFound listing what
    was found. ``comports`` replaces ``serial.tools.list_ports.comports`` (for tests).
    """
    if port is not None:
        port = port.strip()
        if not port:
            raise DeviceError("the port is empty", hint="pass --port /dev/ttyACM0 (or a socket:// URL)")
        return port
    if board.emulator is not None:
        raise DeviceError(
            f"board '{board.id}' is emulated: there is no serial port to detect",
            hint="let mcuforge start the emulator (leave out --port), or pass the emulator's "
            "--port socket://127.0.0.1:PORT",
        )
    if not board.usb:
        raise PortNotFound(
            f"board '{board.id}' lists no USB VID:PID to recognise its port by",
            hint="pass --port (e.g. /dev/ttyACM0, COM3), or add `usb: [\"vvvv:pppp\"]` to its board file",
        )
    found = list((comports or _comports)())
    wanted = {u.lower() for u in board.usb}
    matches = [p for p in found if _usb_id(p) in wanted]
    if len(matches) == 1:
        return str(matches[0].device)
    ids = ", ".join(board.usb)
    if not matches:
        seen = "; ".join(describe_port(p) for p in found) if found else "no serial ports at all"
        raise PortNotFound(
            f"no serial port of board '{board.id}' (USB {ids}) found; ports present: {seen}",
            hint="plug the board in (a data cable, not a charge-only one), or pass --port",
        )
    listed = "; ".join(describe_port(p) for p in matches)
    raise PortNotFound(
        f"{len(matches)} serial ports match board '{board.id}' (USB {ids}): {listed}",
        hint=f"choose one with --port, e.g. --port {matches[0].device}",
    )
