"""RELU, RELU6 and HARD_SWISH (int8) against TFLite Micro, bit for bit."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from tflite_builder import Op, T, build, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.validate import validate_compiled

EVERY_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)


def every_value(opcode, q_in, q_out):
    """One inference over all 256 int8 inputs: the whole function is checked."""
    model = single_op(opcode, [T((1, 256), "int8", *q_in)], [T((1, 256), "int8", *q_out)])
    graph = parse_model(model, name="test.tflite")
    cm = compile_graph(graph)
    result = validate_compiled(cm, model, [[EVERY_INT8]])
    assert result.bit_exact == 1, result.to_json()
    return cm


def functions(cm):
    return [c.function for c in cm.calls]


# Pairs of (scale, zero point) for input and output. The last entries are pairs on which a
# float32 derivation of the multipliers gives different outputs than TFLite Micro.
PAIRS = [
    ((0.05, 0), (0.05, 0)),
    ((0.02, -128), (0.02, -128)),
    ((0.1, 10), (0.05, -3)),
    ((0.01, 127), (0.3, -128)),
    ((0.5, -60), (0.004, 0)),
    ((0.0039, -128), (0.0039, 127)),
    ((0.03, 40), (0.07, 100)),
    ((0.1464003473520279, -84), (0.1262374222278595, 17)),
    ((0.03631746396422386, -66), (0.05358778312802315, -13)),
    ((0.18329499661922455, -102), (0.07677238434553146, -127)),
    ((0.14783528447151184, -79), (0.09886863827705383, -58)),
]


@pytest.mark.parametrize("q_in,q_out", PAIRS)
def test_relu_every_value(q_in, q_out):
    cm = every_value("RELU", q_in, q_out)
    if q_in == q_out:
        assert functions(cm) == ["mcf_clamp_s8"]


# RELU6 never rescales: the output's quantization is not consulted (as in TFLite Micro).
# 0.0710059180855751 and 0.3076923191547394 are scales where 6 / scale rounds differently in
# float32 and in double.
@pytest.mark.parametrize("q_in,q_out", [
    *PAIRS,
    ((0.0710059180855751, -128), (0.0710059180855751, -128)),
    ((0.3076923191547394, 5), (0.3076923191547394, 5)),
    ((0.001, 0), (0.001, 0)),     # six far above 127
    ((0.2, 120), (0.2, 120)),     # six clamps at 127
])
def test_relu6_every_value(q_in, q_out):
    every_value("RELU6", q_in, q_out)


@pytest.mark.parametrize("q_in,q_out", [
    *(p for p in PAIRS if p[0][0] / 128 < p[1][0]),
    ((0.001, 0), (0.0005, 0)),     # reluish multiplier shifts right
    ((0.9, -20), (0.5, 30)),       # reluish multiplier shifts left, with saturation
    ((3.0, 0), (2.0, -100)),       # huge input range
    ((0.02, 127), (0.01, -128)),
    ((0.024, -128), (0.0002, 127)),  # output multiplier close to one
    ((0.05, 10), (0.0004, 0)),     # output exponent 0
])
def test_hard_swish_every_value(q_in, q_out):
    every_value("HARD_SWISH", q_in, q_out)


@pytest.mark.parametrize("opcode", ["RELU", "RELU6", "HARD_SWISH"])
@pytest.mark.parametrize("shape", [(1, 8, 8, 16), (2, 5, 3), (7,), (1, 1, 1, 1)])
def test_random_shapes(opcode, shape):
    check_bit_exact(single_op(opcode, [T(shape, "int8", 0.06, -5)], [T(shape, "int8", 0.04, -20)]))


def test_activation_chain():
    s = (1, 6, 6, 4)
    t = [T(s, "int8", 0.05, 3), T(s, "int8", 0.03, -128), T(s, "int8", 0.03, -128), T(s, "int8", 0.02, 0)]
    ops = [Op("RELU", [0], [1]), Op("RELU6", [1], [2]), Op("HARD_SWISH", [2], [3])]
    check_bit_exact(build(t, ops, [0], [3]))


def _compile(model):
    return compile_graph(parse_model(model, name="test.tflite"))


def test_hard_swish_rejects_tiny_output_scale():
    with pytest.raises(UnsupportedModelError, match="too small"):
        _compile(single_op("HARD_SWISH", [T((1, 4), "int8", 1.0, 0)], [T((1, 4), "int8", 0.001, 0)]))


def test_rejects_per_channel():
    inp = T((1, 2), "int8", [0.1, 0.2], [0, 0], axis=1)
    with pytest.raises(UnsupportedModelError, match="per channel"):
        _compile(single_op("RELU", [inp], [T((1, 2), "int8", 0.1, 0)]))


def test_rejects_float_relu():
    model = build([T((1, 4), "int8", 0.1, 0), T((1, 4), "float32"), T((1, 4), "float32")],
                  [Op("DEQUANTIZE", [0], [1]), Op("RELU", [1], [2], None)], [0], [2])
    with pytest.raises(UnsupportedModelError, match="float32; only int8"):
        _compile(model)

