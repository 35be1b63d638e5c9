"""The op-by-op comparison of `validate` on .onnx models: onnxruntime's intermediate values as its
optimized graph computes them (references.onnx_probe), mapped onto the IR's tensors, the first
operator whose output differs named with its ONNX node, and nothing that raises."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx_builder as ob
import onnxruntime as ort

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.divergence import search
from mcuforge.generator.frontends import read_model
from mcuforge.generator.references import onnx_probe
from mcuforge.generator.validate import random_inputs, validate_compiled


def _hard_swish_net(w2_seed: int = 1):
    """Conv → HardSwish written out (HardSigmoid, Mul: the Conv's DequantizeLinear has two readers)
    → Conv + Relu → Add of the two (a second shared one) → GlobalAveragePool → Flatten → Gemm."""
    rng = np.random.default_rng(0)
    init = {"w1": rng.normal(0, 0.3, size=(8, 3, 3, 3)).astype(np.float32),
            "w2": np.random.default_rng(w2_seed).normal(0, 0.2, size=(8, 8, 3, 3)).astype(np.float32),
            "w3": rng.normal(0, 0.3, size=(5, 8)).astype(np.float32)}
    nodes = [ob.node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
             ob.node("HardSigmoid", ["c1"], ["h"], alpha=1 / 6, beta=0.5, name="hsig"),
             ob.node("Mul", ["c1", "h"], ["m"], name="hswish"),
             ob.node("Conv", ["m", "w2"], ["c2"], pads=[1, 1, 1, 1], name="conv2"),
             ob.node("Relu", ["c2"], ["r2"], name="relu2"), ob.node("Add", ["r2", "m"], ["a"], name="add"),
             ob.node("GlobalAveragePool", ["a"], ["g"], name="gap"), ob.node("Flatten", ["g"], ["f"], name="flat"),
             ob.node("Gemm", ["f", "w3"], ["y"], transB=1, name="fc")]
    return ob.float_model(nodes, {"x": [1, 3, 10, 10]}, {"y": [1, 5]}, init)


@pytest.fixture(scope="module", params=["int8", "uint8"])
def model(request, tmp_path_factory) -> tuple[Path, bytes]:
    data = ob.quantize(_hard_swish_net(), activations=request.param, per_channel=True, reduce_range=True,
                       low=-3, high=3)
    path = ob.save(data, tmp_path_factory.mktemp("fd") / f"hswish_{request.param}.onnx")
    return path, data


def test_probe_leaves_onnxruntimes_results_as_they_are(model):
    """Every quantized tensor is found in onnxruntime's optimized graph (int8 activations stay
    unfused around the shared DequantizeLinear, uint8 ones become channels-last QLinearConv), and
    running that graph with all of them as outputs gives the model's own final outputs."""
    _, data = model
    probe = onnx_probe.probe(data)
    assert probe.not_comparable == [] and len(probe.found) == len(probe.wanted) >= 8
    plain = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    for k in range(4):
        feed = {"x": np.random.default_rng(k).uniform(-3, 3, size=(1, 3, 10, 10)).astype(np.float32)}
        want = plain.run(None, feed)
        values, missing, agreed = onnx_probe.run(probe, feed, want)
        assert agreed and missing == []
        # The last integer tensor is the one the output's DequantizeLinear reads: equal to the output.
        y_q = values["y_QuantizeLinear_Output"]
        assert y_q.dtype == probe.wanted["y_QuantizeLinear_Output"][0]
        assert y_q.shape == want[0].shape


def test_probe_gives_other_outputs_as_not_comparable():
    """A probe whose final outputs do not match (as if the optimized graph computed otherwise)
    gives no value at all."""
    data = ob.quantize(_hard_swish_net(), per_channel=True, reduce_range=True, low=-3, high=3)
    probe = onnx_probe.probe(data)
    feed = {"x": np.zeros((1, 3, 10, 10), np.float32)}
    want = ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, feed)
    values, missing, agreed = onnx_probe.run(probe, feed, [want[0] + np.float32(1)])
    assert not agreed and values == {} and sorted(missing) == sorted(probe.wanted)


def test_agreeing_model_reports_no_intermediate_difference(model):
    path, data = model
    graph = read_model(path)
    found = search(graph, data, random_inputs(graph, 1, 0)[0])
    assert found.error == "" and found.note == ""
    assert found.first is None, found.first
    # Every operator output but layout changes the front end added is compared.
    assert found.compared >= len([op for op in graph.operators if op.opcode != "TRANSPOSE"]) - 1
    assert found.describe()[0].startswith("no intermediate difference")


