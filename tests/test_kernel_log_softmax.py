"""LOG_SOFTMAX (int8) against TFLite Micro, bit for bit."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from tflite_builder import T, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.validate import validate_compiled

OUT = (16.0 / 256, 127)


def log_softmax(shape, q_in, q_out=OUT):
    return single_op("LOG_SOFTMAX", [T(shape, "int8", *q_in)], [T(shape, "int8", *q_out)])


@pytest.mark.parametrize("shape", [(10,), (1, 10), (3, 7), (2, 3, 17), (1, 2, 2, 33), (1, 2, 1, 2, 5), (2, 1)])
def test_shapes(shape):
    check_bit_exact(log_softmax(shape, (0.1, -3)), count=3)


@pytest.mark.parametrize("scale", [1 / 256, 0.0625, 0.3, 4.0, 40.0])
@pytest.mark.parametrize("zp", [-128, 0, 127])
def test_scales_and_zero_points(scale, zp):
    check_bit_exact(log_softmax((4, 40), (scale, zp)), count=2, paths=("fast",))


@pytest.mark.parametrize("scale", [0.02, 0.2, 2.0])
def test_crafted_rows(scale):
    """Rows whose sums hit the logarithm's corners: one value, all equal, one peak over the
    minimum, a ramp over every int8 value, every value twice."""
    depth = 256
    rows = np.stack([np.full(depth, -128), np.full(depth, 127), np.r_[127, np.full(depth - 1, -128)],
                     np.arange(-128, 128), np.r_[np.arange(-128, 0), np.arange(-128, 0)],
                     np.r_[np.full(depth - 2, 0), 5, 7]]).astype(np.int8)
    model = log_softmax(rows.shape, (scale, 0))
    cm = compile_graph(parse_model(model, name="test.tflite"))
    for flags in ((), ("-DMCF_PORTABLE_KERNELS",)):
        result = validate_compiled(cm, model, [[rows], [rows[:, ::-1].copy()]], extra_flags=flags)
        assert result.bit_exact == result.inputs, result.to_json()


def test_rejects_other_output_quantization():
    with pytest.raises(UnsupportedModelError, match="scale 16/256 and zero point 127"):
        compile_graph(parse_model(log_softmax((1, 8), (0.1, 0), (1 / 256, -128)), name="t.tflite"))


def device_models() -> dict[str, bytes]:
    """Branches of tests/test_kernels_on_device.py's parallel model."""
    return {"log_softmax": log_softmax((3, 37), (0.2, -3)), "log_softmax_fine": log_softmax((1, 2, 10), (1 / 64, 127))}
