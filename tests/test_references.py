"""The reference runners (TFLite Micro, onnxruntime) behind one interface, and the search for the
first operator whose output differs (validate's op-by-op comparison)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from tflite_builder import Op, T, build, options, rng_int8

from mcuforge.generator.divergence import first_difference, steps, top1
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.references import TflmReference, is_tflite, open_reference


def _two_layers(w2_seed: int) -> bytes:
    rng = np.random.default_rng(0)
    w1 = rng_int8(rng, (8, 12))
    w2 = rng_int8(np.random.default_rng(w2_seed), (4, 8))
    tensors = [T((1, 12), "int8", 0.05, 3, name="x"), T((8, 12), "int8", 0.02, 0, data=w1, name="w1"),
               T((1, 8), "int8", 0.1, -2, name="h"), T((4, 8), "int8", 0.02, 0, data=w2, name="w2"),
               T((1, 4), "int8", 0.2, 1, name="y")]
    ops = [Op("FULLY_CONNECTED", [0, 1, -1], [2], options("FullyConnectedOptions")),
           Op("FULLY_CONNECTED", [2, 3, -1], [4], options("FullyConnectedOptions"))]
    return build(tensors, ops, [0], [4])


def test_open_reference_picks_the_runtime_from_the_bytes():
    model = _two_layers(1)
    assert is_tflite(model)
    assert isinstance(open_reference(model), TflmReference)


def test_first_difference_names_the_operator_where_results_part():
    """The C build of one model against the reference of another that differs only in the second
    layer's weights: the first layer agrees, the second is named."""
    good, other = _two_layers(1), _two_layers(2)
    graph = parse_model(good, "two.tflite")
    x = [rng_int8(np.random.default_rng(5), (1, 12))]
    assert first_difference(graph, good, x) is None
    where = first_difference(graph, other, x)
    assert where is not None
    assert (where.operator, where.opcode, where.tensor) == (1, "FULLY_CONNECTED", "y")
    assert 0 < where.elements <= where.size == 4 and where.max_steps >= 1


def test_steps_count_in_the_dequantized_outputs_scale():
    rng = np.random.default_rng(0)
    tensors = [T((1, 6), "int8", 0.5, 0, name="x"), T((1, 6), "float32", name="y")]
    graph = parse_model(build(tensors, [Op("DEQUANTIZE", [0], [1])], [0], [1]), "dq.tflite")
    a = rng.normal(size=(1, 6)).astype(np.float32)
    assert steps(graph, 1, a, a + np.float32(1.0)) == pytest.approx(2.0)
    assert list(top1(np.array([[1, 5, 2], [7, 0, 0]]))) == [1, 0]


onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def _qdq_conv(activations: str) -> bytes:
    import onnx_builder as ob

    rng = np.random.default_rng(0)
    w = rng.normal(size=(6, 3, 3, 3)).astype(np.float32)
    w2 = rng.normal(size=(4, 6, 1, 1)).astype(np.float32)
    m = ob.float_model([ob.node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), ob.node("Relu", ["c"], ["r"]),
                        ob.node("Conv", ["r", "w2"], ["y"])], {"x": [1, 3, 6, 6]}, {"y": [1, 4, 6, 6]},
                       {"w": w, "w2": w2})
    return ob.quantize(m, activations=activations, per_channel=True)


