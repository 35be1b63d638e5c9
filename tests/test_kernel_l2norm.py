"""L2_NORMALIZATION (int8) against TFLite Micro, including rows of zeros and saturating rows."""

import numpy as np
import pytest
from kernel_check import check_cases_bit_exact
from tflite_builder import T, options, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model


def l2norm_model(shape, in_zp=3, out_scale=1 / 128, out_zp=0, act=0):
    return single_op("L2_NORMALIZATION", [T(shape, "int8", 0.05, in_zp)], [T(shape, "int8", out_scale, out_zp)],
                     options("L2NormOptions", fusedActivationFunction=act))


CASES = {
    "vector": ((1, 16),),
    "rows": ((3, 5),),
    "single_value_rows": ((4, 1),),   # |v| / |v|: +-1, saturated at 127
    "rank4_wide": ((1, 2, 3, 40), -7),
    "zp_min": ((2, 9), -128),
}


def test_bit_exact():
    models = {k: l2norm_model(*v) for k, v in CASES.items()}
    check_cases_bit_exact(models, count=4)


@pytest.mark.parametrize("model,match", [
    (lambda: l2norm_model((2, 4), out_scale=0.01), "scale 1/128 with zero point 0"),
    (lambda: l2norm_model((2, 4), out_zp=1), "scale 1/128 with zero point 0"),
    (lambda: l2norm_model((2, 4), act=1), "fused activation"),
    (lambda: l2norm_model((1, 1, 1, 2, 4)), "takes 1 to 4"),
])
def test_refusals(model, match):
    with pytest.raises(UnsupportedModelError, match=match):
        compile_graph(parse_model(model()))


def test_edge_rows():
    """Rows whose sum is 0 or 1 (TFLite Micro's special case), sums of a few values, and a row long
    and large enough (8400 values of 255 squared) that the sum is reduced by powers of four first."""
    from kernel_check import KERNEL_PATHS

    from mcuforge.generator.validate import validate_compiled

    small = l2norm_model((6, 4), in_zp=-128)
    rows = np.array([[-128] * 4, [-127, -128, -128, -128], [-126, -128, -128, -128], [127] * 4,
                     [-128, 127, -128, -128], [0, 5, -100, 127]], dtype=np.int8)
    big = l2norm_model((1, 8400), in_zp=-128)
    long_row = np.full((1, 8400), 127, dtype=np.int8)
    long_row[0, ::97] = -100
    for model, batch in [(small, rows), (big, long_row)]:
        cm = compile_graph(parse_model(model))
        for path in KERNEL_PATHS:
            result = validate_compiled(cm, model, [[batch]], extra_flags=KERNEL_PATHS[path])
            assert result.bit_exact == 1 and result.max_abs_diff == 0, path
