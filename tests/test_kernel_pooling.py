"""AVERAGE_POOL_2D / MAX_POOL_2D against TFLite Micro: windows, strides, SAME/VALID, activations."""

import pytest
from kernel_check import check_bit_exact
from tflite_builder import Activation, Padding, T, options, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.ops.base import padding_offsets

OPS = ["AVERAGE_POOL_2D", "MAX_POOL_2D"]
PAD_NAMES = {Padding.SAME: "SAME", Padding.VALID: "VALID"}


def _pool_model(opcode, in_shape, filt, stride, padding, act=Activation.NONE, scale=0.05, zp=0,
                out_shape=None, out_scale=None, out_zp=None):
    n, h, w, c = in_shape
    if out_shape is None:
        oh, _ = padding_offsets(PAD_NAMES[padding], h, filt[0], stride[0], 1)
        ow, _ = padding_offsets(PAD_NAMES[padding], w, filt[1], stride[1], 1)
        out_shape = (n, oh, ow, c)
    opts = options("Pool2DOptions", padding=padding, strideH=stride[0], strideW=stride[1],
                   filterHeight=filt[0], filterWidth=filt[1], fusedActivationFunction=act)
    return single_op(opcode, [T(in_shape, "int8", scale, zp)],
                     [T(out_shape, "int8", scale if out_scale is None else out_scale,
                        zp if out_zp is None else out_zp)], opts)


CASES = [
    # in_shape, filter (h, w), stride (h, w), padding, activation, scale, zero point
    ((1, 8, 8, 3), (2, 2), (2, 2), Padding.VALID, Activation.NONE, 0.05, 0),
    ((1, 7, 9, 5), (3, 3), (2, 2), Padding.SAME, Activation.NONE, 0.05, -3),
    ((2, 5, 5, 4), (3, 3), (1, 1), Padding.SAME, Activation.NONE, 0.02, 11),
    ((1, 10, 6, 8), (10, 6), (1, 1), Padding.VALID, Activation.NONE, 0.05, 0),  # global pooling
    ((1, 25, 5, 64), (25, 5), (25, 5), Padding.VALID, Activation.NONE, 0.1, -128),  # kws-like
    ((1, 6, 6, 16), (3, 2), (1, 2), Padding.SAME, Activation.RELU, 0.05, -20),
    ((1, 5, 7, 3), (4, 4), (3, 3), Padding.SAME, Activation.NONE, 0.05, 5),  # asymmetric padding
    ((1, 1, 1, 7), (1, 1), (1, 1), Padding.SAME, Activation.NONE, 0.05, 0),
    ((3, 9, 4, 2), (2, 3), (3, 1), Padding.VALID, Activation.RELU6, 0.1, -128),
    ((1, 12, 12, 1), (5, 5), (2, 2), Padding.SAME, Activation.RELU_N1_TO_1, 0.01, 3),
    ((1, 3, 3, 2), (5, 5), (1, 1), Padding.SAME, Activation.NONE, 0.05, 127),  # window larger than input
    ((1, 11, 13, 6), (3, 3), (2, 3), Padding.SAME, Activation.RELU6, 0.03, 127),
    ((2, 4, 4, 9), (2, 2), (1, 1), Padding.VALID, Activation.RELU, 0.05, 127),
    ((1, 16, 1, 4), (4, 1), (4, 1), Padding.VALID, Activation.NONE, 0.05, -1),  # 1-D along H
    ((1, 1, 20, 3), (1, 7), (1, 2), Padding.SAME, Activation.NONE, 0.05, 2),  # 1-D along W
    # The DSP path sums 4 channels in 16-bit lanes for windows of at most 255 values:
    ((1, 15, 17, 8), (15, 17), (1, 1), Padding.VALID, Activation.NONE, 0.05, -128),  # 255 values, 16-bit lanes
    ((1, 16, 16, 6), (16, 16), (1, 1), Padding.VALID, Activation.NONE, 0.05, 0),  # 256 values: 32-bit sums
]


@pytest.mark.parametrize("opcode", OPS)
@pytest.mark.parametrize("in_shape,filt,stride,padding,act,scale,zp", CASES)
def test_pool(opcode, in_shape, filt, stride, padding, act, scale, zp):
    model = _pool_model(opcode, in_shape, filt, stride, padding, act, scale, zp)
    check_bit_exact(model, count=6, seed=sum(in_shape))


# Large max windows take the two-pass kernel (the window's rows into a row of column maxima, then
# its columns) where that moves fewer bytes: the row on the stack when it fits, else in scratch.
STACK, SCRATCH, DIRECT = "mcf_maxpool_s8_rows_stack", "mcf_maxpool_s8_rows", "mcf_maxpool_s8"
ROWS_CASES = [
    # in_shape, filter, stride, padding, activation, zero point, kernel
    ((1, 6, 6, 48), (3, 3), (1, 1), Padding.SAME, Activation.NONE, 9, STACK),  # yolo-fastest's SPP block
    ((1, 6, 6, 48), (5, 5), (1, 1), Padding.SAME, Activation.NONE, -7, STACK),
    ((1, 6, 6, 48), (9, 9), (1, 1), Padding.SAME, Activation.NONE, 3, STACK),
    ((1, 6, 6, 48), (13, 13), (1, 1), Padding.SAME, Activation.NONE, 0, STACK),
    ((2, 9, 7, 10), (5, 5), (1, 1), Padding.SAME, Activation.RELU6, -100, STACK),  # batch 2, 4 + 4 + 2 channels
    ((1, 11, 10, 7), (6, 4), (2, 2), Padding.SAME, Activation.RELU, 20, STACK),
    ((1, 12, 14, 5), (5, 5), (2, 2), Padding.VALID, Activation.RELU_N1_TO_1, -1, STACK),  # column 13 unread
    ((1, 8, 9, 3), (4, 5), (1, 1), Padding.VALID, Activation.NONE, 127, STACK),
    ((2, 7, 20, 30), (5, 5), (1, 1), Padding.SAME, Activation.RELU, -5, SCRATCH),  # a 600-byte row
    ((1, 9, 40, 13), (9, 9), (2, 1), Padding.SAME, Activation.NONE, 0, SCRATCH),  # 520 bytes, 4 + ... + 1 channels
    ((1, 8, 8, 12), (2, 2), (2, 2), Padding.VALID, Activation.NONE, 0, DIRECT),
    ((1, 8, 8, 12), (2, 2), (1, 1), Padding.SAME, Activation.NONE, 0, DIRECT),
    ((1, 9, 9, 12), (3, 3), (2, 2), Padding.SAME, Activation.NONE, 0, DIRECT),
    ((1, 8, 8, 16), (3, 3), (2, 2), Padding.SAME, Activation.NONE, 0, DIRECT),
    ((1, 25, 5, 8), (25, 5), (25, 5), Padding.VALID, Activation.NONE, 0, DIRECT),  # one output: no fewer taps
]


