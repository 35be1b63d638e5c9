"""LEAKY_RELU, ABS and RSQRT (int8 tables) against TFLite Micro, bit for bit; NEG/EXP refused.

Each table is checked over all 256 input values against the interpreter, then random tensors of
ranks 1-5 go through every kernel path.
"""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from tflite_builder import T, options, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.validate import validate_compiled

EVERY_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)


def check_every_value(model: bytes, values: np.ndarray = EVERY_INT8) -> None:
    """The table against the interpreter on every input value (the lookup loop is the same C on
    every kernel path; test_ranks runs it on all three)."""
    cm = compile_graph(parse_model(model, name="test.tflite"))
    result = validate_compiled(cm, model, [[values], [values[:, ::-1].copy()]])
    assert result.bit_exact == result.inputs, result.to_json()


def leaky(shape, q_in, q_out, alpha):
    return single_op("LEAKY_RELU", [T(shape, "int8", *q_in)], [T(shape, "int8", *q_out)],
                     options("LeakyReluOptions", alpha=alpha))


def unary(opcode, shape, q_in, q_out):
    return single_op(opcode, [T(shape, "int8", *q_in)], [T(shape, "int8", *q_out)])


QUANTS = [((0.05, 3), (0.05, 3)), ((0.1, -128), (0.07, 127)), ((0.02, 127), (0.2, -128)), ((0.5, -7), (0.01, 4))]


@pytest.mark.parametrize("alpha", [0.2, 0.01, 1.7, -0.3, 0.0])
@pytest.mark.parametrize("q_in,q_out", QUANTS)
def test_leaky_relu_every_value(alpha, q_in, q_out):
    check_every_value(leaky((1, 256), q_in, q_out, alpha))


@pytest.mark.parametrize("q_in,q_out", [*QUANTS, ((0.03, -5), (0.03, -5))])
def test_abs_every_value(q_in, q_out):
    check_every_value(unary("ABS", (1, 256), q_in, q_out))


@pytest.mark.parametrize("q_in,q_out", [((0.05, -128), (0.02, -128)), ((0.001, -128), (0.5, 0)),
                                        ((1.7, -128), (0.003, -100)), ((0.02, -128), (0.2, 127))])
def test_rsqrt_every_value(q_in, q_out):
    """Zero point -128: every int8 input is at or above it (TFLite Micro stops below it)."""
    check_every_value(unary("RSQRT", (1, 256), q_in, q_out))


@pytest.mark.parametrize("zp", [0, 50, 127])
def test_rsqrt_inputs_above_the_zero_point(zp):
    values = np.arange(zp, 128, dtype=np.int8)
    model = unary("RSQRT", (1, values.size), (0.04, zp), (0.05, -20))
    check_every_value(model, values.reshape(1, -1))


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4), (1, 4, 4, 3), (2, 1, 3, 2, 5)])
@pytest.mark.parametrize("opcode", ["LEAKY_RELU", "ABS"])
def test_ranks(opcode, shape):
    if opcode == "LEAKY_RELU":
        model = leaky(shape, (0.03, 4), (0.02, -3), 0.1)
    else:
        model = unary(opcode, shape, (0.03, 4), (0.02, -3))
    check_bit_exact(model, count=2)


@pytest.mark.parametrize("opcode", ["NEG", "EXP"])
def test_float_only_ops_are_refused(opcode):
    model = unary(opcode, (1, 8), (0.1, 0), (0.1, 0))
    with pytest.raises(UnsupportedModelError, match=f"TFLite Micro has no int8 kernel for {opcode}"):
        compile_graph(parse_model(model, name="test.tflite"))


def device_models() -> dict[str, bytes]:
    """Branches of tests/test_kernels_on_device.py's parallel model (one input, one output each)."""
    return {"leaky_relu": leaky((1, 5, 5, 7), (0.05, -128), (0.03, 127), 0.1),
            "leaky_relu_neg_alpha": leaky((2, 3, 11), (0.02, 17), (0.04, -5), -0.6),
            "abs": unary("ABS", (1, 4, 4, 5), (0.1, 127), (0.07, -128)),
            "rsqrt": unary("RSQRT", (3, 19), (0.03, -128), (0.05, -100))}
