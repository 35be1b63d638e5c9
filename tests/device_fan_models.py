"""Operators for the on-device spread model (tests/test_kernels_on_device.py) that fan out from
shared graph inputs: the firmware's protocol counts graph inputs and outputs in a byte and the
spread model's other branches take one input (or two) and one output each, so these ~50 operators
read two graph inputs between them and write 14 outputs.

Covered here (each also has its single-operator host tests against TFLite Micro on the host's
kernel paths): the six int8 comparisons, each feeding a SELECT_V2 (bool tensors inside the graph,
broadcasts, LOGICAL_AND / LOGICAL_OR / LOGICAL_NOT between), L2_NORMALIZATION, GATHER_ND,
EMBEDDING_LOOKUP, DYNAMIC_UPDATE_SLICE, CUMSUM, ADD_N, CONCATENATION, PACK, UNPACK, SPLIT,
SPLIT_V, PAD, PADV2, CAST and the int8 activations RELU, RELU6, HARD_SWISH, LOGISTIC, TANH (the
other branches have their int16 forms only).

Random inputs rarely make two tensors equal, so every comparison reads x and a tensor made from
it that equals it on many elements: max(x, zero point) in x's quantization, the same at twice the
scale (equal where the value is representable, so ties between two scales), and the maximum over H
(broadcast, equal once per column). z sits on the boundary zero point 127.
"""

from __future__ import annotations

import numpy as np
from tflite_builder import Op, T, build, options

X_SHAPE = (1, 4, 6, 8)
XQ = (0.05, -3)
COLUMN = (1, 1, 6, 8)  # a maximum over H, broadcast against x
Z_SHAPE = (3, 17)
ZQ = (0.1, 127)

COMPARISONS = ("EQUAL", "NOT_EQUAL", "GREATER", "GREATER_EQUAL", "LESS", "LESS_EQUAL")


class _Graph:
    """A tensor list and an operator list grown together; every output that nothing else reads is
    a graph output."""

    def __init__(self) -> None:
        self.tensors: list[T] = []
        self.ops: list[Op] = []
        self.outputs: list[int] = []

    def tensor(self, t: T) -> int:
        self.tensors.append(t)
        return len(self.tensors) - 1

    def const(self, data, dtype: str = "int32", q: tuple[float, int] | None = None) -> int:
        arr = np.asarray(data, dtype={"int32": np.int32, "int8": np.int8}[dtype])
        return self.tensor(T(arr.shape, dtype, *(q or (None, None)), data=arr))

    def op(self, opcode: str, ins: list[int], outs: list[T], opts=None, *, graph_output: bool = True) -> list[int]:
        idx = [self.tensor(t) for t in outs]
        self.ops.append(Op(opcode, ins, list(idx), opts))
        if graph_output:
            self.outputs += idx
        return idx


