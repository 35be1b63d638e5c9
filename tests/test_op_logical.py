"""LOGICAL_AND / LOGICAL_OR / LOGICAL_NOT between comparisons and SELECT_V2, against TFLite Micro:
same shapes, broadcasts across ranks, and a chain through all three; a non-bool operand refused."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from tflite_builder import Op, T, build

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model

Q = (0.1, 0)


def chain_model():
    """x, y (2,3,4); z (4,); v, w (2,1,4): AND(x > y, z <= 0.5) and NOT(OR(v > w, x > y)) pick x or y."""
    tensors = [T((2, 3, 4), "int8", *Q), T((2, 3, 4), "int8", *Q), T((4,), "int8", *Q),   # 0 x, 1 y, 2 z
               T((2, 1, 4), "int8", *Q), T((2, 1, 4), "int8", *Q),                         # 3 v, 4 w
               T((1,), "int8", *Q, data=np.array([5], np.int8)),                           # 5 constant 0.5
               T((2, 3, 4), "bool"), T((4,), "bool"), T((2, 1, 4), "bool"),                  # 6 x>y, 7 z<=c, 8 v>w
               T((2, 3, 4), "bool"), T((2, 3, 4), "bool"), T((2, 3, 4), "bool"),             # 9 and, 10 or, 11 not
               T((2, 3, 4), "int8", *Q), T((2, 3, 4), "int8", *Q)]                          # 12, 13 outputs
    ops = [Op("GREATER", [0, 1], [6]), Op("LESS_EQUAL", [2, 5], [7]), Op("GREATER", [3, 4], [8]),
           Op("LOGICAL_AND", [6, 7], [9]), Op("LOGICAL_OR", [8, 6], [10]), Op("LOGICAL_NOT", [10], [11]),
           Op("SELECT_V2", [9, 0, 1], [12]), Op("SELECT_V2", [11, 0, 1], [13])]
    return build(tensors, ops, [0, 1, 2, 3, 4], [12, 13])


def test_chain_bit_exact():
    cm = compile_graph(parse_model(chain_model()))
    assert [c.function for c in cm.calls].count("mcf_logical_u8") == 3
    # no DSP code in this kernel: the DSP-emulated build is the fast one
    check_bit_exact(chain_model(), count=4, paths=("fast", "portable"))


def test_int8_operand_refused():
    tensors = [T((4,), "int8", *Q), T((4,), "int8", *Q), T((4,), "bool"), T((4,), "bool"), T((4,), "int8", *Q)]
    ops = [Op("GREATER", [0, 1], [2]), Op("LOGICAL_AND", [2, 0], [3]), Op("SELECT_V2", [3, 0, 1], [4])]
    model = build(tensors, ops, [0, 1], [4])
    with pytest.raises(UnsupportedModelError, match=r"LOGICAL_AND.*takes bool only"):
        compile_graph(parse_model(model))
