"""CONCATENATION of int16 tensors, reached from concat.py.

TFLite Micro copies int16 values unchanged, whatever the scales; it only requires zero points 0.
The copy is pack_split's join (runtime/kernels/pack_split.c): `outer` repetitions of one
contiguous slab per input, sizes in bytes.
"""

from __future__ import annotations

from ..ir import Graph, Operator, Tensor
from .base import KernelCall, reject
from .fully_connected_s16 import require_int16
from .split_pack import lower_plain_concat


def lower_concat_s16(graph: Graph, op: Operator, ins: list[Tensor], out: Tensor) -> KernelCall:
    require_int16(op, *ins, out)
    for t in (*ins, out):
        if t.zero_point != 0:
            raise reject(op, f"int16 tensor '{t.name}' has zero point {t.zero_point}; TFLite Micro needs 0")
    return lower_plain_concat(op, ins, out)
