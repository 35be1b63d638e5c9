"""EMBEDDING_LOOKUP (int8 table and output) against TFLite Micro: constant ids over a table that is
a graph input, ids that are a graph input over a constant 3-D table; refusals of the hybrid form."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from tflite_builder import T, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.validate import validate_compiled


def lookup_model(ids, table_shape, table=None, out_dtype="int8"):
    n = len(ids) if ids is not None else 5
    id_t = T((n,), "int32", data=None if ids is None else np.array(ids, np.int32))
    q = (0.05, -4) if out_dtype == "int8" else (None, None)
    return single_op("EMBEDDING_LOOKUP", [id_t, T(table_shape, "int8", 0.05, -4, data=table)],
                     [T((n, *table_shape[1:]), out_dtype, *q)])


def test_constant_ids_bit_exact():
    # no DSP code in this kernel: the DSP-emulated build is the fast one
    check_bit_exact(lookup_model([3, 0, 3, 6, 1, 2], (7, 5)), count=2, paths=("fast", "portable"))


def test_ids_from_the_graph_input_bit_exact():
    rng = np.random.default_rng(1)
    table = rng.integers(-128, 127, size=(9, 2, 3), endpoint=True).astype(np.int8)
    model = lookup_model(None, (9, 2, 3), table=table)
    cm = compile_graph(parse_model(model))
    assert cm.calls[0].function == "mcf_gather"
    ids = [[np.array(v, np.int32)] for v in ([0, 8, 4, 4, 1], [8, 7, 6, 5, 0], [2, 2, 2, 2, 2])]
    result = validate_compiled(cm, model, ids)
    assert result.bit_exact == result.inputs == 3 and result.max_abs_diff == 0


@pytest.mark.parametrize(("model", "why"), [
    (lookup_model([0, 1], (4, 3), out_dtype="float32"), "hybrid"),
    (lookup_model([0, 9], (4, 3)), "outside"),
])
def test_refusals(model, why):
    with pytest.raises(UnsupportedModelError, match=rf"EMBEDDING_LOOKUP.*{why}"):
        compile_graph(parse_model(model))
