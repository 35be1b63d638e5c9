"""Stack bounds from the compiler: GCC's per-function frame sizes over the call graph.

A build compiled with ``-fstack-usage -fcallgraph-info=su`` leaves, next to every object, a
``.su`` file (one line per function: ``file:line:col:name<TAB>bytes<TAB>static|dynamic[,bounded]``)
and a ``.ci`` file (the call graph in VCG text: one node per function with the same frame size in
its label, one edge per call site, calls through pointers as edges to ``__indirect_call``). The
bound of a root is the largest sum of frame sizes along any call path from it.

What the graph cannot know is made explicit to the caller:

* calls through pointers go to the functions named in ``indirect`` (e.g. the model's ``invoke``,
  which the host protocol calls through ``mcf_model``); with none given they count as unknown;
* functions without a frame size (libgcc, the C library, an RTOS kernel built without the flags)
  count ``unknown_bytes`` each, and are listed in the result;
* recursion, and frames GCC marks ``dynamic`` without ``bounded`` (alloca, VLAs), make the bound
  unknowable: the result says so (``bounded`` is False) instead of returning a number.

Pure functions over text, except :func:`load_call_graph`, which reads a build folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

INDIRECT = "__indirect_call"

_NODE = re.compile(r'node:\s*\{\s*title:\s*"(?P<title>[^"]*)"\s*label:\s*"(?P<label>[^"]*)"')
_EDGE = re.compile(r'edge:\s*\{\s*sourcename:\s*"(?P<src>[^"]*)"\s*targetname:\s*"(?P<dst>[^"]*)"')
_FRAME = re.compile(r"(?P<bytes>\d+) bytes \((?P<kind>[a-z,]+)\)")


@dataclass(frozen=True)
class Frame:
    """One function's own stack use, as GCC reports it."""

    bytes: int
    kind: str  # "static", "dynamic,bounded" or "dynamic"

    @property
    def bounded(self) -> bool:
        return self.kind != "dynamic"


@dataclass
class CallGraph:
    """Functions (by GCC's title: the name, or ``file:name`` for a static function), their frames
    when known, and whom each one calls."""

    frames: dict[str, Frame] = field(default_factory=dict)
    calls: dict[str, set[str]] = field(default_factory=dict)

    def merge(self, other: CallGraph) -> None:
        self.frames.update(other.frames)
        for src, dsts in other.calls.items():
            self.calls.setdefault(src, set()).update(dsts)

    def find(self, name: str) -> str | None:
        """The title of a function called `name`: itself if global, else the one static function
        of that name (None if there is none, or several)."""
        if name in self.frames or name in self.calls:
            return name
        hits = [t for t in self.frames if t.rsplit(":", 1)[-1] == name]
        return hits[0] if len(hits) == 1 else None


@dataclass(frozen=True)
class StackBound:
    """The worst path from a root: its functions, their frames and the bound's total."""

    root: str
    bytes: int
    path: tuple[tuple[str, int], ...]
    unknown: tuple[str, ...] = ()   # functions counted as unknown_bytes
    bounded: bool = True
    reason: str = ""                # why not bounded (recursion, dynamic frame)

    def describe(self) -> str:
        if not self.bounded:
            return f"{self.root}: no bound ({self.reason})"
        chain = " > ".join(f"{name.rsplit(':', 1)[-1]} {size}" for name, size in self.path)
        return f"{self.root}: {self.bytes:,} B ({chain})"


def parse_su(text: str) -> dict[tuple[str, str], Frame]:
    """A ``.su`` file: {(source file, function name): frame}."""
    out: dict[tuple[str, str], Frame] = {}
    for line in text.splitlines():
        parts = line.rstrip("\n").split("\t")
        if len(parts) != 3 or not parts[1].isdigit():
            continue
        where, size, kind = parts
        pieces = where.rsplit(":", 3)
        if len(pieces) != 4:
            continue
        out[(pieces[0], pieces[3])] = Frame(int(size), kind)
    return out


