"""QUANTIZE / DEQUANTIZE at the edges of a model (float32, uint8), against TFLite Micro bit for bit."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from tflite_builder import Activation, Op, T, build, options, rng_int8, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.validate import validate_compiled

EVERY_INT8 = np.arange(-128, 128, dtype=np.int8)
EVERY_UINT8 = np.arange(0, 256, dtype=np.uint8)
EVERY = {"int8": EVERY_INT8, "uint8": EVERY_UINT8}


def check_with_inputs(model: bytes, batches) -> None:
    graph = parse_model(model, name="test.tflite")
    result = validate_compiled(compile_graph(graph), model, batches)
    assert result.bit_exact == result.inputs, result.to_json()


# ---- float32 -> int8 ----------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(1, 10), (1, 8, 8, 3), (2, 5, 7), (3,)])
@pytest.mark.parametrize("scale,zp", [(0.0078125, 0), (0.003921568859368563, -128), (0.05, 17),
                                      (0.1234567, 127), (2.5, -5)])
def test_quantize_random(shape, scale, zp):
    check_bit_exact(single_op("QUANTIZE", [T(shape, "float32")], [T(shape, "int8", scale, zp)]))


@pytest.mark.parametrize("scale,zp", [(0.25, 0), (1 / 64, -3), (0.5, 100), (0.125, -128)])
def test_quantize_ties_and_saturation(scale, zp):
    """Exact halves (power-of-two scales make v / scale exact) and values far outside the range."""
    k = np.arange(-300, 300, dtype=np.float32)
    ties = ((k + np.float32(0.5)) * np.float32(scale)).astype(np.float32)
    exact = (k * np.float32(scale)).astype(np.float32)
    far = np.array([1e6, -1e6, 3e4, -3e4, 0.0, -0.0], np.float32) * np.float32(scale)
    x = np.concatenate([ties, exact, far]).astype(np.float32)
    model = single_op("QUANTIZE", [T((1, x.size), "float32")], [T((1, x.size), "int8", scale, zp)])
    check_with_inputs(model, [[x.reshape(1, -1)], [(-x).reshape(1, -1)]])


def test_quantize_near_ties_with_inexact_division():
    """Values a few ulps around k + 1/2 of a scale whose division rounds in float32."""
    scale = np.float32(0.0392156876)
    base = ((np.arange(-140, 140, dtype=np.float32) + np.float32(0.5)) * scale).astype(np.float32)
    up, down = np.nextafter(base, np.float32(np.inf)), np.nextafter(base, np.float32(-np.inf))
    x = np.concatenate([up, base, down])
    model = single_op("QUANTIZE", [T((1, x.size), "float32")], [T((1, x.size), "int8", float(scale), -1)])
    check_with_inputs(model, [[x.reshape(1, -1).astype(np.float32)]])


# ---- int8 -> int8 requantization ----------------------------------------------------------

@pytest.mark.parametrize("q_in,q_out", [
    ((0.05, 3), (0.1, -2)),      # multiplier < 1
    ((0.2, -7), (0.03, 11)),     # multiplier > 1: left shift
    ((0.07, 5), (0.07, -20)),    # same scale, zero point moves
    ((0.07, 5), (0.07, 5)),      # identity
    ((0.0039, -128), (0.0079, 127)),
    ((1.5, 0), (0.001, 0)),      # saturates almost everything
])
def test_requantize_every_value(q_in, q_out):
    model = single_op("QUANTIZE", [T((1, 256), "int8", *q_in)], [T((1, 256), "int8", *q_out)])
    check_with_inputs(model, [[EVERY_INT8.reshape(1, 256)]])
    shape = (2, 6, 6, 5)
    check_bit_exact(single_op("QUANTIZE", [T(shape, "int8", *q_in)], [T(shape, "int8", *q_out)]))


# ---- between int8 and uint8 (detection and pose models take uint8 images) ----------------

@pytest.mark.parametrize("types", [("uint8", "int8"), ("int8", "uint8")])
@pytest.mark.parametrize("q_in,q_out", [
    ((0.0078125, 128), (0.0078125, 0)),   # the usual image input: a shift by 128 (XOR 0x80)
    ((1.0, 0), (1.0, -128)),              # raw pixels to int8
    ((0.05, 3), (0.1, -2)),               # multiplier < 1
    ((0.2, 255), (0.03, 11)),             # multiplier > 1, extreme zero point
    ((0.07, 0), (0.07, 127)),             # same scale, other zero points
    ((1.5, 100), (0.001, 0)),             # saturates almost everything
])
def test_requantize_between_int8_and_uint8_every_value(types, q_in, q_out):
    src, dst = types
    q_in = (q_in[0], q_in[1] - 128) if src == "int8" else q_in
    q_out = (q_out[0], min(255, q_out[1] + 128)) if dst == "uint8" else q_out
    model = single_op("QUANTIZE", [T((1, 256), src, *q_in)], [T((1, 256), dst, *q_out)])
    check_with_inputs(model, [[EVERY[src].reshape(1, 256)]])


@pytest.mark.parametrize("shape", [(5,), (2, 3, 4, 5), (1, 2, 3, 2, 4)])
@pytest.mark.parametrize("types", [("uint8", "int8"), ("int8", "uint8"), ("int8", "int8")])
def test_requantize_ranks(shape, types):
    src, dst = types
    q_in = (0.031, 140) if src == "uint8" else (0.031, 12)
    q_out = (0.02, 99) if dst == "uint8" else (0.02, -29)
    check_bit_exact(single_op("QUANTIZE", [T(shape, src, *q_in)], [T(shape, dst, *q_out)]), count=2)


# ---- int8 -> float32 ----------------------------------------------------------------------

@pytest.mark.parametrize("scale,zp", [(0.05, 0), (0.1234567, -128), (0.003921568859368563, 127),
                                      (3.3e-5, 12), (17.25, -1), (1e-38, 3)])
def test_dequantize_every_value(scale, zp):
    model = single_op("DEQUANTIZE", [T((1, 256), "int8", scale, zp)], [T((1, 256), "float32")])
    check_with_inputs(model, [[EVERY_INT8.reshape(1, 256)]])


@pytest.mark.parametrize("shape", [(1, 12), (1, 4, 4, 3), (5,)])
def test_dequantize_random(shape):
    check_bit_exact(single_op("DEQUANTIZE", [T(shape, "int8", 0.0271, -9)], [T(shape, "float32")]))


@pytest.mark.parametrize("scale,zp", [(0.05, 0), (0.1234567, 128), (0.003921568859368563, 255),
                                      (3.3e-5, 12), (17.25, 1)])
def test_dequantize_uint8_every_value(scale, zp):
    model = single_op("DEQUANTIZE", [T((1, 256), "uint8", scale, zp)], [T((1, 256), "float32")])
    check_with_inputs(model, [[EVERY_UINT8.reshape(1, 256)]])


@pytest.mark.parametrize("shape", [(7,), (1, 4, 4, 3), (2, 1, 3, 2, 2)])
def test_dequantize_uint8_random(shape):
    check_bit_exact(single_op("DEQUANTIZE", [T(shape, "uint8", 0.0271, 131)], [T(shape, "float32")]))


def test_uint8_image_model_edge_to_edge():
    """uint8 image -> QUANTIZE to int8 -> ADD -> QUANTIZE back to uint8 and a DEQUANTIZE."""
    shape = (1, 6, 6, 3)
    t = [T(shape, "uint8", 0.0078125, 128), T(shape, "int8", 0.0078125, 0),
         T((1, 1, 1, 3), "int8", 0.01, 2, data=np.array([40, -90, 7], np.int8).reshape(1, 1, 1, 3)),
         T(shape, "int8", 0.02, -3), T(shape, "uint8", 0.02, 125), T(shape, "float32")]
    ops = [Op("QUANTIZE", [0], [1]), Op("ADD", [1, 2], [3], options("AddOptions")),
           Op("QUANTIZE", [3], [4]), Op("DEQUANTIZE", [4], [5])]
    check_bit_exact(build(t, ops, [0], [4, 5]), count=3)


# ---- a float model edge to edge -----------------------------------------------------------

@pytest.mark.parametrize("batches,depth,units", [(1, 16, 8), (3, 33, 5)])
def test_quantize_fully_connected_dequantize(batches, depth, units):
    rng = np.random.default_rng(depth)
    t = [T((batches, depth), "float32"),
         T((batches, depth), "int8", 0.02, -5),
         T((units, depth), "int8", 0.01, 0, data=rng_int8(rng, (units, depth))),
         T((units,), "int32", 0.0002, 0, data=rng.integers(-3000, 3000, units).astype(np.int32)),
         T((batches, units), "int8", 0.15, 4),
         T((batches, units), "float32")]
    ops = [Op("QUANTIZE", [0], [1]),
           Op("FULLY_CONNECTED", [1, 2, 3], [4], options("FullyConnectedOptions",
                                                          fusedActivationFunction=Activation.RELU)),
           Op("DEQUANTIZE", [4], [5])]
    check_bit_exact(build(t, ops, [0], [5]), count=6)


# ---- what is refused ----------------------------------------------------------------------

def _compile(model):
    return compile_graph(parse_model(model, name="test.tflite"))


def test_rejects_uint8_to_uint8():
    with pytest.raises(UnsupportedModelError, match="uint8 -> uint8 is not supported"):
        _compile(single_op("QUANTIZE", [T((1, 4), "uint8", 0.1, 3)], [T((1, 4), "uint8", 0.2, 0)]))


def test_rejects_float_to_int32():
    with pytest.raises(UnsupportedModelError, match="float32 -> int32 is not supported"):
        _compile(single_op("QUANTIZE", [T((1, 4), "float32")], [T((1, 4), "int32", 0.1, 0)]))


def test_rejects_per_channel_quantize_output():
    out = T((1, 2), "int8", [0.1, 0.2], [0, 0], axis=1)
    with pytest.raises(UnsupportedModelError, match="per channel"):
        _compile(single_op("QUANTIZE", [T((1, 2), "float32")], [out]))


def test_rejects_dequantize_to_int8():
    with pytest.raises(UnsupportedModelError, match="only int8 or uint8 -> float32"):
        _compile(single_op("DEQUANTIZE", [T((1, 4), "int8", 0.1, 0)], [T((1, 4), "int8", 0.1, 0)]))


def device_models() -> dict[str, bytes]:
    """Branches of tests/test_kernels_on_device.py's parallel model: uint8 in, uint8 out."""
    return {"quantize_u8_s8": single_op("QUANTIZE", [T((1, 6, 6, 3), "uint8", 0.031, 140)],
                                        [T((1, 6, 6, 3), "int8", 0.02, -29)]),
            "quantize_s8_u8": single_op("QUANTIZE", [T((2, 17), "int8", 0.05, -7)], [T((2, 17), "uint8", 0.1, 131)]),
            "quantize_s8_s8": single_op("QUANTIZE", [T((2, 17), "int8", 0.2, 3)], [T((2, 17), "int8", 0.03, -11)]),
            "dequantize_u8": single_op("DEQUANTIZE", [T((1, 9), "uint8", 0.0271, 131)], [T((1, 9), "float32")])}
