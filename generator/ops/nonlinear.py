"""LOGISTIC and TANH (int8 -> int8) as 256-entry lookup tables.

TFLite Micro's int8 kernels compute, per element: x = q - input_zero_point; saturate when
|x| >= input_range_radius; otherwise rescale x into Q4.27 with a multiplier/left shift from
frexp(input_scale * 2^27), run the fixed-point logistic/tanh and round the Q0 result to the
output grid (1/256 with zero point -128 for logistic, 1/128 with zero point 0 for tanh). The
output tensor's own scale is not consulted at run time (TFLite only checks the logistic output
zero point), so neither is it here. Since the result depends on q alone, the whole function is
evaluated here, with the host twin of mcf_fixedpoint.h, for all 256 input values.
"""

from __future__ import annotations

import math

import numpy as np

from ..ir import Graph, Operator
from ..quant import multiply_by_quantized_multiplier, tflite_round
from . import fixedpoint as fp
from .base import ConstArray, ConstRef, KernelCall, lowering, reject, require_int8, unary_tensors
from .sigmoid16 import lower_sigmoid_s16

INPUT_INTEGER_BITS = 4  # the rescaled input is Q4.27


def input_rescaling(input_scale: float) -> tuple[int, int, int]:
    """(input_multiplier, input_left_shift, input_range_radius) as TFLite Micro's Prepare computes
    them for int8 LOGISTIC and TANH. Raises ValueError for scales it cannot handle."""
    real = float(input_scale) * float(1 << (31 - INPUT_INTEGER_BITS))
    if not (math.isfinite(real) and real > 0.0):
        raise ValueError(f"input scale {input_scale:g} must be positive")
    q, shift = math.frexp(real)  # no renormalisation: q in [0.5, 1)
    multiplier = tflite_round(q * (1 << 31))
    if shift < 0 or shift > 62 or multiplier >= (1 << 31):
        raise ValueError(f"input scale {input_scale:g} is out of the supported range [2^-28, 2^35)")
    # floor((2^4 - 1) * 2^27 / 2^shift): powers of two, exact in integers
    radius = (((1 << INPUT_INTEGER_BITS) - 1) << (31 - INPUT_INTEGER_BITS)) >> shift
    return multiplier, shift, radius


def build_table(opcode: str, input_scale: float, input_zero_point: int) -> np.ndarray:
    """int8 output for every int8 input, table[q & 0xff] = f(q)."""
    multiplier, shift, radius = input_rescaling(input_scale)
    table = np.zeros(256, dtype=np.int8)
    for q in range(-128, 128):
        x = q - input_zero_point
        if x <= -radius:
            y = -128
        elif x >= radius:
            y = 127
        else:
            # |x| < radius keeps x * 2^shift below 15 * 2^27: the rescale cannot overflow.
            x_q4 = multiply_by_quantized_multiplier(x, multiplier, shift)
            if opcode == "LOGISTIC":
                y = fp.rounding_divide_by_pot(fp.logistic(x_q4, INPUT_INTEGER_BITS), 31 - 8) - 128
            else:
                y = fp.rounding_divide_by_pot(fp.tanh(x_q4, INPUT_INTEGER_BITS), 31 - 7)
            y = min(max(y, -128), 127)
        table[q & 0xFF] = y
    return table


@lowering("LOGISTIC", "TANH")
def lower_lut_activation(graph: Graph, op: Operator) -> KernelCall:
    inp, out = unary_tensors(graph, op)
    if inp.dtype == "int16":  # 16x8 (sigmoid16.py)
        return lower_sigmoid_s16(graph, op)
    require_int8(op, inp, out)
    if inp.quant is not None and inp.quant.per_channel:
        raise reject(op, "the input must be quantized per tensor")
    if tuple(out.shape) != tuple(inp.shape):
        raise reject(op, f"output shape {list(out.shape)} differs from the input shape {list(inp.shape)}")
    if op.opcode == "LOGISTIC" and out.zero_point != -128:
        raise reject(op, f"the int8 output must have zero point -128 (scale 1/256), got {out.zero_point}")
    try:
        table = build_table(op.opcode, inp.scale, inp.zero_point)
    except ValueError as e:
        raise reject(op, str(e)) from None
    return KernelCall(
        op=op,
        kernel="nonlinear_s8",
        function="mcf_lut_s8",
        params_type="mcf_lut_params",
        params={"size": inp.size, "table": ConstRef("table")},
        args=[op.inputs[0], op.outputs[0]],
        consts=[ConstArray("table", "int8_t", table)],
        comment=f", {op.opcode.lower()} by 256-entry table",
    )
