"""ADD, SUB and MUL with onnxruntime's arithmetic (`options["requant"] = "float32"`), for
runtime/kernels/binary_s8_f32.c.

- ADD is onnxruntime's QLinearAdd (AVX2 kernel): with r1 = scale1 / out_scale, r2 = scale2 /
  out_scale and fixed = out_zp - (r1 * zp1 + r2 * zp2), all float32, the result is
  rne(fma(a, r1, fma(b, r2, fixed))) on the raw bytes a, b; an input constant along a broadcast span
  is folded into `fixed` first (a product and a sum, each rounded).
- SUB has no integer kernel in onnxruntime: DequantizeLinear, a float32 subtraction, QuantizeLinear
  (a division by the output scale, rounding half to even, the zero point added as an integer).
- MUL is QLinearMul (SSE2): rne(float32((a - zp1) * (b - zp2)) * ((scale1 * scale2) / out_scale) +
  out_zp), the product and the sum each rounded.
- onnxruntime fuses DequantizeLinear -> Add / Mul -> QuantizeLinear into QLinearAdd / QLinearMul only
  where each DequantizeLinear feeds that operator alone; with a shared one (a residual connection
  whose input also feeds the next block) it runs the float operator, like SUB: the front end sets
  `options["float_ops"]`.

"Raw" means as onnxruntime's kernel sees the tensor: QLinearAdd / QLinearMul add the zero point in
float32, so where onnxruntime runs them on uint8 (uint8 models, and int8 QDQ models on x86, which
it converts to uint8) the uint8 bytes and zero points are used: `options["zero_point_shift"] = 128`
from the ONNX front end.
"""

from __future__ import annotations

import numpy as np

from ..ir import Operator, Tensor
from .base import ConstArray, ConstRef, KernelCall, ParamValue, reject
from .float_requant import (
    add_constants,
    add_soft_constants,
    dequant_table,
    float_row_constants,
    mul_soft_constants,
    product_scales,
)

_FUNCTIONS = {"ADD": "mcf_add_s8_f32_ort", "MUL": "mcf_mul_s8_f32_ort"}


def takes(op: Operator, a: Tensor, b: Tensor, out: Tensor) -> bool:
    """Whether the operator needs this kernel: add_s8_f32 / mul_s8_f32 (the TFLite kernels compiled
    with onnxruntime's output stage) cover ADD of two full int8 tensors and MUL on int8 bytes."""
    if op.opcode == "SUB" or int(op.options.get("zero_point_shift", 0)) or op.options.get("float_ops"):
        return True
    return op.opcode == "ADD" and not tuple(a.shape) == tuple(b.shape) == tuple(out.shape)


def lower_binary_f32(op: Operator, a: Tensor, b: Tensor, out: Tensor, loops: dict[str, ParamValue],
                     consts: list[ConstArray], overlap: dict[int, int]) -> KernelCall:
    """The kernel call; `loops` holds act_min / act_max and the broadcast loops (ndims, dims,
    stride1, stride2) with their `consts`, as elementwise.py prepared them for TFLite's kernels."""
    shift = int(op.options.get("zero_point_shift", 0))
    if shift not in (0, 128):
        raise reject(op, f"zero_point_shift must be 0 or 128, got {shift}")
    f32 = np.float32
    params: dict[str, ParamValue] = {
        "input1_offset": 0, "input2_offset": 0, "ratio1": 0.0, "ratio2": 0.0, "fixed": 0.0,
        "out_scale": float(f32(out.scale)), "out_zero_point": out.zero_point, "out_offset": -shift,
        "raw_min": -128 + shift, "raw_max": 127 + shift, "dequant1": "0", "dequant2": "0",
    }
    consts = list(consts)
    float_ops = op.opcode == "SUB" or bool(op.options.get("float_ops"))
    function = {"ADD": "mcf_add_s8_f32_dq", "SUB": "mcf_sub_s8_f32_ort", "MUL": "mcf_mul_s8_f32_dq"}[op.opcode] \
        if float_ops else _FUNCTIONS[op.opcode]
    if float_ops:
        consts += [ConstArray("dequant1", "float", dequant_table(a.scale, a.zero_point)),
                   ConstArray("dequant2", "float", dequant_table(b.scale, b.zero_point))]
        params.update({"dequant1": ConstRef("dequant1"), "dequant2": ConstRef("dequant2"),
                       "input1_offset": -a.zero_point, "input2_offset": -b.zero_point})
        # cores without an FPU: the fixed-point route, the float formula next to rounding boundaries
        params.update(float_row_constants(op.opcode, a.scale, a.zero_point, b.scale, b.zero_point, out.scale))
    elif op.opcode == "ADD":
        bits = add_constants(a.scale, a.zero_point + shift, b.scale, b.zero_point + shift, out.scale,
                             out.zero_point + shift)
        r1, r2, fixed = np.array(bits, dtype=np.int32).view(np.float32).tolist()
        params.update({"input1_offset": shift, "input2_offset": shift, "ratio1": r1, "ratio2": r2,
                       "fixed": fixed})
        # cores without an FPU: the fixed-point route (raw values up to 255 in magnitude with the shift)
        f, m1, m2, kk = add_soft_constants(*bits, reach=255 if shift else 128)
        params.update({"fx_shift": f, "fx_ratio1": m1, "fx_ratio2": m2, "fx_fixed": kk})
    else:
        ratio = float(product_scales(a.scale, np.array([b.scale]), out.scale)[0])
        params.update({"input1_offset": -a.zero_point, "input2_offset": -b.zero_point, "ratio1": ratio,
                       "fixed": float(out.zero_point + shift)})
        # cores without an FPU: the fixed-point route (|a - zp1| and |b - zp2| at most 255)
        f, m, z = mul_soft_constants(int(np.array([ratio], dtype=np.float32).view(np.uint32)[0]),
                                     out.zero_point + shift)
        params.update({"fx_shift": f, "fx_ratio1": m, "fx_fixed": z})
    params.update(loops)
    return KernelCall(
        op=op, kernel="binary_s8_f32", function=function, params_type="mcf_binary_f32_params",
        params=params, args=[op.inputs[0], op.inputs[1], op.outputs[0]], consts=consts,
        comment=", onnxruntime's float32 arithmetic", overlap=overlap)
