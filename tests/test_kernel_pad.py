"""PAD / PADV2 (int8) against TFLite Micro: 1-D to 5-D, any padded axes, pad values."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from tflite_builder import Op, T, build, options, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.ops.pad import simplify


def _pad_model(in_shape, pads, in_q=(0.05, 0), out_q=None, value=None, value_q=None, out_shape=None):
    pads = np.array(pads, dtype=np.int32).reshape(len(in_shape), 2)
    if out_shape is None:
        out_shape = tuple(int(d + a + b) for d, (a, b) in zip(in_shape, pads, strict=True))
    out_q = out_q or in_q
    ins = [T(in_shape, "int8", *in_q), T(pads.shape, "int32", data=pads)]
    if value is not None:
        vq = value_q or out_q
        ins.append(T((), "int8", vq[0], vq[1], data=np.array(value, dtype=np.int8)))
        opcode, opts = "PADV2", options("PadV2Options")
    else:
        opcode, opts = "PAD", options("PadOptions")
    return single_op(opcode, ins, [T(out_shape, "int8", *out_q)], opts)


CASES = [
    # input shape, paddings [[before, after] per dimension], input (scale, zero point)
    ((1, 4, 4, 3), [[0, 0], [1, 1], [1, 1], [0, 0]], (0.05, 0)),  # image style
    ((1, 5, 6, 2), [[0, 0], [2, 0], [0, 3], [0, 0]], (0.05, -128)),
    ((2, 3, 3, 4), [[1, 0], [0, 2], [1, 1], [2, 1]], (0.05, 127)),  # every axis, channels too
    ((1, 7, 7, 8), [[0, 0], [0, 1], [0, 1], [0, 0]], (0.02, 5)),  # TF "SAME" for stride 2
    ((1, 3, 3, 2), [[0, 0], [0, 0], [0, 0], [0, 0]], (0.05, -9)),  # nothing to pad
    ((1, 2, 2, 5), [[0, 0], [0, 0], [0, 0], [3, 4]], (0.05, 1)),  # channels only
    ((3, 4, 5), [[0, 1], [2, 2], [0, 0]], (0.05, 30)),
    ((4, 6), [[1, 2], [3, 0]], (0.05, -3)),
    ((7,), [[2, 5]], (0.05, 100)),
    ((2, 2, 3, 2, 2), [[0, 1], [1, 0], [0, 0], [1, 1], [0, 2]], (0.05, -50)),  # 5-D
    ((1, 1, 1, 1), [[1, 1], [1, 1], [1, 1], [1, 1]], (0.05, 0)),
]


@pytest.mark.parametrize("in_shape,pads,in_q", CASES)
def test_pad(in_shape, pads, in_q):
    check_bit_exact(_pad_model(in_shape, pads, in_q), seed=len(in_shape))


@pytest.mark.parametrize("in_shape,pads,in_q", CASES[:4] + CASES[6:])
@pytest.mark.parametrize("value", [0, 5, -128, 127])
def test_padv2(in_shape, pads, in_q, value):
    check_bit_exact(_pad_model(in_shape, pads, in_q, value=value), seed=len(in_shape))


def test_pad_copies_bytes_when_scales_differ():
    # TFLite Micro does not rescale: the output zero point pads, the data bytes are copied as is.
    check_bit_exact(_pad_model((1, 4, 4, 3), [[0, 0], [1, 2], [2, 1], [0, 0]], (0.05, 3), out_q=(0.1, -7)))


def test_padv2_without_constant_uses_zero_point():
    tensors = [T((1, 3, 3, 2), "int8", 0.05, 9),
               T((4, 2), "int32", data=np.array([[0, 0], [1, 1], [1, 1], [0, 0]], np.int32)),
               T((1, 5, 5, 2), "int8", 0.05, 9)]
    check_bit_exact(build(tensors, [Op("PADV2", [0, 1], [2], options("PadV2Options"))], [0], [2]))


def test_pad_then_pad():
    # Chained PADs: the second reads what the first wrote, arena buffers planned between them.
    pads1 = np.array([[0, 0], [1, 1], [0, 0], [0, 0]], np.int32)
    pads2 = np.array([[0, 0], [0, 0], [2, 0], [0, 1]], np.int32)
    tensors = [T((1, 2, 3, 2), "int8", 0.05, -4), T((4, 2), "int32", data=pads1),
               T((1, 4, 3, 2), "int8", 0.05, -4), T((4, 2), "int32", data=pads2),
               T((1, 4, 5, 3), "int8", 0.05, -4)]
    model = build(tensors, [Op("PAD", [0, 1], [2], options("PadOptions")),
                            Op("PAD", [2, 3], [4], options("PadOptions"))], [0], [4])
    check_bit_exact(model)


def test_simplify_folds_unpadded_dimensions():
    assert simplify([1, 4, 4, 3], [0, 1, 1, 0], [0, 1, 1, 0]) == ([1, 1, 1, 4, 12], [0, 0, 0, 1, 3],
                                                                  [0, 0, 0, 1, 3])
    assert simplify([2, 3], [0, 0], [0, 0]) == ([1, 1, 1, 1, 6], [0] * 5, [0] * 5)


def test_pad_rejects_negative_padding():
    model = _pad_model((1, 4, 4, 1), [[0, 0], [-1, 0], [0, 0], [0, 0]])
    with pytest.raises(UnsupportedModelError, match="negative paddings are not supported"):
        compile_graph(parse_model(model))


def test_pad_rejects_wrong_output_shape():
    model = _pad_model((1, 4, 4, 1), [[0, 0], [1, 1], [1, 1], [0, 0]], out_shape=(1, 6, 5, 1))
    with pytest.raises(UnsupportedModelError, match=r"plus paddings .* = \[1, 6, 6, 1\]"):
        compile_graph(parse_model(model))


def test_padv2_rejects_requantized_constant():
    model = _pad_model((1, 4, 4, 1), [[0, 0], [1, 1], [1, 1], [0, 0]], value=3, value_q=(0.05, 1))
    with pytest.raises(UnsupportedModelError, match="the output's scale and zero point"):
        compile_graph(parse_model(model))


def test_pad_rejects_non_constant_paddings():
    tensors = [T((1, 2, 2, 1), "int8", 0.05, 0), T((4, 2), "int32"), T((1, 4, 4, 1), "int8", 0.05, 0)]
    model = build(tensors, [Op("PAD", [0, 1], [2], options("PadOptions"))], [0, 1], [2])
    with pytest.raises(UnsupportedModelError, match="the paddings tensor must be constant"):
        compile_graph(parse_model(model))
