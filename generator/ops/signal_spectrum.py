"""TFLite Micro's signal operators from samples to a power spectrum, integer only.

- SignalWindow: out = saturate_int16((x * w) >> shift), the window repeated over the input.
- SignalFftAutoScale: shifts the frame left so its largest magnitude uses the int16 range; the
  shift goes to an int32 scalar output (read later by SignalFilterBankSquareRoot).
- SignalRfft (int16): TFLite Micro runs kiss_fft's fixed-point real FFT (FIXED_POINT 16): a complex
  FFT of half the length over (even, odd) sample pairs, every butterfly stage dividing by its radix
  (multiplication by 32767 / radix, rounded, 15 fractional bits), then the split into the real
  spectrum with a second twiddle set and a final halving. Here Python builds everything kiss_fft
  computes when it is set up: the radix plan (kiss_fft's factorisation: fours first, then twos),
  the gather order of the first stage, the stage twiddles and the split twiddles, each one
  floor(0.5 + 32767 * cos or sin of the phase). The C kernel only walks those tables, in place in
  the output tensor. Lengths whose half has a factor other than 2 and 4 (kiss_fft's radix 3, 5 and
  generic butterflies) are refused by name; so is the float RFFT. The int32 RFFT is the same with
  kiss_fft's FIXED_POINT 32 (31 fractional bits, 64-bit products, int32 tables).
- SignalEnergy: re^2 + im^2 (uint32) for bins [start_index, end_index); the bins outside the range
  are left unwritten by TFLite Micro, and are written 0 here.
- SignalIrfft (int16 and int32): kiss_fftri, the inverse of the above with the same tables built
  for the inverse direction (lower_irfft); the float IRFFT is refused.
"""

from __future__ import annotations

import math

import numpy as np

from ..ir import Graph, Operator
from .base import ConstArray, ConstRef, FastOr, KernelCall, lowering, reject
from .signal_common import arity, custom_options, int_option, io, typed

_SAMP_MAX = 32767
_INT16_TYPE = 7  # TensorType.INT16, as SignalRfft's "T" option stores it
# "T" option -> (tensor type, C type, kiss_fft's SAMP_MAX, kernel suffix): FIXED_POINT 16 and 32
_FFT_TYPES = {_INT16_TYPE: ("int16", "int16_t", _SAMP_MAX, "s16"), 2: ("int32", "int32_t", 2147483647, "s32")}


