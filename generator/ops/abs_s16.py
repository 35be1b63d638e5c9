"""ABS on int16 tensors (16x8 models); ops/pointwise.py hands int16 ABS operators to this module.

TFLite Micro takes quantized int16 with zero points 0 only. It rescales only when the input and
output scales differ (compared as float32), by input_scale / output_scale computed in float32 and
quantized as a double: output = saturate16(|x| * M * 2^shift); otherwise saturate16(|x|), so
|-32768| gives 32767.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator
from ..quant import quantize_multiplier
from .base import KernelCall, reject, unary_tensors


def lower_abs_s16(graph: Graph, op: Operator) -> KernelCall:
    inp, out = unary_tensors(graph, op)
    for t in (inp, out):
        if t.dtype != "int16":
            raise reject(op, f"tensor '{t.name}' is {t.dtype}; an int16 ABS needs int16 input and output")
        if t.quant is None:
            raise reject(op, f"tensor '{t.name}' is not quantized; only quantized int16 ABS is supported")
        if t.quant.per_channel or t.zero_point != 0:
            raise reject(op, f"tensor '{t.name}' has zero point {t.zero_point}; TFLite Micro's int16 ABS needs "
                             "one zero point of 0")
    if tuple(inp.shape) != tuple(out.shape):
        raise reject(op, f"output shape {list(out.shape)} differs from the input's {list(inp.shape)}")
    s_in, s_out = np.float32(inp.scale), np.float32(out.scale)
    rescale = bool(s_in != s_out)
    mult, shift = quantize_multiplier(float(s_in / s_out)) if rescale else (0, 0)
    return KernelCall(
        op=op,
        kernel="abs_s16",
        function="mcf_abs_s16",
        params_type="mcf_abs_s16_params",
        params={"size": out.size, "rescale": int(rescale), "multiplier": mult, "shift": shift},
        args=[op.inputs[0], op.outputs[0]],
        comment=", rescaled" if rescale else "",
    )
