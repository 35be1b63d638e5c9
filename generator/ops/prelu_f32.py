"""PRELU with onnxruntime's float32 arithmetic (`options["requant"] = "float32"`), for an ONNX PRelu
whose slope varies along the channel axis: runtime/kernels/prelu_s8_f32.c.

onnxruntime computes PRelu in float between DequantizeLinear and QuantizeLinear; the kernel does the
same operations in the same order (no table per channel). The ONNX front end gives the exact
float32 slopes in `options["slopes"]` (one per channel) and the channel's IR axis in
`options["channel_axis"]`; the alpha tensor beside them is their int8 form, for tools that read the
IR as TFLite.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator
from ..overlap import elementwise_min_shift
from .base import ConstArray, ConstRef, KernelCall, reject, require_int8
from .float_requant import dequant_table


def lower_prelu_f32(graph: Graph, op: Operator) -> KernelCall:
    inp = graph.op_inputs(op)[0]
    out = graph.op_outputs(op)[0]
    if inp is None:
        raise reject(op, "the input tensor is missing")
    require_int8(op, inp, out)
    slopes = np.asarray(op.options.get("slopes", []), dtype=np.float32).reshape(-1)
    axis = int(op.options.get("channel_axis", -1))
    shape = tuple(inp.shape)
    if tuple(out.shape) != shape or not 0 <= axis < len(shape) or slopes.size != shape[axis]:
        raise reject(op, f"slopes {slopes.size} do not match axis {axis} of the input {list(shape)}")
    outer = int(np.prod(shape[:axis], dtype=np.int64))
    inner = int(np.prod(shape[axis + 1:], dtype=np.int64))
    return KernelCall(
        op=op, kernel="prelu_s8_f32", function="mcf_prelu_s8_f32", params_type="mcf_prelu_f32_params",
        params={"outer": outer, "channels": int(slopes.size), "inner": inner,
                "out_scale": float(np.float32(out.scale)), "out_zero_point": out.zero_point,
                "dequant": ConstRef("dequant"), "slope": ConstRef("slope")},
        args=[op.inputs[0], op.outputs[0]],
        consts=[ConstArray("dequant", "float", dequant_table(inp.scale, inp.zero_point)),
                ConstArray("slope", "float", slopes)],
        comment=", per-channel slopes, onnxruntime's float32 arithmetic",
        overlap={op.inputs[0]: elementwise_min_shift(out.size, 1, 1)})
