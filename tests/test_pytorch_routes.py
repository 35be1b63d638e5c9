"""The two routes from PyTorch that the README gives, run for real: torch.onnx.export →
quantize_static → mcuforge, and litert-torch (PT2E int8) → .tflite → mcuforge. Skipped without
torch (CI has none; the rest of the ONNX tests build their models with onnx.helper)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

from mcuforge.generator.compiler import compile_graph  # noqa: E402
from mcuforge.generator.exporters import write_tflite  # noqa: E402
from mcuforge.generator.frontends import read_model  # noqa: E402
from mcuforge.generator.frontends.tflite import parse_model  # noqa: E402
from mcuforge.generator.references import TflmReference  # noqa: E402
from mcuforge.generator.scaffold import new_project  # noqa: E402
from mcuforge.generator.validate import random_inputs, validate_compiled, validate_model  # noqa: E402

SHAPE = (1, 3, 32, 32)


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.f = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(16, 4))

    def forward(self, x):
        return self.f(x)


def _net():
    torch.manual_seed(0)
    return Net().eval()


def _calibration(n: int = 16) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.uniform(-1, 1, size=SHAPE).astype(np.float32) for _ in range(n)]


def test_torch_onnx_export_quantize_static_route(tmp_path: Path):
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Calibration(CalibrationDataReader):
        def __init__(self, arrays):
            self.it = iter({"input": x} for x in arrays)

        def get_next(self):
            return next(self.it, None)

    float_model, model = tmp_path / "net.onnx", tmp_path / "net_int8.onnx"
    torch.onnx.export(_net(), (torch.randn(*SHAPE),), str(float_model), input_names=["input"], opset_version=17,
                      dynamo=False)
    quantize_static(str(float_model), str(model), Calibration(_calibration()), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
    res = validate_model(model, count=3)
    assert res.reference == "onnxruntime"
    assert all(o.top1_agree == res.inputs for o in res.outputs)
    # convert: the written .tflite runs in TFLite Micro and equals mcuforge's C build of it
    graph = read_model(model)
    written = write_tflite(graph).data
    tgraph = parse_model(written, "net_int8.tflite")
    check = validate_compiled(compile_graph(tgraph), written, random_inputs(tgraph, 3, 1))
    assert check.ok and check.reference == "TFLite Micro"
    new_project(tmp_path / "fw", model, "mps2_an386", framework="cmake")
    assert (tmp_path / "fw" / "mcuforge.yaml").is_file()


def test_litert_torch_route(tmp_path: Path):
    litert_torch = pytest.importorskip("litert_torch")
    from litert_torch.quantize import pt2e_quantizer
    from litert_torch.quantize.quant_config import QuantConfig
    from torchao.quantization.pt2e import quantize_pt2e

    sample = (torch.randn(*SHAPE),)
    quantizer = pt2e_quantizer.PT2EQuantizer().set_global(
        pt2e_quantizer.get_symmetric_quantization_config(is_per_channel=True))
    m = quantize_pt2e.prepare_pt2e(torch.export.export(_net(), sample).module(), quantizer)
    for x in _calibration():
        m(torch.from_numpy(x))
    m = quantize_pt2e.convert_pt2e(m, fold_quantize=False)
    model = tmp_path / "net.tflite"
    litert_torch.convert(m, sample, quant_config=QuantConfig(pt2e_quantizer=quantizer)).export(str(model))
    graph = read_model(model)
    assert graph.tensors[graph.inputs[0]].dtype == "int8"
    res = validate_model(model, count=3)
    assert res.ok and res.bit_exact == 3
    TflmReference(model.read_bytes())  # loads in TFLite Micro as it is
    new_project(tmp_path / "fw", model, "mps2_an386", framework="cmake")
    assert (tmp_path / "fw" / "mcuforge.yaml").is_file()
