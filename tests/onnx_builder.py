"""Build small quantized ONNX models in tests, the way PyTorch users make them.

A float graph is written with `onnx.helper` (`float_model`, or `single_op` for one operator), then
quantized by onnxruntime's own static quantizer (`quantize`): QDQ format (QuantizeLinear /
DequantizeLinear around float operators) or QOperator format (QLinearConv, QLinearMatMul, QGemm,
QLinearAdd, ...), int8 or uint8 activations, per-tensor or per-channel int8 weights, calibrated on
random data. `run_ort` runs a model in onnxruntime (CPU provider, default session options), the
reference the generated C must equal.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
_ELEM = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64,
         np.dtype(np.int32): TensorProto.INT32, np.dtype(np.int8): TensorProto.INT8,
         np.dtype(np.uint8): TensorProto.UINT8}


def node(op_type: str, inputs: Sequence[str], outputs: Sequence[str], domain: str = "", **attrs: Any) -> onnx.NodeProto:
    """One node; empty input names mark omitted optional inputs."""
    return helper.make_node(op_type, list(inputs), list(outputs), domain=domain or None, **attrs)


def float_model(nodes: Sequence[onnx.NodeProto], inputs: dict[str, Sequence[int]], outputs: dict[str, Sequence[int]],
                initializers: dict[str, np.ndarray] | None = None, opset: int = OPSET,
                name: str = "test") -> onnx.ModelProto:
    """A float32 graph: `inputs` / `outputs` map names to static shapes; `initializers` are constants."""
    inits = [numpy_helper.from_array(np.asarray(v), k) for k, v in (initializers or {}).items()]
    graph = helper.make_graph(
        list(nodes), name,
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, list(s)) for k, s in inputs.items()],
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, list(s)) for k, s in outputs.items()],
        initializer=inits)
    opsets = [helper.make_opsetid("", opset), helper.make_opsetid("com.microsoft", 1)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="mcuforge-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def single_op(op_type: str, input_shapes: Sequence[Sequence[int]], output_shape: Sequence[int],
              initializers: dict[str, np.ndarray] | None = None, const_inputs: Sequence[str] = (),
              opset: int = OPSET, **attrs: Any) -> onnx.ModelProto:
    """A graph of one operator: graph inputs x0, x1, ... then the named constant inputs (in order)."""
    names = [f"x{i}" for i in range(len(input_shapes))]
    n = node(op_type, names + list(const_inputs), ["y"], **attrs)
    return float_model([n], dict(zip(names, input_shapes, strict=True)), {"y": output_shape}, initializers, opset)


def calibration_data(model: onnx.ModelProto, count: int = 16, seed: int = 0,
                     low: float = -1.0, high: float = 1.0) -> list[dict[str, np.ndarray]]:
    """Random float inputs for every graph input (uniform in [low, high))."""
    rng = np.random.default_rng(seed)
    init = {i.name for i in model.graph.initializer}
    shapes = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input
              if i.name not in init}
    return [{k: rng.uniform(low, high, size=s).astype(np.float32) for k, s in shapes.items()} for _ in range(count)]


class RandomReader:
    """A CalibrationDataReader over a fixed list of input dicts."""

    def __init__(self, data: Iterable[dict[str, np.ndarray]]) -> None:
        self._it = iter(list(data))

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._it, None)

    def rewind(self) -> None:  # pragma: no cover - the MinMax calibrator does not rewind
        pass


def quantize(model: onnx.ModelProto, fmt: str = "qdq", activations: str = "int8", per_channel: bool = False,
             reduce_range: bool = False, seed: int = 0, count: int = 16, low: float = -1.0, high: float = 1.0,
             op_types: Sequence[str] | None = None, extra_options: dict[str, Any] | None = None) -> bytes:
    """onnxruntime.quantization.quantize_static on random calibration data → the quantized model's bytes.

    fmt "qdq" or "qoperator"; activations "int8" or "uint8"; weights are always int8 (symmetric)."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class _Reader(RandomReader, CalibrationDataReader):  # the quantizer checks for its base class
        pass

    act = {"int8": QuantType.QInt8, "uint8": QuantType.QUInt8}[activations]
    options = {"ActivationSymmetric": False, "WeightSymmetric": True}
    options.update(extra_options or {})
    with tempfile.TemporaryDirectory(prefix="mcuforge-onnx-") as tmp:
        src = Path(tmp) / "float.onnx"
        dst = Path(tmp) / "quant.onnx"
        onnx.save(model, src)
        quantize_static(
            str(src), str(dst), _Reader(calibration_data(model, count, seed, low, high)),
            quant_format=QuantFormat.QDQ if fmt == "qdq" else QuantFormat.QOperator,
            op_types_to_quantize=list(op_types) if op_types else None,
            per_channel=per_channel, reduce_range=reduce_range, activation_type=act,
            weight_type=QuantType.QInt8, extra_options=options)
        return dst.read_bytes()


def run_ort(model: bytes | onnx.ModelProto, inputs: dict[str, np.ndarray],
            outputs: Sequence[str] | None = None) -> list[np.ndarray]:
    """onnxruntime, CPU provider, default session options."""
    import onnxruntime as ort

    data = model if isinstance(model, bytes) else model.SerializeToString()
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return [np.asarray(o) for o in sess.run(list(outputs) if outputs else None, inputs)]


def input_names(model: bytes | onnx.ModelProto) -> list[str]:
    m = onnx.load_from_string(model) if isinstance(model, bytes) else model
    init = {i.name for i in m.graph.initializer}
    return [i.name for i in m.graph.input if i.name not in init]


# ---- hand-written quantized graphs (QOperator ops the quantizer does not emit, odd layouts) ----

def qtensor(name: str, values: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(values), name)


def quantized_model(nodes: Sequence[onnx.NodeProto], inputs: dict[str, tuple[Sequence[int], Any]],
                    outputs: dict[str, tuple[Sequence[int], Any]], initializers: dict[str, np.ndarray],
                    opset: int = OPSET) -> bytes:
    """A graph with typed inputs/outputs: {name: (shape, numpy dtype)} (e.g. a QLinearSigmoid with
    uint8 input and output); initializers hold scales (float32 scalars) and zero points (int8/uint8)."""
    graph = helper.make_graph(
        list(nodes), "qtest",
        [helper.make_tensor_value_info(k, _ELEM[np.dtype(t)], list(s)) for k, (s, t) in inputs.items()],
        [helper.make_tensor_value_info(k, _ELEM[np.dtype(t)], list(s)) for k, (s, t) in outputs.items()],
        initializer=[qtensor(k, v) for k, v in initializers.items()])
    opsets = [helper.make_opsetid("", opset), helper.make_opsetid("com.microsoft", 1)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="mcuforge-tests")
    model.ir_version = 8
    return model.SerializeToString()


def save(model: bytes | onnx.ModelProto, path: str | Path) -> Path:
    p = Path(path)
    p.write_bytes(model if isinstance(model, bytes) else model.SerializeToString())
    return p
