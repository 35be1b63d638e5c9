"""DYNAMIC_UPDATE_SLICE against TFLite Micro: int8 / int16 / int32 operands of ranks 1-5, constant
start indices (int32 and int64, clamped), start indices from a graph input (any value: clamped at
run time), an update as large as the operand; refusals."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from test_kernels_on_device import merge_parallel
from tflite_builder import T, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model


def dus_model(shape, upd, starts, dtype="int8", start_dtype="int32"):
    q = (0.1, 2) if dtype != "int32" else (None, None)
    data = None if starts is None else np.array(starts, np.int64 if start_dtype == "int64" else np.int32)
    return single_op("DYNAMIC_UPDATE_SLICE",
                     [T(shape, dtype, *q), T(upd, dtype, *q), T((len(shape),), start_dtype, data=data)],
                     [T(shape, dtype, *q)])


CASES = {
    "nhwc_clamped": ((1, 6, 5, 4), (1, 2, 3, 4), [0, 5, -1, 0], "int8", "int32"),
    "rank1_runtime": ((10,), (3,), None, "int16", "int32"),
    "rank3_runtime": ((4, 5, 6), (2, 1, 3), None, "int8", "int32"),
    "rank5_int64": ((2, 2, 3, 2, 3), (1, 2, 2, 1, 3), [1, 0, 7, 1, 0], "int32", "int64"),
    "whole": ((3, 4), (3, 4), [1, 1], "int8", "int32"),
}


def test_bit_exact():
    models = {k: dus_model(*v) for k, v in CASES.items()}
    # no DSP code in this kernel: the DSP-emulated build is the fast one
    check_bit_exact(merge_parallel(models), count=4, paths=("fast", "portable"))


def test_constant_starts_clamped_when_compiling():
    call = compile_graph(parse_model(dus_model(*CASES["nhwc_clamped"]))).calls[0]
    starts = next(c for c in call.consts if c.name == "starts")
    assert starts.values.tolist() == [0, 4, 0, 0]


@pytest.mark.parametrize(("model", "why"), [
    (dus_model((4, 4), (5, 1), [0, 0]), "DYNAMIC_UPDATE_SLICE.*does not fit"),
    (dus_model((4, 4), (2, 2), None, start_dtype="int64"), "int64 tensors are not supported.*DYNAMIC_UPDATE_SLICE"),
])
def test_refusals(model, why):
    with pytest.raises(UnsupportedModelError, match=why):
        compile_graph(parse_model(model))
