"""TRANSPOSE_CONV (int8 activations, int8 weights per-tensor or per-channel, optional int32 bias).

TFLite Micro scatters every input pixel into the output through the filter and requantizes the
int32 sums like CONV_2D (multiplier and shift per output channel from input_scale * weight_scale /
output_scale in double, the fused activation as a clamp); output pixels that no tap reaches get
the bias alone. Its padding is CONV_2D's for a convolution whose input is this operator's output
(ComputePaddingHeightWidth on the output size, filter and stride).

Here the same sums are gathered per output pixel instead, so that no int32 scratch of the output's
size is needed: output row oy receives input row iy through filter row fy = oy + pad_top - iy *
stride_h, for every iy and fy in range. Those (first input row, number of rows, first filter row)
triples are computed here for every output row and column; the kernel walks them (filter row
steps by -stride per input row) with no division. The input zero point is folded per filter tap:
input_offset * (sum of the tap's weights over the input channels), so the inner loop is a plain
int8 dot product (SMLAD on cores with the DSP extension).
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Operator
from .base import ConstArray, ConstRef, KernelCall, lowering, padding_offsets, reject
from .conv import _bias, _check_quant, _quant_params
from .conv_s16 import lower_transpose_conv_s16


def gather_taps(out_size: int, in_size: int, filt: int, stride: int, pad: int) -> list[tuple[int, int, int]]:
    """(first input index, count, first filter index) of the taps reaching each output index; the
    filter index falls by `stride` for every further input index."""
    taps = []
    for o in range(out_size):
        reach = [i for i in range(in_size) if 0 <= o + pad - i * stride < filt]
        taps.append((reach[0], len(reach), o + pad - reach[0] * stride) if reach else (0, 0, 0))
    return taps


@lowering("TRANSPOSE_CONV")
def lower_transpose_conv(graph: Graph, op: Operator) -> KernelCall:
    if len(op.inputs) not in (3, 4) or len(op.outputs) != 1:
        raise reject(op, f"expected 3 or 4 inputs (output shape, weights, input[, bias]) and 1 output, "
                         f"got {len(op.inputs)} and {len(op.outputs)}")
    ins = [*graph.op_inputs(op), None]
    weights, inp, bias = ins[1], ins[2], ins[3]
    out = graph.op_outputs(op)[0]
    if inp is None or weights is None:
        raise reject(op, "the input and the weights are required")
    if len(inp.shape) != 4 or len(out.shape) != 4 or len(weights.shape) != 4:
        raise reject(op, f"input, weights and output must be 4-D, got {list(inp.shape)}, {list(weights.shape)} "
                         f"and {list(out.shape)}")
    oc, fh, fw, fc = weights.shape
    n, ih, iw, ic = inp.shape
    on, oh, ow, occ = out.shape
    if fc != ic or occ != oc or on != n:
        raise reject(op, f"shapes do not agree: input {list(inp.shape)}, weights {list(weights.shape)} "
                         f"[out_channels, h, w, in_channels], output {list(out.shape)}")
    opts = op.options
    pads = opts.get("pads")  # explicit (top, left, bottom, right): an ONNX ConvTranspose's output crop
    padding = "explicit" if pads is not None else opts.get("padding", "SAME")
    if padding not in ("SAME", "VALID", "explicit"):
        raise reject(op, f"unsupported padding {padding!r}; only SAME and VALID exist for this op")
    sh, sw = int(opts.get("stride_h", 1)), int(opts.get("stride_w", 1))
    if sh < 1 or sw < 1:
        raise reject(op, f"strides must be >= 1, got stride_h={sh} stride_w={sw}")
    if pads is not None:
        pad_top, pad_left = int(pads[0]), int(pads[1])
        if pad_top < 0 or pad_left < 0:
            raise reject(op, f"negative padding {list(pads)} is not supported")
    else:
        _, pad_top = padding_offsets(padding, oh, fh, sh, 1)
        _, pad_left = padding_offsets(padding, ow, fw, sw, 1)
    rows = [v for t in gather_taps(oh, ih, fh, sh, pad_top) for v in t]
    cols = [v for t in gather_taps(ow, iw, fw, sw, pad_left) for v in t]
    if inp.dtype == "int16":  # 16x8 (conv_s16.py)
        geo = {"batches": n, "input_h": ih, "input_w": iw, "output_h": oh, "output_w": ow, "stride_h": sh,
               "stride_w": sw, "pad_top": pad_top, "pad_left": pad_left}
        return lower_transpose_conv_s16(op, inp, weights, bias, out, geo, rows, cols)
    weight_scales = _check_quant(op, inp, weights, out, oc, axis=0)
    b = _bias(op, bias, oc)

    params, consts = _quant_params(op, inp, out, weight_scales, b, np.zeros(oc, dtype=np.int64))
    consts = [c for c in consts if c.name != "folded_bias"]
    assert weights.data is not None  # _check_quant rejects variable weights
    # input_offset * (sum of each tap's weights over the input channels): the zero point folded per tap
    tap_offset = -np.int64(inp.zero_point) * weights.data.astype(np.int64).sum(axis=3)
    consts += [ConstArray("rows", "int32_t", np.array(rows, dtype=np.int32)),
               ConstArray("cols", "int32_t", np.array(cols, dtype=np.int32)),
               ConstArray("tap_offset", "int32_t", tap_offset.reshape(-1).astype(np.int32))]
    keep = ("input_offset", "output_offset", "act_min", "act_max", "per_channel", "multiplier", "shift", "bias")
    return KernelCall(
        op=op,
        kernel="transpose_conv_s8",
        function="mcf_transpose_conv_s8",
        params_type="mcf_transpose_conv_params",
        params={"batches": n, "input_h": ih, "input_w": iw, "input_c": ic, "output_h": oh, "output_w": ow,
                "output_c": oc, "filter_h": fh, "filter_w": fw, "stride_h": sh, "stride_w": sw,
                **{k: params[k] for k in keep}, "rows": ConstRef("rows"), "cols": ConstRef("cols"),
                "tap_offset": ConstRef("tap_offset")},
        args=[op.inputs[2], op.inputs[1], op.outputs[0]],
        consts=consts,
        macs=n * ih * iw * ic * fh * fw * oc,
        comment=f", {fh}x{fw} stride {sh}x{sw}, {padding}",
    )
