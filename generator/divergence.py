"""Where the generated C and the reference part ways: differences in quantization steps, top-1
agreement, and the first operator whose output differs (every intermediate tensor compared).

The first differing operator is found by compiling the graph again with every tensor an operator
computes as an extra graph output (the kernels and their arithmetic are the same; only the
memory plan changes), running that build and a reference that keeps its tensors on one input,
and walking the operators in execution order. For an .onnx model the reference's intermediate
values are onnxruntime's own (references.onnx_probe); an IR tensor onnxruntime has no value for
(a layout change the front end added, a tensor onnxruntime fused away) is not comparable.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .codegen import generate
from .compiler import compile_graph
from .errors import McuforgeError
from .hostbuild import HostModel
from .ir import Graph
from .references import open_reference

# Operators that only move or relabel elements: a difference after them started before them.
_LAYOUT = frozenset({"TRANSPOSE", "RESHAPE", "SQUEEZE", "EXPAND_DIMS"})


@dataclass
class Divergence:
    operator: int  # index in graph.operators
    opcode: str
    tensor: str  # the output tensor that differs
    elements: int  # elements of that tensor that differ
    size: int
    max_steps: float  # largest difference, in the tensor's quantization steps (or absolute, unquantized)
    # The reference had no value for the operator's own output, only for a DEQUANTIZE after it
    # (onnxruntime folds a graph output's last DequantizeLinear into the operator): seen there.
    seen_at: str = ""
    onnx_node: str = ""  # for an .onnx model: the ONNX node that computed the tensor

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    def describe(self) -> str:
        node = f"onnx node {self.onnx_node!r}, " if self.onnx_node else ""
        where = f", seen at the {self.seen_at} after it" if self.seen_at else ""
        unit = "step" if self.max_steps == 1 else "steps"
        return (f"first difference: operator {self.operator} {self.opcode} ({node}tensor {self.tensor!r}): "
                f"{self.elements} of {self.size} elements, max {self.max_steps:g} {unit}{where}")


@dataclass
class Search:
    """The op-by-op comparison on one input: the first difference (None: none found among the
    compared tensors), how many operator outputs were compared, and those the reference gave no
    value for ("#index OPCODE 'tensor'"). `error`: why no comparison could be made at all; `note`:
    why the reference gave no intermediate values (only the graph outputs were compared)."""

    first: Divergence | None = None
    compared: int = 0
    not_comparable: list[str] = dataclasses.field(default_factory=list)
    error: str = ""
    note: str = ""

    def to_json(self) -> dict:
        return {"first_difference": self.first.to_json() if self.first else None, "compared": self.compared,
                "not_comparable": self.not_comparable, "error": self.error, "note": self.note}

    def describe(self) -> list[str]:
        if self.error:
            return [f"first difference: not searched ({self.error})"]
        lines = [self.first.describe() if self.first else
                 f"no intermediate difference ({self.compared} operator outputs compared)"]
        if self.not_comparable:
            shown = ", ".join(self.not_comparable[:4]) + (", ..." if len(self.not_comparable) > 4 else "")
            lines.append(f"not comparable: {len(self.not_comparable)} operator output(s) the reference has no "
                         f"value for ({shown})")
        if self.note:
            lines.append(f"note: {self.note}")
        return lines


def step_scale(graph: Graph, index: int) -> float:
    """The size of one quantization step of a tensor's values: 1 for a quantized integer tensor
    (its stored integers are steps); a float tensor that a DEQUANTIZE computes counts in its
    input's scale; any other float tensor in absolute units (1.0)."""
    if graph.tensors[index].dtype != "float32":
        return 1.0
    for op in graph.operators:
        if op.opcode == "DEQUANTIZE" and index in op.outputs:
            src = graph.tensors[op.inputs[0]]
            if src.quant is not None and len(src.quant.scale) == 1 and src.scale > 0:
                return float(src.scale)
    return 1.0


