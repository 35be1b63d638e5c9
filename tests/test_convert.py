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
from mcuforge.generator.errors import UnsupportedModelError
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


# ---- forms of the ONNX front end: written exactly, or refused with the reason ----

def _onnx_graph(nodes: list, shape: tuple[int, ...], out_shape: tuple[int, ...], inits: dict | None = None,
                act: str = "int8", expose: bool = False):
    """x0 -> 1x1 Conv -> `nodes` (ending in "e" if `expose`, else "y"), quantized by onnxruntime's
    quantize_static (QDQ), read by the ONNX front end. `expose`: a Conv reads "e" and the model's
    output is its dequantized input (so the quantizer quantizes the operator under test)."""
    pytest.importorskip("onnxruntime")
    import onnx
    from onnx_builder import float_model, node, quantize

    from mcuforge.generator.frontends.onnx import parse_model as parse_onnx

    rng = np.random.default_rng(5)
    c = shape[1]
    consts = {"cw": rng.normal(0, 0.5, (c, c, 1, 1)), "cb": rng.normal(0, 0.5, c), **(inits or {})}
    consts = {k: np.asarray(v, np.float32) if np.asarray(v).dtype.kind == "f" else v for k, v in consts.items()}
    tail = []
    if expose:
        consts.update(cw2=np.eye(c, dtype=np.float32).reshape(c, c, 1, 1), cb2=np.zeros(c, np.float32))
        tail = [node("Conv", ["e", "cw2", "cb2"], ["y"])]
    m = float_model([node("Conv", ["x0", "cw", "cb"], ["c"]), *nodes, *tail], {"x0": shape}, {"y": out_shape},
                    consts, opset=13)
    q = quantize(m, "qdq", act, reduce_range=True)
    if expose:
        qm = onnx.load_from_string(q)
        name = [n for n in qm.graph.node if n.op_type == "Conv"][-1].input[0]
        del qm.graph.output[:]
        qm.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, list(out_shape)))
        q = qm.SerializeToString()
    return q, parse_onnx(q, "net.onnx")


def test_onnx_layout_forms_round_trip_exactly():
    """MIRROR_PAD (Pad reflect), STRIDED_SLICE with negative strides (torch.flip), nearest RESIZE
    (ONNX's half_pixel + round_prefer_floor), a grouped and dilated ConvTranspose (SPLIT_V,
    TRANSPOSE_CONV with its explicit crop written as SAME, CONCATENATION) and a DEQUANTIZE through
    onnxruntime's float32 Tanh table (CAST + ADD + GATHER): TFLite Micro on the written file equals
    mcuforge's C build of the ONNX graph, float32 output bit for bit. The QUANTIZE and Conv in front
    are set to TFLite's requantization so that only these forms are compared."""
    from onnx_builder import node

    rng = np.random.default_rng(6)
    nodes = [node("Pad", ["c", "p"], ["pd"], mode="reflect"),
             node("Slice", ["pd", "st", "en", "ax", "sp"], ["sl"]),
             node("Resize", ["sl", "", "sc"], ["rs"], mode="nearest"),
             node("ConvTranspose", ["rs", "tw", "tb"], ["ct"], group=2, strides=[2, 2], dilations=[2, 2],
                  pads=[2, 2, 2, 2]),
             node("Tanh", ["ct"], ["y"])]
    inits = {"p": np.array([0, 0, 1, 2, 0, 0, 1, 1], np.int64), "st": np.array([-1, 6], np.int64),
             "en": np.array([-(2**63), 0], np.int64), "ax": np.array([3, 2], np.int64),
             "sp": np.array([-1, -2], np.int64), "sc": np.array([1, 1, 2, 2], np.float32),
             "tw": rng.normal(0, 0.5, (4, 3, 3, 3)), "tb": rng.normal(0, 0.5, 6)}
    _, graph = _onnx_graph(nodes, (1, 4, 5, 5), (1, 6, 11, 31), inits)
    opcodes = [op.opcode for op in graph.operators]
    for want in ("MIRROR_PAD", "STRIDED_SLICE", "RESIZE_NEAREST_NEIGHBOR", "SPLIT_V", "TRANSPOSE_CONV",
                 "CONCATENATION"):
        assert want in opcodes, opcodes
    assert graph.operators[-1].opcode == "DEQUANTIZE" and graph.operators[-1].options.get("table") is not None
    for op in graph.operators:
        if op.opcode in ("QUANTIZE", "CONV_2D"):
            op.options.pop("requant", None)
    compile_graph(graph)
    written = write_tflite(graph)
    assert not written.inexact and written.tables == 1
    back = [op.opcode for op in parse_model(written.data, "w.tflite").operators]
    assert back[-3:] == ["CAST", "ADD", "GATHER"] and "TRANSPOSE_CONV" in back
    batches = random_inputs(graph, 2, 4)
    for t, c in zip(_tflm(written.data, batches, 1), _host(graph, batches), strict=True):
        assert t[0].dtype == np.float32 and np.array_equal(t[0].reshape(c[0].shape), c[0])


