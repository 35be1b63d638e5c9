"""Single-operator ONNX models, quantized by onnxruntime, compiled to C and run on the host against
onnxruntime (CPU provider, default session options).

Integer operators (Conv, Gemm, MatMul, pooling, layout) must be bit-exact; those that onnxruntime
computes in float between DequantizeLinear and QuantizeLinear (Sigmoid, Tanh, ...) may differ by
one quantization step. The host builds use -O0: IEEE single precision and integer arithmetic give
the same results at any optimisation level, and the tests stay fast.

Convolutions and matrix products are quantized with reduce_range (7-bit weights): without VNNI,
onnxruntime's AVX2 u8s8 kernel adds pairs of products in saturating int16 (vpmaddubsw), which
full-range weights overflow, so onnxruntime's own result is then not the exact integer convolution.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx_builder import calibration_data, float_model, input_names, node, quantize, run_ort, single_op

from mcuforge.generator.codegen import generate
from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends.onnx import parse_model
from mcuforge.generator.hostbuild import HostModel

logging.getLogger().setLevel(logging.ERROR)  # the quantizer's advice to pre-process models

RNG = np.random.default_rng(1234)


def _w(*shape: int) -> np.ndarray:
    return RNG.normal(0, 0.5, size=shape).astype(np.float32)


def check(model: bytes, steps: int = 0, count: int = 3, paths: tuple[tuple[str, ...], ...] = (("-O0",),)) -> list[str]:
    """Compile, run `count` random inputs on the host build and in onnxruntime; the largest
    difference (in output quantization steps) must be at most `steps`. Returns the IR opcodes."""
    import onnx

    graph = parse_model(model, name="test.onnx")
    opcodes = [op.opcode for op in graph.operators]
    lib = generate(compile_graph(graph), "model")
    names = input_names(model)
    data = calibration_data(onnx.load_from_string(model), count, seed=7, low=-1.2, high=1.2)
    for flags in paths:
        with HostModel(lib, extra_flags=flags) as host:
            got = host.run([[d[n] for n in names] for d in data])
        for d, outs in zip(data, got, strict=True):
            want = run_ort(model, d)
            for k, (g, w) in enumerate(zip(outs, want, strict=True)):
                scale = graph.tensors[graph.operators[_producer(graph, graph.outputs[k])].inputs[0]].scale
                diff = np.abs(g.astype(np.float64) - w.reshape(g.shape).astype(np.float64)) / scale
                assert float(diff.max(initial=0)) <= steps + 1e-3, (flags, opcodes, float(diff.max()))
    return opcodes


def _producer(graph, t: int) -> int:
    return next(op.index for op in graph.operators if t in op.outputs)


def after_conv(nodes: list, in_shape: tuple[int, ...], out_shape: tuple[int, ...],
               inits: dict | None = None, opset: int = 13):
    """x0 -> 1x1 Conv (so the operator under test reads a quantized activation) -> nodes -> y."""
    c = in_shape[1]
    first = node("Conv", ["x0", "cw", "cb"], ["c"])
    return float_model([first, *nodes], {"x0": in_shape}, {"y": out_shape},
                       {"cw": _w(c, c, 1, 1), "cb": _w(c), "cw2": _w(c, c, 1, 1), "cb2": _w(c), **(inits or {})},
                       opset=opset)


def expose_input_of_last(model: bytes, shape: tuple[int, ...], op_type: str = "Conv") -> bytes:
    """The quantized model with one output: the (dequantized) input of its last `op_type` node. The
    quantizer leaves operators it has no quantized kernel for (Tanh, HardSwish, ReduceMean, ...)
    unquantized at a graph output, but wraps them in Q/DQ when a quantized operator reads them."""
    import onnx

    m = onnx.load_from_string(model)
    last = [n for n in m.graph.node if n.op_type == op_type][-1]
    name = last.input[0]
    del m.graph.output[:]
    m.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, list(shape)))
    return m.SerializeToString()


FORMATS = [("qdq", "int8", True), ("qdq", "uint8", False), ("qoperator", "int8", True),
           ("qoperator", "uint8", False)]
IDS = ["qdq-s8-perchannel", "qdq-u8-pertensor", "qop-s8-perchannel", "qop-u8-pertensor"]


@pytest.mark.parametrize(("fmt", "act", "pc"), FORMATS, ids=IDS)
def test_conv(fmt, act, pc):
    m = single_op("Conv", [(1, 3, 9, 9)], (1, 6, 5, 5), {"w": _w(6, 3, 3, 3), "b": _w(6)}, ["w", "b"],
                  pads=[1, 0, 1, 2], strides=[2, 2])
    ops = check(quantize(m, fmt, act, pc, reduce_range=True))
    assert ops.count("TRANSPOSE") == 2 and "CONV_2D" in ops


def test_conv_same_upper_relu():
    n = [node("Conv", ["x0", "w", "b"], ["c"], auto_pad="SAME_UPPER", strides=[2, 2]), node("Relu", ["c"], ["y"])]
    m = float_model(n, {"x0": (1, 4, 8, 8)}, {"y": (1, 5, 4, 4)}, {"w": _w(5, 4, 4, 4), "b": _w(5)})
    check(quantize(m, "qdq", "uint8", True, reduce_range=True))


def test_conv_dilated_relu():
    n = [node("Conv", ["x0", "w", "b"], ["c"], pads=[2, 2, 2, 2], dilations=[2, 2]),
         node("Relu", ["c"], ["y"])]
    m = float_model(n, {"x0": (1, 4, 8, 8)}, {"y": (1, 5, 8, 8)}, {"w": _w(5, 4, 3, 3), "b": _w(5)})
    ops = check(quantize(m, "qdq", "int8", True, reduce_range=True))
    assert "LOOKUP_TABLE" not in ops  # the Relu is the output range (Q zero point -128)


@pytest.mark.parametrize(("fmt", "act", "pc"), FORMATS[:3], ids=IDS[:3])
def test_depthwise(fmt, act, pc):
    m = single_op("Conv", [(1, 4, 7, 7)], (1, 8, 7, 7), {"w": _w(8, 1, 3, 3), "b": _w(8)}, ["w", "b"],
                  pads=[1, 1, 1, 1], group=4)
    assert "DEPTHWISE_CONV_2D" in check(quantize(m, fmt, act, pc, reduce_range=True))


@pytest.mark.parametrize(("fmt", "act", "pc"), FORMATS, ids=IDS)
def test_gemm(fmt, act, pc):
    m = single_op("Gemm", [(2, 16)], (2, 10), {"w": _w(10, 16), "b": _w(10)}, ["w", "b"], transB=1)
    assert "FULLY_CONNECTED" in check(quantize(m, fmt, act, pc, reduce_range=True))


@pytest.mark.parametrize("fmt", ["qdq", "qoperator"])
def test_matmul(fmt):
    m = single_op("MatMul", [(3, 12)], (3, 7), {"w": _w(12, 7)}, ["w"])
    assert "FULLY_CONNECTED" in check(quantize(m, fmt, "int8", False, reduce_range=True))


def test_conv_flatten_gemm_keeps_pytorch_order():
    n = [node("Conv", ["x0", "w", "b"], ["c"], pads=[1, 1, 1, 1]), node("Flatten", ["c"], ["f"]),
         node("Gemm", ["f", "w2", "b2"], ["y"], transB=1)]
    m = float_model(n, {"x0": (1, 2, 4, 4)}, {"y": (1, 5)},
                    {"w": _w(3, 2, 3, 3), "b": _w(3), "w2": _w(5, 48), "b2": _w(5)})
    ops = check(quantize(m, "qdq", "int8", True, reduce_range=True))
    assert ops.count("TRANSPOSE") == 2  # the input's, and the one constfold moves into the weights


@pytest.mark.parametrize(("op", "fmt", "act"), [("Add", "qdq", "int8"), ("Mul", "qdq", "uint8"),
                                                ("Sub", "qdq", "int8"), ("Add", "qoperator", "uint8"),
                                                ("Mul", "qoperator", "int8")])
def test_binary(op, fmt, act):
    m = single_op(op, [(1, 3, 4, 4), (1, 3, 4, 4)], (1, 3, 4, 4))
    check(quantize(m, fmt, act, op_types=[op]))


@pytest.mark.parametrize(("op", "fmt", "act", "shapes"), [
    ("Add", "qdq", "uint8", [(1, 3, 4, 4), (1, 3, 1, 1)]), ("Mul", "qoperator", "int8", [(1, 1, 1, 1), (1, 3, 4, 4)]),
    ("Sub", "qdq", "int8", [(2, 5), (5,)])])
def test_binary_broadcast(op, fmt, act, shapes):
    """Broadcasts, with onnxruntime's scalar-span arithmetic where one input stays put along a row."""
    m = single_op(op, shapes, tuple(np.broadcast_shapes(*shapes)))
    check(quantize(m, fmt, act, op_types=[op]))


