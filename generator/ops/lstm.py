"""UNIDIRECTIONAL_SEQUENCE_LSTM with integer gates, as TFLite Micro's kernel computes it.

TFLite Micro runs this operator with int8 activations (int32 biases, 32-bit gate sums) or int16
activations (int64 biases, 64-bit sums), int8 weights and an int16 cell state. Each gate is two
fully connected products (input and recurrent) requantized to Q3.12 and added with saturation, then
a sigmoid or tanh in Q0.15; the cell and hidden updates are elementwise products requantized to
the cell and hidden scales. Its kernel has no CIFG, peephole, projection or layer normalisation:
such models are refused here as TFLite Micro refuses them.

The hidden and cell states (inputs 18 and 19) are variable tensors: they live in the model's state
buffer (ops/variable_tensors.py) and carry over between invokes. The kernel needs 4 x units int16
of scratch for the gate values of one sequence element (TFLite Micro: four batch x units buffers),
and room for the input row and hidden state as int16 (the fast paths' dot products, which read every
gate matrix in the blocked layout of the 16x8 fully connected kernels).
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator, Tensor
from ..quant import quantize_multiplier
from .base import ConstArray, ConstRef, KernelCall, ScratchRef, lowering, reject
from .conv_s16 import as_words
from .fully_connected_s16 import fc_s16_fast_layout, reduced_multipliers
from .sigmoid16 import _checked_log2, sigmoid_table

# Input slots: gate order forget, input, cell, output.
INPUT_WEIGHTS = (2, 1, 3, 4)
RECURRENT_WEIGHTS = (6, 5, 7, 8)
BIASES = (13, 12, 14, 15)
HIDDEN, CELL = 18, 19
_UNSUPPORTED = {9: "peephole (cell-to-input) weights", 10: "peephole (cell-to-forget) weights",
                11: "peephole (cell-to-output) weights", 16: "projection weights", 17: "projection bias",
                20: "input layer-norm coefficients", 21: "forget layer-norm coefficients",
                22: "cell layer-norm coefficients", 23: "output layer-norm coefficients"}
GATE_SCALE = 2.0 ** -12  # Q3.12: the gates before their sigmoid/tanh
ACTIVATED_SCALE = 2.0 ** -15  # Q0.15: after it


def lstm_scratch_bytes(depth: int, units: int) -> int:
    """The gates of one sequence element (4 x units int16), then the input row and the hidden state
    as int16 padded to whole groups of four (the fast paths' dot products read them)."""
    return 8 * units + 2 * (-(-depth // 4) * 4 + -(-units // 4) * 4)


def _mul_rescale(s1: float, s2: float, out: float) -> tuple[int, int]:
    """TFLite Micro's multiplier of an elementwise product of two symmetric int16 operands."""
    return quantize_multiplier(float(np.float32(s1)) * float(np.float32(s2)) / float(np.float32(out)))


def _inputs(graph: Graph, op: Operator) -> list[Tensor | None]:
    if len(op.inputs) != 24 or len(op.outputs) != 1:
        raise reject(op, f"expected 24 inputs and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    ins = graph.op_inputs(op)
    present = [why for k, why in _UNSUPPORTED.items() if ins[k] is not None]
    if present:
        raise reject(op, "TFLite Micro's LSTM has no " + ", ".join(present) + " (it refuses such models)")
    missing = [k for k in (0, *INPUT_WEIGHTS, *RECURRENT_WEIGHTS, *BIASES, HIDDEN, CELL) if ins[k] is None]
    if missing:
        raise reject(op, f"inputs {missing} are missing (TFLite Micro needs all of them; CIFG is not supported)")
    return ins


@lowering("UNIDIRECTIONAL_SEQUENCE_LSTM")
def lower_lstm(graph: Graph, op: Operator) -> KernelCall:
    ins = _inputs(graph, op)
    x, hidden, cell = ins[0], ins[HIDDEN], ins[CELL]
    out = graph.op_outputs(op)[0]
    assert x is not None and hidden is not None and cell is not None
    if x.dtype not in ("int8", "int16"):
        raise reject(op, f"input is {x.dtype}; only quantized int8 or int16 LSTMs are supported (no float)")
    if hidden.dtype != x.dtype or out.dtype != x.dtype:
        raise reject(op, f"input, hidden state and output must have one type (got {x.dtype}, {hidden.dtype}, "
                         f"{out.dtype})")
    if cell.dtype != "int16":
        raise reject(op, f"cell state is {cell.dtype}; TFLite Micro's integer LSTM needs an int16 cell state")
    for t in (hidden, cell):
        if not t.is_variable:
            raise reject(op, f"state tensor '{t.name}' must be a variable tensor")
    if any(t.quant is None for t in (x, hidden, cell, out)):
        raise reject(op, "input, states and output must be quantized")
    if cell.zero_point != 0:
        raise reject(op, "the cell state must be symmetric (zero point 0)")
    bias_type = "int32" if x.dtype == "int8" else "int64"
    weights: list[Tensor] = []
    for k in (*INPUT_WEIGHTS, *RECURRENT_WEIGHTS):
        w = ins[k]
        assert w is not None
        if w.dtype != "int8" or w.data is None or w.quant is None:
            raise reject(op, f"weights '{w.name}' must be constant quantized int8 (got {w.dtype})")
        if w.quant.per_channel or w.zero_point != 0:
            raise reject(op, f"weights '{w.name}' must be per-tensor with zero point 0 (as TFLite Micro's LSTM "
                             "reads them)")
        weights.append(w)
    biases: list[Tensor] = []
    for k in BIASES:
        b = ins[k]
        assert b is not None
        if b.dtype != bias_type or b.data is None:
            raise reject(op, f"bias '{b.name}' must be a constant {bias_type} tensor with {x.dtype} activations")
        biases.append(b)
    if len(x.shape) != 3 or len(out.shape) != 3:
        raise reject(op, "input and output must be 3-D")
    time_major = bool(op.options.get("time_major", False))
    steps, batches = (x.shape[0], x.shape[1]) if time_major else (x.shape[1], x.shape[0])
    depth = x.shape[2]
    units = hidden.shape[-1] if hidden.shape else 0
    if (units < 1 or hidden.size != batches * units or cell.size != batches * units
            or out.shape != (x.shape[0], x.shape[1], units)):
        raise reject(op, f"states {list(hidden.shape)}, {list(cell.shape)} and output {list(out.shape)} do not fit "
                         f"input {list(x.shape)}")
    for k, w in enumerate(weights):
        want = (units, depth) if k < 4 else (units, units)
        if w.shape != want:
            raise reject(op, f"weights '{w.name}' are {list(w.shape)}, expected {list(want)}")
    if any(b.shape != (units,) for b in biases):
        raise reject(op, f"every bias must have {units} elements")
    activation = op.options.get("fused_activation_function", "TANH")
    if activation != "TANH":  # the schema cannot express SIGMOID here; TFLite Micro stops on anything else
        raise reject(op, f"cell activation {activation}: TFLite Micro's integer LSTM runs only TANH")

    # Gate products: input scale x weight scale (as doubles) over Q3.12, no bias in the multiplier.
    rescale = []
    for k in range(4):
        for src, w in ((x, weights[k]), (hidden, weights[4 + k])):
            real = float(np.float32(src.scale)) * float(np.float32(w.scale)) / float(GATE_SCALE)
            m, s = quantize_multiplier(real)
            if x.dtype == "int16":
                if not -31 <= s <= 7:
                    raise reject(op, "a gate rescaling is outside TFLite Micro's 64-bit range (shift -31..7)")
                rm, rs = reduced_multipliers(np.array([m]), np.array([s]))
                m, s = int(rm[0]), int(rs[0])
            rescale += [m, s]
    zx, zh = x.zero_point, hidden.zero_point
    folded_in = [b.data.astype(np.int64) - zx * w.data.astype(np.int64).sum(axis=1)  # type: ignore[union-attr]
                 for b, w in zip(biases, weights[:4], strict=True)]
    folded_rec = [-zh * w.data.astype(np.int64).sum(axis=1) for w in weights[4:]]  # type: ignore[union-attr]
    bias = np.concatenate(folded_in + folded_rec)
    if x.dtype == "int8":  # TFLite Micro's 32-bit sums wrap
        bias_arr = ConstArray("bias", "int32_t", ((bias + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32))
    else:
        bias_arr = ConstArray("bias", "int64_t", bias)

    fm, fs = _mul_rescale(ACTIVATED_SCALE, cell.scale, cell.scale)
    um, us = _mul_rescale(ACTIVATED_SCALE, ACTIVATED_SCALE, cell.scale)
    hm, hs = _mul_rescale(ACTIVATED_SCALE, ACTIVATED_SCALE, hidden.scale)
    hmin, hmax = (-128, 127) if x.dtype == "int8" else (-32768, 32767)
    _, power = _checked_log2(cell.scale)
    left = 15 + power - 3  # tanh of the cell state: its input is rescaled to the table's grid
    tanh_m, tanh_s = (3 << left, 0) if left >= 0 else (3, -left)
    if tanh_m * 32768 >= 1 << 31:
        raise reject(op, f"cell state scale {cell.scale} is too coarse for TFLite Micro's int16 tanh")
    clip = float(np.float32(op.options.get("cell_clip", 0.0) or 0.0))
    qclip = int(min(max(clip / float(np.float32(cell.scale)), -32768.0), 32767.0)) if clip > 0 else 0
    if clip > 0 and qclip <= 0:
        raise reject(op, f"cell clip {clip} is below one step of the cell state")
    if time_major:  # [time][batch][features]
        in_step, in_batch, out_step, out_batch = batches * depth, depth, batches * units, units
    else:  # [batch][time][features]
        in_step, in_batch, out_step, out_batch = depth, steps * depth, units, steps * units
    # every matrix in the blocked layout of the 16x8 dot product (lstm_s8.h), read by every build
    w_all = np.concatenate([fc_s16_fast_layout(w.data.reshape(w.shape))  # type: ignore[union-attr]
                            for w in weights]).astype(np.int8)
    wide = x.dtype == "int16"
    return KernelCall(
        op=op,
        kernel="lstm_s8",
        function="mcf_lstm_s16" if wide else "mcf_lstm_s8",
        params_type="mcf_lstm_params",
        params={
            "batches": batches, "steps": steps, "input_size": depth, "units": units,
            "input_step": in_step, "input_batch": in_batch, "output_step": out_step, "output_batch": out_batch,
            "forget_multiplier": fm, "forget_shift": fs, "update_multiplier": um, "update_shift": us,
            "hidden_multiplier": hm, "hidden_shift": hs, "hidden_offset": zh, "hidden_min": hmin, "hidden_max": hmax,
            "cell_clip": qclip, "cell_tanh_multiplier": tanh_m, "cell_tanh_shift": tanh_s,
            "rescale": ConstRef("rescale"), "table": ConstRef("table"), "weights": ConstRef("weights"),
            "bias32": 0 if wide else ConstRef("bias"), "bias64": ConstRef("bias") if wide else 0,
            "scratch": ScratchRef("int16_t"),
        },
        args=[op.inputs[0], op.inputs[HIDDEN], op.inputs[CELL], op.outputs[0]],
        consts=[ConstArray("rescale", "int32_t", np.array(rescale, np.int32)),
                ConstArray("table", "uint16_t", sigmoid_table()),
                ConstArray("weights", "uint32_t", as_words(w_all)), bias_arr],  # words: 4-byte aligned
        scratch_bytes=lstm_scratch_bytes(depth, units),
        macs=batches * steps * 4 * units * (depth + units),
        comment=f", {'time' if time_major else 'batch'}-major, {steps} steps x {batches} batches, "
                f"{'16x8' if wide else 'int8'} (states in the state buffer)",
    )
