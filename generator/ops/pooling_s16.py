"""AVERAGE_POOL_2D and MAX_POOL_2D with int16 activations: pooling.py checks the operator and
computes the geometry for both types; this turns its int8 call into the int16 kernel's."""

from __future__ import annotations

from dataclasses import replace

from ..ir import Graph, Operator, Tensor
from ..overlap import window_min_shift
from ..quant import activation_range
from .base import KernelCall, ParamValue, reject
from .fully_connected_s16 import INT16_MAX, INT16_MIN

_MAX_TAPS = 1 << 16  # 32768 * taps stays inside int32


def as_int16(graph: Graph, op: Operator, call: KernelCall, out: Tensor) -> KernelCall:
    g = {k: int(v) for k, v in call.params.items() if isinstance(v, int)}  # the geometry: all ints
    if g["filter_h"] * g["filter_w"] >= _MAX_TAPS:
        raise reject(op, f"the window has {g['filter_h'] * g['filter_w']} taps; at most {_MAX_TAPS - 1} for int16")
    act = op.options.get("fused_activation_function", "NONE")
    g["act_min"], g["act_max"] = activation_range(act, out.scale, out.zero_point, INT16_MIN, INT16_MAX)
    is_avg = op.opcode == "AVERAGE_POOL_2D"
    c2 = 2 * g["channels"]  # the byte model of overlap.py: each channel is two bytes
    overlap = {op.inputs[0]: window_min_shift(
        batches=g["batches"], input_h=g["input_h"], input_w=g["input_w"], input_c=c2, output_h=g["output_h"],
        output_w=g["output_w"], output_c=c2, stride_h=g["stride_h"], stride_w=g["stride_w"],
        pad_top=g["pad_top"], pad_left=g["pad_left"], filter_h=g["filter_h"], filter_w=g["filter_w"])}
    p: dict[str, ParamValue] = dict(g)
    return replace(call, kernel="pooling_s16", function="mcf_avgpool_s16" if is_avg else "mcf_maxpool_s16",
                   params_type="mcf_pool_params", params=p, overlap=overlap, comment=call.comment + ", int16")
