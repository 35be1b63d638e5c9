"""DEQUANTIZE through a float32 table (`options["table"]`, 256 values indexed by the input byte):
an ONNX model's DequantizeLinear followed by element-wise float operators the quantizer left
unquantized at a graph output (Tanh, HardSwish, ...). The table holds the float32 results
onnxruntime's float operators give for each of the 256 inputs (the ONNX front end computes them);
runtime/kernels/float_table_s8_f32.c looks them up.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator
from ..overlap import elementwise_min_shift
from .base import ConstArray, ConstRef, KernelCall, reject, require_int8, unary_tensors


def lower_float_table(graph: Graph, op: Operator) -> KernelCall:
    inp, out = unary_tensors(graph, op)
    require_int8(op, inp)
    table = np.asarray(op.options["table"], dtype=np.float32).reshape(-1)
    if out.dtype != "float32" or table.size != 256 or tuple(out.shape) != tuple(inp.shape):
        raise reject(op, "a float table needs 256 values and a float32 output of the input's shape")
    return KernelCall(
        op=op, kernel="float_table_s8_f32", function="mcf_float_table_s8_f32", params_type="mcf_float_table_params",
        params={"size": out.size, "table": ConstRef("table")}, args=[op.inputs[0], op.outputs[0]],
        consts=[ConstArray("table", "float", table)], comment=", float32 table",
        overlap={op.inputs[0]: elementwise_min_shift(out.size, 1, 4)})
