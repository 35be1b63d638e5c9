"""CONV_2D on 1 to 3 input channels (a model's first layer, on an image or a spectrogram):
runtime/kernels/conv2d_s8_first.c. Its column order, its weight layout and the conditions under
which it runs are computed here; conv.py calls `lower` for the shapes `wanted` accepts.
"""

from __future__ import annotations

import numpy as np

from ..ir import Operator
from . import float_requant
from .base import ConstArray, ConstRef, FastOr, KernelCall

MAX_PAIRS = 40  # MCF_CONV2D_FIRST_MAX_PAIRS of conv2d_s8_first.h
MAX_WINDOW = 256  # MCF_CONV2D_FIRST_MAX_WINDOW of conv2d_s8_first.h

Slot = tuple[int, int] | None  # (window row, byte of the row's run) of a halfword, or None: weight 0


def column_slots(rows: int, row_bytes: int) -> list[tuple[Slot, Slot]]:
    """The (low, high) halfwords of each column word of a pixel, in the kernel's order
    (mcf_first_columns): per row, its whole words as bytes (0, 2) and (1, 3); then the bytes left
    over in each row (1: two rows' bytes per word; 2: one word per row; 3: bytes (0, 2) and (1, -)),
    an odd last word beside a zero word."""
    full, left = divmod(row_bytes, 4)
    words: list[tuple[Slot, Slot]] = []
    for r in range(rows):
        for g in range(full):
            b = 4 * g
            words += [((r, b), (r, b + 2)), ((r, b + 1), (r, b + 3))]
    singles: list[tuple[Slot, Slot]] = []
    b = 4 * full
    if left == 1:
        for r in range(0, rows, 2):
            singles.append(((r, b), (r + 1, b) if r + 1 < rows else None))
    elif left == 2:
        singles += [((r, b), (r, b + 1)) for r in range(rows)]
    elif left == 3:
        for r in range(rows):
            singles += [((r, b), (r, b + 2)), ((r, b + 1), None)]
    if len(singles) % 2:
        singles.append((None, None))
    return words + singles


