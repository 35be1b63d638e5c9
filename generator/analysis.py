"""Static analysis of a graph: buffers, lifetimes, the live-bytes lower bound, MACs.

A *buffer* is a piece of memory the arena must provide: one non-constant tensor, or several
tensors that alias (RESHAPE/SQUEEZE outputs share their input's bytes), or a kernel's scratch.
Its lifetime is the inclusive range of operator steps during which its bytes must survive.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .ir import Graph


@dataclass
class Buffer:
    id: int
    size: int
    first: int  # first step the buffer is written or read (-1 for graph inputs: before step 0)
    last: int  # last step it is read (len(ops) for graph outputs: read after invoke)
    tensors: list[int] = field(default_factory=list)  # tensor indices sharing these bytes
    scratch_of: int | None = None  # operator index, for kernel scratch buffers
    is_io: bool = False  # holds a graph input or output

    def overlaps(self, other: Buffer) -> bool:
        return self.first <= other.last and other.first <= self.last


def alias_root(aliases: dict[int, int], t: int) -> int:
    """The tensor whose bytes `t` uses, following alias → source links. In a malformed graph the
    links can loop (a view read before it is written); the walk then ends where the loop closes
    (`alias_loop` finds such a loop, and the compiler refuses the graph)."""
    seen: set[int] = set()
    while t in aliases and t not in seen:
        seen.add(t)
        t = aliases[t]
    return t


def alias_loop(aliases: dict[int, int]) -> int | None:
    """A tensor on a loop of alias links, or None when every chain ends in a tensor of its own."""
    for start in aliases:
        t, seen = start, set()
        while t in aliases:
            if t in seen:
                return t
            seen.add(t)
            t = aliases[t]
    return None


def build_buffers(graph: Graph, aliases: dict[int, int], scratch: dict[int, int]) -> list[Buffer]:
    """Group tensors into buffers and compute lifetimes in execution order.

    aliases maps an alias output tensor → the tensor whose bytes it reuses; scratch maps an
    operator index → scratch bytes it needs during its own step.
    """

    def root(t: int) -> int:
        return alias_root(aliases, t)

    n_steps = len(graph.operators)
    groups: dict[int, Buffer] = {}

    def touch(t: int, step: int) -> None:
        tensor = graph.tensors[t]
        if tensor.is_const:
            return
        r = root(t)
        buf = groups.get(r)
        if buf is None:
            buf = groups[r] = Buffer(id=r, size=tensor.nbytes, first=step, last=step)
        buf.first = min(buf.first, step)
        buf.last = max(buf.last, step)
        buf.size = max(buf.size, tensor.nbytes)
        if t not in buf.tensors:
            buf.tensors.append(t)

    for t in graph.inputs:
        touch(t, -1)
    for op in graph.operators:
        for t in op.inputs:
            if t >= 0:
                touch(t, op.index)
        for t in op.outputs:
            touch(t, op.index)
    for t in graph.outputs:
        touch(t, n_steps)
    io = {root(t) for t in (*graph.inputs, *graph.outputs)}
    buffers = sorted(groups.values(), key=lambda b: b.id)
    for b in buffers:
        b.is_io = b.id in io
    next_id = max((t.index for t in graph.tensors), default=0) + 1
    for op_index, size in sorted(scratch.items()):
        if size > 0:
            buffers.append(Buffer(id=next_id, size=size, first=op_index, last=op_index, scratch_of=op_index))
            next_id += 1
    return buffers


def live_bytes_lower_bound(buffers: list[Buffer], n_steps: int) -> int:
    """Max over steps of the bytes that must be alive together: no plan can be smaller."""
    peak = 0
    for step in range(-1, n_steps + 1):
        peak = max(peak, sum(b.size for b in buffers if b.first <= step <= b.last))
    return peak