def _refused_forms() -> dict[str, tuple]:
    from onnx_builder import node

    per_channel = np.array([0.25, -0.5, 1.75], np.float32).reshape(3, 1, 1)
    s = (1, 3, 4, 4)
    return {
        # name: (nodes, shape, out_shape, inits, activations, expose, opcode, words in the reason)
        "prelu-slopes": ([node("PRelu", ["c", "k"], ["e"])], s, s, {"k": per_channel}, "int8", True, "PRELU",
                         "slopes"),
        "log-softmax": ([node("LogSoftmax", ["c"], ["e"], axis=1)], s, s, None, "int8", True, "LOG_SOFTMAX",
                        "16/256"),
        "avgpool-pads": ([node("AveragePool", ["c"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                               count_include_pad=1)], s, s, None, "int8", False, "AVERAGE_POOL_2D",
                         "TFLite's AVERAGE_POOL_2D"),
        "convtranspose-crop": ([node("ConvTranspose", ["c", "tw"], ["y"], strides=[2, 2], pads=[1, 1, 0, 0])], s,
                               (1, 3, 8, 8), {"tw": np.full((3, 3, 3, 3), 0.1, np.float32)}, "int8", False,
                               "TRANSPOSE_CONV", "SAME"),
    }


@pytest.mark.parametrize("form", ["prelu-slopes", "log-softmax", "avgpool-pads", "convtranspose-crop"])
def test_onnx_forms_without_a_tflite_equivalent_are_refused(form):
    """PRELU with float32 slopes, LOG_SOFTMAX in onnxruntime's formula, an average pool over explicit
    padding, a ConvTranspose crop that is neither SAME nor VALID: one line naming the operator and
    why, nothing written."""
    nodes, shape, out_shape, inits, act, expose, opcode, words = _refused_forms()[form]
    _, graph = _onnx_graph(nodes, shape, out_shape, inits, act, expose)
    compile_graph(graph)
    with pytest.raises(UnsupportedModelError) as err:
        write_tflite(graph)
    msg = err.value.message
    assert "\n" not in msg and "cannot be written as .tflite" in msg and f"({opcode})" in msg and words in msg, msg


def test_cli_convert_refuses_an_onnx_form_without_a_tflite_equivalent(tmp_path: Path):
    nodes, shape, out_shape, inits, act, expose, _, _ = _refused_forms()["prelu-slopes"]
    q, _ = _onnx_graph(nodes, shape, out_shape, inits, act, expose)
    src = tmp_path / "prelu.onnx"
    src.write_bytes(q)
    out = tmp_path / "prelu.tflite"
    res = _cli("convert", str(src), "-o", str(out))
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "(PRELU)" in lines[0], res.stderr
    assert not out.exists()


@pytest.mark.parametrize("act", ["int8", "uint8"])
def test_onnx_residual_add_is_written_as_tflites_integer_add(act, tmp_path: Path):
    """A residual connection (Add of a Conv and its Relu: a shared DequantizeLinear, float_ops for int8), a
    Sub of the same kind and a Mul by a broadcast constant, in onnxruntime's float32 arithmetic in
    the IR (uint8 bytes for the uint8 model), are written as TFLite's integer ADD / SUB / MUL: TFLite
    Micro on the written file equals mcuforge's C build of it, and `convert` warns that they are not
    bit-exact with onnxruntime."""
    from onnx_builder import node

    nodes = [node("Relu", ["c"], ["r"]), node("Add", ["c", "r"], ["a"]), node("Sub", ["a", "c"], ["d"]),
             node("Mul", ["d", "k"], ["y"])]
    s = (1, 3, 4, 4)
    k = np.array([0.5, -1.25, 2.0], np.float32).reshape(1, 3, 1, 1)
    q, graph = _onnx_graph(nodes, s, s, {"k": k}, act)
    binary = [op for op in graph.operators if op.opcode in ("ADD", "SUB", "MUL")]
    assert [op.opcode for op in binary] == ["ADD", "SUB", "MUL"]
    # onnxruntime fuses uint8 ones behind a shared DequantizeLinear (it copies it per reader), not int8 ones
    assert bool(binary[0].options.get("float_ops")) == (act == "int8")
    assert act == "int8" or all(int(op.options.get("zero_point_shift", 0)) == 128 for op in binary)
    compile_graph(graph)
    written = write_tflite(graph)
    assert {"ADD", "SUB", "MUL"} <= {opcode for _, opcode in written.inexact}, written.inexact
    again = parse_model(written.data, "w.tflite")
    assert [op.opcode for op in again.operators if op.opcode in ("ADD", "SUB", "MUL")][-3:] == ["ADD", "SUB", "MUL"]
    assert not any(op.options.get("requant") or op.options.get("float_ops") for op in again.operators)
    batches = random_inputs(graph, 3, 7)
    for t, c in zip(_tflm(written.data, batches, 1), _host(again, batches), strict=True):
        assert np.array_equal(t[0].reshape(c[0].shape), c[0])
    src = tmp_path / "residual.onnx"
    src.write_bytes(q)
    res = _cli("convert", str(src), "-o", str(tmp_path / "residual.tflite"))
    assert res.returncode == 0, res.stderr
    warning = " ".join(res.stderr.split())
    assert "not bit-exact with onnxruntime" in warning and " ADD" in warning, res.stderr
