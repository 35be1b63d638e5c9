"""MIRROR_PAD (int8, REFLECT and SYMMETRIC, ranks 1-5, int32 and int64 paddings) against TFLite Micro."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from test_kernels_on_device import merge_parallel
from tflite_builder import T, options, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model

REFLECT, SYMMETRIC = 0, 1


def mirror_pad_model(shape, pads, mode, ptype="int32"):
    out = tuple(s + a + b for s, (a, b) in zip(shape, pads, strict=True))
    p = np.array(pads, dtype=np.int32 if ptype == "int32" else np.int64)
    return single_op("MIRROR_PAD", [T(shape, "int8", 0.1, -4), T(p.shape, ptype, data=p)],
                     [T(out, "int8", 0.1, -4)], options("MirrorPadOptions", mode=mode))


CASES = {
    "reflect_hw": ((1, 5, 6, 3), [[0, 0], [2, 1], [1, 3], [0, 0]], REFLECT, "int32"),
    "symmetric_hw": ((1, 4, 4, 2), [[0, 0], [3, 4], [1, 0], [0, 0]], SYMMETRIC, "int64"),
    "reflect_1d": ((7,), [[3, 2]], REFLECT, "int32"),
    "symmetric_3d_all": ((2, 3, 4), [[1, 2], [2, 0], [1, 1]], SYMMETRIC, "int32"),
    "reflect_5d": ((1, 2, 3, 3, 2), [[0, 0], [1, 0], [0, 2], [1, 1], [0, 1]], REFLECT, "int32"),
}


def test_bit_exact():
    models = {k: mirror_pad_model(*v) for k, v in CASES.items()}
    for name, model in models.items():
        assert compile_graph(parse_model(model)).calls[0].function == "mcf_dim_gather_s8", name
    check_bit_exact(merge_parallel(models), count=3, paths=("fast",))  # the kernel has one path


def test_padding_wider_than_the_mirror_refused():
    with pytest.raises(UnsupportedModelError, match=r"MIRROR_PAD.*wider than REFLECT"):
        compile_graph(parse_model(mirror_pad_model((1, 3, 3, 1), [[0, 0], [3, 0], [0, 0], [0, 0]], REFLECT)))


def device_models() -> dict[str, bytes]:
    """For the emulated boards (tests/test_kernels_on_device.py)."""
    return {"mirror_pad_reflect": mirror_pad_model(*CASES["reflect_hw"]),
            "mirror_pad_symmetric": mirror_pad_model(*CASES["symmetric_3d_all"])}
