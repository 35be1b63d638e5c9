"""Operators for the on-device spread model (tests/test_kernels_on_device.py) that fan out from
shared graph inputs: the firmware's protocol takes at most 255 graph inputs and the spread model
already has ~246, so these operators read one or two inputs between them instead of one each.

Covered here (each also has its single-operator host tests, named in the module docstrings):
the six int8 comparisons, each feeding a SELECT_V2 (bool tensors inside the graph, broadcast
conditions and values, LOGICAL_AND / LOGICAL_OR / LOGICAL_NOT between), L2_NORMALIZATION,
GATHER_ND, EMBEDDING_LOOKUP, DYNAMIC_UPDATE_SLICE, CUMSUM, ADD_N, CONCATENATION, PACK, UNPACK,
SPLIT, SPLIT_V, PAD, PADV2, CAST and the int8 activations RELU, RELU6, HARD_SWISH, LOGISTIC, TANH
(the spread model's other branches have their int16 forms only).

Quantizations: x is (0.05, -3); z sits on the boundary zero point 127 (its rows are mostly
negative values), so that saturation, the zero point's extremes and the comparisons' rescaling
of two different scales are all on the device.
"""

from __future__ import annotations

import numpy as np
from tflite_builder import Op, T, build, options

X_SHAPE = (1, 4, 6, 8)
XQ = (0.05, -3)
Y_SHAPE = (1, 1, 6, 8)  # broadcast against x along H
YQ = (0.07, 10)
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


def _compare_select(g: _Graph, x: int, y: int, relu_x: int, neg_x: int) -> list[int]:
    """Every comparison -> SELECT_V2, two of them through LOGICAL_AND / LOGICAL_OR / LOGICAL_NOT.
    EQUAL / NOT_EQUAL compare x with max(x, zero point) in the same quantization (equal on about
    half the elements, so both outcomes occur); the others compare x with y in another
    quantization, broadcast along H, and select between x and values in x's quantization (a
    broadcast row, a scalar, another tensor). Returns the selections."""
    row = g.const(np.arange(-60, 60, 15).reshape(1, 1, 1, 8), "int8", XQ)
    scalar = g.tensor(T((), "int8", *XQ, data=np.array(-77, np.int8)))
    pairs = {"EQUAL": (x, relu_x), "NOT_EQUAL": (relu_x, x), "GREATER": (x, y), "GREATER_EQUAL": (y, x),
             "LESS": (x, y), "LESS_EQUAL": (y, x)}
    values = {"EQUAL": (x, neg_x), "NOT_EQUAL": (neg_x, row), "GREATER": (x, scalar), "GREATER_EQUAL": (row, x),
              "LESS": (scalar, neg_x), "LESS_EQUAL": (x, neg_x)}
    cond = {opcode: g.op(opcode, list(pairs[opcode]), [T(X_SHAPE, "bool")], graph_output=False)[0]
            for opcode in COMPARISONS}
    (not_eq,) = g.op("LOGICAL_NOT", [cond["EQUAL"]], [T(X_SHAPE, "bool")], graph_output=False)
    (cond["GREATER"],) = g.op("LOGICAL_AND", [cond["GREATER"], cond["NOT_EQUAL"]], [T(X_SHAPE, "bool")],
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
    g.op("ADD_N", [x, neg_x, x], [T(X_SHAPE, "int8", 0.08, 20)])
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
    g.op("CUMSUM", [x, g.const(np.array(-2))], [T(X_SHAPE, "int8", 0.2, -7)],
         options("CumsumOptions", exclusive=True, reverse=True))


def _activations(g: _Graph, src: int, shape: tuple[int, ...], q: tuple[float, int]) -> None:
    g.op("RELU6", [src], [T(shape, "int8", 0.03, -128)])
    g.op("HARD_SWISH", [src], [T(shape, "int8", 0.04, -110)])
    g.op("LOGISTIC", [src], [T(shape, "int8", 1 / 256, -128)])
    # TANH and L2_NORMALIZATION both write (1/128, 0): one output for the two
    both = g.op("TANH", [src], [T(shape, "int8", 1 / 128, 0)], graph_output=False)
    both += g.op("L2_NORMALIZATION", [src], [T(shape, "int8", 1 / 128, 0)], options("L2NormOptions"),
                 graph_output=False)
    wide = (*shape[:-1], 2 * shape[-1])
    g.op("CONCATENATION", both, [T(wide, "int8", 1 / 128, 0)], options("ConcatenationOptions", axis=-1))


def fan_model() -> bytes:
    """Graph inputs x, y, z; about 45 operators reading them, 17 graph outputs (the protocol also
    takes at most 255 outputs): results of one shape and quantization are joined by a PACK or a
    CONCATENATION (which are on the device themselves then)."""
    g = _Graph()
    x = g.tensor(T(X_SHAPE, "int8", *XQ, name="x"))
    y = g.tensor(T(Y_SHAPE, "int8", *YQ, name="y"))
    z = g.tensor(T(Z_SHAPE, "int8", *ZQ, name="z"))
    (relu_x,) = g.op("RELU", [x], [T(X_SHAPE, "int8", *XQ)], graph_output=False)
    # x * -1 in x's quantization: a MUL by a constant -1 (NEG has no int8 kernel in TFLite Micro)
    minus_one = g.tensor(T((1,), "int8", 1.0, 0, data=np.array([-1], np.int8)))
    (neg_x,) = g.op("MUL", [x, minus_one], [T(X_SHAPE, "int8", *XQ)], options("MulOptions"), graph_output=False)
    # an update of 2 x 3 pixels whose start (H 3, W 4) is clamped to (2, 3), as TFLite Micro does
    update = g.const(np.arange(-48, 48, 2).reshape(1, 2, 3, 8), "int8", XQ)
    (updated,) = g.op("DYNAMIC_UPDATE_SLICE", [x, update, g.const([0, 3, 4, 0])], [T(X_SHAPE, "int8", *XQ)],
                      graph_output=False)
    joined = [relu_x, neg_x, updated, *_compare_select(g, x, y, relu_x, neg_x), *_split_parts(g, x)]
    g.op("PACK", joined, [T((len(joined), *X_SHAPE), "int8", *XQ)], options("PackOptions", valuesCount=len(joined)))
    _layout(g, x, neg_x)
    _activations(g, x, X_SHAPE, XQ)
    _activations(g, z, Z_SHAPE, ZQ)
    g.op("RELU", [z], [T(Z_SHAPE, "int8", 0.02, -128)])
    rows = g.op("EMBEDDING_LOOKUP", [g.const([2, 0, 2, 1]), z], [T((4, 17), "int8", *ZQ)], graph_output=False)
    rows += g.op("GATHER_ND", [z, g.const([[2], [0]])], [T((2, 17), "int8", *ZQ)], graph_output=False)
    g.op("CONCATENATION", rows, [T((6, 17), "int8", *ZQ)], options("ConcatenationOptions", axis=0))
    return build(g.tensors, g.ops, [x, y, z], g.outputs)


def device_models() -> dict[str, bytes]:
    return {"fan": fan_model()}
