"""DEPTHWISE_CONV_2D 3x3 over channel counts that are not a multiple of four (the _small entry
points: whole windows inline in the pixel loop): generated C versus TFLite Micro, bit for bit."""

from __future__ import annotations

import pytest
from kernel_check import check_bit_exact
from test_kernel_depthwise_conv import RELU, RELU6, VALID, dw_model

from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.ops import conv as conv_ops

CASES = {
    # name: keyword arguments of dw_model
    "c3_same": dict(ic=3, h=9, w=10, in_zp=-128),
    "c3_stride2": dict(ic=3, h=11, w=10, stride=(2, 2), out_zp=17),
    # the last output pixel's window ends at the input's last byte: its words would read past it
    "c3_valid_last_row": dict(ic=3, h=6, w=7, padding=VALID, in_zp=127),
    "c6_relu6": dict(ic=6, h=8, w=7, act=RELU6, in_zp=5),
    "c6_stride2_valid_per_tensor": dict(ic=6, h=9, w=9, stride=(2, 2), padding=VALID, per_channel=False),
    "c1_batch2": dict(n=2, ic=1, h=5, w=6, out_zp=-128, act=RELU),
    "c2_stride_2x1": dict(ic=2, h=7, w=6, stride=(2, 1)),
    "c5_dilated": dict(ic=5, h=9, w=9, dilation=(2, 2), in_zp=-7),
    "c10_stride1x2": dict(ic=10, h=6, w=9, stride=(1, 2)),
    # eight channels: two whole groups (MobileNet v1's first depthwise layer, 48x48x8)
    "c8_relu6_in_zp_min": dict(ic=8, h=9, w=10, act=RELU6, in_zp=-128, out_zp=-128),
    "c8_stride2_valid_per_tensor": dict(ic=8, h=9, w=8, stride=(2, 2), padding=VALID, per_channel=False,
                                        in_zp=127),
    # too narrow for a window inside the image: every pixel on the clipped route
    "c3_narrow": dict(ic=3, h=4, w=2),
}


@pytest.mark.parametrize("kwargs", list(CASES.values()), ids=list(CASES))
def test_depthwise_small_channels(kwargs):
    check_bit_exact(dw_model(**kwargs, seed=len(str(kwargs))), count=2)


def _function(model: bytes) -> str:
    graph = parse_model(model, name="t.tflite")
    return conv_ops.lower_depthwise_conv2d(graph, graph.operators[0]).function


def test_depthwise_small_entry_points():
    assert _function(dw_model(ic=3)) == "mcf_depthwise_conv2d_s8_small_full"
    assert _function(dw_model(ic=6, act=RELU6)) == "mcf_depthwise_conv2d_s8_small_clamp"
    # eight channels (MobileNet's first depthwise layer) too; other multiples of four, other windows
    # and multipliers keep their paths
    assert _function(dw_model(ic=8, act=RELU)) == "mcf_depthwise_conv2d_s8_small_clamp"
    assert _function(dw_model(ic=16)) == "mcf_depthwise_conv2d_s8_fast_full"
    assert _function(dw_model(ic=3, kh=5, kw=5)) == "mcf_depthwise_conv2d_s8_fast_full"
    assert _function(dw_model(ic=3, mult=2)) == "mcf_depthwise_conv2d_s8_mult_full"
