"""LOG_SOFTMAX (int8 -> int8) over the innermost dimension.

Prepare, as TFLite Micro's (beta is 1): the input scale times 2^26 (capped at 2^31 - 1) becomes a
Q31 multiplier and a left shift, exactly as for SOFTMAX (softmax.softmax_scaling); the reverse
scaling 2^(31 - shift) / multiplier (double) becomes a multiplier below one with a right shift.
The output quantization is fixed by TFLite: scale 16/256, zero point 127.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator
from ..quant import quantize_multiplier
from .base import KernelCall, lowering, reject, require_int8, unary_tensors
from .float_arith import lower_float_log_softmax
from .log_softmax_f32 import lower_log_softmax_f32
from .softmax import softmax_scaling

OUTPUT_SCALE = np.float32(16.0 / 256)
OUTPUT_ZERO_POINT = 127


def log_softmax_scaling(input_scale: float) -> tuple[int, int, int, int, int]:
    """(input_multiplier, input_left_shift, reverse_multiplier, reverse_shift, diff_min); raises
    ValueError for input scales TFLite Micro cannot prepare."""
    multiplier, shift, diff_min = softmax_scaling(1.0, input_scale)
    reverse = float(1 << (31 - shift)) / float(multiplier)
    if not 0.0 < reverse < 1.0:
        raise ValueError(f"the reverse scaling {reverse:g} is not below one")
    rev_m, rev_s = quantize_multiplier(reverse)
    return multiplier, shift, rev_m, rev_s, diff_min


@lowering("LOG_SOFTMAX")
def lower_log_softmax(graph: Graph, op: Operator) -> KernelCall:
    if op.options.get("requant") == "float32":  # an ONNX LogSoftmax (log_softmax_f32.py)
        return lower_log_softmax_f32(graph, op)
    inp, out = unary_tensors(graph, op)
    if inp.dtype == "float32":  # a float32 tail after DEQUANTIZE (float_arith.py)
        return lower_float_log_softmax(op, inp, out)
    require_int8(op, inp, out)
    if inp.quant is not None and inp.quant.per_channel:
        raise reject(op, "the input must be quantized per tensor")
    if len(inp.shape) < 1 or inp.shape[-1] < 1:
        raise reject(op, f"the last dimension must not be empty, got {list(inp.shape)}")
    if tuple(out.shape) != tuple(inp.shape):
        raise reject(op, f"output shape {list(out.shape)} differs from the input shape {list(inp.shape)}")
    if out.zero_point != OUTPUT_ZERO_POINT or np.float32(out.scale) != OUTPUT_SCALE:
        raise reject(op, f"the int8 output must be quantized with scale 16/256 and zero point {OUTPUT_ZERO_POINT}, "
                         f"got scale {out.scale:g} and zero point {out.zero_point}")
    try:
        multiplier, shift, rev_m, rev_s, diff_min = log_softmax_scaling(inp.scale)
    except ValueError as e:
        raise reject(op, f"input scale {inp.scale:g} is out of range: {e}") from None
    depth = inp.shape[-1]
    if depth >= 4096:
        raise reject(op, f"rows of {depth} values are not supported (the Q12 sum of exps could wrap)")
    outer = inp.size // depth
    return KernelCall(
        op=op, kernel="log_softmax_s8", function="mcf_log_softmax_s8", params_type="mcf_log_softmax_params",
        params={"outer": outer, "depth": depth, "input_multiplier": multiplier, "input_left_shift": shift,
                "reverse_multiplier": rev_m, "reverse_shift": rev_s, "diff_min": diff_min},
        args=[op.inputs[0], op.outputs[0]],
        comment=f", over the last axis ({outer} x {depth})",
    )
