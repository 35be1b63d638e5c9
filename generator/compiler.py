"""Lowering a graph: check support, run every operator's Prepare, plan memory.

`compile_graph` is the single entry point between the IR and code generation: it returns a
`CompiledModel` holding the kernel calls in execution order and the memory plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .analysis import Buffer, alias_loop, build_buffers
from .constfold import Folded, fold_constants
from .errors import UnsupportedModelError
from .ir import Graph
from .ops.base import Alias, KernelCall, registry
from .ops.conv_fsum import FloatConvs, float_convs, onnx_settings
from .ops.variable_tensors import add_variable_tensors, outside_arena
from .ops.variables import StatePlan, plan_state, use_views, without_handles
from .planner import Plan, fit_in_gaps, plan_memory
from .refusals import group_refusals

# Types a graph input or output may have: int8 or int16 (16x8 models) directly, or float32 / uint8
# around an integer core (QUANTIZE at the input, DEQUANTIZE or QUANTIZE at the output). Each
# operator's lowering still refuses the types its kernel does not take, naming the tensor.
_ACTIVATION_TYPES = {"int8", "uint8", "int16", "float32", "int32"}
# Types that live only inside the graph (TFLite Micro's signal operators' spectra and channels):
# the generated model's tensor table and the device protocol have no code for them.
_INTERNAL_TYPES = {"uint32", "uint64", "bool"}


@dataclass(frozen=True)
class OverlapUse:
    """An operator whose output shares bytes with an input that dies with it (generator/overlap.py)."""

    op_index: int
    opcode: str
    input: int  # tensor index
    output: int
    shift: int  # bytes from the output's start up to the input's start (0: fully in place)
    min_shift: int  # the smallest shift the kernel's loop order allows
    shared_bytes: int  # bytes of the input the output reuses

    def describe(self) -> str:
        if self.shift == 0:
            return f"in place over its input ({self.shared_bytes:,} B shared)"
        return (f"overlaps its input: starts {self.shift:,} B below it (at least {self.min_shift:,} B proven "
                f"safe), {self.shared_bytes:,} B shared")


@dataclass
class CompiledModel:
    graph: Graph
    steps: list[KernelCall | Alias]
    aliases: dict[int, int]  # alias tensor → source tensor
    plan: Plan
    buffer_of: dict[int, int]  # non-constant tensor index → buffer id
    overlaps: list[OverlapUse] = field(default_factory=list)  # outputs planned over dying inputs
    state: StatePlan = field(default_factory=lambda: StatePlan([], {}, 0))  # variables kept across invokes
    float_convs: FloatConvs | None = None  # ONNX convolutions onnxruntime runs in float (ops/conv_fsum.py)
    # the graph compile_graph was given, before constant folding rewrote operators (a TRANSPOSE moved
    # into the weights it feeds, ...): what a recompile, e.g. validate's op-by-op search, starts from
    source: Graph | None = None

    @property
    def calls(self) -> list[KernelCall]:
        return [s for s in self.steps if isinstance(s, KernelCall)]

    @property
    def folded(self) -> list[Folded]:
        """Operators evaluated when compiling: their outputs are constants (constfold.py)."""
        return [s for s in self.steps if isinstance(s, Folded)]

    @property
    def views(self) -> list[Alias]:
        """Operators that only relabel memory: outputs share their input's bytes, no code runs."""
        return [s for s in self.steps if isinstance(s, Alias)]

    @property
    def macs(self) -> int:
        return sum(c.macs for c in self.calls)

    def tensor_location(self, tensor_index: int) -> tuple[str, int]:
        """("arena"|"io", byte offset) of a non-constant tensor."""
        return self.plan.location(self.buffer_of[tensor_index])


