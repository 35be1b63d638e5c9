"""The shipped demo model (examples/models): reproducible from its script, and accurate on TFLite Micro."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

MODELS = Path(__file__).resolve().parents[1] / "examples" / "models"
TFLITE = MODELS / "gesture_mlp_int8.tflite"
TEST_SET = MODELS / "gesture_test_set.npz"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_gesture_model", MODELS / "make_gesture_model.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up by name
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def built(script: ModuleType):
    return script.build()  # about half a second: dataset, training, quantization, serialization


def test_committed_files_match_the_script(built) -> None:
    hint = "regenerate with: python examples/models/make_gesture_model.py"
    assert TFLITE.read_bytes() == built.tflite, f"{TFLITE.name} is stale; {hint}"
    assert TEST_SET.read_bytes() == built.test_set, f"{TEST_SET.name} is stale; {hint}"


def test_test_set_layout() -> None:
    data = np.load(TEST_SET)
    x, y = data["x"], data["y"]
    assert x.dtype == np.float32 and x.ndim == 2 and x.shape[1] == 96
    assert y.shape == (x.shape[0],) and 100 <= len(y) <= 200
    assert set(np.unique(y).tolist()) == {0, 1, 2, 3}
    assert TEST_SET.stat().st_size < 200_000


def test_int8_accuracy_on_tflm_reference(script: ModuleType, built) -> None:
    data = np.load(TEST_SET)
    x, y = data["x"], data["y"]
    assert built.float_accuracy >= 0.9
    probs = script.tflm_predict(TFLITE.read_bytes(), x)
    assert probs.dtype == np.int8 and probs.shape == (len(y), 4)
    int8_acc = float(np.mean(np.argmax(probs, axis=1) == y))
    assert int8_acc >= 0.9
    assert abs(int8_acc - built.float_accuracy) <= 0.03


def test_graph_is_full_integer_ptq_layout() -> None:
    model = schema.ModelT.InitFromPackedBuf(TFLITE.read_bytes(), 0)
    assert model.description.startswith(b"mcuforge demo: accelerometer gesture MLP, synthetic data")
    (sg,) = model.subgraphs
    ops = [model.operatorCodes[o.opcodeIndex].builtinCode for o in sg.operators]
    B = schema.BuiltinOperator
    assert ops == [B.QUANTIZE, B.FULLY_CONNECTED, B.FULLY_CONNECTED, B.FULLY_CONNECTED, B.SOFTMAX]
    t = sg.tensors
    (inp,), (out,) = sg.inputs, sg.outputs
    assert t[inp].name == b"accel_window" and t[inp].type == schema.TensorType.FLOAT32
    assert list(t[inp].shape) == [1, 96]
    assert t[out].name == b"gesture_probs" and t[out].type == schema.TensorType.INT8
    assert list(t[out].shape) == [1, 4]
    assert list(t[out].quantization.scale) == [1 / 256] and list(t[out].quantization.zeroPoint) == [-128]
    acts = [schema.ActivationFunctionType.RELU, schema.ActivationFunctionType.RELU,
            schema.ActivationFunctionType.NONE]
    for op, act in zip(sg.operators[1:4], acts, strict=True):
        x, w, b = (t[i] for i in op.inputs)
        assert op.builtinOptions.fusedActivationFunction == act
        assert x.type == w.type == t[op.outputs[0]].type == schema.TensorType.INT8
        assert b.type == schema.TensorType.INT32
        channels = w.shape[0]
        assert len(w.quantization.scale) == channels and w.quantization.quantizedDimension == 0
        assert not np.any(w.quantization.zeroPoint) and not np.any(b.quantization.zeroPoint)
        expected = (np.float32(x.quantization.scale[0]) * w.quantization.scale).astype(np.float32)
        np.testing.assert_array_equal(b.quantization.scale, expected)
        wq = np.frombuffer(bytes(model.buffers[w.buffer].data), dtype=np.int8).reshape(w.shape)
        assert np.all(np.abs(wq).max(axis=1) == 127)  # symmetric per channel, max |w| maps to 127
        if act == schema.ActivationFunctionType.RELU:
            assert t[op.outputs[0]].quantization.zeroPoint[0] == -128  # calibrated range starts at 0
