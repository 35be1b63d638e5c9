"""GATHER_ND (int8 data, constant int32 index tuples) against TFLite Micro."""

import numpy as np
import pytest
from kernel_check import check_cases_bit_exact
from tflite_builder import T, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model


def gather_nd_model(shape, indices, dtype="int8", const=True):
    idx = np.array(indices, dtype=np.int32)
    out = tuple(idx.shape[:-1]) + tuple(shape[idx.shape[-1]:])
    return single_op("GATHER_ND", [T(tuple(shape), dtype, 0.1, 5), T(idx.shape, "int32", data=idx if const else None)],
                     [T(out, dtype, 0.1, 5)])


CASES = {
    "elements": ((3, 4), [[2, 1], [0, 0], [1, 3]]),
    "rows": ((5, 6), [[4], [0], [4]]),
    "planes_2d_indices": ((3, 2, 5), [[[1, 1], [2, 0]], [[0, 1], [0, 0]]]),
    "full_depth_rank3": ((2, 3, 4), [[1, 2, 3], [0, 0, 1]]),
}


def test_bit_exact():
    models = {k: gather_nd_model(*v) for k, v in CASES.items()}
    check_cases_bit_exact(models, count=3)


@pytest.mark.parametrize("model,match", [
    (lambda: gather_nd_model((3, 4), [[3, 0]]), r"index \[3, 0\] is outside"),
    (lambda: gather_nd_model((3, 4), [[1, 0]], const=False), "computed at run time"),
    (lambda: gather_nd_model((3, 4), [[1, 0]], dtype="int16"), "TFLite Micro's GATHER_ND takes int8"),
    (lambda: gather_nd_model((3,), [[1, 0]]), "exceed the input rank"),
])
def test_refusals(model, match):
    with pytest.raises(UnsupportedModelError, match=match):
        compile_graph(parse_model(model()))
