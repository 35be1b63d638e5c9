"""MAXIMUM and MINIMUM on int16 tensors (16x8 models), numpy-style broadcasting up to rank 5.

TFLite Micro takes the larger / smaller stored value of the two inputs, without rescaling, as for
int8 (ops/binary.py, which hands int16 operators to this module). The merged broadcast loops of
elementwise.broadcast_loops are padded to the kernel's five.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator
from .base import ConstArray, ConstRef, KernelCall, reject
from .elementwise import broadcast_loops

LOOPS = 5  # MCF_MINMAX_S16_LOOPS in runtime/kernels/minmax_s16.h


def lower_minmax_s16(graph: Graph, op: Operator) -> KernelCall:
    ins = graph.op_inputs(op)
    outs = graph.op_outputs(op)
    if len(ins) != 2 or ins[0] is None or ins[1] is None or len(outs) != 1:
        raise reject(op, f"expected 2 inputs and 1 output, got {len(ins)} and {len(outs)}")
    a, b, out = ins[0], ins[1], outs[0]
    for t in (a, b, out):
        if t.dtype != "int16":
            raise reject(op, f"tensor '{t.name}' is {t.dtype}; an int16 {op.opcode} needs int16 inputs and output")
    if max(len(a.shape), len(b.shape), len(out.shape)) > LOOPS:
        raise reject(op, f"tensors of rank above {LOOPS} are not supported (TFLite Micro neither)")
    try:
        shape, dims, st1, st2 = broadcast_loops(a.shape, b.shape)
    except ValueError:
        raise reject(op, f"input shapes {list(a.shape)} and {list(b.shape)} do not broadcast") from None
    rank = max(len(shape), len(out.shape))
    if (1,) * (rank - len(shape)) + shape != (1,) * (rank - len(out.shape)) + tuple(out.shape):
        raise reject(op, f"output shape {list(out.shape)} differs from the broadcast shape {list(shape)}")
    if out.size == 0:
        raise reject(op, "empty tensors are not supported")
    pad = LOOPS - len(dims)
    consts = [ConstArray("dims", "int32_t", np.array([1] * pad + dims, np.int32)),
              ConstArray("stride1", "int32_t", np.array([0] * pad + st1, np.int32)),
              ConstArray("stride2", "int32_t", np.array([0] * pad + st2, np.int32))]
    return KernelCall(
        op=op,
        kernel="minmax_s16",
        function="mcf_maximum_s16" if op.opcode == "MAXIMUM" else "mcf_minimum_s16",
        params_type="mcf_minmax_s16_params",
        params={"dims": ConstRef("dims"), "stride1": ConstRef("stride1"), "stride2": ConstRef("stride2")},
        args=[op.inputs[0], op.inputs[1], op.outputs[0]],
        consts=consts,
    )
