"""MAXIMUM and MINIMUM on int16 tensors (16x8 models), numpy-style broadcasting up to rank 5.

TFLite Micro takes the larger / smaller stored value of the two inputs, without rescaling, as for
int8 (ops/binary.py, which hands int16 operators to this module). The checks and the merged
broadcast loops are elementwise.broadcast_operands'; binary_s16.c walks them.
"""

from __future__ import annotations

from ..ir import Graph, Operator, Tensor
from .base import KernelCall, reject
from .elementwise import broadcast_operands

MAX_RANK = 5  # TFLite Micro's broadcasting loops take at most five dimensions


def lower_minmax_s16(graph: Graph, op: Operator) -> KernelCall:
    def require(op: Operator, *tensors: Tensor) -> None:
        for t in tensors:
            if t.dtype != "int16":
                raise reject(op, f"tensor '{t.name}' is {t.dtype}; an int16 {op.opcode} needs int16 inputs and "
                                 "output")

    # the stored values are compared: the quantization does not matter, per channel or not
    _, _, _, loops, consts = broadcast_operands(op, graph, require, per_tensor=False, max_rank=MAX_RANK)
    return KernelCall(
        op=op,
        kernel="binary_s16",
        function="mcf_maximum_s16" if op.opcode == "MAXIMUM" else "mcf_minimum_s16",
        params_type="mcf_minmax_s16_params",
        params=loops,
        args=[op.inputs[0], op.inputs[1], op.outputs[0]],
        consts=consts,
    )
