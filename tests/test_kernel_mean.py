"""MEAN (int8) against TFLite Micro: global average pooling and other axis sets."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from tflite_builder import T, options, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model


def _mean_model(in_shape, axes, keep_dims, in_q=(0.05, 0), out_q=(0.05, 0), axis_shape=None):
    rank = len(in_shape)
    resolved = {a + rank if a < 0 else a for a in axes}
    if keep_dims:
        out_shape = tuple(1 if i in resolved else d for i, d in enumerate(in_shape))
    else:
        out_shape = tuple(d for i, d in enumerate(in_shape) if i not in resolved)
    axis_data = np.array(axes, dtype=np.int32)
    axis_t = T(axis_shape if axis_shape is not None else (len(axes),), "int32",
               data=axis_data.reshape(axis_shape if axis_shape is not None else (len(axes),)))
    return single_op("MEAN", [T(in_shape, "int8", in_q[0], in_q[1]), axis_t],
                     [T(out_shape, "int8", out_q[0], out_q[1])],
                     options("ReducerOptions", keepDims=keep_dims))


CASES = [
    # input shape, axes, input (scale, zero point), output (scale, zero point)
    ((1, 7, 7, 16), [1, 2], (0.05, 0), (0.05, 0)),  # global average pooling
    ((1, 7, 7, 16), [1, 2], (0.05, -128), (0.02, 127)),
    ((2, 5, 3, 8), [1, 2], (0.1, 3), (0.03, -5)),
    ((1, 4, 4, 3), [2, 1], (0.02, 10), (0.5, -1)),  # small output multiplier
    ((1, 6, 5, 4), [-3, -2], (0.05, -7), (0.05, -7)),
    ((1, 3, 3, 1024), [1, 2], (0.02, -20), (0.01, 4)),
    ((1, 96, 96, 1), [1, 2], (0.004, -128), (0.003, -128)),  # 9216 elements per mean
    ((1, 49, 10, 64), [1, 2], (0.08, 30), (0.06, 30)),
    ((1, 5, 5, 6), [3], (0.05, 1), (0.04, 0)),  # channels
    ((3, 4, 2, 5), [0], (0.05, 2), (0.05, 2)),  # batch
    ((2, 6, 4, 3), [1], (0.05, 0), (0.07, 9)),
    ((2, 3, 4, 5), [0, 1, 2, 3], (0.05, -3), (0.01, 0)),  # everything
    ((2, 3, 4, 5), [1, 3], (0.03, 5), (0.02, -6)),  # interleaved kept/reduced
    ((2, 3, 4, 5), [0, 2], (0.03, 5), (0.02, -6)),
    ((1, 1, 6, 7), [1, 2], (0.05, 8), (0.05, 8)),  # size-1 reduced dim
    ((1, 10, 8), [1], (0.05, 0), (0.06, 1)),  # 3-D
    ((4, 6), [1], (0.05, -1), (0.05, -1)),  # 2-D
    ((4, 6), [0], (0.05, 127), (0.1, -128)),
    ((2, 3, 4, 5, 6), [1, 3], (0.05, 0), (0.04, 3)),  # 5-D
    ((1, 4, 4, 8), [1, 1, 2], (0.05, 0), (0.05, 0)),  # duplicate axis
    ((1, 4, 4, 8), [1, 2], (0.01, 0), (0.2, 0)),  # ratio 1/20
    ((1, 8, 8, 8), [1, 2], (0.3, 0), (0.01, 0)),  # ratio 30: positive shift
]


@pytest.mark.parametrize("keep_dims", [True, False])
@pytest.mark.parametrize("in_shape,axes,in_q,out_q", CASES)
def test_mean(in_shape, axes, in_q, out_q, keep_dims):
    model = _mean_model(in_shape, axes, keep_dims, in_q, out_q)
    check_bit_exact(model, count=6, seed=len(axes) + sum(in_shape))


def test_mean_scalar_axis():
    check_bit_exact(_mean_model((1, 5, 6, 3), [2], False, (0.05, 3), (0.05, 3), axis_shape=()))


def test_mean_rejects_axis_out_of_range():
    model = _mean_model((1, 4, 4, 2), [1], True)
    graph = parse_model(model)
    graph.tensors[1].data = np.array([4], dtype=np.int32)
    with pytest.raises(UnsupportedModelError, match="axis 4 is out of range for a 4-D input"):
        compile_graph(graph)


def test_mean_rejects_output_size_mismatch():
    axes = T((2,), "int32", data=np.array([1, 2], np.int32))
    model = single_op("MEAN", [T((1, 4, 4, 2), "int8", 0.05, 0), axes],
                      [T((1, 4, 1, 2), "int8", 0.05, 0)], options("ReducerOptions", keepDims=True))
    with pytest.raises(UnsupportedModelError, match=r"reducing axes \[1, 2\]"):
        compile_graph(parse_model(model))


def test_mean_rejects_non_constant_axis():
    from tflite_builder import Op, build

    tensors = [T((1, 4, 4, 2), "int8", 0.05, 0), T((2,), "int32"), T((1, 2), "int8", 0.05, 0)]
    model = build(tensors, [Op("MEAN", [0, 1], [2], options("ReducerOptions"))], [0, 1], [2])
    with pytest.raises(UnsupportedModelError, match="the axis tensor must be constant"):
        compile_graph(parse_model(model))
