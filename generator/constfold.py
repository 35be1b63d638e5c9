"""Compile-time evaluation: operators whose inputs are all constant become constants.

Converters leave small constant subgraphs in models: SHAPE of a tensor whose shape is static,
then STRIDED_SLICE / PACK / CONCATENATION / arithmetic on the result, feeding the shape input of a
RESHAPE; or a TRANSPOSE / RESHAPE / CAST of a weight. TFLite Micro runs them at every invoke.
mcuforge evaluates them once here, with numpy and TFLite Micro's integer semantics, and their
outputs become constant tensors: no kernel runs, no arena byte is spent, and a constant that
only fed a RESHAPE's shape input (which a view never reads) takes no flash either.

A folded operator stays in the graph (operator numbers and per-operator profiles keep the
model's numbering): its non-constant inputs are dropped (SHAPE reads only the static shape), its
outputs carry the computed data, and `compile_graph` lowers it to a `Folded` step: a call without
a C function, of which code generation writes only a comment. An operator is left alone when it
cannot be evaluated exactly here (quantized arithmetic, float data, options TFLite Micro does not
honour), when a result's shape is not the one the model declares, or when an output is a graph
output; its own lowering then decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .ir import NUMPY_DTYPES, Graph, Operator, Tensor
from .ops.base import Alias, KernelCall
from .ops.layout import strided_slice_ranges

_INTS = ("int8", "uint8", "int16", "int32", "int64", "bool")


@dataclass
class Folded(KernelCall):
    """An operator evaluated at compile time: its outputs are constants, nothing runs. A call
    without a C function: code generation writes only its comment and profile stamp."""


def _folded(op: Operator) -> Folded:
    return Folded(op, kernel="", function="", params_type=None, comment=": evaluated when compiling (a constant)")


class _CannotFold(Exception):
    pass


Evaluator = Callable[[Operator, list[Tensor], list[Tensor]], list[np.ndarray]]
_EVAL: dict[str, Evaluator] = {}


def _evaluates(*opcodes: str) -> Callable[[Evaluator], Evaluator]:
    def register(fn: Evaluator) -> Evaluator:
        for code in opcodes:
            _EVAL[code] = fn
        return fn

    return register


def fold_constants(graph: Graph) -> tuple[Graph, list[Folded]]:
    """The graph with every foldable operator's outputs constant, and the folded operators."""
    tensors = list(graph.tensors)
    operators = list(graph.operators)
    outputs = set(graph.outputs)
    folded: list[Folded] = []
    already = 0  # operators whose outputs were constant before
    for op in graph.operators:
        fn = _EVAL.get(op.opcode)
        if fn is None or not op.outputs or any(o in outputs for o in op.outputs):
            continue
        outs = [tensors[o] for o in op.outputs]
        if all(t.is_const for t in outs):  # evaluated already (a graph folded before): nothing to run
            folded.append(_folded(op))
            already += 1
            continue
        ins = [tensors[i] for i in op.inputs if i >= 0]
        needs_data = ins[1:] if op.opcode == "SHAPE" else ins
        if any(not t.is_const for t in needs_data) or any(t.dtype not in _INTS for t in (*ins, *outs)):
            continue
        try:
            values = fn(op, ins, outs)
        except (_CannotFold, ValueError, IndexError, TypeError, OverflowError):  # left to the lowering
            continue
        if len(values) != len(outs) or any(tuple(v.shape) != t.shape for v, t in zip(values, outs, strict=True)):
            continue
        for v, t in zip(values, outs, strict=True):
            tensors[t.index] = replace(t, data=np.array(v, dtype=NUMPY_DTYPES[t.dtype], order="C"))
        kept = tuple(i for i in op.inputs if i < 0 or tensors[i].is_const)
        operators[op.index] = replace(op, inputs=kept)
        folded.append(_folded(operators[op.index]))
    moved = _transposes_into_weights(graph, tensors, operators)
    moved += _transposes_into_reductions(graph, tensors, operators)
    if len(folded) == already and not moved:
        return graph, folded
    return replace(graph, tensors=tensors, operators=operators), folded


def _readers(operators: list[Operator]) -> dict[int, list[Operator]]:
    """Tensor index -> the operators that read it (each once)."""
    readers: dict[int, list[Operator]] = {}
    for op in operators:
        for t in set(op.inputs):
            if t >= 0:
                readers.setdefault(t, []).append(op)
    return readers