def _compare_select(g: _Graph, x: int, relu_x: int, neg_x: int) -> list[int]:
    """Every comparison -> SELECT_V2, two of them through LOGICAL_AND / LOGICAL_OR / LOGICAL_NOT,
    each comparison with ties on many elements (else > and >= would be alike); the selections pick
    between x and values in x's quantization (a broadcast row, a scalar, another tensor)."""
    coarse = (2 * XQ[0], -5)  # x's values at twice the scale: equal where x - zero point is even
    (relu_coarse,) = g.op("RELU", [x], [T(X_SHAPE, "int8", *coarse)], graph_output=False)
    top = options("ReducerOptions", keepDims=True)
    (col_max,) = g.op("REDUCE_MAX", [x, g.const([1])], [T(COLUMN, "int8", *XQ)], top, graph_output=False)
    (col_max_coarse,) = g.op("REDUCE_MAX", [relu_coarse, g.const([1])], [T(COLUMN, "int8", *coarse)], top,
                             graph_output=False)
    row = g.const(np.arange(-60, 60, 15).reshape(1, 1, 1, 8), "int8", XQ)
    scalar = g.tensor(T((), "int8", *XQ, data=np.array(-77, np.int8)))
    pairs = {"EQUAL": (x, relu_x), "NOT_EQUAL": (relu_coarse, x), "GREATER": (x, relu_coarse),
             "GREATER_EQUAL": (col_max, x), "LESS": (x, col_max), "LESS_EQUAL": (col_max_coarse, x)}
    values = {"EQUAL": (x, neg_x), "NOT_EQUAL": (neg_x, row), "GREATER": (x, scalar), "GREATER_EQUAL": (row, x),
              "LESS": (scalar, neg_x), "LESS_EQUAL": (x, neg_x)}
    cond = {opcode: g.op(opcode, list(pairs[opcode]), [T(X_SHAPE, "bool")], graph_output=False)[0]
            for opcode in COMPARISONS}
    (not_eq,) = g.op("LOGICAL_NOT", [cond["EQUAL"]], [T(X_SHAPE, "bool")], graph_output=False)
    # x > coarse and x >= zero point: the ties (x >= zero point, x - zero point even) still count
    (cond["GREATER"],) = g.op("LOGICAL_AND", [cond["GREATER"], cond["EQUAL"]], [T(X_SHAPE, "bool")],
                              graph_output=False)
    (cond["LESS"],) = g.op("LOGICAL_OR", [cond["LESS"], not_eq], [T(X_SHAPE, "bool")], graph_output=False)
    return [g.op("SELECT_V2", [cond[opcode], *values[opcode]], [T(X_SHAPE, "int8", *XQ)], graph_output=False)[0]
            for opcode in COMPARISONS]


def _split_parts(g: _Graph, x: int) -> list[int]:
    """SPLIT along C and SPLIT_V along H (a -1 size, a negative axis), each put back together in
    another order by a CONCATENATION: two tensors of x's shape."""
    s = g.op("SPLIT", [g.const([3]), x], [T((1, 4, 6, 4), "int8", *XQ) for _ in range(2)],
             options("SplitOptions", numSplits=2), graph_output=False)
    v = g.op("SPLIT_V", [x, g.const([1, -1, 2]), g.const([-2])], [T((1, 4, h, 8), "int8", *XQ) for h in (1, 3, 2)],
             options("SplitVOptions", numSplits=3), graph_output=False)
    return [*g.op("CONCATENATION", [s[1], s[0]], [T(X_SHAPE, "int8", *XQ)], options("ConcatenationOptions", axis=3),
                  graph_output=False),
            *g.op("CONCATENATION", [v[2], v[0], v[1]], [T(X_SHAPE, "int8", *XQ)],
                  options("ConcatenationOptions", axis=2), graph_output=False)]


def _layout(g: _Graph, x: int, neg_x: int) -> None:
    g.op("GATHER_ND", [x, g.const([[0, 3], [0, 0], [0, 2]])], [T((3, 6, 8), "int8", *XQ)])
    # ADD_N and CUMSUM in one quantization, one output for the two
    sums = g.op("ADD_N", [x, neg_x, x], [T(X_SHAPE, "int8", 0.2, -7)], graph_output=False)
    sums += g.op("CUMSUM", [x, g.const(np.array(-2))], [T(X_SHAPE, "int8", 0.2, -7)],
                 options("CumsumOptions", exclusive=True, reverse=True), graph_output=False)
    g.op("CONCATENATION", sums, [T((2, *X_SHAPE[1:]), "int8", 0.2, -7)], options("ConcatenationOptions", axis=0))
    rows = g.op("UNPACK", [x], [T((1, 4, 8), "int8", *XQ) for _ in range(6)], options("UnpackOptions", num=6, axis=2),
                graph_output=False)
    g.op("PACK", rows[::-1], [T((1, 6, 4, 8), "int8", *XQ)], options("PackOptions", valuesCount=6, axis=1))
    pads = [[0, 0], [1, 2], [0, 1], [2, 1]]
    padded = g.op("PAD", [x, g.const(pads)], [T((1, 7, 7, 11), "int8", *XQ)], options("PadOptions"),
                  graph_output=False)
    padded += g.op("PADV2", [x, g.const(pads), g.const(np.array(100), "int8", XQ)], [T((1, 7, 7, 11), "int8", *XQ)],
                   options("PadV2Options"), graph_output=False)
    g.op("CONCATENATION", padded, [T((2, 7, 7, 11), "int8", *XQ)], options("ConcatenationOptions", axis=0))
    g.op("CAST", [x], [T(X_SHAPE, "int32")])


