"""How far an operator's output may overlap an input that dies with it, proven from the kernel's loop order.

An operator whose input tensor is not read after it may write its output over that input's bytes,
as long as no input byte is overwritten before the kernel has read it for the last time. The
planner places such an output at `input_offset - shift` for a `shift >= min_shift` (or anywhere
it does not overlap at all); this module computes `min_shift` per operator, at compile time, from
a model of the kernel's access order that every path of the kernel (portable reference, portable
fast, DSP; runtime/kernels/*.c) refines:

* time is a sequence of *steps*; `read_step[j]` is the last step that reads input byte j (-1:
  never read), `write_step[o]` the step that writes output byte o (each output byte is written
  once);
* the kernel makes every read for the steps before t before any write of step t (`reads_first`:
  also the reads of step t itself: element-wise kernels compute `out[i]` from `in[i]`). Writes may
  come late and reads early - all that matters is that no read for an earlier step is left when a
  step writes.

Window operators (CONV_2D, DEPTHWISE_CONV_2D, AVERAGE/MAX_POOL_2D) walk output pixels in raster
order, batches outermost, and compute each pixel from its window only: the reference loops and
the direct/depthwise fast paths one pixel at a time (every channel, re-reading the window per
group of channels, so reads and writes of one pixel interleave), the im2col path two pixels at a
time (both windows into columns, then both pixels' channels: pixel 2t + 1's reads come before
pixel 2t's writes, which only makes them earlier). One step is one output pixel, and when pixel p
writes, every read for the pixels before it is done, on every path. The window read is taken as
its whole span of rows and columns (dilation gaps included), every channel. Element-wise
operators (ADD/SUB/MUL without broadcasting on that input, RELU, RELU6, HARD_SWISH, QUANTIZE,
requantize) read element i, then write element i: one step per element, reads first.

Given these, shift s is safe when, for every output byte o over the input (0 <= o - s < input
bytes), read_step[o - s] < write_step[o] (<= with reads first). With R(j) = max(read_step[:j+1])
nondecreasing, the smallest s that satisfies the stronger R(o - s) < write_step[o] for every o
also makes every larger shift safe, which is what the planner needs; `min_shift` returns it.
"""

from __future__ import annotations

import numpy as np


def min_shift(read_step: np.ndarray, write_step: np.ndarray, *, reads_first: bool) -> int:
    """The smallest shift s >= 0 such that every s' >= s is safe (see the module docstring)."""
    if write_step.size == 0 or read_step.size == 0:
        return 0
    prefix = np.maximum.accumulate(read_step.astype(np.int64))
    need = write_step.astype(np.int64) + (1 if reads_first else 0)
    # J(t): the first input byte whose prefix maximum reaches t (input size if none does); an output
    # byte o written at step t may lie over input bytes before J(t) only: o - s < J(t).
    # When no input byte blocks (J(t) = input size), byte o lies past the input or over dead bytes
    # for every shift: no constraint.
    first_blocked = np.searchsorted(prefix, need, side="left")
    o = np.arange(write_step.size, dtype=np.int64)
    constrained = first_blocked < read_step.size
    if not constrained.any():
        return 0
    return int(max(0, int((o - first_blocked + 1)[constrained].max())))


def _last_reader(size: int, out: int, stride: int, pad: int, extent: int) -> np.ndarray:
    """For each input position along one axis, the last output position whose window span covers
    it, or -1 when none does."""
    pos = np.arange(size, dtype=np.int64)
    last = np.minimum(out - 1, (pos + pad) // stride)
    covered = (last >= 0) & (last * stride - pad + extent - 1 >= pos)
    return np.where(covered, last, -1)


def window_access(*, batches: int, input_h: int, input_w: int, input_c: int, output_h: int, output_w: int,
                  output_c: int, stride_h: int, stride_w: int, pad_top: int, pad_left: int,
                  filter_h: int, filter_w: int, dilation_h: int = 1, dilation_w: int = 1,
                  pixels_per_step: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(read_step per input byte, write_step per output byte) of a window operator on int8 NHWC
    tensors walking output pixels in raster order, `pixels_per_step` at a time."""
    ext_h = (filter_h - 1) * dilation_h + 1
    ext_w = (filter_w - 1) * dilation_w + 1
    ry = _last_reader(input_h, output_h, stride_h, pad_top, ext_h)
    rx = _last_reader(input_w, output_w, stride_w, pad_left, ext_w)
    per_image = np.where((ry[:, None] >= 0) & (rx[None, :] >= 0), ry[:, None] * output_w + rx[None, :], -1)
    b = np.arange(batches, dtype=np.int64)[:, None, None]
    pixel = np.where(per_image[None] >= 0, b * output_h * output_w + per_image[None], -1).reshape(-1)
    read_pixel = np.where(pixel >= 0, pixel // pixels_per_step, -1)
    read_step = np.repeat(read_pixel, input_c)
    out_pixels = batches * output_h * output_w
    write_step = np.repeat(np.arange(out_pixels, dtype=np.int64) // pixels_per_step, output_c)
    return read_step, write_step


def window_min_shift(**geometry: int) -> int:
    """min_shift (bytes) of a window operator; arguments as window_access."""
    read_step, write_step = window_access(**geometry)
    return min_shift(read_step, write_step, reads_first=False)


def elementwise_access(count: int, in_itemsize: int, out_itemsize: int) -> tuple[np.ndarray, np.ndarray]:
    """(read_step, write_step) of a kernel that reads element i of the input, then writes element i."""
    return (np.repeat(np.arange(count, dtype=np.int64), in_itemsize),
            np.repeat(np.arange(count, dtype=np.int64), out_itemsize))


def elementwise_min_shift(count: int, in_itemsize: int, out_itemsize: int) -> int:
    """min_shift of an element-wise kernel (elementwise_access)."""
    read_step, write_step = elementwise_access(count, in_itemsize, out_itemsize)
    return min_shift(read_step, write_step, reads_first=True)


def check_shift(read_step: np.ndarray, write_step: np.ndarray, shift: int, *, reads_first: bool) -> bool:
    """Whether the output at `input_offset - shift` is safe (exact, for tests)."""
    o = np.arange(write_step.size, dtype=np.int64)
    j = o - shift
    inside = (j >= 0) & (j < read_step.size)
    r = read_step[j[inside]]
    w = write_step[inside]
    return bool(np.all(r <= w) if reads_first else np.all(r < w))
