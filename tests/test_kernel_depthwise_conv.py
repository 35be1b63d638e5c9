"""DEPTHWISE_CONV_2D: generated C versus TFLite Micro, bit for bit, over many geometries."""

from __future__ import annotations

import math

import numpy as np
import pytest
from kernel_check import check_bit_exact, generic_entry_points
from tflite_builder import Activation, Op, Padding, T, build, options, rng_int8

from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.ops import conv as conv_ops
from mcuforge.generator.ops.base import padding_offsets

SAME, VALID = Padding.SAME, Padding.VALID
NONE, RELU, RELU6, RELU1 = Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1


def dw_model(n=1, h=8, w=8, ic=4, mult=1, kh=3, kw=3, stride=(1, 1), dilation=(1, 1), padding=SAME,
             per_channel=True, act=NONE, in_zp=0, out_zp=0, bias=True, seed=0, weights=None, w_zp=0,
             axis=3, out_shape=None, depth_multiplier=None, in_dtype="int8") -> bytes:
    rng = np.random.default_rng(seed)
    oc = ic * mult
    pad_name = "SAME" if padding == SAME else "VALID"
    if out_shape is None:
        oh, _ = padding_offsets(pad_name, h, kh, stride[0], dilation[0])
        ow, _ = padding_offsets(pad_name, w, kw, stride[1], dilation[1])
        out_shape = (n, oh, ow, oc)
    in_scale = 0.05
    w_scales = list(rng.uniform(0.002, 0.02, oc)) if per_channel else [0.01]
    acc_std = 74.0 * 74.0 * math.sqrt(kh * kw)
    out_scale = in_scale * float(np.mean(w_scales)) * acc_std / 40.0
    wdata = rng_int8(rng, (1, kh, kw, oc)) if weights is None else weights
    wt = T((1, kh, kw, oc), "int8", w_scales if per_channel else w_scales[0],
           [w_zp] * oc if per_channel else w_zp, axis=axis, data=wdata)
    tensors = [T((n, h, w, ic), in_dtype, in_scale, in_zp), wt]
    if bias:
        bscale = [in_scale * s for s in w_scales]
        tensors.append(T((oc,), "int32", bscale if per_channel else bscale[0], 0,
                         data=rng.integers(-int(acc_std), int(acc_std), oc).astype(np.int32)))
    tensors.append(T(out_shape, "int8", out_scale, out_zp))
    opts = options("DepthwiseConv2DOptions", padding=padding, strideH=stride[0], strideW=stride[1],
                   dilationHFactor=dilation[0], dilationWFactor=dilation[1], fusedActivationFunction=act,
                   depthMultiplier=mult if depth_multiplier is None else depth_multiplier)
    # Without bias the op gets two inputs: TFLite Micro's depthwise Prepare crashes on an omitted
    # (-1) third input, so the reference cannot check that spelling.
    inputs = [0, 1, 2] if bias else [0, 1]
    out = len(tensors) - 1
    return build(tensors, [Op("DEPTHWISE_CONV_2D", inputs, [out], opts)], [0], [out])


