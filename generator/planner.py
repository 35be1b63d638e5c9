"""Memory planner: an offset in one static arena for every buffer.

Greedy by size (largest first), each buffer goes to the lowest aligned offset where it does not
collide with an already placed buffer whose lifetime overlaps. On the chain-shaped graphs of
typical TinyML models this reaches the live-bytes lower bound; `Plan.lower_bound` records the
bound so callers can report how close the plan is.
"""

from __future__ import annotations

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

    def location(self, buffer_id: int) -> tuple[str, int]:
        if buffer_id in self.io_offsets:
            return "io", self.io_offsets[buffer_id]
        return "arena", self.offsets[buffer_id]


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def greedy_offsets(buffers: list[Buffer]) -> tuple[dict[int, int], int]:
    placed: list[tuple[int, Buffer]] = []
    offsets: dict[int, int] = {}
    # Largest first; ties broken by longest lifetime, then id, so the result is deterministic.
    order = sorted(buffers, key=lambda b: (-b.size, -(b.last - b.first), b.id))
    for buf in order:
        conflicts = sorted(((off, other) for off, other in placed if other.overlaps(buf)), key=lambda p: p[0])
        offset = 0
        for off, other in conflicts:
            if offset + buf.size <= off:
                break  # fits in the gap before this neighbour
            offset = max(offset, _align(off + other.size))
        offsets[buf.id] = offset
        placed.append((offset, buf))
    end = max((offsets[b.id] + b.size for b in buffers), default=0)
    return offsets, _align(end)


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
        offsets, arena = greedy_offsets(rest)
        return Plan(offsets, arena, io_offsets, pos, lower, buffers)
    offsets, arena = greedy_offsets(buffers)
    return Plan(offsets, arena, {}, 0, lower, buffers)
