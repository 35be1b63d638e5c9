"""SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND (int8, 3-D and 4-D, with paddings and crops) against
TFLite Micro, and the dilated-convolution pattern older converters write with them."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from kernel_check import check_bit_exact
from test_kernels_on_device import merge_parallel
from tflite_builder import Op, T, build, options, rng_int8

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model


def _i32(values, shape):
    return T(shape, "int32", data=np.array(values, np.int32).reshape(shape))


def s2b_model(shape, block, pads, zp=0):
    rank = len(shape)
    n, h, c = shape[0], shape[1], shape[-1]
    w = shape[2] if rank == 4 else 1
    bh, bw = block[0], (block[1] if rank == 4 else 1)
    pt, pb = pads[0]
    pl, pr = pads[1] if rank == 4 else (0, 0)
    out = (n * bh * bw, (h + pt + pb) // bh) + (((w + pl + pr) // bw,) if rank == 4 else ()) + (c,)
    t = [T(shape, "int8", 0.1, zp), _i32(block, (len(block),)), _i32(pads, (len(pads), 2)), T(out, "int8", 0.1, zp)]
    return build(t, [Op("SPACE_TO_BATCH_ND", [0, 1, 2], [3])], [0], [3])


def b2s_model(shape, block, crops, zp=3):
    rank = len(shape)
    n, h, c = shape[0], shape[1], shape[-1]
    w = shape[2] if rank == 4 else 1
    bh, bw = block[0], (block[1] if rank == 4 else 1)
    ct, cb = crops[0]
    cl, cr = crops[1] if rank == 4 else (0, 0)
    out = (n // (bh * bw), h * bh - ct - cb) + ((w * bw - cl - cr,) if rank == 4 else ()) + (c,)
    t = [T(shape, "int8", 0.1, zp), _i32(block, (len(block),)), _i32(crops, (len(crops), 2)), T(out, "int8", 0.1, zp)]
    return build(t, [Op("BATCH_TO_SPACE_ND", [0, 1, 2], [3])], [0], [3])


def dilated_conv_model(seed=0):
    """SPACE_TO_BATCH_ND -> 3x3 CONV_2D (VALID) -> BATCH_TO_SPACE_ND: a 3x3 convolution with dilation 2
    and SAME padding on a 9x9 input, as TensorFlow 1 converters wrote it."""
    rng = np.random.default_rng(seed)
    cin, cout = 3, 4
    t = [T((1, 9, 9, cin), "int8", 0.05, 0), _i32([2, 2], (2,)), _i32([[2, 3], [2, 3]], (2, 2)),
         T((4, 7, 7, cin), "int8", 0.05, 0),
         T((cout, 3, 3, cin), "int8", [0.01] * cout, [0] * cout, axis=0, data=rng_int8(rng, (cout, 3, 3, cin))),
         T((cout,), "int32", [0.0005] * cout, [0] * cout, data=rng.integers(-500, 500, cout).astype(np.int32)),
         T((4, 5, 5, cout), "int8", 0.1, -3), _i32([[0, 1], [0, 1]], (2, 2)), T((1, 9, 9, cout), "int8", 0.1, -3)]
    ops = [Op("SPACE_TO_BATCH_ND", [0, 1, 2], [3]),
           Op("CONV_2D", [3, 4, 5], [6], options("Conv2DOptions", padding=1, strideW=1, strideH=1)),
           Op("BATCH_TO_SPACE_ND", [6, 1, 7], [8])]
    return build(t, ops, [0], [8])


def test_bit_exact(tmp_path):
    models = {
        "s2b_4d_no_pad": s2b_model((2, 4, 6, 3), [2, 3], [[0, 0], [0, 0]], zp=-9),
        "s2b_4d_pad": s2b_model((1, 5, 5, 2), [2, 2], [[1, 0], [2, 1]]),
        "s2b_3d": s2b_model((2, 5, 4), [3], [[1, 0]]),
        "b2s_4d": b2s_model((8, 3, 2, 5), [2, 4], [[0, 0], [0, 0]]),
        "b2s_4d_crop": b2s_model((4, 3, 4, 3), [2, 2], [[1, 0], [2, 1]]),
        "b2s_3d_crop": b2s_model((6, 4, 2), [3], [[2, 1]]),
        "dilated_conv": dilated_conv_model(),
    }
    for name, model in models.items():
        assert compile_graph(parse_model(model)).calls, name
    # TFLite Micro pads SPACE_TO_BATCH_ND with a parameter it never sets (output_offset of its
    # persistent op data): zero in memory fresh from the system, whatever was there before otherwise
    # (earlier operators of a merged model, earlier interpreters of this process). The padded models
    # are checked each in a process of its own.
    padded = ("s2b_4d_pad", "s2b_3d", "dilated_conv")
    for name in padded:
        path = tmp_path / f"{name}.tflite"
        path.write_bytes(models.pop(name))
        script = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
                  "from kernel_check import check_bit_exact; "
                  f"check_bit_exact(open({str(path)!r}, 'rb').read(), count=3, paths=('fast',))")
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, (name, proc.stderr[-3000:])
    check_bit_exact(merge_parallel(models), count=3, paths=("fast",))  # the kernel has one path


def test_padding_with_a_nonzero_zero_point_refused():
    with pytest.raises(UnsupportedModelError, match=r"SPACE_TO_BATCH_ND.*zero point is 4"):
        compile_graph(parse_model(s2b_model((1, 3, 3, 2), [2, 2], [[1, 0], [1, 0]], zp=4)))


def test_wrong_output_shape_refused():
    t = [T((1, 4, 4, 2), "int8", 0.1, 0), _i32([2, 2], (2,)), _i32([[0, 0], [0, 0]], (2, 2)),
         T((4, 3, 2, 2), "int8", 0.1, 0)]
    with pytest.raises(UnsupportedModelError, match=r"output should be \[4, 2, 2, 2\]"):
        compile_graph(parse_model(build(t, [Op("SPACE_TO_BATCH_ND", [0, 1, 2], [3])], [0], [3])))


def device_models() -> dict[str, bytes]:
    """For the emulated boards (tests/test_kernels_on_device.py)."""
    # no padding: in the merged spread model TFLite Micro's pad value is memory it never set
    return {"space_to_batch": s2b_model((2, 4, 6, 3), [2, 3], [[0, 0], [0, 0]], zp=-9),
            "batch_to_space_crop": b2s_model((4, 3, 4, 3), [2, 2], [[1, 0], [2, 1]])}
