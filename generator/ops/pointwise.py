"""LEAKY_RELU, ABS and RSQRT (int8 -> int8) as 256-entry lookup tables; NEG and EXP refused.

Each of these is, in TFLite Micro, a function of one int8 value and the two tensors'
quantization, so the compiler evaluates TFLite Micro's integer arithmetic (the same multipliers,
derived in the same float/double precision, the same rounding at every step) once per possible
input value and the kernel is the table lookup of nonlinear_s8.c.

- LEAKY_RELU: (x - zp_in) rescaled by in_scale / out_scale when >= 0, by in_scale * alpha /
  out_scale otherwise (a negative alpha by its magnitude, then negated); both ratios in float32.
- ABS: |x - zp_in|, rescaled by in_scale / out_scale (float32 ratio) unless the scales are equal.
- RSQRT: TFLite Micro's fixed-point inverse square root of x - zp_in (a Newton-Raphson iteration
  in Q3), rescaled by 1 / (sqrt(in_scale) * out_scale) (float32 operations, then double). TFLite
  Micro stops with an error on inputs below the zero point; those table entries hold what its
  arithmetic gives for an input of 0 or 1 (the largest output), and inputs equal to the zero point
  give 127 as TFLite Micro does.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator, Tensor
from ..overlap import elementwise_min_shift
from ..quant import INT8_MAX, INT8_MIN, multiply_by_quantized_multiplier, quantize_multiplier
from . import fixedpoint as fp
from .abs_s16 import lower_abs_s16
from .activations_s16 import lower_leaky_relu_s16
from .base import ConstArray, ConstRef, KernelCall, lowering, reject, require_int8

_ALL_INT8 = range(INT8_MIN, INT8_MAX + 1)


def _clamp8(v: int) -> int:
    return min(INT8_MAX, max(INT8_MIN, v))


def _unary(graph: Graph, op: Operator) -> tuple[Tensor, Tensor]:
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


def _table_call(op: Operator, size: int, table: list[int], what: str) -> KernelCall:
    values = np.array([0] * 256, dtype=np.int8)
    for x, y in zip(_ALL_INT8, table, strict=True):
        values[x & 0xFF] = y
    return KernelCall(
        op=op, kernel="nonlinear_s8", function="mcf_lut_s8", params_type="mcf_lut_params",
        params={"size": size, "table": ConstRef("table")},
        args=[op.inputs[0], op.outputs[0]],
        consts=[ConstArray("table", "int8_t", values)],
        comment=f", {what} by 256-entry table",
        # nonlinear_s8.c reads input[i], then writes output[i], i ascending (overlap.py)
        overlap={op.inputs[0]: elementwise_min_shift(size, 1, 1)},
    )


def _f32(x: float) -> np.float32:
    return np.float32(x)


# ---- LEAKY_RELU ---------------------------------------------------------------------------

def leaky_relu_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int, alpha: float) -> list[int]:
    """TFLite Micro's int8 LEAKY_RELU for every input value (-128 .. 127)."""
    alpha_real = float(_f32(in_scale) * _f32(alpha) / _f32(out_scale))  # float32, as its Prepare
    identity_real = float(_f32(in_scale) / _f32(out_scale))
    m_alpha, s_alpha = quantize_multiplier(alpha_real)
    m_id, s_id = quantize_multiplier(identity_real)
    negative = m_alpha < 0
    m_alpha = -m_alpha if negative else m_alpha
    table = []
    for x in _ALL_INT8:
        v = x - in_zp
        if v >= 0:
            y = multiply_by_quantized_multiplier(v, m_id, s_id)
        else:
            y = multiply_by_quantized_multiplier(v, m_alpha, s_alpha)
            y = -y if negative else y
        table.append(_clamp8(out_zp + y))
    return table