def check_graph(graph: Graph) -> None:
    """Whole-graph checks; raises UnsupportedModelError naming every problem found (support.py)."""
    graph = fold_constants(graph)[0]  # operators on constants are constants (constfold.py)
    from .support import graph_problems

    problems = graph_problems(graph, _ACTIVATION_TYPES)
    problems += [f"graph {kind} '{graph.tensors[i].name}' is {graph.tensors[i].dtype}; inputs and outputs may "
                 "be int8, uint8, int16, int32 or float32" for kind, ix in (("input", graph.inputs),
                                                                          ("output", graph.outputs))
                 for i in ix if graph.tensors[i].dtype in _INTERNAL_TYPES]
    if problems:
        raise UnsupportedModelError(f"{graph.name}: " + "; ".join(problems))


def compile_graph(graph: Graph, *, separate_io: bool = False, scratch_may_grow_arena: bool = False,
                  onnx_numerics: str | None = None, ort_threads: int | None = None) -> CompiledModel:
    """`onnx_numerics` / `ort_threads`: how the ONNX convolutions onnxruntime runs in float are
    lowered (ops/conv_fsum.py; None: as set around the call, else bit-exact for this machine)."""
    with onnx_settings(onnx_numerics, ort_threads):
        cm = _compile_graph(graph, separate_io=separate_io, scratch_may_grow_arena=scratch_may_grow_arena)
        cm.float_convs = float_convs(graph, cm.steps)
        cm.source = graph
    return cm


def _compile_graph(graph: Graph, *, separate_io: bool, scratch_may_grow_arena: bool) -> CompiledModel:
    graph, folded = fold_constants(graph)  # operators on constants become constants (constfold.py)
    check_graph(graph)
    ops = registry()
    steps: list[KernelCall | Alias] = []
    errors: list[str] = []
    done = {f.op.index: f for f in folded}
    for op in graph.operators:
        try:
            steps.append(done[op.index] if op.index in done else ops[op.opcode](graph, op))
        except UnsupportedModelError as exc:
            errors.append(exc.message)
        except (IndexError, KeyError, ValueError, TypeError, AttributeError, AssertionError) as exc:
            # A lowering met an operator whose operands are not what the TFLite schema allows (a
            # damaged or hand-made file): refuse it by name rather than end in a traceback.
            errors.append(f"operator {op.index} ({op.opcode}): malformed operator "
                          f"({type(exc).__name__}: {exc})")
    if errors:
        raise UnsupportedModelError(f"{graph.name}: " + "; ".join(group_refusals(errors)))
    state = plan_state(graph)  # resource variables: a static buffer outside the arena (ops/variables.py)
    aliases = {s.target: s.source for s in steps if isinstance(s, Alias)}
    steps = use_views(graph, steps, aliases, state)  # READ_VARIABLE outputs read in place where they can be
    looped = alias_loop(aliases)
    if looped is not None:
        raise UnsupportedModelError(f"{graph.name}: tensor '{graph.tensors[looped].name}' is a view of itself "
                                    "through a loop of reshapes (the graph reads a tensor before writing it)")
    add_variable_tensors(graph, state)  # SVDF / LSTM state tensors: in the state buffer too (ops/variable_tensors.py)
    steps, plan, buffers = choose_scratch(graph, steps, aliases, separate_io=separate_io,
                                          scratch_may_grow_arena=scratch_may_grow_arena)
    buffer_of = {t: b.id for b in buffers for t in b.tensors}
    steps, overlaps = _note_overlaps(steps, plan, buffer_of)
    return CompiledModel(graph=graph, steps=steps, aliases=aliases, plan=plan, buffer_of=buffer_of,
                         overlaps=overlaps, state=state)


