"""`validate` and `convert` on .onnx models (built with onnx.helper, quantized by onnxruntime):
onnxruntime is the reference, a difference is laid on the operator where it starts, and the
.tflite that `convert` writes runs in TFLite Micro exactly as mcuforge's C build of it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx_builder as ob

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.divergence import first_difference
from mcuforge.generator.exporters import write_tflite
from mcuforge.generator.frontends import read_model
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.validate import random_inputs, validate_compiled


def _net(w2_seed: int = 1) -> ob.onnx.ModelProto:
    """Conv 3x3 (+Relu) → MaxPool → Conv 3x3 → GlobalAveragePool → Flatten → Gemm."""
    rng = np.random.default_rng(0)
    init = {"w1": rng.normal(0, 0.3, size=(8, 3, 3, 3)).astype(np.float32),
            "b1": rng.normal(0, 0.1, size=8).astype(np.float32),
            "w2": np.random.default_rng(w2_seed).normal(0, 0.2, size=(8, 8, 3, 3)).astype(np.float32),
            "w3": rng.normal(0, 0.3, size=(5, 8)).astype(np.float32),
            "b3": rng.normal(0, 0.1, size=5).astype(np.float32)}
    nodes = [ob.node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]), ob.node("Relu", ["c1"], ["r1"]),
             ob.node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
             ob.node("Conv", ["p1", "w2"], ["c2"], pads=[1, 1, 1, 1]), ob.node("Relu", ["c2"], ["r2"]),
             ob.node("GlobalAveragePool", ["r2"], ["g"]), ob.node("Flatten", ["g"], ["f"]),
             ob.node("Gemm", ["f", "w3", "b3"], ["y"], transB=1)]
    return ob.float_model(nodes, {"x": [1, 3, 12, 12]}, {"y": [1, 5]}, init)


def test_first_difference_names_the_operator_on_an_onnx_model():
    """The C of one model against onnxruntime running another that differs only in the second
    convolution's weights: the first convolution agrees, the second is named."""
    # 7-bit weights: full-range ones can saturate in onnxruntime's x86 u8 x s8 kernel, so its
    # first convolution would differ already (references.onnxrt.saturation_note)
    model = ob.quantize(_net(1), per_channel=True, reduce_range=True)
    other = ob.quantize(_net(2), per_channel=True, reduce_range=True)
    path = Path(ob.save(model, Path(__import__("tempfile").mkdtemp()) / "net.onnx"))
    graph = read_model(path)
    x = random_inputs(graph, 1, 0)[0]
    where = first_difference(graph, other, x)
    assert where is not None
    convs = [op.index for op in graph.operators if op.opcode == "CONV_2D"]
    assert (where.operator, where.opcode) == (convs[1], "CONV_2D"), where


@pytest.mark.parametrize("activations", ["int8", "uint8"])
def test_convert_an_onnx_model_runs_in_tflite_micro_as_mcuforges_c(tmp_path: Path, activations: str):
    path = ob.save(ob.quantize(_net(), activations=activations, per_channel=True), tmp_path / "net.onnx")
    graph = read_model(path)
    written = write_tflite(graph)
    assert written.inexact, "onnxruntime's float32 output stage is named"
    tgraph = parse_model(written.data, "net.tflite")
    res = validate_compiled(compile_graph(tgraph), written.data, random_inputs(tgraph, 2, 3))
    assert res.reference == "TFLite Micro" and res.ok, res.to_json()


def test_cli_validate_json_on_an_onnx_model(tmp_path: Path):
    w = np.random.default_rng(0).normal(0, 0.3, size=(4, 2, 3, 3)).astype(np.float32)
    single = ob.single_op("Conv", [[1, 2, 6, 6]], [1, 4, 6, 6], {"w": w}, ["w"], pads=[1, 1, 1, 1])
    path = ob.save(ob.quantize(single, per_channel=True), tmp_path / "conv.onnx")
    proc = subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", "validate", "--json", "--inputs", "2",
                           str(path)], capture_output=True, text=True, timeout=600)
    assert "Traceback" not in proc.stderr
    res = json.loads(proc.stdout)
    assert res["reference"] == "onnxruntime" and res["inputs"] == 2
    (out,) = res["outputs"]
    assert {"bit_exact", "max_steps", "top1_agree", "differing_elements", "elements"} <= set(out)
    assert proc.returncode == (0 if res["ok"] else 1)
