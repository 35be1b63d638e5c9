"""The coordinator side of the farm: one labgrid client session, its places and their resources.

`FarmClient` wraps labgrid's `ClientSession` (gRPC, asyncio): it must be used from the thread that
created it; `pump()` lets the session receive the coordinator's updates (a resource that vanishes
because its exporter went away shows up there). A place acquired by mcuforge carries a comment
naming the process (`mcuforge pid N on HOST`), so a later run can tell a place left locked by a
killed run from one in use, and say which labgrid command frees it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import FarmError, require_labgrid
from .emulated import RESOURCE_CLASS

# what labgrid exports for a real board's probe or flashing device (hil/farm/boardflash.py uses them)
PROBE_AND_FLASHABLE = ("NetworkUSBDebugger", "NetworkAlteraUSBBlaster", "USBDebugger", "AlteraUSBBlaster",
                       "NetworkUSBFlashableDevice", "USBFlashableDevice")
_COMMENT = re.compile(r"^mcuforge pid (\d+) on (\S+)$")


@dataclass
class PlaceInfo:
    """What a client needs to know about a place: how to reach it and whether it is free."""

    name: str
    board: str | None  # the MCUForgeEmulator's board, else the place's `board` tag
    serial_url: str | None  # pyserial URL of its NetworkSerialPort (socket:// for raw, rfc2217://)
    flasher_url: str | None  # the emulated-place service's URL for it (MCUForgeEmulator)
    acquired: str | None  # "host/user" holding it
    comment: str
    available: bool  # every resource it matches is exported and available
    exporters: set[str] = field(default_factory=set)
    probe: str | None = None  # a real board's probe or flashable device (its labgrid class), see boardflash

    def describe(self) -> str:
        where = f"{self.board or 'unknown board'}"
        state = f"held by {self.acquired}" if self.acquired else "free" if self.available else "resources missing"
        return f"{self.name} ({where}, {state})"


@dataclass
class StaleLock:
    """A place acquired by an mcuforge process of this host that no longer exists."""

    place: str
    holder: str
    pid: int
    other_user: bool = False

    @property
    def command(self) -> str:
        return f"labgrid-client -p {self.place} release" + (" --kick" if self.other_user else "")

    def describe(self) -> str:
        return (f"place {self.place} is still acquired by {self.holder} for mcuforge pid {self.pid}, which no longer "
                f"runs: free it with `{self.command}`")


def serial_url(args: dict[str, Any]) -> str:
    """The pyserial URL of a NetworkSerialPort's arguments."""
    scheme = "rfc2217" if args.get("protocol", "rfc2217") == "rfc2217" else "socket"
    return f"{scheme}://{args['host']}:{int(args['port'])}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class FarmClient:
    """A session with a labgrid coordinator (`address` HOST[:PORT])."""

    def __init__(self, address: str) -> None:
        require_labgrid()
        from labgrid.remote.client import Error as LabgridError
        from labgrid.remote.client import start_session

        self.address = address
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.CRITICAL)  # labgrid logs a failed connect itself; the FarmError below says it
        try:
            self.session: Any = start_session(address)
        except (LabgridError, ConnectionError, OSError) as exc:
            raise FarmError(f"cannot reach the labgrid coordinator at {address}: {exc}",
                            hint="start `labgrid-coordinator`, or pass --coordinator HOST:PORT "
                                 "(or set LG_COORDINATOR)") from None
        finally:
            root.setLevel(level)
        self.loop: asyncio.AbstractEventLoop = self.session.loop
        self.owner = f"{self.session.gethostname()}/{self.session.getuser()}"
        self.comment = f"mcuforge pid {os.getpid()} on {socket.gethostname()}"
        self._mine: set[str] = set()

    # ---- session ---------------------------------------------------------------------------------

    def pump(self, seconds: float = 0.05) -> None:
        """Lets the session process the coordinator's messages for `seconds`."""
        self.loop.run_until_complete(asyncio.sleep(seconds))

    def close(self) -> None:
        """Releases what this client still holds, then ends the session."""
        for name in sorted(self._mine):
            self.release(name)
        try:
            self.loop.run_until_complete(self.session.stop())
            self.loop.run_until_complete(self.session.close())
        except Exception:  # the session is going away anyway
            pass

    def __enter__(self) -> FarmClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, coro: Any) -> Any:
        import grpc

        try:
            result = self.loop.run_until_complete(coro)
            self.loop.run_until_complete(self.session.sync_with_coordinator())
            return result
        except grpc.aio.AioRpcError as exc:
            raise FarmError(str(exc.details())) from None

    # ---- places ----------------------------------------------------------------------------------

    def place_names(self, pattern: str) -> list[str]:
        """Places whose name (or alias) contains `pattern`, as labgrid-client matches them; an
        exact name selects that place alone."""
        if pattern in self.session.places:
            return [pattern]
        return sorted(self.session._match_places(pattern))

    def info(self, name: str) -> PlaceInfo:
        place = self.session.places[name]
        if place.acquired:
            paths = [tuple(p) for p in place.acquired_resources]
        else:
            paths = [(exp, grp, entry.cls, res) for exp, groups in self.session.resources.items()
                     for grp, group in groups.items() for res, entry in group.items()
                     if "cls" in entry.data and place.hasmatch((exp, grp, entry.cls, res))]
        entries = []
        for exp, grp, cls, res in paths:
            entry = self.session.resources.get(exp, {}).get(grp, {}).get(res)
            entries.append((exp, cls, entry if entry is not None and "cls" in entry.data else None))
        present = [e for _, _, e in entries if e is not None]
        args = {cls: e.args for _, cls, e in entries if e is not None}
        board = args.get(RESOURCE_CLASS, {}).get("board") or place.tags.get("board")
        return PlaceInfo(
            name=name, board=board,
            serial_url=serial_url(args["NetworkSerialPort"]) if "NetworkSerialPort" in args else None,
            flasher_url=args.get(RESOURCE_CLASS, {}).get("url"),
            acquired=place.acquired or None, comment=place.comment or "",
            available=bool(entries) and len(present) == len(entries) and all(e.avail for e in present)
            and not (place.acquired is None and place.unmatched([p for p in paths]) is not None),
            exporters={exp for exp, _, _ in entries},
            probe=next((cls for cls in args if cls in PROBE_AND_FLASHABLE), None))

    def places(self, pattern: str) -> list[PlaceInfo]:
        return [self.info(n) for n in self.place_names(pattern)]

    def still_there(self, info: PlaceInfo) -> bool:
        """False once a resource of the (acquired) place is gone: its exporter disconnected."""
        return self.info(info.name).available

    def stale_locks(self, names: Iterable[str]) -> list[StaleLock]:
        me_host, me_user = self.owner.split("/", 1)
        out = []
        for name in names:
            place = self.session.places.get(name)
            if place is None or not place.acquired:
                continue
            m = _COMMENT.match(place.comment or "")
            host, user = place.acquired.split("/", 1)
            if m and host == me_host and m.group(2) == socket.gethostname() and not _pid_alive(int(m.group(1))):
                out.append(StaleLock(name, place.acquired, int(m.group(1)), other_user=user != me_user))
        return out

    def acquire(self, name: str) -> None:
        """Acquires the place and marks it with this process; FarmError if someone was faster."""
        from labgrid.remote.generated import labgrid_coordinator_pb2 as pb

        self._call(self.session.stub.AcquirePlace(pb.AcquirePlaceRequest(placename=name)))
        self._mine.add(name)
        self._set_comment(name, self.comment)

    def release(self, name: str) -> None:
        """Releases a place this client acquired (its mark removed first); never raises."""
        from labgrid.remote.generated import labgrid_coordinator_pb2 as pb

        self._mine.discard(name)
        try:
            if (self.session.places.get(name) and self.session.places[name].comment == self.comment):
                self._set_comment(name, "")
            self._call(self.session.stub.ReleasePlace(pb.ReleasePlaceRequest(placename=name)))
        except (FarmError, RuntimeError):
            pass

    def held(self) -> set[str]:
        return set(self._mine)

    def keep(self, name: str) -> None:
        """Leaves the place acquired when this session ends (another session of this process
        releases it)."""
        self._mine.discard(name)

    def _set_comment(self, name: str, comment: str) -> None:
        from labgrid.remote.generated import labgrid_coordinator_pb2 as pb

        self._call(self.session.stub.SetPlaceComment(pb.SetPlaceCommentRequest(placename=name, comment=comment)))

    def create_place(self, name: str, match: str, tags: dict[str, str] | None = None) -> None:
        """Creates a place matching resources `match` (EXPORTER/GROUP[/CLASS]), if it is new."""
        from labgrid.remote.generated import labgrid_coordinator_pb2 as pb

        if name not in self.session.places:
            self._call(self.session.stub.AddPlace(pb.AddPlaceRequest(name=name)))
            self._call(self.session.stub.AddPlaceMatch(pb.AddPlaceMatchRequest(placename=name, pattern=match)))
        if tags:
            self._call(self.session.stub.SetPlaceTags(pb.SetPlaceTagsRequest(placename=name, tags=tags)))
