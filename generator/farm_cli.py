"""The farm's side of the command line: `mcuforge farm serve|places` and the `--place` forms of
flash / run / test / bench (see hil/farm and docs/farm.md). labgrid is imported only here and
below, so mcuforge without the `farm` extra works and `--place` says how to install it."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from . import ui
from .errors import UsageError

farm_app = typer.Typer(name="farm", help="A labgrid board farm: serve emulated boards as places, list places.",
                       no_args_is_help=True, rich_markup_mode="rich")

PLACE_HELP = ("Run on a labgrid board-farm place: its name, or a name pattern with --places N. Acquired through "
              "the coordinator, flashed, released on exit. (Not `mcuforge new --place`, which puts buffers in "
              "memory regions.)")
PLACES_HELP = "With --place PATTERN: use up to N free matching places in parallel."
COORDINATOR_HELP = "labgrid coordinator HOST[:PORT] (default: $LG_COORDINATOR, else 127.0.0.1:20408)."


def _require(option: str = "--place") -> None:
    from mcuforge.hil.farm import require_labgrid

    require_labgrid(option)


def _project_board_elf(project: Path) -> tuple[str, Path]:
    from .build import built_project

    built = built_project(project)
    return built.board.id, built.elf


@contextmanager
def place_port(project: Path, place: str, coordinator: str | None, *, keep_running: bool = False) -> Iterator[str]:
    """Acquires a place for the project's board, flashes it, yields its serial URL, releases it."""
    _require()
    from mcuforge.hil.farm.acquire import hold_place

    board, elf = _project_board_elf(project)
    with hold_place(place, board, elf, coordinator, keep_running=keep_running) as (info, url):
        ui.info(f"place {info.name} ({board}) acquired and flashed with {elf.name}; serial port {url}")
        yield url


def flash_on_place(project: Path, place: str, coordinator: str | None) -> None:
    with place_port(project, place, coordinator, keep_running=True) as url:
        ui.info(f"released; the board keeps running the firmware (serial port {url})")


def test_on_places(projects: list[Path], place: str, places: int, coordinator: str | None, *, vectors: Path | None,
                   random: int, seed: int, tolerance: float, junit: Path | None, as_json: bool) -> bool:
    """`mcuforge test --place`: every project's vectors over the free places; True if all passed."""
    _require()
    from mcuforge.hil.farm.testrun import load_job, run_farm_test

    jobs = [load_job(p, vectors=vectors, random=random, seed=seed, tolerance=tolerance) for p in projects]

    def show(job: Any, v: Any, where: str) -> None:
        if not as_json:
            mark = "[green]pass[/green]" if v.passed else "[red]FAIL[/red]"
            lat = f"{v.elapsed:,} {v.unit}" if v.elapsed is not None else "-"
            ui.out.print(f"{mark}  {Path(job.model).stem:<16} {v.name:<20} on {where:<12} latency {lat}"
                         + (f"  {v.error}" if v.error else ""))

    report = run_farm_test(jobs, place, places, coordinator=coordinator, on_result=show,
                           on_event=ui.info)
    if junit:
        report.write_junit(junit)
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        for rep, where in zip(report.reports, report.vector_places, strict=True):
            if not all(v.passed for v in rep.vectors):
                for v, p in zip(rep.vectors, where, strict=True):
                    if not v.passed:
                        ui.out.print(f"[red]FAIL[/red]  {rep.model} {v.name} on {p or 'no place'}: {v.error}")
            ui.out.print(f"{rep.passed}/{len(rep.vectors)} vectors of {rep.model} bit-exact"
                         + (f" within {rep.tolerance:g}" if rep.tolerance else "")
                         + f" on {rep.board} (places {rep.url.removeprefix('labgrid:') or 'none'})")
        for lp in report.lost:
            ui.warning(lp.describe())
        for s in report.stale:
            ui.warning(s.describe())
        ui.out.print(f"{len(report.places)} place{'s' if len(report.places) != 1 else ''} "
                     f"({', '.join(report.places)}), {report.seconds:.1f} s")
    return report.ok


