"""GATHER (int8 data, int32 positions: constant, or a graph input) and integer CAST against TFLite Micro."""

import numpy as np
import pytest
from kernel_check import KERNEL_PATHS, check_cases_bit_exact
from tflite_builder import T, options, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.validate import validate_compiled


def gather_model(shape, positions, axis=0, batch_dims=0, const=True):
    pos = np.array(positions, dtype=np.int32)
    rank = len(shape)
    ax = axis + rank if axis < 0 else axis
    out = tuple(shape[:ax]) + pos.shape[batch_dims:] + tuple(shape[ax + 1:])
    return single_op("GATHER", [T(tuple(shape), "int8", 0.1, 5), T(pos.shape, "int32", data=pos if const else None)],
                     [T(out, "int8", 0.1, 5)], options("GatherOptions", axis=axis, batchDims=batch_dims))


GATHER_CASES = {
    "rows": ((5, 4), [4, 0, 2, 2], 0),
    "middle_2d_positions": ((2, 6, 3), [[5, 1], [0, 3]], 1),
    "last_axis": ((3, 7), [6, 0, 1], -1),
    "embedding": ((10, 16), [[3, 9, 0]], 0),
    "scalar_position": ((4, 3), 2, 0),
}


def cast_model(shape, src, dst):
    return single_op("CAST", [T(shape, src)], [T(shape, dst)])


def test_bit_exact():
    models = {k: gather_model(*v) for k, v in GATHER_CASES.items()}
    models["batch_dims"] = gather_model((2, 5, 3), [[4, 0, 1, 1], [2, 3, 0, 4]], axis=1, batch_dims=1)
    models["batch_dims_last"] = gather_model((2, 3, 5), [[4, 0], [1, 2]], axis=2, batch_dims=1)
    for src, dst in [("int8", "int32"), ("int32", "int8"), ("int8", "int8"), ("int32", "int32")]:
        models[f"cast_{src}_{dst}"] = cast_model((3, 7), src, dst)
    check_cases_bit_exact(models, count=3)


def test_gather_positions_from_the_graph():
    """Positions computed at run time (a graph input), in range, on every kernel path."""
    model = gather_model((6, 5), [[0, 0, 0]], axis=0, const=False)
    graph = parse_model(model)
    cm = compile_graph(graph)
    rng = np.random.default_rng(2)
    batches = [[rng.integers(-128, 127, (6, 5)).astype(np.int8), rng.integers(0, 6, (1, 3)).astype(np.int32)]
                for _ in range(3)]
    for path in KERNEL_PATHS:
        result = validate_compiled(cm, model, batches, extra_flags=KERNEL_PATHS[path])
        assert result.bit_exact == 3, path


@pytest.mark.parametrize("model,match", [
    (lambda: gather_model((5, 4), [5], 0), r"position 5 is outside \[0, 5\)"),
    (lambda: single_op("GATHER", [T((5, 4), "int32"), T((1,), "int32", data=np.array([1], np.int32))],
                       [T((1, 4), "int32")]), "TFLite Micro's GATHER takes int8"),
    (lambda: cast_model((3,), "uint8", "int8"), "cast from uint8 to int8"),
])
def test_refusals(model, match):
    with pytest.raises(UnsupportedModelError, match=match):
        compile_graph(parse_model(model()))
