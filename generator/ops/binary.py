"""MAXIMUM, MINIMUM, PRELU, SQUARED_DIFFERENCE and DIV (int8, numpy-style broadcasting).

Broadcasting is resolved here into the merged loops of elementwise.broadcast_loops; the kernels in
binary_s8.c walk them. The arithmetic is TFLite Micro's:

- MAXIMUM / MINIMUM compare the stored int8 values; TFLite does not rescale, whatever the
  quantization of the three tensors, so neither does this.
- PRELU: (x - zp_in) >= 0 is rescaled by in_scale / out_scale, otherwise (x - zp_in) times
  (alpha - zp_alpha) by in_scale * alpha_scale / out_scale (both ratios in double).
- SQUARED_DIFFERENCE: each input, offset and shifted left by 7, is scaled onto twice the larger
  input scale (multipliers below one, derived in double), the difference is squared and
  requantized by (2 * max_scale)^2 / (2^14 * out_scale) (the denominator a float32 product, as in
  TFLite Micro's Prepare); the output clamps to the int8 range.
- DIV: TFLite Micro divides with a fixed-point reciprocal of the divisor (Newton-Raphson in Q2),
  which depends on the divisor's byte only: the compiler tabulates it (with its exponent and sign)
  for all 256 divisor values; the kernel normalises the dividend, multiplies and requantizes by
  input1_scale / (input2_scale * output_scale). That ratio is taken in double: the interpreter's
  results match it (a float32 ratio changes the rounding of some near-ties). A divisor equal to
  its zero point divides by zero in TFLite Micro; the table reproduces what its arithmetic gives.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator, Tensor
from ..quant import INT8_MAX, INT8_MIN, activation_range, quantize_multiplier
from . import fixedpoint as fp
from .base import ConstArray, ConstRef, KernelCall, lowering, reject, require_int8
from .elementwise import broadcast_operands, elementwise_overlap
from .minmax_s16 import lower_minmax_s16
from .prelu_f32 import lower_prelu_f32
from .signal_int32 import lower_binary_i32
from .squared_difference_s16 import lower_squared_difference_s16


def _int32(graph: Graph, op: Operator) -> bool:
    return bool(op.inputs) and op.inputs[0] >= 0 and graph.tensors[op.inputs[0]].dtype == "int32"

MAX_RANK = 5  # TFLite Micro's broadcasting loops take at most five dimensions
SQUARED_DIFFERENCE_LEFT_SHIFT = 7


def prepare_broadcast(op: Operator, graph: Graph) -> tuple[Tensor, Tensor, Tensor, dict, list[ConstArray]]:
    """Checks two int8 per-tensor inputs and one output of their broadcast shape; returns them with
    the loop parameters (ndims, dims, stride1, stride2) and their constant arrays."""
    return broadcast_operands(op, graph, require_int8, max_rank=MAX_RANK)


def _call(graph: Graph, op: Operator, function: str, params_type: str, params: dict,
          consts: list[ConstArray]) -> KernelCall:
    return KernelCall(op=op, kernel="binary_s8", function=function, params_type=params_type, params=params,
                      args=[op.inputs[0], op.inputs[1], op.outputs[0]], consts=consts,
                      # binary_s8.c computes out[i] from the inputs' elements of position i, in order
                      overlap=elementwise_overlap(op, graph))


@lowering("MAXIMUM", "MINIMUM")
def lower_minmax(graph: Graph, op: Operator) -> KernelCall:
    if _int32(graph, op):  # plain int32 (signal_int32.py)
        return lower_binary_i32(graph, op)
    if op.inputs and op.inputs[0] >= 0 and graph.tensors[op.inputs[0]].dtype == "int16":  # 16x8 models
        return lower_minmax_s16(graph, op)
    _, _, _, params, consts = prepare_broadcast(op, graph)
    function = "mcf_maximum_s8" if op.opcode == "MAXIMUM" else "mcf_minimum_s8"
    return _call(graph, op, function, "mcf_minmax_params", params, consts)


def prelu_multipliers(in_scale: float, alpha_scale: float, out_scale: float) -> tuple[int, int, int, int]:
    m_pos, s_pos = quantize_multiplier(float(in_scale) / float(out_scale))
    m_neg, s_neg = quantize_multiplier(float(in_scale) * float(alpha_scale) / float(out_scale))
    return m_pos, s_pos, m_neg, s_neg


@lowering("PRELU")
def lower_prelu(graph: Graph, op: Operator) -> KernelCall:
    if op.options.get("requant") == "float32":  # an ONNX PRelu with per-channel slopes (prelu_f32.py)
        return lower_prelu_f32(graph, op)
    inp, alpha, out, loops, consts = prepare_broadcast(op, graph)
    m_pos, s_pos, m_neg, s_neg = prelu_multipliers(inp.scale, alpha.scale, out.scale)
    params = {"input_offset": -inp.zero_point, "alpha_offset": -alpha.zero_point,
              "output_offset": out.zero_point, "multiplier_pos": m_pos, "shift_pos": s_pos,
              "multiplier_neg": m_neg, "shift_neg": s_neg, **loops}
    return _call(graph, op, "mcf_prelu_s8", "mcf_prelu_params", params, consts)


def _smaller_than_one(op: Operator, real: float, what: str) -> tuple[int, int]:
    if not 0.0 < real < 1.0:
        raise reject(op, f"the {what} multiplier {real:.6g} is outside (0, 1); "
                         "TFLite Micro cannot run this quantization either")
    return quantize_multiplier(real)


def squared_difference_multipliers(op: Operator, s1: float, s2: float, so: float
                                   ) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    twice = 2.0 * float(max(np.float32(s1), np.float32(s2)))
    denominator = float(np.float32(1 << (2 * SQUARED_DIFFERENCE_LEFT_SHIFT)) * np.float32(so))
    return (_smaller_than_one(op, float(s1) / twice, "input1"), _smaller_than_one(op, float(s2) / twice, "input2"),
            quantize_multiplier(twice * twice / denominator))


@lowering("SQUARED_DIFFERENCE")
def lower_squared_difference(graph: Graph, op: Operator) -> KernelCall:
    if op.inputs and op.inputs[0] >= 0 and graph.tensors[op.inputs[0]].dtype == "int16":  # 16x8 models
        return lower_squared_difference_s16(graph, op)
    a, b, out, loops, consts = prepare_broadcast(op, graph)
    (m1, sh1), (m2, sh2), (mo, sho) = squared_difference_multipliers(op, a.scale, b.scale, out.scale)
    params = {"input1_offset": -a.zero_point, "input2_offset": -b.zero_point,
              "left_shift": SQUARED_DIFFERENCE_LEFT_SHIFT,
              "input1_multiplier": m1, "input1_shift": sh1, "input2_multiplier": m2, "input2_shift": sh2,
              "output_multiplier": mo, "output_shift": sho, "output_offset": out.zero_point,
              "act_min": INT8_MIN, "act_max": INT8_MAX, **loops}
    return _call(graph, op, "mcf_squared_difference_s8", "mcf_squared_difference_params", params, consts)


def div_tables(in2_zp: int, output_shift: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(reciprocal int32[256], exponent int8[256], negate uint8[256]) indexed by the divisor's byte:
    TFLite's GetReciprocal(|v2|, 31) (the normalised Q0 reciprocal and its bit count) and the part
    of the final right shift that does not depend on the dividend."""
    recip = np.zeros(256, np.int32)
    exponent = np.zeros(256, np.int8)
    negate = np.zeros(256, np.uint8)
    for x in range(INT8_MIN, INT8_MAX + 1):
        v2 = x - in2_zp
        k = x & 0xFF
        negate[k] = v2 < 0
        v2 = abs(v2)
        lz = 32 - v2.bit_length()
        bits_over_unit = 31 - lz
        normalised = fp._wrap(((v2 << (lz & 31)) & 0xFFFFFFFF) - (1 << 31))
        recip[k] = fp.one_over_one_plus_x(normalised)
        exponent[k] = bits_over_unit - output_shift
    return recip, exponent, negate