@farm_app.command()
def serve(
    board: Annotated[list[str], typer.Option("--board", "-b", help="BOARD[:COUNT] of an emulated board; repeatable.")],
    prefix: Annotated[str, typer.Option(help="Place names: PREFIX-0, PREFIX-1, …")] = "emu",
    exporter_config: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        "--exporter-config", help="Write labgrid-exporter's configuration here (a resource group per place).")] = None,
    split: Annotated[bool, typer.Option("--split", help="Also write one configuration per place "
                                        "(FILE-STEM-PLACE.yaml), for one exporter per place.")] = False,
    host: Annotated[str, typer.Option(help="Address to listen on (QEMU UARTs and the service).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the service (default: a free one).")] = 0,
) -> None:
    """Serve emulated boards as farm places: flashing (re)starts QEMU with the firmware, the serial
    port is QEMU's TCP UART, power and reset go through QMP. Runs until Ctrl-C / SIGTERM, then stops
    every emulator."""
    import yaml

    from mcuforge.hil.farm.emulated import EmulatedPlaces, service_url
    from mcuforge.hil.farm.emulated import exporter_config as make_config
    from mcuforge.hil.farm.emulated import serve as make_server

    from .boards import load_board

    wanted: list[tuple[str, Any]] = []
    for spec in board:
        name, _, count = spec.partition(":")
        if count and not count.isdigit():
            raise UsageError(f"--board {spec}: COUNT must be a number")
        b = load_board(name, [])
        wanted += [(f"{prefix}-{len(wanted) + k}", b) for k in range(int(count or 1))]
    places = EmulatedPlaces(wanted, host=host)
    try:
        server = make_server(places, port)
    except OSError as exc:
        places.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc}") from None
    url = service_url(server)
    config = make_config(places, url)
    if exporter_config is not None:
        exporter_config.write_text(yaml.safe_dump(config, sort_keys=False))
        if split:
            for name, group in config.items():
                (exporter_config.parent / f"{exporter_config.stem}-{name}.yaml").write_text(
                    yaml.safe_dump({name: group}, sort_keys=False))

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    sys.stdout.write(json.dumps({"url": url, "workdir": str(places.workdir),
                                 "places": {n: p.status() for n, p in places.places.items()}}) + "\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        places.close()


@farm_app.command("places")
def list_places(
    pattern: Annotated[str, typer.Argument(help="Name pattern (default: every place).")] = "",
    coordinator: Annotated[Optional[str], typer.Option("--coordinator", help=COORDINATOR_HELP)] = None,  # noqa: UP045
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")] = False,
) -> None:
    """List the coordinator's places: board, serial port, who holds them, and places left locked by a
    killed mcuforge run (with the labgrid command that frees them)."""
    _require("farm places")
    from mcuforge.hil.farm import coordinator_address
    from mcuforge.hil.farm.places import FarmClient

    with FarmClient(coordinator_address(coordinator)) as client:
        names = sorted(client.session.places) if not pattern else client.place_names(pattern)
        infos = [client.info(n) for n in names]
        stale = client.stale_locks(names)
    if as_json:
        sys.stdout.write(json.dumps({"places": [{"name": i.name, "board": i.board, "serial": i.serial_url,
                                                 "acquired": i.acquired, "available": i.available} for i in infos],
                                     "stale": [{"place": s.place, "pid": s.pid, "command": s.command}
                                               for s in stale]}, indent=2) + "\n")
        return
    for i in infos:
        ui.out.print(f"{i.describe()}  {i.serial_url or '-'}", markup=False)
    for s in stale:
        ui.warning(s.describe())


def bench_on_places(place: str, coordinator: str | None,
                    boards: list[str] | None) -> tuple[list[str], Any, dict[str, int]]:
    """`mcuforge bench --place`: the boards to benchmark (default: those of the matching places),
    the function that flashes each firmware onto a free place of its board and yields its port, and
    how many matching places of each board are free now (the firmwares measured at once)."""
    _require()
    from mcuforge.hil.farm import coordinator_address
    from mcuforge.hil.farm.places import FarmClient

    with FarmClient(coordinator_address(coordinator)) as client:
        infos = client.places(place)
    if not boards:
        boards = sorted({i.board for i in infos if i.board})
        if not boards:
            raise UsageError(f"--place {place}: no matching place says which board it has",
                             hint="give the boards with --board")
    slots = {b: sum(1 for i in infos if i.board == b and i.available and not i.acquired) for b in boards}

    @contextmanager
    def device(project: Path) -> Iterator[str]:  # called from several threads at once
        from mcuforge.hil.farm.acquire import borrow_place

        board, elf = _project_board_elf(project)
        with borrow_place(place, board, elf, coordinator) as (info, url):
            ui.info(f"place {info.name} ({board}) acquired and flashed with {elf.name}; serial port {url}")
            yield url

    return boards, device, slots
