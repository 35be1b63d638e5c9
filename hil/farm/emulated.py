"""Emulated boards as farm places: a small HTTP service that owns one QEMU per place.

Each place has a board (an emulated one: mps2_an385, qemu_riscv32, …) and a fixed loopback TCP
port for its console UART. The service does what a probe and a power switch do for a real board:

  PUT  /place/NAME/firmware   body = the ELF: (re)start QEMU with it ("flashing"); the guest
                              waits for the first serial connection, so no boot output is lost
  POST /place/NAME/reset      QMP system_reset (the reset button)
  GET  /place/NAME            JSON status: board, UART port, powered, firmware
  GET  /power/NAME/1 | /0     power on (QEMU with the last firmware) / off (QEMU stopped)
  GET  /power/NAME            "1" or "0"  (labgrid's NetworkPowerPort model `simplerest`)

`exporter_config()` writes what labgrid-exporter needs to publish the places: per place one
resource group with a NetworkSerialPort (QEMU's UART, raw TCP), a NetworkPowerPort (simplerest,
pointing here) and an MCUForgeEmulator (where to flash, which board). Everything listens on
loopback unless told otherwise.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from mcuforge.generator.boards import Board
from mcuforge.generator.errors import McuforgeError

from ..emulator import RunningEmulator, free_tcp_port, start_emulator

RESOURCE_CLASS = "MCUForgeEmulator"
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class PlaceServiceError(McuforgeError):
    """The emulated-place service refused a request or could not be reached."""


@dataclass
class EmulatedPlace:
    name: str
    board: Board
    uart_port: int
    firmware: Path | None = None
    emulator: RunningEmulator | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def powered(self) -> bool:
        return self.emulator is not None and self.emulator.alive()

    def status(self) -> dict[str, Any]:
        return {"name": self.name, "board": self.board.id, "uart_port": self.uart_port, "powered": self.powered,
                "firmware": self.firmware.name if self.firmware else None}


class EmulatedPlaces:
    """The places one service serves; every method is safe to call from several threads."""

    def __init__(self, places: list[tuple[str, Board]], workdir: Path | None = None, host: str = "127.0.0.1") -> None:
        for name, board in places:
            if not _NAME.match(name):
                raise PlaceServiceError(f"place name {name!r}: use letters, digits, '_', '.', '-'")
            if board.emulator is None:
                raise PlaceServiceError(f"board '{board.id}' has no emulator; it cannot be an emulated place")
        if len({n for n, _ in places}) != len(places):
            raise PlaceServiceError("place names must differ")
        self.host = host
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="mcuforge-places-"))
        self.places = {name: EmulatedPlace(name, board, free_tcp_port()) for name, board in places}
        # QEMU dies with the thread that started it (PR_SET_PDEATHSIG): these threads live as long
        # as the service, so its emulators end with it even when it is killed outright
        self._launcher = ThreadPoolExecutor(max_workers=max(1, len(self.places)), thread_name_prefix="qemu-launch")

    def get(self, name: str) -> EmulatedPlace:
        try:
            return self.places[name]
        except KeyError:
            raise PlaceServiceError(f"no place {name!r} here") from None

    def flash(self, name: str, elf: bytes) -> EmulatedPlace:
        if not elf.startswith(b"\x7fELF"):
            raise PlaceServiceError("the firmware is not an ELF file")
        p = self.get(name)
        with p.lock:
            folder = self.workdir / name
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "firmware.elf"
            self._stop(p)
            path.write_bytes(elf)
            p.firmware = path
            self._start(p)
        return p

    def power(self, name: str, on: bool) -> EmulatedPlace:
        p = self.get(name)
        with p.lock:
            if not on:
                self._stop(p)
            elif not p.powered:
                if p.firmware is None:
                    raise PlaceServiceError(f"place {name} has no firmware to boot: flash it first")
                self._start(p)
        return p

    def reset(self, name: str) -> EmulatedPlace:
        p = self.get(name)
        with p.lock:
            if p.emulator is None or not p.emulator.alive():
                raise PlaceServiceError(f"place {name} is powered off")
            p.emulator.reset()
        return p

    def close(self) -> None:
        """Stops every emulator (and removes the firmware copies of a temporary work folder)."""
        for p in self.places.values():
            with p.lock:
                self._stop(p)
        self._launcher.shutdown(wait=True)
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _start(self, p: EmulatedPlace) -> None:
        assert p.firmware is not None
        firmware = p.firmware
        p.emulator = self._launcher.submit(start_emulator, p.board, firmware, port=p.uart_port, wait_for_client=True,
                                           qmp=True, die_with_parent=True).result()

    @staticmethod
    def _stop(p: EmulatedPlace) -> None:
        if p.emulator is not None:
            p.emulator.stop()
            p.emulator = None


def exporter_config(places: EmulatedPlaces, service_url: str) -> dict[str, dict[str, Any]]:
    """labgrid-exporter's configuration: one resource group per place, named as the place."""
    out: dict[str, dict[str, Any]] = {}
    for name, p in places.places.items():
        out[name] = {
            "location": f"emulated {p.board.id} (QEMU) on {places.host}",
            "NetworkSerialPort": {"host": places.host, "port": p.uart_port, "protocol": "raw", "speed": 115200},
            "NetworkPowerPort": {"model": "simplerest", "host": f"{service_url}/power/{name}/{{value}}", "index": 0},
            RESOURCE_CLASS: {"url": f"{service_url}/place/{name}", "board": p.board.id},
        }
    return out


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the service is not a web server
        pass

    def _reply(self, code: int, body: str | dict[str, Any], ctype: str = "text/plain") -> None:
        data = (json.dumps(body) if isinstance(body, dict) else body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json" if isinstance(body, dict) else ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str) -> None:
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        places = self.server.places
        try:
            if method == "GET" and len(parts) == 2 and parts[0] == "place":
                self._reply(200, places.get(parts[1]).status())
            elif method == "PUT" and len(parts) == 3 and parts[0] == "place" and parts[2] == "firmware":
                size = int(self.headers.get("Content-Length") or 0)
                self._reply(200, places.flash(parts[1], self.rfile.read(size)).status())
            elif method == "POST" and len(parts) == 3 and parts[0] == "place" and parts[2] == "reset":
                self._reply(200, places.reset(parts[1]).status())
            elif method == "GET" and parts[:1] == ["power"] and len(parts) in (2, 3):
                if len(parts) == 3:
                    if parts[2] not in ("0", "1"):
                        raise PlaceServiceError(f"power value {parts[2]!r}: 0 or 1")
                    places.power(parts[1], parts[2] == "1")
                self._reply(200, "1" if places.get(parts[1]).powered else "0")
            elif method == "GET" and not parts:
                self._reply(200, {"places": [p.status() for p in places.places.values()]})
            else:
                self._reply(404, {"error": f"no such request: {method} {self.path}"})
        except McuforgeError as exc:
            self._reply(409, {"error": exc.message})

    def do_GET(self) -> None:
        self._route("GET")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_POST(self) -> None:
        self._route("POST")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], places: EmulatedPlaces) -> None:
        super().__init__(address, _Handler)
        self.places = places


