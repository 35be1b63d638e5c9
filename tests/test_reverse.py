"""REVERSE_V2 (int8, int16, int32; adjacent axes, negative ones too) against TFLite Micro, its
compile-time evaluation on constants, and the refusal of axes TFLite Micro does not take."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from test_kernels_on_device import merge_parallel
from tflite_builder import Op, T, build, options, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model


def reverse_model(shape, axes, dtype="int8"):
    q = (0.1, 3) if dtype != "int32" else (None, None)
    return single_op("REVERSE_V2", [T(shape, dtype, *q), T((len(axes),), "int32", data=np.array(axes, np.int32))],
                     [T(shape, dtype, *q)])


CASES = {
    "last": ((2, 3, 5), [2], "int8"),
    "width_height": ((1, 4, 5, 3), [1, 2], "int8"),
    "negative": ((3, 4, 6), [-2, -1], "int16"),
    "first_int32": ((4, 3), [0], "int32"),
    "rank5_middle": ((2, 2, 3, 2, 3), [2, 3], "int8"),
}


def test_bit_exact():
    models = {k: reverse_model(*v) for k, v in CASES.items()}
    for name, model in models.items():
        assert compile_graph(parse_model(model)).calls[0].function == "mcf_strided_copy", name
    check_bit_exact(merge_parallel(models), count=3, paths=("fast", "portable"))


def test_non_adjacent_axes_refused():
    with pytest.raises(UnsupportedModelError, match=r"REVERSE_V2.*not adjacent"):
        compile_graph(parse_model(reverse_model((2, 3, 4), [0, 2])))


def test_reverse_of_a_constant_is_evaluated_when_compiling():
    """A constant reversed then added to the input: the REVERSE_V2 becomes a constant."""
    c = np.arange(12, dtype=np.int8).reshape(3, 4)
    tensors = [T((3, 4), "int8", 0.1, 0), T((3, 4), "int8", 0.1, 0, data=c),
               T((1,), "int32", data=np.array([1], np.int32)), T((3, 4), "int8", 0.1, 0), T((3, 4), "int8", 0.2, 1)]
    model = build(tensors, [Op("REVERSE_V2", [1, 2], [3]), Op("ADD", [0, 3], [4], options("AddOptions"))], [0], [4])
    cm = compile_graph(parse_model(model))
    assert [c.op.opcode for c in cm.folded] == ["REVERSE_V2"]
    assert np.array_equal(cm.graph.tensors[3].data, c[:, ::-1])
    check_bit_exact(model, count=2, paths=("fast",))


def device_models() -> dict[str, bytes]:
    """For the emulated boards (tests/test_kernels_on_device.py)."""
    return {"reverse_hw": reverse_model(*CASES["width_height"]), "reverse_int16": reverse_model(*CASES["negative"])}
