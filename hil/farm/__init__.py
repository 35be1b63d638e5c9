"""A board farm through labgrid: mcuforge as a labgrid client, emulated boards as farm places.

Modules:
  places    — the coordinator session: find, acquire and release places, read their resources,
              detect places left locked by a run that no longer exists
  acquire   — pick and acquire free places for some boards; hold one place for a single command
  boardflash — flash a place: an emulated one through its service, a real board through labgrid's
              OpenOCDDriver / FlashScriptDriver configured in $LG_ENV
  emulated  — the service that serves QEMU boards as places (flash = restart QEMU with the ELF,
              serial = QEMU's TCP UART, power/reset = QMP) and writes the exporter configuration
  shard     — spreads work items (vectors of projects) over acquired places, one thread each,
              requeues the unfinished work of a lost place, merges the results
  faults    — what counts as a place fault (versus a failed vector) and how it is reported
  testrun   — `mcuforge test --place`: jobs from projects, places acquired, sharded, released
  lgtarget  — the pytest `dut` on a labgrid target (`--lg-env`)
  labgrid_resources — the resource/driver classes labgrid needs to know for an emulated place

labgrid is an optional dependency (`pip install 'mcuforge[farm]'`): it is imported only when a
farm command runs, and `require_labgrid()` says how to install it when it is missing.
"""

from __future__ import annotations

from mcuforge.generator.errors import McuforgeError, UsageError

INSTALL_HINT = "pip install 'mcuforge[farm]'"
DEFAULT_COORDINATOR = "127.0.0.1:20408"


class FarmError(McuforgeError):
    """The farm could not do what was asked (no free place, coordinator unreachable, …)."""


def require_labgrid(option: str = "--place") -> None:
    """Raises UsageError (exit 2, no traceback) when labgrid is not installed."""
    try:
        import labgrid  # noqa: F401
    except ImportError:
        raise UsageError(f"{option} runs on a labgrid board farm, and labgrid is not installed",
                         hint=INSTALL_HINT) from None


def coordinator_address(explicit: str | None) -> str:
    """`--coordinator`, else $LG_COORDINATOR (as labgrid-client reads it), else labgrid's default."""
    import os

    return explicit or os.environ.get("LG_COORDINATOR") or DEFAULT_COORDINATOR
