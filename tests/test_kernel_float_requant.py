"""onnxruntime's float32 output stage (IR option requant = "float32") on the integer kernels.

The chain to onnxruntime is proven in two links, for every kernel:
  1. the host build of the generated C equals the numpy emulation (float_requant.requantize on the
     int32 sums) bit for bit, on the fast, portable and DSP-emulated paths;
  2. the numpy emulation equals onnxruntime (CPU provider, default session options) on the
     equivalent QOperator graph (QLinearConv, QGemm) with the same integers and scales.
Scales that are powers of two make exact ties (x.5) common, so rounding half to even is tested, with
odd output zero points: whether the zero point is added before or after rounding shows there.
"""

from __future__ import annotations

import numpy as np
import pytest
from kernel_check import KERNEL_PATHS
from tflite_builder import Activation, Op, Padding, T, build, options

from mcuforge.generator.codegen import generate
from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.hostbuild import HostModel
from mcuforge.generator.ops import float_requant
from mcuforge.generator.ops.base import padding_offsets
from mcuforge.generator.quant import activation_range

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

f32 = np.float32


# ---------------------------------------------------------------------------------------------
# The operators under test: one model holds them all side by side (one input and output each), so
# each kernel path is one host build.


def _pads(h, w, kh, kw, stride, dilation, same):
    """(out_h, out_w, (top, left, bottom, right)) of TFLite SAME / VALID."""
    mode = "SAME" if same else "VALID"
    oh, top = padding_offsets(mode, h, kh, stride[0], dilation[0])
    ow, left = padding_offsets(mode, w, kw, stride[1], dilation[1])
    bottom = max((oh - 1) * stride[0] + (kh - 1) * dilation[0] + 1 - h - top, 0)
    right = max((ow - 1) * stride[1] + (kw - 1) * dilation[1] + 1 - w - left, 0)
    return oh, ow, (top, left, bottom, right)


CONVS = [
    # kind, geometry, quantization. "ties": power-of-two scales (the product scale is 2^-k).
    dict(kind="conv", h=7, w=6, ic=3, oc=5, k=3, stride=(1, 1), same=True, per_channel=True),  # stack path
    dict(kind="conv", h=6, w=6, ic=8, oc=6, k=3, stride=(2, 2), same=True, per_channel=False,
         act=Activation.RELU, in_zp=-7, out_zp=-30),  # direct path (input channels % 4 == 0)
    dict(kind="conv", h=8, w=8, ic=4, oc=4, k=3, stride=(1, 1), same=False, per_channel=False, ties=True,
         out_zp=5),
    dict(kind="conv", h=6, w=7, ic=6, oc=4, k=3, stride=(1, 1), same=True, per_channel=True, groups=2),  # ref
    dict(kind="conv", h=9, w=9, ic=3, oc=4, k=7, stride=(1, 1), same=True, per_channel=True),  # K > 128: ref
    # 1 to 3 input channels, an even count of at least 8 outputs: the first-layer path (conv2d_s8_first)
    dict(kind="conv", h=9, w=8, ic=3, oc=8, k=3, stride=(2, 2), same=True, per_channel=True,
         act=Activation.RELU, in_zp=-11, out_zp=-20),  # the clamping entry point
    dict(kind="conv", h=7, w=7, ic=1, oc=10, k=5, stride=(1, 1), same=True, per_channel=False, ties=True, out_zp=3),
    dict(kind="conv", h=6, w=9, ic=2, oc=12, k=3, stride=(1, 2), same=False, per_channel=True, in_zp=9, out_zp=-5),
    # 1x1 on 8 input channels: the depth-8 path (conv2d_s8_narrow_k8, doubled sums, half scales)
    dict(kind="conv", h=5, w=6, ic=8, oc=12, k=1, stride=(1, 1), same=False, per_channel=True, in_zp=-3, out_zp=7),
    dict(kind="conv", h=4, w=5, ic=8, oc=6, k=1, stride=(2, 1), same=False, per_channel=False, ties=True,
         act=Activation.RELU, out_zp=-9),
    # one pixel, and two output channels: the blocks of conv2d_s8_narrow (a partial last group of inputs)
    dict(kind="conv", h=1, w=1, ic=30, oc=11, k=1, stride=(1, 1), same=False, per_channel=True, in_zp=4, out_zp=-6),
    dict(kind="conv", h=3, w=4, ic=16, oc=2, k=1, stride=(1, 1), same=False, per_channel=False, ties=True,
         act=Activation.RELU, out_zp=-9),
    dict(kind="dw", h=7, w=7, ic=8, mult=1, k=3, stride=(1, 1), same=True, per_channel=True, in_zp=5),
    dict(kind="dw", h=8, w=8, ic=4, mult=1, k=3, stride=(2, 2), same=True, per_channel=False, ties=True,
         act=Activation.RELU6, out_zp=-99),
    dict(kind="dw", h=6, w=5, ic=2, mult=4, k=3, stride=(1, 1), same=True, per_channel=True),  # mult path
    dict(kind="dw", h=5, w=5, ic=3, mult=2, k=3, stride=(1, 1), same=False, per_channel=True),  # ref
    dict(kind="fc", batches=3, depth=37, units=7, per_channel=False, in_zp=-3, out_zp=4),
    dict(kind="fc", batches=2, depth=24, units=9, per_channel=True, ties=True, out_zp=-3),
    # QUANTIZE int8 -> int8 (onnxruntime's DequantizeLinear -> QuantizeLinear), by 256-entry table
    dict(kind="quantize", shape=(2, 128), in_scale=0.05, in_zp=3, out_scale=0.0625, out_zp=-9),
    dict(kind="quantize", shape=(1, 256), in_scale=0.125, in_zp=0, out_scale=0.25, out_zp=5),  # ties
    # MEAN over H and W (onnxruntime's QLinearGlobalAveragePool)
    dict(kind="mean", shape=(1, 5, 7, 8), in_scale=0.05, in_zp=-4, out_scale=0.02, out_zp=6),
    dict(kind="mean", shape=(2, 4, 4, 3), in_scale=0.5, in_zp=0, out_scale=1.0, out_zp=7),  # scale 1/32: ties
    # ADD of two tensors of one shape (onnxruntime's QLinearAdd, fused multiply-adds)
    dict(kind="add", shape=(1, 6, 6, 8), scales=(0.05, 0.03, 0.06), zps=(-5, 7, 3)),
    dict(kind="add", shape=(2, 64), scales=(0.5, 0.5, 1.0), zps=(0, 0, 0), act=Activation.RELU),  # ties
    # halves with a last-place tail: a separate multiply and add would round some of them otherwise
    dict(kind="add", shape=(1, 256), scales=(0.5 + 2.0**-24, 0.5 - 2.0**-25, 1.0), zps=(0, 0, 0)),
    # MUL (onnxruntime's QLinearMul: the int32 product, one float32 scale), also broadcast
    dict(kind="mul", shape=(1, 5, 5, 8), shape2=(1, 5, 5, 8), scales=(0.5, 0.25, 4.0), zps=(3, -6, 3)),  # ties
    dict(kind="mul", shape=(1, 4, 4, 6), shape2=(1, 1, 1, 6), scales=(0.5, 0.25, 8.0), zps=(0, 0, -1),
         act=Activation.RELU6),  # scale 1/64: ties
    # BATCH_MATMUL of two activations (onnxruntime's QLinearMatMul)
    dict(kind="bmm", shape=(2, 4, 9), shape2=(2, 9, 5), scales=(0.05, 0.04, 0.2), zps=(3, -5, 1)),
    dict(kind="bmm", shape=(1, 3, 16), shape2=(1, 16, 6), scales=(0.5, 0.25, 16.0), zps=(0, 0, 5)),  # ties
]