def serve(places: EmulatedPlaces, port: int = 0) -> _Server:
    """The HTTP server for `places` on (places.host, port); call serve_forever() on it, and
    places.close() after it ends."""
    return _Server((places.host, port), places)


def service_url(server: _Server) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"


# ---- the client side: what a farm client or labgrid driver sends to the service ------------------

def _request(method: str, url: str, data: bytes | None = None, timeout: float = 30.0) -> bytes:
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return bytes(resp.read())
    except urllib.error.HTTPError as exc:
        try:
            reason = json.loads(exc.read()).get("error", str(exc))
        except ValueError:
            reason = str(exc)
        raise PlaceServiceError(f"{method} {url}: {reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise PlaceServiceError(f"{method} {url}: {getattr(exc, 'reason', exc)}") from None


def flash_place(place_url: str, elf: Path, timeout: float = 60.0) -> None:
    """Hands the firmware to the service, which restarts the place's emulator with it."""
    _request("PUT", f"{place_url}/firmware", Path(elf).read_bytes(), timeout)


def reset_place(place_url: str, timeout: float = 10.0) -> None:
    _request("POST", f"{place_url}/reset", b"", timeout)


def power_off_place(place_url: str, timeout: float = 5.0) -> None:
    """Stops the place's emulator (the service's simplerest power URL beside the place URL)."""
    base, _, name = place_url.rstrip("/").rpartition("/place/")
    _request("GET", f"{base}/power/{name}/0", None, timeout)
