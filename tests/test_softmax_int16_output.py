"""SOFTMAX int8 -> int16 (output scale 1/65536, zero point -32768), as in TFLite Micro's keyword
model, against TFLite Micro bit for bit on every kernel path, and its refusals; the refusal of
int16 HARD_SWISH, which TFLite Micro does not run."""

from __future__ import annotations

import pytest
from kernel_check import check_bit_exact
from test_kernels_on_device import merge_parallel
from tflite_builder import T, options, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model

CASES = {
    "two_classes": ((1, 2), 0.1, -3, 1.0),
    "rows": ((3, 12), 0.05, 10, 1.0),
    "wide_row": ((1, 600), 0.2, -128, 0.5),  # long row: the sum's exponent grows
    "fine_scale": ((4, 5), 0.004, 0, 2.0),
    "single": ((5, 1), 0.1, 0, 1.0),
}


def softmax_model(shape, scale, zero_point, beta, out_scale=1 / 65536, out_zp=-32768) -> bytes:
    return single_op("SOFTMAX", [T(shape, "int8", scale, zero_point)], [T(shape, "int16", out_scale, out_zp)],
                     options("SoftmaxOptions", beta=beta))


def test_bit_exact():
    check_bit_exact(merge_parallel({k: softmax_model(*v) for k, v in CASES.items()}))


@pytest.mark.parametrize("out_scale,out_zp", [(1 / 32768, -32768), (1 / 65536, 0)])
def test_other_output_quantization_refused(out_scale, out_zp):
    model = softmax_model((1, 4), 0.1, 0, 1.0, out_scale, out_zp)
    with pytest.raises(UnsupportedModelError, match="scale 1/65536 and zero point -32768"):
        compile_graph(parse_model(model, name="m.tflite"))


def device_models() -> dict[str, bytes]:
    """Branch of the on-device parallel model (tests/test_kernels_on_device.py)."""
    return {"s8_softmax_s16": softmax_model((3, 9), 0.06, 5, 1.0)}


def test_int16_hard_swish_refused_by_name():
    """TFLite Micro's HARD_SWISH runs float32 and int8 only (its interpreter fails on int16), so the
    refusal says so instead of blaming the type alone."""
    model = single_op("HARD_SWISH", [T((2, 8), "int16", 0.001, 0)], [T((2, 8), "int16", 0.001, 0)])
    with pytest.raises(UnsupportedModelError, match="int16 HARD_SWISH is not supported: TensorFlow Lite Micro"):
        compile_graph(parse_model(model, name="m.tflite"))
