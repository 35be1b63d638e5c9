"""EMBEDDING_LOOKUP (int8 table, int8 output): rows of a table picked by int32 ids.

TFLite Micro's kernel takes the ids first (1-D int32) and the table second (int8 or float32, at
least 2-D); with an int8 output it copies each picked row's bytes unchanged, which is a GATHER on
axis 0 of the table, so it runs on the gather kernel. Its hybrid form (int8 table, float32 output,
rows dequantized) is refused, as is a float32 table. Constant ids are checked here; an id computed
at run time outside the table gives a row of zeros in mcuforge (TFLite Micro stops with an error).
"""

from __future__ import annotations

import numpy as np

from ..ir import DTYPE_BYTES, Graph, Operator
from .base import KernelCall, lowering, reject


@lowering("EMBEDDING_LOOKUP")
def lower_embedding_lookup(graph: Graph, op: Operator) -> KernelCall:
    if len(op.inputs) != 2 or len(op.outputs) != 1:
        raise reject(op, f"expected 2 inputs (ids, table) and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    ids, table = graph.op_inputs(op)
    out = graph.op_outputs(op)[0]
    if ids is None or table is None:
        raise reject(op, "the ids and the table are both required")
    if ids.dtype != "int32" or len(ids.shape) != 1:
        raise reject(op, f"ids '{ids.name}' are {ids.dtype} {list(ids.shape)}; TFLite Micro takes 1-D int32 ids")
    if table.dtype != "int8" or out.dtype != "int8":
        kind = "hybrid (int8 table, float32 output)" if table.dtype == "int8" else f"{table.dtype} table"
        raise reject(op, f"the {kind} form is not supported; only an int8 table with an int8 output is")
    if len(table.shape) < 2:
        raise reject(op, f"table '{table.name}' is {list(table.shape)}; TFLite Micro needs at least 2 dimensions")
    want = [ids.shape[0], *table.shape[1:]]
    if list(out.shape) != want:
        raise reject(op, f"the output should be {want} but the model says {list(out.shape)}")
    rows = int(table.shape[0])
    if rows == 0 or out.size == 0:
        raise reject(op, "empty tensors are not supported")
    if ids.data is not None:
        bad = [int(v) for v in np.asarray(ids.data).reshape(-1) if not 0 <= v < rows]
        if bad:
            raise reject(op, f"id {bad[0]} is outside [0, {rows})")
    run = int(np.prod(table.shape[1:], dtype=np.int64)) * DTYPE_BYTES[table.dtype]
    return KernelCall(
        op=op,
        kernel="gather",
        function="mcf_gather",
        params_type="mcf_gather_params",
        params={"batches": 1, "outer": 1, "coords": ids.shape[0], "axis_size": rows, "run": run},
        args=[table.index, ids.index, out.index],
        comment=f", {ids.shape[0]} of {rows} rows of {run} bytes",
    )
