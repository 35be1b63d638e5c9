"""The shape checks BATCH_MATMUL's int8 and int16 lowerings share: operands padded with leading ones
to one rank, adj_x / adj_y, the inner dimension, broadcast batch dimensions."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..ir import Operator
from .base import reject


class MatmulShapes(NamedTuple):
    lhs: tuple[int, ...]  # padded to the rank asked for
    rhs: tuple[int, ...]
    m: int
    k: int
    n: int
    batch: list[int]  # the broadcast batch dimensions, one per padded leading dimension


def strides(shape: tuple[int, ...]) -> list[int]:
    return [int(np.prod(shape[i + 1:], dtype=np.int64)) for i in range(len(shape))]


def matmul_shapes(op: Operator, lhs: tuple[int, ...], rhs: tuple[int, ...], rank: int) -> MatmulShapes:
    adj_x, adj_y = bool(op.options.get("adj_x", False)), bool(op.options.get("adj_y", False))
    ls = (1,) * (rank - len(lhs)) + tuple(lhs)
    rs = (1,) * (rank - len(rhs)) + tuple(rhs)
    m, k = (ls[-1], ls[-2]) if adj_x else (ls[-2], ls[-1])
    k_r, n = (rs[-1], rs[-2]) if adj_y else (rs[-2], rs[-1])
    if k != k_r:
        raise reject(op, f"inner dimensions differ: {list(lhs)} (adj_x={adj_x}) and {list(rhs)} "
                         f"(adj_y={adj_y})")
    batch = []
    for a, b in zip(ls[:-2], rs[:-2], strict=True):
        if a != b and 1 not in (a, b):
            raise reject(op, f"batch dimensions {list(lhs[:-2])} and {list(rhs[:-2])} do not broadcast")
        batch.append(max(a, b))
    return MatmulShapes(ls, rs, m, k, n, batch)