def wanted(geo: dict[str, int], ic: int, fc: int, oc: int, fh: int, fw: int, groups: int) -> bool:
    """Whether the path takes this convolution: 1 to 3 input channels (not the one-channel 3x3 filter,
    which has a path of its own), no column dilation, an even number of output channels, at least 8
    (fewer leave the columns too few channels to pay for them), and a window that the kernel's stack
    buffers hold."""
    if groups != 1 or fc != ic or ic > 3 or geo["dilation_w"] != 1 or oc % 2 or oc < 8:
        return False
    if ic == 1 and (fh, fw, geo["dilation_h"]) == (3, 3, 1):
        return False
    row_bytes = fw * ic
    return (len(column_slots(fh, row_bytes)) // 2 <= MAX_PAIRS
            and fh * ((row_bytes + 3) // 4 * 4) <= MAX_WINDOW)


def filter_layout(w: np.ndarray, bias: np.ndarray, out_q: np.ndarray, scale: int = 2) -> np.ndarray:
    """[oc, fh, fw, ic] int8 weights, the bias and three output words per channel → the uint32 words
    of conv2d_s8_first.h: per channel pair eight words (the biases times `scale`, both channels'
    output words), then per column pair the two channels' two words of int16 weights times `scale`
    (2: the short output stage; 1: the long one)."""
    oc, fh, fw, ic = w.shape
    flat = w.reshape(oc, fh, fw * ic).astype(np.int64)
    slots = column_slots(fh, fw * ic)
    halves = np.zeros((oc, len(slots), 2), dtype=np.int64)
    for j, pair in enumerate(slots):
        for h, slot in enumerate(pair):
            if slot is not None and slot[1] < fw * ic:
                halves[:, j, h] = scale * flat[:, slot[0], slot[1]]
    q = halves & 0xFFFF
    words = q[..., 0] | (q[..., 1] << 16)  # [oc, nw]
    pairs = len(slots) // 2
    q3 = out_q.reshape(oc, 3)
    out = []
    for a in range(0, oc, 2):
        head = [scale * bias[a], scale * bias[a + 1], *q3[a], *q3[a + 1]]
        body = words[a:a + 2].reshape(2, pairs, 2).transpose(1, 0, 2).reshape(-1)
        out += [np.array(head, dtype=np.int64) & 0xFFFFFFFF, body]
    return np.concatenate(out).astype(np.uint32)


def lower(op: Operator, geo: dict[str, int], w: np.ndarray, bias: np.ndarray, out_q: np.ndarray | None,
          params: dict, consts: list[ConstArray], macs: int, comment: str, overlap: dict[int, int]) -> KernelCall:
    """The call of the path. `out_q` holds {multiplier, round, e} per output channel for the short
    output stage (conv.one_channel_constants: the sums start at 2 * bias and add 2 * w * (x +
    input_offset)), or is None where that could leave int32: then the sums are not doubled and each
    output takes the long stage, {multiplier, shift, 0} per channel (mcf_requantize). For
    onnxruntime's float32 output stage (float_requant) `out_q` is None and `mult` holds the scales'
    bit patterns: {scale bits, mq, pq} per channel (mq, pq: float_requant.soft_constants, for cores
    without an FPU), for the _f32 entry points the caller renames to."""
    oc, fh, fw, ic = w.shape
    by_name = {c.name: c.values for c in consts}
    long_out = out_q is None
    if out_q is None and float_requant.wants_float32(op):
        # {scale bits, mq, pq}: the bits for cores with an FPU, the constants of mcf_requant_f32_pre
        # (conv._quant_params wrote them into `shift`) for cores without one
        mult = np.broadcast_to(by_name["mult"], (oc,)).astype(np.int64)
        soft = by_name["shift"].astype(np.int64).reshape(2, -1)
        out_q = np.stack([mult, np.broadcast_to(soft[0], (oc,)), np.broadcast_to(soft[1], (oc,))],
                         axis=1).reshape(-1)
    elif out_q is None:
        mult = np.broadcast_to(by_name["mult"], (oc,)).astype(np.int64)
        shift = np.broadcast_to(by_name["shift"], (oc,)).astype(np.int64)
        out_q = np.stack([mult, shift, np.zeros(oc, dtype=np.int64)], axis=1).reshape(-1)
    act = "full" if (params["act_min"], params["act_max"]) == (-128, 127) else "clamp"
    pairs = len(column_slots(fh, fw * ic)) // 2
    call_params = {
        "batches": geo["batches"], "input_h": geo["input_h"], "input_w": geo["input_w"], "input_c": ic,
        "output_h": geo["output_h"], "output_w": geo["output_w"], "output_c": oc, "filter_h": fh,
        "filter_w": fw, "stride_h": geo["stride_h"], "stride_w": geo["stride_w"],
        "dilation_h": geo["dilation_h"], "pad_top": geo["pad_top"], "pad_left": geo["pad_left"],
        "row_bytes": fw * ic, "pairs": pairs, "input_offset": params["input_offset"],
        "output_offset": params["output_offset"], "act_min": params["act_min"], "act_max": params["act_max"],
        "per_channel": params["per_channel"], "long_out": int(long_out), "bias": ConstRef("bias"),
        "multiplier": ConstRef("mult"), "shift": ConstRef("shift"),
    }
    layout = ConstArray("filter_first", "uint32_t", filter_layout(w, bias, out_q, 1 if long_out else 2),
                        fast_only=True)
    return KernelCall(op=op, kernel="conv2d_s8_first", function=f"mcf_conv2d_s8_first_{act}",
                      params_type="mcf_conv2d_first_params", params=call_params,
                      args=[op.inputs[0], FastOr(ConstRef("filter_first"), op.inputs[1]), op.outputs[0]],
                      consts=[*consts, layout], macs=macs, comment=comment + ", few input channels",
                      overlap=overlap)
