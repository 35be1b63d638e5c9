"""ADD / SUB / MUL (int8, broadcasting, fused activations) against TFLite Micro, bit for bit."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from tflite_builder import Activation, Op, T, build, options, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.ops.elementwise import broadcast_loops
from mcuforge.generator.validate import validate_compiled

OPTIONS = {"ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions"}
OPS = list(OPTIONS)


def binary(opcode, s1, s2, q1=(0.05, 3), q2=(0.11, -7), qo=(0.09, -2), act=Activation.NONE, out_shape=None):
    out_shape = tuple(np.broadcast_shapes(s1, s2)) if out_shape is None else out_shape
    return single_op(opcode, [T(s1, "int8", *q1), T(s2, "int8", *q2)], [T(out_shape, "int8", *qo)],
                     options(OPTIONS[opcode], fusedActivationFunction=act))


def check_with_inputs(model: bytes, batches) -> None:
    graph = parse_model(model, name="test.tflite")
    result = validate_compiled(compile_graph(graph), model, batches)
    assert result.bit_exact == result.inputs, result.to_json()


SHAPES = [
    ((1, 8, 8, 16), (1, 8, 8, 16)),        # same shape: one flat loop
    ((1, 7, 5, 3), (1, 7, 5, 3)),          # odd sizes
    ((1, 8, 8, 16), (1, 1, 1, 16)),        # per-channel vector (bias-like)
    ((1, 1, 1, 16), (1, 8, 8, 16)),        # first input broadcast
    ((1, 8, 8, 16), ()),                   # scalar
    ((1,), (2, 3, 4)),                     # one-element tensor against a 3-D one
    ((1, 6, 6, 4), (1, 6, 6, 1)),          # per-pixel factor across channels
    ((2, 4, 4, 3), (2, 1, 1, 3)),          # batch > 1
    ((2, 1, 5, 3), (4, 1, 3)),             # different ranks, both broadcast
    ((3, 1), (1, 4)),                      # outer product
    ((2, 3, 1, 4, 5), (1, 3, 2, 1, 5)),    # 5-D, alternating patterns
    ((2, 1, 3, 1, 2, 3), (1, 2, 1, 2, 1, 3)),  # 6-D, alternating patterns
    ((1, 32, 32, 16), (1, 32, 32, 16)),    # pretrainedResnet_quant's first residual ADD shape
]


@pytest.mark.parametrize("opcode", OPS)
@pytest.mark.parametrize("s1,s2", SHAPES)
def test_shapes(opcode, s1, s2):
    check_bit_exact(binary(opcode, s1, s2))


ACTS = [Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1]


@pytest.mark.parametrize("opcode", OPS)
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("zps", [(0, 0, 0), (-128, 127, -128), (127, -128, 127), (5, -3, 100)])
def test_activations_and_zero_points(opcode, act, zps):
    model = binary(opcode, (1, 4, 4, 8), (1, 1, 4, 8), q1=(0.02, zps[0]), q2=(0.07, zps[1]),
                   qo=(0.03 if opcode != "MUL" else 0.004, zps[2]), act=act)
    check_bit_exact(model, count=3)


# Scale triples: equal scales, one input much finer, output coarser than both, output finer than
# both, resnet's actual residual ADDs, and triples where a float32 derivation of the multipliers
# would change some outputs (they must come out right here).
SCALES = [
    ((0.05, 0), (0.05, 0), (0.05, 0)),
    ((0.001, 10), (0.2, -20), (0.1, 0)),
    ((0.01, -1), (0.02, 2), (0.5, 3)),
    ((0.1, 7), (0.08, -9), (0.003, -4)),
    ((0.039393551647663116, -128), (0.10419496148824692, 4), (0.050945673137903214, -128)),
    ((0.08385830372571945, 38), (0.21724364161491394, -2), (0.1270691454410553, -128)),
    ((0.0337369441986084, 3), (0.07565425336360931, -7), (0.06403089314699173, -2)),
    ((0.1723920702934265, 3), (0.14673981070518494, -7), (0.12076286971569061, -2)),
]


@pytest.mark.parametrize("opcode", OPS)
@pytest.mark.parametrize("q1,q2,qo", SCALES)
def test_every_input_pair(opcode, q1, q2, qo):
    """All 65536 (a, b) pairs: a constant column of every int8 value against a row of them."""
    if opcode == "MUL":
        qo = (q1[0] * q2[0] * 40, qo[1])  # keep MUL outputs in range so rounding is visible
    values = np.arange(-128, 128, dtype=np.int8)
    column = T((256, 1), "int8", *q1, data=values.reshape(256, 1))
    model = single_op(opcode, [column, T((1, 256), "int8", *q2)], [T((256, 256), "int8", *qo)],
                      options(OPTIONS[opcode]))
    check_with_inputs(model, [[values.reshape(1, 256)], [values[::-1].copy().reshape(1, 256)]])


@pytest.mark.parametrize("opcode", OPS)
def test_same_tensor_twice(opcode):
    out_scale = 0.06 if opcode != "MUL" else 0.01
    tensors = [T((1, 5, 5, 4), "int8", 0.04, -3), T((1, 5, 5, 4), "int8", out_scale, 9)]
    model = build(tensors, [Op(opcode, [0, 0], [1], options(OPTIONS[opcode]))], [0], [1])
    check_bit_exact(model)


def test_mul_large_multiplier():
    """input scales product much larger than the output scale: a left shift in requantization."""
    check_bit_exact(binary("MUL", (1, 4, 4, 8), (1, 4, 4, 8), q1=(0.5, 1), q2=(0.9, -2), qo=(0.02, 0)))


def test_chain_of_elementwise_ops():
    shape = (1, 6, 6, 8)
    t = [T(shape, "int8", 0.05, 1), T((1, 1, 1, 8), "int8", 0.02, -4), T(shape, "int8", 0.07, 2),
         T(shape, "int8", 0.03, -1), T(shape, "int8", 0.06, 0)]
    ops = [Op("ADD", [0, 1], [2], options("AddOptions", fusedActivationFunction=Activation.RELU)),
           Op("MUL", [2, 0], [3], options("MulOptions")),
           Op("SUB", [3, 2], [4], options("SubOptions", fusedActivationFunction=Activation.RELU6))]
    check_bit_exact(build(t, ops, [0, 1], [4]))


# ---- the broadcast loop description --------------------------------------------------------

@pytest.mark.parametrize("s1,s2,dims,st1,st2", [
    ((1, 8, 8, 16), (1, 8, 8, 16), [1024], [1], [1]),
    ((1, 8, 8, 16), (1, 1, 1, 16), [64, 16], [16, 1], [0, 1]),
    ((1, 8, 8, 16), (), [1024], [1], [0]),
    ((1, 6, 6, 4), (1, 6, 6, 1), [36, 4], [4, 1], [1, 0]),
    ((3, 1), (1, 4), [3, 4], [1, 0], [0, 1]),
    ((1, 1), (1,), [1], [0], [0]),
    ((2, 1, 3), (2, 4, 1), [2, 4, 3], [3, 0, 1], [4, 1, 0]),
])
def test_broadcast_loops(s1, s2, dims, st1, st2):
    _, d, a, b = broadcast_loops(s1, s2)
    assert (d, a, b) == (dims, st1, st2)


# ---- what is refused, and why -------------------------------------------------------------

def _compile(model):
    return compile_graph(parse_model(model, name="test.tflite"))


def test_rejects_shapes_that_do_not_broadcast():
    with pytest.raises(UnsupportedModelError, match="do not broadcast"):
        _compile(binary("ADD", (1, 4, 4, 3), (1, 4, 4, 2), out_shape=(1, 4, 4, 3)))


def test_rejects_wrong_output_shape():
    with pytest.raises(UnsupportedModelError, match="differs from the broadcast shape"):
        _compile(binary("MUL", (1, 4, 4, 3), (1, 1, 1, 3), out_shape=(1, 4, 4, 1)))


def test_rejects_output_multiplier_above_one():
    with pytest.raises(UnsupportedModelError, match="outside"):
        _compile(binary("ADD", (1, 4), (1, 4), q1=(1.0, 0), q2=(1.0, 0), qo=(1e-7, 0)))


def test_rejects_tanh_fused_activation():
    with pytest.raises(UnsupportedModelError, match="fused activation TANH"):
        _compile(binary("SUB", (1, 4), (1, 4), act=Activation.TANH))


def test_rejects_per_channel_quantization():
    per_channel = T((1, 2, 2, 2), "int8", [0.1, 0.2], [0, 0], axis=3)
    model = single_op("ADD", [per_channel, T((1, 2, 2, 2), "int8", 0.1, 0)],
                      [T((1, 2, 2, 2), "int8", 0.1, 0)], options("AddOptions"))
    with pytest.raises(UnsupportedModelError, match="per channel"):
        _compile(model)


def test_rejects_mixed_int8_int16():
    """int16 ADD is supported (tests/test_int16_ops.py); int8 and int16 operands together are not."""
    model = single_op("ADD", [T((1, 4), "int16", 0.1, 0), T((1, 4), "int8", 0.1, 0)],
                      [T((1, 4), "int16", 0.1, 0)], options("AddOptions"))
    with pytest.raises(UnsupportedModelError, match="int16"):
        _compile(model)
    model = single_op("MUL", [T((1, 4), "int16", 0.1, 3), T((1, 4), "int16", 0.1, 0)],
                      [T((1, 4), "int16", 0.1, 0)], options("MulOptions"))
    with pytest.raises(UnsupportedModelError, match="zero point"):
        _compile(model)
