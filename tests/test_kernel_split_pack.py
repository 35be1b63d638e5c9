"""SPLIT, SPLIT_V, UNPACK and PACK against TFLite Micro: every axis, int8 and int32, up to 16 parts.
The cases of one operator run as parallel branches of one model (one host build per kernel path)."""

import numpy as np
import pytest
from kernel_check import check_cases_bit_exact
from tflite_builder import T, build, options

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model


def _q(dtype):
    return (0.05, -3) if dtype == "int8" else (None, None)


def _ax(axis, rank):
    return axis + rank if axis < 0 else axis


def split_model(shape, axis, n, dtype="int8"):
    ax = _ax(axis, len(shape))
    part = list(shape)
    part[ax] //= n
    tensors = [T((1,), "int32", data=np.array([axis], np.int32)), T(tuple(shape), dtype, *_q(dtype))]
    tensors += [T(tuple(part), dtype, *_q(dtype)) for _ in range(n)]
    outs = list(range(2, 2 + n))
    return build(tensors, [_op("SPLIT", [0, 1], outs, options("SplitOptions", numSplits=n))], [1], outs)


def split_v_model(shape, axis, sizes, dtype="int8"):
    ax = _ax(axis, len(shape))
    real = [shape[ax] - (sum(sizes) + 1) if s == -1 else s for s in sizes]
    tensors = [T(tuple(shape), dtype, *_q(dtype)), T((len(sizes),), "int32", data=np.array(sizes, np.int32)),
               T((1,), "int32", data=np.array([axis], np.int32))]
    for s in real:
        part = list(shape)
        part[ax] = s
        tensors.append(T(tuple(part), dtype, *_q(dtype)))
    outs = list(range(3, 3 + len(sizes)))
    return build(tensors, [_op("SPLIT_V", [0, 1, 2], outs, options("SplitVOptions", numSplits=len(sizes)))],
                 [0], outs)


def unpack_model(shape, axis, dtype="int8"):
    ax = _ax(axis, len(shape))
    part = tuple(d for k, d in enumerate(shape) if k != ax)
    n = shape[ax]
    tensors = [T(tuple(shape), dtype, *_q(dtype))] + [T(part, dtype, *_q(dtype)) for _ in range(n)]
    outs = list(range(1, 1 + n))
    return build(tensors, [_op("UNPACK", [0], outs, options("UnpackOptions", num=n, axis=axis))], [0], outs)


def pack_model(part, n, axis, dtype="int8", const=()):
    rank = len(part) + 1
    ax = _ax(axis, rank)
    out = list(part)
    out.insert(ax, n)
    rng = np.random.default_rng(n)
    tensors = [T(tuple(part), dtype, *_q(dtype),
                 data=rng.integers(-100, 100, part).astype(np.int8 if dtype == "int8" else np.int32)
                 if k in const else None) for k in range(n)]
    tensors.append(T(tuple(out), dtype, *_q(dtype)))
    return build(tensors, [_op("PACK", list(range(n)), [n], options("PackOptions", valuesCount=n, axis=axis))],
                 [k for k in range(n) if k not in const], [n])


def _op(opcode, ins, outs, opts):
    from tflite_builder import Op

    return Op(opcode, ins, outs, opts)


def _models():
    return {
        "split_last": split_model((1, 4, 6), 2, 3),
        "split_negative_axis": split_model((2, 3, 8), -1, 4),
        "split_first": split_model((6, 2), 0, 2),
        "split_middle_int32": split_model((2, 6, 3), 1, 3, dtype="int32"),
        "split_one": split_model((3, 5), 1, 1),
        "split_v": split_v_model((2, 7, 3), 1, [1, -1, 2]),
        "split_v_last_int32": split_v_model((3, 9), -1, [4, 5], dtype="int32"),
        "unpack_first": unpack_model((3, 4), 0),
        "unpack_middle": unpack_model((2, 3, 4), 1),
        "unpack_last_int32": unpack_model((2, 5), -1, dtype="int32"),
        "unpack_16": unpack_model((16, 3), 0),
        "pack_first": pack_model((2, 4), 3, 0),
        "pack_middle": pack_model((2, 4), 3, 1),
        "pack_last": pack_model((2, 4, 3), 2, -1),
        "pack_int32": pack_model((5,), 4, 1, dtype="int32"),
        "pack_with_constant": pack_model((3, 3), 3, 0, const=(1,)),
        "pack_scalars": pack_model((), 3, 0, dtype="int32"),
    }


def test_bit_exact():
    models = _models()
    check_cases_bit_exact(models, count=3)


@pytest.mark.parametrize("model,match", [
    (lambda: unpack_model((17, 2), 0), "17 parts; at most 16"),
    (lambda: split_v_model((2, 7), 1, [3, 3]), r"extents \[3, 3\] along axis 1 do not add up to the input's 7"),
])
def test_refusals(model, match):
    with pytest.raises(UnsupportedModelError, match=match):
        compile_graph(parse_model(model()))
