"""RESIZE_NEAREST_NEIGHBOR on int16 tensors (16x8 models) against TFLite Micro: upsampling,
downsampling, align_corners and half_pixel_centers, batches."""

import numpy as np
from kernel_check import check_bit_exact
from test_kernels_on_device import merge_parallel
from tflite_builder import T, options, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends.tflite import parse_model


def resize_model(shape, size, align=False, half=False):
    n, _, _, c = shape
    opts = options("ResizeNearestNeighborOptions", alignCorners=align, halfPixelCenters=half)
    return single_op("RESIZE_NEAREST_NEIGHBOR",
                     [T(shape, "int16", 0.01, 0), T((2,), "int32", data=np.array(size, np.int32))],
                     [T((n, *size, c), "int16", 0.01, 0)], opts)


CASES = {
    "up2": ((1, 3, 4, 5), (6, 8), False, False),
    "odd_up": ((2, 3, 5, 3), (7, 9), False, False),
    "down": ((1, 8, 6, 2), (3, 4), False, False),
    "align": ((1, 4, 5, 3), (7, 9), True, False),
    "half_pixel": ((1, 5, 4, 4), (8, 6), False, True),
}


def test_bit_exact():
    models = {k: resize_model(*v) for k, v in CASES.items()}
    for name, model in models.items():
        assert compile_graph(parse_model(model)).calls[0].function == "mcf_resize_nearest_s16", name
    # no DSP code in this kernel: the DSP-emulated build is the fast one
    check_bit_exact(merge_parallel(models), count=3, paths=("fast", "portable"))
