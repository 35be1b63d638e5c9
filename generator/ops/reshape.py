"""RESHAPE and SQUEEZE: views. The output shares the input's bytes; no kernel runs.

TFLite Micro copies the bytes (or does nothing when it planned the two tensors in place); the
row-major element order is unchanged by either operator, so aliasing is exact for every dtype.
The output shape is the one stored in the model, as in TFLM: RESHAPE's optional second input
(the new shape) is never read, so it costs no memory and may even be absent.
"""

from __future__ import annotations

from ..ir import Graph, Operator, Tensor
from .base import Alias, lowering, reject


def _view(graph: Graph, op: Operator, inp: Tensor | None, out: Tensor) -> Alias:
    if inp is None:
        raise reject(op, "the data input is missing")
    if inp.dtype != out.dtype:
        raise reject(op, f"input is {inp.dtype} but output is {out.dtype}; a view cannot change the type")
    if inp.size != out.size:
        raise reject(op, f"input {list(inp.shape)} has {inp.size} elements but output {list(out.shape)} "
                         f"has {out.size}")
    if inp.is_const:
        raise reject(op, f"input '{inp.name}' is constant; fold the {op.opcode} into the constant "
                         "when converting the model")
    return Alias(op, source=inp.index, target=out.index)


@lowering("RESHAPE")
def lower_reshape(graph: Graph, op: Operator) -> Alias:
    if len(op.inputs) not in (1, 2) or len(op.outputs) != 1:
        raise reject(op, f"expected 1 or 2 inputs and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    out = graph.op_outputs(op)[0]
    if out.is_const:
        raise reject(op, f"output '{out.name}' is constant")
    return _view(graph, op, graph.op_inputs(op)[0], out)


@lowering("SQUEEZE")
def lower_squeeze(graph: Graph, op: Operator) -> Alias:
    if len(op.inputs) != 1 or len(op.outputs) != 1:
        raise reject(op, f"expected 1 input and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    inp = graph.op_inputs(op)[0]
    out = graph.op_outputs(op)[0]
    if inp is not None:
        rank = len(inp.shape)
        if rank > 8:
            raise reject(op, f"input has {rank} dimensions; at most 8 are supported (as in TFLite Micro)")
        for d in op.options.get("squeeze_dims") or []:
            axis = d + rank if d < 0 else d
            if not 0 <= axis < rank:
                raise reject(op, f"squeeze dimension {d} is out of range for a {rank}-D input")
            if inp.shape[axis] != 1:
                raise reject(op, f"squeeze dimension {d} has size {inp.shape[axis]}, not 1")
    return _view(graph, op, inp, out)
