"""SVDF with int8 input and output and an int16 (or int8) activation state, as TFLite Micro runs it.

The operator's fifth input is a variable tensor (the state, [batches, filters * memory]); it lives
in the model's state buffer (ops/variable_tensors.py) and the kernel updates it in place. TFLite
Micro's integer SVDF clamps the output only to the int8 range: the fused activation is not applied
(its options' activation is read by the float kernel alone), so it is ignored here as well.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator
from ..quant import quantize_multiplier
from .base import ConstArray, ConstRef, KernelCall, lowering, reject


def _f32(x: float) -> np.float32:
    return np.float32(x)


@lowering("SVDF")
def lower_svdf(graph: Graph, op: Operator) -> KernelCall:
    if len(op.inputs) != 5 or len(op.outputs) != 1:
        raise reject(op, f"expected 5 inputs and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    inp, wf, wt, bias, state = graph.op_inputs(op)
    out = graph.op_outputs(op)[0]
    if inp is None or wf is None or wt is None or state is None:
        raise reject(op, "input, feature weights, time weights and state are required")
    if bias is None:
        raise reject(op, "an integer SVDF needs its bias tensor (TFLite Micro reads the bias scale)")
    rank = int(op.options.get("rank", 0))
    if inp.dtype != "int8" or out.dtype != "int8" or wf.dtype != "int8":
        raise reject(op, f"input, feature weights and output must be int8 (got {inp.dtype}, {wf.dtype}, "
                         f"{out.dtype}); float SVDF is not supported")
    if wt.dtype not in ("int16", "int8") or state.dtype != wt.dtype:
        raise reject(op, f"time weights and state must both be int16 or both int8 (got {wt.dtype}, {state.dtype})")
    if bias.dtype != "int32" or bias.data is None:
        raise reject(op, "bias must be a constant int32 tensor")
    if wf.data is None or wt.data is None:
        raise reject(op, "feature and time weights must be constant")
    if not state.is_variable:
        raise reject(op, f"state tensor '{state.name}' must be a variable tensor")
    if any(t.quant is None for t in (inp, wf, wt, bias, state, out)):
        raise reject(op, "every tensor must be quantized")
    if len(inp.shape) != 2 or len(wf.shape) != 2 or len(wt.shape) != 2 or len(out.shape) != 2:
        raise reject(op, "input, weights and output must be 2-D")
    batches, input_size = inp.shape
    filters, memory = wt.shape
    if rank < 1 or filters % rank or wf.shape != (filters, input_size):
        raise reject(op, f"rank {rank}, feature weights {list(wf.shape)} and time weights {list(wt.shape)} "
                         "do not fit together")
    units = filters // rank
    if out.shape != (batches, units) or bias.size != units or state.shape != (batches, filters * memory):
        raise reject(op, f"output {list(out.shape)}, bias {list(bias.shape)} or state {list(state.shape)} "
                         f"does not match {batches} batches x {units} units, {filters} filters x {memory} memory")
    # The effective scales in double from the float32 tensor scales: what the tflite-micro
    # interpreter computes (its source casts a float32 product to double, but the interpreter's
    # results, e.g. keyword_scrambled's first SVDF, only match the double product).
    scale_1 = float(_f32(inp.scale)) * float(_f32(wf.scale)) / float(_f32(state.scale))
    scale_2 = float(_f32(state.scale)) * float(_f32(wt.scale)) / float(_f32(out.scale))
    if abs(float(bias.scale) - float(_f32(state.scale) * _f32(wt.scale))) >= 1e-5:
        raise reject(op, "bias scale differs from state scale x time weights scale (TFLite Micro refuses it)")
    m1, s1 = quantize_multiplier(scale_1)
    m2, s2 = quantize_multiplier(scale_2)
    w_f = wf.data.astype(np.int64)
    w_t = wt.data.astype(np.int64)
    feature_bias = -inp.zero_point * w_f.sum(axis=1)
    unit_bias = bias.data.astype(np.int64).reshape(-1) - state.zero_point * w_t.reshape(units, -1).sum(axis=1)
    wrap = lambda a: ((a + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)  # noqa: E731  (int32 sums wrap)
    suffix = "s16" if state.dtype == "int16" else "s8"
    return KernelCall(
        op=op,
        kernel="svdf_s8",
        function=f"mcf_svdf_s8_{suffix}",
        params_type="mcf_svdf_params",
        params={
            "batches": batches, "input_size": input_size, "filters": filters, "rank": rank, "memory": memory,
            "feature_multiplier": m1, "feature_shift": s1, "state_offset": state.zero_point,
            "output_multiplier": m2, "output_shift": s2, "output_offset": out.zero_point,
            "feature_bias": ConstRef("feature_bias"), "unit_bias": ConstRef("unit_bias"),
        },
        args=[op.inputs[0], op.inputs[1], op.inputs[2], op.inputs[4], op.outputs[0]],
        consts=[ConstArray("feature_bias", "int32_t", wrap(feature_bias)),
                ConstArray("unit_bias", "int32_t", wrap(unit_bias))],
        macs=batches * filters * (input_size + memory),
        comment=f", rank {rank}, memory {memory}, {state.dtype} state (in the state buffer)",
    )
