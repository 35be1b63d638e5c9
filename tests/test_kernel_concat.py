"""CONCATENATION (int8) against TFLite Micro: every axis, 1 to 10 inputs, constant inputs."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from tflite_builder import Activation, Op, T, build, options, rng_int8

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model


def _concat_model(shapes, axis, q=(0.05, 0), act=Activation.NONE, in_q=None, const=(), out_shape=None):
    """shapes: input shapes; const: indices of inputs that are constant tensors."""
    rng = np.random.default_rng(len(shapes))
    rank = len(shapes[0])
    ax = axis + rank if axis < 0 else axis
    if out_shape is None:
        out_shape = list(shapes[0])
        out_shape[ax] = sum(s[ax] for s in shapes)
    tensors = []
    for i, s in enumerate(shapes):
        iq = in_q[i] if in_q else q
        data = rng_int8(rng, tuple(s)) if i in const else None
        tensors.append(T(tuple(s), "int8", iq[0], iq[1], data=data))
    tensors.append(T(tuple(out_shape), "int8", *q))
    n = len(shapes)
    graph_inputs = [i for i in range(n) if i not in const]
    opts = options("ConcatenationOptions", axis=axis, fusedActivationFunction=act)
    return build(tensors, [Op("CONCATENATION", list(range(n)), [n], opts)], graph_inputs, [n])


CASES = [
    # input shapes, axis, (scale, zero point)
    ([(1, 4, 4, 3), (1, 4, 4, 5)], 3, (0.05, 0)),
    ([(1, 4, 4, 3), (1, 4, 4, 5)], -1, (0.05, -128)),
    ([(1, 2, 4, 3), (1, 3, 4, 3), (1, 1, 4, 3)], 1, (0.05, 127)),
    ([(1, 5, 2, 2), (1, 5, 3, 2)], 2, (0.1, 7)),
    ([(2, 3, 3, 2), (1, 3, 3, 2)], 0, (0.05, -3)),
    ([(3, 4), (3, 2)], 1, (0.05, 1)),
    ([(3, 4), (5, 4)], 0, (0.05, 1)),
    ([(6,), (1,), (3,)], 0, (0.05, 0)),
    ([(2, 1, 3, 2, 2), (2, 2, 3, 2, 2)], 1, (0.05, 40)),  # 5-D
    ([(1, 2, 2, c) for c in range(1, 11)], 3, (0.05, -9)),  # ten inputs
    ([(1, 3, 3, 4)], 3, (0.05, 2)),  # one input: a copy
    ([(1, 1, 1, 16), (1, 1, 1, 16)], 3, (0.05, 0)),
]


@pytest.mark.parametrize("shapes,axis,q", CASES)
def test_concat(shapes, axis, q):
    check_bit_exact(_concat_model(shapes, axis, q), seed=len(shapes) + axis)


@pytest.mark.parametrize("const", [(0,), (1,), (0, 2)])
def test_concat_with_constant_inputs(const):
    check_bit_exact(_concat_model([(1, 2, 3, 4), (1, 2, 3, 2), (1, 2, 3, 1)], 3, (0.05, 3), const=const))


def test_concat_same_tensor_twice():
    tensors = [T((2, 3), "int8", 0.05, 4), T((2, 6), "int8", 0.05, 4)]
    opts = options("ConcatenationOptions", axis=1)
    model = build(tensors, [Op("CONCATENATION", [0, 0], [1], opts)], [0], [1])
    check_bit_exact(model)


def test_concat_rejects_different_scales():
    model = _concat_model([(1, 2, 2, 2), (1, 2, 2, 3)], 3, (0.05, 0), in_q=[(0.05, 0), (0.1, 0)])
    with pytest.raises(UnsupportedModelError, match="must have the same quantization"):
        compile_graph(parse_model(model))
    model = _concat_model([(1, 2, 2, 2), (1, 2, 2, 3)], 3, (0.05, 0), in_q=[(0.05, 1), (0.05, 0)])
    with pytest.raises(UnsupportedModelError, match="must have the same quantization"):
        compile_graph(parse_model(model))


def test_concat_rejects_activation():
    model = _concat_model([(1, 2), (1, 2)], 1, act=Activation.RELU)
    with pytest.raises(UnsupportedModelError, match="fused activation RELU is not supported"):
        compile_graph(parse_model(model))


def test_concat_rejects_eleven_inputs():
    model = _concat_model([(1, 2)] * 11, 0)
    with pytest.raises(UnsupportedModelError, match="expected 1 to 10 inputs"):
        compile_graph(parse_model(model))


def test_concat_rejects_shape_mismatch():
    model = _concat_model([(1, 2, 2, 2), (1, 3, 2, 2)], 3, out_shape=(1, 2, 2, 4))
    with pytest.raises(UnsupportedModelError, match=r"\[1, 3, 2, 2\] does not fit output"):
        compile_graph(parse_model(model))
