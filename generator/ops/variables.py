"""Stateful models: resource variables (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE) and CALL_ONCE.

Streaming models (microWakeWord and the like) keep state between invokes in resource variables.
TFLite Micro resolves each VAR_HANDLE to a variable named by (container, shared_name), gives every
variable a persistent buffer when the first ASSIGN_VARIABLE is prepared (filled with the int8 zero
point of that assignment's value tensor, or 0), and runs each CALL_ONCE subgraph on the first
invoke: there the variables get their initial values.

mcuforge does all of this ahead of time (`plan_state`): the variables get offsets in one static
state buffer outside the arena (`<prefix>_state`, kept across invoke()); the CALL_ONCE subgraphs,
which assign constants, are evaluated by the compiler, so init() and `<prefix>_reset_state()` only
copy the initial bytes into the state buffer. In invoke(), READ_VARIABLE copies a variable into
its output tensor and ASSIGN_VARIABLE copies its value tensor into the variable; VAR_HANDLE and
CALL_ONCE emit no code. A READ_VARIABLE whose output is used up before anything assigns the
variable again (the usual streaming pattern: READ → CONCATENATION → ... → ASSIGN) needs no copy
at all: its output is the variable's bytes in the state buffer (`read_views`), so it costs no arena;
likewise the operator that computes an ASSIGN_VARIABLE value writes it straight into the variable
when nothing needs the old value any more (`assigned_in_place`).
Control flow (WHILE, IF) and initialisers that compute anything are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..analysis import Buffer, build_buffers
from ..errors import UnsupportedModelError
from ..ir import Graph, Operator
from .base import Alias, KernelCall, lowering, reject

STATE_ALIGNMENT = 4  # bytes; the copies move words
_CONTROL_FLOW = {"WHILE": ("cond_subgraph_index", "body_subgraph_index"),
                 "IF": ("then_subgraph_index", "else_subgraph_index")}


@dataclass
class Variable:
    """One resource variable: where it lives in the state buffer and the bytes it starts with."""

    name: str  # shared_name (container/shared_name when a container is given)
    dtype: str
    shape: tuple[int, ...]
    offset: int = 0
    initial: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint8))  # uint8, nbytes long
    # An operator's own state (TFLite Micro keeps it in a kernel's persistent buffer, not in a
    # tensor): no reference value to compare it with; the outputs over a stream show it.
    private: bool = False

    @property
    def nbytes(self) -> int:
        return int(self.initial.size)

    @property
    def uniform(self) -> int | None:
        """The byte every initial byte equals, or None."""
        if self.initial.size and bool(np.all(self.initial == self.initial[0])):
            return int(self.initial[0])
        return None


@dataclass
class StatePlan:
    variables: list[Variable]
    handle_of: dict[int, int]  # resource tensor (of subgraph 0) → index into variables
    bytes: int  # size of the state buffer
    # READ_VARIABLE outputs read straight from the state buffer (no copy): tensor → resource tensor
    views: dict[int, int] = field(default_factory=dict)
    # operator index → byte offset of its own state (ops/variable_tensors.py, operator_states)
    private: dict[int, int] = field(default_factory=dict)

    def location(self, tensor: int) -> int:
        """Byte offset in the state buffer of a resource tensor's variable, or of a view's."""
        return self.variables[self.handle_of[self.views.get(tensor, tensor)]].offset


def _key(op: Operator) -> tuple[str, str]:
    return (str(op.options.get("container") or ""), str(op.options.get("shared_name") or ""))


def _label(key: tuple[str, str]) -> str:
    return f"{key[0]}/{key[1]}" if key[0] else key[1]


def init_subgraphs(graph: Graph) -> list[int]:
    """Subgraph indices run by CALL_ONCE operators of the main subgraph, in execution order."""
    return [int(op.options.get("init_subgraph_index", -1)) for op in graph.operators if op.opcode == "CALL_ONCE"]


def subgraph_problems(graph: Graph) -> list[str]:
    """Why the model's subgraphs cannot be compiled: control flow, or subgraphs that are not
    CALL_ONCE initialisers (an empty list when they all are)."""
    problems = []
    for op in graph.operators:
        if op.opcode in _CONTROL_FLOW:
            subs = " and ".join(str(op.options.get(k, "?")) for k in _CONTROL_FLOW[op.opcode])
            problems.append(f"{op.opcode} (operator {op.index}) runs subgraphs {subs}: control flow is not "
                            "supported (only CALL_ONCE initialisers)")
    inits = set(init_subgraphs(graph))
    for k in sorted(inits):
        if not 1 <= k < graph.num_subgraphs:
            problems.append(f"CALL_ONCE runs subgraph {k}, which the model does not have")
    others = [k for k in range(1, graph.num_subgraphs) if k not in inits]
    if others and not problems:
        listed = ", ".join(map(str, others))
        problems.append(f"the model has {graph.num_subgraphs} subgraphs; subgraph{'s' if len(others) > 1 else ''} "
                        f"{listed} {'are' if len(others) > 1 else 'is'} not run by CALL_ONCE (only CALL_ONCE "
                        "initialisers are supported besides the main subgraph)")
    return problems


def plan_state(graph: Graph) -> StatePlan:
    """The variables of a model, their offsets and initial bytes. Raises UnsupportedModelError
    naming what cannot be done ahead of time."""
    handles: dict[int, tuple[str, str]] = {}  # resource tensor of the main subgraph → variable key
    for op in graph.operators:
        if op.opcode == "VAR_HANDLE" and op.outputs:
            handles[op.outputs[0]] = _key(op)
    shapes: dict[tuple[str, str], tuple[str, tuple[int, ...], int]] = {}
    default: dict[tuple[str, str], int] = {}
    problems: list[str] = []

    def note(key: tuple[str, str], t_dtype: str, t_shape: tuple[int, ...], nbytes: int, where: str) -> None:
        seen = shapes.setdefault(key, (t_dtype, t_shape, nbytes))
        if seen[2] != nbytes or seen[0] != t_dtype:
            problems.append(f"{where}: variable '{_label(key)}' is used as {t_dtype} {list(t_shape)} here and as "
                            f"{seen[0]} {list(seen[1])} elsewhere")

    def handle_key(g: Graph, hmap: dict[int, tuple[str, str]], op: Operator, where: str) -> tuple[str, str] | None:
        if not op.inputs or op.inputs[0] not in hmap:
            problems.append(f"{where}: its variable does not come from a VAR_HANDLE of the same subgraph")
            return None
        return hmap[op.inputs[0]]

    # Main subgraph: shapes from every READ and ASSIGN; first-prepared ASSIGN sets the fill byte.
    first_use: int | None = None
    for op in graph.operators:
        where = f"operator {op.index} ({op.opcode})"
        if op.opcode in ("READ_VARIABLE", "ASSIGN_VARIABLE"):
            first_use = op.index if first_use is None else first_use
            key = handle_key(graph, handles, op, where)
            if key is None:
                continue
            if op.opcode == "READ_VARIABLE" and op.outputs:
                t = graph.tensors[op.outputs[0]]
                note(key, t.dtype, t.shape, t.nbytes, where)
            elif op.opcode == "ASSIGN_VARIABLE" and len(op.inputs) == 2 and op.inputs[1] >= 0:
                t = graph.tensors[op.inputs[1]]
                note(key, t.dtype, t.shape, t.nbytes, where)
                default.setdefault(key, (t.zero_point & 0xFF) if t.quant else 0)
        elif op.opcode == "CALL_ONCE" and first_use is not None:
            problems.append(f"{where} comes after operator {first_use}, which already uses a variable; mcuforge "
                            "runs initialisers in init(), before the first invoke")
    # Initialisers: only VAR_HANDLE and ASSIGN_VARIABLE of constants, evaluated here.
    assigns: list[tuple[tuple[str, str], np.ndarray]] = []
    for k in init_subgraphs(graph):
        if not 1 <= k < graph.num_subgraphs:
            continue  # reported by subgraph_problems
        sub = graph.subgraphs[k - 1]
        sub_handles = {op.outputs[0]: _key(op) for op in sub.operators if op.opcode == "VAR_HANDLE" and op.outputs}
        for op in sub.operators:
            where = f"subgraph {k} (CALL_ONCE initialiser) operator {op.index} ({op.opcode})"
            if op.opcode == "VAR_HANDLE":
                continue
            if op.opcode != "ASSIGN_VARIABLE":
                problems.append(f"{where}: initialisers may only assign constants to variables")
                continue
            key = handle_key(sub, sub_handles, op, where)
            value = sub.tensors[op.inputs[1]] if len(op.inputs) == 2 and op.inputs[1] >= 0 else None
            if key is None or value is None or value.data is None:
                if key is not None:
                    problems.append(f"{where}: the value is not a constant")
                continue
            note(key, value.dtype, value.shape, value.nbytes, where)
            default.setdefault(key, (value.zero_point & 0xFF) if value.quant else 0)
            assigns.append((key, np.frombuffer(np.ascontiguousarray(value.data).tobytes(), np.uint8)))
    used = dict.fromkeys(handles.values())
    for key in used:
        if key in shapes and key not in default:
            problems.append(f"variable '{_label(key)}' is read but never assigned (TFLite Micro gives it no buffer)")
    if problems:
        raise UnsupportedModelError(f"{graph.name}: " + "; ".join(problems))
    variables: list[Variable] = []
    index: dict[tuple[str, str], int] = {}
    offset = 0
    for key in used:
        if key not in shapes:
            continue  # a handle nobody reads or assigns
        dtype, shape, nbytes = shapes[key]
        var = Variable(_label(key), dtype, shape, offset, np.full(nbytes, default[key], dtype=np.uint8))
        index[key] = len(variables)
        variables.append(var)
        offset += (nbytes + STATE_ALIGNMENT - 1) // STATE_ALIGNMENT * STATE_ALIGNMENT
    for key, data in assigns:
        if key in index:
            variables[index[key]].initial = data.copy()
    handle_of = {t: index[key] for t, key in handles.items() if key in index}
    return StatePlan(variables, handle_of, offset)


def is_stateful(graph: Graph) -> bool:
    return any(op.opcode in ("READ_VARIABLE", "ASSIGN_VARIABLE") for op in graph.operators)


def _no_code(op: Operator, why: str) -> KernelCall:
    """A step without a C call (function ""): codegen writes only its comment and profile stamp."""
    return KernelCall(op, kernel="", function="", params_type=None, comment=f": {why}")


@lowering("VAR_HANDLE")
def lower_var_handle(graph: Graph, op: Operator) -> KernelCall:
    if len(op.outputs) != 1 or graph.tensors[op.outputs[0]].dtype != "resource":
        raise reject(op, "expected one resource output")
    return _no_code(op, f"variable '{_label(_key(op))}', resolved at compile time")


@lowering("CALL_ONCE")
def lower_call_once(graph: Graph, op: Operator) -> KernelCall:
    if op.inputs or op.outputs:
        raise reject(op, "CALL_ONCE has no inputs or outputs in TFLite Micro")
    return _no_code(op, f"subgraph {op.options.get('init_subgraph_index')} evaluated at compile time; "
                        "init() and reset_state() set its values")


def _resource(graph: Graph, op: Operator) -> int:
    if not op.inputs or op.inputs[0] < 0 or graph.tensors[op.inputs[0]].dtype != "resource":
        raise reject(op, "its first input must be a resource tensor (a VAR_HANDLE output)")
    return op.inputs[0]


@lowering("READ_VARIABLE")
def lower_read_variable(graph: Graph, op: Operator) -> KernelCall:
    if len(op.inputs) != 1 or len(op.outputs) != 1:
        raise reject(op, f"expected 1 input and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    handle = _resource(graph, op)
    out = graph.tensors[op.outputs[0]]
    return KernelCall(op, "variables", "mcf_var_copy", "mcf_var_params", {"bytes": out.nbytes},
                      args=[op.outputs[0], handle], comment=f": {out.nbytes} B from the state buffer")


@lowering("ASSIGN_VARIABLE")
def lower_assign_variable(graph: Graph, op: Operator) -> KernelCall:
    if len(op.inputs) != 2 or op.outputs:
        raise reject(op, f"expected 2 inputs and no output, got {len(op.inputs)} and {len(op.outputs)}")
    handle = _resource(graph, op)
    if op.inputs[1] < 0:
        raise reject(op, "the value input is missing")
    value = graph.tensors[op.inputs[1]]
    return KernelCall(op, "variables", "mcf_var_copy", "mcf_var_params", {"bytes": value.nbytes},
                      args=[handle, op.inputs[1]], comment=f": {value.nbytes} B into the state buffer")


def read_views(graph: Graph, buffers: list[Buffer]) -> dict[int, int]:
    """READ_VARIABLE outputs that can be the variable's own bytes in the state buffer instead of
    a copy in the arena: no ASSIGN_VARIABLE of that variable while the output (or a view of it)
    is alive, and not a graph input or output. Output tensor → its resource (handle) tensor."""
    keys = _handle_keys(graph)
    assigned = _assign_steps(graph, keys)
    lifetime = {b.id: b for b in buffers if b.scratch_of is None}
    views = {}
    for op in graph.operators:
        if op.opcode != "READ_VARIABLE" or len(op.outputs) != 1 or not op.inputs or op.inputs[0] not in keys:
            continue
        buf = lifetime.get(op.outputs[0])
        if buf is None or buf.is_io:
            continue
        if all(not buf.first <= a <= buf.last for a in assigned.get(keys[op.inputs[0]], [])):
            views[op.outputs[0]] = op.inputs[0]
    return views


def assigned_in_place(graph: Graph, buffers: list[Buffer], reads: dict[int, int]) -> dict[int, int]:
    """ASSIGN_VARIABLE values that their producer can write straight into the variable's bytes
    (the assignment then costs no copy and its value no arena): the value is the only output of
    an operator with code, not a graph input or output, and from that operator on until the
    value's last use nothing else assigns the variable, nothing reads its old value (a READ copy
    between producer and assignment, or a READ view still alive at the producer) and the producer
    does not read the variable itself. Value tensor → resource (handle) tensor."""
    keys = _handle_keys(graph)
    assigned = _assign_steps(graph, keys)
    lifetime = {b.id: b for b in buffers if b.scratch_of is None}
    producer = {t: op for op in graph.operators for t in op.outputs}
    read_spans: dict[tuple[str, str], list[tuple[int, int, bool]]] = {}
    for op in graph.operators:
        if op.opcode == "READ_VARIABLE" and op.inputs and op.inputs[0] in keys and op.outputs:
            buf = lifetime.get(op.outputs[0])
            last = buf.last if buf is not None and op.outputs[0] in reads else op.index
            read_spans.setdefault(keys[op.inputs[0]], []).append((op.index, last, op.outputs[0] in reads))
    values = [op.inputs[1] for op in graph.operators if op.opcode == "ASSIGN_VARIABLE" and len(op.inputs) == 2]
    out: dict[int, int] = {}
    for op in graph.operators:
        if op.opcode != "ASSIGN_VARIABLE" or len(op.inputs) != 2 or op.inputs[0] not in keys:
            continue
        value, key = op.inputs[1], keys[op.inputs[0]]
        if values.count(value) > 1 or value in reads:  # assigned twice, or already another variable's bytes
            continue
        buf, prod = lifetime.get(value), producer.get(value)
        if buf is None or buf.is_io or prod is None or len(prod.outputs) != 1 or prod.index != buf.first:
            continue
        if prod.opcode in ("READ_VARIABLE", "VAR_HANDLE", "CALL_ONCE"):
            continue
        p, a = prod.index, op.index
        if any(p <= other <= buf.last for other in assigned[key] if other != a):
            continue
        if any((first < p <= last) or p <= first < a for first, last, _ in read_spans.get(key, [])):
            continue
        out[value] = op.inputs[0]
    return out


def _handle_keys(graph: Graph) -> dict[int, tuple[str, str]]:
    return {op.outputs[0]: _key(op) for op in graph.operators if op.opcode == "VAR_HANDLE" and op.outputs}


def _assign_steps(graph: Graph, keys: dict[int, tuple[str, str]]) -> dict[tuple[str, str], list[int]]:
    steps: dict[tuple[str, str], list[int]] = {}
    for op in graph.operators:
        if op.opcode == "ASSIGN_VARIABLE" and op.inputs and op.inputs[0] in keys:
            steps.setdefault(keys[op.inputs[0]], []).append(op.index)
    return steps


def state_views(graph: Graph, buffers: list[Buffer]) -> dict[int, int]:
    """Tensors that live in the state buffer (a variable's bytes) rather than in the arena: READ
    outputs read in place and ASSIGN values written in place. Tensor → resource (handle) tensor."""
    reads = read_views(graph, buffers)
    return {**reads, **assigned_in_place(graph, buffers, reads)}


def without_handles(graph: Graph, buffers: list[Buffer]) -> list[Buffer]:
    """The arena's buffers minus the variable handles (resource tensors hold no bytes of their own)
    and minus the READ_VARIABLE outputs that are views of the state buffer (`read_views`)."""
    views = state_views(graph, buffers)
    return [b for b in buffers if b.scratch_of is not None
            or (graph.tensors[b.id].dtype != "resource" and b.id not in views)]


def use_views(graph: Graph, steps: list[KernelCall | Alias], aliases: dict[int, int],
              state: StatePlan) -> list[KernelCall | Alias]:
    """Records the tensors that live in the state buffer (state.views: READ outputs read in place,
    ASSIGN values written in place) and drops their copies from the steps."""
    state.views = state_views(graph, build_buffers(graph, aliases, {}))
    out: list[KernelCall | Alias] = []
    for s in steps:
        if isinstance(s, KernelCall) and s.op.opcode == "READ_VARIABLE" and s.op.outputs[0] in state.views:
            name = state.variables[state.handle_of[s.op.inputs[0]]].name
            s = _no_code(s.op, f"output is variable '{name}' itself, in the state buffer (no copy: nothing assigns "
                               "it while the output is in use)")
        elif (isinstance(s, KernelCall) and s.op.opcode == "ASSIGN_VARIABLE" and len(s.op.inputs) == 2
              and s.op.inputs[1] in state.views and s.op.inputs[0] in state.handle_of
              and state.handle_of[state.views[s.op.inputs[1]]] == state.handle_of[s.op.inputs[0]]):
            name = state.variables[state.handle_of[s.op.inputs[0]]].name
            s = _no_code(s.op, f"the value was written straight into variable '{name}' by the operator that "
                               "computed it (no copy)")
        out.append(s)
    return out


def last_assignments(graph: Graph, state: StatePlan) -> dict[int, int]:
    """Variable index → the value tensor of the last ASSIGN_VARIABLE to it in the main subgraph:
    what the variable holds after an invoke (to check a stream's state against TFLite Micro)."""
    last: dict[int, int] = {}
    for op in graph.operators:
        if op.opcode == "ASSIGN_VARIABLE" and len(op.inputs) == 2 and op.inputs[0] in state.handle_of:
            last[state.handle_of[op.inputs[0]]] = op.inputs[1]
    return last