def _case_tensors(case, rng):
    """The case's tensors (input, weights, bias, output) as tflite_builder T, plus its op."""
    if case["kind"] == "quantize":
        return [T(case["shape"], "int8", case["in_scale"], case["in_zp"]),
                T(case["shape"], "int8", case["out_scale"], case["out_zp"])], ("QUANTIZE", None)
    if case["kind"] == "add":
        (sa, sb, sc), (za, zb, zc) = case["scales"], case["zps"]
        opts = options("AddOptions", fusedActivationFunction=case.get("act", Activation.NONE))
        return [T(case["shape"], "int8", sa, za), T(case["shape"], "int8", sb, zb),
                T(case["shape"], "int8", sc, zc)], ("ADD", opts)
    if case["kind"] == "bmm":
        (sa, sb, sc), (za, zb, zc) = case["scales"], case["zps"]
        out_shape = (*case["shape"][:-1], case["shape2"][-1])
        return [T(case["shape"], "int8", sa, za), T(case["shape2"], "int8", sb, zb),
                T(out_shape, "int8", sc, zc)], ("BATCH_MATMUL", options("BatchMatMulOptions", adjX=False, adjY=False))
    if case["kind"] == "mul":
        (sa, sb, sc), (za, zb, zc) = case["scales"], case["zps"]
        opts = options("MulOptions", fusedActivationFunction=case.get("act", Activation.NONE))
        return [T(case["shape"], "int8", sa, za), T(case["shape2"], "int8", sb, zb),
                T(case["shape"], "int8", sc, zc)], ("MUL", opts)
    if case["kind"] == "mean":
        n, _, _, c = case["shape"]
        return [T(case["shape"], "int8", case["in_scale"], case["in_zp"]),
                T((2,), "int32", data=np.array([1, 2], np.int32)),
                T((n, 1, 1, c), "int8", case["out_scale"], case["out_zp"])], \
            ("MEAN", options("ReducerOptions", keepDims=True))
    ties = case.get("ties", False)
    in_zp, out_zp = case.get("in_zp", 0), case.get("out_zp", 0)
    in_scale = 0.25 if ties else float(rng.uniform(0.01, 0.05))
    if case["kind"] == "fc":
        units, depth, batches = case["units"], case["depth"], case["batches"]
        oc, taps = units, depth
        wshape = (units, depth)
        ishape, oshape = (batches, depth), (batches, units)
    else:
        k, ic = case["k"], case["ic"]
        oc = ic * case["mult"] if case["kind"] == "dw" else case["oc"]
        fc = 1 if case["kind"] == "dw" else ic // case.get("groups", 1)
        taps = k * k * fc
        oh, ow, _ = _pads(case["h"], case["w"], k, k, case["stride"], (1, 1), case["same"])
        wshape = (1, k, k, oc) if case["kind"] == "dw" else (oc, k, k, fc)
        ishape, oshape = (1, case["h"], case["w"], ic), (1, oh, ow, oc)
    if ties:
        w_scales = [0.5] * oc if case["per_channel"] else [0.5]
    else:
        w_scales = list(rng.uniform(0.002, 0.02, oc)) if case["per_channel"] else [0.01]
    # Ties: weights in [-1, 1] keep the sums small, so that the scale 1/4 still spreads the outputs
    # over the int8 range; then one sum in four is a tie.
    wmax = 1 if ties else 127
    acc_std = 74.0 * (wmax / 1.7 if ties else 74.0) * np.sqrt(taps)
    out_scale = in_scale * w_scales[0] * 4 if ties else in_scale * float(np.mean(w_scales)) * acc_std / 40.0
    wdata = rng.integers(-wmax, wmax + 1, wshape).astype(np.int8)
    axis = 3 if case["kind"] == "dw" else 0
    per = case["per_channel"]
    wt = T(wshape, "int8", w_scales if per else w_scales[0], [0] * oc if per else 0, axis=axis, data=wdata)
    bias = rng.integers(-int(acc_std), int(acc_std), oc).astype(np.int32)
    bscale = [in_scale * s for s in w_scales]
    bt = T((oc,), "int32", bscale if per else bscale[0], [0] * oc if per else 0, data=bias)
    tensors = [T(ishape, "int8", in_scale, in_zp), wt, bt, T(oshape, "int8", out_scale, out_zp)]
    act = case.get("act", Activation.NONE)
    if case["kind"] == "fc":
        op = ("FULLY_CONNECTED", options("FullyConnectedOptions", fusedActivationFunction=act))
    else:
        pad = Padding.SAME if case["same"] else Padding.VALID
        common = dict(padding=pad, strideH=case["stride"][0], strideW=case["stride"][1], fusedActivationFunction=act)
        if case["kind"] == "dw":
            op = ("DEPTHWISE_CONV_2D", options("DepthwiseConv2DOptions", depthMultiplier=case["mult"], **common))
        else:
            op = ("CONV_2D", options("Conv2DOptions", **common))
    return tensors, op


