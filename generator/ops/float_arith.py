"""The float32 tail of an integer model: CAST from an integer type to float32 and ADD, SUB or MUL
on float32 (TFLite Micro's own audio preprocessor ends so: its int16 features are cast to float32
and multiplied by a constant scale), or a SOFTMAX / LOG_SOFTMAX after a DEQUANTIZE (classifiers
exported with a float output).

TFLite Micro computes these in float32: CAST is C++'s static_cast, the arithmetic one IEEE
operation per element followed by the fused activation's clamp min(max(x, lo), hi), with
-FLT_MAX..FLT_MAX when there is none (so an infinity becomes FLT_MAX). The kernels do the same
operations in the same order (runtime/kernels/float_arith.c), so the results are bit-identical on
any IEEE single-precision target. SOFTMAX and LOG_SOFTMAX follow TFLite's float reference step by
step with expf / logf: bit-identical where both link the same C library (the host check); on a
device, its C library's expf / logf may differ from the host's in the last bit. An operand is the
output's shape, a single value or the output's trailing dimensions; other broadcasts are refused
by name.
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator, Tensor
from .base import KernelCall, ParamValue, reject

FUNCTIONS = {"ADD": "mcf_f32_add", "SUB": "mcf_f32_sub", "MUL": "mcf_f32_mul"}
INT_CODES = {"int8": -1, "int16": -2, "int32": -4}  # as cast.h codes them
FLT_MAX = float(np.finfo(np.float32).max)
# TFLite's CalculateActivationRange for float32
ACTIVATION_RANGES = {"NONE": (-FLT_MAX, FLT_MAX), "RELU": (0.0, FLT_MAX), "RELU6": (0.0, 6.0),
                     "RELU_N1_TO_1": (-1.0, 1.0)}


def is_float_binary(graph: Graph, op: Operator) -> bool:
    """Whether the operator's first input is a float32 tensor (this module's case)."""
    return bool(op.inputs) and 0 <= op.inputs[0] < len(graph.tensors) and graph.tensors[op.inputs[0]].dtype == "float32"


def _float(op: Operator, t: Tensor | None) -> Tensor:
    if t is None:
        raise reject(op, "an input is missing")
    if t.dtype != "float32":
        raise reject(op, f"tensor '{t.name}' is {t.dtype}; float32 arithmetic needs float32 operands")
    return t


def _repeats_in(shape: tuple[int, ...], out: tuple[int, ...]) -> bool:
    """Whether an operand of `shape`, broadcast to `out`, is its own values repeated in order: its
    dimensions (leading 1s dropped) are the output's last ones."""
    dims = list(shape)
    while dims and dims[0] == 1:
        dims.pop(0)
    return int(np.prod(shape, dtype=np.int64)) >= 1 and (not dims or list(out[len(out) - len(dims):]) == dims)


def lower_binary_f32_tail(graph: Graph, op: Operator) -> KernelCall:
    if len(op.inputs) != 2 or len(op.outputs) != 1:
        raise reject(op, f"expected 2 inputs and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    a, b = (_float(op, t) for t in graph.op_inputs(op))
    out = _float(op, graph.op_outputs(op)[0])
    act = op.options.get("fused_activation_function", "NONE")
    if act not in ACTIVATION_RANGES:
        raise reject(op, f"fused activation {act} is not supported on float32")
    for t in (a, b):
        if not _repeats_in(t.shape, out.shape):
            raise reject(op, f"operand '{t.name}' {list(t.shape)} is neither one value, the output's shape "
                             f"{list(out.shape)} nor its trailing dimensions (other float32 broadcasts are not "
                             "supported)")
    lo, hi = ACTIVATION_RANGES[act]
    params: dict[str, ParamValue] = {"count": out.size, "a_period": a.size, "b_period": b.size,
                                     "act_min": lo, "act_max": hi}
    return KernelCall(op=op, kernel="float_arith", function=FUNCTIONS[op.opcode],
                      params_type="mcf_f32_binary_params", params=params,
                      args=[op.inputs[0], op.inputs[1], op.outputs[0]], comment=", float32")


def lower_cast_to_f32(op: Operator, inp: Tensor, out: Tensor) -> KernelCall:
    """int8 / int16 / int32 -> float32, value by value."""
    if inp.dtype not in INT_CODES:
        raise reject(op, f"cast from {inp.dtype} to float32 is not supported; from int8, int16, int32 it is")
    if inp.size != out.size:
        raise reject(op, f"input has {inp.size} elements, output {out.size}")
    return KernelCall(op=op, kernel="float_arith", function="mcf_cast_to_f32", params_type="mcf_cast_f32_params",
                      params={"count": inp.size, "from": INT_CODES[inp.dtype]}, args=[inp.index, out.index],
                      comment=f", {inp.dtype} to float32")


def lower_float_log_softmax(op: Operator, inp: Tensor, out: Tensor) -> KernelCall:
    """float32 LOG_SOFTMAX over the last dimension (a float tail after DEQUANTIZE)."""
    _float(op, out)
    if tuple(inp.shape) != tuple(out.shape) or not inp.shape or inp.size == 0:
        raise reject(op, f"input {list(inp.shape)} and output {list(out.shape)} must be the same, not empty")
    depth = int(inp.shape[-1])
    return KernelCall(op=op, kernel="float_arith", function="mcf_f32_log_softmax",
                      params_type="mcf_f32_rows_params", params={"rows": inp.size // depth, "depth": depth},
                      args=[inp.index, out.index], comment=", float32 (expf, logf)")


def lower_float_softmax(op: Operator, inp: Tensor, out: Tensor) -> KernelCall:
    """float32 SOFTMAX over the last dimension, with the model's beta."""
    _float(op, out)
    if tuple(inp.shape) != tuple(out.shape) or not inp.shape or inp.size == 0:
        raise reject(op, f"input {list(inp.shape)} and output {list(out.shape)} must be the same, not empty")
    depth = int(inp.shape[-1])
    beta = float(np.float32(op.options.get("beta", 1.0)))
    return KernelCall(op=op, kernel="float_arith", function="mcf_f32_softmax",
                      params_type="mcf_f32_softmax_params",
                      params={"rows": inp.size // depth, "depth": depth, "beta": beta},
                      args=[inp.index, out.index], comment=", float32 (expf)")