@lowering("CUSTOM:SignalWindow")
def lower_window(graph: Graph, op: Operator) -> KernelCall:
    arity(op, 2, 1)
    (x, w), (out,) = io(graph, op)
    x = typed(op, x, "int16", rank=None)
    w = typed(op, w, "int16", rank=1)
    out = typed(op, out, "int16", rank=len(x.shape))
    shift = int_option(op, custom_options(op), "shift", 0, 31)
    if out.size != x.size or w.size == 0 or x.size % w.size:
        raise reject(op, f"input of {x.size} samples is not a whole number of {w.size}-sample windows "
                         f"(output {out.size})")
    args: list[int | ConstRef | FastOr] = [op.inputs[0], op.inputs[1], op.outputs[0]]
    consts = []
    if w.data is not None:
        consts.append(ConstArray("window", "int16_t", np.asarray(w.data, np.int16).reshape(-1)))
        args[1] = ConstRef("window")
    return KernelCall(op=op, kernel="signal_spectrum", function="mcf_signal_window",
                      params_type="mcf_signal_window_params",
                      params={"frames": x.size // w.size, "length": w.size, "shift": shift},
                      args=args, consts=consts, comment=f", shift {shift}")


@lowering("CUSTOM:SignalFftAutoScale")
def lower_fft_auto_scale(graph: Graph, op: Operator) -> KernelCall:
    arity(op, 1, 2)
    (x,), (out, bits) = io(graph, op)
    x = typed(op, x, "int16")
    out = typed(op, out, "int16")
    bits = typed(op, bits, "int32", rank=0)
    if out.size != x.size:
        raise reject(op, f"output {list(out.shape)} does not match input {list(x.shape)}")
    return KernelCall(op=op, kernel="signal_spectrum", function="mcf_signal_fft_auto_scale",
                      params_type="mcf_signal_auto_scale_params", params={"length": x.size},
                      args=[op.inputs[0], op.outputs[0], op.outputs[1]],
                      comment=f", {x.size} samples")


def kiss_factors(n: int) -> list[tuple[int, int]]:
    """kiss_fft's factorisation of n: (radix, remaining length) pairs, radix 4 first, then 2, 3, 5, ..."""
    out = []
    p = 4
    root = math.floor(math.sqrt(n))
    while True:
        while n % p:
            p = 2 if p == 4 else 3 if p == 2 else p + 2
            if p > root:
                p = n
        n //= p
        out.append((p, n))
        if n <= 1:
            return out


def gather_order(n: int, factors: list[tuple[int, int]]) -> list[int]:
    """Complex input index read into each position of the first (innermost) stage: kiss_fft's
    recursive decimation, position by position."""
    order = [0] * n

    def work(pos: int, src: int, fstride: int, depth: int) -> None:
        p, m = factors[depth]
        for k in range(p):
            if m == 1:
                order[pos + k] = src + k * fstride
            else:
                work(pos + k * m, src + k * fstride, fstride * p, depth + 1)

    work(0, 0, 1, 0)
    return order


def _cexp(phase: float, inverse: bool = False, samp_max: int = _SAMP_MAX) -> tuple[int, int]:
    """kiss_fft's fixed-point twiddle: the phase negated for an inverse FFT (exactly, as kiss_fft
    multiplies it by -1), then floor(0.5 + SAMP_MAX * cos or sin) in double."""
    if inverse:
        phase = -phase
    return math.floor(0.5 + samp_max * math.cos(phase)), math.floor(0.5 + samp_max * math.sin(phase))


def rfft_tables(fft_length: int, inverse: bool = False, samp_max: int = _SAMP_MAX
                ) -> tuple[list[int], list[int], list[int], list[int]]:
    """(stages as (radix, m, fstride) triples in execution order, gather order, stage twiddles,
    split twiddles), twiddles as interleaved (re, im) values of SAMP_MAX scale (32767: int16,
    2147483647: int32), for kiss_fftr (forward) or kiss_fftri (inverse)."""
    half = fft_length // 2
    factors = kiss_factors(half)
    stages = []
    fstride = 1
    for p, m in factors:
        stages.append((p, m, fstride))
        fstride *= p
    twiddles = [v for i in range(half) for v in _cexp(-2 * math.pi * i / half, inverse, samp_max)]
    split = [v for i in range(half // 2) for v in _cexp(-math.pi * ((i + 1) / half + 0.5), inverse, samp_max)]
    flat = [v for stage in reversed(stages) for v in stage]
    return flat, gather_order(half, factors), twiddles, split


@lowering("CUSTOM:SignalRfft")
def lower_rfft(graph: Graph, op: Operator) -> KernelCall:
    arity(op, 1, 1)
    (x,), (out,) = io(graph, op)
    opts = custom_options(op)
    kind = opts.get("T")
    if kind not in _FFT_TYPES:
        raise reject(op, f"only the int16 and int32 RFFT are supported (this one is TensorType {kind}: the float "
                         "RFFT is not implemented here)")
    dtype, ctype, samp_max, suffix = _FFT_TYPES[kind]
    x = typed(op, x, dtype, rank=None)
    out = typed(op, out, dtype, rank=len(x.shape))
    fft_length = int_option(op, opts, "fft_length", 4, 1 << 15)
    half = fft_length // 2
    if fft_length & (fft_length - 1):
        raise reject(op, f"fft_length {fft_length} is not a power of two: kiss_fft would need its radix-3/5/"
                         "generic butterflies, which are not implemented here")
    frame = x.shape[-1]
    frames = x.size // frame if frame else 0
    if frame == 0 or frame > fft_length:
        raise reject(op, f"frames of {frame} samples do not fit fft_length {fft_length}")
    if out.shape[-1] != 2 * (half + 1) or out.size != frames * 2 * (half + 1):
        raise reject(op, f"output {list(out.shape)} is not {frames} x {half + 1} complex bins")
    stages, order, twiddles, split = rfft_tables(fft_length, samp_max=samp_max)
    return KernelCall(
        op=op, kernel="signal_spectrum", function=f"mcf_signal_rfft_{suffix}",
        params_type="mcf_signal_rfft_params" if kind == _INT16_TYPE else "mcf_signal_rfft_s32_params",
        params={"frames": frames, "frame_length": frame, "half": half, "num_stages": len(stages) // 3,
                "stages": ConstRef("stages"), "order": ConstRef("order"), "twiddles": ConstRef("twiddles"),
                "split_twiddles": ConstRef("split_twiddles")},
        args=[op.inputs[0], op.outputs[0]],
        consts=[ConstArray("stages", "int32_t", np.array(stages, np.int32)),
                ConstArray("order", "uint16_t", np.array(order, np.uint16)),
                ConstArray("twiddles", ctype, np.array(twiddles, dtype)),
                ConstArray("split_twiddles", ctype, np.array(split or [0, 0], dtype))],
        comment=f", {dtype}, fft_length {fft_length}, radix plan {[s for s in stages[0::3]]}",
    )


@lowering("CUSTOM:SignalEnergy")
def lower_energy(graph: Graph, op: Operator) -> KernelCall:
    arity(op, 1, 1)
    (x,), (out,) = io(graph, op)
    x = typed(op, x, "int16")
    out = typed(op, out, "uint32")
    opts = custom_options(op)
    bins = min(out.size, x.size // 2)
    start = int_option(op, opts, "start_index", 0, bins)
    end = int_option(op, opts, "end_index", start, bins)
    return KernelCall(op=op, kernel="signal_spectrum", function="mcf_signal_energy",
                      params_type="mcf_signal_energy_params",
                      params={"bins": out.size, "start": start, "end": end},
                      args=[op.inputs[0], op.outputs[0]], comment=f", bins [{start}, {end})")


@lowering("CUSTOM:SignalIrfft")
def lower_irfft(graph: Graph, op: Operator) -> KernelCall:
    """kiss_fft's fixed-point inverse real FFT (kiss_fftri), int16 (FIXED_POINT 16) or int32
    (FIXED_POINT 32, 64-bit products): the split of the half + 1 complex bins into a complex
    spectrum of half bins (halving, the inverse split twiddles), then the inverse complex FFT with
    the same radix-4/2 stages as SignalRfft (twiddles conjugated, the radix-4 outputs 1 and 3 swapped),
    each stage dividing by its radix. The output, fft_length samples per frame, is the complex result
    read as (re, im) pairs, as TFLite Micro writes it. The split writes each bin straight to its place
    in the first stage (`position`, the inverse of the gather order), so no scratch is needed."""
    arity(op, 1, 1)
    (x,), (out,) = io(graph, op)
    opts = custom_options(op)
    kind = opts.get("T")
    if kind == 1:
        raise reject(op, "the float32 IRFFT is not supported (integer only: the int16 and int32 ones are)")
    if kind not in _FFT_TYPES:
        raise reject(op, f"TensorType {kind} is not an IRFFT type (int16 and int32 are supported)")
    dtype, ctype, samp_max, suffix = _FFT_TYPES[kind]
    x = typed(op, x, dtype, rank=None)
    out = typed(op, out, dtype, rank=len(x.shape))
    if sorted(opts)[1:2] != ["fft_length"]:
        raise reject(op, f"option 'fft_length' must be element 1 of the sorted option map, which TFLite Micro "
                         f"reads by position (the options are {sorted(opts)})")
    fft_length = int_option(op, opts, "fft_length", 4, 1 << 15)
    if fft_length & (fft_length - 1):
        raise reject(op, f"fft_length {fft_length} is not a power of two: kiss_fft would need its radix-3/5/"
                         "generic butterflies, which are not implemented here")
    half = fft_length // 2
    inner = x.shape[-1]
    if inner % 2 or inner // 2 < half + 1:
        raise reject(op, f"input frames of {inner} values are not (re, im) pairs of at least fft_length / 2 + 1 = "
                         f"{half + 1} bins")
    frames = x.size // inner
    if out.shape[-1] != fft_length or out.size != frames * fft_length:
        raise reject(op, f"output {list(out.shape)} is not {frames} frames of fft_length {fft_length} samples")
    stages, order, twiddles, split = rfft_tables(fft_length, inverse=True, samp_max=samp_max)
    position = np.zeros(half, np.uint16)
    position[np.array(order)] = np.arange(half)
    return KernelCall(
        op=op, kernel="signal_spectrum", function=f"mcf_signal_irfft_{suffix}",
        params_type=f"mcf_signal_irfft_{suffix}_params",
        params={"frames": frames, "input_stride": inner, "half": half, "num_stages": len(stages) // 3,
                "stages": ConstRef("stages"), "position": ConstRef("position"), "twiddles": ConstRef("twiddles"),
                "split_twiddles": ConstRef("split_twiddles")},
        args=[op.inputs[0], op.outputs[0]],
        consts=[ConstArray("stages", "int32_t", np.array(stages, np.int32)),
                ConstArray("position", "uint16_t", position),
                ConstArray("twiddles", ctype, np.array(twiddles, dtype)),
                ConstArray("split_twiddles", ctype, np.array(split or [0, 0], dtype))],
        comment=f", {dtype}, fft_length {fft_length}, radix plan {[s for s in stages[0::3]]}",
    )
