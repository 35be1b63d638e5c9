"""Choosing and acquiring places, and holding one for a single-board command.

`acquire_places` takes up to `count` free places matching a pattern whose board is wanted (at
least one per wanted board first, then the rest in name order) and reports places left locked by
killed runs. `hold_place` is the single-place form for `flash`, `run` and `test --replay/--profile`:
acquire, flash the project's firmware (boardflash), yield the place's serial URL, power off and release
whatever happens (an error, Ctrl-C).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from . import FarmError, coordinator_address
from .boardflash import flasher_for
from .emulated import PlaceServiceError, power_off_place
from .places import FarmClient, PlaceInfo, StaleLock


def _states(infos: list[PlaceInfo], stale: list[StaleLock]) -> str:
    lines = [i.describe() for i in infos] + [s.describe() for s in stale]
    return "; ".join(lines)


def acquire_places(client: FarmClient, pattern: str, count: int, boards: set[str]) -> tuple[list[PlaceInfo],
                                                                                              list[StaleLock]]:
    names = client.place_names(pattern)
    if not names:
        raise FarmError(f"--place {pattern}: no place of the coordinator at {client.address} matches",
                        hint="list them with `labgrid-client places`")
    stale = client.stale_locks(names)
    infos = [client.info(n) for n in names]
    free = [i for i in infos if not i.acquired and i.available and i.board in boards]
    order = [next(i for i in free if i.board == b) for b in sorted(boards) if any(i.board == b for i in free)]
    order += [i for i in free if i not in order]
    got: list[PlaceInfo] = []
    for i in order:
        if len(got) >= count:
            break
        try:
            client.acquire(i.name)
        except FarmError:
            continue  # taken by someone else in the meantime
        got.append(client.info(i.name))
    if not got:
        raise FarmError(f"--place {pattern}: no free place for board {', '.join(sorted(boards))} "
                        f"({_states(infos, stale)})",
                        hint=(f"free a stale lock with `{stale[0].command}`" if stale
                              else "wait for a place to be released, or add places"))
    return got, stale


def let_go(client: FarmClient, info: PlaceInfo) -> None:
    """Powers an emulated place off (its emulator stops) and releases it; never raises."""
    if info.flasher_url is not None:
        with suppress(PlaceServiceError):
            power_off_place(info.flasher_url)
    client.release(info.name)


_sessions = threading.Lock()  # labgrid's gRPC client sessions cannot run side by side in several threads


@contextmanager
def borrow_place(pattern: str, board: str, elf: Path, coordinator: str | None = None) -> Iterator[tuple[PlaceInfo,
                                                                                                         str]]:
    """`hold_place` for threads measuring side by side (`bench --place`): a short session acquires
    and flashes, another releases; in between the place stays acquired and no session is open."""
    address = coordinator_address(coordinator)
    with _sessions, FarmClient(address) as client:
        (info,), _ = acquire_places(client, pattern, 1, {board})
        try:
            url = _flash(client, info, elf)
        except BaseException:
            let_go(client, info)
            raise
        client.keep(info.name)
    try:
        yield info, url
    finally:
        with _sessions, FarmClient(address) as client:
            let_go(client, info)


def _flash(client: FarmClient, info: PlaceInfo, elf: Path) -> str:
    """Flash an acquired place and give its serial URL; FarmError when it has no usable serial port
    or flashing fails."""
    if info.serial_url is None:
        raise FarmError(f"place {info.name} has no serial port (NetworkSerialPort) mcuforge can use",
                        hint="export the board's UART; see docs/farm.md")
    flasher = flasher_for(client, info)
    try:
        flasher.flash(elf)
    except PlaceServiceError as exc:
        raise FarmError(f"flashing place {info.name} failed: {exc.message}") from None
    finally:
        flasher.close()
    return info.serial_url


@contextmanager
def hold_place(pattern: str, board: str, elf: Path, coordinator: str | None = None,
               *, keep_running: bool = False) -> Iterator[tuple[PlaceInfo, str]]:
    """Acquires one free place for `board`, flashes `elf` and yields (place, serial URL); at the end
    the place is released, powered off first unless `keep_running` (`mcuforge flash`)."""
    with FarmClient(coordinator_address(coordinator)) as client:
        (info,), _ = acquire_places(client, pattern, 1, {board})
        try:
            url = _flash(client, info, elf)
            yield info, url
        finally:
            if keep_running:
                client.release(info.name)
            else:
                let_go(client, info)