def _transposes_into_weights(graph: Graph, tensors: list[Tensor], operators: list[Operator]) -> int:
    """A TRANSPOSE whose only reader is a FULLY_CONNECTED (directly or through RESHAPE / SQUEEZE /
    EXPAND_DIMS views, a flatten) that takes the whole transposed tensor as one row: the fully
    connected layer sums the same products whichever order the row has, so its weight columns are
    permuted instead and the TRANSPOSE becomes a view (its lowering sees the `into_weights_of`
    option). Exact: the same int8 products, an integer sum. Updates `tensors` and `operators` in
    place; returns how many were moved."""
    readers = _readers(operators)
    moved = 0
    for op in operators:
        if (op.opcode != "TRANSPOSE" or "into_weights_of" in op.options or len(op.inputs) != 2
                or len(op.outputs) != 1 or min(op.inputs) < 0):
            continue
        inp, perm_t, out = tensors[op.inputs[0]], tensors[op.inputs[1]], tensors[op.outputs[0]]
        row = out.index  # the tensor the FULLY_CONNECTED reads: the output, or a view of it (a flatten)
        users = readers.get(row, [])
        seen = {row}
        while (len(users) == 1 and users[0].opcode in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS") and row not in graph.outputs
               and users[0].inputs[0] == row and len(users[0].outputs) == 1 and users[0].outputs[0] not in seen
               and not tensors[users[0].outputs[0]].is_const):
            row = users[0].outputs[0]
            seen.add(row)
            users = readers.get(row, [])
        if (inp.is_const or perm_t.data is None or row in graph.outputs or inp.dtype != "int8"
                or len(users) != 1 or users[0].opcode != "FULLY_CONNECTED" or len(users[0].inputs) < 2):
            continue
        fc = users[0]
        if fc.inputs[1] < 0:
            continue
        w = tensors[fc.inputs[1]]
        if (fc.inputs[0] != row or fc.inputs[1] == row or w.data is None or w.dtype != "int8"
                or len(w.shape) != 2 or w.shape[1] != out.size or len(readers.get(w.index, [])) != 1):
            continue
        perm = _ints(perm_t)
        if sorted(perm) != list(range(len(inp.shape))):
            continue
        # position k of the transposed row holds input element src[k]
        src = np.transpose(np.arange(inp.size).reshape(inp.shape), perm).reshape(-1)
        permuted = np.empty_like(np.asarray(w.data))
        permuted[:, src] = np.asarray(w.data)
        tensors[w.index] = replace(w, data=permuted)
        operators[op.index] = replace(op, options={**op.options, "into_weights_of": fc.index})
        moved += 1
    return moved


REDUCTIONS = ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN")


def _transposes_into_reductions(graph: Graph, tensors: list[Tensor], operators: list[Operator]) -> int:
    """A TRANSPOSE whose only reader is an int8 MEAN / SUM / REDUCE_MAX / REDUCE_MIN: the reduction
    reads the TRANSPOSE's input instead, walking it in the transposed order (its lowering sees the
    `transposed_input` option: each dimension's step is the one of the input dimension it came from),
    and the TRANSPOSE becomes a view that nothing reads (option `into_reduction_of`). Exact: the same
    values reach the same outputs; only the order in which an integer sum, maximum or minimum meets
    them changes. Updates `tensors` and `operators` in place; returns how many were moved."""
    readers = _readers(operators)
    moved = 0
    for op in operators:
        if (op.opcode != "TRANSPOSE" or "into_weights_of" in op.options or "into_reduction_of" in op.options
                or len(op.inputs) != 2 or len(op.outputs) != 1 or min(op.inputs) < 0):
            continue
        inp, perm_t, out = tensors[op.inputs[0]], tensors[op.inputs[1]], tensors[op.outputs[0]]
        users = readers.get(out.index, [])
        if (inp.is_const or perm_t.data is None or out.index in graph.outputs or inp.dtype != "int8"
                or out.dtype != "int8" or len(users) != 1 or users[0].opcode not in REDUCTIONS):
            continue
        red = users[0]
        if (len(red.inputs) != 2 or red.inputs[0] != out.index or red.inputs[1] == out.index
                or "transposed_input" in red.options):
            continue
        perm = _ints(perm_t)
        if sorted(perm) != list(range(len(inp.shape))) or [inp.shape[p] for p in perm] != list(out.shape):
            continue
        operators[red.index] = replace(red, inputs=(inp.index, red.inputs[1]),
                                       options={**red.options, "transposed_input": perm})
        operators[op.index] = replace(op, options={**op.options, "into_reduction_of": red.index})
        moved += 1
    return moved


# ---- evaluators: numpy with TFLite Micro's integer semantics ---------------------------------------

def _data(t: Tensor) -> np.ndarray:
    assert t.data is not None
    return np.asarray(t.data)


def _ints(t: Tensor) -> list[int]:
    return [int(v) for v in _data(t).reshape(-1)]


def _same_quant(*ts: Tensor) -> None:
    """CONCATENATION folds only when nothing would be rescaled. (The other byte-moving operators
    copy bytes whatever the quantization says, in TFLite Micro too.)"""
    qs = {(t.quant.scale, t.quant.zero_point) if t.quant else None for t in ts}
    if len(qs) > 1:
        raise _CannotFold