def _note_overlaps(steps: list[KernelCall | Alias], plan: Plan, buffer_of: dict[int, int]
                   ) -> tuple[list[KernelCall | Alias], list[OverlapUse]]:
    """The overlaps the plan uses, and the calls' comments saying so (in the generated C)."""
    sizes = {b.id: b.size for b in plan.buffers}
    uses: list[OverlapUse] = []
    out_steps: list[KernelCall | Alias] = []
    for s in steps:
        if isinstance(s, KernelCall) and s.overlap and len(s.op.outputs) == 1:
            ob = buffer_of.get(s.op.outputs[0])
            for t in dict.fromkeys(s.op.inputs):
                ib = buffer_of.get(t)
                if ib is None or ob is None or (ib, ob) not in plan.allow or not plan.overlapping(ib, ob):
                    continue
                shift = plan.offsets[ib] - plan.offsets[ob]
                shared = min(plan.offsets[ib] + sizes[ib], plan.offsets[ob] + sizes[ob]) - plan.offsets[ib]
                use = OverlapUse(s.op.index, s.op.opcode, t, s.op.outputs[0], shift, plan.allow[(ib, ob)], shared)
                uses.append(use)
                s = replace(s, comment=f"{s.comment}; output {use.describe()}")
                break
        out_steps.append(s)
    return out_steps, uses


def _plan(graph: Graph, steps: list[KernelCall | Alias], aliases: dict[int, int],
          separate_io: bool, *, overlaps: bool = True) -> tuple[Plan, list[Buffer]]:
    scratch = {s.op.index: s.scratch_bytes for s in steps if isinstance(s, KernelCall) and s.scratch_bytes}
    buffers = outside_arena(graph, without_handles(graph, build_buffers(graph, aliases, scratch)))
    plan = plan_memory(buffers, len(graph.operators), separate_io=separate_io,
                       allow=overlap_allowances(steps, buffers) if overlaps else None)
    return plan, buffers


def overlap_allowances(steps: list[KernelCall | Alias], buffers: list[Buffer]) -> dict[tuple[int, int], int]:
    """(input buffer, output buffer) → the shift from which the output may overlap the input: for
    every call whose kernel allows it (KernelCall.overlap) and whose input's bytes die with it. Every
    argument of the call in that input's buffer must be covered by the call's proof."""
    of: dict[int, Buffer] = {t: b for b in buffers if b.scratch_of is None for t in b.tensors}
    allow: dict[tuple[int, int], int] = {}
    for s in steps:
        if not isinstance(s, KernelCall) or not s.overlap or len(s.op.outputs) != 1:
            continue
        out = of.get(s.op.outputs[0])
        if out is None or out.first != s.op.index:
            continue
        for buf in {of[t].id: of[t] for t in s.overlap if t in of}.values():
            if buf is out or buf.last != s.op.index or buf.first >= s.op.index:
                continue
            args = [t for t in s.op.inputs if t >= 0 and of.get(t) is buf]
            if any(t not in s.overlap for t in args):
                continue
            allow[(buf.id, out.id)] = max(s.overlap[t] for t in args)
    return allow


def choose_scratch(graph: Graph, steps: list[KernelCall | Alias], aliases: dict[int, int], *,
                   separate_io: bool, scratch_may_grow_arena: bool = False
                   ) -> tuple[list[KernelCall | Alias], Plan, list[Buffer]]:
    """Use the kernels' scratch (their fast paths) only where it costs no RAM.

    The memory plan of the model with every operator on its scratch-free fallback is kept as it
    is; then each operator's scratch, most MACs first, goes into a hole of that plan: bytes free at
    its step (among the tensors and the scratch already placed), never moving a tensor or growing
    the arena. An operator whose scratch finds no hole runs in place if it can (its working memory
    in its own dead input, see KernelCall.in_place), else its fallback. (A mix of fast and
    fallback convolutions is bit-exact on every board; an earlier M4 failure seen while mixing came
    from a deliberately broken kernel copied in for a mutation test, not from the mix.) With
    scratch_may_grow_arena every fast path is kept and the plan makes room for its scratch.

    Outputs may overlap dying inputs (KernelCall.overlap), which takes the arena below the
    live-bytes bound, but never at the price of a fast path: every operator that gets its scratch
    (or in-place columns) in the plan without overlaps gets it in the plan with them too - those
    the holes do not serve have their scratch planned with the tensors - else the plan without
    overlaps is kept.
    """
    if scratch_may_grow_arena or not any(isinstance(s, KernelCall) and s.fallback for s in steps):
        plan, buffers = _plan(graph, steps, aliases, separate_io)
        return steps, plan, buffers
    plain = _scratch_in_holes(graph, steps, aliases, separate_io, overlaps=False, planned=set())
    fast_before = _fast_ops(plain[0])
    planned: set[int] = set()
    best = plain
    for _ in range(len(steps) + 1):
        trial = _scratch_in_holes(graph, steps, aliases, separate_io, overlaps=True, planned=planned)
        missing = fast_before - _fast_ops(trial[0])
        if not missing:
            if trial[1].arena_bytes + trial[1].io_bytes < best[1].arena_bytes + best[1].io_bytes:
                best = trial
            break
        planned |= missing
    return best