def parse_ci(text: str) -> CallGraph:
    """A ``.ci`` file (``-fcallgraph-info=su``): nodes with their frame, and call edges."""
    g = CallGraph()
    for m in _NODE.finditer(text):
        frame = _FRAME.search(m.group("label").replace("\\n", "\n"))
        g.calls.setdefault(m.group("title"), set())
        if frame is not None:
            g.frames[m.group("title")] = Frame(int(frame.group("bytes")), frame.group("kind"))
    for m in _EDGE.finditer(text):
        g.calls.setdefault(m.group("src"), set()).add(m.group("dst"))
    return g


def load_call_graph(build_dir: Path, *, under: Iterable[Path] = ()) -> CallGraph:
    """Every ``.ci`` file below `build_dir` (or below the given sub-folders), merged."""
    roots = list(under) or [build_dir]
    g = CallGraph()
    for root in roots:
        for ci in sorted(Path(root).rglob("*.ci")):
            g.merge(parse_ci(ci.read_text(errors="replace")))
    return g


def stack_bound(graph: CallGraph, root: str, *, indirect: Iterable[str] = (),
                unknown_bytes: int = 0, known: Mapping[str, int] | None = None) -> StackBound:
    """The largest stack use of a call from `root`: max over call paths of the frames' sum.

    `indirect`: the functions a call through a pointer may reach. `known`: frame sizes for
    functions the graph lacks (e.g. measured library functions); others count `unknown_bytes`.
    """
    targets = [t for t in (graph.find(n) or n for n in indirect)]
    known = dict(known or {})
    start = graph.find(root)
    if start is None:
        return StackBound(root, 0, (), bounded=False, reason=f"{root} is not in the call graph")
    memo: dict[str, tuple[int, tuple[tuple[str, int], ...]]] = {}
    unknown: set[str] = set()
    on_path: list[str] = []

    class Unbounded(Exception):
        pass

    def callees(fn: str) -> list[str]:
        out = []
        for dst in sorted(graph.calls.get(fn, ())):
            if dst == INDIRECT:
                if not targets:
                    unknown.add(f"{INDIRECT} (from {fn})")
                    out.append(INDIRECT)
                out.extend(targets)
            else:
                out.append(dst)
        return out

    def walk(fn: str) -> tuple[int, tuple[tuple[str, int], ...]]:
        if fn in memo:
            return memo[fn]
        if fn in on_path:
            cycle = " > ".join([*on_path[on_path.index(fn):], fn])
            raise Unbounded(f"recursion: {cycle}")
        frame = graph.frames.get(fn)
        if frame is None:
            size = known.get(fn.rsplit(":", 1)[-1], unknown_bytes)
            if fn.rsplit(":", 1)[-1] not in known:
                unknown.add(fn)
        elif not frame.bounded:
            raise Unbounded(f"{fn} has a dynamic frame")
        else:
            size = frame.bytes
        on_path.append(fn)
        best: tuple[int, tuple[tuple[str, int], ...]] = (0, ())
        for dst in callees(fn):
            if dst == INDIRECT:
                sub: tuple[int, tuple[tuple[str, int], ...]] = (unknown_bytes, ((INDIRECT, unknown_bytes),))
            else:
                sub = walk(dst)
            if sub[0] > best[0]:
                best = sub
        on_path.pop()
        memo[fn] = (size + best[0], ((fn, size), *best[1]))
        return memo[fn]

    try:
        total, path = walk(start)
    except Unbounded as exc:
        return StackBound(root, 0, (), bounded=False, reason=str(exc))
    return StackBound(root, total, path, tuple(sorted(unknown)))


def stack_size(bound: StackBound, *, margin: int, align: int = 8) -> int:
    """A stack size for a thread whose code is `bound`: plus `margin` (exception frames, the
    kernel's own frames under the entry function), rounded up to `align`."""
    total = bound.bytes + margin
    return (total + align - 1) // align * align


def set_conf_values(text: str, values: Mapping[str, int]) -> str:
    """A Kconfig fragment (prj.conf) with ``NAME=value`` lines set: replaced where present,
    appended otherwise. Other lines, comments included, are kept as they are."""
    lines = text.splitlines()
    todo = dict(values)
    for i, line in enumerate(lines):
        name = line.split("=", 1)[0].strip()
        if "=" in line and not line.lstrip().startswith("#") and name in todo:
            lines[i] = f"{name}={todo.pop(name)}"
    lines += [f"{name}={value}" for name, value in todo.items()]
    return "\n".join(lines) + "\n"