def _model() -> bytes:
    rng = np.random.default_rng(12)
    tensors: list[T] = []
    ops: list[Op] = []
    inputs, outputs = [], []
    for case in CONVS:
        ts, (opcode, opts) = _case_tensors(case, rng)
        base = len(tensors)
        tensors += ts
        ops.append(Op(opcode, list(range(base, base + len(ts) - 1)), [base + len(ts) - 1], opts))
        inputs += [base, base + 1] if case["kind"] in ("add", "mul", "bmm") else [base]
        outputs.append(base + len(ts) - 1)
    return build(tensors, ops, inputs, outputs)


# ---------------------------------------------------------------------------------------------
# The numpy emulation: exact int32 sums, then float_requant.requantize.


def _sums(case, x, w, bias, in_zp):
    """int32 accumulators of the case (NHWC / [batches, depth]), padding contributing nothing."""
    xi = x.astype(np.int64) - in_zp
    if case["kind"] == "fc":
        return (xi @ w.astype(np.int64).T + bias).astype(np.int32)
    k, stride = case["k"], case["stride"]
    oh, ow, (top, left, bottom, right) = _pads(x.shape[1], x.shape[2], k, k, stride, (1, 1), case["same"])
    xp = np.pad(xi, ((0, 0), (top, bottom), (left, right), (0, 0)))
    oc = w.shape[3] if case["kind"] == "dw" else w.shape[0]
    acc = np.zeros((x.shape[0], oh, ow, oc), np.int64) + bias
    groups = case.get("groups", 1)
    for ky in range(k):
        for kx in range(k):
            patch = xp[:, ky:ky + (oh - 1) * stride[0] + 1:stride[0], kx:kx + (ow - 1) * stride[1] + 1:stride[1], :]
            if case["kind"] == "dw":
                acc += patch[..., np.arange(oc) // case["mult"]] * w[0, ky, kx, :].astype(np.int64)
                continue
            fc, og = w.shape[3], oc // groups
            for g in range(groups):
                acc[..., g * og:(g + 1) * og] += patch[..., g * fc:(g + 1) * fc] @ w[g * og:(g + 1) * og, ky, kx, :].T
    return acc.astype(np.int32)


def _op_inputs(graph, batch):
    """(operator, its graph input: one array, or a pair for ADD and MUL) for one batch of graph inputs."""
    pos = {t: i for i, t in enumerate(graph.inputs)}
    for op in graph.operators:
        xs = [batch[pos[t]] for t in op.inputs if t in pos]
        yield op, (xs[0] if len(xs) == 1 else tuple(xs))


def _emulate(graph, op, x):
    case = op.options["_case"]
    out = graph.tensors[op.outputs[0]]
    if case["kind"] == "bmm":
        a, b = (graph.tensors[i] for i in op.inputs[:2])
        acc = (x[0].astype(np.int32) - a.zero_point) @ (x[1].astype(np.int32) - b.zero_point)
        return float_requant.requantize(acc, float_requant.product_scales(a.scale, np.array([b.scale]), out.scale),
                                        out.zero_point)
    if case["kind"] == "mul":
        a, b = (graph.tensors[i] for i in op.inputs[:2])
        prod = (x[0].astype(np.int32) - a.zero_point) * (x[1].astype(np.int32) - b.zero_point)
        scale = float_requant.product_scales(a.scale, np.array([b.scale]), out.scale)
        v = (prod.astype(f32) * scale).astype(f32) + f32(out.zero_point)  # zero point added before rounding
        lo, hi = activation_range(op.options.get("fused_activation_function", "NONE"), out.scale, out.zero_point)
        return np.clip(_rne_sat(v), lo, hi).astype(np.int8)
    if case["kind"] == "add":
        a, b = (graph.tensors[i] for i in op.inputs[:2])
        bits = np.array(float_requant.add_constants(a.scale, a.zero_point, b.scale, b.zero_point, out.scale,
                                                    out.zero_point), dtype=np.int32)
        ra, rb, k = bits.view(f32)
        v = fma_f32(x[0].astype(f32), ra, fma_f32(x[1].astype(f32), rb, k))
        lo, hi = activation_range(op.options.get("fused_activation_function", "NONE"), out.scale, out.zero_point)
        return np.clip(_rne_sat(v), lo, hi).astype(np.int8)
    if case["kind"] == "quantize":
        inp = graph.tensors[op.inputs[0]]
        table = float_requant.requantize_table(inp.scale, inp.zero_point, out.scale, out.zero_point)
        return table.view(np.int8)[x.view(np.uint8)]
    if case["kind"] == "mean":
        inp = graph.tensors[op.inputs[0]]
        count = x.shape[1] * x.shape[2]
        acc = x.astype(np.int32).sum(axis=(1, 2), keepdims=True) - inp.zero_point * count
        return float_requant.requantize(acc, float_requant.mean_scale(inp.scale, out.scale, count), out.zero_point)
    inp, wt, bt = (graph.tensors[i] for i in op.inputs[:3])
    acc = _sums(case, x, wt.data, bt.data.astype(np.int64), inp.zero_point)
    scales = float_requant.product_scales(inp.scale, np.array(wt.quant.scale), out.scale)
    act = op.options.get("fused_activation_function", "NONE")
    lo, hi = activation_range(act, out.scale, out.zero_point)
    return float_requant.requantize(acc, scales, out.zero_point, lo, hi)


# ---------------------------------------------------------------------------------------------
# onnxruntime on the equivalent QOperator graph.


def _ort_run(case, x, w, bias, xs, xz, ws, ys, yz):
    def c(a, name):
        return numpy_helper.from_array(np.asarray(a), name)

    per = len(ws) > 1
    ws_arr = np.array(ws, f32) if per else np.array(ws[0], f32)
    wz = np.zeros(len(ws), np.int8) if per else np.array(0, np.int8)
    if case["kind"] == "fc":
        xin = x
        inits = [c(f32(xs), "xs"), c(np.int8(xz), "xz"), c(w, "w"), c(ws_arr, "ws"), c(wz, "wz"), c(bias, "b"),
                 c(f32(ys), "ys"), c(np.int8(yz), "yz")]
        node = helper.make_node("QGemm", ["x", "xs", "xz", "w", "ws", "wz", "b", "ys", "yz"], ["y"],
                                domain="com.microsoft", transB=1)
    else:
        k = case["k"]
        xin = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        if case["kind"] == "dw":
            wo = np.ascontiguousarray(w[0].transpose(2, 0, 1)[:, None])
            group = x.shape[3]
        else:
            wo = np.ascontiguousarray(w.transpose(0, 3, 1, 2))
            group = case.get("groups", 1)
        _, _, (top, left, bottom, right) = _pads(x.shape[1], x.shape[2], k, k, case["stride"], (1, 1), case["same"])
        inits = [c(f32(xs), "xs"), c(np.int8(xz), "xz"), c(wo, "w"), c(ws_arr, "ws"), c(wz, "wz"),
                 c(f32(ys), "ys"), c(np.int8(yz), "yz"), c(bias, "b")]
        node = helper.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], ["y"],
                                group=group, strides=list(case["stride"]), pads=[top, left, bottom, right])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.INT8, xin.shape)],
                              [helper.make_tensor_value_info("y", TensorProto.INT8, None)], inits)
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    y = sess.run(None, {"x": xin})[0]
    return y if case["kind"] == "fc" else y.transpose(0, 2, 3, 1)