@lowering("DIV")
def lower_div(graph: Graph, op: Operator) -> KernelCall:
    if _int32(graph, op):  # plain int32 (signal_int32.py)
        return lower_binary_i32(graph, op)
    a, b, out, loops, consts = prepare_broadcast(op, graph)
    act = op.options.get("fused_activation_function", "NONE")
    try:
        act_min, act_max = activation_range(act, out.scale, out.zero_point)
    except ValueError:
        raise reject(op, f"fused activation {act} is not supported") from None
    mult, shift = quantize_multiplier(float(a.scale) / (float(b.scale) * float(out.scale)))
    if not -40 <= shift <= 40:
        raise reject(op, f"the output multiplier's exponent {shift} is out of range")
    recip, exponent, negate = div_tables(b.zero_point, shift)
    params = {"input1_offset": -a.zero_point, "output_multiplier": mult, "output_offset": out.zero_point,
              "act_min": act_min, "act_max": act_max, "reciprocal": ConstRef("reciprocal"),
              "exponent": ConstRef("exponent"), "negate": ConstRef("negate"), **loops}
    consts = [*consts, ConstArray("reciprocal", "int32_t", recip), ConstArray("exponent", "int8_t", exponent),
              ConstArray("negate", "uint8_t", negate)]
    return _call(graph, op, "mcf_div_s8", "mcf_div_params", params, consts)
