"""TRANSPOSE, SLICE, STRIDED_SLICE, BROADCAST_TO, DEPTH_TO_SPACE, SPACE_TO_DEPTH, EXPAND_DIMS against
TFLite Micro. The cases of one operator run as parallel branches of one model (one host build per
kernel path); the lowering (views, loop merging, refusals) is checked without building."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from test_kernels_on_device import merge_parallel
from tflite_builder import T, options, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.ops.base import Alias, KernelCall
from mcuforge.generator.ops.strided import COPY_LOOPS, copy_loops


def _i32(values, dtype="int32"):
    return T((len(values),), dtype, data=np.array(values, dtype=np.int64 if dtype == "int64" else np.int32))


def transpose_model(shape, perm, dtype="int8", q=(0.1, 3)):
    out = tuple(shape[p] for p in perm)
    qq = q if dtype == "int8" else (None, None)
    return single_op("TRANSPOSE", [T(tuple(shape), dtype, *qq), _i32(perm)], [T(out, dtype, *qq)])


TRANSPOSE_CASES = {
    "nhwc_to_nchw": ((1, 4, 5, 3), [0, 3, 1, 2]),
    "nchw_to_nhwc": ((1, 3, 4, 5), [0, 2, 3, 1]),
    "matrix": ((2, 3), [1, 0]),
    "rank3_rotate": ((2, 3, 4), [2, 0, 1]),
    "rank5": ((2, 1, 3, 2, 4), [4, 2, 0, 3, 1]),
    "inner_run_32": ((2, 3, 4, 8), [1, 0, 2, 3]),
    "inner_run_odd": ((3, 2, 7), [1, 0, 2]),
    "odd_wide": ((1, 9, 7, 5), [0, 3, 2, 1]),
    "nchw_to_nhwc_odd": ((1, 3, 7, 9), [0, 2, 3, 1]),  # 63 bytes read in order, written 3 apart
    "nhwc_to_nchw_odd": ((1, 7, 9, 3), [0, 3, 1, 2]),  # 63 bytes read 3 apart, written in order
}


def slice_model(shape, begin, size, dtype="int8", index_type="int32"):
    out = tuple(shape[d] - begin[d] if size[d] == -1 else size[d] for d in range(len(shape)))
    q = (0.05, -4) if dtype == "int8" else (None, None)
    return single_op("SLICE", [T(tuple(shape), dtype, *q), _i32(begin, index_type), _i32(size, index_type)],
                     [T(out, dtype, *q)])


SLICE_CASES = {
    "nhwc": ((1, 6, 6, 4), [0, 1, 2, 0], [1, 3, -1, 2]),
    "vector": ((9,), [1], [3]),
    "whole": ((2, 3), [0, 0], [-1, -1]),
    "rank5": ((2, 3, 2, 4, 5), [1, 0, 1, 1, 2], [1, 2, 1, 3, 3]),
    "int64_indices": ((4, 5, 6), [1, 2, 0], [2, 2, 6]),
}


def _np_slice_shape(shape, begin, end, strides, bm, em, sm):
    idx = []
    for d in range(len(shape)):
        if sm >> d & 1:
            idx.append(begin[d])
        else:
            idx.append(slice(None if bm >> d & 1 else begin[d], None if em >> d & 1 else end[d], strides[d]))
    return np.zeros(shape)[tuple(idx)].shape


def strided_slice_model(shape, begin, end, strides, bm=0, em=0, sm=0, dtype="int8", **extra):
    out = _np_slice_shape(shape, begin, end, strides, bm, em, sm)
    q = (0.02, 100) if dtype == "int8" else (None, None)
    opts = options("StridedSliceOptions", beginMask=bm, endMask=em, shrinkAxisMask=sm, **extra)
    return single_op("STRIDED_SLICE", [T(tuple(shape), dtype, *q), _i32(begin), _i32(end), _i32(strides)],
                     [T(tuple(out), dtype, *q)], opts)


STRIDED_SLICE_CASES = {
    "steps": ((1, 8, 8, 4), [0, 1, 0, 1], [1, 7, 8, 4], [1, 2, 3, 1]),
    "negative_strides": ((4, 6), [-1, 5], [0, 0], [-1, -2], 0, 1),
    "reverse_all": ((3, 5), [0, 0], [0, 0], [-1, -1], 3, 3),
    "shrink": ((3, 5), [1, 0], [2, 5], [1, 1], 0, 0, 1),
    "shrink_negative_index": ((3, 5, 2), [-1, 1, 0], [0, 4, 2], [1, 1, 1], 0, 0, 5),
    "masks": ((2, 9, 4), [1, 2, 3], [0, 7, 0], [1, 3, 1], 1, 5),
    "clamped": ((5, 5), [-10, 2], [10, 100], [2, 1]),
    "rank1": ((16,), [1], [15], [4]),
}


def broadcast_to_model(shape, out, dtype="int8"):
    q = (0.1, -128) if dtype == "int8" else (None, None)
    return single_op("BROADCAST_TO", [T(tuple(shape), dtype, *q), _i32(list(out))], [T(tuple(out), dtype, *q)])


BROADCAST_CASES = {
    "rows": ((1, 3), (4, 3)),
    "column": ((3, 1), (2, 3, 5)),
    "channels": ((1, 1, 1, 4), (1, 2, 3, 4)),
    "vector": ((5,), (2, 5)),
    "rank5": ((2, 1, 3, 1, 1), (2, 2, 3, 2, 3)),
    "same": ((2, 3), (2, 3)),
}


def depth_space_model(opcode, shape, bs):
    n, h, w, c = shape
    out = (n, h * bs, w * bs, c // (bs * bs)) if opcode == "DEPTH_TO_SPACE" else (n, h // bs, w // bs, c * bs * bs)
    kind = "DepthToSpaceOptions" if opcode == "DEPTH_TO_SPACE" else "SpaceToDepthOptions"
    return single_op(opcode, [T(shape, "int8", 0.3, 7)], [T(out, "int8", 0.3, 7)], options(kind, blockSize=bs))


DEPTH_SPACE_CASES = {
    "d2s_2": ("DEPTH_TO_SPACE", (1, 2, 3, 8), 2),
    "d2s_3_batch": ("DEPTH_TO_SPACE", (2, 2, 2, 9), 3),
    "d2s_2_wide": ("DEPTH_TO_SPACE", (1, 3, 3, 20), 2),
    "s2d_2": ("SPACE_TO_DEPTH", (1, 4, 6, 3), 2),
    "s2d_3_batch": ("SPACE_TO_DEPTH", (2, 6, 3, 2), 3),
    "s2d_2_one_channel": ("SPACE_TO_DEPTH", (1, 8, 8, 1), 2),
}


def _family(kind):
    if kind == "transpose":
        return {k: transpose_model(*v) for k, v in TRANSPOSE_CASES.items()}
    if kind == "slice":
        models = {k: slice_model(*v) for k, v in SLICE_CASES.items() if k != "int64_indices"}
        models["int64_indices"] = slice_model(*SLICE_CASES["int64_indices"], index_type="int64")
        models["int32_data"] = slice_model((4, 5), [1, 1], [2, 3], dtype="int32")
        return models
    if kind == "strided_slice":
        models = {k: strided_slice_model(*v) for k, v in STRIDED_SLICE_CASES.items()}
        models["int32_data"] = strided_slice_model((6, 3), [5, 0], [0, 3], [-2, 1], dtype="int32")
        return models
    if kind == "broadcast_to":
        models = {k: broadcast_to_model(*v) for k, v in BROADCAST_CASES.items()}
        models["int32_data"] = broadcast_to_model((3, 1), (3, 4), dtype="int32")
        return models
    return {k: depth_space_model(*v) for k, v in DEPTH_SPACE_CASES.items()}


@pytest.mark.parametrize("kind", ["transpose", "slice", "strided_slice", "broadcast_to", "depth_space"])
def test_bit_exact(kind):
    models = _family(kind)
    for name, model in models.items():  # each case lowers on its own too
        assert compile_graph(parse_model(model)).steps, name
    result = check_bit_exact(merge_parallel(models), count=3)
    assert result.bit_exact == 3


def apply_loops(params: dict, data: bytes, out_bytes: int) -> bytes:
    """What mcf_strided_copy writes for `params` (a strided_copy_call's) and the input bytes: its
    loops in Python."""

    def ints(key: str) -> list[int]:
        return [int(x) for x in str(params[key]).strip("{}").split(",")]

    counts, in_steps, out_steps = ints("count"), ints("in_step"), ints("out_step")
    run = int(params["run"])
    out = bytearray(out_bytes)

    def walk(level: int, a: int, b: int) -> None:
        for i in range(counts[level]):
            ai, bi = a + i * in_steps[level], b + i * out_steps[level]
            if level == COPY_LOOPS - 1:
                out[bi:bi + run] = data[ai:ai + run]
            else:
                walk(level + 1, ai, bi)

    walk(0, int(params["start"]), 0)
    return bytes(out)


def test_loops_match_numpy():
    """The kernel's loops (written in Python) against numpy's transpose, slicing and broadcast."""
    rng = np.random.default_rng(0)
    cases = [(transpose_model(*v), lambda x, v=v: np.transpose(x, v[1])) for v in TRANSPOSE_CASES.values()]
    cases += [(slice_model(*v), lambda x, v=v: x[tuple(slice(b, None if n == -1 else b + n)
                                                       for b, n in zip(v[1], v[2], strict=True))])
              for v in SLICE_CASES.values()]
    cases += [(broadcast_to_model(*v), lambda x, v=v: np.broadcast_to(x, v[1])) for v in BROADCAST_CASES.values()]
    for model, want in cases:
        graph = parse_model(model)
        step = compile_graph(graph).steps[0]
        if not isinstance(step, KernelCall):
            continue
        inp, out = graph.tensors[step.op.inputs[0]], graph.tensors[step.op.outputs[0]]
        x = rng.integers(-100, 100, inp.shape).astype(np.int8 if inp.dtype == "int8" else np.int32)
        got = apply_loops(step.params, x.tobytes(), out.nbytes)
        assert got == np.ascontiguousarray(want(x)).tobytes(), step.op.opcode


def test_loops_are_merged_and_ordered():
    # NHWC -> NCHW of a 1x4x5x3: the 20 pixels of each channel innermost, read 3 apart
    assert copy_loops([1, 3, 4, 5], [60, 1, 15, 3], 1) == ([3, 20], [1, 3], [20, 1], 1)
    # NCHW -> NHWC of a 1x3x96x96: whole channel planes read in order, written 3 apart
    assert copy_loops([1, 96, 96, 3], [27648, 96, 1, 9216], 1) == ([3, 9216], [9216, 1], [1, 3], 1)
    # a batch transpose keeping 4x8 rows: runs of 32 bytes, the longer loop innermost
    assert copy_loops([3, 2, 4, 8], [32, 96, 8, 1], 1) == ([2, 3], [96, 32], [32, 64], 32)
    # broadcast: step 0 dimensions merge
    assert copy_loops([2, 3, 4], [0, 0, 1], 4) == ([6], [0], [16], 16)


@pytest.mark.parametrize("shape,perm", [((1, 1, 6, 1), [0, 3, 2, 1]), ((1, 5, 1, 3), [2, 1, 0, 3]), ((7,), [0])])
def test_transpose_of_unit_dimensions_is_a_view(shape, perm):
    model = transpose_model(shape, perm)
    graph = parse_model(model)
    cm = compile_graph(graph)
    assert isinstance(cm.steps[0], Alias)
    assert cm.tensor_location(graph.inputs[0]) == cm.tensor_location(graph.outputs[0])
    check_bit_exact(model, paths=("fast",))


@pytest.mark.parametrize("shape,axis,out", [((4, 5), 1, (4, 1, 5)), ((4, 5), -1, (4, 5, 1)), ((3,), 0, (1, 3))])
def test_expand_dims_is_a_view(shape, axis, out):
    model = single_op("EXPAND_DIMS", [T(shape, "int8", 0.1, 1), _i32([axis])], [T(out, "int8", 0.1, 1)])
    assert isinstance(compile_graph(parse_model(model)).steps[0], Alias)
    check_bit_exact(model, paths=("fast",))


@pytest.mark.parametrize("model,match", [
    (lambda: transpose_model((2, 3), [1, 0], dtype="int32"), "TFLite Micro's TRANSPOSE takes int8, int16"),
    (lambda: transpose_model((2, 3), [-1, 0]), "is not a permutation"),
    (lambda: strided_slice_model((2, 3), [0, 0], [2, 3], [1, 1], ellipsisMask=1), "ellipsis_mask 1 is set"),
    (lambda: strided_slice_model((2, 3), [0, 0], [2, 3], [1, 1], offset=True), "offset mode"),
    (lambda: strided_slice_model((1, 2, 2, 2, 2), [0] * 5, [1, 2, 2, 2, 2], [1] * 5), "at most 4"),
    (lambda: slice_model((4,), [2], [3]), "outside dimension 0"),
    (lambda: depth_space_model("DEPTH_TO_SPACE", (1, 2, 2, 6), 2), "not a multiple of block size 2"),
    (lambda: single_op("TILE", [T((2, 3), "int8", 0.1, 0), _i32([2, 1])], [T((4, 3), "int8", 0.1, 0)]),
     "TFLite Micro has no TILE kernel"),
])
def test_refusals(model, match):
    with pytest.raises(UnsupportedModelError, match=match):
        compile_graph(parse_model(model()))


def device_models():
    """A few layout operators for the on-device parallel model (tests/test_kernels_on_device.py):
    one input and one output each, every path of the strided copy (byte, word and odd runs)."""
    from test_kernel_gather_cast import gather_model

    return {
        "transpose_nhwc_to_nchw": transpose_model((1, 4, 5, 3), [0, 3, 1, 2]),
        "transpose_run_32": transpose_model(*TRANSPOSE_CASES["inner_run_32"]),
        "transpose_rank5": transpose_model(*TRANSPOSE_CASES["rank5"]),
        "strided_slice_negative": strided_slice_model(*STRIDED_SLICE_CASES["negative_strides"]),
        "slice_nhwc": slice_model(*SLICE_CASES["nhwc"]),
        "broadcast_to_channels": broadcast_to_model(*BROADCAST_CASES["channels"]),
        "depth_to_space": depth_space_model(*DEPTH_SPACE_CASES["d2s_2_wide"]),
        "space_to_depth": depth_space_model(*DEPTH_SPACE_CASES["s2d_3_batch"]),
        "gather_rows": gather_model((5, 4), [4, 0, 2, 2], 0),
    }


def test_int16_bit_exact():
    """16-bit data (16x8 models): the same loops with 2-byte elements, where TFLite Micro takes int16."""
    from test_kernel_gather_cast import cast_model
    from test_kernel_split_pack import pack_model, split_model

    models = {
        "transpose": transpose_model((2, 3, 5), [2, 0, 1], dtype="int16"),
        "transpose_nchw": transpose_model((1, 3, 5, 7), [0, 2, 3, 1], dtype="int16"),
        "slice": slice_model((4, 5, 3), [1, 1, 0], [2, 3, -1], dtype="int16"),
        "strided_slice": strided_slice_model((6, 5), [5, 0], [0, 5], [-2, 2], dtype="int16"),
        "split": split_model((2, 6, 3), 1, 3, dtype="int16"),
        "pack": pack_model((3, 2), 3, 1, dtype="int16"),
        "cast_to_int32": cast_model((3, 4), "int16", "int32"),
        "cast_from_int32": cast_model((3, 4), "int32", "int16"),
    }
    merged = merge_parallel(models)
    try:
        compile_graph(parse_model(merged))
    except UnsupportedModelError as exc:
        if "int16 activations are not supported" in str(exc):
            pytest.skip("the compiler refuses int16 activations as a whole")
        raise
    assert check_bit_exact(merged, count=3).bit_exact == 3


@pytest.mark.parametrize("separate_io", [False, True])
@pytest.mark.parametrize("model", [
    lambda: slice_model((4, 5), [0, 0], [2, 5]),
    lambda: slice_model((1, 6, 3), [0, 0, 0], [1, 4, -1]),
    lambda: strided_slice_model((6, 4), [0, 0], [3, 4], [1, 1]),
    lambda: strided_slice_model((3, 8), [0, 0], [1, 8], [1, 1], 0, 0, 1),  # shrink: the first row
])
def test_slice_of_the_first_bytes_is_a_view(model, separate_io):
    model = model()
    graph = parse_model(model)
    cm = compile_graph(graph, separate_io=separate_io)
    assert isinstance(cm.steps[0], Alias)
    assert cm.tensor_location(graph.inputs[0]) == cm.tensor_location(graph.outputs[0])
    check_bit_exact(model, separate_io=separate_io, paths=("fast",))


def test_malformed_operators_are_refused_not_raised():
    """Random operand counts, shapes, types, constants and options for every operator of this area
    (and compile-time evaluation before it): an UnsupportedModelError or a lowering, never a traceback."""
    import contextlib

    from mcuforge.generator.constfold import fold_constants
    from mcuforge.generator.ir import NUMPY_DTYPES, Graph, Operator, Tensor
    from mcuforge.generator.ops.base import registry

    opcodes = ["TRANSPOSE", "SLICE", "STRIDED_SLICE", "SPLIT", "SPLIT_V", "PACK", "UNPACK", "GATHER", "EXPAND_DIMS",
               "SQUEEZE", "BROADCAST_TO", "TILE", "DEPTH_TO_SPACE", "SPACE_TO_DEPTH", "CAST", "SHAPE", "FILL",
               "ZEROS_LIKE", "RESHAPE"]
    keys = ["axis", "begin_mask", "end_mask", "shrink_axis_mask", "ellipsis_mask", "new_axis_mask", "block_size",
            "batch_dims"]
    rng = np.random.default_rng(5)
    for _ in range(3000):
        opcode = opcodes[rng.integers(len(opcodes))]
        n_in, n_out = int(rng.integers(0, 5)), int(rng.integers(0, 4))
        tensors = []
        for i in range(n_in + n_out):
            shape = tuple(int(x) for x in rng.integers(0, 5, rng.integers(0, 6)))
            dtype = ["int8", "int16", "int32", "int64", "uint8", "float32"][rng.integers(6)]
            data = (rng.integers(0, 6, shape).astype(NUMPY_DTYPES[dtype])
                    if i < n_in and rng.random() < 0.5 and dtype != "float32" else None)
            tensors.append(Tensor(i, f"t{i}", shape, dtype, None, data))
        ins = tuple(-1 if rng.random() < 0.1 else i for i in range(n_in))
        opts = {k: int(rng.integers(-3, 6)) for k in keys} | {"squeeze_dims": [int(rng.integers(-3, 4))]}
        op = Operator(0, opcode, ins, tuple(range(n_in, n_in + n_out)), opts)
        graph = Graph("fuzz", "", tensors, [op], (), op.outputs if rng.random() < 0.5 else ())
        with contextlib.suppress(UnsupportedModelError):
            registry()[opcode](fold_constants(graph)[0], op)