# ---------------------------------------------------------------------------------------------


def _graph():
    graph = parse_model(_model(), name="float_requant.tflite")
    for op, case in zip(graph.operators, CONVS, strict=True):
        op.options[float_requant.OPTION] = float_requant.FLOAT32
        op.options["_case"] = case
    return graph


def _inputs(graph, count):
    rng = np.random.default_rng(5)
    return [[rng.integers(-128, 128, graph.tensors[i].shape).astype(np.int8) for i in graph.inputs]
            for _ in range(count)]


def _ort_requantize(x, sx, zx, sy, zy, concat):
    """onnxruntime's DequantizeLinear -> QuantizeLinear, or QLinearConcat of x with a tensor of
    the output's quantization (the part of the output that comes from x)."""
    def c(a, name):
        return numpy_helper.from_array(np.asarray(a), name)

    inits = [c(f32(sx), "sx"), c(np.int8(zx), "zx"), c(f32(sy), "sy"), c(np.int8(zy), "zy"),
             c(np.zeros((x.shape[0], 4), np.int8), "other")]
    if concat:
        nodes = [helper.make_node("QLinearConcat", ["sy", "zy", "x", "sx", "zx", "other", "sy", "zy"], ["y"], axis=1,
                                  domain="com.microsoft")]
    else:
        nodes = [helper.make_node("DequantizeLinear", ["x", "sx", "zx"], ["f"]),
                 helper.make_node("QuantizeLinear", ["f", "sy", "zy"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.INT8, x.shape)],
                              [helper.make_tensor_value_info("y", TensorProto.INT8, None)], inits)
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})[0][:, :x.shape[1]]