def _axis(axis: int, rank: int) -> int:
    a = axis + rank if axis < 0 else axis
    if not 0 <= a < rank:
        raise _CannotFold
    return a


@_evaluates("SHAPE")
def _shape(op: Operator, ins: list[Tensor], outs: list[Tensor]) -> list[np.ndarray]:
    return [np.array(ins[0].shape, dtype=np.int64)]


@_evaluates("RESHAPE", "SQUEEZE", "EXPAND_DIMS")
def _reshape(op: Operator, ins: list[Tensor], outs: list[Tensor]) -> list[np.ndarray]:
    return [_data(ins[0]).reshape(outs[0].shape)]


@_evaluates("TRANSPOSE")
def _transpose(op: Operator, ins: list[Tensor], outs: list[Tensor]) -> list[np.ndarray]:
    return [np.transpose(_data(ins[0]), _ints(ins[1]))]


@_evaluates("CAST")
def _cast(op: Operator, ins: list[Tensor], outs: list[Tensor]) -> list[np.ndarray]:
    # integer to integer: the low bits, as static_cast; numpy's astype wraps the same way
    return [_data(ins[0]).astype(np.int64).astype(NUMPY_DTYPES[outs[0].dtype])]


@_evaluates("CONCATENATION")
def _concat(op: Operator, ins: list[Tensor], outs: list[Tensor]) -> list[np.ndarray]:
    if op.options.get("fused_activation_function", "NONE") != "NONE":
        raise _CannotFold
    _same_quant(*ins, outs[0])
    return [np.concatenate([_data(t) for t in ins], axis=_axis(int(op.options.get("axis", 0)), len(outs[0].shape)))]


@_evaluates("PACK")
def _pack(op: Operator, ins: list[Tensor], outs: list[Tensor]) -> list[np.ndarray]:
    return [np.stack([_data(t) for t in ins], axis=_axis(int(op.options.get("axis", 0)), len(outs[0].shape)))]


@_evaluates("UNPACK")
def _unpack(op: Operator, ins: list[Tensor], outs: list[Tensor]) -> list[np.ndarray]:
    x = _data(ins[0])
    axis = _axis(int(op.options.get("axis", 0)), x.ndim)
    return [np.take(x, k, axis=axis) for k in range(x.shape[axis])]


@_evaluates("SPLIT", "SPLIT_V")
def _split(op: Operator, ins: list[Tensor], outs: list[Tensor]) -> list[np.ndarray]:
    if op.opcode == "SPLIT":
        axis_t, x_t = ins
        x = _data(x_t)
        axis = _axis(_ints(axis_t)[0], x.ndim)
        return list(np.split(x, len(outs), axis=axis))
    x_t, sizes_t, axis_t = ins
    x = _data(x_t)
    axis = _axis(_ints(axis_t)[0], x.ndim)
    sizes = _ints(sizes_t)
    if sizes.count(-1) == 1:
        sizes[sizes.index(-1)] = x.shape[axis] - (sum(sizes) + 1)
    return list(np.split(x, np.cumsum(sizes)[:-1], axis=axis))


@_evaluates("SLICE")
def _slice(op: Operator, ins: list[Tensor], outs: list[Tensor]) -> list[np.ndarray]:
    x = _data(ins[0])
    begin, size = _ints(ins[1]), _ints(ins[2])
    return [x[tuple(slice(b, x.shape[d] if s == -1 else b + s) for d, (b, s) in enumerate(zip(begin, size,
                                                                                            strict=True)))]]


@_evaluates("STRIDED_SLICE")
def _strided_slice(op: Operator, ins: list[Tensor], outs: list[Tensor]) -> list[np.ndarray]:
    o = op.options
    if o.get("ellipsis_mask", 0) or o.get("new_axis_mask", 0) or o.get("offset", False):
        raise _CannotFold  # TFLite Micro ignores these; the lowering refuses the operator, saying so
    x = _data(ins[0])
    begin, end, strides = _ints(ins[1]), _ints(ins[2]), _ints(ins[3])
    if not len(begin) == len(end) == len(strides) == x.ndim or 0 in strides:
        raise _CannotFold
    shrink = int(o.get("shrink_axis_mask", 0))
    ranges = strided_slice_ranges(x.shape, begin, end, strides, int(o.get("begin_mask", 0)),
                                  int(o.get("end_mask", 0)), shrink)
    for d, (start, count, stride) in enumerate(ranges):
        x = np.take(x, start + stride * np.arange(count, dtype=np.int64), axis=d)
    return [x.reshape([c for d, (_, c, _) in enumerate(ranges) if not shrink >> d & 1])]


