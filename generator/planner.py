"""Memory planner: an offset in one static arena for every buffer.

Several strategies place the buffers and the smallest arena wins:
  * greedy by size (largest first) and by area (size × lifetime): each buffer at the lowest
    aligned offset that collides with no placed buffer whose lifetime overlaps;
  * two-ended: buffers in production order alternate between the bottom and the top of a
    target arena, so each layer's output lands on the far side of its input (what a chain of
    layers needs); the target starts at the live-bytes lower bound and grows until all fit.
Every strategy yields a valid plan by construction; `Plan.lower_bound` records the bound so
callers can report how close the plan is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .analysis import Buffer, live_bytes_lower_bound

ALIGNMENT = 16  # bytes; every buffer offset is a multiple of this (SIMD loads, float IO)


@dataclass
class Plan:
    offsets: dict[int, int]  # buffer id → byte offset in its space
    arena_bytes: int  # size of the activation arena
    io_offsets: dict[int, int]  # buffer id → offset in the separate IO buffer (when IO is separate)
    io_bytes: int
    lower_bound: int  # live-bytes lower bound over all buffers (arena + IO)
    buffers: list[Buffer]
    strategy: str = ""

    def location(self, buffer_id: int) -> tuple[str, int]:
        if buffer_id in self.io_offsets:
            return "io", self.io_offsets[buffer_id]
        return "arena", self.offsets[buffer_id]


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def _gaps(buf: Buffer, placed: list[tuple[int, Buffer]]) -> list[tuple[int, int | None]]:
    """Free [start, end) address ranges for `buf` among time-overlapping placed buffers."""
    conflicts = sorted(((off, other) for off, other in placed if other.overlaps(buf)), key=lambda p: p[0])
    gaps: list[tuple[int, int | None]] = []
    cur = 0
    for off, other in conflicts:
        if off - cur >= buf.size:
            gaps.append((cur, off))
        cur = max(cur, _align(off + other.size))
    gaps.append((cur, None))
    return gaps


def fit_in_gaps(buf: Buffer, placed: list[tuple[int, Buffer]], arena_bytes: int) -> int | None:
    """The lowest aligned offset where `buf` fits among the time-overlapping `placed` buffers
    without moving them or growing an arena of `arena_bytes`; None if there is no such hole."""
    for start, end in _gaps(buf, placed):
        limit = arena_bytes if end is None else min(end, arena_bytes)
        if start + buf.size <= limit:
            return start
    return None


def _place(order: list[Buffer], choose: Callable[[int, Buffer, list[tuple[int, int | None]]], int]) -> dict[int, int]:
    placed: list[tuple[int, Buffer]] = []
    offsets: dict[int, int] = {}
    for i, buf in enumerate(order):
        offsets[buf.id] = choose(i, buf, _gaps(buf, placed))
        placed.append((offsets[buf.id], buf))
    return offsets


def _lowest(_i: int, _buf: Buffer, gaps: list[tuple[int, int | None]]) -> int:
    return gaps[0][0]


def _two_ended(top: int) -> Callable[[int, Buffer, list[tuple[int, int | None]]], int]:
    def choose(i: int, buf: Buffer, gaps: list[tuple[int, int | None]]) -> int:
        if i % 2 == 1 and buf.scratch_of is None:  # odd buffers hang from the top of the target arena
            highs = [((min(end, top) if end is not None else top) - buf.size) // ALIGNMENT * ALIGNMENT
                     for start, end in gaps]
            fits = [h for h, (start, _) in zip(highs, gaps, strict=True) if h >= start]
            if fits:
                return max(fits)
        return gaps[0][0]

    return choose


def _end(buffers: list[Buffer], offsets: dict[int, int]) -> int:
    return _align(max((offsets[b.id] + b.size for b in buffers), default=0))


def best_offsets(buffers: list[Buffer], n_steps: int) -> tuple[dict[int, int], int, str]:
    """Try every strategy; return (offsets, arena size, strategy name) of the smallest."""
    if not buffers:
        return {}, 0, "empty"
    tie = {b.id: i for i, b in enumerate(buffers)}
    candidates: list[tuple[int, str, dict[int, int]]] = []
    for name, key in (("greedy-size", lambda b: (-b.size, -(b.last - b.first), tie[b.id])),
                      ("greedy-area", lambda b: (-b.size * (b.last - b.first + 1), -b.size, tie[b.id]))):
        offs = _place(sorted(buffers, key=key), _lowest)
        candidates.append((_end(buffers, offs), name, offs))
    best_so_far = min(c[0] for c in candidates)
    # Kernel scratch (one step long) goes last, into the lowest hole, so that it does not upset
    # the alternation of the tensors between the two ends.
    chain = (sorted((b for b in buffers if b.scratch_of is None), key=lambda b: (b.first, -b.size, tie[b.id]))
             + sorted((b for b in buffers if b.scratch_of is not None), key=lambda b: (-b.size, tie[b.id])))
    top = _align(live_bytes_lower_bound(buffers, n_steps))
    step = max(ALIGNMENT, _align(top // 64))
    while top < best_so_far:
        offs = _place(chain, _two_ended(top))
        end = _end(buffers, offs)
        if end <= top:
            candidates.append((end, "two-ended", offs))
            break
        top += step
    size, name, offsets = min(candidates, key=lambda c: c[0])
    return offsets, size, name


def plan_memory(buffers: list[Buffer], n_steps: int, *, separate_io: bool = False) -> Plan:
    """Plan the arena. With separate_io, graph inputs/outputs get their own buffer (never reused
    during invoke, so inputs stay valid between calls) and the arena holds the rest."""
    lower = live_bytes_lower_bound(buffers, n_steps)
    if separate_io:
        io = [b for b in buffers if b.is_io]
        rest = [b for b in buffers if not b.is_io]
        io_offsets: dict[int, int] = {}
        pos = 0
        for b in io:
            io_offsets[b.id] = pos
            pos = _align(pos + b.size)
        offsets, arena, name = best_offsets(rest, n_steps)
        return Plan(offsets, arena, io_offsets, pos, lower, buffers, name)
    offsets, arena, name = best_offsets(buffers, n_steps)
    return Plan(offsets, arena, {}, 0, lower, buffers, name)
