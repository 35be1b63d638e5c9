"""RESHAPE, SQUEEZE and EXPAND_DIMS: views. The output shares the input's bytes; no kernel runs.

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
        raise reject(op, f"input '{inp.name}' is constant but the {op.opcode} could not be evaluated when "
                         "compiling (generator/constfold.py)")
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


@lowering("EXPAND_DIMS")
def lower_expand_dims(graph: Graph, op: Operator) -> Alias:
    if len(op.inputs) != 2 or len(op.outputs) != 1:
        raise reject(op, f"expected 2 inputs and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    inp, axis_t = graph.op_inputs(op)
    out = graph.op_outputs(op)[0]
    if inp is not None and inp.dtype not in ("int8", "int16"):
        raise reject(op, f"tensor '{inp.name}' is {inp.dtype}; TFLite Micro's EXPAND_DIMS takes int8, int16 "
                         "(and float32)")
    if axis_t is None or axis_t.data is None:
        raise reject(op, "the axis is not constant; TFLite Micro requires it constant")
    if axis_t.data.size != 1:
        raise reject(op, f"the axis tensor holds {axis_t.data.size} values, not one")
    if inp is not None:
        rank = len(inp.shape)
        axis = int(axis_t.data.reshape(-1)[0])
        axis = axis + rank + 1 if axis < 0 else axis
        want = [*inp.shape[:axis], 1, *inp.shape[axis:]]
        if not 0 <= axis <= rank or list(out.shape) != want:
            raise reject(op, f"output {list(out.shape)} is not {list(inp.shape)} with a dimension of 1 inserted at "
                             f"axis {int(axis_t.data.reshape(-1)[0])}")
    return _view(graph, op, inp, out)
