"""Lowering a graph: check support, run every operator's Prepare, plan memory.

`compile_graph` is the single entry point between the IR and code generation: it returns a
`CompiledModel` holding the kernel calls in execution order and the memory plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from .analysis import Buffer, build_buffers, live_bytes_lower_bound
from .errors import UnsupportedModelError
from .ir import Graph
from .ops.base import Alias, KernelCall, registry
from .planner import Plan, fit_in_gaps, plan_memory

# Types a graph input or output may have: int8 directly, or float32 around an int8 core
# (QUANTIZE at the input, DEQUANTIZE at the output).
_ACTIVATION_TYPES = {"int8", "float32", "int32"}


@dataclass
class CompiledModel:
    graph: Graph
    steps: list[KernelCall | Alias]
    aliases: dict[int, int]  # alias tensor → source tensor
    plan: Plan
    buffer_of: dict[int, int]  # non-constant tensor index → buffer id

    @property
    def calls(self) -> list[KernelCall]:
        return [s for s in self.steps if isinstance(s, KernelCall)]

    @property
    def macs(self) -> int:
        return sum(c.macs for c in self.calls)

    def tensor_location(self, tensor_index: int) -> tuple[str, int]:
        """("arena"|"io", byte offset) of a non-constant tensor."""
        return self.plan.location(self.buffer_of[tensor_index])


def check_graph(graph: Graph) -> None:
    """Whole-graph checks; raises UnsupportedModelError naming every problem found."""
    problems: list[str] = []
    if graph.num_subgraphs > 1:
        problems.append(f"the model has {graph.num_subgraphs} subgraphs; only single-subgraph models are supported")
    ops = registry()
    unknown = [f"{op.opcode} (operator {op.index})" for op in graph.operators if op.opcode not in ops]
    if unknown:
        problems.append("unsupported operators: " + ", ".join(unknown))
    variable = [t for t in graph.tensors if not t.is_const]
    if variable and all(t.dtype == "float32" for t in variable):
        problems.append("the model is float32 only; quantize it to int8 (full-integer post-training quantization)")
    int16 = [t.name for t in variable if t.dtype == "int16"]
    if int16:
        problems.append(f"int16 activations are not supported (tensor '{int16[0]}' and {len(int16) - 1} more)"
                        if len(int16) > 1 else f"int16 activations are not supported (tensor '{int16[0]}')")
    odd = sorted({t.dtype for t in variable} - _ACTIVATION_TYPES - {"int16"})
    if odd:
        problems.append(f"activation tensors of type {', '.join(odd)} are not supported")
    if problems:
        raise UnsupportedModelError(f"{graph.name}: " + "; ".join(problems))


def compile_graph(graph: Graph, *, separate_io: bool = False, scratch_may_grow_arena: bool = False) -> CompiledModel:
    check_graph(graph)
    ops = registry()
    steps: list[KernelCall | Alias] = []
    errors: list[str] = []
    for op in graph.operators:
        try:
            steps.append(ops[op.opcode](graph, op))
        except UnsupportedModelError as exc:
            errors.append(exc.message)
    if errors:
        raise UnsupportedModelError(f"{graph.name}: " + "; ".join(errors))
    aliases = {s.target: s.source for s in steps if isinstance(s, Alias)}
    steps, plan, buffers = choose_scratch(graph, steps, aliases, separate_io=separate_io,
                                          scratch_may_grow_arena=scratch_may_grow_arena)
    buffer_of = {t: b.id for b in buffers for t in b.tensors}
    return CompiledModel(graph=graph, steps=steps, aliases=aliases, plan=plan, buffer_of=buffer_of)


def _plan(graph: Graph, steps: list[KernelCall | Alias], aliases: dict[int, int],
          separate_io: bool) -> tuple[Plan, list[Buffer]]:
    scratch = {s.op.index: s.scratch_bytes for s in steps if isinstance(s, KernelCall) and s.scratch_bytes}
    buffers = build_buffers(graph, aliases, scratch)
    return plan_memory(buffers, len(graph.operators), separate_io=separate_io), buffers


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
    """
    if scratch_may_grow_arena or not any(isinstance(s, KernelCall) and s.fallback for s in steps):
        plan, buffers = _plan(graph, steps, aliases, separate_io)
        return steps, plan, buffers
    chosen: list[KernelCall | Alias] = [s.fallback if isinstance(s, KernelCall) and s.fallback else s
                                        for s in steps]
    base, buffers = _plan(graph, chosen, aliases, separate_io)
    placed = [(base.offsets[b.id], b) for b in buffers if b.id in base.offsets]
    offsets = dict(base.offsets)
    buffers = list(buffers)
    next_id = max((b.id for b in buffers), default=-1) + 1
    for i in sorted((i for i, s in enumerate(steps) if isinstance(s, KernelCall) and s.fallback),
                    key=lambda i: (-_macs(steps[i]), i)):
        fast = steps[i]
        assert isinstance(fast, KernelCall)
        scratch = Buffer(id=next_id, size=fast.scratch_bytes, first=fast.op.index, last=fast.op.index,
                         scratch_of=fast.op.index)
        at = fit_in_gaps(scratch, placed, base.arena_bytes)
        if at is None:
            if fast.in_place is not None and _dies_here(buffers, fast.op.inputs[0], fast.op.index):
                chosen[i] = fast.in_place  # working memory in its dead input: no bytes added
            continue
        chosen[i] = fast
        offsets[scratch.id] = at
        placed.append((at, scratch))
        buffers.append(scratch)
        next_id += 1
    plan = Plan(offsets, base.arena_bytes, base.io_offsets, base.io_bytes,
                live_bytes_lower_bound(buffers, len(graph.operators)), buffers, base.strategy + ", scratch in holes")
    return chosen, plan, buffers


def _dies_here(buffers: list[Buffer], tensor: int, step: int) -> bool:
    """Whether the arena bytes of `tensor` are dead after `step` (not a graph input or output)."""
    return any(tensor in b.tensors and b.last == step and not b.is_io for b in buffers)


def _macs(step: KernelCall | Alias) -> int:
    return step.macs if isinstance(step, KernelCall) else 0
