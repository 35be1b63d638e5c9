"""ARG_MAX / ARG_MIN (int8 input, int32 output) against TFLite Micro."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from test_kernels_on_device import merge_parallel
from tflite_builder import T, options, single_op
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model


def arg_model(opcode, in_shape, axis, out_dtype="int32", axis_dtype="int32", zp=0):
    rank = len(in_shape)
    a = axis + rank if axis < 0 else axis
    out_shape = tuple(d for i, d in enumerate(in_shape) if i != a)
    kind = "ArgMaxOptions" if opcode == "ARG_MAX" else "ArgMinOptions"
    out_type = schema.TensorType.INT32 if out_dtype == "int32" else schema.TensorType.INT64
    return single_op(opcode, [T(in_shape, "int8", 0.05, zp), T((1,), axis_dtype, data=np.array([axis]))],
                     [T(out_shape, out_dtype)], options(kind, outputType=out_type))


CASES = [
    # input shape, axis
    ((1, 10), 1),  # a classifier's scores
    ((1, 10), -1),
    ((3, 7), 0),
    ((2, 4, 5, 3), 3),
    ((2, 4, 5, 3), 1),
    ((2, 4, 5, 3), 0),
    ((1, 6, 6, 9), -2),
    ((2, 3, 2, 3, 4), 2),  # 5-D
    ((17,), 0),  # to a scalar
    ((4, 1, 3), 1),  # axis of size 1
]


def arg_models() -> dict[str, bytes]:
    models = {}
    for k, (shape, axis) in enumerate(CASES):
        for opcode in ("ARG_MAX", "ARG_MIN"):
            models[f"{opcode.lower()}_{k}"] = arg_model(opcode, shape, axis, zp=(-128, 127, 3)[k % 3])
    return models


def test_arg_min_max():
    check_bit_exact(merge_parallel(arg_models()), count=4)


def test_arg_max_ties_pick_the_first():
    """Few distinct values: many ties, the first index must win (random int8 rarely ties)."""
    from mcuforge.generator.validate import validate_compiled

    model = merge_parallel({"max": arg_model("ARG_MAX", (8, 12), 1), "min": arg_model("ARG_MIN", (8, 12), 1)})
    cm = compile_graph(parse_model(model))
    rng = np.random.default_rng(3)
    inputs = [[rng.integers(-1, 2, size=(8, 12)).astype(np.int8) for _ in range(2)] for _ in range(3)]
    result = validate_compiled(cm, model, inputs)
    assert result.bit_exact == 3


@pytest.mark.parametrize("opcode", ["ARG_MAX", "ARG_MIN"])
def test_int64_output_is_refused(opcode):
    model = arg_model(opcode, (1, 10), 1, out_dtype="int64")
    with pytest.raises(UnsupportedModelError, match="int64"):
        compile_graph(parse_model(model))


def device_models() -> dict[str, bytes]:
    """A few of these for the emulated boards (tests/test_kernels_on_device.py): int32 outputs."""
    return {"arg_max_scores": arg_model("ARG_MAX", (1, 10), 1, zp=-128),
            "arg_min_4d": arg_model("ARG_MIN", (2, 4, 5, 3), 1, zp=127)}
