"""ELU (int8) against TFLite Micro over every input value, for a few scale and zero-point pairs."""

import numpy as np
from test_kernels_on_device import merge_parallel
from tflite_builder import T, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.validate import validate_compiled

CASES = {"unit": (0.05, 0, 0.05, 0), "wide_in": (0.1, -20, 0.02, -90), "narrow_out": (0.03, 40, 0.2, -120),
         "boundary_zp": (0.02, 127, 0.01, -128)}


def elu_model(s_in, z_in, s_out, z_out):
    return single_op("ELU", [T((4, 64), "int8", s_in, z_in)], [T((4, 64), "int8", s_out, z_out)])


def test_every_input_value_bit_exact():
    models = {k: elu_model(*v) for k, v in CASES.items()}
    merged = merge_parallel(models)
    cm = compile_graph(parse_model(merged))
    every = np.arange(-128, 128, dtype=np.int8).reshape(4, 64)
    result = validate_compiled(cm, merged, [[every] * len(models)])
    assert result.bit_exact == 1 and result.max_abs_diff == 0


def device_models() -> dict[str, bytes]:
    """For the emulated boards (tests/test_kernels_on_device.py)."""
    return {"elu": elu_model(*CASES["wide_in"])}
