"""Resize of quantized ONNX models against onnxruntime (1.32), on the host (fast and portable kernel
paths): bit for bit in every case.

onnxruntime runs a linear Resize three ways (generator/ops/resize_ort.py), and every one is here:
- QOperator form (the Resize reads the 8-bit tensor itself) on a tensor it holds NCHW (straight
  from a QuantizeLinear): its 8-bit kernel, float32 interpolation truncated toward zero;
- the same after a QLinearConv, which onnxruntime's layout optimizer runs NHWC and the Resize with
  it (generator/frontends/onnx_layout.py): its integer kernel, weights in 1/1024;
- QDQ form (DequantizeLinear -> Resize -> QuantizeLinear), which onnxruntime leaves in float32
  either way: dequantized values interpolated in float32, then QuantizeLinear (also to another
  scale than the input's).
Nearest Resize picks values and is exact in every form. One model holds every case: int8 and
uint8, half_pixel / align_corners / asymmetric, 2x and non-integer up- and downscaling.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx_builder import run_ort

from mcuforge.generator.codegen import generate
from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends.onnx import parse_model
from mcuforge.generator.hostbuild import HostModel

IN_SHAPE = (1, 3, 6, 7)
SIZES = {"2x": (12, 14), "up": (11, 9), "down": (4, 3)}
COORDS = ("half_pixel", "align_corners", "asymmetric")
QUANT = {"int8": (0.02, -3, np.int8), "uint8": (0.02, 121, np.uint8)}  # covers every stored value
OTHER = {"int8": (0.013, 7, np.int8), "uint8": (0.013, 140, np.uint8)}  # a QuantizeLinear to another scale
PATHS = {"fast": ("-O0",), "portable": ("-O0", "-DMCF_PORTABLE_KERNELS")}
KIND = {("qoperator", "q"): "float", ("qoperator", "conv"): "nhwc_int", ("qdq", "q"): "qdq", ("qdq", "conv"): "qdq"}


def _model() -> tuple[bytes, list[tuple[str, str, float]]]:
    """Every case's output is y_<case>; cases: (name, the kind of onnxruntime kernel, output scale)."""
    nodes, inits, outputs, cases = [], [], [], []
    rng = np.random.default_rng(3)
    inits += [numpy_helper.from_array(rng.integers(-60, 61, size=(3, 3, 1, 1)).astype(np.int8), "w"),
              numpy_helper.from_array(np.array(0.012, np.float32), "ws"),
              numpy_helper.from_array(np.array(0, np.int8), "wz")]

    def resize(k: str, dt: str, form: str, src: str, oh: int, ow: int, out_q: str, **attrs) -> None:
        size = f"size_{k}"
        inits.append(numpy_helper.from_array(np.array([1, 3, oh, ow], np.int64), size))
        q_in, q_out = f"{dt}", f"{out_q}_{dt}"
        if form == "qoperator":
            nodes.append(helper.make_node("Resize", [src, "", "", size], [f"r_{k}"], **attrs))
        else:
            nodes.extend([
                helper.make_node("DequantizeLinear", [src, f"s_{q_in}", f"z_{q_in}"], [f"d_{k}"]),
                helper.make_node("Resize", [f"d_{k}", "", "", size], [f"f_{k}"], **attrs),
                helper.make_node("QuantizeLinear", [f"f_{k}", f"s_{q_out}", f"z_{q_out}"], [f"r_{k}"])])
        nodes.append(helper.make_node("DequantizeLinear", [f"r_{k}", f"s_{q_out}", f"z_{q_out}"], [f"y_{k}"]))
        outputs.append(helper.make_tensor_value_info(f"y_{k}", TensorProto.FLOAT, [1, 3, oh, ow]))

    for dt, (scale, zp, np_t) in QUANT.items():
        o_scale, o_zp, _ = OTHER[dt]
        inits += [numpy_helper.from_array(np.array(scale, np.float32), f"s_{dt}"),
                  numpy_helper.from_array(np.array(zp, np_t), f"z_{dt}"),
                  numpy_helper.from_array(np.array(o_scale, np.float32), f"s_other_{dt}"),
                  numpy_helper.from_array(np.array(o_zp, np_t), f"z_other_{dt}")]
        nodes += [helper.make_node("QuantizeLinear", ["x", f"s_{dt}", f"z_{dt}"], [f"q_{dt}"]),
                  helper.make_node("QLinearConv", [f"q_{dt}", f"s_{dt}", f"z_{dt}", "w", "ws", "wz", f"s_{dt}",
                                                   f"z_{dt}"], [f"conv_{dt}"])]
        for form in ("qoperator", "qdq"):
            for src in ("q", "conv"):
                for coord in COORDS:
                    for which, (oh, ow) in SIZES.items():
                        k = f"{form}_{dt}_{src}_{coord}_{which}"
                        resize(k, dt, form, f"{src}_{dt}", oh, ow, "same", mode="linear",
                               coordinate_transformation_mode=coord)
                        cases.append((k, KIND[form, src], scale))
                k = f"{form}_{dt}_{src}_nearest"
                resize(k, dt, form, f"{src}_{dt}", 12, 14, "same", mode="nearest",
                       coordinate_transformation_mode="asymmetric", nearest_mode="floor")
                cases.append((k, "nearest", scale))
        k = f"qdq_{dt}_conv_other_scale"
        resize(k, dt, "qdq", f"conv_{dt}", 11, 9, "other", mode="linear")
        cases.append((k, "qdq", o_scale))
    for dt, (scale, zp, np_t) in QUANT.items():  # the same-scale names resize() uses
        inits += [numpy_helper.from_array(np.array(scale, np.float32), f"s_same_{dt}"),
                  numpy_helper.from_array(np.array(zp, np_t), f"z_same_{dt}")]
    graph = helper.make_graph(nodes, "resize", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(IN_SHAPE))],
                              outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString(), cases


