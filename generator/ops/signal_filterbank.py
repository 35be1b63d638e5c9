"""TFLite Micro's signal operators from a power spectrum to features, integer only.

- SignalFilterBank: each channel sums spectrum bins times int16 weights into uint64 (TFLite Micro's
  running "weight / unweight" accumulation: bin energy goes to a channel by its weight and to the
  next channel by its unweight). The band tables (first bin, first weight, width per channel,
  num_channels + 1 of them) are checked here against the spectrum and weight sizes and packed into
  one table; the kernel only loops.
- SignalFilterBankSquareRoot: integer square root of each uint64 channel (TFLite Micro's bitwise
  method, with its 32-bit shortcut and final rounding), shifted right by the FFT auto-scale bits
  (a run-time int32 scalar).
- SignalFilterBankSpectralSubtraction: a per-channel noise estimate (low-pass filter with even and
  odd channel coefficients) is subtracted, down to a floor of min_signal_remaining. The estimate is
  the operator's state: TFLite Micro keeps it in persistent memory (zeroed at set-up and reset) and
  copies it to its second output. Here that output tensor itself is the state: it lives in the
  model's state buffer (ops/variable_tensors.py), filled with zeros by init() and reset_state(), and
  the kernel updates it in place.
- SignalPCAN: per-channel automatic gain control: gain = the piecewise quadratic of the gain table
  at the noise estimate, snr = (x * gain) >> snr_shift, then the "shrink" curve to 6 fractional bits.
- SignalFilterBankLog: x << input_correction_bits, natural log in fixed point (log2 from the bit
  length plus a 129-entry correction table of log2(1 + f) - f, computed here), times output_scale,
  saturated to int16 (0 for inputs 0 and 1).
"""

from __future__ import annotations

import math

import numpy as np

from ..ir import Graph, Operator
from .base import ConstArray, ConstRef, KernelCall, ParamValue, lowering, reject
from .signal_common import arity, custom_options, int_option, io, typed

SPECTRAL_SUBTRACTION = "CUSTOM:SignalFilterBankSpectralSubtraction"
_PCAN_LUT_ENTRIES = 125  # the gain table is read at 4 * bit_length(x) - 6 + 0..2, bit length <= 32
_LOG_SEGMENTS = 128


def state_outputs(graph: Graph) -> list[int]:
    """Output tensors that hold an operator's state between invokes: spectral subtraction's noise
    estimate (its second output)."""
    return [op.outputs[1] for op in graph.operators if op.opcode == SPECTRAL_SUBTRACTION and len(op.outputs) == 2]


@lowering("CUSTOM:SignalFilterBank")
def lower_filter_bank(graph: Graph, op: Operator) -> KernelCall:
    arity(op, 6, 1)
    ins, (out,) = io(graph, op)
    x = typed(op, ins[0], "uint32")
    weights, unweights, freq_starts, weight_starts, widths = (typed(op, t, "int16", const=True) for t in ins[1:])
    out = typed(op, out, "uint64")
    channels = int_option(op, custom_options(op), "num_channels", 1, 1 << 15)
    if out.size != channels:
        raise reject(op, f"output has {out.size} channels, num_channels is {channels}")
    if weights.size != unweights.size:
        raise reject(op, f"weights ({weights.size}) and unweights ({unweights.size}) differ in size")
    tables = [np.asarray(t.data, np.int64).reshape(-1) for t in (freq_starts, weight_starts, widths)]
    if any(t.size < channels + 1 for t in tables):
        raise reject(op, f"band tables need num_channels + 1 = {channels + 1} entries")
    fs, ws, wd = (t[: channels + 1] for t in tables)
    if (fs < 0).any() or (ws < 0).any() or (wd < 0).any() or (fs + wd > x.size).any() or (ws + wd > weights.size).any():
        raise reject(op, "a band reaches outside the spectrum or the weights")
    bands = np.stack([fs, ws, wd], axis=1).reshape(-1).astype(np.int32)
    return KernelCall(
        op=op, kernel="signal_filterbank", function="mcf_signal_filter_bank",
        params_type="mcf_signal_filter_bank_params",
        params={"channels": channels, "bands": ConstRef("bands"), "weights": ConstRef("weights"),
                "unweights": ConstRef("unweights")},
        args=[op.inputs[0], op.outputs[0]],
        consts=[ConstArray("bands", "int32_t", bands),
                ConstArray("weights", "int16_t", np.asarray(weights.data, np.int16).reshape(-1)),
                ConstArray("unweights", "int16_t", np.asarray(unweights.data, np.int16).reshape(-1))],
        macs=2 * int(wd.sum()), comment=f", {channels} channels",
    )


