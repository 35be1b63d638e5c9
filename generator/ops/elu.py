"""ELU (int8): TFLite Micro builds a 256-entry table in its Prepare, in float32: each int8 value
dequantized (scale * (q - zero point)), ELU applied (exp(x) - 1 below 0, x above), multiplied by
1 / output scale, rounded half away from zero, the output zero point added and clamped to int8.
The same table is computed here with the same float32 steps (numpy float32; exp as the correctly
rounded float32 of the double exponential) and looked up by the kernel (nonlinear_s8.c).
"""

from __future__ import annotations

import math

import numpy as np

from ..ir import Graph, Operator
from .base import KernelCall, lowering, reject, require_int8, unary_tensors
from .pointwise import _table_call

f32 = np.float32


def _round_half_away(x: np.float32) -> float:
    return float(math.floor(abs(float(x)) + 0.5)) * (1.0 if x >= 0 else -1.0)


def elu_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> list[int]:
    """The int8 result for each input value -128 .. 127."""
    inverse = f32(1) / f32(out_scale)
    table = []
    for q in range(-128, 128):
        x = f32(f32(in_scale) * f32(q - in_zp))
        y = f32(f32(math.exp(float(x))) - f32(1)) if x < 0 else x
        r = _round_half_away(f32(y * inverse))
        table.append(int(max(-128, min(127, int(r + out_zp)))))
    return table


@lowering("ELU")
def lower_elu(graph: Graph, op: Operator) -> KernelCall:
    inp, out = unary_tensors(graph, op)
    require_int8(op, inp, out)
    if inp.size != out.size:
        raise reject(op, f"output shape {list(out.shape)} differs from the input shape {list(inp.shape)}")
    return _table_call(op, inp.size, elu_table(inp.scale, inp.zero_point, out.scale, out.zero_point), "ELU")