@pytest.fixture(scope="module")
def setup():
    model, cases = _model()
    rng = np.random.default_rng(12)
    data = [rng.uniform(-2.8, 2.8, size=IN_SHAPE).astype(np.float32) for _ in range(2)]
    want = [run_ort(model, {"x": x}) for x in data]
    graph = parse_model(model, name="resize.onnx")
    lib = generate(compile_graph(graph), "model")
    return cases, data, want, graph, lib


def test_the_lowering_picks_onnxruntimes_kernel(setup) -> None:
    cases, _, _, graph, _ = setup
    bilinear = [op for op in graph.operators if op.opcode == "RESIZE_BILINEAR"]
    linear = [kind for _, kind, _ in cases if kind != "nearest"]
    assert len(bilinear) == len(linear)
    marked = [op.options.get("ort_linear") for op in bilinear]
    assert all(m is not None for m in marked)
    assert sorted(m[4] for m in marked) == sorted(linear)  # graph order is case order per kind
    assert {m[3] for m in marked if m[4] != "qdq"} == {0, 128}  # int8 and uint8 data


@pytest.mark.parametrize("path", list(PATHS))
def test_resize_equals_onnxruntime(setup, path: str) -> None:
    cases, data, want, _, lib = setup
    with HostModel(lib, extra_flags=PATHS[path]) as host:
        got = host.run([[x] for x in data])
    off: dict[str, int] = {}
    for outs, refs in zip(got, want, strict=True):
        for (name, _, scale), g, w in zip(cases, outs, refs, strict=True):
            steps = np.rint(np.abs(g.astype(np.float64) - w.reshape(g.shape)) / scale).astype(int)
            off[name] = off.get(name, 0) + int((steps > 0).sum())
    assert {k: v for k, v in off.items() if v} == {}


