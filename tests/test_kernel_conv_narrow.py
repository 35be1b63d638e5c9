"""CONV_2D on contiguous windows (runtime/kernels/conv2d_s8_narrow.c): one output pixel, one or two
output channels, 1x1 filters on 4 or 8 channels or with few output channels. Generated C versus
TFLite Micro, bit for bit, on the fast, portable and DSP-emulated paths (tests/test_kernels_on_device.py
runs them on the boards too)."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_check import check_cases_bit_exact
from test_kernel_conv import NONE, RELU, RELU1, RELU6, SAME, VALID, conv_model
from tflite_builder import Op, T, build, options

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.ops import conv_narrow

# name: (keyword arguments of conv_model, the entry point the compiler must choose)
CASES = {
    # one output pixel: a 1x1 image (a classifier head), depths with and without a partial last group
    "pixel_c256_oc2": (dict(kh=1, kw=1, h=1, w=1, ic=256, oc=2, in_zp=-128, out_zp=-1), "narrow_full"),
    "pixel_c30_oc60_relu": (dict(kh=1, kw=1, h=1, w=1, ic=30, oc=60, act=RELU, in_zp=-11, out_zp=-128),
                            "narrow_full"),
    "pixel_c31_oc7_relu6": (dict(kh=1, kw=1, h=1, w=1, ic=31, oc=7, act=RELU6, in_zp=127, out_zp=5), "narrow_clamp"),
    "pixel_c5_oc3_batch2": (dict(n=2, kh=1, kw=1, h=1, w=1, ic=5, oc=3, per_channel=False), "narrow_full"),
    # one output pixel whose window is the whole image (whole rows) or part of one row
    "pixel_3x3_whole_image_oc1": (dict(kh=3, kw=3, h=3, w=3, ic=32, oc=1, stride=(3, 3), padding=VALID,
                                       in_zp=-110, out_zp=-30), "narrow_full"),
    "pixel_2x3_rows_c5": (dict(kh=2, kw=3, h=2, w=3, ic=5, oc=6, padding=VALID, act=RELU1, out_zp=3),
                          "narrow_clamp"),
    "pixel_1x3_part_of_row": (dict(kh=1, kw=3, h=1, w=5, ic=2, oc=5, stride=(1, 3), padding=VALID, in_zp=-128),
                              "narrow_full"),
    # one or two output channels over many pixels (detection heads)
    "few_c88_oc2": (dict(kh=1, kw=1, h=5, w=6, ic=88, oc=2, in_zp=-128, out_zp=49), "narrow_full"),
    "few_c32_oc2_valid": (dict(kh=1, kw=1, h=4, w=5, ic=32, oc=2, padding=VALID, out_zp=-12), "narrow_full"),
    "few_c6_oc1_stride2": (dict(kh=1, kw=1, h=7, w=5, ic=6, oc=1, stride=(2, 2), act=RELU, in_zp=3, out_zp=-3),
                           "narrow_clamp"),
    "few_c4_oc2_batch2_no_bias": (dict(n=2, kh=1, kw=1, h=3, w=4, ic=4, oc=2, bias=False, in_zp=127),
                                  "narrow_k4_full"),
    # 1x1 filters over many pixels, few output channels, 12 to 48 inputs
    "few_1x1_c24_oc8": (dict(kh=1, kw=1, h=4, w=5, ic=24, oc=8, in_zp=-128, out_zp=-128), "narrow_full"),
    "few_1x1_c12_oc5_relu6_stride2": (dict(kh=1, kw=1, h=7, w=5, ic=12, oc=5, stride=(2, 2), act=RELU6, in_zp=40,
                                           out_zp=-9), "narrow_clamp"),
    "few_1x1_c48_oc3_per_tensor": (dict(kh=1, kw=1, h=3, w=3, ic=48, oc=3, per_channel=False, out_zp=127),
                                   "narrow_full"),
    # 1x1 on 4 channels: pixel pairs in registers (odd pixel counts: the last pixel paired with itself)
    "k4_oc8_odd_pixels": (dict(kh=1, kw=1, h=5, w=7, ic=4, oc=8, in_zp=-128, out_zp=-128), "narrow_k4_full"),
    "k4_oc24_relu": (dict(kh=1, kw=1, h=6, w=6, ic=4, oc=24, act=RELU, in_zp=-7, out_zp=-20), "narrow_k4_clamp"),
    "k4_oc3_relu6_per_tensor": (dict(kh=1, kw=1, h=3, w=3, ic=4, oc=3, act=RELU6, per_channel=False, in_zp=127,
                                     out_zp=-128), "narrow_k4_clamp"),
    "k4_stride2_batch2_relu1": (dict(n=2, kh=1, kw=1, h=5, w=5, ic=4, oc=5, stride=(2, 2), act=RELU1, out_zp=127),
                                "narrow_k4_clamp"),
    "k4_oc1_valid": (dict(kh=1, kw=1, h=1, w=3, ic=4, oc=1, padding=VALID, in_zp=100, out_zp=-3), "narrow_k4_full"),
    # 1x1 on 8 channels: the inputs in registers
    "k8_oc16": (dict(kh=1, kw=1, h=6, w=6, ic=8, oc=16, in_zp=-128, out_zp=-128), "narrow_k8_full"),
    "k8_oc5_relu": (dict(kh=1, kw=1, h=3, w=5, ic=8, oc=5, act=RELU, in_zp=-7, out_zp=-20), "narrow_k8_clamp"),
    "k8_oc3_relu6_per_tensor": (dict(kh=1, kw=1, h=4, w=3, ic=8, oc=3, act=RELU6, per_channel=False, in_zp=127,
                                     out_zp=-128), "narrow_k8_clamp"),
    "k8_stride2_batch2_relu1": (dict(n=2, kh=1, kw=1, h=5, w=5, ic=8, oc=4, stride=(2, 2), act=RELU1, out_zp=127),
                                "narrow_k8_clamp"),
    "k8_no_bias": (dict(kh=1, kw=1, h=2, w=2, ic=8, oc=9, bias=False, in_zp=100, out_zp=127), "narrow_k8_full"),
}


def case_model(name: str) -> bytes:
    kwargs, _ = CASES[name]
    return conv_model(**kwargs, seed=len(name))


@pytest.mark.parametrize("name", list(CASES))
def test_narrow_path_is_chosen(name):
    calls = compile_graph(parse_model(case_model(name))).calls
    assert [c.function for c in calls] == [f"mcf_conv2d_s8_{CASES[name][1]}"]


def extreme_models() -> dict[str, bytes]:
    """Every weight -128 against inputs far from the zero point: the largest sums of the paths."""
    return {f"extreme_c{ic}": conv_model(kh=1, kw=1, h=h, w=w, ic=ic, oc=2, in_zp=127, out_zp=127,
                                         weights=np.full((2, 1, 1, ic), -128, dtype=np.int8))
            for ic, h, w in ((4, 3, 3), (8, 3, 3), (40, 1, 1))}


def tie_model(ic: int, oc: int, h: int, w: int, act=NONE, out_zp: int = 0) -> bytes:
    """A 1x1 layer whose scales make the requantization a quarter (multiplier 2^30, shift -1, e = 1):
    every other sum lands on a tie, half of them negative (rounded away from zero), small weights and
    inputs keeping the outputs inside the int8 range."""
    rng = np.random.default_rng(ic * oc)
    weights = rng.integers(-3, 4, (oc, 1, 1, ic)).astype(np.int8)
    bias = rng.integers(-40, 41, oc).astype(np.int32)
    tensors = [T((1, h, w, ic), "int8", 0.5, -3), T((oc, 1, 1, ic), "int8", 0.125, 0, data=weights),
               T((oc,), "int32", 0.0625, 0, data=bias), T((1, h, w, oc), "int8", 0.25, out_zp)]
    opts = options("Conv2DOptions", padding=SAME, strideH=1, strideW=1, fusedActivationFunction=act)
    return build(tensors, [Op("CONV_2D", [0, 1, 2], [3], opts)], [0], [3])


def tie_models() -> dict[str, bytes]:
    return {"ties_k4": tie_model(4, 6, 3, 5), "ties_k4_relu": tie_model(4, 3, 2, 3, act=RELU, out_zp=-5),
            "ties_c16": tie_model(16, 5, 3, 3, out_zp=7)}


def test_tie_models_take_the_short_output_stage():
    functions = [compile_graph(parse_model(m)).calls[0].function for m in tie_models().values()]
    assert functions == ["mcf_conv2d_s8_narrow_k4_full", "mcf_conv2d_s8_narrow_k4_clamp",
                         "mcf_conv2d_s8_narrow_full"]


def test_narrow_bit_exact():
    """Every case side by side in one model: one host build per kernel path."""
    check_cases_bit_exact({**{name: case_model(name) for name in CASES}, **extreme_models(), **tie_models()},
                          count=3)


@pytest.mark.parametrize("kwargs", [
    dict(kh=1, kw=1, h=6, w=6, ic=16, oc=2, padding=SAME, groups=2),  # grouped
    dict(kh=3, kw=3, h=3, w=3, ic=8, oc=2, padding=SAME),  # windows over the border
    dict(kh=2, kw=2, h=3, w=3, ic=8, oc=1, padding=VALID, stride=(2, 2)),  # one pixel, window not contiguous
    dict(kh=1, kw=1, h=6, w=6, ic=16, oc=9),  # many pixels and channels: the im2col / pointwise paths
    dict(kh=1, kw=1, h=6, w=6, ic=64, oc=8),  # few channels on a deep window: the im2col path
    dict(kh=1, kw=1, h=6, w=6, ic=18, oc=4),  # few channels, inputs not in groups of four: the im2col path
    dict(kh=1, kw=1, h=1, w=1, ic=3, oc=4),  # fewer than four inputs
])
def test_other_shapes_keep_their_paths(kwargs):
    calls = compile_graph(parse_model(conv_model(**kwargs, act=NONE))).calls
    assert not any("narrow" in c.function for c in calls), [c.function for c in calls]


def test_group_words_overlap_the_last_group():
    w = np.arange(1, 7, dtype=np.int64).reshape(1, 6)  # depth 6: groups at 0 and at 2 (bytes 2, 3 again)
    words = conv_narrow.group_words(w)
    assert [hex(int(v)) for v in words[:, 0]] == ["0x4030201", "0x6050000"]


def device_models() -> dict[str, bytes]:
    """Branches of tests/test_kernels_on_device.py's parallel model: one of each path and tail."""
    names = ("pixel_c30_oc60_relu", "pixel_3x3_whole_image_oc1", "few_c88_oc2", "few_c6_oc1_stride2", "k8_oc16",
             "k8_oc5_relu", "k4_oc8_odd_pixels", "k4_oc24_relu", "k4_stride2_batch2_relu1",
             "few_1x1_c12_oc5_relu6_stride2")
    return {**{f"narrow_{n}": case_model(n) for n in names}, "narrow_ties_k4": tie_models()["ties_k4"]}