def _activations(g: _Graph, src: int, shape: tuple[int, ...]) -> None:
    """RELU6 and HARD_SWISH in one quantization, TANH and L2_NORMALIZATION in another: each pair
    joined into one output; LOGISTIC."""
    wide = (*shape[:-1], 2 * shape[-1])
    last = options("ConcatenationOptions", axis=-1)
    q = (0.04, -110)
    pair = [g.op(opcode, [src], [T(shape, "int8", *q)], graph_output=False)[0] for opcode in ("RELU6", "HARD_SWISH")]
    g.op("CONCATENATION", pair, [T(wide, "int8", *q)], last)
    q = (1 / 128, 0)  # TFLite Micro requires it of both
    pair = [*g.op("TANH", [src], [T(shape, "int8", *q)], graph_output=False),
            *g.op("L2_NORMALIZATION", [src], [T(shape, "int8", *q)], options("L2NormOptions"), graph_output=False)]
    g.op("CONCATENATION", pair, [T(wide, "int8", *q)], last)
    g.op("LOGISTIC", [src], [T(shape, "int8", 1 / 256, -128)])


def fan_model() -> bytes:
    """Graph inputs x and z; results of one shape and quantization are joined by a PACK or a
    CONCATENATION into one graph output (14 in all)."""
    g = _Graph()
    x = g.tensor(T(X_SHAPE, "int8", *XQ, name="x"))
    z = g.tensor(T(Z_SHAPE, "int8", *ZQ, name="z"))
    (relu_x,) = g.op("RELU", [x], [T(X_SHAPE, "int8", *XQ)], graph_output=False)
    # x * -1 in x's quantization: a MUL by a constant -1 (NEG has no int8 kernel in TFLite Micro)
    minus_one = g.tensor(T((1,), "int8", 1.0, 0, data=np.array([-1], np.int8)))
    (neg_x,) = g.op("MUL", [x, minus_one], [T(X_SHAPE, "int8", *XQ)], options("MulOptions"), graph_output=False)
    # an update of 2 x 3 pixels whose start (H 3, W 4) is clamped to (2, 3), as TFLite Micro does
    update = g.const(np.arange(-48, 48, 2).reshape(1, 2, 3, 8), "int8", XQ)
    (updated,) = g.op("DYNAMIC_UPDATE_SLICE", [x, update, g.const([0, 3, 4, 0])], [T(X_SHAPE, "int8", *XQ)],
                      graph_output=False)
    joined = [relu_x, neg_x, updated, *_compare_select(g, x, relu_x, neg_x), *_split_parts(g, x)]
    g.op("PACK", joined, [T((len(joined), *X_SHAPE), "int8", *XQ)], options("PackOptions", valuesCount=len(joined)))
    _layout(g, x, neg_x)
    _activations(g, x, X_SHAPE)
    _activations(g, z, Z_SHAPE)
    g.op("RELU", [z], [T(Z_SHAPE, "int8", 0.02, -128)])
    rows = g.op("EMBEDDING_LOOKUP", [g.const([2, 0, 2, 1]), z], [T((4, 17), "int8", *ZQ)], graph_output=False)
    rows += g.op("GATHER_ND", [z, g.const([[2], [0]])], [T((2, 17), "int8", *ZQ)], graph_output=False)
    g.op("CONCATENATION", rows, [T((6, 17), "int8", *ZQ)], options("ConcatenationOptions", axis=0))
    return build(g.tensors, g.ops, [x, z], g.outputs)


def device_models() -> dict[str, bytes]:
    return {"fan": fan_model()}
