"""A fault-injecting TCP proxy for testing the host ⇄ device link.

It sits between the host (``Device.open(proxy.url)``) and a device's TCP serial port (an
emulator's ``socket://127.0.0.1:PORT``), forwards the byte stream frame by frame (a frame is
everything up to and including the next ``0x00``), and applies configured faults to chosen
frames: flip a byte, drop the frame, go silent from that frame on, close the connection, or call
a function once the frame went through (e.g. to reset the emulator in the middle of a run).
Faults are deterministic: each names a direction, optionally a message type, and which matching
frame (1st, 2nd, …) it hits. Everything runs in threads on the loopback interface::

    faults = [Fault.flip(TO_HOST, frame_type=MsgType.RESULT), Fault.drop(TO_DEVICE, nth=3)]
    with FaultProxy(emu.url, faults) as proxy, Device.open(proxy.url) as dev:
        dev.infer([x])
        assert proxy.applied == [...]

With ``upstream=None`` the proxy is a black hole: it accepts connections and never answers.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from enum import Enum
from types import TracebackType

from .protocol import DecodeError, decode_frame

__all__ = ["TO_DEVICE", "TO_HOST", "Direction", "Fault", "FaultProxy"]


class Direction(Enum):
    TO_DEVICE = "host→device"
    TO_HOST = "device→host"


TO_DEVICE = Direction.TO_DEVICE
TO_HOST = Direction.TO_HOST


class Action(Enum):
    FLIP = "flip"
    DROP = "drop"
    SILENCE = "silence"
    CLOSE = "close"
    CALL = "call"


@dataclass
class Fault:
    """One fault: hits the ``nth`` frame (1-based) going ``direction`` that matches
    ``frame_type`` (a message type id; None matches every non-empty frame, text included).

    - FLIP: XOR the byte at ``offset`` (from the frame's first byte; default: its middle) with
      ``mask``. A result of 0x00 splits the frame in two, which is a fault of its own kind.
    - DROP: the frame and its delimiter never arrive.
    - SILENCE: from this frame on, nothing more goes in ``direction``.
    - CLOSE: both connections are closed instead of forwarding this frame.
    - CALL: ``callback()`` runs right after the frame was forwarded.
    """

    direction: Direction
    action: Action
    nth: int = 1
    frame_type: int | None = None
    offset: int | None = None
    mask: int = 0x01
    callback: Callable[[], object] | None = None
    seen: int = field(default=0, init=False)
    fired: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if self.nth < 1:
            raise ValueError("nth counts from 1")
        if not 1 <= self.mask <= 0xFF:
            raise ValueError("mask must be within 1..255")
        if self.action == Action.CALL and self.callback is None:
            raise ValueError("a CALL fault needs a callback")

    @classmethod
    def flip(cls, direction: Direction, *, nth: int = 1, frame_type: int | None = None,
             offset: int | None = None, mask: int = 0x01) -> Fault:
        return cls(direction, Action.FLIP, nth, frame_type, offset, mask)

    @classmethod
    def drop(cls, direction: Direction, *, nth: int = 1, frame_type: int | None = None) -> Fault:
        return cls(direction, Action.DROP, nth, frame_type)

    @classmethod
    def silence(cls, direction: Direction, *, nth: int = 1, frame_type: int | None = None) -> Fault:
        return cls(direction, Action.SILENCE, nth, frame_type)

    @classmethod
    def close(cls, direction: Direction, *, nth: int = 1, frame_type: int | None = None) -> Fault:
        return cls(direction, Action.CLOSE, nth, frame_type)

    @classmethod
    def call(cls, direction: Direction, callback: Callable[[], object], *, nth: int = 1,
             frame_type: int | None = None) -> Fault:
        return cls(direction, Action.CALL, nth, frame_type, callback=callback)

    def describe(self) -> str:
        what = "frame" if self.frame_type is None else f"frame of type 0x{self.frame_type:02x}"
        return f"{self.action.value} {self.direction.value} {what} #{self.nth}"


def _frame_type(segment: bytes) -> int | None:
    """Message type of a frame (COBS bytes without the delimiter), None if it is not a frame."""
    try:
        return int(decode_frame(segment).TYPE)
    except DecodeError:
        return None


def _parse_upstream(upstream: str | tuple[str, int] | None) -> tuple[str, int] | None:
    if upstream is None or isinstance(upstream, tuple):
        return upstream
    rest = upstream.removeprefix("socket://")
    host, _, port = rest.rpartition(":")
    if not host or not port.split("?")[0].isdigit():
        raise ValueError(f"upstream must be socket://HOST:PORT or (host, port), not {upstream!r}")
    return host, int(port.split("?")[0])


class FaultProxy:
    """Forwards one TCP connection at a time from ``url`` to ``upstream``, applying ``faults``.

    The upstream connection is made when a client connects (so an emulator that waits for its
    first client starts only then). ``applied`` lists the faults that fired, in order;
    ``frames`` counts the frames seen per direction.
    """

    def __init__(self, upstream: str | tuple[str, int] | None, faults: Iterable[Fault] = (), *,
                 connect_timeout: float = 5.0) -> None:
        self.upstream = _parse_upstream(upstream)
        self.connect_timeout = connect_timeout
        self.faults: list[Fault] = list(faults)
        self.applied: list[str] = []
        self.frames: dict[Direction, int] = {TO_DEVICE: 0, TO_HOST: 0}
        self.connections = 0
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._silent: set[Direction] = set()
        self._closed = threading.Event()
        self._conn_lock = threading.Lock()
        self._conn_id = 0
        self._socks: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(4)
        self._server.settimeout(0.1)
        self.port = int(self._server.getsockname()[1])
        self._spawn(self._accept_loop, "proxy-accept")

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    # ---- control ---------------------------------------------------------------------------------

    def add(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def go_silent(self, direction: Direction | None = None) -> None:
        """From now on swallow everything in ``direction`` (both when None)."""
        with self._lock:
            self._silent.update([direction] if direction else [TO_DEVICE, TO_HOST])
            self.applied.append(f"silence {direction.value if direction else 'both directions'} (by call)")

    def disconnect(self) -> None:
        """Close the current connection (both sides) now; the proxy keeps listening."""
        with self._lock:
            self.applied.append("close (by call)")
        self._close_conn()

    def close(self) -> None:
        self._closed.set()
        with suppress(OSError):
            self._server.close()
        self._close_conn()
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout=2)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # ---- plumbing --------------------------------------------------------------------------------

    def _spawn(self, target: Callable[..., None], name: str, *args: object) -> None:
        t = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(t)
        t.start()

    def _close_conn(self, conn_id: int | None = None) -> None:
        """Closes the current connection (only if it is still ``conn_id``, when given)."""
        with self._conn_lock:
            if conn_id is not None and conn_id != self._conn_id:
                return
            socks, self._socks = self._socks, []
        for s in socks:
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                s.close()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._close_conn()  # one connection at a time, like a serial port
            self.connections += 1
            upstream = None
            if self.upstream is not None:
                try:
                    upstream = socket.create_connection(self.upstream, timeout=self.connect_timeout)
                except OSError as exc:
                    self.errors.append(f"cannot connect to {self.upstream}: {exc}")
                    client.close()
                    continue
            for sock in (client, upstream):
                if sock is not None:  # frames are small: send each at once (no Nagle delay)
                    with suppress(OSError):
                        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._conn_lock:
                self._conn_id += 1
                conn = self._conn_id
                self._socks = [client] + ([upstream] if upstream else [])
            if upstream is None:
                self._spawn(self._pump, "proxy-blackhole", conn, client, None, TO_DEVICE)
            else:
                self._spawn(self._pump, "proxy-to-device", conn, client, upstream, TO_DEVICE)
                self._spawn(self._pump, "proxy-to-host", conn, upstream, client, TO_HOST)

    def _pump(self, conn: int, src: socket.socket, dst: socket.socket | None, direction: Direction) -> None:
        src.settimeout(0.1)
        pending = bytearray()
        try:
            while not self._closed.is_set():
                try:
                    data = src.recv(4096)
                except TimeoutError:
                    continue
                if not data:
                    break
                pending += data
                while True:
                    end = pending.find(b"\x00")
                    if end < 0:
                        break
                    segment = bytes(pending[:end])
                    del pending[: end + 1]
                    if not self._forward(conn, segment, dst, direction):
                        return
        except OSError:
            pass
        finally:
            self._close_conn(conn)

    def _forward(self, conn: int, segment: bytes, dst: socket.socket | None, direction: Direction) -> bool:
        """Applies the faults to one frame and sends what remains; False ends the connection."""
        out: bytes | None = segment + b"\x00"
        calls: list[Callable[[], object]] = []
        with self._lock:
            if segment:
                self.frames[direction] += 1
                ftype = None
                for f in self.faults:
                    if f.fired or f.direction != direction:
                        continue
                    if f.frame_type is not None:
                        if ftype is None:
                            ftype = _frame_type(segment)
                        if ftype != f.frame_type:
                            continue
                    f.seen += 1
                    if f.seen != f.nth:
                        continue
                    f.fired = True
                    self.applied.append(f.describe())
                    if f.action == Action.CLOSE:
                        out = None
                        break
                    if f.action == Action.SILENCE:
                        self._silent.add(direction)
                    elif f.action == Action.DROP:
                        out = b""
                    elif f.action == Action.FLIP and out:
                        pos = len(segment) // 2 if f.offset is None else min(max(f.offset, 0), len(segment) - 1)
                        buf = bytearray(out)
                        buf[pos] ^= f.mask
                        out = bytes(buf)
                    elif f.action == Action.CALL and f.callback is not None:
                        calls.append(f.callback)
            if out is not None and direction in self._silent:
                out = b""
        if out is None:
            self._close_conn(conn)
            return False
        if out and dst is not None:
            dst.sendall(out)
        for fn in calls:
            try:
                fn()
            except Exception as exc:  # a test hook must not kill the proxy thread silently
                self.errors.append(f"callback failed: {exc!r}")
        return True
