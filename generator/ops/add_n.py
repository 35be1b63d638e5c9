"""ADD_N (int8): the sum of 2 to 8 tensors of one shape, all with the quantization of the first.

TFLite Micro's int8 ADD_N (reference AddN) rescales each offset input value like ADD does: shifted
left by 20 and multiplied by 1/2 (QuantizeMultiplierSmallerThanOneExp of scale / (2 * scale)),
sums them into a start value that is the rescaled value of the raw byte 0 (its loop adds that
once before the inputs), and requantizes the sum by 2 * scale / (2^20 * output scale), offset by
the output zero point, clamped to int8. The rescaling of an input depends on its byte only, so it
is a 256-entry table computed here (multipliers in double as its Prepare); the kernel adds table
entries and requantizes (runtime/kernels/add_n_s8.c).
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator
from ..quant import multiply_by_quantized_multiplier, quantize_multiplier
from .base import ConstArray, ConstRef, KernelCall, ParamValue, lowering, reject, require_int8

LEFT_SHIFT = 20  # TFLite's kAddNIntegerShift
MAX_INPUTS = 8  # MCF_ADD_N_MAX in add_n_s8.h


def _smaller_than_one(op: Operator, real: float, what: str) -> tuple[int, int]:
    if not 0.0 < real < 1.0:
        raise reject(op, f"the {what} multiplier {real:.6g} is outside (0, 1); TFLite Micro cannot run this "
                         "quantization either")
    return quantize_multiplier(real)


def add_n_constants(scale: float, zero_point: int, out_scale: float) -> tuple[np.ndarray, int, int, int]:
    """(table of the 256 rescaled bytes, start, output multiplier, output shift)."""
    twice = 2 * float(scale)
    m_in, s_in = quantize_multiplier(float(scale) / twice)
    table = np.zeros(256, dtype=np.int32)
    for q in range(-128, 128):
        table[q & 0xFF] = multiply_by_quantized_multiplier((q - zero_point) * (1 << LEFT_SHIFT), m_in, s_in)
    m_out, s_out = quantize_multiplier(twice / ((1 << LEFT_SHIFT) * float(out_scale)))
    return table, int(table[0]), m_out, s_out


@lowering("ADD_N")
def lower_add_n(graph: Graph, op: Operator) -> KernelCall:
    ins = graph.op_inputs(op)
    outs = graph.op_outputs(op)
    if not 2 <= len(ins) <= MAX_INPUTS or len(outs) != 1 or any(t is None for t in ins):
        raise reject(op, f"{len(ins)} inputs and {len(outs)} outputs; 2 to {MAX_INPUTS} inputs and 1 output are "
                         "supported")
    tensors = [t for t in ins if t is not None]
    out = outs[0]
    require_int8(op, *tensors, out)
    first = tensors[0]
    for t in tensors[1:]:
        if tuple(t.shape) != tuple(first.shape) or t.zero_point != first.zero_point or t.scale != first.scale:
            raise reject(op, f"input '{t.name}' differs from '{first.name}' in shape or quantization; TFLite Micro "
                             "requires them equal")
    if tuple(out.shape) != tuple(first.shape):
        raise reject(op, f"output {list(out.shape)} differs from the inputs' {list(first.shape)}")
    for t in (*tensors, out):
        assert t.quant is not None
        if t.quant.per_channel:
            raise reject(op, f"tensor '{t.name}' is quantized per channel; TFLite Micro's ADD_N takes per-tensor")
    _smaller_than_one(op, 0.5, "input")
    _smaller_than_one(op, 2 * float(first.scale) / ((1 << LEFT_SHIFT) * float(out.scale)), "output")
    table, start, mult, shift = add_n_constants(first.scale, first.zero_point, out.scale)
    params: dict[str, ParamValue] = {"count": out.size, "num_inputs": len(tensors), "scaled": ConstRef("scaled"),
                                     "start": start, "multiplier": mult, "shift": shift,
                                     "output_offset": out.zero_point}
    return KernelCall(op=op, kernel="add_n_s8", function=f"mcf_add_n_s8_{len(tensors)}",
                      params_type="mcf_add_n_params", params=params,
                      consts=[ConstArray("scaled", "int32_t", table)],
                      args=[*op.inputs, op.outputs[0]], comment=f", {len(tensors)} inputs")
