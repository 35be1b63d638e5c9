"""RELU, RELU6 and HARD_SWISH (int8).

- RELU requantizes from the input to the output scale, then clamps at the output's zero
  (TFLite Micro's ReluQuantized). When both tensors share their quantization the requantization
  is the identity and the op lowers to a plain clamp.
- RELU6 clamps the int8 input between its own quantized 0 and 6 with no rescaling at all (that is
  what TFLite Micro does: the output's quantization is not consulted).
- HARD_SWISH is a function of the int8 input alone, so the whole of TFLite Micro's int16
  fixed-point computation runs here, once per possible input value, into a 256-byte table.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator, Tensor
from ..overlap import elementwise_min_shift
from ..quant import (
    INT8_MAX,
    INT8_MIN,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    tflite_round,
)
from .activations_s16 import lower_relu6_s16, lower_relu_s16
from .base import ConstArray, ConstRef, KernelCall, lowering, reject, require_int8

_ALL_INT8 = range(INT8_MIN, INT8_MAX + 1)


def _unary_int8(graph: Graph, op: Operator) -> tuple[Tensor, Tensor]:
    ins = graph.op_inputs(op)
    outs = graph.op_outputs(op)
    if len(ins) != 1 or ins[0] is None or len(outs) != 1:
        raise reject(op, f"expected 1 input and 1 output, got {len(ins)} and {len(outs)}")
    inp, out = ins[0], outs[0]
    require_int8(op, inp, out)
    for t in (inp, out):
        assert t.quant is not None
        if t.quant.per_channel:
            raise reject(op, f"tensor '{t.name}' is quantized per channel; only per-tensor is supported")
    if inp.size != out.size:
        raise reject(op, f"input has {inp.size} elements but output has {out.size}")
    return inp, out


def _in_place(op: Operator, size: int) -> dict[int, int]:
    """activations_s8.c reads input[i], then writes output[i], i ascending: in place (overlap.py)."""
    return {op.inputs[0]: elementwise_min_shift(size, 1, 1)}


def _clamp_call(op: Operator, size: int, lo: int, hi: int, comment: str = "") -> KernelCall:
    return KernelCall(op=op, kernel="activations_s8", function="mcf_clamp_s8", params_type="mcf_clamp_params",
                      params={"size": size, "lo": lo, "hi": hi}, args=[op.inputs[0], op.outputs[0]],
                      comment=comment, overlap=_in_place(op, size))


# ---- RELU ---------------------------------------------------------------------------------

def relu_params(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> tuple[int, int, int, int]:
    """(multiplier, shift, act_min, act_max) as TFLite Micro's CalculateReluOpData for int8.

    The scale ratio is taken in double (the reference interpreter's results differ from a float32
    ratio on some scale pairs, and match this); the lower clamp is the output's quantized 0
    (roundf(0 / scale) is 0), the upper one 127.
    """
    real = in_scale / out_scale
    mult, shift = quantize_multiplier(real)
    return mult, shift, max(INT8_MIN, out_zp), INT8_MAX


@lowering("RELU")
def lower_relu(graph: Graph, op: Operator) -> KernelCall:
    if graph.tensors[op.inputs[0]].dtype == "int16":  # 16x8 (activations_s16.py)
        return lower_relu_s16(graph, op)
    inp, out = _unary_int8(graph, op)
    mult, shift, act_min, act_max = relu_params(inp.scale, inp.zero_point, out.scale, out.zero_point)
    table = [min(act_max, max(act_min, out.zero_point + multiply_by_quantized_multiplier(x - inp.zero_point,
                                                                                           mult, shift)))
             for x in _ALL_INT8]
    lo, hi = table[0], table[-1]
    if table == [min(hi, max(lo, x)) for x in _ALL_INT8]:
        # Same quantization on both sides: the requantization is the identity, only the clamp is left.
        return _clamp_call(op, out.size, lo, hi, " (same quantization in and out: a clamp)")
    return KernelCall(
        op=op, kernel="activations_s8", function="mcf_relu_s8", params_type="mcf_relu_params",
        params={"size": out.size, "input_offset": -inp.zero_point, "multiplier": mult, "shift": shift,
                "output_offset": out.zero_point, "act_min": act_min, "act_max": act_max},
        args=[op.inputs[0], op.outputs[0]], overlap=_in_place(op, out.size),
    )


# ---- RELU6 --------------------------------------------------------------------------------

def relu6_bounds(in_scale: float, in_zp: int) -> tuple[int, int]:
    """(zero, six) on the input's scale, as TFLite Micro's Relu6Prepare (float32 division)."""
    six = tflite_round(float(np.float32(6.0) / np.float32(in_scale))) + in_zp
    return in_zp, min(INT8_MAX, max(INT8_MIN, six))


@lowering("RELU6")
def lower_relu6(graph: Graph, op: Operator) -> KernelCall:
    if graph.tensors[op.inputs[0]].dtype == "int16":  # 16x8 (activations_s16.py)
        return lower_relu6_s16(graph, op)
    inp, out = _unary_int8(graph, op)
    lo, hi = relu6_bounds(inp.scale, inp.zero_point)
    return _clamp_call(op, out.size, lo, hi)


# ---- HARD_SWISH ---------------------------------------------------------------------------

def _i16(v: int) -> int:
    """Wrap to int16, as storing an int into an int16_t does."""
    return ((v + 0x8000) & 0xFFFF) - 0x8000


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // b
    return q if a >= 0 else -q


def _sat_rounding_doubling_high_mul16(a: int, b: int) -> int:
    if a == b == -0x8000:
        return 0x7FFF
    ab = a * b
    return _i16(_trunc_div(ab + ((1 << 14) if ab >= 0 else 1 - (1 << 14)), 1 << 15))


def _sat_doubling_high_mul16(a: int, b: int) -> int:
    """Like the rounding version but truncating toward zero (no nudge)."""
    if a == b == -0x8000:
        return 0x7FFF
    return _i16(_trunc_div(a * b, 1 << 15))


def _rounding_divide_by_pot16(x: int, exponent: int) -> int:
    """gemmlowp's RoundingDivideByPOT on int16 values (mask and sums kept in int16)."""
    mask = _i16((1 << exponent) - 1)
    remainder = x & mask
    threshold = _i16((mask >> 1) + (1 if x < 0 else 0))
    return _i16((x >> exponent) + (1 if remainder > threshold else 0))


