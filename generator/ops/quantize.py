"""QUANTIZE (float32 -> int8, int8 -> int8) and DEQUANTIZE (int8 -> float32).

These are the ops at the float edges of a full-integer model. TFLite Micro quantizes and
dequantizes with float arithmetic at run time, so these kernels do too (a float32 division for
QUANTIZE, one float32 multiply for DEQUANTIZE: see runtime/kernels/quantize.h for why that
matches TFLite's double product exactly). int8 -> int8 QUANTIZE is an integer requantization.
"""

from __future__ import annotations

from ..ir import Graph, Operator, Tensor
from ..overlap import elementwise_min_shift
from ..quant import quantize_multiplier
from .base import KernelCall, lowering, reject


def _unary(graph: Graph, op: Operator) -> tuple[Tensor, Tensor]:
    ins = graph.op_inputs(op)
    outs = graph.op_outputs(op)
    if len(ins) != 1 or ins[0] is None or len(outs) != 1:
        raise reject(op, f"expected 1 input and 1 output, got {len(ins)} and {len(outs)}")
    inp, out = ins[0], outs[0]
    if inp.size != out.size:
        raise reject(op, f"input has {inp.size} elements but output has {out.size}")
    return inp, out


def _per_tensor(op: Operator, t: Tensor) -> None:
    if t.quant is None:
        raise reject(op, f"tensor '{t.name}' has no quantization parameters")
    if t.quant.per_channel:
        raise reject(op, f"tensor '{t.name}' is quantized per channel; only per-tensor is supported")


@lowering("QUANTIZE")
def lower_quantize(graph: Graph, op: Operator) -> KernelCall:
    inp, out = _unary(graph, op)
    if out.dtype != "int8" or inp.dtype not in ("float32", "int8"):
        raise reject(op, f"{inp.dtype} -> {out.dtype} is not supported; "
                         "only float32 -> int8 and int8 -> int8")
    _per_tensor(op, out)
    if inp.dtype == "float32":
        return KernelCall(
            op=op, kernel="quantize", function="mcf_quantize_f32_s8", params_type="mcf_quantize_params",
            params={"size": out.size, "scale": out.scale, "zero_point": out.zero_point},
            args=[op.inputs[0], op.outputs[0]],
            # quantize.c reads input[i], then writes output[i], i ascending (overlap.py)
            overlap={op.inputs[0]: elementwise_min_shift(out.size, 4, 1)},
        )
    _per_tensor(op, inp)
    mult, shift = quantize_multiplier(inp.scale / out.scale)  # double, as TFLite Micro
    return KernelCall(
        op=op, kernel="quantize", function="mcf_requantize_s8", params_type="mcf_requantize_params",
        params={"size": out.size, "input_offset": -inp.zero_point, "multiplier": mult, "shift": shift,
                "output_offset": out.zero_point},
        args=[op.inputs[0], op.outputs[0]], overlap={op.inputs[0]: elementwise_min_shift(out.size, 1, 1)},
    )


@lowering("DEQUANTIZE")
def lower_dequantize(graph: Graph, op: Operator) -> KernelCall:
    inp, out = _unary(graph, op)
    if inp.dtype != "int8" or out.dtype != "float32":
        raise reject(op, f"{inp.dtype} -> {out.dtype} is not supported; only int8 -> float32")
    _per_tensor(op, inp)
    return KernelCall(
        op=op, kernel="quantize", function="mcf_dequantize_s8_f32", params_type="mcf_dequantize_params",
        params={"size": out.size, "scale": inp.scale, "zero_point": inp.zero_point},
        args=[op.inputs[0], op.outputs[0]],
    )
