"""FULLY_CONNECTED (int8, per-tensor or per-channel weights)."""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator
from ..quant import activation_range, quantize_multipliers
from . import float_requant
from .base import ConstArray, ConstRef, FastOr, KernelCall, lowering, reject, require_int8
from .conv import pack_words, short_output_constants
from .fully_connected_s16 import lower_fully_connected_s16


def fc_fast_layout(w: np.ndarray) -> np.ndarray:
    """[units, depth] int8 → the layout of the fully_connected_s8 fast paths, as uint32 words.

    Units in blocks of four (the last padded with zero units), inputs in groups of four (the last
    padded with zeros); per block and group, one word per unit holding its four weights.
    """
    units, depth = w.shape
    u4, d4 = (units + 3) // 4, (depth + 3) // 4
    padded = np.zeros((u4 * 4, d4 * 4), dtype=np.int8)
    padded[:units, :depth] = w
    words = pack_words(padded.reshape(u4, 4, d4, 4))  # [block, unit, group]
    return words.transpose(0, 2, 1).reshape(-1).astype(np.uint32)


def fc_short_layout(w: np.ndarray) -> np.ndarray:
    """[units, depth] int8 → the layout of the short path (fully_connected_s8.h), as uint32 words.

    Whole blocks of four units as fc_fast_layout; the last 1..3 units, per group of four inputs
    x0..x3 (the last padded with zeros), each as two words of int16 pairs (w0, w2) and (w1, w3):
    the pairs SXTB16 makes of the input word, so that one SMLAD takes each (no zero units stored).
    """
    units, depth = w.shape
    whole = units // 4 * 4
    head = fc_fast_layout(w[:whole]) if whole else np.zeros(0, dtype=np.uint32)
    n = units - whole
    if not n:
        return head
    d4 = (depth + 3) // 4
    padded = np.zeros((n, d4 * 4), dtype=np.int64)
    padded[:, :depth] = w[whole:]
    g = padded.reshape(n, d4, 4)  # [unit, group, input]
    pairs = (g[:, :, [0, 1]] & 0xFFFF) | ((g[:, :, [2, 3]] & 0xFFFF) << 16)  # [unit, group, word]
    tail = pairs.transpose(1, 0, 2).reshape(-1)  # per group, per unit, its two words
    return np.concatenate([head, tail.astype(np.uint32)])


def fc_depth1_layout(w: np.ndarray, folded: np.ndarray) -> np.ndarray:
    """[units, 1] int8 weights and the folded int32 biases → the layout of the depth-1 entry points
    (fully_connected_s8.h), as uint32 words: per unit {2 * bias, 2 * weight}, the doubled sum of the
    output stage as one multiply-add. The caller has checked (short_output_constants) that 2 * acc
    stays in int32."""
    pairs = np.stack([2 * folded.astype(np.int64), 2 * w.astype(np.int64)[:, 0]], axis=1)
    return (pairs.reshape(-1) & 0xFFFFFFFF).astype(np.uint32)


def wide_output_constants(mult: np.ndarray, shift: np.ndarray, units: int, output_offset: int) -> np.ndarray | None:
    """{multiplier, 2^(e-1) + output_offset * 2^e, e - 1} per unit (e = -shift) for the _fewN_wide
    entry point, whose output stage runs in 64 bits (fully_connected_s8.c mcf_fc_out_wide): any sums,
    but right shifts only, and each value stored as int32 with room for the sign's -1."""
    m = np.broadcast_to(np.asarray(mult, dtype=np.int64), (units,))
    e = -np.broadcast_to(np.asarray(shift, dtype=np.int64), (units,))
    if e.min(initial=1) < 1 or e.max(initial=1) > 31:
        return None
    rounding = [2 ** (int(k) - 1) + output_offset * 2 ** int(k) for k in e]
    if any(not -(2**31) < r < 2**31 for r in rounding):
        return None
    return np.array([(int(m[u]), rounding[u], int(e[u]) - 1) for u in range(units)], dtype=np.int64).reshape(-1)


