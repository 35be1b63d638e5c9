"""FULLY_CONNECTED with 16x8 quantization: int16 activations, int8 weights (per-tensor or
per-channel, symmetric), an int64 bias (TFLite Micro's 64-bit sum and rescaling) or an int32 one
(its 32-bit sum). Reached from fully_connected.py when the input is int16."""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator, Tensor
from ..quant import activation_range, quantize_multipliers
from .base import ConstArray, ConstRef, FastOr, KernelCall, reject

INT16_MIN, INT16_MAX = -32768, 32767


def require_int16(op: Operator, *tensors: Tensor | None) -> None:
    for t in tensors:
        if t is not None and t.dtype != "int16":
            raise reject(op, f"tensor '{t.name}' is {t.dtype}; this 16x8 operator takes int16 here")
        if t is not None and t.quant is None:
            raise reject(op, f"tensor '{t.name}' has no quantization parameters")


def reduced_multipliers(mult: np.ndarray, shift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TFLite's 64-bit MultiplyByQuantizedMultiplier: the Q31 multiplier rounded to 16 bits
    (saturating at 0x7FFF) and the total right shift 15 - shift."""
    m = mult.astype(np.int64)
    reduced = np.where(m < 0x7FFF0000, (m + (1 << 15)) >> 16, 0x7FFF)
    return reduced.astype(np.int32), (15 - shift.astype(np.int64)).astype(np.int32)


def fc_s16_fast_layout(w: np.ndarray) -> np.ndarray:
    """[units, depth] int8 -> the fast paths' layout (fully_connected_s16.c): units in blocks of four
    (the last padded with zero units), inputs in groups of four (the last padded with zeros); per
    block and group, four bytes per unit in the order w0, w2, w1, w3."""
    units, depth = w.shape
    u4, g4 = (units + 3) // 4, (depth + 3) // 4
    padded = np.zeros((u4 * 4, g4 * 4), dtype=np.int8)
    padded[:units, :depth] = w
    blocks = padded.reshape(u4, 4, g4, 4)[:, :, :, [0, 2, 1, 3]]  # [block, unit, group, byte]
    return np.ascontiguousarray(blocks.transpose(0, 2, 1, 3)).reshape(-1)


def int16_activation_range(op: Operator, out: Tensor) -> tuple[int, int]:
    act = op.options.get("fused_activation_function", "NONE")
    try:
        return activation_range(act, out.scale, out.zero_point, INT16_MIN, INT16_MAX)
    except ValueError:
        raise reject(op, f"fused activation {act} is not supported") from None


def lower_fully_connected_s16(graph: Graph, op: Operator) -> KernelCall:
    inp, weights, bias = [*graph.op_inputs(op), None][:3]
    out = graph.op_outputs(op)[0]
    assert inp is not None and weights is not None
    require_int16(op, inp, out)
    if weights.dtype != "int8" or weights.quant is None:
        raise reject(op, f"weights '{weights.name}' are {weights.dtype}; 16x8 takes quantized int8 weights")
    if weights.data is None:
        raise reject(op, "weights must be constant")
    if len(weights.shape) != 2:
        raise reject(op, f"weights must be 2-D [outputs, depth], got {list(weights.shape)}")
    if op.options.get("weights_format", 0) != 0:
        raise reject(op, "only the default weights format is supported")
    if any(z != 0 for z in weights.quant.zero_point):
        raise reject(op, "int8 weights must be symmetric (zero point 0)")
    units, depth = weights.shape
    if inp.size % depth:
        raise reject(op, f"input size {inp.size} is not a multiple of the weights depth {depth}")
    batches = inp.size // depth
    if out.size != batches * units:
        raise reject(op, f"output has {out.size} elements, expected {batches * units}")
    if bias is not None and bias.data is None:
        raise reject(op, "bias must be constant")
    if bias is not None and bias.dtype not in ("int64", "int32"):
        raise reject(op, f"bias must be int64 (or int32), got {bias.dtype}")
    # TFLite Micro sums in 64 bits unless the bias is int32 (or absent and declared int32).
    wide = bias is None or bias.dtype == "int64"
    b = bias.data.astype(np.int64) if bias is not None and bias.data is not None else np.zeros(units, np.int64)
    w = weights.data.astype(np.int64)
    folded = b - inp.zero_point * w.sum(axis=1)  # sum(w * (x - zx)) = sum(w * x) - zx * sum(w)

    scales = np.array(weights.quant.scale, dtype=np.float64)
    mult, shift = quantize_multipliers(np.float64(inp.scale) * scales / np.float64(out.scale))
    if wide:
        if np.any(shift > 7) or np.any(shift < -31):
            raise reject(op, "the output rescaling is outside TFLite Micro's 64-bit range (shift -31..7)")
        mult, shift = reduced_multipliers(mult, shift)
    act_min, act_max = int16_activation_range(op, out)
    return KernelCall(
        op=op,
        kernel="fully_connected_s16",
        function="mcf_fully_connected_s16",
        params_type="mcf_fc_s16_params",
        params={
            "batches": batches, "depth": depth, "units": units, "output_offset": out.zero_point,
            "act_min": act_min, "act_max": act_max, "per_channel": int(len(mult) > 1), "wide": int(wide),
            "multiplier": ConstRef("mult"), "shift": ConstRef("shift"), "bias": ConstRef("bias"),
        },
        # fast builds hold the weights in their layout instead (padding: at most 3 * (units + depth) + 9 B)
        args=[op.inputs[0], FastOr(ConstRef("weights_fast"), op.inputs[1]), op.outputs[0]],
        consts=[ConstArray("mult", "int32_t", mult), ConstArray("shift", "int32_t", shift),
                ConstArray("bias", "int64_t", folded),
                # as words: 4-byte aligned for the word-pair loads (a multiple of 16 bytes)
                ConstArray("weights_fast", "uint32_t",
                           np.frombuffer(fc_s16_fast_layout(weights.data.astype(np.int8)).tobytes(), dtype="<u4")
                           .astype(np.uint32), fast_only=True)],
        macs=batches * units * depth,
        comment=", 16x8" + (" (64-bit sums)" if wide else " (32-bit sums)"),
    )