@pytest.mark.parametrize("concat", [False, True], ids=["dq_q", "qlinearconcat"])
def test_requantize_table_equals_onnxruntime(concat):
    """All 256 inputs, scales with ratios that make ties and scales that do not."""
    rng = np.random.default_rng(3)
    x = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)
    for k in range(24):
        sx, sy = f32(rng.uniform(1e-3, 0.2)), f32(rng.uniform(1e-3, 0.2))
        if k % 3 == 0:
            sy = f32(sx * rng.choice([2.0, 4.0, 0.5, 8.0]))
        zx, zy = int(rng.integers(-128, 128)), int(rng.integers(-128, 128))
        want = _ort_requantize(x, sx, zx, sy, zy, concat)
        got = float_requant.requantize_table(sx, zx, sy, zy).view(np.int8)[x.view(np.uint8)]
        assert np.array_equal(got, want), (sx, zx, sy, zy)


def test_emulation_equals_onnxruntime():
    graph = _graph()
    for batch in _inputs(graph, 3):
        for op, x in _op_inputs(graph, batch):
            case = op.options["_case"]
            if case["kind"] in ("add", "mul", "bmm"):
                a, b = (graph.tensors[i] for i in op.inputs[:2])
                out = graph.tensors[op.outputs[0]]
                if case["kind"] == "bmm":
                    node = helper.make_node("QLinearMatMul", ["a", "sa", "za", "b", "sb", "zb", "sc", "zc"], ["y"])
                else:
                    kind = "QLinearAdd" if case["kind"] == "add" else "QLinearMul"
                    node = helper.make_node(kind, ["a", "sa", "za", "b", "sb", "zb", "sc", "zc"], ["y"],
                                            domain="com.microsoft")
                inits = _scalars(sa=a.scale, za=a.zero_point, sb=b.scale, zb=b.zero_point, sc=out.scale,
                                 zc=out.zero_point)
                want = _ort_single(node, inits, {"a": x[0], "b": x[1]})
                lo, hi = activation_range(op.options.get("fused_activation_function", "NONE"), out.scale,
                                          out.zero_point)
                assert np.array_equal(_emulate(graph, op, x), np.clip(want, lo, hi)), case
                continue
            if case["kind"] == "quantize":
                inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
                want = _ort_requantize(x, inp.scale, inp.zero_point, out.scale, out.zero_point, False)
                assert np.array_equal(_emulate(graph, op, x), want), case
                continue
            if case["kind"] == "mean":
                inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
                node = helper.make_node("QLinearGlobalAveragePool", ["x", "sx", "zx", "sy", "zy"], ["y"],
                                        domain="com.microsoft")
                inits = _scalars(sx=inp.scale, zx=inp.zero_point, sy=out.scale, zy=out.zero_point)
                want = _ort_single(node, inits, {"x": np.ascontiguousarray(x.transpose(0, 3, 1, 2))})
                assert np.array_equal(_emulate(graph, op, x), want.transpose(0, 2, 3, 1)), case
                continue
            inp, wt, bt = (graph.tensors[i] for i in op.inputs[:3])
            out = graph.tensors[op.outputs[0]]
            want = _ort_run(case, x, wt.data, bt.data, inp.scale, inp.zero_point, list(wt.quant.scale),
                            out.scale, out.zero_point)
            got = _emulate(graph, op, x)
            act = op.options.get("fused_activation_function", "NONE")
            if act != "NONE":  # onnxruntime has no fused activation: clamp its result the same way
                lo, hi = activation_range(act, out.scale, out.zero_point)
                want = np.clip(want, lo, hi)
            assert np.array_equal(got, want.reshape(got.shape)), (case, int((got != want).sum()))