@lowering("LEAKY_RELU")
def lower_leaky_relu(graph: Graph, op: Operator) -> KernelCall:
    if graph.tensors[op.inputs[0]].dtype == "int16":  # 16x8 (activations_s16.py)
        return lower_leaky_relu_s16(graph, op)
    inp, out = _unary(graph, op)
    alpha = float(op.options.get("alpha", 0.2))
    if not np.isfinite(alpha):
        raise reject(op, f"alpha {alpha} is not finite")
    table = leaky_relu_table(inp.scale, inp.zero_point, out.scale, out.zero_point, alpha)
    return _table_call(op, out.size, table, f"leaky relu (alpha {alpha:g})")


# ---- ABS ----------------------------------------------------------------------------------

def abs_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> list[int]:
    rescale = _f32(in_scale) != _f32(out_scale)
    mult, shift = quantize_multiplier(float(_f32(in_scale) / _f32(out_scale)))
    table = []
    for x in _ALL_INT8:
        v = abs(x - in_zp)
        y = multiply_by_quantized_multiplier(v, mult, shift) if rescale else v
        table.append(_clamp8(y + out_zp))
    return table


@lowering("ABS")
def lower_abs(graph: Graph, op: Operator) -> KernelCall:
    if op.inputs and op.inputs[0] >= 0 and graph.tensors[op.inputs[0]].dtype == "int16":  # 16x8 models
        return lower_abs_s16(graph, op)
    inp, out = _unary(graph, op)
    return _table_call(op, out.size, abs_table(inp.scale, inp.zero_point, out.scale, out.zero_point), "abs")


# ---- RSQRT --------------------------------------------------------------------------------

def inv_sqrt_multiplier(value: int) -> tuple[int, int]:
    """(Q31 multiplier, left shift) of 1 / sqrt(value) for an integer value, as TFLite's
    GetInvSqrtQuantizedMultiplierExp with its reverse shift (-1) applied."""
    if value <= 1:
        return fp.INT32_MAX, 0
    shift = 11
    while value >= (1 << 29):
        value //= 4
        shift += 1
    pairs = ((32 - value.bit_length()) - 1) // 2 - 1
    shift -= pairs
    value <<= 2 * pairs
    half_input = fp.rounding_divide_by_pot(value >> 1, 1)  # Q3
    half_three = (1 << 28) + (1 << 27)  # 1.5 in Q3
    x = 1 << 28  # 1.0 in Q3
    for _ in range(5):
        x3 = fp.sat_shift_left(fp.mul(fp.mul(x, x), x), 6)  # Q9 -> Q3
        x = fp.sat_shift_left(fp._wrap(fp.mul(half_three, x) - fp.mul(half_input, x3)), 3)  # Q6 -> Q3
    x = fp.mul(x, 1518500250)  # * sqrt(2) / 2
    if shift < 0:
        x = fp._wrap(x << -shift)
        shift = 0
    return x, -shift


RSQRT_SHIFT = 20  # TFLite Micro keeps 1 / sqrt(v) as an integer scaled by 2^20


def rsqrt_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> list[int]:
    real = 1.0 / float(np.sqrt(_f32(in_scale)) * _f32(out_scale))
    mult, shift = quantize_multiplier(real)
    table = []
    for x in _ALL_INT8:
        v = x - in_zp
        if v == 0:
            table.append(INT8_MAX)
            continue
        inv_m, inv_s = inv_sqrt_multiplier(v)
        data = multiply_by_quantized_multiplier(1, inv_m, inv_s + RSQRT_SHIFT)
        table.append(_clamp8(multiply_by_quantized_multiplier(data, mult, shift - RSQRT_SHIFT) + out_zp))
    return table


@lowering("RSQRT")
def lower_rsqrt(graph: Graph, op: Operator) -> KernelCall:
    inp, out = _unary(graph, op)
    table = rsqrt_table(inp.scale, inp.zero_point, out.scale, out.zero_point)
    return _table_call(op, out.size, table, "rsqrt")


# ---- ops TFLite Micro computes in float only ------------------------------------------------

@lowering("NEG", "EXP")
def lower_float_only(graph: Graph, op: Operator) -> KernelCall:
    raise reject(op, f"TFLite Micro has no int8 kernel for {op.opcode} (float32 only), "
                     "so there is nothing to be bit-exact with")
