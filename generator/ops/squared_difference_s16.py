"""SQUARED_DIFFERENCE on int16 tensors (16x8 models, e.g. layer normalisation), broadcasting;
ops/binary.py hands int16 operators to this module.

TFLite Micro takes zero points 0 only and computes as for int8 with a left shift of 0: each input
scaled by its scale over twice the larger input scale (both float32, the ratio in double, a
multiplier below one), the difference squared in int32, requantized by (2 * max_scale)^2 /
output_scale, saturated to int16. Broadcast shapes go through its four-dimensional broadcast loop,
so a broadcast above rank 4 is refused; equal shapes of any rank up to 5 are taken.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator, Tensor
from ..quant import quantize_multiplier
from .base import KernelCall, reject
from .elementwise import broadcast_operands

MAX_RANK = 5  # equal shapes; a broadcast goes through TFLite Micro's four-dimensional loop


def _below_one(op: Operator, real: float, what: str) -> tuple[int, int]:
    mult, shift = quantize_multiplier(real)
    if not 0.0 < real < 1.0 or shift > 0:
        raise reject(op, f"the {what} multiplier {real:.6g} is outside (0, 1); TFLite Micro cannot run it either")
    return mult, shift


def _require(op: Operator, *tensors: Tensor) -> None:
    for t in tensors:
        if t.dtype != "int16" or t.quant is None or t.quant.per_channel:
            raise reject(op, f"tensor '{t.name}' is {t.dtype}; an int16 SQUARED_DIFFERENCE needs int16 tensors "
                             "quantized per tensor")
        if t.zero_point != 0:
            raise reject(op, f"tensor '{t.name}' has zero point {t.zero_point}; TFLite Micro's int16 "
                             "SQUARED_DIFFERENCE needs 0")


def lower_squared_difference_s16(graph: Graph, op: Operator) -> KernelCall:
    a, b, out, loops, consts = broadcast_operands(op, graph, _require)
    rank = max(len(a.shape), len(b.shape), len(out.shape))
    limit = 4 if tuple(a.shape) != tuple(b.shape) else MAX_RANK
    if rank > limit:
        raise reject(op, f"rank {rank} is not supported (TFLite Micro broadcasts up to rank 4)")
    s1, s2, so = np.float32(a.scale), np.float32(b.scale), np.float32(out.scale)
    twice = 2.0 * float(max(s1, s2))
    m1, sh1 = _below_one(op, float(s1) / twice, "input1")
    m2, sh2 = _below_one(op, float(s2) / twice, "input2")
    mo, sho = quantize_multiplier(twice * twice / float(so))
    return KernelCall(
        op=op,
        kernel="binary_s16",
        function="mcf_squared_difference_s16",
        params_type="mcf_sqdiff_s16_params",
        params={"input1_multiplier": m1, "input1_shift": sh1, "input2_multiplier": m2, "input2_shift": sh2,
                "output_multiplier": mo, "output_shift": sho, **loops},
        args=[op.inputs[0], op.inputs[1], op.outputs[0]],
        consts=consts,
    )
