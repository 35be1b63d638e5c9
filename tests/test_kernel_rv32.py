"""The RV32 kernel paths (MCF_KERNELS_RV32, runtime/kernels/mcf_rv32.h) on host, built with
-DMCF_EMULATE_RV32, bit for bit against TFLite Micro: CONV_2D's 4-pixel x 4-channel blocks on int8
columns with the folded bias (odd channels, a last pass past the last pixel, word and byte gathers,
columns in the scratch, on the stack for in-place convolutions, the reference loop beyond), DEPTHWISE_CONV_2D
taps (3x3 rows, other windows, partial channel groups, depth multipliers) and FULLY_CONNECTED's
8-unit blocks (1..7 units left, depths that are not a multiple of 4). Geometries from the kernels'
own tests. tests/test_riscv_hil.py runs the real instructions (whole models under QEMU)."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_check import check_bit_exact
from test_kernel_conv import CASES as CONV_CASES
from test_kernel_conv import conv_model, pointwise_chain
from test_kernel_depthwise_conv import CASES as DW_CASES
from test_kernel_depthwise_conv import dw_model
from tflite_builder import Activation, Padding, T, options, rng_int8, single_op

from mcuforge.generator.frontends.tflite import parse_model

RV32 = ("rv32-emulated",)

CONV = ["1x1_per_tensor", "wide_out", "odd_all", "3x3_stride2_same_odd", "stack_c3_stride2_odd_oc", "10x4_kws_like",
        "c1_valid_stride2_odd_oc", "c1_batch2_many_pixels"]
DW = ["c6_3x3_word_loads", "c7_stride2", "c1_3x3_last_pixel", "vww_like", "5x5_same", "mult4_stride2", "per_tensor"]


@pytest.mark.parametrize("name", CONV)
def test_conv2d_rv32(name: str) -> None:
    check_bit_exact(conv_model(**CONV_CASES[name]), count=2, paths=RV32)


@pytest.mark.parametrize("kwargs", [
    dict(h=7, w=5, c_mid=20, c_out=9, per_channel=False, in_zp=-128, mid_zp=127),  # K = 20, odd pixels, channels
    dict(n=2, h=12, w=9, c_mid=6, c_out=7, k=3, in_zp=-128),  # K = 54, byte gathers, batches
], ids=["1x1_odd", "3x3_odd_batch2"])
def test_conv2d_in_place_rv32(kwargs: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    # Columns that could only live in place: RV32 takes its four-pixel route with the columns on
    # the stack (K <= MCF_CONV2D_STACK_MAX_K; beyond, the reference loop: the int16 pair route is
    # not linked on RV32).
    from mcuforge.generator import compiler
    from mcuforge.generator.compiler import compile_graph

    monkeypatch.setattr(compiler, "overlap_allowances", lambda *_args: {})
    model = pointwise_chain(**kwargs)
    assert compile_graph(parse_model(model)).calls[1].params.get("inplace", 0) > 0
    check_bit_exact(model, count=2, paths=RV32)


@pytest.mark.parametrize("name", DW)
def test_depthwise_conv2d_rv32(name: str) -> None:
    check_bit_exact(dw_model(**DW_CASES[name]), count=2, paths=RV32)


# 3x3 windows slide channel by channel (mcf_rv32_dw3): along the longer output axis (along x when
# the planner puts the output over its input), padding before and after or none, one or two lanes
# across in the padding, a stride across; stride-2 slides are in DW (c7_stride2, vww_like).
DW3 = {
    "kws_like_tall": dict(h=11, w=5, ic=9, act=Activation.RELU, in_zp=-3, out_zp=-128),
    "wide_valid_relu6": dict(h=4, w=9, ic=5, padding=Padding.VALID, act=Activation.RELU6, in_zp=127),
    "narrow_2_wide": dict(h=7, w=2, ic=4, in_zp=-128, out_zp=100, per_channel=False),
    "one_row": dict(h=1, w=6, ic=3, in_zp=50),
    "stride_across_2": dict(h=8, w=9, ic=6, stride=(2, 1), in_zp=-60),
    "batch2_square": dict(n=2, h=5, w=5, ic=2, in_zp=7),
}


@pytest.mark.parametrize("name", list(DW3))
def test_depthwise_3x3_sliding_rv32(name: str) -> None:
    check_bit_exact(dw_model(**DW3[name], seed=len(name)), count=2, paths=RV32)


@pytest.mark.parametrize("batches,depth,units,per_channel,in_zp", [
    (2, 37, 13, False, 11),  # 8 + 5 units (the second pass has one block of 4 and one unit), depth % 4 == 1
    (3, 7, 9, True, 0),  # 8 + 1 units, one whole group and three inputs left
])
def test_fully_connected_rv32(batches: int, depth: int, units: int, per_channel: bool, in_zp: int) -> None:
    rng = np.random.default_rng(depth * units)
    w_scale = list(rng.uniform(0.001, 0.02, units)) if per_channel else 0.01
    w = T((units, depth), "int8", w_scale, [0] * units if per_channel else 0, data=rng_int8(rng, (units, depth)))
    bias = T((units,), "int32", [0.05 * s for s in w_scale] if per_channel else 0.0005, 0,
             data=rng.integers(-5000, 5000, units).astype(np.int32))
    model = single_op("FULLY_CONNECTED", [T((batches, depth), "int8", 0.05, in_zp), w, bias],
                      [T((batches, units), "int8", 0.2, 5)],
                      options("FullyConnectedOptions", fusedActivationFunction=Activation.RELU6))
    check_bit_exact(model, count=2, paths=RV32)


def test_conv2d_first_layer_path_rv32() -> None:
    # conv2d_s8_first's RV32 route (four pixels x four channels on int16 columns): every shape of the
    # path's own tests (row bytes % 4 = 0..3, borders, dilated rows, an odd last channel pair, a last
    # pass past the last pixel, batches, the long output stage) side by side in one model.
    from test_kernel_conv_first import CASES as FIRST_CASES
    from test_kernel_conv_first import big_bias_model
    from test_kernels_on_device import merge_parallel

    from mcuforge.generator.compiler import compile_graph

    models = {name: conv_model(**kwargs, seed=len(name)) for name, kwargs in FIRST_CASES.items()}
    models["big_bias_long_output"] = big_bias_model()
    merged = merge_parallel(models)
    assert sum(c.function.startswith("mcf_conv2d_s8_first_") for c in compile_graph(parse_model(merged)).calls) \
        == len(models)
    check_bit_exact(merged, count=2, paths=RV32)


def test_conv2d_narrow_paths_rv32() -> None:
    # conv2d_s8_narrow on RV32: the depth-8 path's two-pixel blocks (odd pixel counts, pairs across
    # rows and batches, every activation) and the blocks of 4/2/1 channels on byte loads (partial
    # last groups, the largest sums), side by side in one model.
    from test_kernel_conv_narrow import CASES as NARROW_CASES
    from test_kernel_conv_narrow import case_model, extreme_models
    from test_kernels_on_device import merge_parallel

    from mcuforge.generator.compiler import compile_graph

    models = {**{name: case_model(name) for name in NARROW_CASES}, **extreme_models()}
    merged = merge_parallel(models)
    functions = [c.function for c in compile_graph(parse_model(merged)).calls]
    assert all("_narrow_" in f for f in functions) and len(functions) == len(models)
    assert sum("_narrow_k8_" in f for f in functions) >= 5
    check_bit_exact(merged, count=2, paths=RV32)
