"""GATHER_ND: slices of the input picked by constant int32 index tuples.

TFLite Micro gathers int8 (and float32) data; the last dimension of the indices (at most 5)
names the leading input coordinates of each slice. mcuforge folds constant indices at compile
time into one flat slice position per output slice and runs the GATHER copy loop with them.
Indices computed at run time are refused, as are indices outside the input (TFLite Micro fails
the invoke there).
"""

from __future__ import annotations

import numpy as np

from ..ir import DTYPE_BYTES, Graph, Operator
from .base import ConstArray, ConstRef, KernelCall, lowering, reject
from .gather import data_and_positions

MAX_INDEX_DEPTH = 5  # TFLite Micro's limit on the indices' last dimension


@lowering("GATHER_ND")
def lower_gather_nd(graph: Graph, op: Operator) -> KernelCall:
    inp, idx, out = data_and_positions(graph, op, "indices")
    if idx.data is None:
        raise reject(op, f"indices '{idx.name}' are computed at run time; mcuforge needs constant indices")
    rank, irank = len(inp.shape), len(idx.shape)
    if rank < 1 or irank < 1:
        raise reject(op, "the input and the indices need at least one dimension")
    depth = int(idx.shape[-1])
    if depth < 1:
        raise reject(op, "index tuples of 0 coordinates are not supported")
    if depth > rank or depth > MAX_INDEX_DEPTH:
        raise reject(op, f"index tuples of {depth} coordinates exceed the input rank {rank} "
                         f"or TFLite Micro's limit {MAX_INDEX_DEPTH}")
    want = list(idx.shape[:-1]) + list(inp.shape[depth:])
    if list(out.shape) != want:
        raise reject(op, f"the output should be {want} but the model says {list(out.shape)}")
    tuples = np.asarray(idx.data, dtype=np.int64).reshape(-1, depth)
    lead = np.array(inp.shape[:depth], dtype=np.int64)
    bad = (tuples < 0) | (tuples >= lead)
    if bad.any():
        row = int(np.argwhere(bad.any(axis=1))[0][0])
        raise reject(op, f"index {tuples[row].tolist()} is outside the input's leading dimensions {lead.tolist()}")
    strides = np.ones(depth, dtype=np.int64)
    for k in range(depth - 2, -1, -1):
        strides[k] = strides[k + 1] * lead[k + 1]
    positions = (tuples * strides).sum(axis=1).astype(np.int32)
    run = int(np.prod(inp.shape[depth:], dtype=np.int64)) * DTYPE_BYTES[inp.dtype]

    return KernelCall(
        op=op,
        kernel="gather",
        function="mcf_gather",
        params_type="mcf_gather_params",
        params={"batches": 1, "outer": 1, "coords": int(positions.size),
                "axis_size": int(np.prod(lead, dtype=np.int64)), "run": run},
        args=[inp.index, ConstRef("positions"), out.index],
        consts=[ConstArray("positions", "int32_t", positions)],
        comment=f", {depth}-coordinate indices folded to slice positions",
    )
