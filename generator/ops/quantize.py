"""QUANTIZE (float32 -> int8; int8 -> int8, uint8 -> int8, int8 -> uint8) and DEQUANTIZE
(int8 or uint8 -> float32).

These are the ops at the edges of a full-integer model. TFLite Micro quantizes and dequantizes
with float arithmetic at run time, so these kernels do too (a float32 division for QUANTIZE, one
float32 multiply for DEQUANTIZE: see runtime/kernels/quantize.h for why that matches TFLite's
double product exactly). QUANTIZE between 8-bit integer types is TFLite Micro's Requantize, a
function of one byte: the compiler evaluates it for all 256 input values (multiplier in double, as
its Prepare) and the kernel looks the bytes up. That covers the uint8 inputs of detection and pose
models, which a QUANTIZE turns into int8 at operator 0.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..ir import Graph, Operator, Tensor
from ..overlap import elementwise_min_shift
from ..quant import multiply_by_quantized_multiplier, quantize_multiplier
from . import float_requant
from .base import ConstArray, ConstRef, KernelCall, lowering, reject
from .float_table import lower_float_table
from .quantize_s16 import lower_dequantize_s16, lower_quantize_s16

_BYTE_RANGES = {"int8": (-128, 127), "uint8": (0, 255)}


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


def requantize_table(in_dtype: str, in_scale: float, in_zp: int,
                     out_dtype: str, out_scale: float, out_zp: int) -> np.ndarray:
    """uint8[256]: the output byte for every input byte (indexed by the byte's bit pattern), as
    TFLite Micro's Requantize: (x - in_zp) times the double ratio in_scale / out_scale in Q31,
    plus out_zp, clamped to the output type. (Its XOR-0x80 shortcut for equal scales and zero
    points 128 apart gives the same bytes.)"""
    mult, shift = quantize_multiplier(float(in_scale) / float(out_scale))
    lo_in, hi_in = _BYTE_RANGES[in_dtype]
    lo, hi = _BYTE_RANGES[out_dtype]
    table = np.zeros(256, dtype=np.uint8)
    for x in range(lo_in, hi_in + 1):
        y = multiply_by_quantized_multiplier(x - in_zp, mult, shift) + out_zp
        table[x & 0xFF] = min(hi, max(lo, y)) & 0xFF
    return table


def soft_reciprocal(scale: float) -> dict[str, int]:
    """The no-FPU route's constants (quantize.h): R = 2^S / scale rounded, R in [2^31, 2^32), and
    150 + S - 32; {"fx_recip": 0} (not taken) for a scale that is not a positive normal float32."""
    s32 = np.float32(scale)
    if not (np.isfinite(s32) and s32 >= np.finfo(np.float32).tiny):
        return {"fx_recip": 0, "fx_shift": 0}
    inv = 1 / Fraction(float(s32))
    shift = 31 - (inv.numerator.bit_length() - inv.denominator.bit_length())
    while round(inv * 2**shift) >= 2**32:
        shift -= 1
    while round(inv * 2**shift) < 2**31:
        shift += 1
    return {"fx_recip": round(inv * 2**shift), "fx_shift": 150 + shift - 32}


@lowering("QUANTIZE")
def lower_quantize(graph: Graph, op: Operator) -> KernelCall:
    inp, out = _unary(graph, op)
    if "int16" in (inp.dtype, out.dtype):  # quantize_s16.py
        return lower_quantize_s16(op, inp, out)
    pairs = (("float32", "int8"), ("int8", "int8"), ("uint8", "int8"), ("int8", "uint8"))
    if (inp.dtype, out.dtype) not in pairs:
        raise reject(op, f"{inp.dtype} -> {out.dtype} is not supported; only "
                         + ", ".join(f"{a} -> {b}" for a, b in pairs))
    _per_tensor(op, out)
    if inp.dtype == "float32":
        return KernelCall(
            op=op, kernel="quantize", params_type="mcf_quantize_params",
            # ONNX QuantizeLinear rounds half to even, TFLite's QUANTIZE half away from zero
            function="mcf_quantize_f32_s8_rne" if op.options.get("requant") == "float32" else "mcf_quantize_f32_s8",
            params={"size": out.size, "scale": out.scale, "zero_point": out.zero_point,
                    **soft_reciprocal(out.scale)},
            args=[op.inputs[0], op.outputs[0]],
            # quantize.c reads input[i], then writes output[i], i ascending (overlap.py)
            overlap={op.inputs[0]: elementwise_min_shift(out.size, 4, 1)},
        )
    _per_tensor(op, inp)
    if float_requant.wants_float32(op) and (inp.dtype, out.dtype) == ("int8", "int8"):  # onnxruntime's
        table = float_requant.requantize_table(inp.scale, inp.zero_point, out.scale, out.zero_point)
    else:
        table = requantize_table(inp.dtype, inp.scale, inp.zero_point, out.dtype, out.scale, out.zero_point)
    return KernelCall(
        op=op, kernel="quantize", function="mcf_requantize_8", params_type="mcf_requantize_params",
        params={"size": out.size, "table": ConstRef("table")},
        args=[op.inputs[0], op.outputs[0]], consts=[ConstArray("table", "uint8_t", table)],
        comment=f", {inp.dtype} -> {out.dtype} by 256-entry table",
        overlap={op.inputs[0]: elementwise_min_shift(out.size, 1, 1)},
    )


@lowering("DEQUANTIZE")
def lower_dequantize(graph: Graph, op: Operator) -> KernelCall:
    if "table" in op.options:  # an ONNX model's float operators after its last DequantizeLinear (float_table.py)
        return lower_float_table(graph, op)
    inp, out = _unary(graph, op)
    if inp.dtype == "int16":  # quantize_s16.py
        return lower_dequantize_s16(op, inp, out)
    if inp.dtype not in ("int8", "uint8") or out.dtype != "float32":
        raise reject(op, f"{inp.dtype} -> {out.dtype} is not supported; only int8 or uint8 -> float32")
    _per_tensor(op, inp)
    function = "mcf_dequantize_s8_f32" if inp.dtype == "int8" else "mcf_dequantize_u8_f32"
    return KernelCall(
        op=op, kernel="quantize", function=function, params_type="mcf_dequantize_params",
        params={"size": out.size, "scale": inp.scale, "zero_point": inp.zero_point},
        args=[op.inputs[0], op.outputs[0]],
    )