def _sat_left_shift16(x: int, amount: int) -> int:
    return max(-0x8000, min(0x7FFF, x * (1 << amount)))


def _downscale_to_int16(m: int) -> int:
    """DownScaleInt32ToInt16Multiplier: Q31 → Q15, rounding, saturating at the top."""
    if m >= (1 << 31) - 1 - (1 << 15):
        return 0x7FFF
    return (m + (1 << 15)) >> 16


def hard_swish_params(in_scale: float, out_scale: float) -> tuple[int, int, int, int]:
    """(output multiplier Q15, its exponent, reluish multiplier Q15, its exponent), as HardSwishPrepare.

    The ratios are taken in double: that is what the reference interpreter's results match (a
    float32 ratio, as in some TFLite sources, gives different tables for some scale pairs).
    """
    hires = in_scale / 128.0
    out_m32, out_exp = quantize_multiplier(hires / out_scale)
    rel_m32, rel_exp = quantize_multiplier(hires / (3.0 / 32768.0))
    return _downscale_to_int16(out_m32), out_exp, _downscale_to_int16(rel_m32), rel_exp


def hard_swish_value(x: int, in_zp: int, out_zp: int,
                     out_m: int, out_exp: int, rel_m: int, rel_exp: int) -> int:
    """TFLite Micro's reference int8 hard swish for one input value (int16 fixed point)."""
    value = _i16(x - in_zp)
    hires = _i16(value * 128)
    preshift_out = _sat_rounding_doubling_high_mul16(hires, out_m)
    # The reluish value: the input rescaled so that +-3 maps to +-1 (Q15), saturating.
    reluish = hires
    if rel_exp > 0:
        reluish = _sat_left_shift16(reluish, rel_exp - 1)
    reluish = _sat_rounding_doubling_high_mul16(reluish, rel_m)
    if rel_exp > 0:
        reluish = _sat_left_shift16(reluish, 1)
    if rel_exp < 0:
        reluish = _rounding_divide_by_pot16(reluish, -rel_exp)
    reluish = _i16((reluish + (1 << 15)) >> 1)  # [-1, 1] -> [0, 1]
    out = _sat_doubling_high_mul16(reluish, preshift_out)
    out = _rounding_divide_by_pot16(out, -out_exp)
    out = _i16(out + out_zp)
    return max(INT8_MIN, min(INT8_MAX, out))


def hard_swish_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    """int8[256] indexed by the input's byte pattern (0..127 then -128..-1)."""
    params = hard_swish_params(in_scale, out_scale)
    table = np.zeros(256, dtype=np.int8)
    for x in _ALL_INT8:
        table[x & 0xFF] = hard_swish_value(x, in_zp, out_zp, *params)
    return table


@lowering("HARD_SWISH")
def lower_hard_swish(graph: Graph, op: Operator) -> KernelCall:
    if op.inputs and graph.tensors[op.inputs[0]].dtype == "int16":
        raise reject(op, "int16 HARD_SWISH is not supported: TensorFlow Lite Micro's kernel takes float32 and "
                         "int8 only, so there is no behaviour to match")
    inp, out = _unary_int8(graph, op)
    _, out_exp, _, rel_exp = hard_swish_params(inp.scale, out.scale)
    if out_exp > 0:
        raise reject(op, f"output scale {out.scale:.6g} is too small for input scale {inp.scale:.6g} "
                         "(TFLite Micro requires input_scale / 128 / output_scale < 1)")
    if rel_exp > 30:
        raise reject(op, f"input scale {inp.scale:.6g} is too large for the int16 hard-swish arithmetic")
    table = hard_swish_table(inp.scale, inp.zero_point, out.scale, out.zero_point)
    return KernelCall(
        op=op, kernel="activations_s8", function="mcf_hard_swish_s8", params_type="mcf_hard_swish_params",
        params={"size": out.size, "table": ConstRef("table")},
        args=[op.inputs[0], op.outputs[0]],
        consts=[ConstArray("table", "int8_t", table)], overlap=_in_place(op, out.size),
    )
