"""CUMSUM (int8) against TFLite Micro: axes (negative too), reversed, exclusive, ranks 1-5, boundary
zero points and columns long enough for the int32 sum to saturate the output; refusals."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from test_kernels_on_device import merge_parallel
from tflite_builder import T, options, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model


def cumsum_model(shape, axis, exclusive=False, reverse=False, q_in=(0.05, 3), q_out=(0.2, -7), dtype="int8"):
    opts = options("CumsumOptions", exclusive=exclusive, reverse=reverse)
    return single_op("CUMSUM", [T(shape, dtype, *q_in), T((1,), "int32", data=np.array([axis], np.int32))],
                     [T(shape, dtype, *q_out)], opts)


CASES = {
    "rank1": ((17,), 0, False, False, (0.05, 3), (0.4, -7)),
    "last_axis": ((3, 9), 1, False, False, (0.05, 3), (0.2, -7)),
    "first_axis_reverse": ((6, 4), 0, False, True, (0.1, -128), (0.3, 127)),
    "middle_exclusive": ((2, 5, 3), 1, True, False, (0.02, 127), (0.05, 0)),
    "negative_axis_both": ((2, 3, 4, 5), -2, True, True, (0.07, -20), (0.25, 10)),
    "rank5": ((2, 2, 3, 2, 3), 2, False, False, (0.03, 0), (0.06, -100)),
    "saturating": ((1, 64), 1, False, False, (0.1, -128), (0.1, 0)),
}


def test_bit_exact():
    models = {k: cumsum_model(*v) for k, v in CASES.items()}
    check_bit_exact(merge_parallel(models), count=3)


def test_lowered_to_the_kernel():
    cm = compile_graph(parse_model(cumsum_model((2, 5, 3), -2, reverse=True)))
    call = cm.calls[0]
    assert call.function == "mcf_cumsum_s8"
    assert (call.params["outer"], call.params["depth"], call.params["inner"]) == (2, 5, 3)
    assert (call.params["first"], call.params["step"]) == (12, -3)


@pytest.mark.parametrize(("model", "why"), [
    (cumsum_model((4, 4), 0, dtype="int16", q_in=(0.01, 0), q_out=(0.01, 0)), "int8 and float32 only"),
    (cumsum_model((4, 4), 2), "out of range"),
])
def test_refusals(model, why):
    with pytest.raises(UnsupportedModelError, match=rf"CUMSUM.*{why}"):
        compile_graph(parse_model(model))


def device_models() -> dict[str, bytes]:
    """For the emulated boards (tests/test_kernels_on_device.py)."""
    return {"cumsum_rev_excl": cumsum_model(*CASES["negative_axis_both"])}
