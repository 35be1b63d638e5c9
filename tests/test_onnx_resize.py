"""Linear Resize of ONNX models against onnxruntime, on the host (fast and portable kernel paths).

QOperator form (a Resize reading the quantized tensor itself): onnxruntime runs its uint8 / int8
Resize kernel, float32 interpolation truncated toward zero, and mcuforge must equal it bit for bit
(generator/ops/resize_ort.py). QDQ form (DequantizeLinear -> Resize -> QuantizeLinear):
onnxruntime keeps the Resize in float32 between the two (its optimizer drops no Q/DQ pair
there), so mcuforge's integer interpolation may differ by one quantization step (issue 12, item 3);
the count is printed. One model holds every case: int8 and uint8, half_pixel and align_corners,
up- and downscaling by non-integer factors.
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
SIZES = {"up": (11, 9), "down": (4, 3)}
COORDS = ("half_pixel", "align_corners")
QUANT = {"int8": (0.02, -3, np.int8), "uint8": (0.02, 121, np.uint8)}  # covers every stored value
PATHS = {"fast": ("-O0",), "portable": ("-O0", "-DMCF_PORTABLE_KERNELS")}


def _model() -> tuple[bytes, list[tuple[str, str]]]:
    nodes, inits, outputs, cases = [], [], [], []
    for dt, (scale, zp, np_t) in QUANT.items():
        inits += [numpy_helper.from_array(np.array(scale, np.float32), f"s_{dt}"),
                  numpy_helper.from_array(np.array(zp, np_t), f"z_{dt}")]
        nodes.append(helper.make_node("QuantizeLinear", ["x", f"s_{dt}", f"z_{dt}"], [f"q_{dt}"]))
        for form in ("qoperator", "qdq"):
            for coord in COORDS:
                for which, (oh, ow) in SIZES.items():
                    k = f"{form}_{dt}_{coord}_{which}"
                    size = f"size_{k}"
                    inits.append(numpy_helper.from_array(np.array([1, 3, oh, ow], np.int64), size))
                    resize = dict(mode="linear", coordinate_transformation_mode=coord)
                    if form == "qoperator":
                        nodes.append(helper.make_node("Resize", [f"q_{dt}", "", "", size], [f"r_{k}"], **resize))
                    else:
                        nodes += [helper.make_node("DequantizeLinear", [f"q_{dt}", f"s_{dt}", f"z_{dt}"], [f"d_{k}"]),
                                  helper.make_node("Resize", [f"d_{k}", "", "", size], [f"f_{k}"], **resize),
                                  helper.make_node("QuantizeLinear", [f"f_{k}", f"s_{dt}", f"z_{dt}"], [f"r_{k}"])]
                    nodes.append(helper.make_node("DequantizeLinear", [f"r_{k}", f"s_{dt}", f"z_{dt}"], [f"y_{k}"]))
                    outputs.append(helper.make_tensor_value_info(f"y_{k}", TensorProto.FLOAT, [1, 3, oh, ow]))
                    cases.append((k, form))
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
    assert len(bilinear) == len(cases)
    marked = [op.options.get("ort_linear") for op in bilinear]
    assert sum(m is not None for m in marked) == sum(form == "qoperator" for _, form in cases)
    assert {m[3] for m in marked if m is not None} == {0, 128}  # int8 and uint8 data


@pytest.mark.parametrize("path", list(PATHS))
def test_resize_equals_onnxruntime(setup, path: str) -> None:
    cases, data, want, _, lib = setup
    with HostModel(lib, extra_flags=PATHS[path]) as host:
        got = host.run([[x] for x in data])
    off: dict[str, int] = {}
    for outs, refs in zip(got, want, strict=True):
        for (name, form), g, w in zip(cases, outs, refs, strict=True):
            steps = np.rint(np.abs(g.astype(np.float64) - w.reshape(g.shape)) / 0.02).astype(int)
            assert steps.max() <= (0 if form == "qoperator" else 1), (name, int(steps.max()))
            off[name] = off.get(name, 0) + int((steps > 0).sum())
    assert all(v == 0 for k, v in off.items() if k.startswith("qoperator"))
    print(f"\n{path}: QDQ elements one step from onnxruntime: {off}")


def test_convert_writes_tflites_resize_and_says_it_is_not_onnxruntimes(setup) -> None:
    """`mcuforge convert`: the truncating form has no TFLite equivalent; TFLite's RESIZE_BILINEAR is
    written and listed as not bit-exact with onnxruntime."""
    from mcuforge.generator.exporters import write_tflite

    cases, _, _, graph, _ = setup
    written = write_tflite(graph)
    marked = [op.index for op in graph.operators if op.options.get("ort_linear") is not None]
    assert [i for i, opcode in written.inexact if opcode == "RESIZE_BILINEAR"] == marked
    assert len(marked) == sum(form == "qoperator" for _, form in cases)
