"""ABS and SQUARED_DIFFERENCE on int16 tensors (16x8 models) against TFLite Micro: every int16
value through ABS with and without rescaling (-32768 saturates), squared differences of equal
shapes up to rank 5 and broadcasts up to rank 4 over several scale ratios; refusals."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from test_kernels_on_device import merge_parallel
from tflite_builder import T, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.validate import validate_compiled

ALL = np.arange(-32768, 32768, dtype=np.int16).reshape(256, 256)


def abs_model(s_in, s_out, shape=(256, 256), zp=0):
    return single_op("ABS", [T(shape, "int16", s_in, zp)], [T(shape, "int16", s_out, zp)])


def sqdiff_model(s1, s2, out, q=(0.001, 0.002, 0.05)):
    return single_op("SQUARED_DIFFERENCE", [T(s1, "int16", q[0], 0), T(s2, "int16", q[1], 0)],
                     [T(out, "int16", q[2], 0)])


def test_abs_every_value_bit_exact():
    models = {"same": abs_model(0.01, 0.01), "down": abs_model(0.01, 0.03), "up": abs_model(0.02, 0.005)}
    merged = merge_parallel(models)
    cm = compile_graph(parse_model(merged))
    assert {c.kernel for c in cm.calls} == {"abs_s16"}
    for flags in ((), ("-DMCF_PORTABLE_KERNELS",)):
        result = validate_compiled(cm, merged, [[ALL] * 3], extra_flags=flags)
        assert result.bit_exact == 1 and result.max_abs_diff == 0


SQ_CASES = {
    "same": ((3, 40), (3, 40), (3, 40), (0.001, 0.002, 0.05)),
    "equal_scales": ((1, 4, 4, 8), (1, 4, 4, 8), (1, 4, 4, 8), (0.003, 0.003, 0.3)),
    "channels": ((1, 3, 4, 8), (8,), (1, 3, 4, 8), (0.002, 0.0007, 0.01)),
    "both_ways": ((2, 1, 3, 5), (1, 4, 3, 1), (2, 4, 3, 5), (0.0005, 0.001, 0.0004)),
    "rank5_same": ((2, 2, 3, 2, 3), (2, 2, 3, 2, 3), (2, 2, 3, 2, 3), (0.002, 0.001, 0.02)),
}


def test_squared_difference_bit_exact():
    models = {k: sqdiff_model(*v) for k, v in SQ_CASES.items()}
    check_bit_exact(merge_parallel(models), count=3)


@pytest.mark.parametrize(("model", "why"), [
    (abs_model(0.01, 0.01, (4,), zp=3), "ABS.*zero point 3"),
    (sqdiff_model((2, 1, 3, 5, 1), (1, 4, 3, 1, 2), (2, 4, 3, 5, 2)), "SQUARED_DIFFERENCE.*up to rank 4"),
])
def test_refusals(model, why):
    with pytest.raises(UnsupportedModelError, match=why):
        compile_graph(parse_model(model))