def _fast_ops(steps: list[KernelCall | Alias]) -> set[int]:
    return {s.op.index for s in steps if isinstance(s, KernelCall) and (s.scratch_bytes or s.params.get("inplace"))}


def _scratch_in_holes(graph: Graph, steps: list[KernelCall | Alias], aliases: dict[int, int], separate_io: bool,
                      *, overlaps: bool, planned: set[int]) -> tuple[list[KernelCall | Alias], Plan, list[Buffer]]:
    """The plan of the fallbacks (with the scratch of the operators in `planned` planned with the
    tensors), then the other operators' scratch in its holes, or their columns in place."""
    chosen: list[KernelCall | Alias] = [
        s.fallback if isinstance(s, KernelCall) and s.fallback and s.op.index not in planned else s for s in steps]
    base, buffers = _plan(graph, chosen, aliases, separate_io, overlaps=overlaps)
    placed = [(base.offsets[b.id], b) for b in buffers if b.id in base.offsets]
    offsets = dict(base.offsets)
    buffers = list(buffers)
    next_id = max((b.id for b in buffers), default=-1) + 1
    for i in sorted((i for i, s in enumerate(steps) if isinstance(s, KernelCall) and s.fallback
                     and s.op.index not in planned), key=lambda i: (-_macs(steps[i]), i)):
        fast = steps[i]
        assert isinstance(fast, KernelCall)
        scratch = Buffer(id=next_id, size=fast.scratch_bytes, first=fast.op.index, last=fast.op.index,
                         scratch_of=fast.op.index)
        at = fit_in_gaps(scratch, placed, base.arena_bytes)
        if at is None:
            if (fast.in_place is not None and _dies_here(buffers, fast.op.inputs[0], fast.op.index)
                    and not _shares_bytes(base, buffers, fast.op.inputs[0], fast.op.outputs[0])):
                chosen[i] = fast.in_place  # working memory in its dead input: no bytes added
            continue
        chosen[i] = fast
        offsets[scratch.id] = at
        placed.append((at, scratch))
        buffers.append(scratch)
        next_id += 1
    plan = Plan(offsets, base.arena_bytes, base.io_offsets, base.io_bytes, base.lower_bound, buffers,
                base.strategy + ", scratch in holes", base.allow)
    return chosen, plan, buffers


def _shares_bytes(plan: Plan, buffers: list[Buffer], a: int, b: int) -> bool:
    """Whether tensors a and b overlap in the plan (the in-place columns need them apart)."""
    ids = [next((x.id for x in buffers if t in x.tensors), None) for t in (a, b)]
    return ids[0] is not None and ids[1] is not None and plan.overlapping(ids[0], ids[1])


def _dies_here(buffers: list[Buffer], tensor: int, step: int) -> bool:
    """Whether the arena bytes of `tensor` are dead after `step` (not a graph input or output)."""
    return any(tensor in b.tensors and b.last == step and not b.is_io for b in buffers)


def _macs(step: KernelCall | Alias) -> int:
    return step.macs if isinstance(step, KernelCall) else 0
