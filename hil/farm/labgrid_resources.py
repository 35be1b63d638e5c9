"""The labgrid classes of an emulated place, registered with labgrid's target factory on import.

`MCUForgeEmulator` is the resource the exporter publishes for a place served by
`mcuforge farm serve` (url: the place on the service, board: the board id). `MCUForgeFlashDriver`
binds to it and gives a labgrid target the usual protocols: BootstrapProtocol.load(elf) flashes
(the service restarts QEMU with the firmware), ResetProtocol.reset() presses reset (QMP).
An environment file for pytest `--lg-env` names the place and, optionally, this driver:

    targets:
      main:
        resources:
          RemotePlace: {name: emu-0}
        drivers:
          MCUForgeFlashDriver: {}
"""

from __future__ import annotations

from pathlib import Path

import attr
from labgrid.driver.common import Driver
from labgrid.factory import target_factory
from labgrid.protocol import BootstrapProtocol, ResetProtocol
from labgrid.resource.common import Resource

from .emulated import RESOURCE_CLASS, flash_place, reset_place


@target_factory.reg_resource
@attr.s(eq=False)
class MCUForgeEmulator(Resource):
    """An emulated board served by `mcuforge farm serve`."""

    url: str = attr.ib(validator=attr.validators.instance_of(str))
    board: str = attr.ib(validator=attr.validators.instance_of(str))


assert MCUForgeEmulator.__name__ == RESOURCE_CLASS


@target_factory.reg_driver
@attr.s(eq=False)
class MCUForgeFlashDriver(Driver, BootstrapProtocol, ResetProtocol):
    """Flash (load) and reset an emulated place through its service."""

    bindings = {"emulator": RESOURCE_CLASS}  # noqa: RUF012 - labgrid reads it from the class

    @Driver.check_active
    def load(self, filename: str) -> None:
        flash_place(self.emulator.url, Path(filename))

    @Driver.check_active
    def reset(self) -> None:
        reset_place(self.emulator.url)
