"""LOOKUP_TABLE (int8 -> int8): any element-wise function of one int8 value, as a 256-entry table.

Not a TFLite operator: the ONNX front end (generator/frontends/onnx.py) emits it for a float
operator between DequantizeLinear and QuantizeLinear (Sigmoid, Tanh, LeakyRelu, Clip, ...), whose
256 possible results it computes when compiling (`options["table"]`, table[q & 0xff] = f(q)).
The kernel is the table lookup of nonlinear_s8.c.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator
from .base import ConstArray, ConstRef, KernelCall, lowering, reject, require_int8, unary_tensors


@lowering("LOOKUP_TABLE")
def lower_lookup_table(graph: Graph, op: Operator) -> KernelCall:
    inp, out = unary_tensors(graph, op)
    require_int8(op, inp, out)
    if inp.size != out.size:
        raise reject(op, f"output shape {list(out.shape)} differs from the input shape {list(inp.shape)}")
    table = np.asarray(op.options.get("table", ()), dtype=np.int64).reshape(-1)
    if table.size != 256 or table.min(initial=0) < -128 or table.max(initial=0) > 127:
        raise reject(op, "the table must hold 256 int8 values")
    return KernelCall(
        op=op, kernel="nonlinear_s8", function="mcf_lut_s8", params_type="mcf_lut_params",
        params={"size": inp.size, "table": ConstRef("table")},
        args=[op.inputs[0], op.outputs[0]],
        consts=[ConstArray("table", "int8_t", table.astype(np.int8))],
        comment=f", {op.options.get('function', 'element-wise function')} by 256-entry table",
    )
