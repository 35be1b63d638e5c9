"""CONV_2D on 1 to 3 input channels (runtime/kernels/conv2d_s8_first.c): bit for bit with TFLite Micro
on the fast, portable and DSP-emulated host paths, over the run lengths the column builder packs
differently (row bytes % 4 = 0, 1, 2, 3), strides, padding, row dilation, borders, zero points at the
int8 edges and every fused activation."""

from __future__ import annotations

import numpy as np
from kernel_check import check_cases_bit_exact
from test_kernel_conv import RELU, RELU1, RELU6, SAME, VALID, conv_model
from tflite_builder import Op, T, build, options, rng_int8

from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.ops import conv as conv_ops
from mcuforge.generator.ops import conv_first

# name: keyword arguments of conv_model; every one takes the path (checked below)
CASES = {
    "c3_3x3_s2_same_relu6": dict(ic=3, oc=16, h=11, w=9, stride=(2, 2), act=RELU6, in_zp=-128, out_zp=-128),
    "c3_3x3_s1_same_relu": dict(ic=3, oc=8, h=7, w=6, act=RELU, in_zp=127, out_zp=-128),
    "c3_3x3_s2_valid_per_tensor": dict(ic=3, oc=8, h=10, w=9, stride=(2, 2), padding=VALID, per_channel=False,
                                       in_zp=-1, out_zp=-20),
    "c1_10x8_s2_same": dict(ic=1, oc=8, kh=10, kw=8, h=13, w=12, stride=(2, 2), act=RELU, in_zp=0, out_zp=-128),
    "c1_5x5_relu1": dict(ic=1, oc=10, kh=5, kw=5, h=8, w=7, act=RELU1, in_zp=5, out_zp=127),
    "c2_2x3_rows_of_6": dict(ic=2, oc=8, kh=2, kw=3, h=6, w=7, stride=(1, 2), in_zp=-128, out_zp=127),
    "c2_3x1_odd_rows_of_2": dict(ic=2, oc=12, kh=3, kw=1, h=5, w=4, padding=VALID, act=RELU6, in_zp=100),
    "c3_5x5_rows_of_15": dict(ic=3, oc=8, kh=5, kw=5, h=7, w=7, stride=(2, 2), in_zp=-77, out_zp=3),
    "c1_3x4_dilated_rows_batch2": dict(n=2, ic=1, oc=8, kh=3, kw=4, h=9, w=6, dilation=(2, 1), out_zp=-5),
    "c3_3x3_no_bias_odd_pixels": dict(ic=3, oc=8, h=5, w=5, bias=False, stride=(2, 2), in_zp=9),
    "c1_2x2_1x1_image": dict(ic=1, oc=8, kh=2, kw=2, h=1, w=1, act=RELU, in_zp=-128),
}


def _function(model: bytes) -> str:
    graph = parse_model(model, name="t.tflite")
    return conv_ops.lower_conv2d(graph, graph.operators[0]).function


def test_first_layer_path_bit_exact():
    models = {name: conv_model(**kwargs, seed=len(name)) for name, kwargs in CASES.items()}
    for name, model in models.items():
        assert _function(model).startswith("mcf_conv2d_s8_first_"), name
    models["big_bias_long_output"] = big_bias_model()
    check_cases_bit_exact(models, count=3)


def test_first_layer_path_chosen_only_for_its_shapes():
    assert _function(conv_model(ic=3, oc=16, act=RELU6)) == "mcf_conv2d_s8_first_clamp"
    assert _function(conv_model(ic=3, oc=16)) == "mcf_conv2d_s8_first_full"
    assert "first" not in _function(conv_model(ic=3, oc=4))  # too few output channels
    assert "first" not in _function(conv_model(ic=3, oc=9))  # odd
    assert "first" not in _function(conv_model(ic=4, oc=8))  # whole groups of four: the direct path
    assert "first" not in _function(conv_model(ic=3, oc=8, dilation=(1, 2), h=9, w=9))
    assert _function(conv_model(ic=1, oc=8)) == "mcf_conv2d_s8_c1_full"  # 3x3 on one channel: its own path
    assert "first" not in _function(conv_model(ic=3, oc=8, kh=11, kw=11, h=12, w=12))  # past the buffers


def test_column_slots_cover_every_tap_once():
    for rows in range(1, 7):
        for row_bytes in range(1, 17):
            slots = conv_first.column_slots(rows, row_bytes)
            assert len(slots) % 2 == 0
            taps = [s for word in slots for s in word if s is not None and s[1] < row_bytes]
            assert sorted(taps) == [(r, b) for r in range(rows) for b in range(row_bytes)], (rows, row_bytes)


def big_bias_model() -> bytes:
    """No int32 room for the doubled sum (a bias of 2^30, as a real model has): the sums are not doubled,
    each output goes through the long requantization (checked bit-exact above)."""
    rng = np.random.default_rng(3)
    w_scales = list(rng.uniform(0.002, 0.02, 8))
    tensors = [T((1, 6, 6, 3), "int8", 0.05, -128),
               T((8, 3, 3, 3), "int8", w_scales, [0] * 8, axis=0, data=rng_int8(rng, (8, 3, 3, 3))),
               T((8,), "int32", [0.05 * s for s in w_scales], 0,
                 data=np.array([2**30, -(2**30) + 7, 5, -9] * 2, dtype=np.int32)),
               T((1, 6, 6, 8), "int8", 0.5, 3)]
    opts = options("Conv2DOptions", padding=SAME, strideH=1, strideW=1, dilationHFactor=1, dilationWFactor=1,
                   fusedActivationFunction=RELU6)
    return build(tensors, [Op("CONV_2D", [0, 1, 2], [3], opts)], [0], [3])


def test_big_bias_takes_the_long_output_stage():
    graph = parse_model(big_bias_model(), name="t.tflite")
    call = conv_ops.lower_conv2d(graph, graph.operators[0])
    assert call.function == "mcf_conv2d_s8_first_clamp" and call.params["long_out"] == 1
    graph = parse_model(conv_model(ic=3, oc=8), name="t.tflite")
    assert conv_ops.lower_conv2d(graph, graph.operators[0]).params["long_out"] == 0


def device_models() -> dict[str, bytes]:
    """Three shapes of the path for the on-device firmware (tests/test_kernels_on_device.py)."""
    pick = ("c3_3x3_s2_same_relu6", "c1_10x8_s2_same", "c2_3x1_odd_rows_of_2")
    models = {f"first_{name}": conv_model(**CASES[name], seed=len(name)) for name in pick}
    models["first_big_bias_long_output"] = big_bias_model()
    return models


__all__ = ["CASES", "SAME", "device_models"]
