"""What the compiler supports, checked over the whole graph, and refusals that say what to do.

Each problem is one phrase naming the operator and tensor concerned: unsupported operators are
grouped (`TRANSPOSE ×95 (operators 2, 4, 7, …)`), an Ethos-U command stream is recognised as such,
a tensor type that no kernel takes is named with the operator that makes or reads it. Operator
details (shapes, options, quantization) are checked by each lowering in `ops/`.
"""

from __future__ import annotations

from collections.abc import Iterable

from .ir import Graph
from .ops.base import registry
from .ops.variables import subgraph_problems

_SHOWN_INDICES = 6  # operator numbers listed per unsupported opcode before "…"
SIGNAL_PREFIX = "CUSTOM:Signal"
SIGNAL_TYPES = {"uint32", "uint64", "bool"}  # allowed between signal operators only (bool: output_valid)
ETHOS_U = "CUSTOM:ethos-u"
BOOL_OPS = {"EQUAL", "NOT_EQUAL", "GREATER", "GREATER_EQUAL", "LESS", "LESS_EQUAL", "SELECT_V2",
            "LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT",
            "SELECT"}  # refused by its lowering with the reason (ops/select_v1.py), not for its bool


def _indices(ix: list[int]) -> str:
    shown = ", ".join(map(str, ix[:_SHOWN_INDICES]))
    return shown + (", …" if len(ix) > _SHOWN_INDICES else "")


def operator_problems(graph: Graph) -> list[str]:
    """Operators without a lowering, grouped by opcode in order of first appearance."""
    known = registry()
    missing: dict[str, list[int]] = {}
    for op in graph.operators:
        if op.opcode not in known:
            missing.setdefault(op.opcode, []).append(op.index)
    problems = []
    ethos = missing.pop(ETHOS_U, None)
    if ethos is not None:
        problems.append(f"the model was compiled by Vela for an Arm Ethos-U NPU ({ETHOS_U}, operator "
                        f"{_indices(ethos)}): its layers are an NPU command stream, not TFLite operators; give "
                        "mcuforge the model from before Vela (the .tflite you passed to vela)")
    parts = [f"{code} (operator {ix[0]})" if len(ix) == 1 else f"{code} ×{len(ix)} (operators {_indices(ix)})"
             for code, ix in missing.items()]
    if parts:
        problems.append("unsupported operators: " + ", ".join(parts))
    return problems


def _users(graph: Graph) -> dict[int, str]:
    """Tensor index → 'operator N (OPCODE)' of the first operator that writes or reads it."""
    users: dict[int, str] = {}
    for op in graph.operators:
        for t in (*op.outputs, *op.inputs):
            if t >= 0:
                users.setdefault(t, f"operator {op.index} ({op.opcode})")
    return users


def _signal_only(graph: Graph) -> set[int]:
    """Tensors that no operator but TFLite Micro's signal operators (CUSTOM:Signal*), or a CAST between
    uint32 and int32, writes or reads."""
    only = set(range(len(graph.tensors)))
    for op in graph.operators:
        touched = {t for t in (*op.inputs, *op.outputs) if t >= 0}
        if op.opcode == "CAST" and {graph.tensors[t].dtype for t in touched} == {"uint32", "int32"}:
            continue  # the same bits (ops/signal_int32.py)
        if not op.opcode.startswith(SIGNAL_PREFIX):
            only -= touched
    return only


def _bool_between_comparisons(graph: Graph) -> set[int]:
    """bool tensors that only comparisons and SELECT_V2 write or read, none of them a graph input or output."""
    bools = {t.index for t in graph.tensors if t.dtype == "bool"} - set(graph.inputs) - set(graph.outputs)
    for op in graph.operators:
        if op.opcode not in BOOL_OPS:
            bools -= {t for t in (*op.inputs, *op.outputs) if t >= 0}
    return bools


def type_problems(graph: Graph, activation_types: Iterable[str]) -> list[str]:
    """Non-constant tensors of types no kernel takes (int16 activations, int64, strings, …)."""
    allowed = set(activation_types) | {"resource"}  # resource: variable handles (ops/variables.py)
    variable = [t for t in graph.tensors if not t.is_const]
    signal = _signal_only(graph)  # their uint32 spectra and uint64 channels (ops/signal_*.py)
    variable = [t for t in variable if not (t.dtype in SIGNAL_TYPES and t.index in signal)]
    between = _bool_between_comparisons(graph)  # a comparison's result feeding SELECT_V2 (ops/compare.py)
    variable = [t for t in variable if t.index not in between]
    problems = []
    if variable and all(t.dtype == "float32" for t in variable):
        return ["the model is float32 only; quantize it to int8 (full-integer post-training quantization)"]
    users = _users(graph)
    by_type: dict[str, list[str]] = {}
    for t in variable:
        if t.dtype not in allowed:
            where = users.get(t.index, "a graph input or output")
            by_type.setdefault(t.dtype, []).append(f"'{t.name}' of {where}")
    for dtype, names in by_type.items():
        what = "int16 activations are" if dtype == "int16" else f"{dtype} tensors are"
        more = f" and {len(names) - 1} more" if len(names) > 1 else ""
        problems.append(f"{what} not supported (tensor {names[0]}{more})")
    return problems


# The model descriptor (runtime/include/mcf_model.h) counts a model's inputs and outputs in a byte.
MAX_MODEL_IO = 255


def io_count_problems(graph: Graph) -> list[str]:
    """A model with more graph inputs or outputs than the model descriptor can count."""
    return [f"the model has {n} graph {what}; at most {MAX_MODEL_IO} are supported"
            for what, n in (("inputs", len(graph.inputs)), ("outputs", len(graph.outputs)))
            if n > MAX_MODEL_IO]


def graph_problems(graph: Graph, activation_types: Iterable[str]) -> list[str]:
    return [*subgraph_problems(graph), *io_count_problems(graph), *operator_problems(graph),
            *type_problems(graph, activation_types)]
