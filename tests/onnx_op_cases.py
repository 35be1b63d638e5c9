"""Every ONNX operator mcuforge reads (issue 12, item 2), each as a small float model quantized by
onnxruntime's own quantizer in several flavours, and all of them merged side by side into ONE
quantized model: a host build per kernel path and a firmware per board then run them all.

A case is a float graph (usually x0 -> 1x1 Conv -> the operator, so the operator reads a quantized
activation as it does in a real network) and the largest difference allowed from onnxruntime, in
output quantization steps: 0 where onnxruntime runs an integer kernel (convolutions, matrix
products, Add / Mul, pooling, Concat, layout, Resize) or a float chain mcuforge reproduces exactly
(linear Resize between DequantizeLinear and QuantizeLinear), 1 where it computes a transcendental
function or another float operator between DequantizeLinear and QuantizeLinear (Sigmoid, Tanh,
Softmax, ConvTranspose ...).

Flavours (pairwise cover: each of QDQ / QOperator, int8 / uint8 activations and per-tensor /
per-channel weights meets each value of the other two): QDQ int8 per-channel, QDQ uint8
per-tensor, QOperator int8 per-tensor, QOperator uint8 per-channel. Weights are int8 with
reduce_range (7 bits): onnxruntime's AVX2 u8s8 kernels without VNNI add pairs of products in
saturating int16, and full-range weights would make its own result inexact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import compose, helper
from onnx_builder import float_model, node, quantize

OPSET = 14  # HardSwish needs 14; every case uses the same opset so the merged model has one
FLAVOURS: dict[str, tuple[str, str, bool]] = {
    "qdq_s8_pc": ("qdq", "int8", True),
    "qdq_u8_pt": ("qdq", "uint8", False),
    "qop_s8_pt": ("qoperator", "int8", False),
    "qop_u8_pc": ("qoperator", "uint8", True),
}
QDQ = ("qdq_s8_pc", "qdq_u8_pt")  # operators onnxruntime's quantizer writes only in QDQ form
QOP = ("qop_s8_pt", "qop_u8_pc")
# Operators without weights and without a QOperator node of their own take two flavours, one QDQ and
# one QOperator, one int8 and one uint8, alternating between the two pairs from case to case.
PAIR_A = ("qdq_s8_pc", "qop_u8_pc")
PAIR_B = ("qdq_u8_pt", "qop_s8_pt")


@dataclass
class Case:
    name: str
    build: Callable[[np.random.Generator], onnx.ModelProto]
    steps: int = 0  # largest difference from onnxruntime allowed, in output quantization steps
    expose: bool = False  # the graph output is the input of the last Conv (see expose_input_of_last)
    op_types: Sequence[str] | None = None  # quantize only these (binary operators on graph inputs)
    flavours: Sequence[str] = field(default_factory=lambda: list(FLAVOURS))
    extra_options: dict | None = None  # the quantizer's


def _w(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.normal(0, 0.5, size=shape).astype(np.float32)


def _one(op: str, ins: dict, out: tuple, inits: dict, const: Sequence[str] = (), **attrs) -> onnx.ModelProto:
    n = node(op, [*ins, *const], ["y"], **attrs)
    return float_model([n], ins, {"y": out}, inits, opset=OPSET)


def _after_conv(rng: np.random.Generator, nodes: list, in_shape: tuple, out_shape: tuple,
                inits: dict | None = None, tail: bool = False) -> onnx.ModelProto:
    """x0 -> 1x1 Conv -> c -> nodes -> y; with `tail`, the nodes end in `e` and a last 1x1 Conv makes y
    (the quantizer then wraps them in Q / DQ; the test reads e through expose_input_of_last)."""
    c = in_shape[1]
    first = node("Conv", ["x0", "cw", "cb"], ["c"])
    inits = {"cw": _w(rng, c, c, 1, 1), "cb": _w(rng, c), **(inits or {})}
    nodes = list(nodes)
    if tail:
        e_shape = out_shape
        inits.update(cw2=_w(rng, e_shape[1], e_shape[1], 1, 1), cb2=_w(rng, e_shape[1]))
        nodes.append(node("Conv", ["e", "cw2", "cb2"], ["y"]))
    return float_model([first, *nodes], {"x0": in_shape}, {"y": out_shape}, inits, opset=OPSET)


def _unary(op: str, steps: int = 1, shape: tuple = (1, 3, 4, 5), **attrs) -> Case:
    return Case(op.lower(), lambda r: _after_conv(r, [node(op, ["c"], ["e"], **attrs)], shape, shape, tail=True),
                steps=steps, expose=True)


def _softmax(op: str, axis: int) -> Case:
    shape = (1, 4, 3, 5)
    return Case(f"{op.lower()}_axis{axis}".replace("-", "m"),
                lambda r: _after_conv(r, [node(op, ["c"], ["e"], axis=axis)], shape, shape, tail=True),
                steps=1, expose=True)


def _binary(op: str, a: tuple, b: tuple, suffix: str = "", flavours: Sequence[str] = tuple(FLAVOURS)) -> Case:
    out = tuple(np.broadcast_shapes(a, b))
    return Case(op.lower() + suffix, lambda r: _one(op, {"x0": a, "x1": b}, out, {}), op_types=[op],
                flavours=flavours)


def _layout(name: str, nodes: list, in_shape: tuple, out_shape: tuple, inits: dict | None = None,
            steps: int = 0) -> Case:
    return Case(name, lambda r: _after_conv(r, nodes, in_shape, out_shape, inits), steps=steps)


KEEP = {"QDQKeepRemovableActivations": True}
_W23 = np.array([[0.3, -0.4, 0.2], [0.5, 0.1, -0.3], [-0.2, 0.6, 0.4], [0.1, -0.5, 0.3]], np.float32)


def _i64(*v: int) -> np.ndarray:
    return np.array(v, np.int64)


CASES: list[Case] = [
    # convolutions
    Case("conv", lambda r: _one("Conv", {"x0": (1, 3, 7, 7)}, (1, 6, 4, 4), {"w": _w(r, 6, 3, 3, 3), "b": _w(r, 6)},
                                ["w", "b"], pads=[1, 0, 1, 2], strides=[2, 2])),
    Case("conv_same_upper_relu", lambda r: float_model(
        [node("Conv", ["x0", "w", "b"], ["c"], auto_pad="SAME_UPPER", strides=[2, 2]), node("Relu", ["c"], ["y"])],
        {"x0": (1, 4, 7, 7)}, {"y": (1, 5, 4, 4)}, {"w": _w(r, 5, 4, 4, 4), "b": _w(r, 5)}, opset=OPSET)),
    Case("conv_dilated", lambda r: _one("Conv", {"x0": (1, 3, 6, 6)}, (1, 4, 6, 6),
                                        {"w": _w(r, 4, 3, 3, 3), "b": _w(r, 4)}, ["w", "b"], pads=[2, 2, 2, 2],
                                        dilations=[2, 2])),
    Case("depthwise", lambda r: _one("Conv", {"x0": (1, 4, 5, 5)}, (1, 8, 5, 5), {"w": _w(r, 8, 1, 3, 3),
                                     "b": _w(r, 8)}, ["w", "b"], pads=[1, 1, 1, 1], group=4)),
    Case("conv_grouped", lambda r: _one("Conv", {"x0": (1, 6, 5, 5)}, (1, 4, 5, 5), {"w": _w(r, 4, 3, 3, 3),
                                        "b": _w(r, 4)}, ["w", "b"], pads=[1, 1, 1, 1], group=2)),
    Case("conv_transpose", lambda r: _after_conv(
        r, [node("ConvTranspose", ["c", "tw", "tb"], ["e"], strides=[2, 2], pads=[1, 1, 0, 0])], (1, 3, 4, 4),
        (1, 2, 8, 8), {"tw": _w(r, 3, 2, 3, 3), "tb": _w(r, 2)}, tail=True), steps=1, expose=True),
    # matrix products
    Case("gemm", lambda r: _one("Gemm", {"x0": (2, 16)}, (2, 10), {"w": _w(r, 10, 16), "b": _w(r, 10)}, ["w", "b"],
                                transB=1)),
    Case("matmul", lambda r: _one("MatMul", {"x0": (3, 12)}, (3, 7), {"w": _w(r, 12, 7)}, ["w"])),
    Case("matmul_two_inputs", lambda r: _one("MatMul", {"x0": (2, 3, 8), "x1": (2, 8, 5)}, (2, 3, 5), {}),
         op_types=["MatMul"]),
    # element-wise binary
    _binary("Add", (1, 3, 4, 4), (1, 3, 4, 4)),
    _binary("Add", (1, 3, 4, 4), (1, 3, 1, 1), "_broadcast"),
    _binary("Sub", (1, 3, 4, 4), (1, 3, 4, 4), flavours=QDQ),
    # onnxruntime's quantizer has no QOperator Sub: it stays a float Sub between DequantizeLinear and
    # QuantizeLinear, which onnxruntime computes in float32 (and mcuforge as the same float32 chain)
    Case("sub_of_halves", lambda r: _after_conv(r, [node("Split", ["c"], ["h1", "h2"], axis=1),
                                                    node("Sub", ["h1", "h2"], ["e"])], (1, 4, 3, 3), (1, 2, 3, 3),
                                                tail=True), expose=True, flavours=QOP),
    _binary("Mul", (1, 3, 4, 4), (1, 3, 4, 4)),
    _binary("Mul", (1, 1, 1, 1), (1, 3, 4, 4), "_broadcast"),
    # activations (Relu and Clip keep exact ranges; the rest are tables of onnxruntime's float32)
    # (the quantizer drops a Relu / Clip after a quantized operator, its range then the output range,
    # unless told to keep it: QDQ keeps DequantizeLinear -> Relu -> QuantizeLinear, QOperator drops it)
    Case("relu", lambda r: _after_conv(r, [node("Relu", ["c"], ["y"])], (1, 3, 4, 5), (1, 3, 4, 5)),
         extra_options=KEEP),
    Case("clip", lambda r: _after_conv(r, [node("Clip", ["c", "lo", "hi"], ["y"])], (1, 2, 4, 4), (1, 2, 4, 4),
                                       {"lo": np.float32(-0.5), "hi": np.float32(0.25)}), extra_options=KEEP),
    _unary("LeakyRelu", alpha=0.1),
    _unary("Sigmoid"),
    _unary("HardSigmoid"),
    _unary("HardSwish"),
    _unary("Tanh"),
    Case("prelu_one_slope", lambda r: _after_conv(r, [node("PRelu", ["c", "slope"], ["e"])], (1, 2, 4, 4),
                                                  (1, 2, 4, 4), {"slope": np.array([0.25], np.float32)}, tail=True),
         steps=1, expose=True),
    Case("prelu_per_channel", lambda r: _after_conv(
        r, [node("PRelu", ["c", "slope"], ["e"])], (1, 3, 4, 4), (1, 3, 4, 4),
        {"slope": np.array([0.25, -0.5, 1.75], np.float32).reshape(3, 1, 1)}, tail=True), expose=True),
    _softmax("Softmax", 1),
    _softmax("Softmax", -1),
    _softmax("Softmax", 2),
    _softmax("LogSoftmax", 1),
    _softmax("LogSoftmax", -1),
    # pooling and reductions
    _layout("maxpool", [node("MaxPool", ["c"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 1, 1, 0])],
            (1, 3, 8, 8), (1, 3, 4, 4)),
    _layout("maxpool_ceil", [node("MaxPool", ["c"], ["y"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)],
            (1, 3, 8, 8), (1, 3, 4, 4)),
    _layout("avgpool_exclude_pad", [node("AveragePool", ["c"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                         strides=[2, 2])], (1, 4, 6, 6), (1, 4, 3, 3)),
    _layout("avgpool_include_pad_ceil", [node("AveragePool", ["c"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                              strides=[2, 2], count_include_pad=1, ceil_mode=1)],
            (1, 4, 6, 6), (1, 4, 4, 4)),
    _layout("global_avgpool", [node("GlobalAveragePool", ["c"], ["y"])], (1, 5, 4, 4), (1, 5, 1, 1)),
    _layout("global_maxpool", [node("GlobalMaxPool", ["c"], ["y"])], (1, 5, 4, 4), (1, 5, 1, 1)),
    Case("reduce_mean", lambda r: _after_conv(r, [node("ReduceMean", ["c"], ["e"], axes=[2, 3], keepdims=1)],
                                              (1, 3, 4, 4), (1, 3, 1, 1), tail=True), expose=True),
    # layout
    Case("flatten_gemm", lambda r: _after_conv(
        r, [node("Flatten", ["c"], ["f"]), node("Gemm", ["f", "w2", "b2"], ["y"], transB=1)], (1, 2, 3, 3), (1, 5),
        {"w2": _w(r, 5, 18), "b2": _w(r, 5)})),
    _layout("reshape", [node("Reshape", ["c", "shape"], ["y"])], (1, 3, 4, 4), (1, 6, 8), {"shape": _i64(1, 6, 8)}),
    _layout("transpose", [node("Transpose", ["c"], ["y"], perm=[0, 2, 3, 1])], (1, 3, 4, 5), (1, 4, 5, 3)),
    _layout("squeeze_unsqueeze_identity", [
        node("GlobalAveragePool", ["c"], ["g"]), node("Squeeze", ["g", "hw"], ["s"]),
        node("Unsqueeze", ["s", "one"], ["u"]), node("Squeeze", ["u", "one"], ["s2"]),
        node("Identity", ["s2"], ["i"]), node("Gemm", ["i", "w2", "b2"], ["y"])], (1, 4, 3, 3), (1, 3),
        {"hw": _i64(2, 3), "one": _i64(1), "w2": _W23, "b2": np.array([0.1, -0.2, 0.05], np.float32)}),
    Case("concat_two_scales", lambda r: float_model(
        [node("Conv", ["x0", "w1", "b1"], ["a"]), node("Conv", ["x0", "w2", "b2"], ["b"]),
         node("Concat", ["a", "b"], ["y"], axis=1)], {"x0": (1, 2, 3, 3)}, {"y": (1, 5, 3, 3)},
        {"w1": _w(r, 2, 2, 1, 1), "b1": _w(r, 2), "w2": 3 * _w(r, 3, 2, 1, 1), "b2": _w(r, 3)}, opset=OPSET)),
    _layout("split_slice", [node("Split", ["c"], ["s1", "s2"], axis=1),
                            node("Slice", ["s2", "st", "en", "ax"], ["y"])], (1, 4, 5, 5), (1, 2, 3, 5),
            {"st": _i64(1), "en": _i64(4), "ax": _i64(2)}),
    _layout("slice_negative_steps", [node("Slice", ["c", "st", "en", "ax", "sp"], ["y"])], (1, 3, 5, 6),
            (1, 3, 2, 6), {"st": _i64(-1, 3), "en": _i64(-(2**63), 0), "ax": _i64(3, 2), "sp": _i64(-1, -2)}),
    _layout("pad_constant", [node("Pad", ["c", "p"], ["y"])], (1, 3, 4, 4), (1, 3, 5, 7),
            {"p": _i64(0, 0, 1, 2, 0, 0, 0, 1)}),
    _layout("pad_reflect", [node("Pad", ["c", "p"], ["y"], mode="reflect")], (1, 3, 5, 5), (1, 3, 7, 8),
            {"p": _i64(0, 0, 1, 2, 0, 0, 1, 1)}),
    _layout("resize_nearest_asymmetric", [node("Resize", ["c", "", "sc"], ["y"], mode="nearest",
                                               coordinate_transformation_mode="asymmetric", nearest_mode="floor")],
            (1, 2, 4, 4), (1, 2, 8, 8), {"sc": np.array([1, 1, 2, 2], np.float32)}),
    _layout("resize_nearest", [node("Resize", ["c", "", "sc"], ["y"], mode="nearest")], (1, 2, 4, 4), (1, 2, 8, 8),
            {"sc": np.array([1, 1, 2, 2], np.float32)}),
    _layout("resize_linear", [node("Resize", ["c", "", "sc"], ["y"], mode="linear")], (1, 2, 4, 4), (1, 2, 8, 8),
            {"sc": np.array([1, 1, 2, 2], np.float32)}),
    _layout("resize_linear_align_corners", [node("Resize", ["c", "", "sc"], ["y"], mode="linear",
                                                 coordinate_transformation_mode="align_corners")],
            (1, 2, 4, 4), (1, 2, 8, 8), {"sc": np.array([1, 1, 2, 2], np.float32)}),
    # constant folding: x.view(x.size(0), -1) as torch.onnx.export writes it
    _layout("shape_gather_reshape", [
        node("Shape", ["c"], ["s"]), node("Gather", ["s", "zero"], ["n"], axis=0),
        node("Unsqueeze", ["n", "axes"], ["n1"]), node("Concat", ["n1", "minus1"], ["shape"], axis=0),
        node("Reshape", ["c", "shape"], ["y"])], (1, 2, 3, 3), (1, 18),
        {"zero": np.array(0, np.int64), "axes": _i64(0), "minus1": _i64(-1)}),
]


# Every flavour where onnxruntime has a QOperator node (QLinearConv, QGemm, QLinearMatMul, QLinearAdd,
# QLinearMul, QLinearAveragePool, QLinearGlobalAveragePool, QLinearConcat, QLinearSigmoid,
# QLinearLeakyRelu) or weights are quantized per tensor or per channel.
ALL_FLAVOURS = {"conv", "conv_same_upper_relu", "conv_dilated", "depthwise", "conv_grouped", "gemm", "matmul",
                "matmul_two_inputs", "add", "add_broadcast", "mul", "mul_broadcast", "leakyrelu", "sigmoid",
                "avgpool_exclude_pad", "avgpool_include_pad_ceil", "global_avgpool", "concat_two_scales",
                "flatten_gemm", "softmax_axis1", "softmax_axism1", "softmax_axis2"}
# QDQ only: in QOperator form onnxruntime's quantizer leaves ConvTranspose's weights in float (a float
# convolution mcuforge does not compute).
QDQ_ONLY = {"conv_transpose"}


def _assign_flavours(cases: list[Case]) -> None:
    pairs = [PAIR_A, PAIR_B]
    k = 0
    for case in cases:
        if case.name in QDQ_ONLY:
            case.flavours = QDQ
        elif case.name not in ALL_FLAVOURS and list(case.flavours) == list(FLAVOURS):
            case.flavours = pairs[k % 2]
            k += 1


_assign_flavours(CASES)


def expose_input_of_last_conv(model: bytes, shape: Sequence[int]) -> bytes:
    """The quantized model with one float output of `shape`: the input of its last Conv /
    QLinearConv (that Conv and what only it fed are dropped). The quantizer leaves operators it has no
    quantized kernel for (Tanh, HardSwish, ReduceMean, ...) unquantized at a graph output, but wraps
    them in Q / DQ when a quantized operator reads them. A QLinearConv's input is integer: a
    DequantizeLinear with its scale and zero point is added."""
    m = onnx.load_from_string(model)
    last = [n for n in m.graph.node if n.op_type in ("Conv", "QLinearConv")][-1]
    name = last.input[0]
    nodes = list(m.graph.node)[:list(m.graph.node).index(last)]
    if last.op_type == "QLinearConv":
        nodes.append(helper.make_node("DequantizeLinear", [name, last.input[1], last.input[2]], ["exposed"]))
        name = "exposed"
    needed, kept = {name}, []
    for n in reversed(nodes):
        if needed & set(n.output):
            kept.append(n)
            needed.update(n.input)
    del m.graph.node[:]
    m.graph.node.extend(reversed(kept))
    inits = [t for t in m.graph.initializer if t.name in needed]
    del m.graph.initializer[:]
    m.graph.initializer.extend(inits)
    del m.graph.value_info[:]
    del m.graph.output[:]
    m.graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, list(shape)))
    return m.SerializeToString()


def quantized_case(case: Case, flavour: str, seed: int) -> bytes:
    fmt, act, per_channel = FLAVOURS[flavour]
    model = case.build(np.random.default_rng(seed))
    # calibrated on data of its own: no two branches quantize a shared input alike (onnxruntime
    # would merge their QuantizeLinear / DequantizeLinear nodes into one read by both)
    q = quantize(model, fmt, act, per_channel, reduce_range=True, seed=seed * 8 + list(FLAVOURS).index(flavour),
                 low=-1.5, high=1.5, op_types=case.op_types, extra_options=case.extra_options)
    if not case.expose:
        return q
    inferred = onnx.shape_inference.infer_shapes(model).graph.value_info
    shape = next([d.dim_value for d in v.type.tensor_type.shape.dim] for v in inferred if v.name == "e")
    return expose_input_of_last_conv(q, shape)


def merge(models: dict[str, bytes]) -> bytes:
    """Quantized models side by side in one graph, every name prefixed with its key + "_". Graph inputs
    of the same name and shape are one input of the merged graph (each branch still quantizes it
    with its own QuantizeLinear): fewer inputs to send to a device."""
    parts = [compose.add_prefix(onnx.load_from_string(m), prefix=f"{k}_") for k, m in models.items()]
    opsets: dict[str, int] = {}
    inputs: dict[str, onnx.ValueInfoProto] = {}
    for key, p in zip(models, parts, strict=True):
        for o in p.opset_import:
            opsets[o.domain] = max(opsets.get(o.domain, 0), o.version)
        inits = {t.name for t in p.graph.initializer}
        rename = {}
        for vi in p.graph.input:
            if vi.name in inits:
                continue
            dims = "x".join(str(d.dim_value) for d in vi.type.tensor_type.shape.dim)
            shared = f"{vi.name[len(key) + 1:]}_{dims}"
            rename[vi.name] = shared
            if shared not in inputs:
                inputs[shared] = helper.make_tensor_value_info(shared, vi.type.tensor_type.elem_type,
                                                               [d.dim_value for d in vi.type.tensor_type.shape.dim])
        for n in p.graph.node:
            n.input[:] = [rename.get(x, x) for x in n.input]
    graph = helper.make_graph(
        [n for p in parts for n in p.graph.node], "onnx_ops", list(inputs.values()),
        [o for p in parts for o in p.graph.output],
        initializer=[t for p in parts for t in p.graph.initializer],
        value_info=[v for p in parts for v in p.graph.value_info])
    merged = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()],
                               producer_name="mcuforge-tests")
    merged.ir_version = max(p.ir_version for p in parts)
    onnx.checker.check_model(merged)
    return merged.SerializeToString()


def branch_models(cases: Sequence[Case] = CASES) -> dict[str, tuple[Case, bytes]]:
    """{"case__flavour": (case, quantized model)} for every case and each of its flavours."""
    out = {}
    for k, case in enumerate(cases):
        for flavour in case.flavours:
            out[f"{case.name}__{flavour}"] = (case, quantized_case(case, flavour, seed=k))
    return out
