"""The pytest `dut` on a labgrid target (`pytest --lg-env env.yaml`).

The environment's `main` target names its place with a RemotePlace resource. The place is acquired
here unless it already is (and then released at the end), the target is built from it, the
project's firmware is loaded through the target's BootstrapProtocol driver (OpenOCDDriver for a real
board; MCUForgeFlashDriver for an emulated place, created when the environment lists no driver) or
its FlashScriptDriver (the ELF as `{firmware}` among the script's arguments, see boardflash), and
the mcuforge session runs over the place's NetworkSerialPort.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from mcuforge.generator.build import built_project

from ..session import Session, open_session
from . import DEFAULT_COORDINATOR, FarmError
from .acquire import let_go
from .boardflash import LabgridFlasher
from .places import FarmClient, serial_url


def _place_of(env: Any, role: str) -> str:
    from labgrid.factory import target_factory

    config = env.config.get_targets().get(role)
    if config is None:
        raise FarmError(f"the labgrid environment {env.config_file} has no target '{role}'")
    resources, _ = target_factory.normalize_config(config)
    names = list(resources.get("RemotePlace", {}))
    if len(names) != 1:
        raise FarmError(f"target '{role}' of {env.config_file} must name one RemotePlace (it names {len(names)})")
    place = resources["RemotePlace"][names[0]]
    return str(place[0].get("name", names[0]) if isinstance(place, tuple) else names[0])


@contextmanager
def labgrid_session(env: Any, project: Path, *, timeout: float = 5.0, role: str = "main") -> Iterator[Session]:
    from labgrid.protocol import BootstrapProtocol

    from . import labgrid_resources

    built = built_project(project)
    root, elf = built.root, built.elf
    place = _place_of(env, role)
    address = env.config.get_option("coordinator_address", os.environ.get("LG_COORDINATOR", DEFAULT_COORDINATOR))
    with ExitStack() as stack:
        client = stack.enter_context(FarmClient(address))
        if place not in client.session.places:
            raise FarmError(f"the coordinator at {address} has no place {place}")
        if not client.session.places[place].acquired:
            client.acquire(place)
            stack.callback(lambda: let_go(client, client.info(place)))
        from labgrid.resource.remote import RemotePlaceManager

        manager = RemotePlaceManager.get()  # the target's places come through this client's session
        if manager.session is None:
            manager.session, manager.loop = client.session, client.loop
        target = env.get_target(role)
        stack.callback(target.deactivate_all_drivers)
        try:
            loader = target.get_driver(BootstrapProtocol)
        except Exception:
            try:
                loader = target.get_driver("FlashScriptDriver")  # a real board's flash script
            except Exception:
                driver_cls: Any = labgrid_resources.MCUForgeFlashDriver
                loader = driver_cls(target, name=None)
                target.activate(loader)
        port = target.get_resource("NetworkSerialPort")
        LabgridFlasher(place, target, loader).flash(elf)
        url = serial_url({"host": port.host, "port": port.port, "protocol": port.protocol})
        yield stack.enter_context(open_session(root, port=url, timeout=timeout))
