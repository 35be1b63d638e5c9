"""SOFTMAX with int16 input and output (16x8), reached from softmax.py.

TFLite Micro's int16 softmax: each difference from the row maximum is rescaled so that [-10, 0]
spans the int16 range, looked up in an interpolated exp table; the sum of the row's exps is
normalised by its leading zeros and inverted through a 1 / (1 + x) table; each exp times that
reciprocal is the output (scale 1/32768, zero point 0).
"""

from __future__ import annotations

import math

from ..ir import Graph, Operator, Tensor
from ..quant import quantize_multiplier
from .base import ConstArray, ConstRef, KernelCall, reject
from .fully_connected_s16 import require_int16
from .lut16 import softmax_luts


def lower_softmax_s16(graph: Graph, op: Operator, inp: Tensor, out: Tensor) -> KernelCall:
    require_int16(op, inp, out)
    if inp.zero_point != 0 or out.zero_point != 0:
        raise reject(op, "int16 softmax needs zero points 0 (TFLite Micro checks this)")
    if abs(float(out.scale) - 1.0 / 32768) > 0.001 / 32768:
        raise reject(op, f"the int16 output must have scale 1/32768, got {out.scale:g}")
    beta = float(op.options.get("beta", 1.0))
    if not math.isfinite(beta) or beta <= 0:
        raise reject(op, f"beta {beta} must be positive and finite")
    # double, as TFLite Micro: the input difference scaled so that [-65535, 0] is [-10, 0]
    multiplier, shift = quantize_multiplier(float(inp.scale) * beta / (10.0 / 65535.0))
    if shift > 30:
        raise reject(op, f"beta {beta:g} with input scale {inp.scale:g} is too large for the int16 softmax")
    depth = inp.shape[-1] if inp.shape else 1
    if depth < 1:
        raise reject(op, f"the last dimension must not be empty, got {list(inp.shape)}")
    exp_lut, recip_lut = softmax_luts()
    return KernelCall(
        op=op,
        kernel="softmax_s16",
        function="mcf_softmax_s16",
        params_type="mcf_softmax_s16_params",
        params={"rows": inp.size // depth, "depth": depth, "input_multiplier": multiplier, "input_shift": shift,
                "exp_lut": ConstRef("exp_lut"), "recip_lut": ConstRef("recip_lut")},
        args=[op.inputs[0], op.outputs[0]],
        consts=[ConstArray("exp_lut", "int16_t", exp_lut), ConstArray("recip_lut", "int16_t", recip_lut)],
        comment=f", int16, beta {beta:g}, over the last axis ({inp.size // depth} x {depth})",
    )
