"""Flashing a place: an emulated board through its service, a real board through labgrid's drivers.

A real board's place carries what labgrid exports for it: a debug probe (`NetworkUSBDebugger`,
`NetworkAlteraUSBBlaster`) for labgrid's OpenOCDDriver, or a flashable device
(`NetworkUSBFlashableDevice`) for its FlashScriptDriver. The drivers are configured the way
`labgrid-client` configures them: a labgrid environment file named by $LG_ENV whose target names
the place with a RemotePlace, e.g.

    targets:
      nucleo-1:
        resources: {RemotePlace: {name: nucleo-1}}
        drivers:
          OpenOCDDriver:
            board_config: st_nucleo_f7.cfg
            load_commands: [init, "program {filename} verify reset", shutdown]
      board-2:
        resources: {RemotePlace: {name: board-2}}
        drivers:
          FlashScriptDriver: {script: flash, args: ["{device.devnode}", "{firmware}"]}
    images:
      flash: flash.sh

OpenOCD gets the ELF (`{filename}` in its load commands); a flash script gets it as `{firmware}`
in its arguments, beside labgrid's own `{device.…}` fields. As everywhere in labgrid, the tools
run on the exporter's host: the files go there over SSH (labgrid's ManagedFile) unless the host
shares them.

`flasher_for` is called in the thread that owns the labgrid session (the target is built from the
session's view of the place); `Flasher.flash` may then run in a place's worker thread. labgrid's
step bookkeeping is global and not thread-safe, so real boards are flashed one at a time.
"""

from __future__ import annotations

import os
import threading
from contextlib import suppress
from pathlib import Path
from typing import Any, Protocol

from mcuforge.generator.errors import McuforgeError

from . import FarmError
from .emulated import flash_place
from .places import PROBE_AND_FLASHABLE, FarmClient, PlaceInfo

FLASHABLE_CLASSES = ("NetworkUSBFlashableDevice", "USBFlashableDevice")
LABGRID_FLASH_CLASSES = PROBE_AND_FLASHABLE
_labgrid_lock = threading.Lock()


class Flasher(Protocol):
    def flash(self, elf: Path) -> None: ...

    def close(self) -> None: ...


class EmulatorFlasher:
    """An emulated place: the firmware goes to the service, which restarts QEMU with it."""

    def __init__(self, url: str) -> None:
        self.url = url

    def flash(self, elf: Path) -> None:
        flash_place(self.url, elf)

    def close(self) -> None:
        pass


class LabgridFlasher:
    """A real board's place: labgrid's OpenOCDDriver (or any BootstrapProtocol driver the
    environment configures) or FlashScriptDriver, on a target built from the place."""

    def __init__(self, place: str, target: Any, driver: Any) -> None:
        self.place = place
        self.target = target
        self.driver = driver

    @property
    def kind(self) -> str:
        return type(self.driver).__name__

    def flash(self, elf: Path) -> None:
        from labgrid.driver import FlashScriptDriver
        from labgrid.util.managedfile import ManagedFile

        with _labgrid_lock:
            try:
                if isinstance(self.driver, FlashScriptDriver):
                    firmware = ManagedFile(str(elf), self.driver.device)
                    firmware.sync_to_resource()
                    path = (firmware.get_remote_path()).replace("{", "{{").replace("}", "}}")
                    self.driver.flash(args=[str(a).replace("{firmware}", path) for a in self.driver.args])
                else:
                    self.driver.load(str(elf))
            except Exception as exc:  # labgrid raises ExecutionError, CalledProcessError, OSError, …
                raise FarmError(f"flashing place {self.place} with {self.kind} failed: {_reason(exc)}") from None

    def close(self) -> None:
        with _labgrid_lock, suppress(Exception):  # the place is being released anyway
            self.target.deactivate_all_drivers()


def _reason(exc: BaseException) -> str:
    lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
    return f"{type(exc).__name__}: {lines[-1] if lines else ''}".rstrip(": ")


def _target(client: FarmClient, place: str) -> Any:
    """A labgrid target for the acquired place: the $LG_ENV target that names it (with the drivers
    configured there), else a bare one holding the place's resources."""
    from labgrid import Environment, Target
    from labgrid.remote.client import find_role_by_place
    from labgrid.resource.remote import RemotePlace, RemotePlaceManager

    manager: Any = RemotePlaceManager.get()  # the place's resources come through this client's session
    manager.session, manager.loop = client.session, client.loop
    env_file = os.environ.get("LG_ENV")
    if env_file:
        try:
            env = Environment(env_file)
        except Exception as exc:
            raise FarmError(f"LG_ENV={env_file}: {_reason(exc)}") from None
        role = find_role_by_place(env.config.get_targets(), place)
        if role is not None:
            return env.get_target(role)
    target = Target(place, env=None)
    RemotePlace(target, name=place)
    return target


def _driver(target: Any, place: str) -> Any:
    from labgrid.exceptions import NoDriverFoundError

    for protocol in ("BootstrapProtocol", "FlashScriptDriver"):
        try:
            return target.get_driver(protocol)
        except NoDriverFoundError:
            continue
    classes = sorted({type(r).__name__ for r in target.resources} & set(LABGRID_FLASH_CLASSES))
    driver = "FlashScriptDriver: {script: …, args: [\"{device.devnode}\", \"{firmware}\"]}" \
        if set(classes) & set(FLASHABLE_CLASSES) else "OpenOCDDriver: {board_config: …}"
    raise FarmError(f"place {place} has {', '.join(classes) or 'no flashing resource'}, and no driver says how to "
                    "flash it", hint=f"name the place in a labgrid environment file ($LG_ENV) with {driver}; "
                                     "see docs/farm.md")


def flasher_for(client: FarmClient, info: PlaceInfo) -> Flasher:
    """How to flash the (acquired) place; FarmError if mcuforge cannot."""
    if info.flasher_url is not None:
        return EmulatorFlasher(info.flasher_url)
    if info.probe is None:
        raise FarmError(f"place {info.name} has neither an emulated board nor a probe or flashable device "
                        "labgrid can flash", hint="serve emulated boards with `mcuforge farm serve`, or export the "
                                                  "board's probe; see docs/farm.md")
    from labgrid.resource.common import NetworkResource
    from labgrid.util.ssh import sshmanager

    with _labgrid_lock:
        try:
            target = _target(client, info.name)
            driver = _driver(target, info.name)
            for resource in target.resources:  # opened here, once, not by several flashing threads
                if isinstance(resource, NetworkResource) and type(resource).__name__ in LABGRID_FLASH_CLASSES:
                    sshmanager.open(resource.host)
        except McuforgeError:
            raise
        except Exception as exc:
            raise FarmError(f"place {info.name}: labgrid could not set up its flashing: {_reason(exc)}") from None
    return LabgridFlasher(info.name, target, driver)
