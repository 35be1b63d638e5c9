"""SHAPE, FILL, ZEROS_LIKE, BROADCAST_ARGS: evaluated when compiling (generator/constfold.py), never run.

SHAPE of a tensor with a static shape, and FILL / ZEROS_LIKE / BROADCAST_ARGS of constants, become constants before
lowering. These lowerings are reached only when that was not possible, and say why.
"""

from __future__ import annotations

from ..ir import Graph, Operator
from .base import KernelCall, lowering, reject


@lowering("SHAPE", "FILL", "ZEROS_LIKE", "BROADCAST_ARGS")
def lower_compile_time_only(graph: Graph, op: Operator) -> KernelCall:
    if any(o in graph.outputs for o in op.outputs):
        raise reject(op, "its output is a graph output; mcuforge evaluates this operator when compiling, so "
                         "its result must feed other operators")
    raise reject(op, "mcuforge evaluates this operator only when compiling, and its inputs are not all "
                     "constant (or have types other than integers)")
