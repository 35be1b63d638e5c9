"""LOGISTIC and TANH int8 against TFLite Micro, bit for bit, over all 256 input values."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_check import check_bit_exact
from tflite_builder import T, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.ops.nonlinear import input_rescaling
from mcuforge.generator.validate import validate_compiled

OUTPUT_QUANT = {"LOGISTIC": (1 / 256, -128), "TANH": (1 / 128, 0)}


def model_for(opcode, shape, scale, zp, out_quant=None):
    out_scale, out_zp = out_quant or OUTPUT_QUANT[opcode]
    return single_op(opcode, [T(shape, "int8", scale, zp)], [T(shape, "int8", out_scale, out_zp)])


def check_all_values(model: bytes, shape, seed=0):
    """Every int8 value appears in the inputs (tiled over the tensor), plus random batches."""
    size = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    sweep = np.arange(-128, 128, dtype=np.int8)
    batches = []
    for start in range(0, 256, size):  # tensors smaller than 256 need several inferences
        idx = (start + np.arange(size)) % 256
        batches.append([sweep[idx].reshape(shape)])
    for _ in range(2):
        batches.append([rng.integers(-128, 127, size=shape, endpoint=True).astype(np.int8)])
    graph = parse_model(model, name="test.tflite")
    result = validate_compiled(compile_graph(graph), model, batches)
    assert result.bit_exact == result.inputs, result.to_json()


SCALES = [2.0 ** -27, 1e-6, 0.001, 0.0078125, 0.02, 0.05, 0.1, 0.1234, 0.25, 0.5, 1.0, 3.0, 7.9, 8.0, 10.0, 200.0]


@pytest.mark.parametrize("opcode", ["LOGISTIC", "TANH"])
@pytest.mark.parametrize("scale", SCALES)
def test_scales(opcode, scale):
    check_all_values(model_for(opcode, (16, 16), scale, 3), (16, 16), seed=int(scale * 1e4))


@pytest.mark.parametrize("opcode", ["LOGISTIC", "TANH"])
@pytest.mark.parametrize("zp", [-128, -77, -1, 0, 1, 64, 127])
@pytest.mark.parametrize("scale", [0.03, 0.0625, 0.4])
def test_zero_points(opcode, zp, scale):
    check_all_values(model_for(opcode, (256,), scale, zp), (256,), seed=zp + 128)


@pytest.mark.parametrize("opcode", ["LOGISTIC", "TANH"])
@pytest.mark.parametrize("shape", [(1,), (7,), (3, 5), (2, 3, 43), (1, 4, 4, 16), (2, 5, 3, 7), (1, 1, 1, 1000)])
def test_shapes(opcode, shape):
    check_all_values(model_for(opcode, shape, 0.05, -10), shape, seed=len(shape))


@pytest.mark.parametrize("opcode,shape,scale,zp", [
    ("LOGISTIC", (1, 10), 0.1, 0), ("LOGISTIC", (2, 8, 8, 3), 0.035, -128), ("TANH", (4, 33), 0.02, 127),
    ("TANH", (1, 6, 6, 5), 0.2, -20),
])
def test_random_inputs(opcode, shape, scale, zp):
    check_bit_exact(model_for(opcode, shape, scale, zp), count=5, seed=7)


@pytest.mark.parametrize("opcode,out_quant", [
    ("LOGISTIC", (0.01, -128)),  # TFLite only checks the zero point; the output scale is not used
    ("TANH", (1 / 256, 0)),
    ("TANH", (0.05, 17)),        # nor does it check either for TANH
])
def test_output_quantization_not_used(opcode, out_quant):
    check_all_values(model_for(opcode, (256,), 0.06, 5, out_quant), (256,))


@pytest.mark.parametrize("opcode,kwargs,message", [
    ("LOGISTIC", {"out_quant": (1 / 256, 0)}, "zero point -128"),
    ("LOGISTIC", {"scale": 1e-10}, "out of the supported range"),
    ("TANH", {"scale": 1e-10}, "out of the supported range"),
])
def test_rejects(opcode, kwargs, message):
    args = {"shape": (1, 8), "scale": 0.1, "zp": 0} | kwargs
    with pytest.raises(UnsupportedModelError, match=message):
        compile_graph(parse_model(model_for(opcode, **args), name="test.tflite"))


def test_rejects_float():
    model = single_op("TANH", [T((1, 8), "float32")], [T((1, 8), "float32")])
    with pytest.raises(UnsupportedModelError):
        compile_graph(parse_model(model, name="test.tflite"))


@pytest.mark.parametrize("scale,expected", [
    (1.0, (1 << 30, 28, 7)),               # 2^27 = 0.5 * 2^28; radius floor(15 * 2^27 / 2^28)
    (1 / 16, (1 << 30, 24, 15 * 8)),
    (8.0, (1 << 30, 31, 0)),                # radius 0: every input saturates
])
def test_input_rescaling_values(scale, expected):
    assert input_rescaling(scale) == expected