@pytest.mark.parametrize("activations", ["int8", "uint8"])
def test_onnxruntime_runner_gives_final_and_intermediate_values(activations):
    import onnxruntime as ort

    from mcuforge.generator.references.ort_session import options

    model = _qdq_conv(activations)
    x = np.random.default_rng(1).uniform(-1, 1, size=(1, 3, 6, 6)).astype(np.float32)
    ref = open_reference(model, keep_tensors=True)
    got = ref.run([x], 1)[0]
    # a plain session with the reference's options (references/ort_session.py: on a CPU whose
    # default 8-bit kernel saturates, its exact path)
    session = ort.InferenceSession(model, sess_options=options(), providers=["CPUExecutionProvider"])
    want = session.run(None, {"x": x})[0]
    assert np.array_equal(got, want)  # the probe session's extra outputs change nothing
    names = ref.names()  # type: ignore[attr-defined]
    assert "y" in names and len(names) >= 3
    # The integer tensor a graph output's DequantizeLinear reads is there too: it is read from
    # onnxruntime's optimized graph, where the last QuantizeLinear / DequantizeLinear pair stays folded.
    assert ref.value("y_QuantizeLinear_Output") is not None  # type: ignore[attr-defined]
    # The quantized activation between the convolutions, as the IR holds it (int8), under its
    # own name and under the float name it quantizes.
    q = ref.value(names[1])  # type: ignore[attr-defined]
    assert q is not None and q.dtype == np.int8
    assert np.array_equal(ref.value("r"), q)  # type: ignore[attr-defined]
    # onnxruntime's value of it, from the model cut after that tensor's DequantizeLinear (the first
    # Conv keeps its one QuantizeLinear -> DequantizeLinear reader, so it is fused as in the whole
    # model), quantized back. Making the tensor itself an output instead (with_outputs) changes the
    # fusion: with int8 activations onnxruntime then runs both Convs in float and the values differ.
    full = onnx.load_from_string(model)
    dq = next(n for n in full.graph.node if n.op_type == "DequantizeLinear" and n.input[0] == names[1])
    keep, need = [], {dq.output[0]}
    for n in reversed(full.graph.node):
        if need & set(n.output):
            keep.insert(0, n)
            need |= set(n.input)
    cut = onnx.helper.make_graph(keep, "cut", list(full.graph.input), [onnx.ValueInfoProto(name=dq.output[0])],
                                 [i for i in full.graph.initializer if i.name in need])
    cut_model = onnx.helper.make_model(cut, opset_imports=full.opset_import)
    cut_model.ir_version = full.ir_version
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in full.graph.initializer}
    scale, zero = inits[dq.input[1]], inits[dq.input[2]]
    f = ort.InferenceSession(cut_model.SerializeToString(), sess_options=options(),
                             providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    raw = np.rint(f.astype(np.float64) / scale) + zero.astype(np.float64)
    assert np.array_equal(q.astype(np.int16), raw.astype(np.int16) - (128 if activations == "uint8" else 0))


def test_onnxruntime_runner_takes_int8_for_a_uint8_input():
    """A uint8 model input is int8 in the IR (zero point - 128): the runner shifts it back."""
    import onnx_builder as ob
    from onnx import helper

    nodes = [helper.make_node("QLinearSigmoid", ["x", "s", "z", "s2", "z2"], ["y"], domain="com.microsoft")]
    model = ob.quantized_model(nodes, {"x": ((1, 16), np.uint8)}, {"y": ((1, 16), np.uint8)},
                               {"s": np.float32(0.05), "z": np.uint8(128), "s2": np.float32(1 / 256),
                                "z2": np.uint8(0)})
    xu = np.arange(0, 256, 16, dtype=np.uint8).reshape(1, 16)
    want = ob.run_ort(model, {"x": xu})[0]
    got = open_reference(model).run([(xu.astype(np.int16) - 128).astype(np.int8)], 1)[0]
    assert got.dtype == np.int8
    assert np.array_equal(got.astype(np.int16) + 128, want)


def test_onnxruntime_runner_moves_channels_for_an_nhwc_graph():
    """Given the IR (channels last), the runner feeds NCHW and hands NHWC back."""
    from mcuforge.generator.ir import Graph, Tensor
    from mcuforge.generator.references.onnxrt import OnnxReference

    model = _qdq_conv("int8")
    g = Graph("m.onnx", "", [Tensor(0, "x", (1, 6, 6, 3), "float32"), Tensor(1, "y", (1, 6, 6, 4), "float32")],
              [], (0,), (1,))
    x = np.random.default_rng(2).uniform(-1, 1, size=(1, 3, 6, 6)).astype(np.float32)
    nchw = OnnxReference(model).run([x], 1)[0]
    nhwc = OnnxReference(model, dataclasses.replace(g)).run([np.moveaxis(x, 1, -1)], 1)[0]
    assert np.array_equal(nhwc, np.moveaxis(nchw, 1, -1))


def test_channels_last_follows_the_nhwc_operators():
    """An IR tensor whose shape reads the same both ways (C == H == W) is still known channels last
    when a convolution computed it, so the reference's NCHW value is reordered, not just reshaped."""
    from mcuforge.generator.ir import Graph, Operator, Tensor
    from mcuforge.generator.references.onnxrt import channels_last, to_ir

    ts = [Tensor(i, f"t{i}", (1, 4, 4, 4), "int8") for i in range(4)]
    g = Graph("m.onnx", "", ts, [Operator(0, "CONV_2D", (0,), (1,)), Operator(1, "LOOKUP_TABLE", (1,), (2,)),
                                 Operator(2, "RESHAPE", (2,), (3,))], (0,), (3,))
    assert channels_last(g) == {1, 2}
    nchw = np.arange(64, dtype=np.int8).reshape(1, 4, 4, 4)
    assert np.array_equal(to_ir(nchw, (1, 4, 4, 4), True), np.moveaxis(nchw, 1, -1))
    assert np.array_equal(to_ir(nchw, (1, 4, 4, 4)), nchw)  # unknown layout, same shape: as it is