def test_ties_are_exercised():
    """The power-of-two cases really produce ties, where half-to-even and half-away differ."""
    graph = _graph()
    x = _inputs(graph, 1)[0]
    ties = 0
    for op, xi in _op_inputs(graph, x):
        case = op.options["_case"]
        if not case.get("ties") or case["kind"] in ("quantize", "mean", "add", "mul", "bmm"):
            continue
        inp, wt, bt = (graph.tensors[i] for i in op.inputs[:3])
        out = graph.tensors[op.outputs[0]]
        acc = _sums(case, xi, wt.data, bt.data.astype(np.int64), inp.zero_point)
        v = acc.astype(f32) * float_requant.product_scales(inp.scale, np.array(wt.quant.scale), out.scale)
        ties += int(np.sum((np.abs(v) % 1 == 0.5) & (np.abs(v) < 127)))
    assert ties > 20


# Cores without an FPU (mcf_requant_f32_pre with the compiler's constants, mcf_requant_f32_soft elsewhere).
SOFT_PATHS = {"soft-float": ("-DMCF_REQUANT_F32_SOFT=1",),
              "portable-soft-float": ("-DMCF_PORTABLE_KERNELS", "-DMCF_REQUANT_F32_SOFT=1")}


@pytest.mark.parametrize("scratch", [False, True], ids=["no_scratch", "scratch"])
@pytest.mark.parametrize("path", [*KERNEL_PATHS, *SOFT_PATHS])
def test_host_equals_emulation(path, scratch, monkeypatch):
    from mcuforge.generator import compiler

    if not scratch:  # no holes in the arena for scratch, no overlaps: the scratch-free paths
        monkeypatch.setattr(compiler, "fit_in_gaps", lambda *_args: None)
        monkeypatch.setattr(compiler, "overlap_allowances", lambda *_args: {})
    graph = _graph()
    cm = compile_graph(graph, scratch_may_grow_arena=scratch)
    functions = {c.function for c in cm.calls}
    assert all(f.endswith("_f32") for f in functions - {"mcf_requantize_8"}), functions
    paths = {f.removesuffix("_f32").removesuffix("_full").removesuffix("_clamp") for f in functions}
    assert {"mcf_conv2d_s8_first", "mcf_conv2d_s8_narrow_k8"} <= paths
    if scratch:
        assert "mcf_conv2d_s8_im2col" in paths
    else:
        assert {"mcf_conv2d_s8_stack", "mcf_conv2d_s8_direct", "mcf_conv2d_s8_ref", "mcf_depthwise_conv2d_s8_fast",
                "mcf_depthwise_conv2d_s8_mult", "mcf_fully_connected_s8_fast_path"} <= paths
    assert "mcf_requantize_8" in functions  # QUANTIZE keeps its kernel; only its table differs
    assert {"mcf_mean_s8_f32", "mcf_add_s8_f32", "mcf_mul_s8_f32", "mcf_batch_matmul_s8_f32"} <= functions
    batches = _inputs(graph, 3)
    with HostModel(generate(cm, "model"), extra_flags={**KERNEL_PATHS, **SOFT_PATHS}[path]) as host:
        results = host.run(batches)
    for batch, got in zip(batches, results, strict=True):
        for (op, x), g in zip(_op_inputs(graph, batch), got, strict=True):
            want = _emulate(graph, op, x)
            assert np.array_equal(g.reshape(want.shape), want), (op.options["_case"], int((g != want).sum()))


def test_without_the_option_the_tflite_stage_stays():
    graph = parse_model(_model(), name="t.tflite")
    functions = {c.function for c in compile_graph(graph).calls}
    assert not any(f.endswith("_f32") for f in functions)


# ---------------------------------------------------------------------------------------------
# On the device: the float32 stage on a Cortex-M3 (libgcc's soft-float) and a Cortex-M4F (FPU
# instructions) gives the host's bytes.


