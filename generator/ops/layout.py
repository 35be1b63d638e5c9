"""TRANSPOSE, SLICE, STRIDED_SLICE, BROADCAST_TO, DEPTH_TO_SPACE, SPACE_TO_DEPTH: data movement.

Each is an index map from output to input elements (generator/ops/strided.py), run by the one
strided copy. Bytes move unchanged, as in TFLite Micro (which does not requantize these
operators either). The limits are TFLite Micro's: its element types, ranks and constant
parameter tensors; a model outside them does not run there and is refused here, saying why.
A TRANSPOSE that moves only dimensions of extent 1 keeps the row-major order: it is a view
(an alias of its input, no kernel, no bytes); so is one whose permutation the compiler moved into
the weights of the FULLY_CONNECTED layer that reads it (generator/constfold.py), and a SLICE or
STRIDED_SLICE that keeps the input's first bytes in order.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator, Tensor
from .base import Alias, KernelCall, lowering, reject
from .strided import prefix_view, require_types, row_major_steps, strided_copy_call

INT_TYPES = ("int8", "int16", "int32")


def _io(graph: Graph, op: Operator, n_in: int) -> tuple[list[Tensor], Tensor]:
    if len(op.inputs) != n_in or len(op.outputs) != 1:
        raise reject(op, f"expected {n_in} inputs and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    ins = graph.op_inputs(op)
    if any(t is None for t in ins):
        raise reject(op, "an input is missing")
    out = graph.op_outputs(op)[0]
    if ins[0] is not None and ins[0].dtype != out.dtype:
        raise reject(op, f"input is {ins[0].dtype} but output is {out.dtype}")
    return [t for t in ins if t is not None], out


def const_ints(op: Operator, t: Tensor, what: str, types: tuple[str, ...] = ("int32",)) -> list[int]:
    """The values of a constant parameter tensor of one of the types TFLite Micro reads it as."""
    if t.data is None:
        raise reject(op, f"the {what} tensor '{t.name}' is not constant; TFLite Micro requires it constant")
    if t.dtype not in types:
        raise reject(op, f"the {what} tensor '{t.name}' is {t.dtype}; TFLite Micro reads it as {' or '.join(types)}")
    return [int(v) for v in np.asarray(t.data).reshape(-1)]


def _check_out_shape(op: Operator, out: Tensor, shape: list[int]) -> None:
    if list(out.shape) != shape:
        raise reject(op, f"the output should be {shape} but the model says {list(out.shape)}")


def is_view_permutation(shape: tuple[int, ...], perm: list[int]) -> bool:
    """Whether transposing `shape` by `perm` keeps the row-major order (only extent-1 dims move)."""
    moved = [p for p in perm if shape[p] != 1]
    return moved == sorted(moved)


@lowering("TRANSPOSE")
def lower_transpose(graph: Graph, op: Operator) -> KernelCall | Alias:
    (inp, perm_t), out = _io(graph, op, 2)
    require_types(op, ("int8", "int16"), inp)
    rank = len(inp.shape)
    if rank > 5:
        raise reject(op, f"input has {rank} dimensions; TFLite Micro transposes at most 5")
    perm = const_ints(op, perm_t, "permutation")
    if sorted(perm) != list(range(rank)):
        raise reject(op, f"permutation {perm} is not a permutation of {rank} dimensions")
    _check_out_shape(op, out, [inp.shape[p] for p in perm])
    folded = "into_weights_of" in op.options or "into_reduction_of" in op.options
    if (is_view_permutation(inp.shape, perm) or folded) and not inp.is_const:
        # only extent-1 dimensions move, or the permutation went into the reading layer's weights
        # or loop order (generator/constfold.py): the bytes stay where they are
        return Alias(op, source=inp.index, target=out.index)
    steps = row_major_steps(inp.shape)
    return strided_copy_call(op, inp, list(out.shape), [steps[p] for p in perm], 0,
                             comment=f", perm {perm}")


@lowering("SLICE")
def lower_slice(graph: Graph, op: Operator) -> KernelCall | Alias:
    (inp, begin_t, size_t), out = _io(graph, op, 3)
    require_types(op, INT_TYPES, inp)
    rank = len(inp.shape)
    if rank > 5:
        raise reject(op, f"input has {rank} dimensions; TFLite Micro slices at most 5")
    begin = const_ints(op, begin_t, "begin", ("int32", "int64"))
    size = const_ints(op, size_t, "size", ("int32", "int64"))
    if len(begin) != rank or len(size) != rank:
        raise reject(op, f"begin and size need {rank} values, got {len(begin)} and {len(size)}")
    sizes = []
    for d in range(rank):
        n = inp.shape[d] - begin[d] if size[d] == -1 else size[d]
        if begin[d] < 0 or n < 0 or begin[d] + n > inp.shape[d]:
            raise reject(op, f"slice [{begin[d]}, {begin[d]} + {size[d]}) is outside dimension {d} "
                             f"of extent {inp.shape[d]}")
        sizes.append(n)
    _check_out_shape(op, out, sizes)
    steps = row_major_steps(inp.shape)
    return prefix_view(op, inp, strided_copy_call(op, inp, sizes, steps,
                                                  sum(b * s for b, s in zip(begin, steps, strict=True)),
                                                  comment=f", begin {begin}"))


def strided_slice_ranges(shape: tuple[int, ...], begin: list[int], end: list[int], strides: list[int],
                         begin_mask: int, end_mask: int, shrink_mask: int) -> list[tuple[int, int, int]]:
    """(start, count, stride) per input dimension, as TFLite Micro's strided slice evaluates them
    (negative indices wrap once, then clamp; a shrunk axis takes one element)."""
    out = []
    for d, size in enumerate(shape):
        stride = strides[d]
        lo, hi = (0, size) if stride > 0 else (-1, size - 1)
        start = begin[d] + size if begin[d] < 0 else begin[d]
        start = min(max(start, lo), hi)
        if begin_mask >> d & 1:
            start = 0 if stride > 0 else size - 1
        if shrink_mask >> d & 1:
            stop = start if start >= size else start + 1
        else:
            stop = end[d] + size if end[d] < 0 else end[d]
            stop = min(max(stop, lo), hi)
            if end_mask >> d & 1:
                stop = size if stride > 0 else -1
        count = max(0, -(-(stop - start) // stride)) if stride > 0 else max(0, -(-(start - stop) // -stride))
        out.append((start, count, stride))
    return out


@lowering("STRIDED_SLICE")
def lower_strided_slice(graph: Graph, op: Operator) -> KernelCall | Alias:
    (inp, begin_t, end_t, strides_t), out = _io(graph, op, 4)
    require_types(op, INT_TYPES, inp)
    rank = len(inp.shape)
    if rank > 4:
        raise reject(op, f"input has {rank} dimensions; TFLite Micro's STRIDED_SLICE takes at most 4")
    o = op.options
    for key in ("ellipsis_mask", "new_axis_mask"):
        if o.get(key, 0):
            raise reject(op, f"{key} {o[key]} is set; TFLite Micro ignores it, so the model's shapes do not "
                             "hold there (convert the model without it)")
    if o.get("offset", False):
        raise reject(op, "offset mode is set; TFLite Micro ignores it (convert the model without it)")
    begin = const_ints(op, begin_t, "begin")
    end = const_ints(op, end_t, "end")
    strides = const_ints(op, strides_t, "strides")
    if not len(begin) == len(end) == len(strides) == rank:
        raise reject(op, f"begin, end and strides need {rank} values each, got {len(begin)}, {len(end)}, "
                         f"{len(strides)}")
    if any(s == 0 for s in strides):
        raise reject(op, "a stride is 0")
    shrink = int(o.get("shrink_axis_mask", 0))
    ranges = strided_slice_ranges(inp.shape, begin, end, strides, int(o.get("begin_mask", 0)),
                                  int(o.get("end_mask", 0)), shrink)
    _check_out_shape(op, out, [c for d, (_, c, _) in enumerate(ranges) if not shrink >> d & 1])
    steps = row_major_steps(inp.shape)
    start = sum(s * st for (s, c, _), st in zip(ranges, steps, strict=True) if c)
    call = strided_copy_call(op, inp, [c for _, c, _ in ranges],
                             [st * k for (_, _, k), st in zip(ranges, steps, strict=True)], start)
    return prefix_view(op, inp, call)


@lowering("BROADCAST_TO")
def lower_broadcast_to(graph: Graph, op: Operator) -> KernelCall:
    (inp, _shape), out = _io(graph, op, 2)
    require_types(op, INT_TYPES, inp)
    orank, irank = len(out.shape), len(inp.shape)
    if orank > 5 or irank > orank:
        raise reject(op, f"cannot broadcast {list(inp.shape)} to {list(out.shape)} (TFLite Micro: at most 5 "
                         "dimensions, the input no wider than the output)")
    in_shape = [1] * (orank - irank) + list(inp.shape)
    steps = row_major_steps(in_shape)
    for d in range(orank):
        if in_shape[d] != out.shape[d]:
            if in_shape[d] != 1:
                raise reject(op, f"input {list(inp.shape)} does not broadcast to {list(out.shape)}")
            steps[d] = 0
    return strided_copy_call(op, inp, list(out.shape), steps, 0)


def _block(op: Operator) -> int:
    bs = int(op.options.get("block_size", 0))
    if bs <= 0:
        raise reject(op, f"block size {bs} is not positive")
    return bs


@lowering("DEPTH_TO_SPACE")
def lower_depth_to_space(graph: Graph, op: Operator) -> KernelCall:
    (inp,), out = _io(graph, op, 1)
    require_types(op, ("int8",), inp)
    if len(inp.shape) != 4:
        raise reject(op, "the input is not 4-D")
    bs = _block(op)
    n, h, w, c = inp.shape
    if c % (bs * bs):
        raise reject(op, f"{c} channels are not a multiple of block size {bs} squared")
    oc = c // (bs * bs)
    _check_out_shape(op, out, [n, h * bs, w * bs, oc])
    # output (n, h, by, w, bx, oc) reads input (n, h, w, (by * bs + bx) * oc + k)
    return strided_copy_call(op, inp, [n, h, bs, w, bs, oc], [h * w * c, w * c, bs * oc, c, oc, 1], 0,
                             comment=f", block {bs}")


@lowering("SPACE_TO_DEPTH")
def lower_space_to_depth(graph: Graph, op: Operator) -> KernelCall:
    (inp,), out = _io(graph, op, 1)
    require_types(op, ("int8",), inp)
    if len(inp.shape) != 4:
        raise reject(op, "the input is not 4-D")
    bs = _block(op)
    n, h, w, c = inp.shape
    if h % bs or w % bs:
        raise reject(op, f"height {h} and width {w} are not multiples of block size {bs}")
    _check_out_shape(op, out, [n, h // bs, w // bs, c * bs * bs])
    # output (n, y, x, by, bx, k) reads input (n, y * bs + by, x * bs + bx, k)
    return strided_copy_call(op, inp, [n, h // bs, w // bs, bs, bs, c], [h * w * c, bs * w * c, bs * c, w * c, c, 1],
                             0, comment=f", block {bs}")


@lowering("TILE")
def lower_tile(graph: Graph, op: Operator) -> KernelCall:
    raise reject(op, "TFLite Micro has no TILE kernel, so the model cannot run there (a TILE of constants is "
                     "evaluated by mcuforge when compiling)")
