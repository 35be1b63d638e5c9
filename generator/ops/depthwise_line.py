"""The line path of DEPTHWISE_CONV_2D (depthwise_conv2d_s8.c, entry points `_line_full` / `_line_clamp`).

A depth-multiplier-1 layer whose window is one column or one row (k x 1 kernels over time in keyword
spotting and wake-word models, often with a one-pixel output) spends most of its instructions outside
the taps on the pixel path: a loop per window row and the general output stage per channel. The line
path walks the taps of each pixel along one axis and ends each channel in the short output stage of
the fast paths, from three constants per channel computed here.
"""
from __future__ import annotations

import numpy as np

INT32_MAX = 2**31 - 1


def takes(fh: int, fw: int, multiplier: int) -> bool:
    """Whether the line path computes a layer: depth multiplier 1, a window of 2 or more taps in one
    column or one row."""
    return multiplier == 1 and min(fh, fw) == 1 and max(fh, fw) >= 2


def output_constants(w: np.ndarray, bias: np.ndarray, mult: np.ndarray, shift: np.ndarray,
                     output_offset: int) -> np.ndarray | None:
    """The line path's `line_q` (int32), or None where its output stage does not apply: a shift that is
    not a right shift (e < 1), or a doubled sum, a high product plus its rounding constant that could
    leave int32.

    Per output channel c the constants {multiplier, 2^(e-1) + output_offset * 2^e, e} (e = -shift);
    per group of four channels their four biases, then their four triples; each of the last 1..3
    channels its bias, then its triple. `w` is [taps, channels]; sums start at the unfolded bias and
    add w * (x + input_offset), with |x + input_offset| <= 255. The kernel computes t = SMMULR(2 * acc,
    m) = floor((acc * m + 2^30) / 2^31), TFLite Micro's saturating rounding doubling high multiply for
    m >= 0, then (t + 2^(e-1) + output_offset * 2^e - [t < 0]) >> e, its rounding right shift plus the
    offset.
    """
    channels = w.shape[1]
    m = np.broadcast_to(np.asarray(mult, dtype=np.int64).reshape(-1), (channels,))
    e = -np.broadcast_to(np.asarray(shift, dtype=np.int64).reshape(-1), (channels,))
    if channels == 0 or e.min() < 1 or e.max() > 31 or m.min() < 0:
        return None
    acc_max = np.abs(bias.astype(np.int64)) + 255 * np.abs(w.astype(np.int64)).sum(axis=0)
    triples = []
    for c in range(channels):
        ec = int(e[c])
        rounding = 2 ** (ec - 1) + output_offset * 2**ec
        t_max = (int(acc_max[c]) * int(m[c])) // 2**31 + 1
        if 2 * int(acc_max[c]) > INT32_MAX or t_max + abs(rounding) + 1 > INT32_MAX:
            return None
        triples.append([int(m[c]), rounding, ec])
    out: list[int] = []
    whole = channels - channels % 4
    for g in range(0, whole, 4):
        out += [int(v) for v in bias[g:g + 4]]
        for c in range(g, g + 4):
            out += triples[c]
    for c in range(whole, channels):
        out += [int(bias[c]), *triples[c]]
    return np.array(out, dtype=np.int64)
