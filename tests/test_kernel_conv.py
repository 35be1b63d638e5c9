"""CONV_2D: generated C versus TFLite Micro, bit for bit, over many geometries and quantizations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from kernel_check import check_bit_exact, generic_entry_points
from tflite_builder import Activation, Op, Padding, T, build, options, rng_int8, single_op

from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.ops import conv as conv_ops
from mcuforge.generator.ops.base import padding_offsets

SAME, VALID = Padding.SAME, Padding.VALID
NONE, RELU, RELU6, RELU1 = Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1


def conv_model(n=1, h=8, w=8, ic=3, oc=4, kh=3, kw=3, stride=(1, 1), dilation=(1, 1), padding=SAME,
               per_channel=True, act=NONE, in_zp=0, out_zp=0, groups=1, bias=True, seed=0,
               weights=None, w_zp=0, axis=0, out_shape=None, in_dtype="int8", two_inputs=False) -> bytes:
    rng = np.random.default_rng(seed)
    fc = ic // groups
    pad_name = "SAME" if padding == SAME else "VALID"
    if out_shape is None:
        oh, _ = padding_offsets(pad_name, h, kh, stride[0], dilation[0])
        ow, _ = padding_offsets(pad_name, w, kw, stride[1], dilation[1])
        out_shape = (n, oh, ow, oc)
    in_scale = 0.05
    w_scales = list(rng.uniform(0.002, 0.02, oc)) if per_channel else [0.01]
    # Output scale sized so that outputs spread over the int8 range instead of saturating.
    acc_std = 74.0 * 74.0 * math.sqrt(kh * kw * fc)
    out_scale = in_scale * float(np.mean(w_scales)) * acc_std / 40.0
    wdata = rng_int8(rng, (oc, kh, kw, fc)) if weights is None else weights
    wt = T((oc, kh, kw, fc), "int8", w_scales if per_channel else w_scales[0],
           [w_zp] * oc if per_channel else w_zp, axis=axis, data=wdata)
    tensors = [T((n, h, w, ic), in_dtype, in_scale, in_zp), wt]
    if bias:
        bscale = [in_scale * s for s in w_scales]
        tensors.append(T((oc,), "int32", bscale if per_channel else bscale[0], 0,
                         data=rng.integers(-int(acc_std), int(acc_std), oc).astype(np.int32)))
    tensors.append(T(out_shape, "int8", out_scale, out_zp))
    opts = options("Conv2DOptions", padding=padding, strideH=stride[0], strideW=stride[1],
                   dilationHFactor=dilation[0], dilationWFactor=dilation[1], fusedActivationFunction=act)
    # no bias: an omitted (-1) third input, or just two inputs
    inputs = [0, 1, 2] if bias else ([0, 1] if two_inputs else [0, 1, -1])
    out = len(tensors) - 1
    return build(tensors, [Op("CONV_2D", inputs, [out], opts)], [0], [out])


CASES = {
    # name: keyword arguments of conv_model
    "3x3_same": dict(),
    "3x3_valid": dict(padding=VALID),
    "1x1": dict(kh=1, kw=1, ic=16, oc=8),
    "1x1_stride2": dict(kh=1, kw=1, ic=8, oc=8, stride=(2, 2), h=9, w=9),
    "1x1_per_tensor": dict(kh=1, kw=1, ic=32, oc=12, per_channel=False),
    "3x3_stride2_same_even": dict(stride=(2, 2), h=10, w=10, ic=4, oc=6),
    "3x3_stride2_same_odd": dict(stride=(2, 2), h=11, w=9, ic=4, oc=6),
    "3x3_stride2_valid": dict(stride=(2, 2), h=11, w=10, padding=VALID),
    "stride_2x1": dict(stride=(2, 1), h=9, w=7),
    "stride_1x3": dict(stride=(1, 3), h=7, w=13, kh=2, kw=4),
    "5x5_same": dict(kh=5, kw=5, h=7, w=7, ic=2, oc=3),
    "4x4_same_even_kernel": dict(kh=4, kw=4, h=9, w=8),
    "2x2_same_even_kernel_stride2": dict(kh=2, kw=2, h=7, w=7, stride=(2, 2)),
    "10x4_kws_like": dict(kh=10, kw=4, h=49, w=10, ic=1, oc=16, stride=(2, 2), act=RELU),
    "rect_kernel_1x7": dict(kh=1, kw=7, h=5, w=12),
    "rect_kernel_7x1_valid": dict(kh=7, kw=1, h=12, w=5, padding=VALID),
    "kernel_bigger_than_input_same": dict(kh=5, kw=5, h=3, w=2, ic=3, oc=5),
    "kernel_equals_input_valid": dict(kh=4, kw=3, h=4, w=3, padding=VALID, ic=5, oc=7),
    "1x1_input": dict(kh=3, kw=3, h=1, w=1, ic=6, oc=4),
    "dilation2_same": dict(dilation=(2, 2), h=9, w=9),
    "dilation3_valid": dict(dilation=(3, 3), h=11, w=12, padding=VALID),
    "dilation_2x1_stride2": dict(dilation=(2, 1), stride=(2, 2), h=10, w=9),
    "dilation_bigger_than_input": dict(dilation=(4, 4), h=5, w=5, kh=3, kw=3),
    "per_tensor": dict(per_channel=False, ic=5, oc=7),
    "per_tensor_valid_stride2": dict(per_channel=False, padding=VALID, stride=(2, 2), h=9, w=9),
    "relu": dict(act=RELU, in_zp=-5, out_zp=-20),
    "relu6": dict(act=RELU6, out_zp=-128),
    "relu_n1_to_1": dict(act=RELU1, out_zp=3),
    "relu6_per_tensor": dict(act=RELU6, per_channel=False, in_zp=10),
    "in_zp_min": dict(in_zp=-128),
    "in_zp_max": dict(in_zp=127),
    "in_zp_min_valid": dict(in_zp=-128, padding=VALID, stride=(2, 2), h=9, w=9),
    "out_zp_max": dict(out_zp=127),
    "out_zp_min_relu": dict(out_zp=-128, act=RELU),
    "zps_extreme_per_tensor": dict(in_zp=127, out_zp=-128, per_channel=False),
    "batch2": dict(n=2, h=6, w=5, in_zp=-7),
    "batch3_stride2": dict(n=3, h=7, w=7, stride=(2, 2), per_channel=False),
    "no_bias": dict(bias=False, in_zp=9),
    "no_bias_per_tensor": dict(bias=False, per_channel=False, in_zp=-128),
    "no_bias_two_inputs": dict(bias=False, two_inputs=True, in_zp=50, stride=(2, 2), h=9, w=9),
    "deep": dict(ic=64, oc=16, h=6, w=6),
    "wide_out": dict(ic=3, oc=48, h=5, w=5),
    "single_channel": dict(ic=1, oc=1, h=6, w=9),
    "odd_all": dict(h=13, w=7, ic=5, oc=3, kh=3, kw=5, stride=(3, 2), padding=SAME, in_zp=31, out_zp=-77),
    "groups2": dict(ic=8, oc=6, groups=2),
    "groups4_valid_stride2": dict(ic=8, oc=8, groups=4, padding=VALID, stride=(2, 2), h=9, w=9),
    # without scratch, the stack path (K <= 128, input channels not a multiple of 4 or dilated columns)
    "stack_c1_first_layer": dict(ic=1, oc=8, h=12, w=11, act=RELU, in_zp=-128),
    "stack_c3_stride2_odd_oc": dict(ic=3, oc=9, stride=(2, 2), h=11, w=11, act=RELU6, in_zp=17),
    "stack_c4_dilated_columns": dict(ic=4, oc=5, dilation=(1, 2), h=9, w=9, per_channel=False),
    "stack_c1_k_odd_groups": dict(ic=1, oc=6, kh=5, kw=5, h=8, w=8, out_zp=-60),  # 7 groups of four
    "stack_k128": dict(ic=2, oc=3, kh=8, kw=8, h=9, w=9, padding=VALID),
    "reference_k147": dict(ic=3, oc=4, kh=7, kw=7, h=9, w=9),  # past the stack path's K
    # one input channel (the _c1 path): 3x3 words, other windows, borders, the input's last bytes
    "c1_valid_stride2_odd_oc": dict(ic=1, oc=5, padding=VALID, stride=(2, 2), h=11, w=9, in_zp=127, out_zp=-128),
    "c1_valid_last_pixel": dict(ic=1, oc=3, padding=VALID, h=5, w=4, in_zp=-77, act=RELU6),
    "c1_relu6_per_tensor": dict(ic=1, oc=7, act=RELU6, per_channel=False, h=7, w=6),
    "c1_relu1_zps": dict(ic=1, oc=3, h=6, w=5, act=RELU1, in_zp=9, out_zp=20),
    "c1_batch2_many_pixels": dict(n=2, ic=1, oc=2, h=9, w=11, act=RELU, out_zp=-128),
    # 1x1 on the same pixels (the _pointwise path): 3, 2, 1 channels past the groups of four, an odd
    # last pixel of the two-pixel loop (8 channels), a 1x1 image
    "pointwise_c8_oc7_relu": dict(kh=1, kw=1, ic=8, oc=7, h=5, w=5, act=RELU, in_zp=-128, out_zp=-128),
    "pointwise_c12_oc11_per_tensor": dict(kh=1, kw=1, ic=12, oc=11, h=3, w=7, per_channel=False, in_zp=127),
    "pointwise_1x1_image_oc9": dict(kh=1, kw=1, ic=32, oc=9, h=1, w=1, act=RELU6, out_zp=100),
}


@pytest.mark.parametrize("kwargs", list(CASES.values()), ids=list(CASES))
def test_conv2d(kwargs):
    check_bit_exact(conv_model(**kwargs, seed=len(str(kwargs))), count=3)


def test_conv2d_extreme_weights():
    # All weights -128 and inputs near the zero point extremes stress the accumulator and clamps.
    w = np.full((4, 3, 3, 8), -128, dtype=np.int8)
    check_bit_exact(conv_model(ic=8, oc=4, weights=w, in_zp=127, out_zp=127, act=RELU6), count=3)
    w = np.full((4, 3, 3, 8), 127, dtype=np.int8)
    check_bit_exact(conv_model(ic=8, oc=4, weights=w, in_zp=-128, out_zp=-128), count=3)


def test_conv2d_without_folding(monkeypatch):
    # The unfolded path must give the same bits on interior pixels too.
    monkeypatch.setattr(conv_ops, "fold_bias", lambda *a: None)
    check_bit_exact(conv_model(in_zp=-128, stride=(2, 1), h=9, w=8), count=3)
    check_bit_exact(conv_model(kh=1, kw=1, ic=9, oc=5, in_zp=77, per_channel=False), count=3)


def _lower(model: bytes):
    graph = parse_model(model, name="t.tflite")
    return conv_ops.lower_conv2d(graph, graph.operators[0])


def test_conv2d_params_are_precomputed():
    call = _lower(conv_model(in_zp=-3, per_channel=False, h=8, w=8, stride=(2, 2)))
    assert call.params["per_channel"] == 0 and call.params["fold_interior"] == 1
    assert call.params["input_offset"] == 3
    assert (call.params["pad_top"], call.params["pad_left"]) == (0, 0)
    consts = {c.name: c for c in call.consts}
    assert consts["mult"].values.shape == (1,)
    assert call.macs == 4 * 4 * 4 * 3 * 3 * 3


def test_conv2d_fold_overflow_falls_back():
    bias = np.array([2**31 - 10, 0], dtype=np.int64)
    assert conv_ops.fold_bias(bias, np.array([100, 100]), 128) is None
    assert conv_ops.fold_bias(bias, np.array([-100, 100]), 0).tolist() == bias.tolist()


@pytest.mark.parametrize("kwargs,message", [
    (dict(w_zp=3), "weights must be symmetric"),
    (dict(act=Activation.TANH), "fused activation TANH is not supported"),
    (dict(out_shape=(1, 7, 8, 4)), "does not match the computed [1, 8, 8, 4]"),
    (dict(per_channel=True, axis=3, ic=4, oc=4), "must be quantized along axis 0"),
    (dict(in_dtype="int16"), "this 16x8 operator takes int16 here"),  # int16 input, int8 output
    (dict(kh=5, kw=5, h=3, w=3, padding=VALID, out_shape=(1, 1, 1, 4)), "does not fit the 3x3 input"),
])
def test_conv2d_rejects(kwargs, message):
    with pytest.raises(UnsupportedModelError) as exc:
        _lower(conv_model(**kwargs))
    assert message in str(exc.value)


def test_conv2d_rejects_non_constant_weights():
    tensors = [T((1, 4, 4, 2), "int8", 0.1, 0), T((3, 1, 1, 2), "int8", 0.1, 0),
               T((1, 4, 4, 3), "int8", 0.1, 0)]
    opts = options("Conv2DOptions", padding=SAME, strideH=1, strideW=1)
    model = build(tensors, [Op("CONV_2D", [0, 1, -1], [2], opts)], [0, 1], [2])
    with pytest.raises(UnsupportedModelError, match="weights must be constant"):
        _lower(model)


def test_single_op_helper_conv():
    # the plain single_op helper path (graph input first, constants after) also works
    rng = np.random.default_rng(5)
    model = single_op(
        "CONV_2D",
        [T((1, 5, 5, 2), "int8", 0.02, 1), T((2, 3, 3, 2), "int8", 0.01, 0, data=rng_int8(rng, (2, 3, 3, 2))),
         T((2,), "int32", 0.0002, 0, data=np.array([100, -100], dtype=np.int32))],
        [T((1, 5, 5, 2), "int8", 0.05, 0)],
        options("Conv2DOptions", padding=SAME, strideH=1, strideW=1),
    )
    check_bit_exact(model, count=2)


def pointwise_chain(n=1, h=8, w=8, c_in=4, c_mid=16, c_out=16, per_channel=True, in_zp=3, mid_zp=-7, out_zp=5,
                    seed=0, k=1) -> bytes:
    """input -> kxk conv (c_in -> c_mid) -> kxk conv (c_mid -> c_out), SAME: the second conv's step
    is the memory peak, so its im2col columns can only live in place (its input dies with it)."""
    rng = np.random.default_rng(seed)

    def layer(cin: int, cout: int) -> tuple[T, T]:
        scales = list(rng.uniform(0.002, 0.02, cout)) if per_channel else [0.01]
        wt = T((cout, k, k, cin), "int8", scales if per_channel else scales[0],
               [0] * cout if per_channel else 0, data=rng_int8(rng, (cout, k, k, cin)))
        bt = T((cout,), "int32", [0.05 * s for s in scales] if per_channel else 0.05 * scales[0], 0,
               data=rng.integers(-2000, 2000, cout).astype(np.int32))
        return wt, bt

    w1, b1 = layer(c_in, c_mid)
    w2, b2 = layer(c_mid, c_out)
    tensors = [T((n, h, w, c_in), "int8", 0.05, in_zp), w1, b1, T((n, h, w, c_mid), "int8", 0.08, mid_zp),
               w2, b2, T((n, h, w, c_out), "int8", 0.1, out_zp)]
    opts = options("Conv2DOptions", padding=SAME, strideH=1, strideW=1)
    return build(tensors, [Op("CONV_2D", [0, 1, 2], [3], opts), Op("CONV_2D", [3, 4, 5], [6], opts)], [0], [6])


@pytest.mark.parametrize("kwargs", [
    dict(c_mid=20),  # 1x1 on more than 16 channels: the im2col path (16 or fewer take the pointwise path)
    dict(h=7, w=5, c_mid=18, c_out=9, per_channel=False, in_zp=-128, mid_zp=127),  # odd pixels and channels
    dict(n=2, h=4, w=4, c_mid=32, c_out=12, mid_zp=-128),               # batches
    dict(h=5, w=5, c_mid=64, c_out=64),                                 # columns wider than a pixel pair
    dict(h=16, w=16, c_mid=16, c_out=16, k=3),                          # 3x3: rows consumed behind
    dict(n=2, h=12, w=9, c_mid=6, c_out=7, k=3, in_zp=-128),            # 3x3, channels not whole groups
], ids=["basic", "odd", "batch2", "wide", "3x3", "3x3_odd_batch2"])
def test_conv2d_columns_in_place(kwargs, monkeypatch):
    from mcuforge.generator import compiler
    from mcuforge.generator.compiler import compile_graph

    # Without overlapping outputs (which give the second conv its scratch, tests/test_overlap.py):
    # the columns can only live in place.
    monkeypatch.setattr(compiler, "overlap_allowances", lambda *_args: {})
    model = pointwise_chain(**kwargs)
    second = compile_graph(parse_model(model)).calls[1]
    assert second.params.get("inplace", 0) > 0 and second.scratch_bytes == 0
    check_bit_exact(model, count=3)


def test_conv2d_in_place_needs_a_dying_input():
    from mcuforge.generator.compiler import compile_graph

    # the first conv reads the graph input (kept, as an IO tensor): never in place
    first = compile_graph(parse_model(pointwise_chain())).calls[0]
    assert not first.params.get("inplace")
    geo = dict(batches=1, input_h=1, input_w=2, output_h=1, output_w=2, stride_h=1, pad_top=0)
    assert not conv_ops.inplace_columns_fit(geo, in_c=8, out_c=8, column_bytes=64)
    geo = dict(batches=1, input_h=8, input_w=8, output_h=8, output_w=8, stride_h=1, pad_top=0)
    assert conv_ops.inplace_columns_fit(geo, in_c=16, out_c=16, column_bytes=64)


def test_inplace_check_of_the_kernel_agrees_with_the_compiler():
    # mcf_conv2d_inplace_ok (C) checks one pair, relying on the output's free end shrinking and the
    # consumed input growing pair by pair; inplace_columns_fit (the compiler) checks every pair.
    def kernel_ok(geo, in_c, out_c, nbytes):  # mcf_conv2d_inplace_ok, line by line
        pixels = geo["batches"] * geo["output_h"] * geo["output_w"]
        tail = (pixels * out_c - nbytes) & ~3
        i = int(tail / out_c) - 1 if tail >= 0 else 0  # C division truncates
        i = 0 if i < 0 else (i + 1) & ~1
        if i >= pixels:
            return True
        b = i // (geo["output_h"] * geo["output_w"])
        oy = (i // geo["output_w"]) % geo["output_h"]
        iy0 = oy * geo["stride_h"] - geo["pad_top"]
        return b * geo["input_h"] * geo["input_w"] * in_c + max(iy0, 0) * geo["input_w"] * in_c >= nbytes

    rng = np.random.default_rng(3)
    agree = 0
    for _ in range(3000):
        sh = int(rng.integers(1, 4))
        ih, iw = int(rng.integers(1, 20)), int(rng.integers(1, 20))
        kh = int(rng.integers(1, 6))
        pad = int(rng.integers(0, kh))
        oh = max(1, (ih + 2 * pad - kh) // sh + 1)
        geo = dict(batches=int(rng.integers(1, 4)), input_h=ih, input_w=iw, output_h=oh,
                   output_w=int(rng.integers(1, 20)), stride_h=sh, pad_top=pad)
        in_c, out_c = int(rng.integers(1, 70)), int(rng.integers(1, 70))
        nbytes = conv_ops.conv2d_scratch_bytes(kh * kh * in_c, in_c)
        ok = conv_ops.inplace_columns_fit(geo, in_c, out_c, nbytes)
        assert kernel_ok(geo, in_c, out_c, nbytes) == ok, (geo, in_c, out_c, nbytes)
        agree += ok
    assert 100 < agree < 2900  # both outcomes are exercised



@pytest.mark.parametrize("kwargs", [
    dict(ic=8, oc=5, act=RELU6, in_zp=-3),                      # im2col / direct, clamped
    dict(ic=20, oc=10, kh=1, kw=1),                              # im2col / direct, whole int8 range
    dict(ic=3, oc=4, act=RELU, padding=VALID),                   # im2col / stack
    dict(ic=3, oc=4, kh=7, kw=7, h=9, w=9),                      # im2col / reference loop
    dict(ic=8, oc=8, groups=4, padding=VALID, stride=(2, 2), h=9, w=9),  # grouped: reference loop
], ids=["clamp", "full", "odd_channels", "large_window", "grouped"])
def test_conv2d_run_time_dispatch(kwargs, monkeypatch):
    # Generated code calls one entry point per path (conv2d_s8.h); mcf_conv2d_s8 still chooses at run time.
    generic_entry_points(monkeypatch, "CONV_2D", "mcf_conv2d_s8")
    check_bit_exact(conv_model(**kwargs, seed=5), count=2)


def test_conv2d_entry_points():
    # The compiler names the path (and the activation's clamp) in the function it calls.
    def functions(model):
        call = _lower(model)
        return [c.function if c else None for c in (call, call.fallback, call.in_place)]

    assert functions(conv_model(ic=8, oc=4)) == ["mcf_conv2d_s8_im2col_full", "mcf_conv2d_s8_direct_full", None]
    assert functions(conv_model(ic=8, oc=4, act=RELU6))[:2] == ["mcf_conv2d_s8_im2col_clamp",
                                                                  "mcf_conv2d_s8_direct_clamp"]
    assert functions(conv_model(ic=3, oc=4))[:2] == ["mcf_conv2d_s8_im2col_full", "mcf_conv2d_s8_stack_full"]
    # One input channel, 3x3: its own path, no scratch and no fallback (windows on the stack).
    assert functions(conv_model(ic=1, oc=4, act=RELU)) == ["mcf_conv2d_s8_c1_clamp", None, None]
    assert functions(conv_model(ic=1, oc=4, dilation=(2, 2), h=9, w=9))[0] == "mcf_conv2d_s8_im2col_full"
    # Windows past the stack path's K = 128 (MCF_CONV2D_STACK_MAX_K) without scratch: the reference loop.
    assert functions(conv_model(ic=3, oc=4, kh=7, kw=7, h=9, w=9))[1] == "mcf_conv2d_s8_ref"
    # 1x1 on the same pixels, input channels a multiple of 4 up to 16 (8: conv_narrow): the pointwise path.
    assert functions(conv_model(kh=1, kw=1, ic=16, oc=16)) == ["mcf_conv2d_s8_pointwise_full", None, None]
    assert functions(conv_model(kh=1, kw=1, ic=12, oc=16, act=RELU))[0] == "mcf_conv2d_s8_pointwise_clamp"
    assert functions(conv_model(kh=1, kw=1, ic=6, oc=16))[0] == "mcf_conv2d_s8_im2col_full"  # not groups of four
    assert functions(conv_model(kh=1, kw=1, ic=12, oc=9, stride=(2, 2), h=9, w=9))[0] == "mcf_conv2d_s8_im2col_full"
    assert functions(conv_model(kh=1, kw=1, ic=132, oc=4, h=2, w=2))[0] == "mcf_conv2d_s8_im2col_full"  # K > 128
    # Filters taller than the direct path's 16 rows (MCF_CONV2D_DIRECT_MAX_ROWS) take the stack path (K <= 128).
    assert functions(conv_model(ic=4, oc=2, kh=17, kw=1, h=20, w=3))[1] == "mcf_conv2d_s8_stack_full"


def test_one_channel_constants_refuse_what_could_overflow():
    # The _c1 output stage needs a right shift (e >= 1) and int32 room for 2 * acc and t + rounding.
    w = np.ones((2, 9), dtype=np.int64)
    bias = np.array([100, -100])
    mult = np.array([1 << 30])
    ok = conv_ops.one_channel_constants(w, bias, mult, np.array([-8]), -128)
    assert ok is not None and list(ok[:3]) == [1 << 30, 2**7 - 128 * 2**8, 8]
    assert conv_ops.one_channel_constants(w, bias, mult, np.array([0]), 0) is None  # e = 0
    assert conv_ops.one_channel_constants(w, np.array([2**30, 0]), mult, np.array([-8]), 0) is None
    assert conv_ops.one_channel_constants(w, bias, mult, np.array([-24]), 5) is not None  # 2^23 + 5 * 2^24
    assert conv_ops.one_channel_constants(w, bias, mult, np.array([-25]), 127) is None


def test_conv2d_one_channel_path_big_bias_falls_back():
    # A bias near int32's edge leaves no room for the doubled sum: another path, same bits.
    model = conv_model(ic=1, oc=2, h=6, w=6, seed=3)
    graph = parse_model(model, name="t.tflite")
    graph.tensors[2].data = np.array([2**30 + 5, -(2**30)], dtype=np.int32)
    call = conv_ops.lower_conv2d(graph, graph.operators[0])
    assert "c1" not in call.function