def test_the_other_kernels_would_differ(setup) -> None:
    """The three onnxruntime kernels give different results on these inputs, so each case tests its
    own: the NHWC integer kernel's weights on NCHW data (and the float one's on NHWC data) differ
    from onnxruntime in some elements."""
    import dataclasses

    cases, data, want, graph, _ = setup
    swap = {"float": "nhwc_int", "nhwc_int": "float"}
    ops = []
    for op in graph.operators:
        m = op.options.get("ort_linear")
        if m is not None and m[4] in swap:
            op = dataclasses.replace(op, options={**op.options, "ort_linear": (*m[:4], swap[m[4]])})
        ops.append(op)
    lib = generate(compile_graph(dataclasses.replace(graph, operators=ops)), "model")
    with HostModel(lib, extra_flags=PATHS["fast"]) as host:
        got = host.run([[x] for x in data])
    differ = {kind: 0 for kind in swap}
    for outs, refs in zip(got, want, strict=True):
        for (_, kind, scale), g, w in zip(cases, outs, refs, strict=True):
            if kind in swap:
                differ[kind] += int((np.rint(np.abs(g - w.reshape(g.shape)) / scale) > 0).sum())
    assert all(v > 0 for v in differ.values()), differ


def test_convert_writes_tflites_resize_and_says_it_is_not_onnxruntimes(setup) -> None:
    """`mcuforge convert`: onnxruntime's forms have no TFLite equivalent; TFLite's RESIZE_BILINEAR is
    written (with a QUANTIZE after it where the QuantizeLinear after a QDQ Resize has another scale)
    and listed as not bit-exact with onnxruntime. In TFLite Micro the results stay within two steps
    of onnxruntime's (its own rounding and 1/1024 coordinates), nearest Resize exact."""
    from mcuforge.generator.exporters import write_tflite
    from mcuforge.generator.references import TflmReference

    cases, data, want, graph, _ = setup
    written = write_tflite(graph)
    marked = [op.index for op in graph.operators if op.options.get("ort_linear") is not None]
    assert [i for i, opcode in written.inexact if opcode == "RESIZE_BILINEAR"] == marked
    assert len(marked) == sum(kind != "nearest" for _, kind, _ in cases)
    got = TflmReference(written.data).run([data[0]], len(graph.outputs))
    worst = {name: int(np.rint(np.abs(g.astype(np.float64) - w.reshape(g.shape)) / scale).max())
             for (name, _, scale), g, w in zip(cases, got, want[0], strict=True)}
    assert max(worst.values()) <= 2, worst
    assert all(v == 0 for k, v in worst.items() if k.endswith("nearest")), worst


# ---- which Resize onnxruntime runs NHWC (generator/frontends/onnx_layout.py) ---------------------

def _ms(op: str, ins: list[str], **attrs) -> onnx.NodeProto:
    return helper.make_node(op, ins, ["t"], domain="com.microsoft", **attrs)


_QS = ["s", "z"]
LAYOUT_CASES: dict[str, tuple[list[onnx.NodeProto], bool]] = {
    # name: (the nodes from the two QLinearConv outputs c, c2 and the QuantizeLinear q to t, a QLinearConv after
    # the Resize); onnxruntime 1.32 runs the linear Resize NHWC in conv, maxpool, add_two_convs,
    # add_constant_conv_after, concat_two_convs, sigmoid_conv_after, global_avgpool, linear_resize,
    # nearest_resize_conv_after, mul_two_convs, leakyrelu_conv_after
    "conv": ([helper.make_node("Identity", ["c"], ["t"])], False),
    "maxpool": ([helper.make_node("MaxPool", ["c"], ["t"], kernel_shape=[1, 1])], False),
    "add_two_convs": ([_ms("QLinearAdd", ["c", *_QS, "c2", *_QS, *_QS])], False),
    "add_conv_and_input": ([_ms("QLinearAdd", ["c", *_QS, "q", *_QS, *_QS])], False),
    "add_constant": ([_ms("QLinearAdd", ["c", *_QS, "k", *_QS, *_QS])], False),
    "add_constant_conv_after": ([_ms("QLinearAdd", ["c", *_QS, "k", *_QS, *_QS])], True),
    "concat_two_convs": ([_ms("QLinearConcat", [*_QS, "c", *_QS, "c2", *_QS], axis=1)], False),
    "sigmoid": ([_ms("QLinearSigmoid", ["c", *_QS, *_QS])], False),
    "sigmoid_conv_after": ([_ms("QLinearSigmoid", ["c", *_QS, *_QS])], True),
    "avgpool": ([_ms("QLinearAveragePool", ["c", *_QS, *_QS], kernel_shape=[1, 1])], False),
    "global_avgpool": ([_ms("QLinearGlobalAveragePool", ["c", *_QS, *_QS], channels_last=0)], False),
    "linear_resize": ([helper.make_node("Resize", ["c", "", "sc"], ["t"], mode="linear")], False),
    "nearest_resize": ([helper.make_node("Resize", ["c", "", "sc"], ["t"], mode="nearest")], False),
    "nearest_resize_conv_after": ([helper.make_node("Resize", ["c", "", "sc"], ["t"], mode="nearest")], True),
    "input": ([helper.make_node("Identity", ["q"], ["t"])], False),
    "input_conv_after": ([helper.make_node("Identity", ["q"], ["t"])], True),
    "maxpool_input_conv_after": ([helper.make_node("MaxPool", ["q"], ["t"], kernel_shape=[1, 1])], True),
    "add_conv_and_input_conv_after": ([_ms("QLinearAdd", ["c", *_QS, "q", *_QS, *_QS])], True),
    "mul_two_convs": ([_ms("QLinearMul", ["c", *_QS, "c2", *_QS, *_QS])], False),
    "leakyrelu": ([_ms("QLinearLeakyRelu", ["c", *_QS, *_QS], alpha=0.1)], False),
    "leakyrelu_conv_after": ([_ms("QLinearLeakyRelu", ["c", *_QS, *_QS], alpha=0.1)], True),
}