def steps(graph: Graph, index: int, got: np.ndarray, want: np.ndarray) -> float:
    """Largest difference between two values of tensor `index`, in quantization steps."""
    if got.size == 0:
        return 0.0
    d = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64).reshape(got.shape))))
    scale = step_scale(graph, index)
    return round(d / scale, 3) if scale != 1.0 else d


def top1(x: np.ndarray) -> np.ndarray:
    """The index of the largest value along the last axis, per row."""
    return np.argmax(x.reshape(-1, x.shape[-1]) if x.ndim else x.reshape(1, 1), axis=-1)


def computed_tensors(graph: Graph) -> list[int]:
    """Every non-constant tensor an operator writes, in execution order (graph outputs included)."""
    seen: list[int] = []
    for op in graph.operators:
        for o in op.outputs:
            if o >= 0 and o not in seen and not graph.tensors[o].is_const and not graph.tensors[o].is_variable:
                seen.append(o)
    return seen


def first_difference(graph: Graph, model_bytes: bytes, inputs: list[np.ndarray],
                     extra_flags: tuple[str, ...] = ()) -> Divergence | None:
    """The first operator (execution order) whose output differs from the reference on `inputs`,
    among the tensors the reference can give; None if none differs or the probe cannot be built."""
    return search(graph, model_bytes, inputs, extra_flags).first


def search(graph: Graph, model_bytes: bytes, inputs: list[np.ndarray], extra_flags: tuple[str, ...] = ()) -> Search:
    """Every operator output of the generated C against the reference on `inputs`, in execution
    order, up to the first that differs (see Search)."""
    extra = [t for t in computed_tensors(graph) if t not in graph.outputs]
    probe = dataclasses.replace(graph, outputs=(*graph.outputs, *extra))
    try:
        cm = compile_graph(probe)
        with HostModel(generate(cm, "probe"), extra_flags=extra_flags) as host:
            got = host.run([inputs])[0]
        ref = open_reference(model_bytes, graph, keep_tensors=True)
        ref.run(inputs, len(graph.outputs))
    except McuforgeError as exc:
        return Search(error=exc.message)
    value = dict(zip(probe.outputs, got, strict=True))
    producer = {o: op for op in cm.graph.operators for o in op.outputs}
    onnx_node = getattr(ref, "onnx_node", None)
    found = Search(note=getattr(ref, "probe_error", ""))
    compared: set[int] = set()
    for op in cm.graph.operators:
        for o in op.outputs:
            if o not in value:
                continue
            try:
                want = np.asarray(ref.tensor(o))
            except (McuforgeError, ValueError, RuntimeError, IndexError):
                want = np.zeros(0)  # the reference has no such tensor (fused away, or renamed)
            g = value[o]
            if want.size != g.size:
                found.not_comparable.append(f"#{op.index} {op.opcode} {graph.tensors[o].name!r}")
                continue
            want = want.reshape(g.shape)
            compared.add(o)
            found.compared += 1
            if np.array_equal(g, want):
                continue
            differ = int(np.count_nonzero(g != want))
            src = op.inputs[0] if op.inputs else -1
            before, name = op, graph.tensors[o].name
            seen_at = ""
            if op.opcode == "DEQUANTIZE" and src not in compared and src in producer:
                # Back past the layout operators the reference had no value for either.
                before = producer[src]
                while (before.opcode in _LAYOUT and before.inputs and before.inputs[0] not in compared
                       and before.inputs[0] in producer):
                    src = before.inputs[0]
                    before = producer[src]
                name, seen_at = graph.tensors[src].name, f"#{op.index} DEQUANTIZE"
            node = onnx_node(name) if onnx_node is not None else ""
            found.first = Divergence(before.index, before.opcode, name, differ, int(g.size),
                                     steps(graph, o, g, want), seen_at=seen_at, onnx_node=node)
            return found
    return found
