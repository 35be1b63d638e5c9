"""`mcuforge convert`: the IR written as a standard .tflite. The written file runs in TFLite Micro
and gives what the original gave, and what mcuforge's own C build gives; padding TFLite cannot
say becomes a PAD in front; bad input never leaves a file behind."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tflite_builder import Activation, Op, Padding, T, build, options, rng_int8, single_op

from mcuforge.generator.codegen import generate
from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.exporters import write_tflite
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.hostbuild import HostModel
from mcuforge.generator.references import TflmReference
from mcuforge.generator.validate import random_inputs


def _conv_pool_fc(seed: int = 0) -> bytes:
    """CONV_2D (per-channel, SAME, RELU) → MAX_POOL_2D → RESHAPE → FULLY_CONNECTED → SOFTMAX."""
    rng = np.random.default_rng(seed)
    w = rng_int8(rng, (6, 3, 3, 2))
    tensors = [
        T((1, 8, 8, 2), "int8", 0.05, -3, name="x"),
        T((6, 3, 3, 2), "int8", list(rng.uniform(0.005, 0.02, 6)), [0] * 6, axis=0, data=w, name="w"),
        T((6,), "int32", [0.05 * 0.01] * 6, [0] * 6, data=rng.integers(-500, 500, 6).astype(np.int32), name="b"),
        T((1, 8, 8, 6), "int8", 0.1, -128, name="c"),
        T((1, 4, 4, 6), "int8", 0.1, -128, name="p"),
        T((2,), "int32", data=np.array([1, 96], dtype=np.int32), name="shape"),
        T((1, 96), "int8", 0.1, -128, name="f"),
        T((5, 96), "int8", 0.01, 0, data=rng_int8(rng, (5, 96)), name="fw"),
        T((1, 5), "int8", 0.3, 2, name="logits"),
        T((1, 5), "int8", 1 / 256, -128, name="probs"),
    ]
    ops = [Op("CONV_2D", [0, 1, 2], [3], options("Conv2DOptions", padding=Padding.SAME, strideH=1, strideW=1,
                                                 fusedActivationFunction=Activation.RELU)),
           Op("MAX_POOL_2D", [3], [4], options("Pool2DOptions", padding=Padding.VALID, strideH=2, strideW=2,
                                               filterHeight=2, filterWidth=2)),
           Op("RESHAPE", [4, 5], [6], options("ReshapeOptions", newShape=[1, 96])),
           Op("FULLY_CONNECTED", [6, 7, -1], [8], options("FullyConnectedOptions")),
           Op("SOFTMAX", [8], [9], options("SoftmaxOptions", beta=1.0))]
    return build(tensors, ops, [0], [9])


def _tflm(model: bytes, batches: list[list[np.ndarray]], outputs: int) -> list[list[np.ndarray]]:
    ref = TflmReference(model)
    return [ref.run(xs, outputs) for xs in batches]


def _host(graph, batches):
    with HostModel(generate(compile_graph(graph), "model")) as host:
        return host.run(batches)


def test_round_trip_equals_the_original_and_mcuforges_c():
    original = _conv_pool_fc()
    graph = parse_model(original, "net.tflite")
    written = write_tflite(graph)
    assert not written.inexact and written.pads_added == 0
    again = parse_model(written.data, "net2.tflite")
    assert [op.opcode for op in again.operators] == [op.opcode for op in graph.operators]
    batches = random_inputs(graph, 2, 1)
    want = _tflm(original, batches, 1)
    got = _tflm(written.data, batches, 1)
    c = _host(again, batches)
    for w, g, h in zip(want, got, c, strict=True):
        assert np.array_equal(w[0], g[0])
        assert np.array_equal(g[0].reshape(h[0].shape), h[0])


@pytest.mark.parametrize("opcode,pads", [("CONV_2D", (0, 0, 1, 1)), ("MAX_POOL_2D", (1, 0, 0, 1)),
                                         ("DEPTHWISE_CONV_2D", (1, 1, 1, 1))])
def test_explicit_padding_is_written_as_tflite_can_say_it(opcode, pads):
    """IR padding (top, left, bottom, right), as the ONNX front end sets it: SAME / VALID where it
    is one, else a PAD (PADV2 with the lowest value for max pooling) in front. TFLite Micro on the
    written file equals mcuforge's C for the IR with explicit padding."""
    rng = np.random.default_rng(3)
    top, left, bottom, right = pads
    h = w = 7
    k, s = 3, 1 if opcode != "MAX_POOL_2D" else 2
    oh, ow = (h + top + bottom - k) // s + 1, (w + left + right - k) // s + 1
    x = T((1, h, w, 4), "int8", 0.05, 5)
    if opcode == "MAX_POOL_2D":
        model = single_op(opcode, [x], [T((1, oh, ow, 4), "int8", 0.05, 5)],
                          options("Pool2DOptions", padding=Padding.VALID, strideH=s, strideW=s, filterHeight=k,
                                  filterWidth=k))
    else:
        oc = 4
        wshape = (oc, k, k, 4) if opcode == "CONV_2D" else (1, k, k, oc)
        wt = T(wshape, "int8", [0.01] * oc, [0] * oc, axis=0 if opcode == "CONV_2D" else 3,
               data=rng_int8(rng, wshape))
        kind = "Conv2DOptions" if opcode == "CONV_2D" else "DepthwiseConv2DOptions"
        extra = {} if opcode == "CONV_2D" else {"depthMultiplier": 1}
        model = single_op(opcode, [x, wt], [T((1, oh, ow, oc), "int8", 0.2, -4)],
                          options(kind, padding=Padding.VALID, strideH=s, strideW=s, **extra))
    graph = parse_model(model, "pads.tflite")
    graph.operators[0].options["pads"] = pads
    written = write_tflite(graph)
    assert written.pads_added == (0 if pads in ((0, 0, 0, 0), (1, 1, 1, 1)) else 1)
    batches = random_inputs(graph, 2, 2)
    for t, c in zip(_tflm(written.data, batches, 1), _host(graph, batches), strict=True):
        assert np.array_equal(t[0], c[0])


