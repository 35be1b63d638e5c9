"""First-layer ONNX convolutions (1 to 3 input channels) on the few-channel path with onnxruntime's
float32 output stage (runtime/kernels/conv2d_s8_first_f32.c), and a 1x1 convolution on 8 channels
on the depth-8 path and two on the blocked path of conv2d_s8_narrow_f32.c: bit-exact with onnxruntime.

One model holds four first layers side by side (RGB 3x3 stride 2 with a folded Relu, one
channel 5x5, two channels with uneven padding and strides, RGB 7x7 stride 2) and the 1x1, quantized by
onnxruntime's quantize_static in QDQ and QOperator form, int8 and uint8 activations, per channel
and per tensor; each build runs on the host's fast, portable, soft-float and RV32-emulated paths.
Weights are 7-bit (reduce_range), as in tests/test_onnx_ops.py: onnxruntime's AVX2 kernel adds
product pairs in saturating int16.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx_builder import calibration_data, float_model, input_names, node, quantize, run_ort

from mcuforge.generator.codegen import generate
from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends.onnx import parse_model
from mcuforge.generator.hostbuild import HostModel

logging.getLogger().setLevel(logging.ERROR)  # the quantizer's advice to pre-process models

PATHS = {"fast": ("-O0",), "portable": ("-O0", "-DMCF_PORTABLE_KERNELS"),
         "soft-float": ("-O0", "-DMCF_REQUANT_F32_SOFT=1"),
         "rv32-emulated": ("-O0", "-DMCF_EMULATE_RV32", "-DMCF_REQUANT_F32_SOFT=1")}

# (input shape NCHW, output channels, kernel, strides, pads top/left/bottom/right, Relu after)
CONVS = [
    ((1, 3, 12, 12), 8, 3, (2, 2), (1, 1, 1, 1), True),
    ((1, 1, 10, 9), 10, 5, (1, 1), (2, 2, 2, 2), False),
    ((1, 2, 9, 11), 16, 3, (2, 1), (0, 1, 1, 0), False),
    ((1, 3, 16, 16), 8, 7, (2, 2), (3, 3, 3, 3), True),
    ((1, 8, 6, 7), 12, 1, (1, 1), (0, 0, 0, 0), False),  # 1x1 on 8 channels: the depth-8 path
    ((1, 30, 1, 1), 11, 1, (1, 1), (0, 0, 0, 0), True),  # one pixel: the blocks (4, 4, 2, 1), a partial group
    ((1, 16, 4, 5), 2, 1, (1, 1), (0, 0, 0, 0), False),  # two output channels: the blocks, pixel by pixel
]
NARROW = 2  # the last two: conv2d_s8_narrow's blocks


def _model():
    rng = np.random.default_rng(5)
    nodes, inputs, outputs, inits = [], {}, {}, {}
    for i, (shape, oc, k, strides, pads, relu) in enumerate(CONVS):
        _, c, h, w = shape
        oh = (h + pads[0] + pads[2] - k) // strides[0] + 1
        ow = (w + pads[1] + pads[3] - k) // strides[1] + 1
        inits[f"w{i}"] = rng.normal(0, 0.5, (oc, c, k, k)).astype(np.float32)
        inits[f"b{i}"] = rng.normal(0, 0.5, oc).astype(np.float32)
        conv_out = f"c{i}" if relu else f"y{i}"
        nodes.append(node("Conv", [f"x{i}", f"w{i}", f"b{i}"], [conv_out], kernel_shape=[k, k],
                          strides=list(strides), pads=[pads[0], pads[1], pads[2], pads[3]]))
        if relu:
            nodes.append(node("Relu", [conv_out], [f"y{i}"]))
        inputs[f"x{i}"] = shape
        outputs[f"y{i}"] = (1, oc, oh, ow)
    return float_model(nodes, inputs, outputs, inits)


@pytest.mark.parametrize(("fmt", "act", "per_channel"),
                         [("qdq", "int8", True), ("qdq", "uint8", True), ("qdq", "uint8", False),
                          ("qoperator", "int8", False)])
def test_first_layer_convs_equal_onnxruntime(fmt, act, per_channel):
    import onnx

    float_m = _model()
    model = quantize(float_m, fmt, act, per_channel, reduce_range=True)
    graph = parse_model(model, name="first.onnx")
    cm = compile_graph(graph)
    firsts = [c.function for c in cm.calls if c.function.startswith("mcf_conv2d_s8_first_")]
    k8 = [c.function for c in cm.calls if c.function.startswith("mcf_conv2d_s8_narrow_k8_")]
    blocks = [c.function for c in cm.calls if c.function.startswith(("mcf_conv2d_s8_narrow_full",
                                                                      "mcf_conv2d_s8_narrow_clamp"))]
    assert len(firsts) == len(CONVS) - 1 - NARROW and len(k8) == 1 and len(blocks) == NARROW, \
        [c.function for c in cm.calls]
    assert all(f.endswith("_f32") for f in firsts + k8 + blocks)
    lib = generate(cm, "model")
    names = input_names(model)
    data = calibration_data(onnx.load_from_string(model), 3, seed=11, low=-1.3, high=1.3)
    wants = [run_ort(model, d) for d in data]
    producers = {t: op for op in graph.operators for t in op.outputs}
    out_scales = [graph.tensors[producers[t].inputs[0]].scale for t in graph.outputs]  # DEQUANTIZE's input
    for path, flags in PATHS.items():
        with HostModel(lib, extra_flags=flags) as host:
            got = host.run([[d[n] for n in names] for d in data])
        for outs, want in zip(got, wants, strict=True):
            for g, w, s in zip(outs, want, out_scales, strict=True):
                steps = np.abs(g.astype(np.float64) - w.reshape(g.shape).astype(np.float64)) / s
                assert float(steps.max()) < 1e-3, (path, fmt, act, per_channel, int((steps > 0.5).sum()))
