"""CUMSUM (int8): running sums along one constant axis, forward or reversed, inclusive or exclusive.

TFLite Micro's int8 kernel works like its ADD: every value, offset by the input zero point, is
shifted left by 20 and scaled by input_scale / (2 * input_scale), a multiplier of exactly one half,
so it enters the int32 sum as (x - zp) << 19; the sum is requantized by 2 * input_scale /
(2^20 * output_scale) (TFLite's smaller-than-one multiplier) and the output zero point added, with
no fused activation. Its sum does not start from 0 but from the scaled input offset, (-zp) << 19;
that start is kept, so the results match. The sum wraps modulo 2^32 as TFLite Micro's int32 does.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator
from ..quant import multiply_by_quantized_multiplier, quantize_multiplier
from .base import KernelCall, lowering, reject, require_int8

LEFT_SHIFT = 20  # TFLite Micro's kCumSumIntegerShift


def _smaller_than_one(op: Operator, real: float, what: str) -> tuple[int, int]:
    mult, shift = quantize_multiplier(real)
    if not 0.0 < real < 1.0 or shift > 0:
        raise reject(op, f"the {what} multiplier {real:.6g} is not in (0, 1); TFLite Micro's CUMSUM needs it there")
    return mult, shift


@lowering("CUMSUM")
def lower_cumsum(graph: Graph, op: Operator) -> KernelCall:
    if len(op.inputs) != 2 or len(op.outputs) != 1:
        raise reject(op, f"expected 2 inputs (data, axis) and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    inp, axis_t = graph.op_inputs(op)
    out = graph.op_outputs(op)[0]
    if inp is None or axis_t is None:
        raise reject(op, "the data and axis inputs are both required")
    if inp.dtype == "float32":
        raise reject(op, "float32 CUMSUM is not supported (TFLite Micro's int8 CUMSUM is)")
    if inp.dtype != "int8":
        raise reject(op, f"tensor '{inp.name}' is {inp.dtype}; TFLite Micro's CUMSUM takes int8 and float32 only")
    require_int8(op, inp, out)
    if axis_t.dtype != "int32" or axis_t.data is None or axis_t.size != 1:
        raise reject(op, "the axis must be one constant int32 value")
    rank = len(inp.shape)
    if rank < 1:
        raise reject(op, "the input must have at least one dimension")
    if tuple(out.shape) != tuple(inp.shape):
        raise reject(op, f"output shape {list(out.shape)} differs from the input's {list(inp.shape)}")
    if inp.size == 0:
        raise reject(op, "empty tensors are not supported")
    if inp.quant is None or out.quant is None or inp.quant.per_channel or out.quant.per_channel:
        raise reject(op, "input and output must be quantized per tensor")
    a = int(np.asarray(axis_t.data).reshape(-1)[0])
    axis = a + rank if a < 0 else a
    if not 0 <= axis < rank:
        raise reject(op, f"axis {a} is out of range for a {rank}-D input")
    s_in, s_out = float(inp.scale), float(out.scale)
    in_mult, in_shift = _smaller_than_one(op, s_in / (2.0 * s_in), "input")
    out_mult, out_shift = _smaller_than_one(op, 2.0 * s_in / ((1 << LEFT_SHIFT) * s_out), "output")
    in_offset = -int(inp.zero_point)

    def scaled(v: int) -> int:  # TFLite Micro's scaling of one offset value
        return multiply_by_quantized_multiplier(v * (1 << LEFT_SHIFT), in_mult, in_shift)

    # The scaling is a multiplication by a constant factor (2^19) for every possible offset value.
    factor = scaled(1)
    if any(scaled(v) != v * factor for v in range(-255, 256)):
        raise reject(op, "the input scaling is not a constant factor")  # not reached: the multiplier is 1/2
    outer = int(np.prod(inp.shape[:axis], dtype=np.int64))
    inner = int(np.prod(inp.shape[axis + 1:], dtype=np.int64))
    depth = int(inp.shape[axis])
    reverse = bool(op.options.get("reverse", False))
    exclusive = bool(op.options.get("exclusive", False))
    return KernelCall(
        op=op,
        kernel="cumsum_s8",
        function="mcf_cumsum_s8",
        params_type="mcf_cumsum_params",
        params={"outer": outer, "depth": depth, "inner": inner,
                "first": (depth - 1) * inner if reverse else 0, "step": -inner if reverse else inner,
                "exclusive": int(exclusive), "input_offset": in_offset, "input_factor": factor,
                "initial": in_offset * factor, "output_multiplier": out_mult, "output_shift": out_shift,
                "output_offset": int(out.zero_point)},
        args=[op.inputs[0], op.outputs[0]],
        comment=f", along axis {axis} ({depth} values){', reversed' if reverse else ''}"
                f"{', exclusive' if exclusive else ''}",
    )
