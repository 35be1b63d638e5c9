"""RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR (int8) against TFLite Micro: up- and downscaling,
align_corners, half_pixel_centers, odd channel counts, batches."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from test_kernels_on_device import merge_parallel
from tflite_builder import T, options, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.ops.resize import bilinear_taps


def resize_model(opcode, in_shape, size, align=False, half=False, zp=0):
    n, _, _, c = in_shape
    kind = "ResizeBilinearOptions" if opcode == "RESIZE_BILINEAR" else "ResizeNearestNeighborOptions"
    return single_op(opcode, [T(in_shape, "int8", 0.05, zp), T((2,), "int32", data=np.array(size, np.int32))],
                     [T((n, size[0], size[1], c), "int8", 0.05, zp)],
                     options(kind, alignCorners=align, halfPixelCenters=half))


CASES = [
    # input shape, output size
    ((1, 4, 4, 3), (8, 8)),  # 2x up
    ((1, 5, 3, 1), (15, 7)),  # odd factors, one channel
    ((2, 6, 6, 4), (3, 3)),  # 2x down, batch
    ((1, 7, 9, 5), (4, 5)),  # uneven down
    ((1, 3, 5, 8), (10, 4)),  # up in one axis, down in the other
    ((1, 1, 1, 6), (3, 2)),  # a single pixel
    ((1, 6, 5, 2), (1, 1)),  # to a single pixel (align_corners with out = 1)
    ((1, 12, 10, 7), (12, 10)),  # same size
    ((1, 2, 3, 16), (13, 11)),
]
MODES = [(False, False), (True, False), (False, True)]  # (align_corners, half_pixel_centers)


def resize_models(opcode: str) -> dict[str, bytes]:
    models = {}
    for k, (shape, size) in enumerate(CASES):
        for m, (align, half) in enumerate(MODES):
            models[f"{opcode.lower()}_{k}_{m}"] = resize_model(opcode, shape, size, align, half,
                                                               zp=(-128, 0, 127)[(k + m) % 3])
    return models


@pytest.mark.parametrize("opcode", ["RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR"])
def test_resize(opcode):
    check_bit_exact(merge_parallel(resize_models(opcode)), count=3)


def test_bilinear_half_pixel_weights_below_zero():
    """Upscaling with half-pixel centres starts before the first input pixel: a negative upper weight
    on the same pixel (TFLite Micro's arithmetic), which the kernel must sum like TFLite Micro does."""
    lo, hi, weight = bilinear_taps(4, 8, False, True)[0]
    assert (lo, hi) == (0, 0) and weight < 0


def test_non_constant_size_is_refused():
    from tflite_builder import Op, build

    tensors = [T((1, 4, 4, 2), "int8", 0.05, 0), T((2,), "int32"), T((1, 8, 8, 2), "int8", 0.05, 0)]
    model = build(tensors, [Op("RESIZE_BILINEAR", [0, 1], [2], options("ResizeBilinearOptions"))], [0, 1], [2])
    with pytest.raises(UnsupportedModelError, match="constant int32"):
        compile_graph(parse_model(model))


def device_models() -> dict[str, bytes]:
    """A few of these for the emulated boards (tests/test_kernels_on_device.py)."""
    models = {}
    for m, (align, half) in enumerate(MODES):
        models[f"resize_bilinear_{m}"] = resize_model("RESIZE_BILINEAR", (1, 5, 3, 5), (15, 7), align, half, zp=127)
        models[f"resize_nearest_{m}"] = resize_model("RESIZE_NEAREST_NEIGHBOR", (1, 7, 9, 6), (4, 13), align, half)
    return models