@lowering("CUSTOM:SignalFilterBankSquareRoot")
def lower_square_root(graph: Graph, op: Operator) -> KernelCall:
    arity(op, 2, 1)
    (x, bits), (out,) = io(graph, op)
    x = typed(op, x, "uint64")
    typed(op, bits, "int32", rank=0)
    out = typed(op, out, "uint32")
    if out.size != x.size:
        raise reject(op, f"output {list(out.shape)} does not match input {list(x.shape)}")
    return KernelCall(op=op, kernel="signal_filterbank", function="mcf_signal_filter_bank_sqrt",
                      params_type="mcf_signal_channels_params", params={"channels": x.size},
                      args=[op.inputs[0], op.inputs[1], op.outputs[0]])


@lowering(SPECTRAL_SUBTRACTION)
def lower_spectral_subtraction(graph: Graph, op: Operator) -> KernelCall:
    arity(op, 1, 2)
    (x,), (out, noise) = io(graph, op)
    x = typed(op, x, "uint32")
    out = typed(op, out, "uint32")
    noise = typed(op, noise, "uint32")
    opts = custom_options(op)
    channels = int_option(op, opts, "num_channels", 1, 1 << 15)
    if not x.size == out.size == noise.size == channels:
        raise reject(op, f"input, output and noise estimate must all have num_channels = {channels} entries")
    if noise.index in graph.outputs or noise.index in graph.inputs:
        raise reject(op, f"noise estimate '{noise.name}' is the operator's state; as a graph input or output "
                         "it is not supported")
    u32 = (0, (1 << 32) - 1)
    params: dict[str, ParamValue] = {"channels": channels}
    for key in ("smoothing", "one_minus_smoothing", "alternate_smoothing", "alternate_one_minus_smoothing",
                "min_signal_remaining"):
        params[key] = int_option(op, opts, key, *u32) & 0xFFFFFFFF
    params["smoothing_bits"] = int_option(op, opts, "smoothing_bits", 0, 31)
    params["subtraction_bits"] = int_option(op, opts, "spectral_subtraction_bits", 0, 63)
    clamping = opts.get("clamping", False)
    if not isinstance(clamping, bool):
        raise reject(op, "option 'clamping' is not a boolean")
    params["clamping"] = int(clamping)
    return KernelCall(op=op, kernel="signal_filterbank", function="mcf_signal_spectral_subtraction",
                      params_type="mcf_signal_spectral_subtraction_params", params=params,
                      args=[op.inputs[0], op.outputs[0], op.outputs[1]],
                      comment=", noise estimate in the state buffer")


@lowering("CUSTOM:SignalPCAN")
def lower_pcan(graph: Graph, op: Operator) -> KernelCall:
    arity(op, 3, 1)
    (x, noise, lut), (out,) = io(graph, op)
    x = typed(op, x, "uint32")
    noise = typed(op, noise, "uint32")
    lut = typed(op, lut, "int16", const=True)
    out = typed(op, out, "uint32")
    if not x.size == noise.size == out.size:
        raise reject(op, "input, noise estimate and output differ in size")
    if lut.size < _PCAN_LUT_ENTRIES:
        raise reject(op, f"the gain table has {lut.size} entries; TFLite Micro reads up to {_PCAN_LUT_ENTRIES}")
    shift = int_option(op, custom_options(op), "snr_shift", 0, 63)
    return KernelCall(op=op, kernel="signal_filterbank", function="mcf_signal_pcan",
                      params_type="mcf_signal_pcan_params",
                      params={"channels": x.size, "snr_shift": shift, "gain_lut": ConstRef("gain_lut")},
                      args=[op.inputs[0], op.inputs[1], op.outputs[0]],
                      consts=[ConstArray("gain_lut", "int16_t", np.asarray(lut.data, np.int16).reshape(-1))],
                      comment=f", snr_shift {shift}")


def log_correction_table() -> np.ndarray:
    """(log2(1 + i / 128) - i / 128) * 2^16 rounded, i = 0..128, and a trailing 0 (130 entries)."""
    vals = [round((math.log2(1 + i / _LOG_SEGMENTS) - i / _LOG_SEGMENTS) * 65536) for i in range(_LOG_SEGMENTS + 1)]
    return np.array([*vals, 0], np.uint16)


@lowering("CUSTOM:SignalFilterBankLog")
def lower_log(graph: Graph, op: Operator) -> KernelCall:
    arity(op, 1, 1)
    (x,), (out,) = io(graph, op)
    x = typed(op, x, "uint32")
    out = typed(op, out, "int16")
    if out.size != x.size:
        raise reject(op, f"output {list(out.shape)} does not match input {list(x.shape)}")
    opts = custom_options(op)
    bits = int_option(op, opts, "input_correction_bits", 0, 31)
    scale = int_option(op, opts, "output_scale", -(1 << 31), (1 << 31) - 1)
    return KernelCall(op=op, kernel="signal_filterbank", function="mcf_signal_filter_bank_log",
                      params_type="mcf_signal_log_params",
                      params={"channels": x.size, "correction_bits": bits, "output_scale": scale & 0xFFFFFFFF,
                              "table": ConstRef("log_table")},
                      args=[op.inputs[0], op.outputs[0]],
                      consts=[ConstArray("log_table", "uint16_t", log_correction_table())],
                      comment=f", output_scale {scale}")
