"""The float32 tail of an integer model (CAST int -> float32, float32 ADD / SUB / MUL with fused
activations) against TFLite Micro, bit for bit: overflow to infinity is clamped to FLT_MAX as
TFLite Micro's activation clamp does, int32 values above 2^24 are rounded as C++ converts them."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from tflite_builder import Op, T, build, options

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model


def _act(opcode, act):
    kind = {"ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions"}[opcode]
    return options(kind, fusedActivationFunction=act)


def tail_model():
    f = "float32"
    tensors = [
        T((2, 20), "int16"),                                              # 0 input x
        T((2, 20), "int8", 0.5, 3),                                       # 1 input y (CAST ignores its scale)
        T((5,), "int32"),                                                 # 2 input z
        T((2, 20), f), T((), f, data=np.array(0.0123, np.float32)),       # 3 fx, 4 scale
        T((2, 20), f),                                                    # 5 fx * scale
        T((2, 20), f),                                                    # 6 fy
        T((2, 20), f),                                                    # 7 out: fx * scale + fy, RELU6
        T((2, 20), f, data=np.linspace(-50, 50, 40, dtype=np.float32).reshape(2, 20)),  # 8
        T((2, 20), f),                                                    # 9 out: fy - const, RELU
        T((1,), f, data=np.array([1e36], np.float32)),                    # 10
        T((2, 20), f),                                                    # 11 out: fx * 1e36 (overflows)
        T((5,), f),                                                       # 12 out: float32(z)
        T((2, 20), f),                                                    # 13 out: fx - fy, RELU_N1_TO_1
        T((1, 20), f, data=np.linspace(-3, 3, 20, dtype=np.float32).reshape(1, 20)),  # 14 a row
        T((2, 20), f),                                                    # 15 out: row * fy (trailing dims)
    ]
    ops = [
        Op("CAST", [0], [3]),
        Op("MUL", [3, 4], [5], _act("MUL", 0)),
        Op("CAST", [1], [6]),
        Op("ADD", [5, 6], [7], _act("ADD", 3)),       # RELU6
        Op("SUB", [6, 8], [9], _act("SUB", 1)),       # RELU
        Op("MUL", [10, 3], [11], _act("MUL", 0)),     # the single value first
        Op("CAST", [2], [12]),
        Op("SUB", [3, 6], [13], _act("SUB", 2)),      # RELU_N1_TO_1
        Op("MUL", [14, 6], [15], _act("MUL", 0)),     # a row repeated over the output's rows
    ]
    return build(tensors, ops, [0, 1, 2], [7, 9, 11, 12, 13, 15])


def test_float_tail_bit_exact():
    result = check_bit_exact(tail_model(), count=3, paths=("fast",))
    assert result.bit_exact == 3


def test_float_broadcast_refused_by_name():
    f = "float32"
    tensors = [T((2, 20), "int16"), T((2, 20), f), T((2, 1), f, data=np.ones((2, 1), np.float32)), T((2, 20), f)]
    model = build(tensors, [Op("CAST", [0], [1]), Op("MUL", [1, 2], [3], _act("MUL", 0))], [0], [3])
    with pytest.raises(UnsupportedModelError, match=r"operator 1 \(MUL\).*broadcasts are not supported"):
        compile_graph(parse_model(model))


def test_float_log_softmax_after_dequantize_bit_exact():
    """int8 -> DEQUANTIZE -> float32 LOG_SOFTMAX, as classifiers exported with a float output end
    (bit-identical where both link the same expf / logf: the host build and TFLite Micro's here)."""
    f = "float32"
    tensors = [T((3, 10), "int8", 0.25, -3), T((3, 10), f), T((3, 10), f)]
    model = build(tensors, [Op("DEQUANTIZE", [0], [1]), Op("LOG_SOFTMAX", [1], [2], options("LogSoftmaxOptions"))],
                  [0], [2])
    assert compile_graph(parse_model(model)).calls[-1].function == "mcf_f32_log_softmax"
    result = check_bit_exact(model, count=4, paths=("fast",))
    assert result.bit_exact == 4


@pytest.mark.parametrize("beta", [1.0, 0.37])
def test_float_softmax_after_dequantize_bit_exact(beta):
    f = "float32"
    tensors = [T((2, 12), "int8", 0.2, 5), T((2, 12), f), T((2, 12), f)]
    model = build(tensors, [Op("DEQUANTIZE", [0], [1]), Op("SOFTMAX", [1], [2], options("SoftmaxOptions", beta=beta))],
                  [0], [2])
    assert compile_graph(parse_model(model)).calls[-1].function == "mcf_f32_softmax"
    assert check_bit_exact(model, count=4, paths=("fast",)).bit_exact == 4
