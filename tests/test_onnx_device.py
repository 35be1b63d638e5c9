"""ONNX single-operator models through the generated C on every kernel path and on emulated boards,
bit for bit against onnxruntime (CPU provider, default session options).

One quantized ONNX model holds the operators side by side (graph inputs -> operator -> graph
output, no two branches sharing a node): Conv (strided, asymmetric pads), depthwise Conv, Gemm,
MatMul, Add, Mul and GlobalAveragePool, quantized three ways by onnxruntime's own quantizer
(QDQ with int8 activations and per-channel weights, QDQ with uint8 activations and per-tensor
weights, QOperator with uint8 activations), the three merged into one graph. On the host it runs on
the fast paths with the soft-float output stage (the integer emulation of float32 that Cortex-M0/M3
use), the portable reference loops and the DSP paths (emulated in C); on QEMU on mps2_an385
(Cortex-M3, soft-float), mps2_an386 (Cortex-M4F, FPU) and mps2_an500 (Cortex-M7), through the code
`mcuforge test` uses (hil.runner.run_vectors, tolerance 0).

Weights are quantized with reduce_range (7 bits): onnxruntime's AVX2 kernels without VNNI add u8*s8
products in pairs into saturating int16, which full-range weights overflow, and its result would then
not be the exact integer one this test compares against.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx
from onnx_builder import float_model, node, quantize

from mcuforge.generator.codegen import generate
from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends.onnx import parse_model
from mcuforge.generator.hostbuild import HostModel
from mcuforge.generator.references import open_reference
from mcuforge.generator.validate import output_checksum, random_inputs

logging.getLogger().setLevel(logging.ERROR)  # the quantizer's advice to pre-process models

# The fast paths with the integer output stage are what a Cortex-M3 runs (no DSP extension, no FPU);
# the DSP paths with float32 instructions what a Cortex-M4F runs.
HOST_PATHS: dict[str, tuple[str, ...]] = {
    "fast-soft-float": ("-DMCF_REQUANT_F32_SOFT=1",),
    "portable": ("-DMCF_PORTABLE_KERNELS",),
    "dsp-emulated": ("-DMCF_EMULATE_DSP",),
}
FLAVOURS = [("qdq", "int8", True), ("qdq", "uint8", False), ("qoperator", "uint8", False)]
EXPECTED_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "MUL", "MEAN"}


def _branches(seed: int) -> onnx.ModelProto:
    """The float model: seven independent operators on three inputs."""
    rng = np.random.default_rng(seed)

    def w(*shape: int) -> np.ndarray:
        return rng.normal(0, 0.5, size=shape).astype(np.float32)

    nodes = [node("Conv", ["a", "cw", "cb"], ["conv"], pads=[1, 0, 1, 2], strides=[2, 2]),
             node("Conv", ["a", "dw", "db"], ["dwconv"], pads=[1, 1, 1, 1], group=4),
             node("Add", ["a", "b"], ["add"]),
             node("Mul", ["a", "b"], ["mul"]),
             node("GlobalAveragePool", ["b"], ["gap"]),
             node("Gemm", ["v", "gw", "gb"], ["gemm"], transB=1),
             node("MatMul", ["v", "mw"], ["matmul"])]
    inputs = {"a": (1, 4, 7, 7), "b": (1, 4, 7, 7), "v": (2, 16)}
    outputs = {"conv": (1, 6, 4, 4), "dwconv": (1, 8, 7, 7), "add": (1, 4, 7, 7), "mul": (1, 4, 7, 7),
               "gap": (1, 4, 1, 1), "gemm": (2, 10), "matmul": (2, 5)}
    inits = {"cw": w(6, 4, 3, 3), "cb": w(6), "dw": w(8, 1, 3, 3), "db": w(8), "gw": w(10, 16), "gb": w(10),
             "mw": w(16, 5)}
    return float_model(nodes, inputs, outputs, inits)


def merge(models: dict[str, bytes]) -> bytes:
    """Quantized models side by side in one graph, every name prefixed with its key."""
    from onnx import compose

    parts = [compose.add_prefix(onnx.load_from_string(m), prefix=f"{k}_") for k, m in models.items()]
    graph = onnx.helper.make_graph(
        [n for p in parts for n in p.graph.node], "onnx_device",
        [i for p in parts for i in p.graph.input], [o for p in parts for o in p.graph.output],
        initializer=[t for p in parts for t in p.graph.initializer],
        value_info=[v for p in parts for v in p.graph.value_info])
    merged = onnx.helper.make_model(graph, opset_imports=list(parts[0].opset_import), producer_name="mcuforge-tests")
    merged.ir_version = parts[0].ir_version
    onnx.checker.check_model(merged)
    return merged.SerializeToString()


@pytest.fixture(scope="module")
def model() -> bytes:
    quantized = {}
    for fmt, act, per_channel in FLAVOURS:
        key = f"{fmt}_{act}_{'pc' if per_channel else 'pt'}"
        quantized[key] = quantize(_branches(len(key)), fmt, act, per_channel, reduce_range=True,
                                  low=-1.5, high=1.5)
    return merge(quantized)


@pytest.fixture(scope="module")
def graph(model: bytes):
    return parse_model(model, name="onnx_device.onnx")


def test_the_model_is_what_the_test_says(model: bytes, graph) -> None:
    ops = [op.opcode for op in graph.operators]
    assert set(ops) >= EXPECTED_OPS, ops
    onnx_ops = {n.op_type for n in onnx.load_from_string(model).graph.node}
    assert {"QLinearConv", "QLinearAdd", "QLinearMul", "QLinearGlobalAveragePool", "Conv", "Gemm"} <= onnx_ops
    assert len(graph.outputs) == 3 * 7
    assert any(op.options.get("requant") == "float32" for op in graph.operators)
    scales = [graph.tensors[op.inputs[1]].quant.scale for op in graph.operators if op.opcode == "CONV_2D"]
    assert any(len(s) > 1 for s in scales) and any(len(s) == 1 for s in scales)  # per channel, per tensor


@pytest.fixture(scope="module")
def batches(graph) -> list[list[np.ndarray]]:
    """The self-test's input (`mcuforge validate --seed 0`'s first), then two more."""
    from mcuforge.generator.scaffold import SELFTEST_SEED

    return random_inputs(graph, 1, SELFTEST_SEED) + random_inputs(graph, 2, seed=5)


@pytest.fixture(scope="module")
def host_outputs(graph, batches) -> dict[str, list[list[np.ndarray]]]:
    """Each path's outputs for `batches`, one host build each (-O0: integer and IEEE float32
    arithmetic give the same bytes at any optimisation level, and the builds stay quick)."""
    lib = generate(compile_graph(graph), "model")
    outputs = {}
    for path, flags in HOST_PATHS.items():
        with HostModel(lib, extra_flags=("-O0", *flags)) as host:
            outputs[path] = host.run(batches)
    return outputs


@pytest.mark.parametrize("path", list(HOST_PATHS))
def test_host_paths_equal_onnxruntime(model: bytes, graph, batches, host_outputs, path: str) -> None:
    ref = open_reference(model, graph)
    for inputs, outs in zip(batches, host_outputs[path], strict=True):
        want = ref.run(inputs, len(graph.outputs))
        assert all(np.ptp(w) > 0 for w in want)  # no output is constant
        bad = [graph.tensors[t].name for t, g, w in zip(graph.outputs, outs, want, strict=True)
               if not np.array_equal(g.reshape(-1), w.reshape(-1))]
        assert not bad, (path, bad)


def test_selftest_checksum_comes_from_onnxruntime(model: bytes, graph, batches, host_outputs) -> None:
    """`mcuforge new` on an .onnx model embeds the checksum of onnxruntime's outputs for the
    self-test input, which the generated C gives too."""
    from mcuforge.generator.scaffold import make_selftest

    st = make_selftest(graph, model)
    assert st.checksum == output_checksum(open_reference(model, graph).run(batches[0], len(graph.outputs)))
    assert "onnxruntime computes" in st.header
    assert st.checksum == output_checksum(host_outputs["portable"][0])


# ---- the soft-float output stage, value by value ------------------------------------------------------

HARNESS = r"""
#include <stdio.h>
#include "mcf_common.h"
int main(int argc, char **argv)
{
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    int32_t pair[2];
    (void)argc;
    while (fread(pair, 4, 2, in) == 2) {
        int32_t r[2];
        r[0] = mcf_requant_f32_soft(pair[0], pair[1]);
        r[1] = mcf_requant_f32_exact(pair[0], pair[1]);
        fwrite(r, 4, 2, out);
    }
    fclose(out);
    fclose(in);
    return 0;
}
"""


def test_soft_float_stage_equals_float32(tmp_path: Path) -> None:
    """mcf_requant_f32_soft (and its exact route) against numpy's float32 product rounded half to
    even: sums right beside the midpoints between two integers (where the product's own rounding
    to 24 bits decides), exact ties, |acc| beyond 2^24 (float32(acc) rounds), saturation, zero."""
    from mcuforge.generator.resources import runtime_dir

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("needs a host C compiler")
    kernels = runtime_dir() / "kernels"
    (tmp_path / "h.c").write_text(HARNESS)
    exe = tmp_path / "h"
    subprocess.run([cc, "-O2", "-I", str(kernels), str(tmp_path / "h.c"), "-o", str(exe)], check=True)
    rng = np.random.default_rng(3)
    n = 60_000
    scale = (2.0 ** rng.uniform(-24, 1, n)).astype(np.float32)
    k = rng.integers(-1100, 1100, n)
    near = np.round((k + 0.5) / scale.astype(np.float64)).astype(np.int64) + rng.integers(-2, 3, n)
    wide = np.concatenate([rng.integers(-2**31, 2**31, n // 3), rng.integers(-2**24 - 9, 2**24 + 9, n // 3),
                           rng.integers(-400, 400, n - 2 * (n // 3))])
    ties = np.arange(-2**12, 2**12)
    acc = np.clip(np.concatenate([near, wide, ties, [0, -1, 1, 2**31 - 1, -2**31, 2**24, -2**24, 2**24 + 1]]),
                  -2**31, 2**31 - 1).astype(np.int32)
    scales = np.concatenate([scale, (2.0 ** rng.uniform(-30, 4, len(wide))).astype(np.float32),
                             np.full(len(ties), 2.0**-3, np.float32), np.full(8, 0.75 * 2.0**-12, np.float32)])
    np.stack([acc, scales.view(np.int32)], 1).tofile(tmp_path / "in.bin")
    subprocess.run([str(exe), str(tmp_path / "in.bin"), str(tmp_path / "out.bin")], check=True)
    got = np.clip(np.fromfile(tmp_path / "out.bin", np.int32).reshape(-1, 2), -1024, 1024)
    product = acc.astype(np.float32) * scales
    want = np.rint(np.clip(product, np.float32(-1024), np.float32(1024))).astype(np.int32)
    assert np.sum(product - np.floor(product) == 0.5) > 1000  # exact ties are among the inputs
    assert np.array_equal(got[:, 0], want), int(np.sum(got[:, 0] != want))
    assert np.array_equal(got[:, 1], want), int(np.sum(got[:, 1] != want))


FMA_HARNESS = r"""
#include <stdio.h>
#include "mcf_common.h"
int main(int argc, char **argv)
{
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    struct { int32_t a; float r, c, v; } x;
    (void)argc;
    while (fread(&x, sizeof x, 1, in) == 1) {
        const float f1 = mcf_fma_small_f32_int(x.a, x.r, x.c), f2 = mcf_fma_small_f32_double(x.a, x.r, x.c);
        const int32_t q = mcf_round_f32(x.v);
        fwrite(&f1, 4, 1, out);
        fwrite(&f2, 4, 1, out);
        fwrite(&q, 4, 1, out);
    }
    fclose(out);
    fclose(in);
    return 0;
}
"""


def test_soft_float_fma_and_rounding_equal_float32(tmp_path: Path) -> None:
    """Without an FPU (-DMCF_REQUANT_F32_SOFT=1) ADD's fused multiply-add and the rounding of a float
    to an integer run in integers: the first equals the double-precision route (itself checked against
    onnxruntime's QLinearAdd in test_kernel_float_requant.py) on sums that land on or beside float32
    midpoints, the second numpy's round half to even, saturated to +-1024."""
    from mcuforge.generator.resources import runtime_dir

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("needs a host C compiler")
    (tmp_path / "f.c").write_text(FMA_HARNESS)
    exe = tmp_path / "f"
    subprocess.run([cc, "-O2", "-DMCF_REQUANT_F32_SOFT=1", "-I", str(runtime_dir() / "kernels"),
                    str(tmp_path / "f.c"), "-o", str(exe)], check=True)
    rng = np.random.default_rng(4)
    n = 120_000
    a = np.concatenate([rng.integers(-256, 257, n - 2000), rng.integers(-70000, 70000, 2000)]).astype(np.int32)
    r = (rng.choice([-1, 1], n) * 2.0 ** rng.uniform(-12, 4, n)).astype(np.float32)
    c = (rng.choice([-1, 1], n) * 2.0 ** rng.uniform(-30, 9, n)).astype(np.float32)
    near = rng.random(n) < 0.4  # halves and last-place tails: the single rounding decides
    r[near] = (2.0 ** rng.integers(-8, 2, near.sum()) * (1 + 2.0**-23 * rng.integers(0, 4, near.sum())))
    c[near] = rng.integers(-300, 300, near.sum()) + rng.choice([0, 0.5, 2.0**-20, 2.0**-24], near.sum())
    c[rng.random(n) < 0.01] = 0
    v = (rng.choice([-1, 1], n) * 2.0 ** rng.uniform(-3, 12, n)).astype(np.float32)
    ties = rng.random(n) < 0.3
    v[ties] = rng.integers(-1100, 1100, ties.sum()) + 0.5
    rec = np.zeros(n, dtype=[("a", "<i4"), ("r", "<f4"), ("c", "<f4"), ("v", "<f4")])
    rec["a"], rec["r"], rec["c"], rec["v"] = a, r, c, v
    rec.tofile(tmp_path / "in.bin")
    subprocess.run([str(exe), str(tmp_path / "in.bin"), str(tmp_path / "out.bin")], check=True)
    got = np.fromfile(tmp_path / "out.bin", dtype=[("int", "<f4"), ("double", "<f4"), ("q", "<i4")])
    assert np.array_equal(got["int"].view(np.int32), got["double"].view(np.int32))
    assert np.array_equal(got["q"], np.rint(np.clip(v, np.float32(-1024), np.float32(1024))).astype(np.int32))


# ---- on emulated boards ---------------------------------------------------------------------------

TOOLS = ("arm-none-eabi-gcc", "qemu-system-arm", "cmake", "ninja")


@pytest.mark.slow
@pytest.mark.skipif(not all(shutil.which(t) for t in TOOLS), reason="needs " + ", ".join(TOOLS))
@pytest.mark.parametrize("board", ["mps2_an385", "mps2_an386", "mps2_an500"])
def test_on_device_equals_onnxruntime(tmp_path: Path, model: bytes, board: str) -> None:
    from test_kernels_on_device import build_firmware

    from mcuforge.hil.runner import TestReport, random_vectors, run_vectors
    from mcuforge.hil.session import open_session

    path = tmp_path / "onnx_device.onnx"
    path.write_bytes(model)
    project = build_firmware(tmp_path, path, board)
    with open_session(project, infer_timeout=120.0) as s:
        report = TestReport(model=str(path), sha256="", board=board, url="", tolerance=0.0)
        run_vectors(s.device, s.graph, model, random_vectors(s.graph, 1, seed=9), report)
    assert report.ok, [(v.name, v.max_abs_diff, v.error) for v in report.vectors]


# ---- validate names onnxruntime's saturating kernel -----------------------------------------------

def test_saturation_probe_is_cached_and_repeatable() -> None:
    from mcuforge.generator.references import onnxrt

    first = onnxrt.saturates_u8s8()
    onnxrt.saturates_u8s8.cache_clear()
    assert onnxrt.saturates_u8s8() is first


def _full_range_conv(reduce_range: bool) -> bytes:
    from onnx_builder import single_op

    rng = np.random.default_rng(8)
    w = rng.uniform(0.2, 1.0, size=(4, 16, 3, 3)).astype(np.float32)  # one sign: pair sums add up
    m = single_op("Conv", [(1, 16, 5, 5)], (1, 4, 5, 5), {"w": w, "b": np.zeros(4, np.float32)}, ["w", "b"],
                  pads=[1, 1, 1, 1])
    return quantize(m, "qdq", "uint8", False, reduce_range=reduce_range, low=0.0, high=1.0)


def test_validate_names_the_saturating_kernel() -> None:
    """A full-range Conv with large uint8 activations: where this onnxruntime saturates (the probe
    says so), validate differs from it and says why, in the text and the JSON; the same network
    quantized with reduce_range is bit-exact and gets no note."""
    from mcuforge.generator.references import onnxrt
    from mcuforge.generator.validate import validate_compiled

    if not onnxrt.saturates_u8s8():
        pytest.skip("this onnxruntime does not saturate u8 x s8 pair sums (VNNI or Arm host)")
    results = {}
    for rr in (False, True):
        m = _full_range_conv(rr)
        g = parse_model(m, name="conv.onnx")
        batches = [[np.full(g.tensors[g.inputs[0]].shape, v, np.float32)] for v in (0.97, 0.8)]
        results[rr] = validate_compiled(compile_graph(g), m, batches, extra_flags=("-O0",))
    full, reduced = results[False], results[True]
    assert onnxrt.full_range_layers(parse_model(_full_range_conv(False), name="c.onnx"))
    assert full.bit_exact < full.inputs
    assert "saturation" in full.note and "reduce_range" in full.note and "VNNI" in full.note
    assert full.to_json()["note"] == full.note
    assert reduced.bit_exact == reduced.inputs and reduced.note == ""
