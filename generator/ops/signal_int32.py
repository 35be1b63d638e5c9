"""Plain int32 arithmetic, as TFLite Micro's audio preprocessor uses it after its signal operators:
ADD, SUB, MUL, DIV, MINIMUM, MAXIMUM on unquantized int32 tensors (same shape, or one operand a
single value), CONCATENATION of int32 tensors, and CAST between uint32 and int32 (the same bits).

TFLite Micro computes a + b, a - b, a * b in int32 (wrapping here), a / b truncating toward zero.
DIV takes a constant divisor only: the division becomes a multiplication by a 32-bit reciprocal
with a shift, chosen here so that it is exact for every int32 dividend (|n| <= 2^31: with
l = ceil(log2 |d|), M = ceil(2^(31 + l) / |d|) < 2^32, and M * |d| - 2^(31 + l) < |d| <= 2^l keeps
floor(|n| * M / 2^(31 + l)) = floor(|n| / |d|)); the sign is applied after. The fused activation
must be NONE (the model's arithmetic has none).
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator, Tensor
from .base import KernelCall, ParamValue, reject
from .split_pack import lower_plain_concat

FUNCTIONS = {"ADD": "mcf_i32_add", "SUB": "mcf_i32_sub", "MUL": "mcf_i32_mul", "MINIMUM": "mcf_i32_min",
             "MAXIMUM": "mcf_i32_max", "DIV": "mcf_i32_div_const"}


def _plain(op: Operator, t: Tensor | None) -> Tensor:
    if t is None:
        raise reject(op, "an input is missing")
    if t.dtype != "int32":
        raise reject(op, f"tensor '{t.name}' is {t.dtype}; int32 arithmetic needs int32 operands")
    if t.quant is not None and any(z != 0 for z in t.quant.zero_point):
        raise reject(op, f"int32 tensor '{t.name}' has a zero point; only unquantized int32 is supported")
    return t


def divisor_reciprocal(d: int) -> tuple[int, int]:
    """(M, k) with trunc(|n| / |d|) = (|n| * M) >> k for every |n| <= 2^31."""
    a = abs(d)
    lg = (a - 1).bit_length()
    k = 31 + lg
    m = -(-(1 << k) // a)
    assert m < (1 << 32) and m * a - (1 << k) < a <= (1 << lg)
    return m, k


def lower_binary_i32(graph: Graph, op: Operator) -> KernelCall:
    if len(op.inputs) != 2 or len(op.outputs) != 1:
        raise reject(op, f"expected 2 inputs and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    a, b = (_plain(op, t) for t in graph.op_inputs(op))
    out = _plain(op, graph.op_outputs(op)[0])
    act = op.options.get("fused_activation_function", "NONE")
    if act != "NONE":
        raise reject(op, f"fused activation {act} on int32 arithmetic is not supported")
    for t in (a, b):
        if t.size not in (1, out.size):
            raise reject(op, f"operand '{t.name}' {list(t.shape)} is neither one value nor the output's shape "
                             f"{list(out.shape)} (general broadcasting of int32 is not supported)")
    params: dict[str, ParamValue] = {"count": out.size, "a_step": int(a.size != 1), "b_step": int(b.size != 1)}
    comment = ""
    if op.opcode == "DIV":
        if b.data is None or b.size != 1:
            raise reject(op, "int32 DIV needs a constant single-value divisor (no per-element division here)")
        d = int(np.asarray(b.data).reshape(-1)[0])
        if d == 0:
            raise reject(op, "division by the constant 0")
        m, k = divisor_reciprocal(d)
        params.update({"magic": m, "shift": k, "negative": int(d < 0)})
        comment = f", / {d}"
    return KernelCall(op=op, kernel="signal_int32", function=FUNCTIONS[op.opcode],
                      params_type="mcf_i32_params", params=params,
                      args=[op.inputs[0], op.inputs[1], op.outputs[0]], comment=f", int32{comment}")


def lower_cast_u32(graph: Graph, op: Operator, inp: Tensor, out: Tensor) -> KernelCall:
    """uint32 <-> int32: the bits are kept (C's conversion, two's complement)."""
    if inp.size != out.size:
        raise reject(op, f"input has {inp.size} elements, output {out.size}")
    return KernelCall(op=op, kernel="cast", function="mcf_cast", params_type="mcf_cast_params",
                      params={"count": inp.size, "from": -4, "to": -4}, args=[inp.index, out.index],
                      comment=f", {inp.dtype} to {out.dtype} (same bits)")


def lower_concat_i32(graph: Graph, op: Operator, ins: list[Tensor], out: Tensor) -> KernelCall:
    """pack_split's join, as for int16 (split_pack.lower_plain_concat)."""
    for t in (*ins, out):
        _plain(op, t)
    return lower_plain_concat(op, ins, out)