@_evaluates("GATHER")
def _gather(op: Operator, ins: list[Tensor], outs: list[Tensor]) -> list[np.ndarray]:
    x, pos = _data(ins[0]), _data(ins[1])
    axis = _axis(int(op.options.get("axis", 0)), x.ndim)
    bd = int(op.options.get("batch_dims", 0))
    bd = bd + pos.ndim if bd < 0 else bd
    if bd or (pos < 0).any() or (pos >= x.shape[axis]).any():
        raise _CannotFold
    return [np.take(x, pos, axis=axis)]


@_evaluates("BROADCAST_TO")
def _broadcast_to(op: Operator, ins: list[Tensor], outs: list[Tensor]) -> list[np.ndarray]:
    return [np.broadcast_to(_data(ins[0]), tuple(_ints(ins[1])))]


@_evaluates("TILE")
def _tile(op: Operator, ins: list[Tensor], outs: list[Tensor]) -> list[np.ndarray]:
    return [np.tile(_data(ins[0]), _ints(ins[1]))]


@_evaluates("FILL")
def _fill(op: Operator, ins: list[Tensor], outs: list[Tensor]) -> list[np.ndarray]:
    return [np.full(tuple(_ints(ins[0])), _data(ins[1]).reshape(-1)[0])]


@_evaluates("ZEROS_LIKE")
def _zeros_like(op: Operator, ins: list[Tensor], outs: list[Tensor]) -> list[np.ndarray]:
    return [np.zeros_like(_data(ins[0]))]


_ACT_RANGE = {"NONE": (None, None), "RELU": (0, None), "RELU6": (0, 6), "RELU_N1_TO_1": (-1, 1)}
_ARITH = {"ADD": np.add, "SUB": np.subtract, "MUL": np.multiply, "MAXIMUM": np.maximum, "MINIMUM": np.minimum}


@_evaluates(*_ARITH)
def _arith(op: Operator, ins: list[Tensor], outs: list[Tensor]) -> list[np.ndarray]:
    """Integer arithmetic on unquantized int32/int64 (shape computations); quantized arithmetic
    needs the kernels' rescaling and is left to them."""
    if any(t.quant is not None or t.dtype not in ("int32", "int64") for t in (*ins, *outs)):
        raise _CannotFold
    act = op.options.get("fused_activation_function", "NONE")
    if act not in _ACT_RANGE:
        raise _CannotFold
    a, b = (_data(t).astype(np.int64) for t in ins)
    r = _ARITH[op.opcode](a, b)
    lo, hi = _ACT_RANGE[act]
    if lo is not None or hi is not None:
        r = np.clip(r, lo, hi)
    info = np.iinfo(NUMPY_DTYPES[outs[0].dtype])
    if ((r < info.min) | (r > info.max)).any():
        raise _CannotFold  # overflow: undefined in TFLite Micro's C++
    return [r]


@_evaluates("DIV")
def _int_division(op: Operator, ins: list[Tensor], outs: list[Tensor]) -> list[np.ndarray]:
    """Unquantized int32 division of shape values, truncating toward zero as C++ does."""
    if any(t.quant is not None or t.dtype != "int32" for t in (*ins, *outs)):
        raise _CannotFold
    if op.options.get("fused_activation_function", "NONE") != "NONE":
        raise _CannotFold
    a, b = (_data(t).astype(np.int64) for t in ins)
    if (b == 0).any():
        raise _CannotFold  # TFLite Micro fails the invoke; the lowering refuses it
    r = np.sign(a) * np.sign(b) * (np.abs(a) // np.abs(b))
    if ((r < -(1 << 31)) | (r >= 1 << 31)).any():
        raise _CannotFold
    return [r]


@_evaluates("BROADCAST_ARGS")
def _broadcast_args(op: Operator, ins: list[Tensor], outs: list[Tensor]) -> list[np.ndarray]:
    """The broadcast shape of two shapes (numpy's rule is TFLite's)."""
    shape = np.broadcast_shapes(tuple(_ints(ins[0])), tuple(_ints(ins[1])))
    return [np.array(shape, dtype=NUMPY_DTYPES[outs[0].dtype])]


@_evaluates("REVERSE_V2")
def _reverse(op: Operator, ins: list[Tensor], outs: list[Tensor]) -> list[np.ndarray]:
    x = _data(ins[0])
    return [np.flip(x, axis=tuple(_axis(a, x.ndim) for a in _ints(ins[1])))]


def summary(steps: list[Folded] | list[Alias]) -> str:
    """'operator 4 RESHAPE' or 'operators 1 SHAPE, 2 STRIDED_SLICE, ...' for reports."""
    return ("operator " if len(steps) == 1 else "operators ") + ", ".join(f"{s.op.index} {s.op.opcode}" for s in steps)