@pytest.mark.parametrize("in_shape,filt,stride,padding,act,zp,kernel", ROWS_CASES)
def test_maxpool_two_pass(in_shape, filt, stride, padding, act, zp, kernel):
    model = _pool_model("MAX_POOL_2D", in_shape, filt, stride, padding, act, 0.05, zp)
    grown = compile_graph(parse_model(model), scratch_may_grow_arena=True)
    assert [c.function for c in grown.calls] == [kernel]
    check_bit_exact(model, count=4, seed=sum(in_shape) + filt[0])  # the scratch's fallback too


@pytest.mark.parametrize("opcode", OPS)
def test_pool_tiny_scale_difference_is_accepted(opcode):
    # TFLite Micro accepts scales that differ by at most 1e-6.
    model = _pool_model(opcode, (1, 6, 6, 4), (2, 2), (2, 2), Padding.VALID, scale=0.05, out_scale=0.0500004)
    check_bit_exact(model)


@pytest.mark.parametrize("opcode", OPS)
def test_pool_rejects_requantization(opcode):
    model = _pool_model(opcode, (1, 6, 6, 4), (2, 2), (2, 2), Padding.VALID, scale=0.05, out_scale=0.1)
    with pytest.raises(UnsupportedModelError, match="input and output quantization must match"):
        compile_graph(parse_model(model))
    model = _pool_model(opcode, (1, 6, 6, 4), (2, 2), (2, 2), Padding.VALID, zp=1, out_zp=2)
    with pytest.raises(UnsupportedModelError, match="input and output quantization must match"):
        compile_graph(parse_model(model))


def test_pool_rejects_wrong_output_shape():
    model = _pool_model("MAX_POOL_2D", (1, 6, 6, 4), (2, 2), (2, 2), Padding.VALID, out_shape=(1, 2, 2, 4))
    with pytest.raises(UnsupportedModelError, match=r"does not match the computed \[1, 3, 3, 4\]"):
        compile_graph(parse_model(model))


def test_pool_rejects_tanh_activation():
    model = _pool_model("AVERAGE_POOL_2D", (1, 4, 4, 1), (2, 2), (2, 2), Padding.VALID, act=Activation.TANH)
    with pytest.raises(UnsupportedModelError, match="fused activation TANH is not supported"):
        compile_graph(parse_model(model))


def test_pool_reshape_fully_connected_chain():
    # The kws/vww tail: global AVERAGE_POOL_2D -> RESHAPE (alias) -> FULLY_CONNECTED.
    import numpy as np
    from tflite_builder import Op, build, rng_int8

    rng = np.random.default_rng(7)
    tensors = [T((1, 5, 4, 12), "int8", 0.04, -6), T((1, 1, 1, 12), "int8", 0.04, -6),
               T((2,), "int32", data=np.array([1, 12], np.int32)), T((1, 12), "int8", 0.04, -6),
               T((3, 12), "int8", 0.01, 0, data=rng_int8(rng, (3, 12))),
               T((3,), "int32", 0.0004, 0, data=rng.integers(-900, 900, 3).astype(np.int32)),
               T((1, 3), "int8", 0.1, 2)]
    pool = options("Pool2DOptions", padding=Padding.VALID, strideH=1, strideW=1,
                   filterHeight=5, filterWidth=4)
    model = build(tensors, [Op("AVERAGE_POOL_2D", [0], [1], pool),
                            Op("RESHAPE", [1, 2], [3], options("ReshapeOptions", newShape=[1, 12])),
                            Op("FULLY_CONNECTED", [3, 4, 5], [6], options("FullyConnectedOptions"))],
                  [0], [6])
    check_bit_exact(model)


@pytest.mark.parametrize("value", [-128, 127])
def test_avgpool_extreme_sums_of_255_values(value):
    """The largest window the 16-bit lanes take, every value at an end of int8: sums of +-32,640."""
    import numpy as np
    from kernel_check import KERNEL_PATHS

    from mcuforge.generator.validate import validate_compiled

    model = _pool_model("AVERAGE_POOL_2D", (1, 15, 17, 7), (15, 17), (1, 1), Padding.VALID, zp=-128)
    cm = compile_graph(parse_model(model, name="test.tflite"))
    x = np.full((1, 15, 17, 7), value, dtype=np.int8)
    x[0, 0, 0, 6] = 0  # the channel left over after 4 in a word takes the scalar loop
    for path, flags in KERNEL_PATHS.items():
        result = validate_compiled(cm, model, [[x]], extra_flags=flags)
        assert result.bit_exact == 1 and result.max_abs_diff == 0, (path, result.to_json())
