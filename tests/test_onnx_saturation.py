"""Why a full-range int8 Conv differs from onnxruntime on x86 without VNNI, and that the difference
is onnxruntime's: the real model small_cnn (a 3-channel first Conv, quantized without reduce_range)
was 0/3 bit-exact on this host, every difference starting at its first Conv.

onnxruntime runs an int8 QDQ Conv as a uint8 QLinearConv (input + 128) on MLAS's u8 x s8 GEMM,
which on AVX2 multiplies with vpmaddubsw: the products of two neighbouring reduction indices
(im2col order kernel row, kernel column, input channel) are added in int16 with saturation. Here a
synthetic Conv of the same shape is built so that such pairs overflow (inputs near 1.0 are uint8
255, weights near +127): the generated C must give the exact integer sum requantized in float32,
and onnxruntime must give that sum with its pairs saturated when its kernel saturates (the probe in
references.onnxrt), the exact one otherwise. Nothing in the generated C should imitate the
saturation: onnxruntime on VNNI or Arm hosts computes the exact sum.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx_builder as ob
from onnx import numpy_helper

from mcuforge.generator.codegen import generate
from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends import read_model
from mcuforge.generator.hostbuild import HostModel
from mcuforge.generator.references.onnxrt import saturates_u8s8

CIN, COUT, H, W = 3, 4, 6, 6


def _conv() -> ob.onnx.ModelProto:
    rng = np.random.default_rng(3)
    w = rng.uniform(-1.0, 1.0, size=(COUT, CIN, 3, 3)).astype(np.float32)
    w[0] = rng.uniform(0.8, 1.0, size=(CIN, 3, 3))  # channel 0: every weight near +127
    w[1, :, :, :] = np.abs(w[1]) * np.sign(np.arange(CIN * 9).reshape(CIN, 3, 3) % 2 - 0.5)  # alternating
    b = rng.normal(0, 0.1, size=COUT).astype(np.float32)
    nodes = [ob.node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1])]
    return ob.float_model(nodes, {"x": [1, CIN, H, W]}, {"y": [1, COUT, H, W]}, {"w": w, "b": b})


def _initializers(model: bytes) -> dict[str, np.ndarray]:
    return {i.name: numpy_helper.to_array(i) for i in ob.onnx.load_from_string(model).graph.initializer}


def _integer_conv(q: np.ndarray, model: bytes, *, saturate_pairs: bool) -> np.ndarray:
    """The Conv's int8 output (IR form: uint8 minus 128) from its quantized NCHW input `q` (IR
    int8), as onnxruntime's uint8 QLinearConv computes it: im2col in (kh, kw, c) order, the
    products of neighbouring indices paired (in int16 with saturation when `saturate_pairs`), the
    input zero point's share subtracted through the weight sums, float32 requantization."""
    init = _initializers(model)
    g = ob.onnx.load_from_string(model).graph
    dq = {n.output[0]: n for n in g.node if n.op_type == "DequantizeLinear"}
    conv = next(n for n in g.node if n.op_type == "Conv")
    qout = next(n for n in g.node if n.op_type == "QuantizeLinear" and n.input[0] == conv.output[0])
    x_dq, w_dq, b_dq = (dq[i] for i in conv.input)
    wq = init[w_dq.input[0]].astype(np.int64)
    bias = init[b_dq.input[0]].astype(np.int64)
    sx, sw, sy = (np.float32(init[x_dq.input[1]]), init[w_dq.input[1]].astype(np.float32),
                  np.float32(init[qout.input[1]]))
    zx = int(init[x_dq.input[2]].astype(np.int64)) + (128 if init[x_dq.input[2]].dtype == np.int8 else 0)
    zy = int(init[qout.input[2]].astype(np.int64)) + (128 if init[qout.input[2]].dtype == np.int8 else 0)
    xu = q.astype(np.int64) + 128  # IR int8 -> the uint8 bytes onnxruntime multiplies
    padded = np.full((CIN, H + 2, W + 2), zx, np.int64)
    padded[:, 1:-1, 1:-1] = xu[0]
    cols = np.stack([padded[:, i:i + H, j:j + W] for i in range(3) for j in range(3)])  # [9, C, H, W]
    a = cols.transpose(2, 3, 0, 1).reshape(H * W, 9 * CIN)  # (kh, kw, c) per output pixel
    wm = wq.transpose(0, 2, 3, 1).reshape(COUT, 9 * CIN)
    prod = a[:, None, :] * wm[None, :, :]
    if prod.shape[2] % 2:
        prod = np.concatenate([prod, np.zeros((*prod.shape[:2], 1), np.int64)], axis=2)
    pairs = prod[:, :, 0::2] + prod[:, :, 1::2]
    if saturate_pairs:
        pairs = np.clip(pairs, -32768, 32767)
    acc = pairs.sum(axis=2) - zx * wm.sum(axis=1)[None, :] + bias[None, :]
    scale = (sx * sw / sy).astype(np.float32)
    y = np.clip(np.rint(acc.astype(np.float32) * scale[None, :]) + zy, 0, 255) - 128
    return y.reshape(H, W, COUT).astype(np.int8)  # NHWC, as the IR holds it


def test_full_range_conv_is_exact_in_c_and_saturated_in_onnxruntime(tmp_path: Path):
    """int8 activations, as small_cnn_int8 (uint8 ones reach the same onnxruntime kernel)."""
    model = ob.quantize(_conv(), activations="int8", per_channel=True, low=0.0, high=1.0)
    path = ob.save(model, tmp_path / "conv.onnx")
    graph = read_model(path)
    init = _initializers(model)
    x_q = next(n for n in ob.onnx.load_from_string(model).graph.node if n.op_type == "QuantizeLinear")
    sx = np.float32(init[x_q.input[1]])
    zp = init[x_q.input[2]]
    z_ir = int(zp.astype(np.int64)) - (128 if zp.dtype == np.uint8 else 0)
    rng = np.random.default_rng(0)
    q = np.where(rng.random((1, CIN, H, W)) < 0.8, 127, rng.integers(-128, 128, (1, CIN, H, W))).astype(np.int8)
    x = ((q.astype(np.float32) - np.float32(z_ir)) * sx).astype(np.float32)  # quantizes back to q exactly

    exact = _integer_conv(q, model, saturate_pairs=False)
    saturated = _integer_conv(q, model, saturate_pairs=True)
    assert np.count_nonzero(exact != saturated) > 10, "the input must make onnxruntime's pairs overflow"

    out_q = next(n for n in ob.onnx.load_from_string(model).graph.node if n.op_type == "QuantizeLinear"
                 and n.input[0] != "x")
    sy, zy = np.float32(init[out_q.input[1]]), init[out_q.input[2]]
    z_out = int(zy.astype(np.int64)) - (128 if zy.dtype == np.uint8 else 0)

    def as_int8(y: np.ndarray) -> np.ndarray:  # the float graph output (DequantizeLinear's) back to IR int8, NHWC
        return (np.rint(y / sy) + z_out).astype(np.int8).reshape(1, COUT, H, W)[0].transpose(1, 2, 0)

    with HostModel(generate(compile_graph(graph), "sat")) as host:
        got = host.run([[x]])[0][0]
    assert np.array_equal(as_int8(got), exact)

    (y,) = ob.run_ort(model, {"x": x})
    assert np.array_equal(as_int8(y), saturated if saturates_u8s8() else exact)
