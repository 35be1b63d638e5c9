"""Where the model's buffers go: arena, IO buffer and constant data → board memory regions.

Pure functions over the board's regions (from its YAML) and the sizes the compiler planned.
`plan_placement` fails before anything is written when a region cannot hold what is put in it,
with the numbers for every region involved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .errors import McuforgeError

BUFFERS = ("arena", "io", "weights")
# Room kept free in the region that holds the stack, .data and .bss of the application itself.
SYSTEM_RAM_RESERVE = 16 * 1024
# Room kept free in flash for code: kernels, runtime, the RTOS or framework.
CODE_FLASH_RESERVE = 64 * 1024


class PlacementError(McuforgeError):
    """A buffer does not fit where it was asked to go, or the region does not exist."""


class RegionLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def is_ram(self) -> bool: ...


@dataclass
class Placement:
    regions: dict[str, str]  # buffer → region name
    separate_io: bool
    used: dict[str, int] = field(default_factory=dict)  # region → bytes mcuforge puts there (estimate)
    sizes: dict[str, int] = field(default_factory=dict)  # buffer → bytes

    def region_of(self, buffer: str) -> str:
        return self.regions[buffer]


def parse_place_options(values: Sequence[str]) -> dict[str, str]:
    """["arena=DTCM", "io=SRAM2"] → {"arena": "DTCM", "io": "SRAM2"}."""
    out: dict[str, str] = {}
    for v in values:
        key, sep, region = v.partition("=")
        key = key.strip().lower()
        if not sep or not region.strip():
            raise PlacementError(f"--place {v!r} is not BUFFER=REGION", hint="e.g. --place arena=DTCM")
        if key not in BUFFERS:
            raise PlacementError(f"--place {v!r}: unknown buffer {key!r}; choose from {', '.join(BUFFERS)}")
        if key in out:
            raise PlacementError(f"--place {key}=… is given twice")
        out[key] = region.strip()
    return out


def _find(regions: Sequence[RegionLike], name: str) -> RegionLike:
    for r in regions:
        if r.name.lower() == name.lower():
            return r
    names = ", ".join(r.name for r in regions)
    raise PlacementError(f"the board has no memory region {name!r}; its regions are: {names}")


def plan_placement(regions: Sequence[RegionLike], *, ram_order: Sequence[RegionLike], system_ram: str,
                   flash: str, arena_bytes: int,
                   io_bytes_if_separate: int, const_bytes: int, requested: Mapping[str, str],
                   moved_const_bytes: int | None = None) -> Placement:
    """Choose a region for each buffer and check capacities.

    Weights placed in another region move there whole, or only `moved_const_bytes` of them (the hot
    layers' constants, --hot-weights) with the rest left in flash. In a RAM region they are
    initialised data copied from flash at startup: they count in the RAM region and in flash too.

    ram_order: the writable regions, fastest first (the board decides: Board.ram_regions()).
    system_ram: the region holding stack/.data/.bss; flash: where code and (by default) constants go.
    io_bytes_if_separate: bytes of graph inputs+outputs, used only if IO gets its own region.
    """
    reqs = {k: _find(regions, v).name for k, v in requested.items()}
    for buf in ("arena", "io"):
        if buf in reqs and not _find(regions, reqs[buf]).is_ram:
            raise PlacementError(f"--place {buf}={reqs[buf]}: {reqs[buf]} is {_find(regions, reqs[buf]).kind}, "
                                 "not RAM; the arena and IO buffers must be writable")
    separate_io = "io" in reqs and reqs["io"] != reqs.get("arena")
    sizes = {"arena": arena_bytes, "io": io_bytes_if_separate if separate_io else 0, "weights": const_bytes}
    moved = const_bytes if moved_const_bytes is None else moved_const_bytes

    def base_use() -> dict[str, int]:
        use = {r.name: 0 for r in regions}
        use[system_ram] += SYSTEM_RAM_RESERVE
        use[flash] += CODE_FLASH_RESERVE
        return use

    chosen: dict[str, str] = {"weights": reqs.get("weights", flash)}
    use = base_use()
    weights_region = _find(regions, chosen["weights"])
    copied = 0
    if chosen["weights"] == flash:
        use[flash] += const_bytes
    elif weights_region.is_ram:  # initialised data: the copy in RAM, its image (and the rest) in flash
        copied = moved
        use[chosen["weights"]] += moved
        use[flash] += const_bytes
    else:  # another flash region: the moved part there, the rest in the image's flash
        use[chosen["weights"]] += moved
        use[flash] += const_bytes - moved
    sizes["weights_copied"] = copied
    if "arena" in reqs:
        chosen["arena"] = reqs["arena"]
    else:  # fastest RAM region with room for the arena (and the IO buffer, when it shares it)
        need = arena_bytes + (0 if separate_io else sizes["io"])
        fits = [r for r in ram_order if use[r.name] + need <= r.size]
        chosen["arena"] = (fits[0] if fits else ram_order[0]).name
    use[chosen["arena"]] += arena_bytes
    chosen["io"] = reqs["io"] if separate_io else chosen["arena"]
    use[chosen["io"]] += sizes["io"]

    over = [r for r in regions if use[r.name] > r.size]
    if over:
        by_name = {r.name: r for r in regions}
        parts = []
        for r in over:
            what = [f"{b} {sizes[b] if b != 'weights' else moved:,} B" for b in BUFFERS
                    if chosen.get(b) == r.name and sizes[b]]
            if r.name == flash and chosen["weights"] != flash:
                what.append(f"weights kept in or copied from flash {use[flash] - CODE_FLASH_RESERVE:,} B")
            if r.name == system_ram:
                what.append(f"system reserve {SYSTEM_RAM_RESERVE:,} B")
            if r.name == flash:
                what.append(f"code reserve {CODE_FLASH_RESERVE:,} B")
            parts.append(f"{r.name} needs {use[r.name]:,} B ({' + '.join(what)}) but has {by_name[r.name].size:,} B")
        raise PlacementError("the model does not fit the board: " + "; ".join(parts),
                             hint="choose other regions with --place, a bigger board, or a smaller model")
    return Placement(regions=chosen, separate_io=separate_io, used=use, sizes=sizes)
