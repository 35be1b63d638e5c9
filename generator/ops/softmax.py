"""SOFTMAX (int8 -> int8, and int8 -> int16) over the innermost dimension.

Prepare, as TFLite Micro does it: the scaled input difference beta * input_scale * (x - max) is
fed to a fixed-point exp in Q5.26, so the real multiplier beta * input_scale * 2^26 (capped at
2^31 - 1) is quantized into a Q31 multiplier and a left shift. `diff_min` is the most negative
difference whose scaled value still fits Q5.26 (-floor(31 * 2^26 / 2^shift)); smaller
differences contribute exp() == 0.
"""

from __future__ import annotations

import math

import numpy as np

from ..ir import Graph, Operator
from ..quant import quantize_multiplier
from .base import KernelCall, lowering, reject, require_int8, unary_tensors
from .float_arith import lower_float_softmax
from .softmax_s16 import lower_softmax_s16

# Integer bits of the Q5.26 scaled difference (TFLite's kScaledDiffIntegerBits).
SCALED_DIFF_INTEGER_BITS = 5
# TFLite's fixed int8 output quantization for softmax: scale exactly 1/256, zero point -128.
OUTPUT_SCALE = np.float32(1.0 / 256)
OUTPUT_ZERO_POINT = -128


def softmax_scaling(beta: float, input_scale: float) -> tuple[int, int, int]:
    """(input_multiplier, input_left_shift, diff_min) as TFLite's PreprocessSoftmaxScaling and
    CalculateInputRadius compute them (double precision, double-rounding build)."""
    frac_bits = 31 - SCALED_DIFF_INTEGER_BITS
    real = min(float(beta) * float(input_scale) * float(1 << frac_bits), float((1 << 31) - 1))
    if not real > 1.0:
        raise ValueError(f"beta * input_scale * 2^{frac_bits} = {real:g} must be greater than 1")
    multiplier, shift = quantize_multiplier(real)
    # Radius: (2^5 - 1) * 2^26 / 2^shift, floored (all powers of two: exact in integers).
    radius = (((1 << SCALED_DIFF_INTEGER_BITS) - 1) << frac_bits) >> shift
    return multiplier, shift, -radius


@lowering("SOFTMAX")
def lower_softmax(graph: Graph, op: Operator) -> KernelCall:
    inp, out = unary_tensors(graph, op)
    if inp.dtype == "float32":  # a float32 tail after DEQUANTIZE (float_arith.py)
        return lower_float_softmax(op, inp, out)
    if inp.dtype == "int16":  # 16x8 (softmax_s16.py)
        return lower_softmax_s16(graph, op, inp, out)
    wide = out.dtype == "int16"  # int8 -> int16, scale 1/65536 and zero point -32768
    require_int8(op, inp, *(() if wide else (out,)))
    if wide and out.quant is None:
        raise reject(op, "the int16 output has no quantization parameters")
    if inp.quant is not None and inp.quant.per_channel:
        raise reject(op, "the input must be quantized per tensor")
    if len(inp.shape) < 1:
        raise reject(op, "the input must have at least one dimension")
    if tuple(out.shape) != tuple(inp.shape):
        raise reject(op, f"output shape {list(out.shape)} differs from the input shape {list(inp.shape)}")

    if wide:
        # TFLite Micro: zero point -32768 and a scale within 0.1 % of 1/65536
        if out.zero_point != -32768 or abs(np.float32(out.scale) - np.float32(1 / 65536)) > np.float32(0.001 / 65536):
            raise reject(op, f"the int16 output of an int8 softmax must be quantized with scale 1/65536 and zero "
                             f"point -32768, got scale {out.scale:g} and zero point {out.zero_point}")
    # TFLite compares the float32 scale with 1/256 exactly.
    elif out.zero_point != OUTPUT_ZERO_POINT or np.float32(out.scale) != OUTPUT_SCALE:
        raise reject(op, f"the int8 output must be quantized with scale 1/256 and zero point {OUTPUT_ZERO_POINT}, "
                         f"got scale {out.scale:g} and zero point {out.zero_point}")

    if "beta" not in op.options:
        raise reject(op, "SoftmaxOptions (beta) are missing")
    beta = float(op.options["beta"])
    if not math.isfinite(beta):
        raise reject(op, f"beta {beta} is not finite")
    try:
        multiplier, shift, diff_min = softmax_scaling(beta, inp.scale)
    except ValueError as e:
        raise reject(op, f"beta {beta:g} with input scale {inp.scale:g} is too small: {e}") from None

    depth = inp.shape[-1]
    if depth < 1:
        raise reject(op, f"the last dimension must not be empty, got {list(inp.shape)}")
    outer = inp.size // depth
    return KernelCall(
        op=op,
        kernel="softmax_s8",
        function="mcf_softmax_s8_s16" if wide else "mcf_softmax_s8",
        params_type="mcf_softmax_params",
        params={
            "outer": outer,
            "depth": depth,
            "input_multiplier": multiplier,
            "input_left_shift": shift,
            "diff_min": diff_min,
        },
        args=[op.inputs[0], op.outputs[0]],
        comment=f", beta {beta:g}, over the last axis ({outer} x {depth})" + (", int16 output" if wide else ""),
    )
