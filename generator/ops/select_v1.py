"""SELECT (the first version of TensorFlow's `where`), refused with its reason.

TFLite Micro registers SELECT_V2 only (ops/compare.py runs it); a model holding SELECT fails in
its interpreter when tensors are allocated, so there is nothing to be bit-exact with. TensorFlow
2's converter writes `tf.where(cond, x, y)` as SELECT_V2; SELECT comes from `tf.compat.v1.where`.
"""

from __future__ import annotations

from ..ir import Graph, Operator
from .base import KernelCall, lowering, reject


@lowering("SELECT")
def lower_select(graph: Graph, op: Operator) -> KernelCall:
    raise reject(op, "TFLite Micro has no SELECT kernel (only SELECT_V2), so there is nothing to be bit-exact "
                     "with; convert the model with tf.where from TensorFlow 2, which is written as SELECT_V2")
