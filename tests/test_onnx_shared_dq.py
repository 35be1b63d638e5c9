"""A DequantizeLinear read by two nodes: onnxruntime (x86) leaves the operator unfused (float between
DequantizeLinear and QuantizeLinear) when the tensor is int8, but fuses it when it is uint8 (each
reader gets its own copy of the DequantizeLinear). Measured on the real models: with uint8
activations MobileNetV2 / V3 and ResNet-18 run every Conv, Add and Mul as QLinear operators; with
int8 ones their residual Adds (and ResNet's Convs) stay float. MobileNetV2 (uint8, reduce_range)
went from 1/3 to 3/3 bit-exact when the uint8 residual Adds were no longer taken for float ones."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx_builder import node, quantized_model, run_ort

from mcuforge.generator.codegen import generate
from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends.onnx import parse_model
from mcuforge.generator.hostbuild import HostModel

SA, ZA, SB, ZB, SO, ZO = 0.033487875, -16, 0.0050713816, 0, 0.017884064, -3  # int8 zero points


def _model(dtype: type, n: int) -> bytes:
    """x0 + x1 through DequantizeLinear / Add / QuantizeLinear, x0's DequantizeLinear also read by a
    Relu that makes a second output (a residual connection's shape)."""
    shift = 128 if dtype is np.uint8 else 0
    q = {"sa": np.float32(SA), "za": np.array(ZA + shift, dtype), "sb": np.float32(SB),
         "zb": np.array(ZB + shift, dtype), "so": np.float32(SO), "zo": np.array(ZO + shift, dtype)}
    nodes = [node("QuantizeLinear", ["x0", "sa", "za"], ["a"]), node("QuantizeLinear", ["x1", "sb", "zb"], ["b"]),
             node("DequantizeLinear", ["a", "sa", "za"], ["fa"]), node("DequantizeLinear", ["b", "sb", "zb"], ["fb"]),
             node("Add", ["fa", "fb"], ["s"]), node("QuantizeLinear", ["s", "so", "zo"], ["c"]),
             node("DequantizeLinear", ["c", "so", "zo"], ["y"]),
             node("Relu", ["fa"], ["r"]), node("QuantizeLinear", ["r", "sa", "za"], ["rq"]),
             node("DequantizeLinear", ["rq", "sa", "za"], ["y2"])]
    return quantized_model(nodes, {"x0": ((n,), np.float32), "x1": ((n,), np.float32)},
                           {"y": ((n,), np.float32), "y2": ((n,), np.float32)}, q)


def _pairs() -> np.ndarray:
    """int8 (a, b) pairs on which a float Add and onnxruntime's uint8 QLinearAdd round apart."""
    from mcuforge.generator.ops.float_requant import add_constants

    grid = np.stack(np.meshgrid(np.arange(-128, 128), np.arange(-128, 128), indexing="ij"), -1).reshape(-1, 2)
    r1, r2, k = np.array(add_constants(SA, ZA + 128, SB, ZB + 128, SO, ZO + 128), np.int32).view(np.float32)
    inner = ((grid[:, 1] + 128) * np.float64(r2) + np.float64(k)).astype(np.float32)
    fused = np.clip(np.rint(((grid[:, 0] + 128) * np.float64(r1) + inner.astype(np.float64)).astype(np.float32)),
                    0, 255) - 128
    deq = [((grid[:, j] - z) * np.float32(s)).astype(np.float32) for j, (s, z) in enumerate(((SA, ZA), (SB, ZB)))]
    unfused = np.clip(np.rint((deq[0] + deq[1]) / np.float32(SO)) + ZO, -128, 127)
    return grid[fused != unfused]


@pytest.mark.parametrize("dtype", [np.uint8, np.int8], ids=["uint8", "int8"])
def test_shared_dequantize_fuses_only_for_uint8(dtype: type):
    pairs = _pairs()
    assert len(pairs) >= 2
    model = _model(dtype, len(pairs))
    graph = parse_model(model, name="test.onnx")
    add = next(op for op in graph.operators if op.opcode == "ADD")
    assert add.options["float_ops"] == (dtype is np.int8)
    x = [((pairs[:, j] - z) * np.float32(s)).astype(np.float32) for j, (s, z) in enumerate(((SA, ZA), (SB, ZB)))]
    with HostModel(generate(compile_graph(graph), "model"), extra_flags=("-O0",)) as host:
        got = host.run([x])[0]
    for g, w in zip(got, run_ort(model, {"x0": x[0], "x1": x[1]}), strict=True):
        assert np.array_equal(g, w)
