"""ADD_N (int8, 2 to 8 inputs, boundary zero points, outputs that saturate) against TFLite Micro."""

import pytest
from kernel_check import check_bit_exact
from test_kernels_on_device import merge_parallel
from tflite_builder import Op, T, build

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model


def add_n_model(n, shape, s_in, z_in, s_out, z_out, differ=False):
    tensors = [T(shape, "int8", s_in, z_in + (k if differ else 0)) for k in range(n)]
    tensors.append(T(shape, "int8", s_out, z_out))
    return build(tensors, [Op("ADD_N", list(range(n)), [n])], list(range(n)), [n])


CASES = {
    "two": (2, (3, 7), 0.05, 0, 0.1, 3),
    "three_saturating": (3, (2, 2, 5), 0.1, -20, 0.05, 10),
    "five_boundary_zp": (5, (9,), 0.02, 127, 0.2, -128),
    "eight": (8, (1, 4, 4), 0.03, -128, 0.3, 0),
}


def test_bit_exact():
    models = {k: add_n_model(*v) for k, v in CASES.items()}
    for name, model in models.items():
        assert compile_graph(parse_model(model)).calls[0].function.startswith("mcf_add_n_s8_"), name
    check_bit_exact(merge_parallel(models), count=3, paths=("fast", "portable"))


def test_inputs_with_different_quantization_refused():
    with pytest.raises(UnsupportedModelError, match=r"ADD_N.*requires them equal"):
        compile_graph(parse_model(add_n_model(3, (4,), 0.1, 0, 0.1, 0, differ=True)))
