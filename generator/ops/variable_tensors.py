"""Variable tensors: the state SVDF and UNIDIRECTIONAL_SEQUENCE_LSTM keep from one invoke to the next.

In a .tflite file such state is a tensor flagged `is_variable` (no buffer data) that the operator
reads and overwrites. TFLite Micro gives each one persistent memory and fills it when the
interpreter is set up (and on reset): with the tensor's zero point for int8 tensors that have one,
with zero bytes otherwise. mcuforge places these tensors in the same static state buffer as the
resource variables (ops/variables.py), after them: they are never in the arena, init() and
`<prefix>_reset_state()` fill them, and the operator works on them in place. The stateful signal
operators' own state (their ring buffers: ops/signal_stream.py `operator_states`) follows, zeroed.
"""

from __future__ import annotations

import numpy as np

from ..analysis import Buffer
from ..ir import Graph
from .signal_filterbank import state_outputs
from .signal_stream import operator_states
from .variables import STATE_ALIGNMENT, StatePlan, Variable


def variable_tensors(graph: Graph) -> list[int]:
    """Indices of the main subgraph's variable tensors that some operator reads, and of the outputs
    that hold an operator's hidden state (signal_filterbank.state_outputs), in index order."""
    used = {t for op in graph.operators for t in op.inputs if t >= 0}
    held = set(state_outputs(graph))
    return [t.index for t in graph.tensors
            if (t.is_variable and t.data is None and t.index in used) or t.index in held]


def _align(n: int) -> int:
    return -(-n // STATE_ALIGNMENT) * STATE_ALIGNMENT


def add_variable_tensors(graph: Graph, plan: StatePlan) -> StatePlan:
    """Appends the variable tensors to a state plan (after its resource variables). Each tensor
    becomes a Variable, its own handle and view, so codegen points it into the state buffer."""
    offset = _align(plan.bytes)
    for index in variable_tensors(graph):
        t = graph.tensors[index]
        fill = t.zero_point & 0xFF if t.dtype == "int8" and t.quant is not None else 0
        plan.handle_of[index] = len(plan.variables)
        plan.views[index] = index
        plan.variables.append(Variable(name=t.name, dtype=t.dtype, shape=t.shape, offset=offset,
                                       initial=np.full(t.nbytes, fill, np.uint8)))
        offset = _align(offset + t.nbytes)
    for st in operator_states(graph):  # stateful signal operators' own state (ops/signal_stream.py)
        plan.private[st.op] = offset
        plan.variables.append(Variable(name=st.name, dtype="uint8", shape=(st.nbytes,), offset=offset,
                                       initial=np.zeros(st.nbytes, np.uint8), private=True))
        offset = _align(offset + st.nbytes)
    plan.bytes = offset
    return plan


def keeps_state(graph: Graph) -> bool:
    """Whether variable tensors or operators' own state carry over between invokes (a stream)."""
    return bool(variable_tensors(graph) or operator_states(graph))


def current_values(graph: Graph, plan: StatePlan) -> dict[int, int]:
    """Variable index → the tensor holding its value after an invoke (the variable tensor itself),
    for the state checks of validate and mcuforge test (next to ops.variables.last_assignments)."""
    return {plan.handle_of[t]: t for t in variable_tensors(graph) if t in plan.handle_of}


def outside_arena(graph: Graph, buffers: list[Buffer]) -> list[Buffer]:
    """The buffers without the variable tensors (they live in the state buffer)."""
    state = set(variable_tensors(graph))
    return [b for b in buffers
            if b.scratch_of is not None or (not graph.tensors[b.id].is_variable and b.id not in state)]
