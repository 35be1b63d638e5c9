"""GATHER: slices of the input along one axis, picked by int32 positions (constant or not).

TFLite Micro gathers int8 (and float32) data with int32 positions, `batch_dims` leading
dimensions shared by the data and the positions; it copies bytes unchanged. Constant positions
are checked here; positions computed at run time that fall outside the axis give zeros in
mcuforge (TFLite Micro reads outside the tensor there).
"""

from __future__ import annotations

import numpy as np

from ..ir import DTYPE_BYTES, Graph, Operator, Tensor
from .base import KernelCall, lowering, reject
from .strided import require_types


def data_and_positions(graph: Graph, op: Operator, what: str) -> tuple[Tensor, Tensor, Tensor]:
    """(int8 data, int32 positions, output) of GATHER or GATHER_ND; `what` names the positions in
    refusals ("positions", "indices")."""
    if len(op.inputs) != 2 or len(op.outputs) != 1:
        raise reject(op, f"expected 2 inputs and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    inp, pos = graph.op_inputs(op)
    out = graph.op_outputs(op)[0]
    if inp is None or pos is None:
        raise reject(op, "an input is missing")
    require_types(op, ("int8",), inp, out)
    if pos.dtype != "int32":
        raise reject(op, f"{what} '{pos.name}' are {pos.dtype}; TFLite Micro's {op.opcode} takes int32 {what}")
    return inp, pos, out


@lowering("GATHER")
def lower_gather(graph: Graph, op: Operator) -> KernelCall:
    inp, pos, out = data_and_positions(graph, op, "positions")
    rank, prank = len(inp.shape), len(pos.shape)
    axis = int(op.options.get("axis", 0))
    axis = axis + rank if axis < 0 else axis
    bd = int(op.options.get("batch_dims", 0))
    bd = bd + prank if bd < 0 else bd
    if not 0 <= axis < rank:
        raise reject(op, f"axis {op.options.get('axis', 0)} is out of range for {rank} dimensions")
    if not (0 <= bd <= axis and bd < rank and bd <= prank):
        raise reject(op, f"batch_dims {op.options.get('batch_dims', 0)} is out of range (TFLite Micro needs "
                         f"0 <= batch_dims <= axis {axis})")
    if list(inp.shape[:bd]) != list(pos.shape[:bd]):
        raise reject(op, f"the first {bd} dimensions of {list(inp.shape)} and positions {list(pos.shape)} differ")
    want = list(inp.shape[:axis]) + list(pos.shape[bd:]) + list(inp.shape[axis + 1:])
    if list(out.shape) != want:
        raise reject(op, f"the output should be {want} but the model says {list(out.shape)}")
    if pos.data is not None:
        bad = [int(v) for v in np.asarray(pos.data).reshape(-1) if not 0 <= v < inp.shape[axis]]
        if bad:
            raise reject(op, f"position {bad[0]} is outside [0, {inp.shape[axis]})")

    def prod(dims: tuple[int, ...]) -> int:
        return int(np.prod(dims, dtype=np.int64))

    return KernelCall(
        op=op,
        kernel="gather",
        function="mcf_gather",
        params_type="mcf_gather_params",
        params={"batches": prod(inp.shape[:bd]), "outer": prod(inp.shape[bd:axis]), "coords": prod(pos.shape[bd:]),
                "axis_size": inp.shape[axis], "run": prod(inp.shape[axis + 1:]) * DTYPE_BYTES[inp.dtype]},
        args=[inp.index, pos.index, out.index],
        comment=f", axis {axis}, batch_dims {bd}",
    )