@pytest.mark.slow
@pytest.mark.parametrize("board", ["mps2_an385", "mps2_an386"])
def test_on_device_same_bytes_as_host(tmp_path, monkeypatch, board):
    import shutil

    tools = ("arm-none-eabi-gcc", "qemu-system-arm", "cmake", "ninja")
    if not all(shutil.which(t) for t in tools):
        pytest.skip("needs " + ", ".join(tools))
    from test_kernels_on_device import build_firmware

    from mcuforge.generator import compiler, scaffold
    from mcuforge.hil.session import open_session

    def compile_float32(graph, **kwargs):
        for op in graph.operators:
            op.options[float_requant.OPTION] = float_requant.FLOAT32
        return compiler.compile_graph(graph, **kwargs)

    model_path = tmp_path / "float_requant.tflite"
    model_path.write_bytes(_model())
    monkeypatch.setattr(scaffold, "compile_graph", compile_float32)
    project = build_firmware(tmp_path, model_path, board)
    calls = "".join(f.read_text() for f in project.rglob("float_requant*.c"))
    import re

    names = "conv2d|depthwise_conv2d|fully_connected|mean|add|mul|batch_matmul"
    kernels = re.findall(rf"\b(mcf_(?:{names})_s8\w*)\(", calls)
    assert len(kernels) >= 15 and all(k.endswith("_f32") for k in kernels), kernels
    graph = _graph()
    with open_session(project, infer_timeout=300.0) as s:
        for batch in _inputs(graph, 2):
            got = s.device.infer(batch).outputs
            for (op, x), g in zip(_op_inputs(graph, batch), got, strict=True):
                want = _emulate(graph, op, x)
                assert np.array_equal(g.reshape(want.shape), want), (board, op.options["_case"])


# ---------------------------------------------------------------------------------------------
# onnxruntime's formulas for the operators mcuforge does not give the float32 stage yet
# (docs/kernels.md): kept proven here for when they are implemented.


def _ort_single(node, inits, feeds):
    inputs = [helper.make_tensor_value_info(k, TensorProto.INT8, v.shape) for k, v in feeds.items()]
    graph = helper.make_graph([node], "g", inputs, [helper.make_tensor_value_info("y", TensorProto.INT8, None)],
                              inits)
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)[0]


def _scalars(**values):
    return [numpy_helper.from_array(np.asarray(v, np.int8 if k.startswith("z") else f32), k)
            for k, v in values.items()]


def _rne_sat(v, zp=0):
    return np.clip(np.rint(np.clip(v, f32(-1024), f32(1024))) + zp, -128, 127).astype(np.int8)


def fma_f32(a, b, c):
    """float32 fused multiply-add, rounded once, for a * b exact in float64 (a holds small integers):
    the float64 sum is corrected where it fell exactly on a float32 midpoint but was not exact."""
    a, b, c = (np.asarray(v, np.float64) for v in np.broadcast_arrays(a, b, c))
    p = a * b
    s = p + c
    t = s - p
    err = (p - (s - t)) + (c - t)  # s + err == p + c exactly (TwoSum)
    r = s.astype(f32)
    toward = np.nextafter(r, np.where(s > r, f32(np.inf), f32(-np.inf)).astype(f32))
    midpoint = (s != r) & (2 * s == r.astype(np.float64) + toward.astype(np.float64))
    s = np.where(midpoint & (err != 0), np.nextafter(s, np.where(err > 0, np.inf, -np.inf)), s)
    return s.astype(f32)


def test_fma_emulation_rounds_once():
    # 1 + 2^-24 is a float32 midpoint: a separate product and sum round it to even (1.0), one
    # fused rounding of 1 + 2^-24 + 2^-60 goes up.
    assert fma_f32(1.0, f32(1.0), f32(2.0**-24)) == f32(1.0)
    assert fma_f32(f32(1.0 + 2.0**-23), f32(1.0 + 2.0**-23), f32(-(1.0 + 2.0**-22))) == f32(2.0**-46)


def test_qlinearadd_formula_uses_fma():
    rng = np.random.default_rng(21)
    a = np.repeat(np.arange(-128, 128, dtype=np.int8), 256).reshape(1, -1)
    b = np.tile(np.arange(-128, 128, dtype=np.int8), 256).reshape(1, -1)
    fused_only = 0
    for trial in range(3):
        sa, sb, sc = (f32(v) for v in rng.uniform(0.01, 0.1, 3))
        za, zb, zc = (int(v) for v in rng.integers(-30, 30, 3))
        if trial == 0:  # sums of halves with a last-place tail: the tail decides the rounding
            sa, sb, sc, za, zb, zc = f32(0.5 + 2.0**-24), f32(0.5 - 2.0**-25), f32(1.0), 0, 0, 0
        got = _ort_single(helper.make_node("QLinearAdd", ["a", "sa", "za", "b", "sb", "zb", "sc", "zc"], ["y"],
                                           domain="com.microsoft"),
                          _scalars(sa=sa, za=za, sb=sb, zb=zb, sc=sc, zc=zc), {"a": a, "b": b})
        ra, rb = sa / sc, sb / sc
        k = f32(f32(zc) - f32(ra * f32(za) + rb * f32(zb)))
        af, bf = a.astype(f32), b.astype(f32)
        want = _rne_sat(fma_f32(af, ra, fma_f32(bf, rb, k)))
        separate = _rne_sat(f32(f32(k + f32(bf * rb)) + f32(af * ra)))
        assert np.array_equal(got, want)
        fused_only += int(np.sum(want != separate))
    assert fused_only > 0  # the data tells the two apart


