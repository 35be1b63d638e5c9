"""A TRANSPOSE read only by an int8 reduction (MEAN, SUM, REDUCE_MAX, REDUCE_MIN) is folded into the
reduction's loop order (generator/constfold.py): no copy runs, and the results stay bit-exact with
TFLite Micro, which transposes and then reduces. PyTorch models converted to .tflite end so: NHWC
back to NCHW, then a global average over H and W."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from test_kernels_on_device import merge_parallel
from tflite_builder import Op, T, build, options

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends.tflite import parse_model


def transpose_reduce_model(shape, perm, opcode, axes, keep_dims=False, also_output=False):
    t_shape = tuple(shape[p] for p in perm)
    kept = [d for i, d in enumerate(t_shape) if i not in axes]
    out_shape = tuple(1 if i in axes else d for i, d in enumerate(t_shape)) if keep_dims else tuple(kept)
    same = opcode in ("REDUCE_MAX", "REDUCE_MIN")
    tensors = [T(shape, "int8", 0.05, 7), T((len(perm),), "int32", data=np.array(perm, np.int32)),
               T(t_shape, "int8", 0.05, 7), T((len(axes),), "int32", data=np.array(axes, np.int32)),
               T(out_shape, "int8", 0.05 if same else 0.03, 7 if same else -5)]
    ops = [Op("TRANSPOSE", [0, 1], [2], options("TransposeOptions")),
           Op(opcode, [2, 3], [4], options("ReducerOptions", keepDims=keep_dims))]
    return build(tensors, ops, [0], [4, 2] if also_output else [4])


CASES = {
    "nchw_global_mean": ((1, 5, 6, 8), [0, 3, 1, 2], "MEAN", [2, 3], False),
    "nchw_global_mean_keep": ((1, 4, 3, 6), [0, 3, 1, 2], "MEAN", [2, 3], True),
    "sum_kept_reordered": ((2, 3, 4), [2, 0, 1], "SUM", [1], False),
    "max_3d": ((3, 5, 4), [1, 2, 0], "REDUCE_MAX", [0], False),
    "min_two_kept": ((2, 3, 4, 5), [3, 1, 0, 2], "REDUCE_MIN", [1, 3], True),
}


def test_folded_and_bit_exact():
    models = {k: transpose_reduce_model(*v) for k, v in CASES.items()}
    for name, model in models.items():
        cm = compile_graph(parse_model(model))
        assert [v.op.opcode for v in cm.views] == ["TRANSPOSE"], name
        assert [c.op.opcode for c in cm.calls] == [CASES[name][2]], name
        assert cm.calls[0].args[0] == 0, name  # the reduction reads the graph input itself
    check_bit_exact(merge_parallel(models), count=3, paths=("fast",))  # the kernel has one path


@pytest.mark.parametrize("also_output", [True])
def test_transpose_read_elsewhere_stays_a_copy(also_output):
    model = transpose_reduce_model((1, 5, 6, 8), [0, 3, 1, 2], "MEAN", [2, 3], also_output=also_output)
    cm = compile_graph(parse_model(model))
    assert [c.op.opcode for c in cm.calls] == ["TRANSPOSE", "MEAN"]
    # compiling the compiled graph again folds nothing twice
    folded = compile_graph(parse_model(transpose_reduce_model(*CASES["sum_kept_reordered"])))
    again = compile_graph(folded.graph)
    assert [c.op.opcode for c in again.calls] == ["SUM"] and again.calls[0].params == folded.calls[0].params


def test_inspect_names_the_folded_transpose(tmp_path):
    from mcuforge.generator.inspect_model import inspect_path

    path = tmp_path / "t.tflite"
    path.write_bytes(transpose_reduce_model(*CASES["nchw_global_mean"]))
    rep = inspect_path(path)
    assert rep.supported
    assert "folded into the reading layer: operator 0 TRANSPOSE (into operator 1 MEAN)" in rep.no_code


def device_models() -> dict[str, bytes]:
    """For the emulated boards (tests/test_kernels_on_device.py)."""
    return {"transpose_into_mean": transpose_reduce_model(*CASES["nchw_global_mean"]),
            "transpose_into_min": transpose_reduce_model(*CASES["min_two_kept"])}