CASES = {
    # name: keyword arguments of dw_model
    "3x3_same": dict(),
    "3x3_valid": dict(padding=VALID),
    "3x3_stride2_same_even": dict(stride=(2, 2), h=10, w=10, ic=8),
    "3x3_stride2_same_odd": dict(stride=(2, 2), h=11, w=9, ic=5),
    "3x3_stride2_valid": dict(stride=(2, 2), h=11, w=10, padding=VALID),
    "stride_2x1": dict(stride=(2, 1), h=9, w=7),
    "stride_3x2_rect_kernel": dict(stride=(3, 2), kh=2, kw=4, h=10, w=11),
    "1x1_kernel": dict(kh=1, kw=1, ic=16),
    "5x5_same": dict(kh=5, kw=5, h=7, w=7, ic=3),
    "4x4_same_even_kernel": dict(kh=4, kw=4, h=9, w=8),
    "kernel_bigger_than_input_same": dict(kh=5, kw=5, h=3, w=2, ic=3),
    "kernel_equals_input_valid": dict(kh=4, kw=3, h=4, w=3, padding=VALID, ic=6),
    "1x1_input": dict(h=1, w=1, ic=7),
    "dilation2_same": dict(dilation=(2, 2), h=9, w=9),
    "dilation3_valid": dict(dilation=(3, 3), h=11, w=12, padding=VALID),
    "dilation_1x2_stride2": dict(dilation=(1, 2), stride=(2, 2), h=10, w=9),
    "dilation_bigger_than_input": dict(dilation=(4, 4), h=5, w=5),
    "mult2": dict(mult=2, ic=3),
    "mult4_stride2": dict(mult=4, ic=2, stride=(2, 2), h=9, w=9),
    "mult3_per_tensor_valid": dict(mult=3, ic=5, per_channel=False, padding=VALID),
    "single_channel_mult8": dict(mult=8, ic=1, h=6, w=7),
    "mult8_relu6": dict(mult=8, ic=3, act=RELU6, h=7, w=6, in_zp=-9),
    "mult4_dilated_valid_per_tensor": dict(mult=4, ic=3, dilation=(2, 2), padding=VALID, h=9, w=9,
                                           per_channel=False, in_zp=-128),
    "mult12_5x5_stride2": dict(mult=12, ic=2, kh=5, kw=5, stride=(2, 2), h=9, w=8, out_zp=40),
    "c6_3x3_word_loads": dict(ic=6, h=7, w=7, in_zp=5, act=RELU),
    "c7_stride2": dict(ic=7, stride=(2, 2), h=9, w=8, in_zp=-128),
    "c1_3x3_last_pixel": dict(ic=1, h=5, w=5, in_zp=127, out_zp=-3),
    "c2_batch2_valid": dict(n=2, ic=2, h=6, w=5, padding=VALID, per_channel=False),
    "per_tensor": dict(per_channel=False, ic=6),
    "per_tensor_stride2": dict(per_channel=False, stride=(2, 2), h=9, w=8, in_zp=-20),
    "relu": dict(act=RELU, in_zp=-5, out_zp=-20),
    "relu6": dict(act=RELU6, out_zp=-128),
    "relu_n1_to_1": dict(act=RELU1, out_zp=3),
    "relu6_per_tensor": dict(act=RELU6, per_channel=False, in_zp=10),
    "in_zp_min": dict(in_zp=-128),
    "in_zp_max": dict(in_zp=127),
    "in_zp_min_mult2": dict(in_zp=-128, mult=2, stride=(2, 2), h=9, w=9),
    "out_zp_max": dict(out_zp=127),
    "out_zp_min_relu": dict(out_zp=-128, act=RELU),
    "zps_extreme_per_tensor": dict(in_zp=127, out_zp=-128, per_channel=False),
    "batch2": dict(n=2, h=6, w=5, in_zp=-7),
    "batch3_mult2": dict(n=3, h=5, w=5, mult=2, ic=3, per_channel=False),
    "no_bias": dict(bias=False, in_zp=9),
    "no_bias_mult2": dict(bias=False, mult=2, in_zp=-128),
    "many_channels": dict(ic=96, h=5, w=5),
    "vww_like": dict(ic=32, h=12, w=12, stride=(2, 2), act=RELU, in_zp=-128, out_zp=-128),
    "odd_all": dict(h=13, w=7, ic=5, kh=3, kw=5, stride=(3, 2), in_zp=31, out_zp=-77, mult=3),
    # the multiplier path: any multiplier >= 2, odd tap counts, windows up to 128 taps
    "mult8_10x8_stride2_kws_like": dict(mult=8, ic=1, kh=10, kw=8, h=25, w=10, stride=(2, 2), act=RELU),
    "mult5_2x3_dilated": dict(mult=5, ic=2, kh=2, kw=3, dilation=(2, 1), h=7, w=8, in_zp=-128),
    "mult2_taps128_valid": dict(mult=2, ic=2, kh=16, kw=8, h=17, w=9, padding=VALID),
    "mult2_taps132_reference": dict(mult=2, ic=1, kh=12, kw=11, h=5, w=5),
}


@pytest.mark.parametrize("kwargs", list(CASES.values()), ids=list(CASES))
def test_depthwise_conv2d(kwargs):
    check_bit_exact(dw_model(**kwargs, seed=len(str(kwargs))), count=3)


def test_depthwise_conv2d_extreme_weights():
    w = np.full((1, 3, 3, 8), -128, dtype=np.int8)
    check_bit_exact(dw_model(ic=8, weights=w, in_zp=127, out_zp=127, act=RELU6), count=3)
    w = np.full((1, 3, 3, 8), 127, dtype=np.int8)
    check_bit_exact(dw_model(ic=4, mult=2, weights=w, in_zp=-128, out_zp=-128), count=3)


