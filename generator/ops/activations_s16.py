"""RELU, RELU6 and LEAKY_RELU with int16 activations, reached from activations.py and
pointwise.py when the input is int16.

TFLite Micro's int16 RELU and RELU6 need zero points 0. RELU rescales by input/output scale and
clamps at 0 (a plain clamp when the rescaling is the identity); RELU6 clamps at the input's
quantized 0 and 6 without rescaling. LEAKY_RELU rescales each sign by its own multiplier.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator, Tensor
from ..overlap import elementwise_min_shift
from ..quant import quantize_multiplier, tflite_round
from .base import KernelCall, reject
from .fully_connected_s16 import INT16_MAX, INT16_MIN, require_int16


def _unary_s16(graph: Graph, op: Operator, zero_points_zero: bool) -> tuple[Tensor, Tensor]:
    ins, outs = graph.op_inputs(op), graph.op_outputs(op)
    if len(ins) != 1 or ins[0] is None or len(outs) != 1:
        raise reject(op, f"expected 1 input and 1 output, got {len(ins)} and {len(outs)}")
    inp, out = ins[0], outs[0]
    require_int16(op, inp, out)
    for t in (inp, out):
        assert t.quant is not None
        if t.quant.per_channel:
            raise reject(op, f"tensor '{t.name}' is quantized per channel; only per-tensor is supported")
        if zero_points_zero and t.zero_point != 0:
            raise reject(op, f"int16 tensor '{t.name}' has zero point {t.zero_point}; TFLite Micro needs 0")
    if inp.size != out.size:
        raise reject(op, f"input has {inp.size} elements but output has {out.size}")
    return inp, out


def _in_place(op: Operator, size: int) -> dict[int, int]:
    return {op.inputs[0]: elementwise_min_shift(size, 2, 2)}


def _clamp(op: Operator, size: int, lo: int, hi: int, comment: str) -> KernelCall:
    return KernelCall(op=op, kernel="activations_s16", function="mcf_clamp_s16", params_type="mcf_clamp_s16_params",
                      params={"size": size, "lo": lo, "hi": hi}, args=[op.inputs[0], op.outputs[0]],
                      comment=comment, overlap=_in_place(op, size))


def lower_relu_s16(graph: Graph, op: Operator) -> KernelCall:
    inp, out = _unary_s16(graph, op, zero_points_zero=True)
    mult, shift = quantize_multiplier(inp.scale / out.scale)  # double, as for int8 (activations.py)
    if (mult, shift) == (1 << 30, 1):  # the identity on every int16 value
        return _clamp(op, out.size, 0, INT16_MAX, ", int16 (same scale in and out: a clamp)")
    return KernelCall(op=op, kernel="activations_s16", function="mcf_relu_s16", params_type="mcf_relu_s16_params",
                      params={"size": out.size, "multiplier": mult, "shift": shift, "act_min": 0,
                              "act_max": INT16_MAX},
                      args=[op.inputs[0], op.outputs[0]], comment=", int16", overlap=_in_place(op, out.size))


def lower_relu6_s16(graph: Graph, op: Operator) -> KernelCall:
    inp, out = _unary_s16(graph, op, zero_points_zero=True)
    six = tflite_round(float(np.float32(6.0) / np.float32(inp.scale)))  # float32, as TFLite Micro
    return _clamp(op, out.size, 0, min(INT16_MAX, max(INT16_MIN, six)), ", int16")


def lower_leaky_relu_s16(graph: Graph, op: Operator) -> KernelCall:
    inp, out = _unary_s16(graph, op, zero_points_zero=False)
    alpha = float(op.options.get("alpha", 0.2))
    if not np.isfinite(alpha):
        raise reject(op, f"alpha {alpha} is not finite")
    f32 = np.float32
    m_alpha, s_alpha = quantize_multiplier(float(f32(inp.scale) * f32(alpha) / f32(out.scale)))  # float32 ratios
    m_id, s_id = quantize_multiplier(float(f32(inp.scale) / f32(out.scale)))
    return KernelCall(
        op=op, kernel="activations_s16", function="mcf_leaky_relu_s16", params_type="mcf_leaky_relu_s16_params",
        params={"size": out.size, "input_zero_point": inp.zero_point, "output_zero_point": out.zero_point,
                "identity_multiplier": m_id, "identity_shift": s_id, "alpha_multiplier": abs(m_alpha),
                "alpha_shift": s_alpha, "negate_alpha": int(m_alpha < 0)},
        args=[op.inputs[0], op.outputs[0]], comment=f", int16, alpha {alpha:g}", overlap=_in_place(op, out.size))