@lowering("FULLY_CONNECTED")
def lower_fully_connected(graph: Graph, op: Operator) -> KernelCall:
    inp, weights, bias = [*graph.op_inputs(op), None][:3]
    out = graph.op_outputs(op)[0]
    if inp is None or weights is None:
        raise reject(op, "the input and the weights are required")
    if inp.dtype == "int16":  # 16x8: int16 activations, int8 weights, int64 bias
        return lower_fully_connected_s16(graph, op)
    require_int8(op, inp, weights, out)
    if weights.data is None:
        raise reject(op, "weights must be constant")
    if len(weights.shape) != 2:
        raise reject(op, f"weights must be 2-D [outputs, depth], got {list(weights.shape)}")
    if op.options.get("weights_format", 0) != 0:
        raise reject(op, "only the default weights format is supported")
    assert weights.quant is not None
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
    if bias is not None and bias.dtype != "int32":
        raise reject(op, f"bias must be int32, got {bias.dtype}")
    b = bias.data.astype(np.int64) if bias is not None and bias.data is not None else np.zeros(units, np.int64)
    # Fold the input zero point into the bias: sum(w * (x - zx)) = sum(w * x) - zx * sum(w).
    w = weights.data.astype(np.int64)
    folded = b - inp.zero_point * w.sum(axis=1)
    if np.abs(folded).max(initial=0) >= 2**31:
        raise reject(op, "the folded bias does not fit in int32")

    scales = np.array(weights.quant.scale, dtype=np.float64)
    if float_requant.wants_float32(op):  # onnxruntime's float32 output stage: the scales' bits in the multiplier array
        mult = float_requant.scale_bits(float_requant.product_scales(inp.scale, scales, out.scale))
        shift = np.zeros_like(mult)
    else:
        effective = np.float64(inp.scale) * scales / np.float64(out.scale)
        mult, shift = quantize_multipliers(effective)
    act_min, act_max = activation_range(op.options.get("fused_activation_function", "NONE"),
                                        out.scale, out.zero_point)
    w8 = weights.data.astype(np.int8)
    out_q = None if float_requant.wants_float32(op) else \
        short_output_constants(w, folded, np.asarray(mult), np.asarray(shift), out.zero_point)
    if out_q is not None:  # the short path, its own layout: entry points per activation range and tail
        # (units % 4 == 0: blocks; units < 4: the few units' code alone)
        act = "full" if (act_min, act_max) == (-128, 127) else "clamp"
        kind = f"few{units}" if units < 4 else "short" if units % 4 else "blocks"
        function, fast_words = f"mcf_fully_connected_s8_{kind}_{act}", fc_short_layout(w8)
        if depth == 1:  # one input per output: {2 * bias, 2 * weight} per unit, one multiply-add each
            kind = "depth1pc" if len(mult) > 1 else "depth1"
            function = f"mcf_fully_connected_s8_{kind}_{act}"
            fast_words = fc_depth1_layout(w8, folded)
        elif units < 4:  # one triple per unit, per tensor too (fully_connected_s8.h)
            out_q = np.resize(out_q, 3 * units)
            if units == 1 and batches == 1:  # one unit, one row: the entry point that does not test the rows
                function = f"mcf_fully_connected_s8_few1row_{act}"
    elif units < 4 and not float_requant.wants_float32(op) and \
            (out_q := wide_output_constants(np.asarray(mult), np.asarray(shift), units, out.zero_point)) is not None:
        function = f"mcf_fully_connected_s8_few{units}_wide"  # sums near int32's edge
        fast_words = fc_short_layout(w8)
    else:  # fully_connected_s8.h: the reference loop is not linked
        function, fast_words = "mcf_fully_connected_s8_fast_path", fc_fast_layout(w8)
    return float_requant.entry_points(op, KernelCall(
        op=op,
        kernel="fully_connected_s8",
        function=function,
        params_type="mcf_fc_params",
        params={
            "batches": batches,
            "depth": depth,
            "units": units,
            "output_offset": out.zero_point,
            "act_min": act_min,
            "act_max": act_max,
            "per_channel": int(len(mult) > 1),
            "multiplier": ConstRef("mult"),
            "shift": ConstRef("shift"),
            "bias": ConstRef("bias"),
            "fast_layout": 1,
            **({"out_q": ConstRef("out_q")} if out_q is not None else {}),
        },
        # Builds with the fast kernel paths hold the weights in their layout instead (padding to
        # whole blocks of four units and groups of four inputs adds at most 3 * (units + depth) + 9 B;
        # the short layout's last 1..3 units take two words per group each).
        args=[op.inputs[0], FastOr(ConstRef("weights_fast"), op.inputs[1]), op.outputs[0]],
        consts=[
            ConstArray("mult", "int32_t", mult),
            ConstArray("shift", "int32_t", shift),
            ConstArray("bias", "int32_t", folded.astype(np.int32)),
            ConstArray("weights_fast", "uint32_t", fast_words, fast_only=True),
            *([ConstArray("out_q", "int32_t", out_q)] if out_q is not None else []),
        ],
        macs=batches * units * depth,
    ))