@pytest.mark.parametrize("pads", [[0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 1, 0]])
def test_maxpool(pads):
    out = (1, 3, (8 + pads[0] + pads[2] - 3) // 2 + 1, (8 + pads[1] + pads[3] - 3) // 2 + 1)
    m = after_conv([node("MaxPool", ["c"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=pads)], (1, 3, 8, 8), out)
    assert "MAX_POOL_2D" in check(quantize(m, "qdq", "int8", reduce_range=True))


@pytest.mark.parametrize(("include", "act", "ceil", "fmt"), [(0, "int8", 0, "qdq"), (1, "uint8", 1, "qdq"),
                                                          (0, "uint8", 1, "qoperator")])
def test_average_pool(include, act, ceil, fmt):
    """onnxruntime's QLinearAveragePool sums in float32: bit-exact with count_include_pad 0 and 1,
    ceil_mode, int8 (which onnxruntime runs as uint8 in QDQ models) and uint8."""
    o = 4 if ceil else 3
    m = after_conv([node("AveragePool", ["c"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2],
                         count_include_pad=include, ceil_mode=ceil)], (1, 4, 6, 6), (1, 4, o, o))
    assert "AVERAGE_POOL_2D" in check(quantize(m, fmt, act, reduce_range=True))


@pytest.mark.parametrize("dtype", [np.uint8])
def test_qlinear_average_pool_rescales(dtype):
    """A QLinearAveragePool whose output scale and zero point differ from its input's."""
    from onnx_builder import quantized_model

    def model(x_scale: float) -> bytes:
        n = [node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
             node("QLinearAveragePool", ["xq", "xs", "xz", "ys", "yz"], ["yq"], domain="com.microsoft",
                  kernel_shape=[2, 3], strides=[1, 2], pads=[0, 1, 1, 1]),
             node("DequantizeLinear", ["yq", "ys", "yz"], ["y"])]
        return quantized_model(n, {"x": ((1, 3, 5, 7), np.float32)}, {"y": ((1, 3, 5, 4), np.float32)},
                               {"xs": np.float32(x_scale), "xz": np.array(5, dtype), "ys": np.float32(0.0037),
                                "yz": np.array(11, dtype)})

    assert "AVERAGE_POOL_2D" in check(model(0.0113), count=4)


def test_max_pool_ceil_mode():
    m = after_conv([node("MaxPool", ["c"], ["y"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)], (1, 3, 8, 8),
                   (1, 3, 4, 4))
    assert "MAX_POOL_2D" in check(quantize(m, "qdq", "uint8", reduce_range=True))


@pytest.mark.parametrize(("op", "fmt"), [("GlobalAveragePool", "qdq"), ("GlobalAveragePool", "qoperator"),
                                         ("GlobalMaxPool", "qdq")])
def test_global_pool(op, fmt):
    m = after_conv([node(op, ["c"], ["y"])], (1, 5, 4, 4), (1, 5, 1, 1))
    check(quantize(m, fmt, "int8", reduce_range=True))


@pytest.mark.parametrize(("op", "attrs"), [("Sigmoid", {}), ("Tanh", {}), ("LeakyRelu", {"alpha": 0.1}),
                                           ("HardSigmoid", {}), ("HardSwish", {}), ("Relu", {})])
def test_elementwise_table(op, attrs):
    m = after_conv([node(op, ["c"], ["e"], **attrs), node("Conv", ["e", "cw2", "cb2"], ["y"])], (1, 2, 5, 5),
                   (1, 2, 5, 5), opset=14)
    for act in ("int8", "uint8"):
        ops = check(expose_input_of_last(quantize(m, "qdq", act, reduce_range=True), (1, 2, 5, 5)), steps=1)
        assert "LOOKUP_TABLE" in ops or op == "Relu"


@pytest.mark.parametrize("op", ["Sigmoid", "LeakyRelu"])
def test_qlinear_table(op):
    m = after_conv([node(op, ["c"], ["y"])], (1, 2, 5, 5), (1, 2, 5, 5))
    check(quantize(m, "qoperator", "uint8", reduce_range=True), steps=1)


def test_clip():
    m = after_conv([node("Clip", ["c", "lo", "hi"], ["y"])], (1, 2, 4, 4), (1, 2, 4, 4),
                   {"lo": np.float32(-0.5), "hi": np.float32(0.25)})
    check(quantize(m, "qdq", "int8", reduce_range=True))


def test_layout_chain():
    """Transpose, Reshape, Concat, Slice, Split, Pad, Squeeze/Unsqueeze on int8: bit-exact."""
    n = [node("Conv", ["x0", "w", "b"], ["c"]),
         node("Transpose", ["c"], ["t"], perm=[0, 2, 3, 1]),
         node("Concat", ["t", "t"], ["cat"], axis=3),
         node("Slice", ["cat", "st", "en", "ax"], ["sl"]),
         node("Split", ["sl"], ["s1", "s2"], axis=3),
         node("Pad", ["s1", "pads"], ["p"]),
         node("Reshape", ["p", "shape"], ["y"])]
    m = float_model(n, {"x0": (1, 3, 4, 4)}, {"y": (1, 5, 4)},
                    {"w": _w(2, 3, 1, 1), "b": _w(2), "st": np.array([1], np.int64), "en": np.array([3], np.int64),
                     "ax": np.array([3], np.int64), "pads": np.array([0, 0, 0, 0, 0, 1, 0, 0], np.int64),
                     "shape": np.array([1, 5, 4], np.int64)})
    check(quantize(m, "qdq", "int8", reduce_range=True))


def test_reduce_mean():
    n = [node("ReduceMean", ["c"], ["r"], axes=[2, 3], keepdims=1), node("Conv", ["r", "cw2", "cb2"], ["y"])]
    m = after_conv(n, (1, 3, 4, 4), (1, 3, 1, 1))
    assert "MEAN" in check(expose_input_of_last(quantize(m, "qdq", "int8", reduce_range=True), (1, 3, 1, 1)))


@pytest.mark.parametrize(("attrs", "steps"), [
    ({"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}, 0),
    ({"mode": "nearest"}, 0),  # ONNX's defaults: half_pixel, round_prefer_floor (TFLite's plain rule at 2x)
    # DQ -> Resize -> Q in float32 as onnxruntime computes it (generator/ops/resize_ort.py)
    ({"mode": "linear", "coordinate_transformation_mode": "half_pixel"}, 0),
    ({"mode": "linear", "coordinate_transformation_mode": "align_corners"}, 0),
])
def test_resize(attrs, steps):
    scales = np.array([1, 1, 2, 2], np.float32)
    m = after_conv([node("Resize", ["c", "", "scales"], ["y"], **attrs)], (1, 3, 4, 4), (1, 3, 8, 8),
                   {"scales": scales})
    assert any(op.startswith("RESIZE") for op in check(quantize(m, "qdq", "int8", reduce_range=True), steps=steps))


def test_prelu_single_slope():
    n = [node("PRelu", ["c", "slope"], ["e"]), node("Conv", ["e", "cw2", "cb2"], ["y"])]
    m = after_conv(n, (1, 2, 4, 4), (1, 2, 4, 4), {"slope": np.array([0.25], np.float32)})
    ops = check(expose_input_of_last(quantize(m, "qdq", "int8", reduce_range=True), (1, 2, 4, 4)), steps=1)
    assert "LOOKUP_TABLE" in ops


@pytest.mark.parametrize("pads", [[0, 0, 0, 0], [1, 1, 0, 0]])
def test_conv_transpose(pads):
    """onnxruntime runs ConvTranspose in float between DQ and Q; the integer kernel is within one step."""
    oh = (4 - 1) * 2 + 3 - pads[0] - pads[2]
    ow = (4 - 1) * 2 + 3 - pads[1] - pads[3]
    m = after_conv([node("ConvTranspose", ["c", "tw", "tb"], ["y"], strides=[2, 2], pads=pads)], (1, 3, 4, 4),
                   (1, 2, oh, ow), {"tw": _w(3, 2, 3, 3), "tb": _w(2)})
    assert "TRANSPOSE_CONV" in check(quantize(m, "qdq", "int8", True, reduce_range=True), steps=1)


@pytest.mark.parametrize("fmt", ["qdq", "qoperator"])
def test_concat_of_two_branches(fmt):
    """Two convolutions with their own output scales, concatenated on the channel axis (QLinearConcat
    in QOperator form: the inputs are requantized to the output's scale by a table, bit-exact)."""
    n = [node("Conv", ["x0", "w1", "b1"], ["a"]), node("Conv", ["x0", "w2", "b2"], ["b"]),
         node("Concat", ["a", "b"], ["y"], axis=1)]
    m = float_model(n, {"x0": (1, 2, 3, 3)}, {"y": (1, 5, 3, 3)},
                    {"w1": _w(2, 2, 1, 1), "b1": _w(2), "w2": 3 * _w(3, 2, 1, 1), "b2": _w(3)})
    assert "CONCATENATION" in check(quantize(m, fmt, "int8", reduce_range=True))


@pytest.mark.parametrize(("axis", "act"), [(1, "int8"), (-1, "uint8"), (2, "int8")])
def test_softmax(axis, act):
    n = [node("Softmax", ["c"], ["e"], axis=axis), node("Conv", ["e", "cw2", "cb2"], ["y"])]
    m = after_conv(n, (1, 4, 3, 5), (1, 4, 3, 5))
    ops = check(expose_input_of_last(quantize(m, "qdq", act, reduce_range=True), (1, 4, 3, 5)), steps=1)
    assert "SOFTMAX" in ops


def test_squeeze_unsqueeze_identity():
    n = [node("GlobalAveragePool", ["c"], ["g"]), node("Squeeze", ["g", "hw"], ["s"]),
         node("Unsqueeze", ["s", "one"], ["u"]), node("Squeeze", ["u", "one"], ["s2"]),
         node("Identity", ["s2"], ["i"]), node("Gemm", ["i", "w2", "b2"], ["y"])]
    m = after_conv(n, (1, 4, 3, 3), (1, 3), {"hw": np.array([2, 3], np.int64), "one": np.array([1], np.int64),
                                             "w2": _w(4, 3), "b2": _w(3)})
    check(quantize(m, "qdq", "int8", reduce_range=True))


@pytest.mark.parametrize("pc", [False, True])
def test_grouped_conv(pc):
    m = single_op("Conv", [(1, 6, 5, 5)], (1, 4, 5, 5), {"w": _w(4, 3, 3, 3), "b": _w(4)}, ["w", "b"],
                  pads=[1, 1, 1, 1], group=2)
    ops = check(quantize(m, "qdq", "int8", pc, reduce_range=True))
    assert ops.count("CONV_2D") == 2 and "SPLIT_V" in ops and "CONCATENATION" in ops


def test_input_quantize_rounds_ties_to_even():
    """QuantizeLinear of the float input rounds x / scale half to even (TFLite's QUANTIZE rounds half
    away from zero): inputs exactly halfway between two steps give onnxruntime's integers."""
    import onnx

    m = single_op("Conv", [(1, 1, 4, 8)], (1, 1, 4, 8), {"w": np.ones((1, 1, 1, 1), np.float32),
                                                         "b": np.zeros(1, np.float32)}, ["w", "b"])
    q = quantize(m, "qdq", "int8", reduce_range=True)
    graph = parse_model(q, name="test.onnx")
    scale = np.float32(graph.tensors[graph.operators[0].outputs[0]].scale)
    ties = [np.float32(k + 0.5) * scale for k in range(-40, 40)]
    ties = [t for t in ties if np.float32(t) / scale == np.float32(round(float(t / scale) * 2) / 2)
            and float(np.float32(t) / scale) % 1 == 0.5][:32]
    assert len(ties) >= 16
    x = np.resize(np.array(ties, np.float32), (1, 1, 4, 8))
    with HostModel(generate(compile_graph(graph), "model"), extra_flags=("-O0",)) as host:
        got = host.run([[x]])[0][0]
    want = run_ort(q, {input_names(q)[0]: x})[0]
    assert onnx is not None and np.array_equal(got, want.reshape(got.shape))


@pytest.mark.parametrize("act", ["int8", "uint8"])
def test_matmul_of_two_activations(act):
    m = single_op("MatMul", [(2, 3, 8), (2, 8, 5)], (2, 3, 5))
    assert "BATCH_MATMUL" in check(quantize(m, "qdq", act, op_types=["MatMul"]))


@pytest.mark.parametrize(("fmt", "act", "pc"), [FORMATS[0]], ids=[IDS[0]])
def test_conv1d_then_pools(fmt, act, pc):
    """Conv1d (N, C, L) as a height-1 convolution, then 1-D MaxPool and AveragePool."""
    n = [node("Conv", ["x0", "w", "b"], ["c"], pads=[2, 1], strides=[2], dilations=[2]),
         node("MaxPool", ["c"], ["p"], kernel_shape=[2], strides=[1]),
         node("AveragePool", ["p"], ["y"], kernel_shape=[3], pads=[1, 1], strides=[2])]
    m = float_model(n, {"x0": (1, 3, 11)}, {"y": (1, 4, 2)}, {"w": _w(4, 3, 3), "b": _w(4)})
    ops = check(quantize(m, fmt, act, pc, reduce_range=True))
    assert {"CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D"} <= set(ops)


def _qdq_add_model(fmt: str, sa: float, za: int, sb: float, zb: int, so: float, zo: int, n: int) -> bytes:
    """x0 + x1 with the given int8 quantizations: DequantizeLinear / Add / QuantizeLinear (QDQ, which
    onnxruntime on x86 runs as a uint8 QLinearAdd), the same with x0's DequantizeLinear also read by
    a Relu to a second output ("shared": onnxruntime does not fuse, it adds in float), or an int8
    QLinearAdd node (QOperator)."""
    from onnx_builder import quantized_model

    q = {"sa": np.float32(sa), "za": np.array(za, np.int8), "sb": np.float32(sb), "zb": np.array(zb, np.int8),
         "so": np.float32(so), "zo": np.array(zo, np.int8)}
    nodes = [node("QuantizeLinear", ["x0", "sa", "za"], ["a"]), node("QuantizeLinear", ["x1", "sb", "zb"], ["b"])]
    outputs = {"y": ((n,), np.float32)}
    if fmt in ("qdq", "shared"):
        nodes += [node("DequantizeLinear", ["a", "sa", "za"], ["fa"]),
                  node("DequantizeLinear", ["b", "sb", "zb"], ["fb"]),
                  node("Add", ["fa", "fb"], ["s"]), node("QuantizeLinear", ["s", "so", "zo"], ["c"])]
    if fmt == "shared":
        nodes += [node("Relu", ["fa"], ["r"]), node("QuantizeLinear", ["r", "sa", "za"], ["rq"]),
                  node("DequantizeLinear", ["rq", "sa", "za"], ["y2"])]
        outputs["y2"] = ((n,), np.float32)
    if fmt == "qoperator":
        nodes.append(node("QLinearAdd", ["a", "sa", "za", "b", "sb", "zb", "so", "zo"], ["c"], domain="com.microsoft"))
    nodes.append(node("DequantizeLinear", ["c", "so", "zo"], ["y"]))
    return quantized_model(nodes, {"x0": ((n,), np.float32), "x1": ((n,), np.float32)}, outputs, q)


@pytest.mark.parametrize("fmt", ["qdq", "qoperator", "shared"])
def test_add_rounds_as_onnxruntime(fmt):
    """The int8 pairs on which QLinearAdd's float32 result rounds differently on uint8 bytes (the
    QDQ model, run by onnxruntime on x86 as uint8), on int8 bytes (the QOperator int8 node) and in a
    float Add between DequantizeLinear and QuantizeLinear (a shared DequantizeLinear): every one
    must come out as onnxruntime's."""
    from mcuforge.generator.ops.float_requant import add_constants

    sa, za, sb, zb, so, zo = 0.033487875, -16, 0.0050713816, 0, 0.017884064, -3
    grid = np.stack(np.meshgrid(np.arange(-128, 128), np.arange(-128, 128), indexing="ij"), -1).reshape(-1, 2)
    results = []
    for shift in (0, 128):
        r1, r2, k = np.array(add_constants(sa, za + shift, sb, zb + shift, so, zo + shift), np.int32).view(np.float32)
        inner = ((grid[:, 1] + shift) * np.float64(r2) + np.float64(k)).astype(np.float32)
        v = ((grid[:, 0] + shift) * np.float64(r1) + inner.astype(np.float64)).astype(np.float32)
        results.append(np.clip(np.rint(v), -128 + shift, 127 + shift) - shift)
    deq = [((grid[:, k] - z) * np.float32(sc)).astype(np.float32) for k, (sc, z) in enumerate(((sa, za), (sb, zb)))]
    results.append(np.clip(np.rint((deq[0] + deq[1]) / np.float32(so)) + zo, -128, 127))
    pairs = grid[(results[0] != results[1]) | (results[0] != results[2]) | (results[1] != results[2])]
    assert len(pairs) >= 2 and np.any(results[2] != results[1])
    model = _qdq_add_model(fmt, sa, za, sb, zb, so, zo, len(pairs))
    graph = parse_model(model, name="test.onnx")
    x = [((pairs[:, k] - z) * np.float32(s)).astype(np.float32) for k, (s, z) in enumerate(((sa, za), (sb, zb)))]
    with HostModel(generate(compile_graph(graph), "model"), extra_flags=("-O0",)) as host:
        got = host.run([x])[0]
    for g, w in zip(got, run_ort(model, {"x0": x[0], "x1": x[1]}), strict=True):
        assert np.array_equal(g, w)


def test_prelu_per_channel():
    """PRelu with one slope per channel (nn.PReLU(C)): onnxruntime's float32 DequantizeLinear / PRelu /
    QuantizeLinear, bit-exact."""
    shape = (1, 3, 4, 4)
    slope = np.array([0.25, -0.5, 1.75], np.float32).reshape(3, 1, 1)
    n = [node("PRelu", ["c", "slope"], ["e"]), node("Conv", ["e", "cw2", "cb2"], ["y"])]
    m = after_conv(n, shape, shape, {"slope": slope})
    q = expose_input_of_last(quantize(m, "qdq", "int8", reduce_range=True), shape)
    assert "PRELU" in check(q)


@pytest.mark.parametrize(("axis", "act"), [(1, "uint8")])
def test_log_softmax(axis, act):
    """LogSoftmax over any axis (no transposes), within one step of onnxruntime's float32."""
    n = [node("LogSoftmax", ["c"], ["e"], axis=axis), node("Conv", ["e", "cw2", "cb2"], ["y"])]
    m = after_conv(n, (1, 4, 3, 5), (1, 4, 3, 5))
    ops = check(expose_input_of_last(quantize(m, "qdq", act, reduce_range=True), (1, 4, 3, 5)), steps=1)
    assert "LOG_SOFTMAX" in ops and ops.count("TRANSPOSE") == 2  # the input's and the output's


def test_pad_reflect():
    m = after_conv([node("Pad", ["c", "p"], ["y"], mode="reflect")], (1, 3, 5, 5), (1, 3, 7, 8),
                   {"p": np.array([0, 0, 1, 2, 0, 0, 1, 1], np.int64)})
    assert "MIRROR_PAD" in check(quantize(m, "qdq", "int8", reduce_range=True))


def test_slice_negative_steps():
    """torch.flip exports Slice with step -1 and end INT64_MIN: STRIDED_SLICE with a negative stride
    and end_mask; a -2 step from the middle too."""
    n = [node("Slice", ["c", "st", "en", "ax", "sp"], ["y"])]
    consts = {"st": np.array([-1, 3], np.int64), "en": np.array([-(2**63), 0], np.int64),
              "ax": np.array([3, 2], np.int64), "sp": np.array([-1, -2], np.int64)}
    m = after_conv(n, (1, 3, 5, 6), (1, 3, 2, 6), consts)
    assert "STRIDED_SLICE" in check(quantize(m, "qdq", "int8", reduce_range=True))


def test_float_constant_arithmetic():
    """Sub / Div / Mul by float constants the quantizer leaves unquantized, between DequantizeLinear and
    QuantizeLinear: one table of onnxruntime's float32 chain."""
    n = [node("Sub", ["c", "k1"], ["s"]), node("Div", ["s", "k2"], ["d"]), node("Mul", ["k3", "d"], ["e"]),
         node("Conv", ["e", "cw2", "cb2"], ["y"])]
    m = after_conv(n, (1, 2, 4, 4), (1, 2, 4, 4), {"k1": np.float32(0.3), "k2": np.float32(1.7),
                                                   "k3": np.float32(-0.6)})
    q = expose_input_of_last(quantize(m, "qdq", "int8", reduce_range=True), (1, 2, 4, 4))
    import onnx

    assert {"Sub", "Div"} <= {n.op_type for n in onnx.load_from_string(q).graph.node}
    assert "LOOKUP_TABLE" in check(q)


@pytest.mark.parametrize(("attrs", "pc"), [({"group": 3, "strides": [2, 2]}, False), ({"dilations": [2, 2]}, True)])
def test_conv_transpose_groups_dilations(attrs, pc):
    """Grouped ConvTranspose (SPLIT_V, one TRANSPOSE_CONV per group, CONCATENATION) and a dilated
    one (the kernel with zeros between its taps): within one step of onnxruntime's float ConvTranspose.
    (onnxruntime's quantizer cannot quantize a grouped ConvTranspose per channel.)"""
    g, (sh, dh) = attrs.get("group", 1), (attrs.get("strides", [1])[0], attrs.get("dilations", [1])[0])
    o = (4 - 1) * sh + (3 - 1) * dh + 1
    m = after_conv([node("ConvTranspose", ["c", "tw", "tb"], ["y"], **attrs)], (1, 3, 4, 4), (1, 2 * g, o, o),
                   {"tw": _w(3, 2, 3, 3), "tb": _w(2 * g)})
    ops = check(quantize(m, "qdq", "int8", pc, reduce_range=True), steps=1)
    assert ops.count("TRANSPOSE_CONV") == g


@pytest.mark.parametrize(("op", "act"), [("LogSoftmax", "int8"), ("Tanh", "uint8")])
def test_float_operator_at_the_output(op, act):
    """The quantizer leaves LogSoftmax, Tanh, HardSwish unquantized at a graph output (a classifier's
    log_softmax): computed in float32 after the last DequantizeLinear, as onnxruntime does."""
    n = [node("Gemm", ["x0", "w", "b"], ["g"], transB=1), node(op, ["g"], ["y"])]
    m = float_model(n, {"x0": (2, 8)}, {"y": (2, 5)}, {"w": _w(5, 8), "b": _w(5)}, opset=14)
    q = quantize(m, "qdq", act, reduce_range=True)
    import onnx

    assert [n.op_type for n in onnx.load_from_string(q).graph.node][-2:] == ["DequantizeLinear", op]
    assert check(q)[-1] in ("LOG_SOFTMAX", "DEQUANTIZE")  # float32 results within 1e-3 input steps