def test_float32_requantization_is_reported():
    graph = parse_model(_conv_pool_fc(), "net.tflite")
    graph.operators[3].options["requant"] = "float32"
    written = write_tflite(graph)
    assert written.inexact == [(3, "FULLY_CONNECTED")]
    assert b"requant" not in written.data


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", *args], capture_output=True, text=True,
                          timeout=300)


def test_cli_convert_writes_and_refuses_cleanly(tmp_path: Path):
    src = tmp_path / "net.tflite"
    src.write_bytes(_conv_pool_fc())
    out = tmp_path / "out.tflite"
    ok = _cli("convert", str(src), "-o", str(out))
    assert ok.returncode == 0, ok.stderr
    assert out.read_bytes()[4:8] == b"TFL3"
    before = out.read_bytes()
    again = _cli("convert", str(src), "-o", str(out))  # exists, no --force: refused, untouched
    assert again.returncode == 2 and again.stderr.startswith("error: ") and "Traceback" not in again.stderr
    assert out.read_bytes() == before
    assert _cli("convert", str(src), "-o", str(out), "--force").returncode == 0
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x00" * 4 + b"TFL3" + b"\x01" * 40)
    out2 = tmp_path / "out2.tflite"
    res = _cli("convert", str(bad), "-o", str(out2))
    assert res.returncode == 2 and res.stderr.startswith("error: ") and "Traceback" not in res.stderr
    assert not out2.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad.tflite", "net.tflite",
                                                                              "out.tflite"]


def test_lookup_table_is_written_as_cast_add_gather():
    """The ONNX front end's LOOKUP_TABLE (no TFLite operator) as CAST + ADD + GATHER: TFLite Micro
    on the written file equals mcuforge's C for the table, on all 256 input values."""
    x, y = T((1, 256), "int8", 0.05, 3, name="x"), T((1, 256), "int8", 1 / 256, -128, name="y")
    graph = parse_model(single_op("RELU", [x], [y]), "lut.tflite")
    q = np.arange(-128, 128)
    table = np.zeros(256, dtype=np.int64)
    table[q & 0xFF] = np.clip(np.round(256 / (1 + np.exp(-0.05 * (q - 3)))) - 128, -128, 127)
    op = graph.operators[0]
    graph.operators[0] = dataclasses.replace(op, opcode="LOOKUP_TABLE", options={"table": table, "function": "sig"})
    written = write_tflite(graph)
    assert written.tables == 1
    assert [o.opcode for o in parse_model(written.data, "w.tflite").operators] == ["CAST", "ADD", "GATHER"]
    batches = [[q.astype(np.int8).reshape(1, 256)]]
    t = _tflm(written.data, batches, 1)[0][0]
    assert np.array_equal(t.reshape(-1), table[q & 0xFF].astype(np.int8))
    assert np.array_equal(t, _host(graph, batches)[0][0])
    assert np.array_equal(t, _host(parse_model(written.data, "w.tflite"), batches)[0][0])  # and its C build
