"""PAD and PADV2 (int8, up to 5-D, constant paddings).

TFLite Micro copies the input bytes unchanged (no requantization, whatever the scales) and fills
the border with the output zero point (PAD) or with the raw int8 of the constant-value input
(PADV2, whose quantization must equal the output's). Here the paddings are read from the model,
checked against the stored output shape, and the shape is simplified for the kernel: every
unpadded dimension is folded into the one outside it.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator
from .base import KernelCall, lowering, reject, require_int8
from .fully_connected_s16 import require_int16
from .pad_s16 import as_int16

DIMS = 5  # MCF_PAD_DIMS in pad_s8.h, also TFLite's maximum


def _c_array(values: list[int]) -> str:
    return "{" + ", ".join(str(v) for v in values) + "}"


def simplify(shape: list[int], left: list[int], right: list[int]) -> tuple[list[int], list[int], list[int]]:
    """Fold each unpadded dimension into the next outer one; right-align in DIMS dimensions."""
    shape, left, right = list(shape), list(left), list(right)
    i = len(shape) - 1
    while i > 0:
        if left[i] == 0 and right[i] == 0:
            n = shape.pop(i)
            left.pop(i)
            right.pop(i)
            shape[i - 1] *= n
            left[i - 1] *= n
            right[i - 1] *= n
        i -= 1
    lead = DIMS - len(shape)
    return [1] * lead + shape, [0] * lead + left, [0] * lead + right


@lowering("PAD", "PADV2")
def lower_pad(graph: Graph, op: Operator) -> KernelCall:
    expected_inputs = (2,) if op.opcode == "PAD" else (2, 3)
    if len(op.inputs) not in expected_inputs or len(op.outputs) != 1:
        raise reject(op, f"expected {' or '.join(map(str, expected_inputs))} inputs and 1 output, got "
                         f"{len(op.inputs)} and {len(op.outputs)}")
    ins = graph.op_inputs(op)
    inp, paddings = ins[0], ins[1]
    const = ins[2] if len(ins) > 2 else None
    out = graph.op_outputs(op)[0]
    if inp is None or paddings is None:
        raise reject(op, "the data and paddings inputs are both required")
    wide = inp.dtype == "int16"  # 16x8: the same checks, the int16 kernel (pad_s16.py)
    if wide:
        require_int16(op, inp, out)
    else:
        require_int8(op, inp, out)
    rank = len(inp.shape)
    if rank > DIMS:
        raise reject(op, f"input has {rank} dimensions; at most {DIMS} are supported (as in TFLite Micro)")
    if len(out.shape) != rank:
        raise reject(op, f"output rank {len(out.shape)} differs from input rank {rank}")
    if paddings.data is None:
        raise reject(op, "the paddings tensor must be constant")
    if paddings.dtype != "int32":
        raise reject(op, f"the paddings tensor must be int32, got {paddings.dtype}")
    pads = np.asarray(paddings.data).reshape(-1)
    if pads.size != 2 * rank:
        raise reject(op, f"paddings has {pads.size} values, expected {2 * rank} ([{rank}, 2])")
    left = [int(v) for v in pads[0::2]]
    right = [int(v) for v in pads[1::2]]
    if min(left + right, default=0) < 0:
        raise reject(op, f"negative paddings are not supported (got {pads.reshape(rank, 2).tolist()})")
    expected = [d + a + b for d, a, b in zip(inp.shape, left, right, strict=True)]
    if list(out.shape) != expected:
        raise reject(op, f"output shape {list(out.shape)} does not match input {list(inp.shape)} plus "
                         f"paddings {pads.reshape(rank, 2).tolist()} = {expected}")
    if inp.size == 0:
        raise reject(op, f"input shape {list(inp.shape)} is empty")

    assert out.quant is not None
    if const is None:
        value = 0 if wide else out.zero_point  # TFLite Micro pads int16 with 0 whatever the zero point
    else:
        if const.dtype != inp.dtype:
            raise reject(op, f"the constant value must be {inp.dtype} like the input, got {const.dtype}")
        if const.data is None:
            raise reject(op, "the constant value input must be constant")
        if const.size != 1:
            raise reject(op, f"the constant value must be a scalar, it has {const.size} elements")
        same_quant = (const.quant is not None and const.zero_point == out.zero_point
                      and np.float32(const.scale) == np.float32(out.scale))
        if not same_quant:
            raise reject(op, "the constant value must have the output's scale and zero point")
        value = int(np.asarray(const.data).reshape(-1)[0])
    if not wide and not -128 <= value <= 127:
        raise reject(op, f"the padding value {value} is outside int8")

    shape, lo, hi = simplify(list(inp.shape), left, right)
    out_dims = [s + a + b for s, a, b in zip(shape, lo, hi, strict=True)]
    block = [int(np.prod(out_dims[k + 1:], dtype=np.int64)) for k in range(DIMS)]
    call = KernelCall(
        op=op,
        kernel="pad_s8",
        function="mcf_pad_s8",
        params_type="mcf_pad_params",
        params={
            "input": _c_array(shape),
            "left": _c_array(lo),
            "right": _c_array(hi),
            "block": _c_array(block),
            "pad_value": value,
        },
        args=[op.inputs[0], op.outputs[0]],
        comment=f", paddings {pads.reshape(rank, 2).tolist()}",
    )
    return as_int16(call) if wide else call
