"""MAXIMUM, MINIMUM, PRELU, SQUARED_DIFFERENCE and DIV (int8, broadcasting) against TFLite Micro."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from tflite_builder import Activation, T, options, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.validate import validate_compiled

OPS = ["MAXIMUM", "MINIMUM", "PRELU", "SQUARED_DIFFERENCE", "DIV"]
VALUES = np.arange(-128, 128, dtype=np.int8)


def binary(opcode, s1, s2, q1=(0.05, 3), q2=(0.11, -7), qo=(0.09, -2), out_shape=None, const2=None,
           act=Activation.NONE):
    out_shape = tuple(np.broadcast_shapes(s1, s2)) if out_shape is None else out_shape
    second = T(s2, "int8", *q2, data=const2)
    opts = options("DivOptions", fusedActivationFunction=act) if opcode == "DIV" else None
    return single_op(opcode, [T(s1, "int8", *q1), second], [T(out_shape, "int8", *qo)], opts)


SHAPES = [
    ((1, 7, 5, 3), (1, 7, 5, 3)),          # same shape: one flat loop
    ((1, 8, 8, 16), (1, 1, 1, 16)),        # per-channel vector (PRELU's usual alpha)
    ((1, 8, 8, 16), ()),                   # scalar
    ((2, 4, 4, 3), (4, 1, 3)),             # lower-rank second operand
    ((9,), (9,)),                          # rank 1
    ((2, 3, 1, 4, 5), (1, 3, 2, 1, 5)),    # rank 5, alternating patterns
]


@pytest.mark.parametrize("opcode", OPS)
@pytest.mark.parametrize("s1,s2", SHAPES)
def test_shapes(opcode, s1, s2):
    if opcode == "PRELU" and np.broadcast_shapes(s1, s2) != s1:
        s1, s2 = s2, s1  # alpha broadcasts to the input
        if np.broadcast_shapes(s1, s2) != s1:
            pytest.skip("PRELU's alpha broadcasts to the input")
    check_bit_exact(binary(opcode, s1, s2), count=2)


QUANTS = [
    ((0.05, 0), (0.05, 0), (0.05, 0)),
    ((0.02, -128), (0.07, 127), (0.03, -128)),
    ((0.1, 7), (0.003, -9), (0.01, -4)),
]


@pytest.mark.parametrize("opcode", OPS)
@pytest.mark.parametrize("q1,q2,qo", QUANTS)
def test_every_input_pair(opcode, q1, q2, qo):
    """All 65536 (a, b) pairs, on the default kernel path: a constant column of every int8 value
    against a row of them."""
    if opcode == "SQUARED_DIFFERENCE":
        qo = (max(q1[0], q2[0]) ** 2 * 30, qo[1])  # keep squares in range so rounding is visible
    if opcode == "DIV":
        qo = (q1[0] / q2[0] / 40, qo[1])  # quotients of up to ~128 / 1 and down to 1 / 128
    column = T((256, 1), "int8", *q1, data=VALUES.reshape(256, 1))
    if opcode == "PRELU":  # input a runtime row, alpha the constant column
        model = single_op(opcode, [T((256, 256), "int8", *q2), column], [T((256, 256), "int8", *qo)])
        x = np.tile(VALUES, (256, 1))
        batches = [[x], [x[:, ::-1].copy()]]
    else:
        opts = options("DivOptions") if opcode == "DIV" else None
        model = single_op(opcode, [column, T((1, 256), "int8", *q2)], [T((256, 256), "int8", *qo)], opts)
        batches = [[VALUES.reshape(1, 256)], [VALUES[::-1].copy().reshape(1, 256)]]
    result = validate_compiled(compile_graph(parse_model(model, name="test.tflite")), model, batches)
    assert result.bit_exact == result.inputs, result.to_json()


def test_prelu_constant_alpha_per_channel():
    rng = np.random.default_rng(5)
    alpha = rng.integers(-128, 128, (1, 1, 12)).astype(np.int8)
    check_bit_exact(binary("PRELU", (1, 5, 5, 12), (1, 1, 12), q1=(0.04, -3), q2=(0.004, 9), qo=(0.03, 5),
                           const2=alpha))


# Scale triples whose DIV multiplier exponent puts the final shift outside 0..31 for some pairs
# (the interpreter's x86 behaviour is reproduced there), and near-ties of the float32/double ratio.
DIV_SCALES = [((0.05, 3), (0.11, -7), (0.09, -2)), ((0.5, 0), (0.01, 0), (0.9, 10)),
              ((0.01, -128), (0.2, 127), (0.001, 0)), ((0.02, 5), (0.02, 5), (0.5, -100)),
              ((0.3, 0), (0.001, 0), (200.0, 0)), ((0.001, 0), (0.5, 0), (1e-5, 0))]


@pytest.mark.parametrize("q1,q2,qo", DIV_SCALES)
def test_div_every_input_pair_extreme_shifts(q1, q2, qo):
    column = T((256, 1), "int8", *q1, data=VALUES.reshape(256, 1))
    model = single_op("DIV", [column, T((1, 256), "int8", *q2)], [T((256, 256), "int8", *qo)],
                      options("DivOptions"))
    result = validate_compiled(compile_graph(parse_model(model, name="test.tflite")), model, [[VALUES.reshape(1, 256)]])
    assert result.bit_exact == result.inputs, result.to_json()


@pytest.mark.parametrize("act", [Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1])
def test_div_fused_activations(act):
    check_bit_exact(binary("DIV", (1, 5, 5, 4), (1, 1, 1, 4), q1=(0.1, -3), q2=(0.05, 9), qo=(0.04, -20), act=act))


def test_rejects_rank_6():
    with pytest.raises(UnsupportedModelError, match="rank above 5"):
        compile_graph(parse_model(binary("MAXIMUM", (1, 2, 1, 2, 1, 3), (2, 1, 2, 1, 3)), name="t.tflite"))


def test_rejects_shapes_that_do_not_broadcast():
    with pytest.raises(UnsupportedModelError, match="do not broadcast"):
        compile_graph(parse_model(binary("MINIMUM", (1, 4, 3), (1, 4, 2), out_shape=(1, 4, 3)), name="t.tflite"))


def device_models() -> dict[str, bytes]:
    """Branches of tests/test_kernels_on_device.py's parallel model: one graph input each, the
    second operand a constant (broadcast or full size)."""
    rng = np.random.default_rng(9)

    def const(shape):
        return rng.integers(-128, 128, shape).astype(np.int8)

    return {
        "maximum_bcast": binary("MAXIMUM", (1, 6, 6, 8), (1, 1, 1, 8), const2=const((1, 1, 1, 8))),
        "minimum_same": binary("MINIMUM", (2, 3, 1, 4, 5), (2, 3, 1, 4, 5), const2=const((2, 3, 1, 4, 5))),
        "prelu_channels": binary("PRELU", (1, 7, 5, 12), (1, 1, 12), q1=(0.04, -128), q2=(0.004, 127),
                                 qo=(0.03, 127), const2=const((1, 1, 12))),
        "div_bcast": binary("DIV", (1, 5, 5, 6), (1, 1, 1, 6), q1=(0.1, -128), q2=(0.05, 127), qo=(0.08, 5),
                            const2=const((1, 1, 1, 6))),
        "div_same": binary("DIV", (3, 17), (3, 17), q1=(0.1, 3), q2=(0.02, -11), qo=(0.3, -7), act=Activation.RELU,
                           const2=const((3, 17))),
        "squared_difference": binary("SQUARED_DIFFERENCE", (1, 5, 5, 6), (1, 5, 1, 6), q1=(0.05, 127),
                                     q2=(0.03, -128), qo=(0.02, -128), const2=const((1, 5, 1, 6))),
    }
