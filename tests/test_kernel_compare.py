"""int8 comparisons (bool results) feeding SELECT_V2, broadcasting, against TFLite Micro."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from tflite_builder import Op, T, build

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.validate import validate_compiled

COMPARISONS = ["EQUAL", "NOT_EQUAL", "GREATER", "GREATER_EQUAL", "LESS", "LESS_EQUAL"]


def where(opcode, s1, s2, sc, sx, sy, q1=(0.05, 3), q2=(0.05, 3), qx=(0.02, -5), bool_out=False):
    """select_v2(compare(a, b), x, y): every tensor but the bool condition a graph input."""
    out_shape = sc if bool_out else tuple(int(d) for d in np.broadcast_shapes(sc, sx, sy))
    tensors = [T(s1, "int8", *q1), T(s2, "int8", *q2), T(sc, "bool"), T(sx, "int8", *qx), T(sy, "int8", *qx),
               T(out_shape, "int8", *qx)]
    ops = [Op(opcode, [0, 1], [2])]
    if bool_out:
        return build(tensors[:3], ops, [0, 1], [2])
    ops.append(Op("SELECT_V2", [2, 3, 4], [5]))
    return build(tensors, ops, [0, 1, 3, 4], [5])


QUANTS = [((0.05, 3), (0.05, 3)),            # same quantization
          ((0.001, -7), (0.001, -7)),        # same, several stored values per scaled value
          ((0.04, -128), (0.013, 90))]       # different


@pytest.mark.parametrize("opcode", ["EQUAL", "GREATER"])
@pytest.mark.parametrize("q1,q2", QUANTS[1:])
def test_compare_select(opcode, q1, q2):
    s = (1, 4, 5, 6)
    check_bit_exact(where(opcode, s, s, s, s, s, q1, q2), count=3, paths=("fast", "portable"))


VALUES = np.arange(-128, 128, dtype=np.int8)


@pytest.mark.parametrize("opcode", COMPARISONS)
@pytest.mark.parametrize("q1,q2", QUANTS)
def test_every_input_pair(opcode, q1, q2):
    """All 65536 (a, b) pairs: a constant column of every int8 value against an input row of them;
    the result selects 1 or 0 (stored), so the output is the comparison's truth table."""
    tensors = [T((256, 1), "int8", *q1, data=VALUES.reshape(256, 1)), T((1, 256), "int8", *q2),
               T((256, 256), "bool"), T((), "int8", 0.1, 0, data=np.array(1, np.int8)),
               T((), "int8", 0.1, 0, data=np.array(0, np.int8)), T((256, 256), "int8", 0.1, 0)]
    model = build(tensors, [Op(opcode, [0, 1], [2]), Op("SELECT_V2", [2, 3, 4], [5])], [1], [5])
    batches = [[VALUES.reshape(1, 256)], [VALUES[::-1].copy().reshape(1, 256)]]
    result = validate_compiled(compile_graph(parse_model(model, name="test.tflite")), model, batches)
    assert result.bit_exact == result.inputs, result.to_json()


SHAPES = [((2, 3, 1, 4), (1, 3, 5, 1), (2, 3, 5, 4), (4,), ()),     # broadcast compare, scalar y
          ((1, 6, 8), (), (1, 6, 8), (1, 1, 8), (6, 1)),            # scalar threshold: where(x > t, a, b)
          ((2, 1, 3, 1, 5), (1, 4, 1, 2, 1), (2, 4, 3, 2, 5), (1, 4, 3, 2, 5), (2, 1, 3, 1, 5))]  # rank 5


@pytest.mark.parametrize("opcode", ["GREATER", "LESS_EQUAL"])
@pytest.mark.parametrize("s1,s2,sc,sx,sy", SHAPES)
def test_broadcast(opcode, s1, s2, sc, sx, sy):
    check_bit_exact(where(opcode, s1, s2, sc, sx, sy, (0.03, 1), (0.07, -20)), count=2, paths=("fast", "portable"))


def test_bool_graph_output_refused():
    graph = parse_model(where("LESS", (4,), (4,), (4,), (4,), (4,), bool_out=True), name="test.tflite")
    with pytest.raises(UnsupportedModelError, match="bool"):
        compile_graph(graph)
