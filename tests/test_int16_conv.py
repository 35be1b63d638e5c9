"""16x8 CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV (int16 activations, int8 weights, int64 or
int32 bias) against TFLite Micro, bit for bit, on every kernel path (fast, portable, DSP emulated),
and the refusals of what TFLite Micro does not run."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_check import check_bit_exact
from test_kernels_on_device import merge_parallel
from tflite_builder import Activation, Op, Padding, T, build, options, rng_int8

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model

IN_SCALE = 0.0005


def _out_size(size: int, filt: int, stride: int, dilation: int, padding) -> int:
    eff = (filt - 1) * dilation + 1
    return -(-size // stride) if padding == Padding.SAME else (size - eff) // stride + 1


def _scales(rng, oc: int, per_channel: bool) -> list[float] | float:
    return [float(s) for s in rng.uniform(0.002, 0.02, oc)] if per_channel else 0.01


def _bias(rng, oc: int, w_scale, dtype: str, taps: int) -> T:
    big = int(np.sqrt(taps) * 2e6)
    scales = [IN_SCALE * s for s in w_scale] if isinstance(w_scale, list) else IN_SCALE * w_scale
    zps = [0] * oc if isinstance(w_scale, list) else 0
    return T((oc,), dtype, scales, zps, data=rng.integers(-big, big, oc).astype(dtype))


def _out_scale(w_scale, taps: int) -> float:
    # outputs spread over the int16 range: the sum's deviation is about sqrt(taps) * 2^15 * 128 / 3
    return IN_SCALE * float(np.mean(w_scale)) * float(np.sqrt(taps)) * 175


def conv_model(shape, oc, filt, stride=(1, 1), dilation=(1, 1), padding=Padding.SAME, per_channel=True,
               act=Activation.NONE, bias="int64", groups=1, seed=0, out_gain=1.0) -> bytes:
    rng = np.random.default_rng(seed)
    n, h, w, ic = shape
    fc = ic // groups
    oh = _out_size(h, filt[0], stride[0], dilation[0], padding)
    ow = _out_size(w, filt[1], stride[1], dilation[1], padding)
    w_scale = _scales(rng, oc, per_channel)
    taps = filt[0] * filt[1] * fc
    tensors = [T(shape, "int16", IN_SCALE, 0),
               T((oc, *filt, fc), "int8", w_scale, [0] * oc if per_channel else 0, data=rng_int8(rng, (oc, *filt, fc)))]
    if bias:
        tensors.append(_bias(rng, oc, w_scale, bias, taps))
    tensors.append(T((n, oh, ow, oc), "int16", _out_scale(w_scale, taps) * out_gain, 0))
    last = len(tensors) - 1
    opts = options("Conv2DOptions", padding=padding, strideH=stride[0], strideW=stride[1],
                   dilationHFactor=dilation[0], dilationWFactor=dilation[1], fusedActivationFunction=act)
    return build(tensors, [Op("CONV_2D", [0, 1, 2] if bias else [0, 1, -1], [last], opts)], [0], [last])


def dw_model(shape, mult, filt, stride=(1, 1), dilation=(1, 1), padding=Padding.SAME, per_channel=True,
             act=Activation.NONE, seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    n, h, w, ic = shape
    oc = ic * mult
    oh = _out_size(h, filt[0], stride[0], dilation[0], padding)
    ow = _out_size(w, filt[1], stride[1], dilation[1], padding)
    w_scale = _scales(rng, oc, per_channel)
    taps = filt[0] * filt[1]
    tensors = [T(shape, "int16", IN_SCALE, 0),
               T((1, *filt, oc), "int8", w_scale, [0] * oc if per_channel else 0, data=rng_int8(rng, (1, *filt, oc)),
                 axis=3),
               _bias(rng, oc, w_scale, "int64", taps),
               T((n, oh, ow, oc), "int16", _out_scale(w_scale, taps), 0)]
    opts = options("DepthwiseConv2DOptions", padding=padding, strideH=stride[0], strideW=stride[1],
                   dilationHFactor=dilation[0], dilationWFactor=dilation[1], fusedActivationFunction=act,
                   depthMultiplier=mult)
    return build(tensors, [Op("DEPTHWISE_CONV_2D", [0, 1, 2], [3], opts)], [0], [3])


def tconv_model(shape, oc, filt, stride=(1, 1), padding=Padding.SAME, per_channel=True, bias="int64",
                seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    n, h, w, ic = shape
    oh = h * stride[0] if padding == Padding.SAME else (h - 1) * stride[0] + filt[0]
    ow = w * stride[1] if padding == Padding.SAME else (w - 1) * stride[1] + filt[1]
    w_scale = _scales(rng, oc, per_channel)
    taps = max(1, filt[0] * filt[1] * ic // (stride[0] * stride[1]))
    tensors = [T((4,), "int32", data=np.array([n, oh, ow, oc], np.int32)),
               T((oc, *filt, ic), "int8", w_scale, [0] * oc if per_channel else 0, data=rng_int8(rng, (oc, *filt, ic))),
               T(shape, "int16", IN_SCALE, 0)]
    if bias:
        tensors.append(_bias(rng, oc, w_scale, bias, taps))
    tensors.append(T((n, oh, ow, oc), "int16", _out_scale(w_scale, taps), 0))
    last = len(tensors) - 1
    opts = options("TransposeConvOptions", padding=padding, strideH=stride[0], strideW=stride[1])
    return build(tensors, [Op("TRANSPOSE_CONV", list(range(last)), [last], opts)], [2], [last])


CONV_CASES = {
    "3x3_same": dict(shape=(1, 6, 7, 4), oc=8, filt=(3, 3)),
    "5x5_stride2_valid_pt": dict(shape=(2, 9, 8, 3), oc=5, filt=(5, 5), stride=(2, 2), padding=Padding.VALID,
                                 per_channel=False),
    "dilated_relu": dict(shape=(1, 9, 9, 2), oc=6, filt=(3, 3), dilation=(2, 2), act=Activation.RELU),
    "1x7_row_run": dict(shape=(1, 1, 30, 5), oc=7, filt=(1, 7), stride=(1, 2), padding=Padding.VALID),
    "1x1_relu6": dict(shape=(1, 4, 4, 13), oc=9, filt=(1, 1), act=Activation.RELU6),
    "int32_bias": dict(shape=(1, 5, 5, 3), oc=4, filt=(3, 3), bias="int32"),
    "no_bias": dict(shape=(1, 5, 6, 2), oc=3, filt=(2, 3), stride=(1, 2), bias=None),
    "large_k_scratch": dict(shape=(1, 5, 5, 40), oc=6, filt=(3, 3)),  # K = 360 > 256: scratch
    "grouped_3": dict(shape=(1, 5, 6, 6), oc=9, filt=(3, 3), groups=3, act=Activation.RELU),
    "seanet_like": dict(shape=(1, 8, 30, 2), oc=8, filt=(4, 7), stride=(4, 1), padding=Padding.VALID),
    # rescaling shifts above 32: the folded output shifts each channel (no high-word form)
    "small_multiplier": dict(shape=(1, 4, 5, 4), oc=4, filt=(3, 3), out_gain=2.0 ** 9),
}
DW_CASES = {
    "3x3_same": dict(shape=(1, 7, 6, 5), mult=1, filt=(3, 3)),
    "mult3_stride2": dict(shape=(1, 8, 9, 2), mult=3, filt=(3, 5), stride=(2, 2), per_channel=False),
    "dilated_valid_relu": dict(shape=(2, 9, 9, 3), mult=1, filt=(3, 3), dilation=(2, 3), padding=Padding.VALID,
                               act=Activation.RELU),
}
TCONV_CASES = {
    "3x3_s2_same": dict(shape=(1, 4, 5, 3), oc=6, filt=(3, 3), stride=(2, 2)),
    "3x4_valid": dict(shape=(1, 1, 5, 8), oc=5, filt=(3, 4), stride=(1, 2), padding=Padding.VALID),
    "pt_no_bias": dict(shape=(2, 3, 3, 5), oc=4, filt=(2, 2), stride=(2, 2), per_channel=False, bias=None),
    "int16_bias": dict(shape=(1, 3, 4, 2), oc=3, filt=(3, 3), stride=(1, 1), bias="int16"),
}


def _all_cases() -> dict[str, bytes]:
    models = {f"conv_{k}": conv_model(**v, seed=i) for i, (k, v) in enumerate(CONV_CASES.items())}
    models.update({f"dw_{k}": dw_model(**v, seed=i) for i, (k, v) in enumerate(DW_CASES.items())})
    models.update({f"tconv_{k}": tconv_model(**v, seed=i) for i, (k, v) in enumerate(TCONV_CASES.items())})
    return models


@pytest.mark.parametrize("op", ["conv", "dw", "tconv"])
def test_bit_exact(op):
    check_bit_exact(merge_parallel({k: v for k, v in _all_cases().items() if k.startswith(op + "_")}))


def _lower(model: bytes):
    return compile_graph(parse_model(model, name="m.tflite"))


def test_depthwise_int32_bias_refused():
    rng = np.random.default_rng(1)
    tensors = [T((1, 4, 4, 2), "int16", IN_SCALE, 0),
               T((1, 3, 3, 2), "int8", 0.01, 0, data=rng_int8(rng, (1, 3, 3, 2))),
               T((2,), "int32", IN_SCALE * 0.01, 0, data=np.zeros(2, np.int32)),
               T((1, 4, 4, 2), "int16", 0.001, 0)]
    opts = options("DepthwiseConv2DOptions", padding=Padding.SAME, strideH=1, strideW=1, depthMultiplier=1)
    with pytest.raises(UnsupportedModelError, match="bias must be int64 for 16x8"):
        _lower(build(tensors, [Op("DEPTHWISE_CONV_2D", [0, 1, 2], [3], opts)], [0], [3]))


def test_nonzero_int16_zero_point_refused():
    rng = np.random.default_rng(2)
    tensors = [T((1, 4, 4, 2), "int16", IN_SCALE, 3),
               T((2, 3, 3, 2), "int8", 0.01, 0, data=rng_int8(rng, (2, 3, 3, 2))),
               T((1, 4, 4, 2), "int16", 0.001, 0)]
    opts = options("Conv2DOptions", padding=Padding.SAME, strideH=1, strideW=1)
    with pytest.raises(UnsupportedModelError, match="zero point 3; 16x8 needs 0"):
        _lower(build(tensors, [Op("CONV_2D", [0, 1, -1], [2], opts)], [0], [2]))


def device_models() -> dict[str, bytes]:
    """16x8 convolution branches of the on-device parallel model (tests/test_kernels_on_device.py):
    the column, in-place run and remainder loops of the DSP path."""
    return {
        "s16_conv": conv_model((1, 5, 6, 3), 6, (3, 3), stride=(1, 2), seed=11),
        "s16_conv_run": conv_model((1, 1, 20, 6), 5, (1, 5), padding=Padding.VALID, bias="int32", seed=12),
        "s16_dwconv": dw_model((1, 6, 5, 3), 2, (3, 3), seed=13),
        "s16_dwconv_pairs": dw_model((1, 5, 6, 5), 1, (3, 3), stride=(2, 1), seed=15),  # channel pairs, odd last
        "s16_tconv": tconv_model((1, 3, 4, 8), 5, (3, 3), stride=(2, 2), seed=14),  # word-pair path
    }


def test_device_models_bit_exact_on_host():
    assert check_bit_exact(merge_parallel(device_models()), count=2).bit_exact == 2