def test_global_average_pool_formula():
    rng = np.random.default_rng(22)
    for _ in range(6):
        x = rng.integers(-128, 128, (1, 8, 5, 7)).astype(np.int8)
        sx, sy = f32(rng.uniform(0.01, 0.1)), f32(rng.uniform(0.001, 0.05))
        zx, zy = (int(v) for v in rng.integers(-30, 30, 2))
        got = _ort_single(helper.make_node("QLinearGlobalAveragePool", ["x", "sx", "zx", "sy", "zy"], ["y"],
                                           domain="com.microsoft"),
                          _scalars(sx=sx, zx=zx, sy=sy, zy=zy), {"x": x})
        n = 5 * 7
        acc = x.astype(np.int32).sum(axis=(2, 3), keepdims=True) - zx * n
        want = _rne_sat(acc.astype(f32) * (sx / f32(sy * f32(n))), zy)
        assert np.array_equal(got, want)


def test_average_pool_formula():
    rng = np.random.default_rng(23)
    x = rng.integers(-128, 128, (1, 4, 6, 7)).astype(np.int8)
    for include_pad in (0, 1):
        sx, sy = f32(rng.uniform(0.01, 0.1)), f32(rng.uniform(0.001, 0.05))
        zx, zy = (int(v) for v in rng.integers(-30, 30, 2))
        node = helper.make_node("QLinearAveragePool", ["x", "sx", "zx", "sy", "zy"], ["y"], domain="com.microsoft",
                                kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=include_pad)
        got = _ort_single(node, _scalars(sx=sx, zx=zx, sy=sy, zy=zy), {"x": x})
        real = (sx * (x.astype(np.int32) - zx).astype(f32)).astype(f32)
        want = np.zeros_like(got)
        for i in range(6):
            for j in range(7):
                total = np.zeros(4, f32)
                rows, cols = range(max(i - 1, 0), min(i + 2, 6)), range(max(j - 1, 0), min(j + 2, 7))
                for h in rows:
                    for w in cols:
                        total = (total + real[0, :, h, w]).astype(f32)
                count = 9 if include_pad else len(rows) * len(cols)
                want[0, :, i, j] = _rne_sat((total / f32(count)).astype(f32) / sy, zy)
        assert np.array_equal(got, want)


def test_fma_small_f32_in_c(tmp_path):
    """mcf_fma_small_f32 (double two-sum path, as on M0/M3/RV32 and the host) where the double sum
    lands exactly on a float32 midpoint that the exact value is not on: 65 * r = 2^-24 + 2^-54, so
    1 + 65 * r lies just above the midpoint 1 + 2^-24 and rounds up; a plain double sum rounds to
    the midpoint and then to even (1.0)."""
    import shutil
    import subprocess
    from pathlib import Path

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("needs a C compiler")
    r = f32(16519105 * 2.0**-54)
    cases = [(65, r, f32(1.0)), (-65, r, f32(-1.0)), (65, r, f32(-1.0)), (3, f32(0.1), f32(0.7)),
             (127, f32(0.5 + 2.0**-24), f32(-63.0))]
    rows = ",\n".join(f"{{{a}, {float(x)!r}f, {float(c)!r}f}}" for a, x, c in cases)
    src = tmp_path / "fma.c"
    src.write_text(f"""#include <stdio.h>
#include "mcf_common.h"
static const struct {{ int a; float r, c; }} cases[] = {{ {rows} }};
int main(void) {{
    unsigned i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; ++i) {{
        printf("%a\\n", (double)mcf_fma_small_f32(cases[i].a, cases[i].r, cases[i].c));
    }}
    return 0;
}}
""")
    kernels = Path(__file__).resolve().parents[1] / "runtime" / "kernels"
    exe = tmp_path / "fma"
    subprocess.run([cc, "-std=c99", "-O2", "-I", str(kernels), str(src), "-o", str(exe)], check=True)
    got = [f32(float.fromhex(line)) for line in subprocess.run([str(exe)], check=True, capture_output=True,
                                                                text=True).stdout.split()]
    want = [fma_f32(f32(a), x, c) for a, x, c in cases]
    assert got == want
    assert got[0] == f32(1.0 + 2.0**-23) and got[1] == f32(-1.0 - 2.0**-23)
