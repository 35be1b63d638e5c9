"""`mcuforge inspect`: what a model contains and what the compiler makes of it, op by op."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from .analysis import build_buffers, live_bytes_lower_bound
from .compiler import check_graph, compile_graph
from .constfold import fold_constants, summary
from .errors import UnsupportedModelError
from .frontends import read_model
from .ir import Graph
from .ops.base import Alias, KernelCall, registry
from .ops.variable_tensors import outside_arena
from .ops.variables import without_handles
from .refusals import common_reason, operator_list, reason_key
from .support import ETHOS_U


@dataclass
class OpRow:
    index: int
    op: str
    inputs: list[list[int]]
    outputs: list[list[int]]
    macs: int | None
    weight_bytes: int
    supported: bool
    reason: str = ""


@dataclass
class IoRow:
    name: str
    dtype: str
    shape: list[int]
    scale: float | None
    zero_point: int | None


@dataclass
class ModelReport:
    model: str
    sha256: str
    ops: list[OpRow] = field(default_factory=list)
    inputs: list[IoRow] = field(default_factory=list)
    outputs: list[IoRow] = field(default_factory=list)
    weights_bytes: int = 0
    macs: int = 0
    lower_bound_bytes: int = 0
    arena_bytes: int | None = None  # None when the model cannot be compiled
    state_bytes: int = 0  # resource variables kept across invokes (a streaming model's state)
    subgraphs: int = 1
    # Operators whose output the plan puts over an input that dies with them (the arena can then go
    # below lower_bound_bytes, the live-tensor bound): "operator N OPCODE: ...".
    overlaps: list[str] = field(default_factory=list)
    # Operators that cost nothing at run time: evaluated when compiling, or views of their input.
    no_code: list[str] = field(default_factory=list)
    supported: bool = True
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def _io(graph: Graph, idx: int) -> IoRow:
    t = graph.tensors[idx]
    return IoRow(t.name, t.dtype, list(t.shape), t.scale if t.quant else None, t.zero_point if t.quant else None)


def _folded_into(graph: Graph, view: Alias) -> str | None:
    """"operator 5 FULLY_CONNECTED's weights" when a TRANSPOSE went into its reader (constfold.py)."""
    for key, what in (("into_weights_of", "'s weights"), ("into_reduction_of", "")):
        k = view.op.options.get(key)
        if isinstance(k, int) and 0 <= k < len(graph.operators):
            return f"operator {k} {graph.operators[k].opcode}{what}"
    return None


def inspect_graph(graph: Graph) -> ModelReport:
    rep = ModelReport(graph.name, graph.sha256, weights_bytes=graph.weights_bytes,
                      inputs=[_io(graph, i) for i in graph.inputs], outputs=[_io(graph, i) for i in graph.outputs],
                      subgraphs=graph.num_subgraphs)
    lowerings = registry()
    aliases: dict[int, int] = {}
    graph, folded = fold_constants(graph)  # as compile_graph: constant subgraphs are constants
    folded_ops = {f.op.index for f in folded}
    for op in graph.operators:
        ins = [t for t in graph.op_inputs(op) if t is not None]
        row = OpRow(op.index, op.opcode, [list(t.shape) for t in ins if not t.is_const],
                    [list(t.shape) for t in graph.op_outputs(op)], None,
                    sum(t.nbytes for t in ins if t.is_const), False)
        fn = lowerings.get(op.opcode)
        if op.index in folded_ops:
            row.supported, row.macs = True, 0
        elif fn is None:
            row.reason = ("an Arm Ethos-U command stream (compiled by Vela); give mcuforge the model from before Vela"
                          if op.opcode == ETHOS_U else "no kernel for this operator")
        else:
            try:
                step = fn(graph, op)
            except UnsupportedModelError as exc:
                row.reason = exc.message.split(": ", 1)[-1]
            except Exception as exc:
                row.reason = f"cannot be lowered ({type(exc).__name__}: {exc})"
            else:
                row.supported = True
                if isinstance(step, Alias):
                    aliases[step.target] = step.source
                    row.macs = 0
                elif isinstance(step, KernelCall):
                    row.macs = step.macs
        rep.ops.append(row)
    rep.macs = sum(r.macs or 0 for r in rep.ops)
    # The live-tensor bound of GUIDE §2 (tensors only: kernel scratch goes into holes or in place).
    rep.lower_bound_bytes = live_bytes_lower_bound(
        outside_arena(graph, without_handles(graph, build_buffers(graph, aliases, {}))), len(graph.operators))
    try:
        check_graph(graph)
        cm = compile_graph(graph)
        rep.arena_bytes = cm.plan.arena_bytes
        rep.state_bytes = cm.state.bytes
        rep.overlaps = [f"operator {u.op_index} {u.opcode}: output {u.describe()}" for u in cm.overlaps]
        plain = [v for v in cm.views if _folded_into(cm.graph, v) is None]  # else taken up by their reader
        rep.no_code = [f"{what}: {summary(steps)}" for what, steps in (("evaluated when compiling", cm.folded),
                                                                         ("views of their input", plain)) if steps]
        rep.no_code += [f"folded into the reading layer: operator {v.op.index} {v.op.opcode} "
                        f"(into {_folded_into(cm.graph, v)})" for v in cm.views if v not in plain]
    except UnsupportedModelError as exc:
        rep.supported = False
        rep.problems = exc.message.split(": ", 1)[-1].split("; ")
    except Exception as exc:
        rep.supported = False
        rep.problems = [f"the compiler failed on this model ({type(exc).__name__}: {exc})"]
    return rep


def grouped_refusals(rep: ModelReport) -> list[str]:
    """The unsupported operators of a report, one line per opcode and reason:
    'TRANSPOSE ×95 (operators 2, 4, 7, …): no kernel for this operator'."""
    groups: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for r in rep.ops:
        if not r.supported:  # the same cause on tensors of other names is the same refusal
            groups.setdefault((r.op, reason_key(r.reason)), []).append((r.index, r.reason))
    return [f"{operator_list(op, [i for i, _ in rows])}: {common_reason(key, [why for _, why in rows])}"
            for (op, key), rows in groups.items()]


def inspect_path(path: Path) -> ModelReport:
    return inspect_graph(read_model(path))
