"""A QDQ Conv that onnxruntime leaves unfused: bit-exact with its float Conv.

On x86-64 onnxruntime fuses DequantizeLinear -> Conv -> QuantizeLinear into QLinearConv only when
input and output are both uint8 after its int8 -> uint8 pass; an int8 tensor read by two nodes (here
the input, also read by a Relu branch) stays int8, and the Conv runs in float in MLAS: fused
multiply-adds in im2col order (SGEMM), products rounded then added four at a time for one output
channel per group (depthwise), eight lanes for a single output pixel, blocks of taps past 128. The
models put many results exactly halfway between two int8 values (output scale = twice the product
of input and weight scales), where the float sum's rounding errors decide and the integer
convolution rounds to even: the integer route differs from onnxruntime there, the float one
(conv2d_s8_fsum) must not.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx_builder import node, quantized_model, run_ort

from mcuforge.generator.codegen import generate
from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import McuforgeError
from mcuforge.generator.frontends.onnx import parse_model
from mcuforge.generator.hostbuild import HostModel

PATHS = {"fast": ("-O0",), "portable": ("-O0", "-DMCF_PORTABLE_KERNELS"),
         "soft-float": ("-O0", "-DMCF_REQUANT_F32_SOFT=1")}
F32 = np.float32


def conv_model(c: int, hw: tuple[int, int], o: int, group: int, k: int, stride: int, pad: int, seed: int,
               shared: bool = True, tie: bool = True, dilation: int = 1) -> tuple[bytes, np.ndarray]:
    """x -> Q -> DQ -> Conv -> Q -> DQ -> y (and, when `shared`, DQ -> Relu -> Q -> DQ -> y2); the
    int8 input values as a float input that quantizes exactly."""
    rng = np.random.default_rng(seed)
    h, w = hw
    cg = c // group
    sx, zx = F32(rng.uniform(0.01, 0.03)), int(rng.integers(-4, 4))
    sw = F32(rng.uniform(0.003, 0.01))
    lim = 3 if tie else 127
    wq = rng.integers(-lim, lim + 1, (o, cg, k, k)).astype(np.int8)
    bq = np.zeros(o, np.int32) if tie else rng.integers(-2000, 2000, o).astype(np.int32)
    so = F32(2) * F32(sx * sw) if tie else F32(sx * sw) * F32(np.sqrt(cg * k * k) * 40)
    xq = rng.integers(zx - 3, zx + 4, (1, c, h, w)) if tie else rng.integers(-128, 128, (1, c, h, w))
    x = ((xq - zx).astype(F32) * sx).astype(F32)
    oh = (h + 2 * pad - dilation * (k - 1) - 1) // stride + 1
    ow = (w + 2 * pad - dilation * (k - 1) - 1) // stride + 1
    q = {"sx": sx, "zx": np.int8(zx), "w": wq, "sw": sw, "zw": np.int8(0), "b": bq, "sb": F32(sx * sw),
         "zb": np.int32(0), "so": so, "zo": np.int8(0)}
    nodes = [node("QuantizeLinear", ["x", "sx", "zx"], ["xq"]), node("DequantizeLinear", ["xq", "sx", "zx"], ["xf"]),
             node("DequantizeLinear", ["w", "sw", "zw"], ["wf"]), node("DequantizeLinear", ["b", "sb", "zb"], ["bf"]),
             node("Conv", ["xf", "wf", "bf"], ["c"], group=group, kernel_shape=[k, k], strides=[stride, stride],
                  pads=[pad] * 4, dilations=[dilation] * 2),
             node("QuantizeLinear", ["c", "so", "zo"], ["cq"]), node("DequantizeLinear", ["cq", "so", "zo"], ["y"])]
    outputs = {"y": ((1, o, oh, ow), np.float32)}
    if shared:
        nodes += [node("Relu", ["xf"], ["r"]), node("QuantizeLinear", ["r", "sx", "zx"], ["rq"]),
                  node("DequantizeLinear", ["rq", "sx", "zx"], ["y2"])]
        outputs["y2"] = ((1, c, h, w), np.float32)
    return quantized_model(nodes, {"x": ((1, c, h, w), np.float32)}, outputs, q), x


def integer_route(x: np.ndarray, model: bytes) -> np.ndarray:
    """What an exact integer convolution with onnxruntime's float32 requantization gives (the tie
    models: zero bias, scale ratio 1/2 exactly, so every odd sum rounds to even)."""
    import onnx
    from onnx import numpy_helper
    from onnx.reference import ReferenceEvaluator

    m = onnx.load_from_string(model)
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    conv = next(n for n in m.graph.node if n.op_type == "Conv")
    xi = np.rint(x / init["sx"]).astype(np.float64)  # x - zx, exact
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in conv.attribute}
    g = onnx.helper.make_graph([onnx.helper.make_node("Conv", ["a", "b"], ["c"], **attrs)], "g",
                               [onnx.helper.make_tensor_value_info("a", onnx.TensorProto.DOUBLE, None),
                                onnx.helper.make_tensor_value_info("b", onnx.TensorProto.DOUBLE, None)],
                               [onnx.helper.make_tensor_value_info("c", onnx.TensorProto.DOUBLE, None)])
    acc = ReferenceEvaluator(onnx.helper.make_model(g)).run(None, {"a": xi, "b": init["w"].astype(np.float64)})[0]
    return np.clip(np.rint(acc * 0.5), -128, 127)


CASES = {  # c, (h, w), o, group, k, stride, pad
    "conv3x3": (8, (10, 10), 12, 1, 3, 1, 1),
    "conv3x3_s2_c3": (3, (12, 12), 8, 1, 3, 2, 1),
    "conv3x3_odd": (8, (7, 9), 6, 1, 3, 1, 1),  # 63 pixels: a last one without a pair; 4 + 2 single channels
    "conv3x3_long": (16, (8, 8), 8, 1, 3, 1, 1),  # 144 taps: the no-FPU screen's sum k |X_k| (weighted)
    "conv3x3_tiny": (16, (2, 2), 8, 1, 3, 1, 1),  # a window larger than the image: no window inside it
    "pointwise": (24, (6, 6), 16, 1, 1, 1, 0),
    "depthwise3x3_s2": (16, (12, 12), 16, 16, 3, 2, 1),
    "depthwise5x5": (12, (8, 8), 12, 12, 5, 1, 2),
    "depthwise3x3_odd": (8, (7, 9), 8, 8, 3, 1, 1),  # pixel pairs and a last single pixel
    "depthwise3x3_ring": (4, (24, 24), 4, 4, 3, 2, 1),  # padded image over MCF_FSUM_DW_PLANE_MAX: a ring of rows
    "depthwise5x5_s2": (8, (12, 12), 8, 8, 5, 2, 2),  # no FPU: 6 columns, a block of four windows and a pair
    "depthwise4x4": (8, (9, 9), 8, 8, 4, 1, 1),  # no FPU: the loop over any window
    "depthwise5x5_small": (8, (6, 6), 8, 8, 5, 2, 2),  # no FPU: 3 x 3 outputs, the taps inside (rows of 3, 4, 5)
    "depthwise_x2": (6, (8, 8), 12, 6, 3, 1, 1),
    "grouped": (8, (6, 6), 8, 2, 3, 1, 1),
    "one_filter": (4, (8, 8), 1, 1, 3, 1, 1),
    "long_k": (150, (10, 10), 2, 1, 1, 1, 0),  # 150 taps over 100 pixels: MLAS sums blocks of 128
    "one_pixel": (64, (1, 1), 42, 1, 1, 1, 0),  # N = 1: the eight-lane kernel, blocks of 4, 2, 1 channels
    "one_pixel_3x3": (8, (3, 3), 39, 1, 3, 1, 0),
    "one_pixel_grouped": (32, (1, 1), 36, 2, 1, 1, 0),
    # MlasGemm split over threads (M x N x K past 64 Ki): by output channels, each share with all
    # pixels, so the whole product's K blocks (ResNet-18 layer3.0 conv1 at 32x32: 1024 + 128 taps);
    # a single pixel on two shares of 256 rows (M = 1 transposed kernel, blocks of four rows);
    # a 1x1 product split by pixels, K blocks per share (32 pixels: 512 taps, the last 4: 1024)
    "split_by_channels": (128, (4, 4), 256, 1, 3, 2, 1),
    "split_one_pixel": (16, (3, 3), 512, 1, 3, 1, 0),
    "split_by_pixels": (1100, (6, 6), 8, 1, 1, 1, 0),
}


@pytest.mark.parametrize("path", ["fast", "soft-float"])
@pytest.mark.parametrize("name", list(CASES))
def test_unfused_conv_bit_exact(name: str, path: str):
    c, hw, o, group, k, stride, pad = CASES[name]
    model, x = conv_model(c, hw, o, group, k, stride, pad, seed=len(name))
    graph = parse_model(model, name="test.onnx")
    convs = [op for op in graph.operators if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    assert convs and all(op.options.get("float_conv") for op in convs)
    want = run_ort(model, {"x": x})[0]
    so = float(np.float32(2) * np.float32(np.float32(quant_scale(model, "sx")) * np.float32(quant_scale(model, "sw"))))
    want_q = np.rint(want / so)
    # the test can fail: the exact integer sum rounds apart from onnxruntime on some ties
    assert np.count_nonzero(integer_route(x, model) != want_q.reshape(integer_route(x, model).shape)) > 0
    # the FPU's float arithmetic, and without an FPU the integer screen with the float32 operations in
    # integers where it cannot decide (most outputs here are ties: the exact route); conv2d_s8_fsum has
    # no separate portable loops (that path: below)
    with HostModel(generate(compile_graph(graph), "model"), extra_flags=PATHS[path]) as host:
        got = host.run([[x]])[0]
    assert np.array_equal(got[0].reshape(want.shape), want), name


def quant_scale(model: bytes, name: str) -> float:
    import onnx
    from onnx import numpy_helper

    m = onnx.load_from_string(model)
    return float(next(numpy_helper.to_array(i) for i in m.graph.initializer if i.name == name))


def test_random_weights_and_bias():
    """Full-range weights, a bias: the float Conv with its bias, bit-exact."""
    model, x = conv_model(16, (12, 12), 16, 16, 3, 1, 1, seed=3, tie=False)
    graph = parse_model(model, name="test.onnx")
    assert all(op.options.get("float_conv") for op in graph.operators if op.opcode == "DEPTHWISE_CONV_2D")
    want = run_ort(model, {"x": x})[0]
    with HostModel(generate(compile_graph(graph), "model"), extra_flags=("-O0",)) as host:
        got = host.run([[x]])[0]
    assert np.array_equal(got[0].reshape(want.shape), want)


SCREENED = {"conv3x3": "gemm", "conv3x3_s2_c3": "gemm", "conv3x3_odd": "gemm", "conv3x3_long": "gemm",
            "conv3x3_tiny": "gemm",
            "pointwise": "gemm",
            "grouped": "gemm", "long_k": "gemm", "split_by_pixels": "gemm",
            "depthwise3x3_s2": "dw", "depthwise5x5": "dw", "depthwise3x3_odd": "dw", "depthwise3x3_ring": "dw",
            "depthwise5x5_s2": "dw", "depthwise4x4": "dw", "depthwise5x5_small": "dw"}


@pytest.mark.parametrize("tie", [True, False])
@pytest.mark.parametrize("name", SCREENED)
def test_screen_decides_only_what_is_certain(name: str, tie: bool):
    """Without an FPU _gemm and _dw decide what they can from integer sums (conv2d_s8_fsum.h). Built with
    MCF_FSUM_SCREEN_TEST=1 every output is also computed the float way and a screen decision that
    differs traps; the tie models put many sums on rounding boundaries, the others use full-range
    weights and a bias. With the margins cut (=2) the ties must trap: the check can fail. With =3
    both margins (_gemm's, _dw's) must also bound every output's distance between the float quotient and the
    fixed-point value, boundary or not (a margin too small traps there even where no output is near
    a boundary)."""
    c, hw, o, group, k, stride, pad = CASES[name]
    model, x = conv_model(c, hw, o, group, k, stride, pad, seed=len(name) + 7, tie=tie)
    graph = parse_model(model, name="test.onnx")
    lib = generate(compile_graph(graph), "model")
    assert f"mcf_conv2d_s8_fsum_{SCREENED[name]}(" in lib.files["model.c"].decode()
    want = run_ort(model, {"x": x})[0]
    with HostModel(lib, extra_flags=(*PATHS["soft-float"], "-DMCF_FSUM_SCREEN_TEST=1")) as host:
        got = host.run([[x]])[0]
    assert np.array_equal(got[0].reshape(want.shape), want), name
    with HostModel(lib, extra_flags=(*PATHS["soft-float"], "-DMCF_FSUM_SCREEN_TEST=3")) as host:
        got = host.run([[x]])[0]
    assert np.array_equal(got[0].reshape(want.shape), want), name
    if tie:
        with pytest.raises(McuforgeError), HostModel(lib, extra_flags=(*PATHS["soft-float"],
                                                                          "-DMCF_FSUM_SCREEN_TEST=2")) as host:
            host.run([[x]])


def drift_model(c: int, o: int, k: int = 1) -> tuple[bytes, np.ndarray]:
    """A k x k Conv (no padding, 2 x 2 output pixels) over c channels whose products are all equal (x
    and the weights constant): every fused multiply-add of a channel's float sum rounds the same way
    within a binade of its partial sums, so the rounding errors add up instead of cancelling, near
    the bound the screens assume."""
    sx, zx, sw = F32(0.0173), -3, F32(0.00731)
    hw = k + 1
    wq = np.full((o, c, k, k), 127, np.int8)
    wq[1::2] = -113  # two sizes of product, both signs
    # |V| about 1500: the partial sums' term of the margins dominates
    so = F32(float(sx) * float(sw) * c * k * k * 124 * 127 / 1500)
    x = np.full((1, c, hw, hw), (121 - zx) * float(sx), np.float32)
    q = {"sx": sx, "zx": np.int8(zx), "w": wq, "sw": sw, "zw": np.int8(0), "b": np.zeros(o, np.int32),
         "sb": F32(sx * sw), "zb": np.int32(0), "so": so, "zo": np.int8(0)}
    nodes = [node("QuantizeLinear", ["x", "sx", "zx"], ["xq"]), node("DequantizeLinear", ["xq", "sx", "zx"], ["xf"]),
             node("DequantizeLinear", ["w", "sw", "zw"], ["wf"]), node("DequantizeLinear", ["b", "sb", "zb"], ["bf"]),
             node("Conv", ["xf", "wf", "bf"], ["c"], kernel_shape=[k, k]),
             node("QuantizeLinear", ["c", "so", "zo"], ["cq"]), node("DequantizeLinear", ["cq", "so", "zo"], ["y"]),
             node("Relu", ["xf"], ["r"]), node("QuantizeLinear", ["r", "sx", "zx"], ["rq"]),
             node("DequantizeLinear", ["rq", "sx", "zx"], ["y2"])]
    outputs = {"y": ((1, o, 2, 2), np.float32), "y2": ((1, c, hw, hw), np.float32)}
    return quantized_model(nodes, {"x": ((1, c, hw, hw), np.float32)}, outputs, q), x


@pytest.mark.parametrize("k", [1, 3])
def test_margins_hold_where_rounding_errors_add_up(k: int):
    """_gemm's margins bound the float arithmetic's error where it is largest: equal products whose
    roundings all go one way (drift_model). Built with MCF_FSUM_SCREEN_TEST=3, every output's
    distance between the float quotient and the fixed-point value is checked against both margins.
    The test can fail, and the bound is not far above what happens: the same build with the first
    margin cut to a sixteenth traps (the errors here reach about a tenth of it)."""
    model, x = drift_model(512 // (k * k), 32, k)  # about 512 taps
    lib = generate(compile_graph(parse_model(model, name="drift.onnx")), "model")
    assert "mcf_conv2d_s8_fsum_gemm(" in lib.files["model.c"].decode()
    want = run_ort(model, {"x": x})[0]
    with HostModel(lib, extra_flags=(*PATHS["soft-float"], "-DMCF_FSUM_SCREEN_TEST=3")) as host:
        got = host.run([[x]])[0]
    assert np.array_equal(got[0].reshape(want.shape), want)
    with pytest.raises(McuforgeError), HostModel(lib, extra_flags=(*PATHS["soft-float"], "-DMCF_FSUM_SCREEN_TEST=3",
                                                                  "-DMCF_FSUM_CUT_FIRST_MARGIN=16")) as host:
        host.run([[x]])


def test_partial_bits_agree():
    """The kernel shifts the products with the words per unit of W and P by as many bits as the
    compiler scaled them (a mismatch halves or doubles those margins, which tests on data may miss)."""
    import re

    from mcuforge.generator.ops import conv_fsum

    src = (Path(__file__).parents[1] / "runtime" / "kernels" / "conv2d_s8_fsum.c").read_text()
    found = re.search(r"#define MCF_FSUM_PARTIAL_BITS (\d+)", src)
    assert found is not None and int(found.group(1)) == conv_fsum.PARTIAL_BITS


def test_unreproduced_split_said():
    """Five output channels, four pixels, 13,500 taps: on four threads MlasGemm gives one channel a
    share of its own (MLAS's M = 1 kernel there), which the integer kernels stand in for, and the
    compile says so; on two threads (shares of 3 and 2 channels) the float kernel."""
    model, _ = conv_model(1500, (2, 2), 5, 1, 3, 1, 1, seed=2)
    graph = parse_model(model, name="test.onnx")
    four, two = compile_graph(graph, ort_threads=4).float_convs, compile_graph(graph, ort_threads=2).float_convs
    assert four is not None and two is not None
    assert (four.count, four.integer, two.integer) == (1, 1, 0)
    assert "0 of 1 convolution(s)" in four.describe() and "1 of them on the integer kernels" in four.describe()
    assert "integer kernels" not in two.describe()


def test_fused_conv_stays_integer():
    """Input and output each read once: onnxruntime runs QLinearConv (uint8), no float_conv."""
    model, _ = conv_model(8, (6, 6), 8, 1, 3, 1, 1, seed=1, shared=False)
    graph = parse_model(model, name="test.onnx")
    conv = next(op for op in graph.operators if op.opcode == "CONV_2D")
    assert not conv.options.get("float_conv")


# ---- one firmware: every path of conv2d_s8_fsum on an emulated Cortex-M4F (VFMA.F32) ------------

BRANCHES = {  # o, group, k, stride, pad: all read the same 16-channel 10x10 input (its DequantizeLinear shared)
    "conv3x3": (12, 1, 3, 1, 1),            # _gemm: blocks of 8 and 4 output channels
    "pointwise": (17, 1, 1, 1, 0),          # _gemm: 8 + 8 (two blocks a call) + 1
    "pointwise16": (16, 1, 1, 1, 0),        # _gemm's whole-image 1x1 loop (channels a multiple of 8)
    "depthwise3x3_s2": (16, 16, 3, 2, 1),   # _dw
    "depthwise5x5": (16, 16, 5, 1, 2),      # _dw
    "depthwise3x3": (16, 16, 3, 1, 0),      # _dw, pixel pairs
    "depthwise4x4": (16, 16, 4, 1, 1),      # _dw, the loop over any window
    "depthwise5x5_ring": (16, 16, 5, 1, 4),  # _dw, 18x18 padded rows: a ring of rows instead of the plane
    "one_filter": (1, 1, 3, 1, 1),          # _m1
    "whole_window": (10, 1, 10, 1, 0),      # _n1: one output pixel
    # _gemm's eight-channel block in one assembly routine on the M4F: K = 25 (eight taps, then
    # passes of eight, a last one), K = 18 (then a pair), K = 4 (the first tap alone, a pair, one)
    "multiplier8_5x5": (128, 16, 5, 1, 2),
    "grouped8_3x3": (64, 8, 3, 1, 1),
    "grouped4_relu": (32, 4, 1, 1, 0, "Relu"),  # a Relu folded in: act_min at the zero point
}


def branches_model(seed: int = 5) -> tuple[bytes, np.ndarray]:
    rng = np.random.default_rng(seed)
    c, h, w = 16, 10, 10
    sx, zx = F32(0.021), 2
    xq = rng.integers(zx - 3, zx + 4, (1, c, h, w))
    x = ((xq - zx).astype(F32) * sx).astype(F32)
    q: dict[str, np.ndarray] = {"sx": sx, "zx": np.int8(zx), "z0": np.int8(0), "z32": np.int32(0)}
    nodes = [node("QuantizeLinear", ["x", "sx", "zx"], ["xq"]), node("DequantizeLinear", ["xq", "sx", "zx"], ["xf"])]
    outputs = {}
    for j, (name, (o, group, k, stride, pad, *relu)) in enumerate(BRANCHES.items()):
        sw = F32(rng.uniform(0.003, 0.01))
        q[f"w{j}"] = rng.integers(-3, 4, (o, c // group, k, k)).astype(np.int8)
        q[f"sw{j}"], q[f"b{j}"], q[f"sb{j}"] = sw, np.zeros(o, np.int32), F32(sx * sw)
        q[f"so{j}"] = F32(2) * F32(sx * sw)
        nodes += [node("DequantizeLinear", [f"w{j}", f"sw{j}", "z0"], [f"wf{j}"]),
                  node("DequantizeLinear", [f"b{j}", f"sb{j}", "z32"], [f"bf{j}"]),
                  node("Conv", ["xf", f"wf{j}", f"bf{j}"], [f"c{j}" + "r" * len(relu)], group=group,
                       kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4),
                  *[node(r, [f"c{j}r"], [f"c{j}"]) for r in relu],
                  node("QuantizeLinear", [f"c{j}", f"so{j}", "z0"], [f"q{j}"]),
                  node("DequantizeLinear", [f"q{j}", f"so{j}", "z0"], [name])]
        side = (h + 2 * pad - k) // stride + 1
        outputs[name] = ((1, o, side, side), np.float32)
    return quantized_model(nodes, {"x": ((1, c, h, w), np.float32)}, outputs, q), x


def test_branches_model_uses_every_path():
    model, x = branches_model()
    graph = parse_model(model, name="test.onnx")
    calls = compile_graph(graph).steps
    functions = {s.function for s in calls if hasattr(s, "function")}
    assert {f"mcf_conv2d_s8_fsum_{p}" for p in ("gemm", "dw", "m1", "n1")} <= functions
    want = run_ort(model, {"x": x})
    lib = generate(compile_graph(graph), "model")
    for flags in PATHS.values():  # fast, portable and the soft-float output stage
        with HostModel(lib, extra_flags=flags) as host:
            got = host.run([[x]])[0]
        for g, w in zip(got, want, strict=True):
            assert np.array_equal(g.reshape(w.shape), w), flags


TOOLS = ("arm-none-eabi-gcc", "qemu-system-arm", "cmake", "ninja")


@pytest.mark.slow
@pytest.mark.skipif(not all(shutil.which(t) for t in TOOLS), reason="needs " + ", ".join(TOOLS))
def test_on_mps2_an386_equals_onnxruntime(tmp_path: Path):
    from test_kernels_on_device import build_firmware

    from mcuforge.hil.session import open_session

    model, x = branches_model()
    path = tmp_path / "float_conv.onnx"
    path.write_bytes(model)
    project = build_firmware(tmp_path, path, "mps2_an386")
    want = run_ort(model, {"x": x})
    with open_session(project, infer_timeout=120.0) as s:
        got = s.device.infer([x]).outputs
    for name, g, w in zip(BRANCHES, got, want, strict=True):
        assert np.array_equal(np.asarray(g).reshape(w.shape), w), name


def test_flash_counts_the_filter_the_build_holds():
    """Builds with an FPU hold the float32 filters of the float Convs, builds without one the int8
    filters and the screens' words: the placement counts the kind the board's build holds."""
    from mcuforge.generator.boards import load_board
    from mcuforge.generator.scaffold import _const_bytes

    model, _ = branches_model()
    lib = generate(compile_graph(parse_model(model, name="test.onnx")), "model")
    by_float = lib.manifest["const_bytes_float"]
    assert by_float["int"] < by_float["hw"] <= lib.manifest["const_bytes"]
    assert _const_bytes(load_board("mps2_an385"), "cmake", lib) == by_float["int"]
    assert _const_bytes(load_board("mps2_an386"), "cmake", lib) == by_float["hw"]
