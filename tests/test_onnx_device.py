"""Every ONNX operator mcuforge reads, through the generated C on every kernel path and on emulated
boards, against onnxruntime (CPU provider, default session options).

tests/onnx_op_cases.py builds each operator of issue 12 (convolutions with groups, dilations, pads
and auto_pad, ConvTranspose, Gemm, MatMul, Add / Sub / Mul, the activations, Softmax / LogSoftmax
over several axes, pooling, ReduceMean, the layout operators, Resize, constant folding of Shape /
Gather) as a small float model, has onnxruntime's quantizer quantize it as QDQ and as QOperator
(QLinearConv, QGemm, QLinearMatMul, QLinearAdd, QLinearMul, QLinearAveragePool,
QLinearGlobalAveragePool, QLinearConcat, QLinearSigmoid, QLinearLeakyRelu, QLinearSoftmax), with int8 and uint8
activations and per-tensor and per-channel weights, and merges them all side by side into ONE
model (graph input -> branch -> graph output, nothing shared). So each host path is one build and
each board one firmware: the host runs the fast paths with the soft-float output stage (the integer
emulation of float32 that Cortex-M0/M3 use), the portable reference loops and the DSP paths
(emulated in C); QEMU runs mps2_an385 (Cortex-M3, soft-float), mps2_an386 (Cortex-M4F, FPU) and
mps2_an500 (Cortex-M7) over the serial protocol `mcuforge test` uses, on the self-test's input
(the host paths on two more: floats cross the emulated serial link slowly).

Each output must equal onnxruntime's bit for bit where onnxruntime runs an integer kernel (or a
float chain mcuforge reproduces); where it computes a transcendental function or a float operator
between DequantizeLinear and QuantizeLinear (Sigmoid, Tanh, Softmax, ConvTranspose, linear Resize,
...) it may differ by one quantization step, and the tests report how many elements do.

The merged model is compiled without output-over-input overlaps in the arena: with more than a
thousand small tensors live side by side, the planner's search for an arena below the live-bytes
bound takes about a thousand placement passes (half a minute), and the overlaps are a memory
saving proven per kernel elsewhere (tests/test_kernels_on_device.py), not what this test is about.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx
from onnx_builder import quantize
from onnx_op_cases import CASES, FLAVOURS, Case, branch_models, merge
from pair_harness import pair_harness, run_pairs

from mcuforge.generator.codegen import generate
from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends.onnx import parse_model
from mcuforge.generator.hostbuild import HostModel
from mcuforge.generator.ir import Graph
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
# the ONNX operators of issue 12 (item 2) the merged quantized model must hold
ONNX_OPS = {
    "Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Sub", "Mul", "Relu", "Clip", "LeakyRelu", "PRelu", "Sigmoid",
    "HardSigmoid", "HardSwish", "Tanh", "Softmax", "LogSoftmax", "MaxPool", "AveragePool", "GlobalAveragePool",
    "GlobalMaxPool", "ReduceMean", "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Concat", "Split",
    "Slice", "Pad", "Resize", "Identity", "Shape", "Gather",
    "QLinearConv", "QLinearMatMul", "QLinearAdd", "QLinearMul", "QLinearAveragePool", "QLinearGlobalAveragePool",
    "QLinearConcat", "QLinearSigmoid", "QLinearLeakyRelu", "QGemm", "QLinearSoftmax"}


@contextmanager
def _no_overlaps() -> Iterator[None]:
    """compile_graph plans the arena without output-over-input overlaps (see the module docstring)."""
    from mcuforge.generator import compiler

    saved = compiler.overlap_allowances
    compiler.overlap_allowances = lambda *_args: {}
    try:
        yield
    finally:
        compiler.overlap_allowances = saved


@pytest.fixture(scope="module")
def branches() -> dict[str, tuple[Case, bytes]]:
    return branch_models()


@pytest.fixture(scope="module")
def model(branches) -> bytes:
    return merge({k: m for k, (_, m) in branches.items()})


@pytest.fixture(scope="module")
def graph(model: bytes) -> Graph:
    return parse_model(model, name="onnx_device.onnx")


def test_the_model_is_what_the_test_says(model: bytes, graph: Graph, branches) -> None:
    m = onnx.load_from_string(model)
    missing = ONNX_OPS - {n.op_type for n in m.graph.node}
    assert not missing, missing
    assert len(graph.outputs) == len(branches) == sum(len(c.flavours) for c in CASES)
    assert {f for c in CASES for f in c.flavours} == set(FLAVOURS)
    zero_points = {i.data_type for i in m.graph.initializer if i.name.endswith("zero_point")}
    assert {onnx.TensorProto.INT8, onnx.TensorProto.UINT8} <= zero_points  # int8 and uint8 activations
    scales = [graph.tensors[op.inputs[1]].quant.scale for op in graph.operators if op.opcode == "CONV_2D"]
    assert any(len(s) > 1 for s in scales) and any(len(s) == 1 for s in scales)  # per channel, per tensor
    assert any(op.options.get("requant") == "float32" for op in graph.operators)


@pytest.fixture(scope="module")
def batches(graph: Graph) -> list[list[np.ndarray]]:
    """The self-test's input (`mcuforge validate --seed 0`'s first), then two more."""
    from mcuforge.generator.scaffold import SELFTEST_SEED

    return random_inputs(graph, 1, SELFTEST_SEED) + random_inputs(graph, 2, seed=5)


@pytest.fixture(scope="module")
def expected(model: bytes, graph: Graph, batches) -> list[list[np.ndarray]]:
    ref = open_reference(model, graph)
    return [ref.run(inputs, len(graph.outputs)) for inputs in batches]


def _step(graph: Graph, t: int) -> float:
    """One quantization step of graph output t (the scale of the int8 tensor its DEQUANTIZE reads)."""
    op = next(o for o in graph.operators if t in o.outputs)
    q = graph.tensors[op.inputs[0]].quant
    assert op.opcode == "DEQUANTIZE" and q is not None, op.opcode
    return q.scale[0]


def compare(graph: Graph, branches, got: list[list[np.ndarray]], want: list[list[np.ndarray]]
            ) -> tuple[list[str], dict[str, int]]:
    """(outputs beyond their case's allowance, {output: elements one step off} for the others)."""
    bad, off = [], {}
    for k, (name, (case, _)) in enumerate(branches.items()):
        step = _step(graph, graph.outputs[k])
        diff = np.concatenate([np.abs(g[k].astype(np.float64).reshape(-1) - w[k].astype(np.float64).reshape(-1))
                               for g, w in zip(got, want, strict=True)]) / step
        worst = float(diff.max(initial=0))
        if worst > case.steps + 1e-3:
            bad.append(f"{name}: {worst:.2f} steps")
        elif worst > 1e-3:
            off[name] = int(np.sum(diff > 1e-3))
    return bad, off


def _report(where: str, off: dict[str, int], got: list[list[np.ndarray]], record_property) -> None:
    """The count of elements one step off, printed (pytest -s / -rP) and in the JUnit XML."""
    total = sum(o.size for o in got[0]) * len(got)
    record_property("one_step_off", sum(off.values()))
    record_property("elements", total)
    print(f"\n{where}: {sum(off.values())} of {total} output elements one step from onnxruntime, in "
          + (", ".join(f"{k} ({v})" for k, v in off.items()) or "none"))


@pytest.fixture(scope="module")
def host_outputs(graph: Graph, batches) -> dict[str, list[list[np.ndarray]]]:
    """Each path's outputs for `batches`, one host build each (-O0: integer and IEEE float32
    arithmetic give the same bytes at any optimisation level, and the builds stay quick)."""
    with _no_overlaps():
        lib = generate(compile_graph(graph), "model")
    outputs = {}
    for path, flags in HOST_PATHS.items():
        with HostModel(lib, extra_flags=("-O0", *flags)) as host:
            outputs[path] = host.run(batches)
    return outputs


def test_every_output_varies(expected) -> None:
    for want in expected:
        assert all(np.ptp(w) > 0 for w in want)  # no branch gives a constant


@pytest.mark.parametrize("path", list(HOST_PATHS))
def test_host_paths_equal_onnxruntime(graph: Graph, branches, expected, host_outputs, path: str,
                                      record_property) -> None:
    bad, off = compare(graph, branches, host_outputs[path], expected)
    _report(path, off, host_outputs[path], record_property)
    assert not bad, (path, bad)
    assert all(branches[k][0].steps for k in off)  # only where one step is allowed


def test_selftest_checksum_comes_from_onnxruntime(model: bytes, graph: Graph, batches, expected) -> None:
    """`mcuforge new` on an .onnx model embeds the checksum of onnxruntime's outputs for the
    self-test input."""
    from mcuforge.generator.scaffold import make_selftest

    st = make_selftest(graph, model)
    assert st.checksum == output_checksum(expected[0])
    assert "onnxruntime computes" in st.header


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


PRE_HARNESS = r"""
#include <stdio.h>
#include "mcf_common.h"
int main(int argc, char **argv)
{
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    int32_t v[3];
    (void)argc;
    while (fread(v, 4, 3, in) == 3) {
        const int32_t r = mcf_requant_f32_pre(v[0], v[1], v[2]);
        fwrite(&r, 4, 1, out);
    }
    fclose(out);
    fclose(in);
    return 0;
}
"""


def test_soft_float_stage_with_constants_equals_float32(tmp_path: Path) -> None:
    """mcf_requant_f32_pre, the output stage of the float32 kernels on cores without an FPU, with the
    constants the compiler computes (float_requant.soft_constants) for a bound on the sums: against
    numpy's float32 product rounded half to even, where an int8 output can tell them apart (results
    within +-300; beyond, both saturate). Sums beside the midpoints, exact ties, sums up to the bound
    (beyond 2^24 too), bounds too wide for the scale and scales below 2^-23 (the general route)."""
    from mcuforge.generator.ops import float_requant
    from mcuforge.generator.resources import runtime_dir

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("needs a host C compiler")
    (tmp_path / "p.c").write_text(PRE_HARNESS)
    exe = tmp_path / "p"
    subprocess.run([cc, "-O2", "-I", str(runtime_dir() / "kernels"), str(tmp_path / "p.c"), "-o", str(exe)],
                   check=True)
    rng = np.random.default_rng(5)
    n = 40_000
    scale = (2.0 ** rng.uniform(-26, 2, n)).astype(np.float32)
    scale[:2000] = (2.0 ** rng.integers(-12, -2, 2000)).astype(np.float32)  # exact ties
    bound = (2.0 ** rng.uniform(0, 31, n)).astype(np.int64).clip(0, 2**31 - 1)
    k = rng.integers(-300, 300, n)
    near = np.round((k + 0.5) / scale.astype(np.float64)).astype(np.int64) + rng.integers(-2, 3, n)
    wide = (rng.uniform(-1, 1, n) * bound).astype(np.int64)
    acc = np.clip(np.where(rng.random(n) < 0.5, near, wide), -bound, bound).astype(np.int32)
    bits = float_requant.scale_bits(scale)
    q = np.stack([float_requant.soft_constants(bits[i:i + 1], bound[i:i + 1]) for i in range(n)])
    np.stack([acc, q[:, 0], q[:, 1]], 1).astype(np.int32).tofile(tmp_path / "in.bin")
    subprocess.run([str(exe), str(tmp_path / "in.bin"), str(tmp_path / "out.bin")], check=True)
    got = np.clip(np.fromfile(tmp_path / "out.bin", np.int32), -300, 300)
    product = acc.astype(np.float32) * scale
    want = np.clip(np.rint(np.clip(product, np.float32(-1024), np.float32(1024))), -300, 300).astype(np.int32)
    s = (q[:, 1] >> 8) & 0xFF
    assert np.sum(product - np.floor(product) == 0.5) > 500  # exact ties are among the inputs
    assert np.sum(s == 14) > n // 2 and np.sum(s == 0) > 1000 and np.sum((s > 0) & (s < 14)) > 1000
    assert np.array_equal(got, want), int(np.sum(got != want))


# per line: r1 r2 k F R1 R2 K; the fixed-point route (left_shift = F) against the float32 formula
# (left_shift = 0)
ADD_HARNESS = pair_harness("add_s8_f32.h", "mcf_add_params", "mcf_add_s8_f32", 7, """
        p.input1_multiplier = v[0];
        p.input2_multiplier = v[1];
        p.output_multiplier = v[2];""", """
        p.left_shift = v[3];
        p.input1_shift = v[4];
        p.input2_shift = v[5];
        p.output_shift = v[6];""")

# per line: r1 r2 k F R1 R2 K shift; as ADD_HARNESS for mcf_add_s8_f32_ort on raw values a + shift
BINARY_ADD_HARNESS = pair_harness("binary_s8_f32.h", "mcf_binary_f32_params", "mcf_add_s8_f32_ort", 8, """
        memcpy(&p.ratio1, &v[0], 4);
        memcpy(&p.ratio2, &v[1], 4);
        memcpy(&p.fixed, &v[2], 4);
        p.input1_offset = p.input2_offset = v[7];
        p.out_offset = -v[7];
        p.raw_min = -128 + v[7];
        p.raw_max = 127 + v[7];""", """
        p.fx_shift = v[3];
        p.fx_ratio1 = v[4];
        p.fx_ratio2 = v[5];
        p.fx_fixed = v[6];""")


def test_soft_float_add_fixed_point_equals_formula(tmp_path: Path) -> None:
    """add_s8_f32 and binary_s8_f32's ADD (int8 and raw uint8 values) without an FPU: the fixed-point
    route (float_requant.add_soft_constants) against the float32 formula (fma, fma, round half to even;
    itself checked against onnxruntime's QLinearAdd in test_kernel_float_requant.py), every (a, b) pair
    for 200 scale / zero-point sets each, among them equal input scales and out_scale = scale1 + scale2
    (exact ties)."""
    from mcuforge.generator.ops import float_requant

    for harness, source, shifts in ((ADD_HARNESS, "add_s8_f32.c", (0,)),
                                    (BINARY_ADD_HARNESS, "binary_s8_f32.c", (0, 128))):
        rng = np.random.default_rng(6)
        for shift in shifts:
            lines, used = [], 0
            for _ in range(200):
                sa, sb, so = (2.0 ** rng.uniform(-9, -2, 3)).astype(np.float32)
                sb = sa if rng.random() < 0.3 else sb
                so = np.float32(sa + sb) if rng.random() < 0.2 else so
                za, zb, zo = (int(z) + shift for z in rng.integers(-128, 128, 3))
                r1, r2, k = float_requant.add_constants(float(sa), za, float(sb), zb, float(so), zo)
                c = float_requant.add_soft_constants(r1, r2, k, reach=255 if shift else 128)
                used += c[0] != 0
                words = (r1, r2, k, *c) + ((shift,) if source == "binary_s8_f32.c" else ())
                lines.append(" ".join(str(int(np.int64(x).astype(np.int32))) for x in words))
            bad, inside = run_pairs(tmp_path, harness, source, lines)
            assert used == 200 and not any(bad), (source, shift, bad)
            assert sum(inside) > 200 * 65536 // 4, (source, shift)  # the route really decides outputs


POOL_HARNESS = r"""
#include <stdio.h>
#include <string.h>
#include "pooling_s8_f32.h"
/* per line: fh fw C sh sw in_h in_w out_h out_w out_scale_bits zp_bits offset F base mult lo hi near seed,
 * then the 256 dequantization table words; prints how many outputs the fixed-point route (F != 0) gives
 * differently from the float32 sums (F = 0), on pseudo-random bytes (few distinct values for odd seeds'
 * bit 8: many exact ties) */
int main(void)
{
    static int8_t in[65536], o1[4096], o2[4096];
    static float dq[256];
    int32_t v[20];
    int i;
    while (1) {
        mcf_avgpool_f32_params p;
        int bad = 0, n;
        unsigned seed;
        for (i = 0; i < 19; ++i) if (scanf("%d", &v[i]) != 1) return 0;
        for (i = 0; i < 256; ++i) { int32_t b; if (scanf("%d", &b) != 1) return 1; memcpy(&dq[i], &b, 4); }
        memset(&p, 0, sizeof p);
        p.batches = 1; p.filter_h = v[0]; p.filter_w = v[1]; p.channels = v[2]; p.stride_h = v[3]; p.stride_w = v[4];
        p.input_h = v[5]; p.input_w = v[6]; p.output_h = v[7]; p.output_w = v[8];
        memcpy(&p.output_scale, &v[9], 4); memcpy(&p.zero_point, &v[10], 4); p.offset = v[11];
        p.act_min = -128; p.act_max = 127; p.dequant = dq;
        seed = (unsigned)v[18];
        n = p.input_h * p.input_w * p.channels;
        for (i = 0; i < n; ++i) { seed = seed * 1103515245u + 12345u; in[i] = (int8_t)(seed >> 16); }
        if (seed & 0x100) for (i = 0; i < n; ++i) in[i] = (int8_t)(in[i] & 0x83); /* few values: ties */
        mcf_avgpool_s8_f32(&p, in, o1);
        p.fx_shift = v[12]; p.fx_base = v[13]; p.fx_mult = v[14];
        p.fx_add_lo = v[15]; p.fx_add_hi = v[16]; p.fx_near = v[17];
        mcf_avgpool_s8_f32(&p, in, o2);
        for (i = 0; i < p.output_h * p.output_w * p.channels; ++i) bad += o1[i] != o2[i];
        printf("%d\n", bad);
    }
}
"""


def test_soft_float_avgpool_fixed_point_equals_float_sums(tmp_path: Path) -> None:
    """pooling_s8_f32 without an FPU: the fixed-point route (integer window sums; pooling_f32.soft_constants)
    against the float32 sums in onnxruntime's order (itself checked against onnxruntime in
    test_kernel_float_requant.py), 400 random geometries / scales / zero points, a third with powers of two
    as scales, a quarter with a 25x5 window (DS-CNN's), half of them on raw uint8 zero points."""
    from pair_harness import run_harness

    from mcuforge.generator.ops import pooling_f32
    from mcuforge.generator.ops.float_requant import dequant_table

    rng = np.random.default_rng(7)
    lines, used = [], 0
    for i in range(400):
        fh, fw = (int(v) for v in rng.integers(1, 8, 2))
        sh, sw = (int(v) for v in rng.integers(1, 3, 2))
        oh, ow = (int(v) for v in rng.integers(1, 5, 2))
        c = int(rng.integers(1, 9))
        if i % 4 == 0:
            fh, fw, oh, ow, sh, sw = 25, 5, 1, 1, 1, 1
        ih, iw = (oh - 1) * sh + fh, (ow - 1) * sw + fw
        si = np.float32(2.0 ** rng.uniform(-8, -1))
        so = np.float32(si * (2.0 ** rng.uniform(-1, 1)))
        if i % 3 == 0:
            si = np.float32(2.0 ** rng.integers(-8, -1))
            so = np.float32(si * 2.0 ** rng.integers(-1, 2))
        zi, zo = (int(z) for z in rng.integers(-128, 128, 2))
        shift = 128 if rng.random() < 0.5 else 0
        k = pooling_f32.soft_constants(float(si), zi, float(so), zo + shift, fh * fw)
        used += k["fx_shift"] != 0
        k = {n: v - 2**32 if v >= 2**31 else v for n, v in k.items()}
        words = [fh, fw, c, sh, sw, ih, iw, oh, ow, int(np.float32(so).view(np.int32)),
                 int(np.float32(zo + shift).view(np.int32)), -shift, k["fx_shift"], k["fx_base"], k["fx_mult"],
                 k["fx_add_lo"], k["fx_add_hi"], k["fx_near"], int(rng.integers(0, 2**31))]
        table = dequant_table(float(si), zi).view(np.int32)
        lines.append(" ".join(str(int(w)) for w in [*words, *table]))
    out = run_harness(tmp_path, POOL_HARNESS, "pooling_s8_f32.c", lines)
    assert used == 400 and len(out) == 400
    assert all(int(x) == 0 for x in out), out


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
def test_on_device_equals_onnxruntime(tmp_path: Path, model: bytes, graph: Graph, branches, batches, expected,
                                      board: str, record_property) -> None:
    from test_kernels_on_device import build_firmware

    from mcuforge.hil.session import open_session

    path = tmp_path / "onnx_device.onnx"
    path.write_bytes(model)
    with _no_overlaps():
        project = build_firmware(tmp_path, path, board)
    with open_session(project, infer_timeout=120.0) as s:  # one vector: the serial link is slow
        assert len(s.graph.outputs) == len(graph.outputs)
        got = [s.device.infer(batches[0]).outputs]
    bad, off = compare(graph, branches, got, expected[:1])
    _report(board, off, got, record_property)
    assert not bad, (board, bad)
    assert all(branches[k][0].steps for k in off)


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
    """A full-range Conv with large uint8 activations: where this onnxruntime's default kernel
    saturates (the probe says so), the reference is its exact path (session.x64quantprecision),
    validate is bit-exact with it and says so, with the count against default options, which differ;
    the same network quantized with reduce_range gets no note."""
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
    assert full.bit_exact == full.inputs, full.note
    assert "x64quantprecision=1" in full.note and "saturation" in full.note and "VNNI" in full.note
    default = re.search(r"default options here: (\d+) of (\d+) inferences bit-exact", full.note)
    assert default and int(default.group(1)) < int(default.group(2)) == full.inputs, full.note
    assert full.to_json()["note"] == full.note
    assert reduced.bit_exact == reduced.inputs and reduced.note == ""
