"""SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND (int8): older TensorFlow converters write a dilated
convolution as SPACE_TO_BATCH_ND -> CONV_2D -> BATCH_TO_SPACE_ND.

TFLite Micro takes 3-D (N, H, C) and 4-D (N, H, W, C) tensors, a constant block shape and constant
paddings / crops, and moves whole pixels (runtime/kernels/batch_space_s8.c); so does mcuforge.
Where SPACE_TO_BATCH_ND pads, TFLite writes the output zero point (real 0); TFLite Micro reads that
value from a parameter block it never fills (whatever its arena held: 0, or 4 with a zero point of 5,
in the interpreter), so only a padding value of 0 has a defined meaning in both: a model that pads
with another output zero point is refused, saying why.
"""

from __future__ import annotations

from ..ir import Graph, Operator, Tensor
from .base import KernelCall, ParamValue, lowering, reject
from .layout import const_ints


def _io(graph: Graph, op: Operator) -> tuple[Tensor, list[int], list[int], Tensor]:
    if len(op.inputs) != 3 or len(op.outputs) != 1:
        raise reject(op, f"expected 3 inputs and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    inp, block_t, pads_t = graph.op_inputs(op)
    out = graph.op_outputs(op)[0]
    if inp is None or block_t is None or pads_t is None:
        raise reject(op, "an input is missing")
    for t in (inp, out):
        if t.dtype != "int8":
            raise reject(op, f"tensor '{t.name}' is {t.dtype}; TFLite Micro's {op.opcode} takes int8 (or float32)")
    rank = len(inp.shape)
    if rank not in (3, 4) or len(out.shape) != rank:
        raise reject(op, f"input {list(inp.shape)} and output {list(out.shape)}: TFLite Micro takes 3-D or 4-D "
                         "tensors of the same rank")
    spatial = rank - 2
    block = const_ints(op, block_t, "block shape")
    pads = const_ints(op, pads_t, "paddings" if op.opcode == "SPACE_TO_BATCH_ND" else "crops")
    if len(block) != spatial or len(pads) != 2 * spatial:
        raise reject(op, f"a {rank}-D input needs {spatial} block sizes and {spatial} pairs of paddings, "
                         f"got {len(block)} and {len(pads)} values")
    if min(block) < 1 or min(pads) < 0:
        raise reject(op, f"block shape {block} must be positive and paddings {pads} not negative")
    return inp, block, pads, out


def _grid(t: Tensor) -> tuple[int, int, int, int]:
    """(N, H, W, C) of an NHWC tensor, a 3-D one as N x H x 1 x C."""
    s = list(t.shape)
    return (s[0], s[1], s[2], s[3]) if len(s) == 4 else (s[0], s[1], 1, s[2])


@lowering("SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND")
def lower_batch_space(graph: Graph, op: Operator) -> KernelCall:
    inp, block, pads, out = _io(graph, op)
    bh, bw = (block[0], block[1]) if len(block) == 2 else (block[0], 1)
    top, bottom = pads[0], pads[1]
    left, right = (pads[2], pads[3]) if len(pads) == 4 else (0, 0)
    n, h, w, c = _grid(inp)
    to_batch = op.opcode == "SPACE_TO_BATCH_ND"
    if to_batch:
        ph, pw = h + top + bottom, w + left + right
        if ph % bh or pw % bw:
            raise reject(op, f"the padded size {ph} x {pw} is not a multiple of the block {bh} x {bw}")
        want = (n * bh * bw, ph // bh, pw // bw, c)
        batch = n
        if (top or bottom or left or right) and out.zero_point != 0:
            raise reject(op, f"it pads and the output zero point is {out.zero_point}: TFLite Micro pads with a "
                             "value it never sets (0 in practice), TFLite with the zero point; a result either "
                             "way would not be the model's")
    else:
        if n % (bh * bw):
            raise reject(op, f"the input batch {n} is not a multiple of the block {bh} x {bw}")
        want = (n // (bh * bw), h * bh - top - bottom, w * bw - left - right, c)
        batch = want[0]
    if tuple(_grid(out)) != want or min(want) < 1:
        raise reject(op, f"the output should be {list(want)} (as N, H, W, C) but the model says {list(out.shape)}")
    params: dict[str, ParamValue] = {"batch": batch, "block_h": bh, "block_w": bw, "in_h": h, "in_w": w,
                                     "out_h": want[1], "out_w": want[2], "depth": c, "top": top, "left": left,
                                     "pad_value": 0}
    return KernelCall(op=op, kernel="batch_space_s8",
                      function="mcf_space_to_batch_s8" if to_batch else "mcf_batch_to_space_s8",
                      params_type="mcf_batch_space_params", params=params,
                      args=[op.inputs[0], op.outputs[0]], comment=f", block {bh} x {bw}")
