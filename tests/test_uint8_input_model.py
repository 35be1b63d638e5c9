"""A model whose graph input is a uint8 image that a QUANTIZE turns into int8 at operator 0 (as in
detection and pose models), with int8, float32 and uint8 outputs: `mcuforge validate`, the
generated C API, and `mcuforge test` on an emulated Cortex-M4 through the serial protocol."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from io_type_checks import check_on_cortex_m4, check_validate, mcuforge, needs_firmware_tools
from tflite_builder import Activation, Op, Padding, T, build, options, rng_int8

IMAGE = (1, 12, 12, 3)


def uint8_image_model(seed: int = 3) -> bytes:
    """uint8 image -> QUANTIZE (int8) -> conv 3x3 s2 (relu) -> global average pool -> fully
    connected -> int8 scores, their DEQUANTIZE (float32) and a QUANTIZE back to uint8."""
    rng = np.random.default_rng(seed)
    t = [T(IMAGE, "uint8", 0.0078125, 128, name="image"),
         T(IMAGE, "int8", 0.0078125, 0),
         T((8, 3, 3, 3), "int8", 0.02, 0, data=rng_int8(rng, (8, 3, 3, 3))),
         T((8,), "int32", 0.0078125 * 0.02, 0, data=rng.integers(-500, 500, 8).astype(np.int32)),
         T((1, 6, 6, 8), "int8", 0.05, -20),
         T((1, 1, 1, 8), "int8", 0.05, -20),
         T((6, 8), "int8", 0.01, 0, data=rng_int8(rng, (6, 8))),
         T((6,), "int32", 0.0005, 0, data=rng.integers(-300, 300, 6).astype(np.int32)),
         T((1, 6), "int8", 0.1, 3, name="scores"),
         T((1, 6), "float32", name="scores_float"),
         T((1, 6), "uint8", 0.1, 131, name="scores_uint8")]
    ops = [Op("QUANTIZE", [0], [1]),
           Op("CONV_2D", [1, 2, 3], [4], options("Conv2DOptions", padding=Padding.SAME, strideH=2, strideW=2,
                                                 fusedActivationFunction=Activation.RELU)),
           Op("AVERAGE_POOL_2D", [4], [5], options("Pool2DOptions", padding=Padding.VALID, strideH=1, strideW=1,
                                                   filterHeight=6, filterWidth=6)),
           Op("FULLY_CONNECTED", [5, 6, 7], [8], options("FullyConnectedOptions")),
           Op("DEQUANTIZE", [8], [9]),
           Op("QUANTIZE", [8], [10])]
    return build(t, ops, [0], [8, 9, 10])


@pytest.fixture
def model_path(tmp_path: Path) -> Path:
    path = tmp_path / "uint8_image.tflite"
    path.write_bytes(uint8_image_model())
    return path


def test_validate_random_and_given_uint8_images(model_path: Path, tmp_path: Path) -> None:
    # every pixel value (a batch of two images)
    check_validate(model_path, np.resize(np.arange(256, dtype=np.uint8), (2, *IMAGE)), tmp_path)


def test_generated_api_types(model_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "gen"
    proc = mcuforge("compile", str(model_path), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    header = (out / "model.h").read_text()
    assert "/* input 0: 'image' uint8_t [1, 12, 12, 3] */" in header
    assert "((uint8_t *)" in header.split("input 0:")[1].split("\n")[1]
    assert "/* output 1: 'scores_float' float [1, 6] */" in header
    assert "/* output 2: 'scores_uint8' uint8_t [1, 6] */" in header
    source = (out / "model.c").read_text()
    assert source.count("mcf_requantize_8(") == 2  # uint8 -> int8 at operator 0, int8 -> uint8 at the end


@pytest.mark.slow
@needs_firmware_tools
def test_uint8_image_model_on_emulated_cortex_m4(model_path: Path, tmp_path: Path) -> None:
    check_on_cortex_m4(model_path, tmp_path)
