"""ADD, SUB and MUL with int16 activations (16x8), reached from elementwise.py, which checks the
operands and resolves the broadcast loops for both types.

ADD and SUB follow TFLite Micro's general int16 path: the int8 arithmetic with a headroom shift of
15 instead of 20 (its power-of-two-scale variant is not what the interpreter runs). MUL multiplies
the raw values (zero points must be 0 for int16, as TFLite Micro checks) and requantizes once.
"""

from __future__ import annotations

from ..ir import Graph, Operator, Tensor
from ..overlap import elementwise_min_shift
from ..quant import quantize_multiplier
from .base import ConstArray, KernelCall, reject

INT_RANGE = {"int8": (-128, 127), "int16": (-32768, 32767)}
ADD_LEFT_SHIFT_S16 = 15


def _overlap(graph: Graph, op: Operator) -> dict[int, int]:
    """Inputs of the output's size may be overwritten in place (same raster walk as add_s8)."""
    out = graph.op_outputs(op)[0]
    return {t: elementwise_min_shift(out.size, 2, 2) for t in op.inputs[:2] if graph.tensors[t].size == out.size}


def _below_one(op: Operator, real: float, what: str) -> tuple[int, int]:
    if not 0.0 < real < 1.0:
        raise reject(op, f"the {what} multiplier {real:.6g} is outside (0, 1); "
                         "TFLite Micro cannot run this quantization either")
    return quantize_multiplier(real)


def lower_add_sub_s16(graph: Graph, op: Operator, a: Tensor, b: Tensor, out: Tensor, loops: dict,
                      consts: list[ConstArray]) -> KernelCall:
    twice = 2.0 * max(a.scale, b.scale)  # double, as TFLite Micro's ADD Prepare
    m1, sh1 = _below_one(op, a.scale / twice, "input1")
    m2, sh2 = _below_one(op, b.scale / twice, "input2")
    mo, sho = _below_one(op, twice / ((1 << ADD_LEFT_SHIFT_S16) * out.scale), "output")
    params = {
        "input1_offset": -a.zero_point, "input2_offset": -b.zero_point, "left_shift": ADD_LEFT_SHIFT_S16,
        "input1_multiplier": m1, "input1_shift": sh1, "input2_multiplier": m2, "input2_shift": sh2,
        "output_multiplier": mo, "output_shift": sho, "output_offset": out.zero_point, **loops,
    }
    return KernelCall(op=op, kernel="elementwise_s16", function="mcf_add_s16" if op.opcode == "ADD" else "mcf_sub_s16",
                      params_type="mcf_add_s16_params", params=params,
                      args=[op.inputs[0], op.inputs[1], op.outputs[0]], consts=consts,
                      overlap=_overlap(graph, op), comment=", int16")


def lower_mul_s16(graph: Graph, op: Operator, a: Tensor, b: Tensor, out: Tensor, loops: dict,
                  consts: list[ConstArray]) -> KernelCall:
    for t in (a, b, out):
        if t.zero_point != 0:
            raise reject(op, f"int16 tensor '{t.name}' has zero point {t.zero_point}; TFLite Micro's int16 MUL "
                             "needs 0")
    mult, shift = quantize_multiplier(a.scale * b.scale / out.scale)  # double, as TFLite Micro
    params = {"output_multiplier": mult, "output_shift": shift, "act_min": loops["act_min"],
              "act_max": loops["act_max"], "ndims": loops["ndims"], "dims": loops["dims"],
              "stride1": loops["stride1"], "stride2": loops["stride2"]}
    return KernelCall(op=op, kernel="elementwise_s16", function="mcf_mul_s16", params_type="mcf_mul_s16_params",
                      params=params, args=[op.inputs[0], op.inputs[1], op.outputs[0]], consts=consts,
                      overlap=_overlap(graph, op), comment=", int16")