def test_a_difference_is_laid_on_its_operator_and_onnx_node(model, monkeypatch):
    """onnxruntime's value of the HardSwish's Mul made one step off in one element: exactly that
    operator is named, with its ONNX node and tensor, 1 element, 1 step."""
    path, data = model
    graph = read_model(path)
    target = "m_QuantizeLinear_Output"
    real = onnx_probe.run

    def nudged(p, feed, expect):
        values, missing, agreed = real(p, feed, expect)
        v = values[target].copy()
        flat = v.reshape(-1)
        flat[7] = flat[7] - 1 if flat[7] > np.iinfo(v.dtype).min else flat[7] + 1
        return {**values, target: v}, missing, agreed

    monkeypatch.setattr(onnx_probe, "run", nudged)
    found = search(graph, data, random_inputs(graph, 1, 0)[0])
    where = found.first
    assert where is not None
    (op,) = [op for op in graph.operators if graph.tensors[op.outputs[0]].name in (target, "m")]
    assert (where.operator, where.opcode, where.onnx_node) == (op.index, op.opcode, "hswish"), where
    assert (where.elements, where.max_steps) == (1, 1)
    line = where.describe()
    assert line.startswith(f"first difference: operator {op.index} {op.opcode} (onnx node 'hswish', tensor ")
    assert line.endswith(f": 1 of {where.size} elements, max 1 step")


def test_validate_carries_the_first_difference_in_its_report(tmp_path: Path):
    """The C of one model against onnxruntime running another that differs only in the second
    convolution's weights: the report names conv2 (text and JSON)."""
    data = ob.quantize(_hard_swish_net(1), activations="uint8", per_channel=True, reduce_range=True, low=-3, high=3)
    other = ob.quantize(_hard_swish_net(2), activations="uint8", per_channel=True, reduce_range=True, low=-3, high=3)
    graph = read_model(ob.save(data, tmp_path / "net.onnx"))
    res = validate_compiled(compile_graph(graph), other, random_inputs(graph, 1, 0))
    assert res.bit_exact == 0 and res.intermediate is not None
    first = res.to_json()["first_difference"]
    assert first["opcode"] == "CONV_2D" and first["onnx_node"] == "conv2", first
    assert res.to_json()["intermediate"]["first_difference"] == first
    assert res.intermediate.describe()[0].startswith("first difference: operator ")


def test_search_never_raises(monkeypatch, tmp_path: Path):
    data = ob.quantize(_hard_swish_net(), per_channel=True, reduce_range=True, low=-3, high=3)
    graph = read_model(ob.save(data, tmp_path / "net.onnx"))
    x = random_inputs(graph, 1, 0)[0]
    # bytes onnxruntime cannot load: an error, not a traceback
    broken = search(graph, b"not a model", x)
    assert broken.first is None and "onnxruntime" in broken.error
    assert broken.describe() == [f"first difference: not searched ({broken.error})"]

    # no optimized graph to probe: only the graph outputs compare, the rest is not comparable
    def fail(_data):
        raise RuntimeError("no optimized graph")

    monkeypatch.setattr(onnx_probe, "probe", fail)
    found = search(graph, data, x)
    assert found.first is None and "no optimized graph" in found.note
    assert found.not_comparable and found.compared >= 1
    assert any(line.startswith("not comparable: ") for line in found.describe())


def _flatten_net(w3_seed: int):
    """Conv → Relu → Flatten of the NCHW tensor → Gemm → Gemm: the compiler moves the TRANSPOSE
    that keeps PyTorch's element order into the first Gemm's weights."""
    rng = np.random.default_rng(0)
    init = {"w1": rng.normal(0, 0.3, size=(4, 2, 3, 3)).astype(np.float32),
            "w2": rng.normal(0, 0.2, size=(6, 4 * 5 * 5)).astype(np.float32),
            "w3": np.random.default_rng(w3_seed).normal(0, 0.3, size=(3, 6)).astype(np.float32)}
    nodes = [ob.node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
             ob.node("Relu", ["c1"], ["r1"], name="relu1"), ob.node("Flatten", ["r1"], ["f"], name="flat"),
             ob.node("Gemm", ["f", "w2"], ["h"], transB=1, name="fc1"),
             ob.node("Gemm", ["h", "w3"], ["y"], transB=1, name="fc2")]
    return ob.float_model(nodes, {"x": [1, 2, 5, 5]}, {"y": [1, 3]}, init)


def test_search_starts_from_the_graph_as_read(tmp_path: Path):
    """validate's search recompiles the model with every tensor an output; from the graph as read,
    not the compiled one, whose TRANSPOSE was folded into fc1's weights (recompiled, it became a
    copy of channels-last data compared as NCHW, and was named as the first difference)."""
    data = ob.quantize(_flatten_net(1), per_channel=True, reduce_range=True, low=-3, high=3)
    other = ob.quantize(_flatten_net(2), per_channel=True, reduce_range=True, low=-3, high=3)
    graph = read_model(ob.save(data, tmp_path / "net.onnx"))
    cm = compile_graph(graph)
    assert any("into_weights_of" in op.options for op in cm.graph.operators)
    res = validate_compiled(cm, other, random_inputs(graph, 1, 0))
    assert res.bit_exact == 0
    first = res.to_json()["first_difference"]
    assert first["opcode"] == "FULLY_CONNECTED" and first["onnx_node"] == "fc2", first
