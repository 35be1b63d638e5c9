"""SUM, REDUCE_MAX and REDUCE_MIN (int8) against TFLite Micro, over the axis sets of the MEAN tests."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from test_kernels_on_device import merge_parallel
from tflite_builder import T, options, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model


def reduce_model(opcode, in_shape, axes, keep_dims, in_q=(0.05, 0), out_q=(0.05, 0)):
    rank = len(in_shape)
    resolved = {a + rank if a < 0 else a for a in axes}
    if keep_dims:
        out_shape = tuple(1 if i in resolved else d for i, d in enumerate(in_shape))
    else:
        out_shape = tuple(d for i, d in enumerate(in_shape) if i not in resolved)
    axis_t = T((len(axes),), "int32", data=np.array(axes, dtype=np.int32))
    return single_op(opcode, [T(in_shape, "int8", in_q[0], in_q[1]), axis_t],
                     [T(out_shape, "int8", out_q[0], out_q[1])], options("ReducerOptions", keepDims=keep_dims))


SHAPES = [
    # input shape, axes
    ((1, 7, 7, 16), [1, 2]),
    ((2, 5, 3, 8), [-1]),
    ((1, 5, 5, 6), [3]),
    ((3, 4, 2, 5), [0]),
    ((2, 3, 4, 5), [0, 1, 2, 3]),
    ((2, 3, 4, 5), [1, 3]),  # interleaved kept and reduced dimensions
    ((2, 3, 4, 5, 6), [0, 2, 4]),  # 5-D
    ((1, 1, 6, 7), [1, 2]),  # size-1 reduced dimension
    ((4, 6), [1]),
    ((9,), [0]),  # 1-D to a scalar
    ((1, 4, 4, 8), [1, 1, 2]),  # duplicate axis
]

SUM_QUANT = [
    # input (scale, zero point), output (scale, zero point)
    ((0.05, 0), (0.5, 0)),
    ((0.05, -128), (0.9, 127)),
    ((0.02, 10), (0.02, -3)),  # ratio 1: big sums saturate
    ((0.3, 5), (0.01, -6)),  # ratio 30: positive shift
    ((0.01, 127), (1.5, -128)),
]


def sum_models() -> dict[str, bytes]:
    """Every shape with keep_dims on and off, the quantizations in turn."""
    models = {}
    for k, (in_shape, axes) in enumerate(SHAPES):
        for keep in (True, False):
            in_q, out_q = SUM_QUANT[(2 * k + keep) % len(SUM_QUANT)]
            models[f"sum_{k}_{int(keep)}"] = reduce_model("SUM", in_shape, axes, keep, in_q, out_q)
    return models


def max_min_models() -> dict[str, bytes]:
    models = {}
    for k, (in_shape, axes) in enumerate(SHAPES):
        for opcode, zp in (("REDUCE_MAX", 127), ("REDUCE_MIN", -128)):  # zero points at the extremes
            keep = bool(k % 2)
            models[f"{opcode.lower()}_{k}"] = reduce_model(opcode, in_shape, axes, keep, (0.05, zp), (0.05, zp))
    return models


# Each family is one model of independent branches (one host build per kernel path).
def test_sum():
    check_bit_exact(merge_parallel(sum_models()), count=4)


def test_reduce_max_min():
    check_bit_exact(merge_parallel(max_min_models()), count=4, seed=1)


def test_empty_axis_list():
    """No axes: every element is its own group (the empty axis tensor has no buffer data)."""
    models = {}
    for opcode, out_scale in (("SUM", 0.07), ("MEAN", 0.03), ("REDUCE_MAX", 0.05), ("REDUCE_MIN", 0.05)):
        no_axes = T((0,), "int32", data=np.zeros(0, np.int32))
        models[opcode] = single_op(opcode, [T((2, 3, 4), "int8", 0.05, 3), no_axes],
                                   [T((2, 3, 4), "int8", out_scale, 3)], options("ReducerOptions", keepDims=False))
    check_bit_exact(merge_parallel(models), count=3)


def test_reduce_max_rejects_requantization():
    model = reduce_model("REDUCE_MAX", (1, 4, 4, 2), [1, 2], True, (0.05, 0), (0.05, 1))
    with pytest.raises(UnsupportedModelError, match="input and output quantization must match"):
        compile_graph(parse_model(model))


def test_sum_rejects_too_many_elements():
    model = reduce_model("SUM", (1, 4096, 4096), [1, 2], False)
    with pytest.raises(UnsupportedModelError, match="at most 8388607 are supported"):
        compile_graph(parse_model(model))


def device_models() -> dict[str, bytes]:
    """A few of these for the emulated boards (tests/test_kernels_on_device.py)."""
    return {
        "sum_hw": reduce_model("SUM", (1, 7, 7, 16), [1, 2], True, (0.05, -128), (0.9, 127)),
        "sum_5d": reduce_model("SUM", (2, 3, 4, 5, 6), [0, 2, 4], False, (0.3, 5), (0.01, -6)),
        "reduce_max_c": reduce_model("REDUCE_MAX", (2, 5, 3, 8), [-1], False, (0.05, 127), (0.05, 127)),
        "reduce_min_interleaved": reduce_model("REDUCE_MIN", (2, 3, 4, 5), [1, 3], True, (0.05, -128), (0.05, -128)),
    }
