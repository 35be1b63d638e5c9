"""LOG_SOFTMAX over any axis with onnxruntime's float32 formula (`options["requant"] = "float32"`,
`options["axis"]` the IR axis): runtime/kernels/log_softmax_s8_f32.c. onnxruntime computes
LogSoftmax in float between DequantizeLinear and QuantizeLinear, so the output quantization is the
model's (TFLite's int8 LOG_SOFTMAX fixes it at 16/256, 127); the result is within one step.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator
from .base import ConstArray, ConstRef, KernelCall, reject, require_int8, unary_tensors
from .float_requant import dequant_table


def lower_log_softmax_f32(graph: Graph, op: Operator) -> KernelCall:
    inp, out = unary_tensors(graph, op)
    to_float = out.dtype == "float32"  # a float graph output (no QuantizeLinear after the LogSoftmax)
    require_int8(op, inp) if to_float else require_int8(op, inp, out)
    shape = tuple(inp.shape)
    axis = int(op.options.get("axis", -1)) % max(len(shape), 1)
    if tuple(out.shape) != shape or not shape:
        raise reject(op, f"input {list(shape)} and output {list(out.shape)} must have one shape")
    d = np.arange(256, dtype=np.float32)
    exp_neg = np.exp(-(np.float32(inp.scale) * d)).astype(np.float32)
    return KernelCall(
        op=op, kernel="log_softmax_s8_f32",
        function="mcf_log_softmax_s8_to_f32" if to_float else "mcf_log_softmax_s8_f32",
        params_type="mcf_log_softmax_f32_params",
        params={"outer": int(np.prod(shape[:axis], dtype=np.int64)), "depth": shape[axis],
                "inner": int(np.prod(shape[axis + 1:], dtype=np.int64)),
                "out_scale": 1.0 if to_float else float(np.float32(out.scale)),
                "out_zero_point": 0 if to_float else out.zero_point,
                "dequant": ConstRef("dequant"), "exp_neg": ConstRef("exp_neg")},
        args=[op.inputs[0], op.outputs[0]],
        consts=[ConstArray("dequant", "float", dequant_table(inp.scale, inp.zero_point)),
                ConstArray("exp_neg", "float", exp_neg)],
        comment=f", axis {axis}, onnxruntime's float32 formula")
