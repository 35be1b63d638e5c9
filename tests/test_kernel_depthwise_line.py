"""DEPTHWISE_CONV_2D with a one-column or one-row window (the _line entry points: k x 1 kernels over
time in keyword-spotting and wake-word models): generated C versus TFLite Micro, bit for bit, on every
kernel path."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_check import KERNEL_PATHS, check_bit_exact, check_cases_bit_exact
from test_kernel_depthwise_conv import RELU, RELU1, RELU6, SAME, VALID, dw_model
from tflite_builder import Op, T, build, options, rng_int8

from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.ops import conv as conv_ops
from mcuforge.generator.ops import depthwise_line

CASES = {
    # name: keyword arguments of dw_model
    # microWakeWord: one output pixel, the window over all of a [k, 1, C] input
    "pixel_c32_k5": dict(ic=32, h=5, w=1, kh=5, kw=1, padding=VALID),
    "pixel_c30_k5_relu": dict(ic=30, h=5, w=1, kh=5, kw=1, padding=VALID, act=RELU, in_zp=-128),
    "pixel_c7_k23": dict(ic=7, h=23, w=1, kh=23, kw=1, padding=VALID, in_zp=127, out_zp=-128),
    "pixel_c1_k2_per_tensor": dict(ic=1, h=2, w=1, kh=2, kw=1, padding=VALID, per_channel=False),
    # Silicon Labs / MLCommons keyword spotting: 1-D over time, SAME windows clipped at both ends
    "time_c12_k9_stride2": dict(ic=12, h=20, w=1, kh=9, kw=1, stride=(2, 1), out_zp=127),
    "time_c10_k3_valid_relu6": dict(ic=10, h=10, w=1, kh=3, kw=1, padding=VALID, act=RELU6, in_zp=5),
    "time_c6_k4_even": dict(ic=6, h=7, w=1, kh=4, kw=1, act=RELU1, out_zp=-3),
    "time_c5_dilated": dict(ic=5, h=11, w=2, kh=3, kw=1, dilation=(2, 1), in_zp=-7),
    "time_kernel_bigger_than_input": dict(ic=9, h=3, w=1, kh=7, kw=1),
    "time_dilated_bigger_than_input_w2": dict(ic=9, h=4, w=2, kh=3, kw=1, dilation=(3, 1)),
    # one row: the window along x
    "row_line_c12_k5_stride2": dict(ic=12, h=1, w=15, kh=1, kw=5, stride=(1, 2), in_zp=-128, act=RELU6),
    # a column window over an image, and a row window
    "column_c8_image": dict(ic=8, h=6, w=5, kh=3, kw=1, stride=(1, 2), per_channel=False, in_zp=-128),
    "row_c6_stride3": dict(ic=6, h=2, w=12, kh=1, kw=4, stride=(1, 3)),
    "row_c4_dilated_valid": dict(ic=4, h=3, w=11, kh=1, kw=3, dilation=(1, 3), padding=VALID, act=RELU,
                                 out_zp=-128),
    "batch2_c3_no_bias": dict(n=2, ic=3, h=6, w=1, kh=3, kw=1, bias=False, in_zp=9),
}


def test_depthwise_line_bit_exact():
    check_cases_bit_exact({name: dw_model(**kw, seed=i) for i, (name, kw) in enumerate(CASES.items())})


def test_depthwise_line_extreme_weights():
    w = np.full((1, 23, 1, 6), -128, dtype=np.int8)
    check_bit_exact(dw_model(ic=6, h=23, w=1, kh=23, kw=1, padding=VALID, weights=w, in_zp=127, out_zp=127),
                    count=2)


def _function(model: bytes) -> str:
    graph = parse_model(model, name="t.tflite")
    return conv_ops.lower_depthwise_conv2d(graph, graph.operators[0]).function


@pytest.mark.parametrize("kwargs,function", [
    (dict(ic=32, h=5, w=1, kh=5, kw=1, padding=VALID), "mcf_depthwise_conv2d_s8_line_full"),
    (dict(ic=6, h=1, w=9, kh=1, kw=3, act=RELU), "mcf_depthwise_conv2d_s8_line_clamp"),
    # other windows and multipliers keep their paths
    (dict(ic=16), "mcf_depthwise_conv2d_s8_fast_full"),
    (dict(ic=3), "mcf_depthwise_conv2d_s8_small_full"),
    (dict(ic=4, kh=1, kw=1), "mcf_depthwise_conv2d_s8_fast_full"),
    (dict(ic=2, mult=2, h=9, w=1, kh=5, kw=1), "mcf_depthwise_conv2d_s8_mult_full"),
])
def test_depthwise_line_entry_points(kwargs, function):
    assert _function(dw_model(**kwargs)) == function


def test_depthwise_line_output_constants():
    w = np.array([[3, -4], [5, 6]], dtype=np.int64)  # [taps, channels]
    bias = np.array([10, -20])
    q = depthwise_line.output_constants(w, bias, np.array([1 << 30]), np.array([-3]), -5)
    # the last 1..3 channels: each its bias, then its constants
    assert q is not None and q.tolist() == [10, 1 << 30, 4 - 40, 3, -20, 1 << 30, 4 - 40, 3]
    w4 = np.arange(-8, 12, dtype=np.int64).reshape(4, 5)
    q = depthwise_line.output_constants(w4, np.arange(5), np.array([1 << 30]), np.array([-1]), 0)
    assert q is not None  # a group of four: its biases, then its constants; then the fifth channel
    assert q.tolist() == [0, 1, 2, 3] + [1 << 30, 1, 1] * 4 + [4, 1 << 30, 1, 1]
    # a left shift (e < 1), or sums whose double leaves int32: no constants (the fast path instead)
    assert depthwise_line.output_constants(w, bias, np.array([1 << 30]), np.array([0]), 0) is None
    assert depthwise_line.output_constants(w, np.array([2**30, 0]), np.array([1 << 30]), np.array([-3]), 0) is None


def test_depthwise_line_without_constants(monkeypatch):
    # where the short output stage does not apply, the layer keeps the pixel path
    monkeypatch.setattr(depthwise_line, "output_constants", lambda *a: None)
    model = dw_model(ic=5, h=6, w=1, kh=3, kw=1)
    assert _function(model) == "mcf_depthwise_conv2d_s8_fast_full"
    check_bit_exact(model, count=2, paths=("fast",))


def chain_model(seed: int = 5) -> bytes:
    """Four line layers in a row over ten channels (two groups of four, two alone), one graph input
    and one output (the on-device spread model has few of those left): 5x1 stride 2 SAME with RELU
    (clipped windows at both ends, the clamped copy), 3x1 dilated VALID, 4x1 SAME with RELU6, then
    9x1 VALID down to one pixel."""
    rng = np.random.default_rng(seed)
    c = 10
    layers = [  # kh, stride, dilation, padding, activation, output length
        (5, 2, 1, SAME, RELU, 13), (3, 1, 2, VALID, 0, 9), (4, 1, 1, SAME, RELU6, 9), (9, 1, 1, VALID, 0, 1)]
    scale, zp = 0.05, -128
    tensors = [T((1, 25, 1, c), "int8", scale, zp)]
    ops = []
    src = 0
    for k, (kh, stride, dil, pad, act, length) in enumerate(layers):
        w_scales = list(rng.uniform(0.004, 0.02, c))
        out_scale = scale * float(np.mean(w_scales)) * 74.0 * 74.0 * np.sqrt(kh) / [40.0, 100.0, 100.0, 60.0][k]
        out_zp = [-100, -5, -60, 0][k]
        tensors.append(T((1, kh, 1, c), "int8", w_scales, [0] * c, axis=3, data=rng_int8(rng, (1, kh, 1, c))))
        tensors.append(T((c,), "int32", [scale * s for s in w_scales], 0,
                         data=rng.integers(-4000, 4000, c).astype(np.int32)))
        tensors.append(T((1, length, 1, c), "int8", out_scale, out_zp))
        n = len(tensors)
        ops.append(Op("DEPTHWISE_CONV_2D", [src, n - 3, n - 2], [n - 1],
                      options("DepthwiseConv2DOptions", padding=pad, strideH=stride, strideW=1,
                              dilationHFactor=dil, dilationWFactor=1, fusedActivationFunction=act,
                              depthMultiplier=1)))
        src, scale, zp = n - 1, out_scale, out_zp
    return build(tensors, ops, [0], [src])


def test_depthwise_line_chain():
    model = chain_model()
    graph = parse_model(model, name="t.tflite")
    assert {conv_ops.lower_depthwise_conv2d(graph, op).function for op in graph.operators} == \
        {"mcf_depthwise_conv2d_s8_line_full", "mcf_depthwise_conv2d_s8_line_clamp"}
    # RV32 builds run these entry points on their own depthwise path (the same filter layout)
    check_bit_exact(model, count=3, paths=(*KERNEL_PATHS, "rv32-emulated"))


def device_models() -> dict[str, bytes]:
    """The chain for the on-device firmware (tests/test_kernels_on_device.py): one input, one output."""
    return {"dw_line_chain": chain_model()}