def test_depthwise_conv2d_without_folding(monkeypatch):
    monkeypatch.setattr(conv_ops, "fold_bias", lambda *a: None)
    check_bit_exact(dw_model(in_zp=-128, stride=(2, 1), h=9, w=8, mult=2), count=3)
    check_bit_exact(dw_model(kh=1, kw=1, ic=9, in_zp=77, per_channel=False), count=3)


def _lower(model: bytes):
    graph = parse_model(model, name="t.tflite")
    return conv_ops.lower_depthwise_conv2d(graph, graph.operators[0])


def test_depthwise_conv2d_params_are_precomputed():
    call = _lower(dw_model(in_zp=-3, mult=2, ic=3, h=7, w=7, stride=(2, 2), dilation=(1, 1)))
    assert call.params["depth_multiplier"] == 2 and call.params["output_c"] == 6
    assert call.params["per_channel"] == 1 and call.params["fold_interior"] == 1
    assert (call.params["pad_top"], call.params["pad_left"]) == (1, 1)
    assert call.macs == 4 * 4 * 6 * 9


@pytest.mark.parametrize("kwargs,message", [
    (dict(w_zp=3), "weights must be symmetric"),
    (dict(act=Activation.SIGN_BIT), "fused activation SIGN_BIT is not supported"),
    (dict(out_shape=(1, 8, 7, 4)), "does not match the computed [1, 8, 8, 4]"),
    (dict(axis=0, ic=4), "must be quantized along axis 3"),
    (dict(mult=2, depth_multiplier=3), "depth_multiplier 3 with 4 input channels"),
    (dict(depth_multiplier=0), "depth_multiplier 0"),
    (dict(in_dtype="int16"), "this 16x8 operator takes int16 here"),  # int16 input, int8 output
    (dict(stride=(0, 1), out_shape=(1, 8, 8, 4)), "strides must be >= 1"),
])
def test_depthwise_conv2d_rejects(kwargs, message):
    with pytest.raises(UnsupportedModelError) as exc:
        _lower(dw_model(**kwargs))
    assert message in str(exc.value)


def test_depthwise_conv2d_rejects_bad_weight_shape():
    rng = np.random.default_rng(0)
    tensors = [T((1, 4, 4, 2), "int8", 0.1, 0),
               T((2, 3, 3, 2), "int8", 0.1, 0, data=rng_int8(rng, (2, 3, 3, 2))),
               T((1, 4, 4, 2), "int8", 0.1, 0)]
    opts = options("DepthwiseConv2DOptions", padding=SAME, strideH=1, strideW=1, depthMultiplier=1)
    model = build(tensors, [Op("DEPTHWISE_CONV_2D", [0, 1, -1], [2], opts)], [0], [2])
    with pytest.raises(UnsupportedModelError, match=r"weights must be 4-D \[1, h, w, channels\]"):
        _lower(model)


def test_depthwise_conv2d_entry_points():
    # The compiler names the path in the function it calls: multiples of 4 take the multiplier path.
    assert _lower(dw_model(ic=16)).function == "mcf_depthwise_conv2d_s8_fast_full"
    assert _lower(dw_model(ic=5)).function == "mcf_depthwise_conv2d_s8_small_full"  # 3x3, ic % 4 != 0
    assert _lower(dw_model(ic=2, mult=8, act=RELU)).function == "mcf_depthwise_conv2d_s8_mult_clamp"
    assert _lower(dw_model(ic=2, mult=4)).params["fast_layout"] == 1
    assert _lower(dw_model(ic=3, mult=2)).function == "mcf_depthwise_conv2d_s8_mult_full"
    # windows past MCF_DW_MULT_MAX_TAPS (128) keep the reference loop for multipliers above 1
    assert _lower(dw_model(ic=1, mult=2, kh=12, kw=11, h=4, w=4)).function == "mcf_depthwise_conv2d_s8_ref"


@pytest.mark.parametrize("kwargs", [dict(ic=6, act=RELU6, in_zp=5), dict(ic=12), dict(ic=3, mult=2),
                                    dict(ic=2, mult=8, act=RELU), dict(ic=3, mult=4)],
                         ids=["fast_clamp", "fast_full", "multiplier2", "multiplier8_clamp", "multiplier4_full"])
def test_depthwise_conv2d_run_time_dispatch(kwargs, monkeypatch):
    # Generated code calls one entry point per path (depthwise_conv2d_s8.h); mcf_depthwise_conv2d_s8
    # still chooses at run time.
    generic_entry_points(monkeypatch, "DEPTHWISE_CONV_2D", "mcf_depthwise_conv2d_s8")
    check_bit_exact(dw_model(**kwargs, seed=3), count=2)