def _layout_model(body: list[onnx.NodeProto], conv_after: bool) -> onnx.ModelProto:
    c = 4
    rng = np.random.default_rng(1)
    consts = {"s": np.array(0.02, np.float32), "z": np.array(-3, np.int8), "sc": np.array([1, 1, 2, 2], np.float32),
              "w": rng.integers(-60, 61, size=(c, c, 1, 1)).astype(np.int8), "ws": np.array(0.01, np.float32),
              "wz": np.array(0, np.int8), "k": np.full((1, c, 1, 1), 5, np.int8)}
    conv = ["s", "z", "w", "ws", "wz", "s", "z"]
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
             helper.make_node("QLinearConv", ["q", *conv], ["c"]),
             helper.make_node("QLinearConv", ["q", *conv], ["c2"]),
             *body, helper.make_node("Resize", ["t", "", "sc"], ["r"], mode="linear")]
    nodes.append(helper.make_node("QLinearConv", ["r", *conv], ["r2"]) if conv_after
                 else helper.make_node("Identity", ["r"], ["r2"]))
    nodes.append(helper.make_node("DequantizeLinear", ["r2", "s", "z"], ["y"]))
    graph = helper.make_graph(nodes, "layout", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, 6, 7])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              initializer=[numpy_helper.from_array(v, k) for k, v in consts.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13),
                                                    helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    return model


def _linear_resizes_nhwc_in_onnxruntime(model: onnx.ModelProto, path) -> list[bool]:
    """Per linear Resize of the graph onnxruntime optimized: whether it runs NHWC (its scales permuted)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.optimized_model_filepath = str(path)
    so.log_severity_level = 3
    ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    opt = onnx.load(str(path))
    inits = {i.name: numpy_helper.to_array(i) for i in opt.graph.initializer}
    res = []
    for n in opt.graph.node:
        if n.op_type == "Resize" and any(a.name == "mode" and a.s == b"linear" for a in n.attribute):
            sc = inits[n.input[2]]
            res.append(bool(sc[1] != 1 and sc[3] == 1))
    return res


def test_onnx_layout_predicts_which_resize_onnxruntime_runs_nhwc(tmp_path) -> None:
    from mcuforge.generator.frontends.onnx_layout import ort_channels_last

    wrong = {}
    for name, (body, conv_after) in LAYOUT_CASES.items():
        model = _layout_model(body, conv_after)
        nhwc = ort_channels_last(model)
        predicted = [n.input[0] in nhwc for n in model.graph.node
                     if n.op_type == "Resize" and any(a.name == "mode" and a.s == b"linear" for a in n.attribute)]
        measured = _linear_resizes_nhwc_in_onnxruntime(model, tmp_path / f"{name}.onnx")
        if measured != predicted:
            wrong[name] = (measured, predicted)
    assert not wrong
