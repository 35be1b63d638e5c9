"""The ONNX front end's refusals and layout decisions, without building C (tests/test_onnx_ops.py
runs the models against onnxruntime)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx
from onnx_builder import float_model, node, quantize, single_op

from mcuforge.generator.errors import ModelError, UnsupportedModelError
from mcuforge.generator.frontends import read_model
from mcuforge.generator.frontends.onnx import parse_model

logging.getLogger().setLevel(logging.ERROR)


def _conv_model() -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    return single_op("Conv", [(1, 3, 6, 6)], (1, 4, 6, 6), {"w": rng.normal(size=(4, 3, 3, 3)).astype(np.float32),
                                                            "b": np.zeros(4, np.float32)}, ["w", "b"],
                     pads=[1, 1, 1, 1])


@pytest.mark.parametrize(("data", "needle"), [
    (b"", "the file is empty"),
    (np.random.default_rng(1).integers(0, 256, 999).astype(np.uint8).tobytes(), "not an ONNX model"),
    (b"\x08\x07", "holds no graph"),
])
def test_malformed_files(data: bytes, needle: str) -> None:
    with pytest.raises(ModelError, match=needle) as e:
        parse_model(data)
    assert "\n" not in str(e.value)


def test_truncated_file() -> None:
    q = quantize(_conv_model())
    with pytest.raises(ModelError) as e:
        parse_model(q[: len(q) // 2])
    assert "\n" not in str(e.value)


def test_float_model_refused() -> None:
    with pytest.raises(ModelError, match="quantize_static"):
        parse_model(_conv_model().SerializeToString())


def test_dynamic_batch_refused() -> None:
    m = onnx.load_from_string(quantize(_conv_model()))
    m.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "N"
    with pytest.raises(ModelError, match="--dim_param N --dim_value 1"):
        parse_model(m.SerializeToString())


def test_old_opset_refused() -> None:
    m = onnx.load_from_string(quantize(_conv_model()))
    m.opset_import[0].version = 11
    with pytest.raises(ModelError, match="opset 11"):
        parse_model(m.SerializeToString())


def test_unsupported_operator_named() -> None:
    m = float_model([node("Conv", ["x0", "w", "b"], ["c"]), node("Sin", ["c"], ["y"])], {"x0": (1, 2, 3, 3)},
                    {"y": (1, 2, 3, 3)}, {"w": np.ones((2, 2, 1, 1), np.float32), "b": np.zeros(2, np.float32)})
    q = onnx.load_from_string(quantize(m))
    with pytest.raises((UnsupportedModelError, ModelError), match="Sin"):
        parse_model(q.SerializeToString())


def test_read_model_dispatches_on_suffix(tmp_path) -> None:
    p = tmp_path / "m.onnx"
    p.write_bytes(quantize(_conv_model(), activations="uint8"))
    g = read_model(p)
    assert g.source_format == "onnx"
    # NCHW in, NHWC inside: one TRANSPOSE after the input's QUANTIZE, one before the output's DEQUANTIZE
    assert [op.opcode for op in g.operators] == ["QUANTIZE", "TRANSPOSE", "CONV_2D", "TRANSPOSE", "DEQUANTIZE"]
    conv = g.operators[2]
    w = g.tensors[conv.inputs[1]]
    assert w.shape == (4, 3, 3, 3) and conv.options["padding"] == "SAME" and conv.options["requant"] == "float32"
    # uint8 activations become int8 with the zero point moved by 128
    x = g.tensors[conv.inputs[0]]
    assert x.dtype == "int8" and -128 <= x.zero_point <= 127


def test_constant_shape_subgraph_folded() -> None:
    """Shape -> Gather -> Concat -> Reshape (what torch.onnx.export writes for x.view(x.size(0), -1))."""
    n = [node("Conv", ["x0", "w", "b"], ["c"]), node("Shape", ["c"], ["s"]),
         node("Gather", ["s", "zero"], ["n"], axis=0), node("Unsqueeze", ["n", "axes"], ["n1"]),
         node("Concat", ["n1", "minus1"], ["shape"], axis=0), node("Reshape", ["c", "shape"], ["y"])]
    m = float_model(n, {"x0": (1, 2, 3, 3)}, {"y": (1, 18)},
                    {"w": np.ones((2, 2, 1, 1), np.float32), "b": np.zeros(2, np.float32),
                     "zero": np.array(0, np.int64), "axes": np.array([0], np.int64),
                     "minus1": np.array([-1], np.int64)})
    g = parse_model(quantize(m))
    ops = [op.opcode for op in g.operators]
    assert ops == ["QUANTIZE", "TRANSPOSE", "CONV_2D", "TRANSPOSE", "RESHAPE", "DEQUANTIZE"], ops


def test_flatten_of_the_float_input_before_its_quantize() -> None:
    """An MLP's leading Flatten reads the float graph input (quantize_static puts the QuantizeLinear
    after it): the input is quantized in its own shape, then the int8 tensor reshaped (exact:
    QuantizeLinear is element-wise)."""
    rng = np.random.default_rng(0)
    model = float_model([node("Flatten", ["x"], ["f"]), node("Gemm", ["f", "w", "b"], ["y"], transB=1)],
                        {"x": [1, 1, 4, 4]}, {"y": [1, 5]},
                        {"w": rng.normal(size=(5, 16)).astype(np.float32), "b": np.zeros(5, np.float32)})
    qdq = onnx.load_from_string(quantize(model))
    assert [n.op_type for n in qdq.graph.node if n.op_type != "DequantizeLinear"][:2] == ["Flatten", "QuantizeLinear"]
    g = parse_model(qdq.SerializeToString())
    ops = [op.opcode for op in g.operators]
    assert ops[:3] == ["QUANTIZE", "RESHAPE", "FULLY_CONNECTED"], ops
    q, r = g.operators[0], g.operators[1]
    assert g.tensors[q.inputs[0]].shape == (1, 1, 4, 4) and g.tensors[q.inputs[0]].dtype == "float32"
    assert g.tensors[r.outputs[0]].shape == (1, 16) and g.tensors[r.outputs[0]].dtype == "int8"
