"""SPLIT, SPLIT_V, UNPACK (a tensor cut into parts) and PACK (parts joined along a new axis).

Around the axis, a row-major tensor is `outer` repetitions of one contiguous slab per part
(runtime/kernels/pack_split.c): cutting or joining copies bytes unchanged, as TFLite Micro does,
for its element types (int8, int16, int32; PACK also int64). Each part is its own argument of a
fixed-arity entry point (mcf_cut<N>, mcf_join<N>), so at most 16 parts.
"""

from __future__ import annotations

import numpy as np

from ..ir import DTYPE_BYTES, Graph, Operator, Tensor
from .base import KernelCall, lowering, reject
from .layout import const_ints
from .strided import require_types

MAX_PARTS = 16  # MCF_PARTS_MAX in pack_split.h
INT_TYPES = ("int8", "int16", "int32")


def _axis(op: Operator, axis: int, rank: int) -> int:
    a = axis + rank if axis < 0 else axis
    if not 0 <= a < rank:
        raise reject(op, f"axis {axis} is out of range for {rank} dimensions")
    return a


def _parts_call(op: Operator, whole: Tensor, parts: list[Tensor], axis: int, split: bool) -> KernelCall:
    """mcf_cut<N>(whole -> parts) or mcf_join<N>(parts -> whole); `whole` is op's data input or output."""
    n = len(parts)
    if not 1 <= n <= MAX_PARTS:
        raise reject(op, f"{n} parts; at most {MAX_PARTS} are supported")
    elem = DTYPE_BYTES[whole.dtype]
    outer = int(np.prod(whole.shape[:axis], dtype=np.int64))
    sizes = [t.size // outer * elem if outer else 0 for t in parts]
    padded = sizes + [0] * (MAX_PARTS - n)
    kind = "cut" if split else "join"
    return KernelCall(
        op=op,
        kernel="pack_split",
        function=f"mcf_{kind}{n}",
        params_type="mcf_parts_params",
        params={"outer": outer, "num_parts": n, "size": "{" + ", ".join(str(s) for s in padded) + "}"},
        args=[whole.index, *op.outputs] if split else [*op.inputs, whole.index],
        comment=f", {n} parts along axis {axis}",
    )


MAX_CONCAT_INPUTS = 10  # TFLite Micro's CONCATENATION limit


def lower_plain_concat(op: Operator, ins: list[Tensor], out: Tensor) -> KernelCall:
    """CONCATENATION that copies values unchanged (int16, and unquantized int32): a join of the
    inputs along the axis. The caller has checked the element types."""
    if len(ins) > MAX_CONCAT_INPUTS:
        raise reject(op, f"{len(ins)} inputs; TFLite Micro takes at most {MAX_CONCAT_INPUTS}")
    act = op.options.get("fused_activation_function", "NONE")
    if act != "NONE":
        raise reject(op, f"fused activation {act} is not supported (TFLite Micro requires NONE)")
    rank = len(out.shape)
    axis = _axis(op, int(op.options.get("axis", 0)), rank)
    for t in ins:
        if len(t.shape) != rank or any(t.shape[d] != out.shape[d] for d in range(rank) if d != axis):
            raise reject(op, f"input '{t.name}' {list(t.shape)} does not fit output {list(out.shape)} "
                             f"concatenated along axis {axis}")
    if sum(t.shape[axis] for t in ins) != out.shape[axis]:
        raise reject(op, f"the inputs do not add up to the output's {out.shape[axis]} along axis {axis}")
    return _parts_call(op, out, ins, axis, split=False)


def _check_parts(op: Operator, whole: Tensor, parts: list[Tensor], axis: int, extents: list[int],
                 keep_axis: bool) -> None:
    for t, e in zip(parts, extents, strict=True):
        if t.dtype != whole.dtype:
            raise reject(op, f"tensor '{t.name}' is {t.dtype}, '{whole.name}' is {whole.dtype}")
        want = list(whole.shape)
        if keep_axis:
            want[axis] = e
        else:
            del want[axis]
        if list(t.shape) != want:
            raise reject(op, f"tensor '{t.name}' is {list(t.shape)}, expected {want}")


def _split(graph: Graph, op: Operator, inp: Tensor | None, axis_t: Tensor | None) -> KernelCall:
    """The parts are the outputs' extents along the axis, as TFLite Micro cuts them (its SPLIT_V
    never reads size_splits: the converter wrote them into the output shapes)."""
    if inp is None or axis_t is None:
        raise reject(op, "an input is missing")
    outs = graph.op_outputs(op)
    require_types(op, INT_TYPES, inp)
    axis_v = const_ints(op, axis_t, "axis")
    if len(axis_v) != 1:
        raise reject(op, "the axis tensor must hold one value")
    rank = len(inp.shape)
    axis = _axis(op, axis_v[0], rank)
    extents = [t.shape[axis] if len(t.shape) == rank else -1 for t in outs]
    if sum(extents) != inp.shape[axis] or min(extents, default=0) < 0:
        raise reject(op, f"the outputs' extents {extents} along axis {axis} do not add up to the input's "
                         f"{inp.shape[axis]}")
    _check_parts(op, inp, outs, axis, extents, keep_axis=True)
    return _parts_call(op, inp, outs, axis, split=True)


@lowering("SPLIT")
def lower_split(graph: Graph, op: Operator) -> KernelCall:
    if len(op.inputs) != 2:
        raise reject(op, f"expected 2 inputs (axis, input), got {len(op.inputs)}")
    axis_t, inp = graph.op_inputs(op)
    return _split(graph, op, inp, axis_t)


@lowering("SPLIT_V")
def lower_split_v(graph: Graph, op: Operator) -> KernelCall:
    if len(op.inputs) != 3:
        raise reject(op, f"expected 3 inputs (input, size_splits, axis), got {len(op.inputs)}")
    inp, _sizes, axis_t = graph.op_inputs(op)
    return _split(graph, op, inp, axis_t)


@lowering("UNPACK")
def lower_unpack(graph: Graph, op: Operator) -> KernelCall:
    if len(op.inputs) != 1:
        raise reject(op, f"expected 1 input, got {len(op.inputs)}")
    inp = graph.op_inputs(op)[0]
    if inp is None:
        raise reject(op, "the input is missing")
    outs = graph.op_outputs(op)
    require_types(op, INT_TYPES, inp)
    axis = _axis(op, int(op.options.get("axis", 0)), len(inp.shape))
    if inp.shape[axis] != len(outs):
        raise reject(op, f"extent {inp.shape[axis]} along axis {axis} but {len(outs)} outputs")
    _check_parts(op, inp, outs, axis, [1] * len(outs), keep_axis=False)
    return _parts_call(op, inp, outs, axis, split=True)


@lowering("PACK")
def lower_pack(graph: Graph, op: Operator) -> KernelCall:
    if len(op.outputs) != 1 or not op.inputs:
        raise reject(op, f"expected inputs and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    ins = graph.op_inputs(op)
    if any(t is None for t in ins):
        raise reject(op, "an input is missing")
    parts = [t for t in ins if t is not None]
    out = graph.op_outputs(op)[0]
    require_types(op, (*INT_TYPES, "int64"), out)
    axis = _axis(op, int(op.options.get("axis", 0)), len(out.shape))
    if out.shape[axis] != len(parts):
        raise reject(op, f"{len(parts)} inputs but extent {out.shape[axis]} along axis {axis}")
    _check_parts(op, out, parts, axis, [1] * len(parts), keep_axis=False)
    return _parts_call(op, out, parts, axis, split=False)
