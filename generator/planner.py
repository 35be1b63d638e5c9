"""Memory planner: an offset in one static arena for every buffer.

Several strategies place the buffers and the smallest arena wins:
  * greedy by size (largest first) and by area (size × lifetime): each buffer at the lowest
    aligned offset that collides with no placed buffer whose lifetime overlaps;
  * two-ended: buffers in production order alternate between the bottom and the top of a
    target arena, so each layer's output lands on the far side of its input (what a chain of
    layers needs); the target starts at the live-bytes lower bound and grows until all fit.
Every strategy yields a valid plan by construction; `Plan.lower_bound` records the bound so
callers can report how close the plan is.

Overlaps. `allow[(a, b)] = s` says that buffer b (an operator's output) may start `s` or more
bytes below buffer a (an input that dies with that operator) and overlap it (generator/overlap.py
proves it from the kernel's loop order), so a plan may go below the live-bytes bound. Every
strategy honours these pairs; a further one places buffers in production order from the top of a
target arena down, each output at its dying input's offset minus the shift when it can.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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
    allow: dict[tuple[int, int], int] = field(default_factory=dict)  # (input, output) buffer → min shift

    def overlapping(self, a: int, b: int) -> bool:
        """Whether buffers a and b (both in the arena) share bytes in this plan."""
        if a not in self.offsets or b not in self.offsets:
            return False
        size = {x.id: x.size for x in self.buffers}
        return self.offsets[a] < self.offsets[b] + size[b] and self.offsets[b] < self.offsets[a] + size[a]

    def location(self, buffer_id: int) -> tuple[str, int]:
        if buffer_id in self.io_offsets:
            return "io", self.io_offsets[buffer_id]
        return "arena", self.offsets[buffer_id]


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def _align_down(n: int) -> int:
    return n // ALIGNMENT * ALIGNMENT


Allow = dict[tuple[int, int], int]


def _gaps(buf: Buffer, placed: list[tuple[int, Buffer]], allow: Allow | None = None
          ) -> list[tuple[int, int | None]]:
    """Free [start, end) address ranges for `buf` among time-overlapping placed buffers: `buf` may
    start at any aligned offset x with start <= x and x + size <= end. Pairs in `allow` may overlap
    (the output at least the shift below the input)."""
    allow = allow or {}
    forbidden: list[tuple[int, int]] = []  # open intervals (lo, hi) of start offsets x
    for off, other in placed:
        if not other.overlaps(buf):
            continue
        lo, hi = off - buf.size, off + other.size
        shift = allow.get((other.id, buf.id))
        if shift is not None:  # buf is the output: x <= off - shift is allowed too
            lo = max(lo, off - shift)
        shift = allow.get((buf.id, other.id))
        if shift is not None:  # buf is the input: the output `other` may start shift below it
            hi = min(hi, off + shift)
        forbidden.append((lo, hi))
    forbidden.sort()
    gaps: list[tuple[int, int | None]] = []
    cur = 0
    for lo, hi in forbidden:
        if lo >= cur and _align_down(lo) >= cur:
            gaps.append((cur, _align_down(lo) + buf.size))
        cur = max(cur, _align(hi))
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


Chooser = Callable[[int, Buffer, list[tuple[int, int | None]]], int]


def _place(order: list[Buffer], choose: Chooser, allow: Allow | None = None) -> dict[int, int]:
    placed: list[tuple[int, Buffer]] = []
    offsets: dict[int, int] = {}
    for i, buf in enumerate(order):
        offsets[buf.id] = choose(i, buf, _gaps(buf, placed, allow))
        placed.append((offsets[buf.id], buf))
    return offsets


def _lowest(_i: int, _buf: Buffer, gaps: list[tuple[int, int | None]]) -> int:
    return gaps[0][0]


def _highest_below(buf: Buffer, gaps: list[tuple[int, int | None]], limit: int) -> int | None:
    """The highest aligned start x in one of the gaps with x + size <= limit, or None."""
    best = None
    for start, end in gaps:
        x = _align_down((limit if end is None else min(end, limit)) - buf.size)
        if x >= start and (best is None or x > best):
            best = x
    return best


def _two_ended(top: int) -> Chooser:
    def choose(i: int, buf: Buffer, gaps: list[tuple[int, int | None]]) -> int:
        if i % 2 == 1 and buf.scratch_of is None:  # odd buffers hang from the top of the target arena
            x = _highest_below(buf, gaps, top)
            if x is not None:
                return x
        return gaps[0][0]

    return choose


def _descending(chain: list[Buffer], allow: Allow, top: int) -> dict[int, int] | None:
    """Buffers in production order from the top of a `top`-byte arena down: an output that may
    overlap a dying input starts at the highest free offset at least the shift below that input;
    any other tensor hangs as high as it fits; kernel scratch takes the lowest hole. None if
    something does not fit under `top`."""
    partners: dict[int, list[tuple[int, int]]] = {}
    for (a, b), shift in allow.items():
        partners.setdefault(b, []).append((a, shift))
    placed: list[tuple[int, Buffer]] = []
    offsets: dict[int, int] = {}
    for buf in chain:
        gaps = _gaps(buf, placed, allow)
        x = None
        if buf.scratch_of is not None:
            x = next((g[0] for g in gaps if g[0] + buf.size <= (top if g[1] is None else min(g[1], top))), None)
        else:
            targets = sorted((offsets[a] - shift for a, shift in partners.get(buf.id, []) if a in offsets),
                             reverse=True)
            for target in targets:  # the overlap: start at most `shift` below the input
                x = _highest_below(buf, gaps, min(target + buf.size, top))
                if x is not None:
                    break
            if x is None:
                x = _highest_below(buf, gaps, top)
        if x is None:
            return None
        offsets[buf.id] = x
        placed.append((x, buf))
    return offsets


def _end(buffers: list[Buffer], offsets: dict[int, int]) -> int:
    return _align(max((offsets[b.id] + b.size for b in buffers), default=0))


def overlap_lower_bound(buffers: list[Buffer], allow: Allow) -> int:
    """Bytes any valid plan needs, overlaps counted: at a step, the live buffers' sizes minus, for
    each allowed pair live there, the most bytes the pair may share (its output at least `shift`
    below its input). A plan's live bytes cover their union, which is at least that (union >= sum
    of sizes - sum of pairwise intersections; only allowed pairs may intersect)."""
    def most_shared(a: Buffer, b: Buffer, shift: int) -> int:
        both = min(a.size, b.size)
        return both if shift < 0 else max(0, min(both, b.size - shift))

    by_id = {b.id: b for b in buffers}
    pairs = [(by_id[a], by_id[b], shift) for (a, b), shift in allow.items() if a in by_id and b in by_id]
    best = 0
    for s in {b.first for b in buffers}:
        live = sum(b.size for b in buffers if b.first <= s <= b.last)
        shared = sum(most_shared(a, b, shift) for a, b, shift in pairs
                     if a.first <= s <= a.last and b.first <= s <= b.last)
        best = max(best, live - shared)
    return best


def best_offsets(buffers: list[Buffer], n_steps: int, allow: Allow | None = None) -> tuple[dict[int, int], int, str]:
    """Try every strategy; return (offsets, arena size, strategy name) of the smallest."""
    if not buffers:
        return {}, 0, "empty"
    ids = {b.id for b in buffers}
    allow = {k: v for k, v in (allow or {}).items() if k[0] in ids and k[1] in ids}
    tie = {b.id: i for i, b in enumerate(buffers)}
    candidates: list[tuple[int, str, dict[int, int]]] = []
    for name, key in (("greedy-size", lambda b: (-b.size, -(b.last - b.first), tie[b.id])),
                      ("greedy-area", lambda b: (-b.size * (b.last - b.first + 1), -b.size, tie[b.id]))):
        offs = _place(sorted(buffers, key=key), _lowest, allow)
        candidates.append((_end(buffers, offs), name, offs))
    best_so_far = min(c[0] for c in candidates)
    # Kernel scratch (one step long) goes last, into the lowest hole, so that it does not upset
    # the alternation of the tensors between the two ends.
    chain = (sorted((b for b in buffers if b.scratch_of is None), key=lambda b: (b.first, -b.size, tie[b.id]))
             + sorted((b for b in buffers if b.scratch_of is not None), key=lambda b: (-b.size, tie[b.id])))
    top = _align(live_bytes_lower_bound(buffers, n_steps))
    step = max(ALIGNMENT, _align(top // 64))
    while top < best_so_far:
        offs = _place(chain, _two_ended(top), allow)
        end = _end(buffers, offs)
        if end <= top:
            candidates.append((end, "two-ended", offs))
            best_so_far = min(best_so_far, end)
            break
        top += step
    if allow:
        # Below the live-bytes bound: the smallest top under which the descending placement fits,
        # searched coarsely up from the largest buffer, then refined to the alignment.
        low = _align(max(b.size for b in buffers))
        step = max(ALIGNMENT, _align(low // 32))
        failed, top = low - ALIGNMENT, low
        # A top under the overlap bound holds no valid plan, so `_descending` fails there: skip
        # those coarse steps (the search visits the same tops from the first that can succeed).
        skip = max(0, (overlap_lower_bound(chain, allow) - top + step - 1) // step - 1)
        if skip:
            failed, top = top + (skip - 1) * step, top + skip * step
        found = None
        while top < best_so_far:
            offs_d = _descending(chain, allow, top)
            if offs_d is not None:
                found = (top, offs_d)
                break
            failed, top = top, top + step
        if found is not None:
            hi, offs_d = found
            lo = failed
            while hi - lo > ALIGNMENT:  # feasibility is nearly monotone in top: keep the best seen
                mid = _align_down((lo + hi) // 2)
                if mid <= lo:
                    break
                trial = _descending(chain, allow, mid)
                if trial is not None:
                    hi, offs_d = mid, trial
                else:
                    lo = mid
            candidates.append((_end(buffers, offs_d), "descending overlaps", offs_d))
    size, name, offsets = min(candidates, key=lambda c: c[0])
    return offsets, size, name


def plan_memory(buffers: list[Buffer], n_steps: int, *, separate_io: bool = False,
                allow: Allow | None = None) -> Plan:
    """Plan the arena. With separate_io, graph inputs/outputs get their own buffer (never reused
    during invoke, so inputs stay valid between calls) and the arena holds the rest. `allow`:
    (input buffer, output buffer) → the shift from which the output may overlap the input."""
    # The live-tensor bound (GUIDE §2): kernel scratch is not a tensor. Overlaps may go below it.
    lower = live_bytes_lower_bound([b for b in buffers if b.scratch_of is None], n_steps)
    allow = dict(allow or {})
    if separate_io:
        io = [b for b in buffers if b.is_io]
        rest = [b for b in buffers if not b.is_io]
        io_offsets: dict[int, int] = {}
        pos = 0
        for b in io:
            io_offsets[b.id] = pos
            pos = _align(pos + b.size)
        offsets, arena, name = best_offsets(rest, n_steps, allow)
        return Plan(offsets, arena, io_offsets, pos, lower, buffers, name, _used(allow, offsets))
    offsets, arena, name = best_offsets(buffers, n_steps, allow)
    return Plan(offsets, arena, {}, 0, lower, buffers, name, _used(allow, offsets))


def _used(allow: Allow, offsets: dict[int, int]) -> Allow:
    return {k: v for k, v in allow.items() if k[0] in offsets and k[1] in offsets}


def plan_violations(buffers: list[Buffer], offsets: dict[int, int], arena: int,
                    allow: Allow | None = None) -> list[str]:
    """Everything wrong with a plan (empty when valid): misalignment, bytes past the arena, two
    buffers alive at one step sharing bytes, unless they are an allowed pair with the output at
    least its shift below the input."""
    allow = allow or {}
    bad = []
    for b in buffers:
        if offsets[b.id] % ALIGNMENT or offsets[b.id] < 0 or offsets[b.id] + b.size > arena:
            bad.append(f"buffer {b.id} at {offsets[b.id]} (+{b.size}) outside the {arena}-byte arena or unaligned")
    for i, a in enumerate(buffers):
        for b in buffers[i + 1:]:
            if not a.overlaps(b):
                continue
            a0, b0 = offsets[a.id], offsets[b.id]
            if a0 + a.size <= b0 or b0 + b.size <= a0:
                continue
            if (a.id, b.id) in allow and b0 <= a0 - allow[(a.id, b.id)]:
                continue
            if (b.id, a.id) in allow and a0 <= b0 - allow[(b.id, a.id)]:
                continue
            bad.append(f"buffers {a.id} at {a0} (+{a.size}) and {b.id} at {b0} (+{b.size}) share bytes")
    return bad
