"""The DSP path of the int16 (16x8) ADD, SUB and MUL kernels (runtime/kernels/elementwise_s16.c).

* runtime/kernels/elementwise_s16.c compiled for this host twice, with its DSP instructions
  written in C (-DMCF_EMULATE_DSP) and as the reference loops (-DMCF_PORTABLE_KERNELS), run on the
  same cases: hundreds of quantizations (multipliers and shifts from scales across eight decades,
  so the rounding shifts run from 1 to over 20), inputs at the int16 extremes, rows that are
  contiguous (odd lengths: the pair loop and its remainder), broadcast from one value on either
  side, or strided, fused activations, an output zero point; and quantizations the DSP path leaves
  to the fast path (input zero points, MUL shifts above -2). Every output must be equal.
* the same kernels against TFLite Micro on models whose inputs sit at the extremes and on every
  value of a rounding tie, on the DSP-emulated and fast paths.
On the device, tests/test_kernels_on_device.py's int16 models (s16_add_bcast, s16_sub, s16_mul) run
the real instructions on mps2_an386 (Cortex-M4).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from tflite_builder import Activation, T, options, single_op

from mcuforge.generator.quant import quantize_multiplier

REPO = Path(__file__).resolve().parents[1]
KERNELS = REPO / "runtime" / "kernels"
CC = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")

HARNESS = r"""
#include <stdio.h>
#include <stdint.h>
#include "elementwise_s16.h"

static int32_t get(void) { int32_t v; if (fread(&v, 4, 1, stdin) != 1) return INT32_MIN; return v; }

int main(void)
{
    static int16_t a[4096], b[4096], out[4096];
    int32_t dims[8], st1[8], st2[8];
    int32_t op;
    while ((op = get()) != INT32_MIN) {
        int32_t hdr[13], na, nb, nout = 1, i;
        for (i = 0; i < 13; ++i) hdr[i] = get();
        int32_t nd = hdr[12];
        for (i = 0; i < nd; ++i) { dims[i] = get(); nout *= dims[i]; }
        for (i = 0; i < nd; ++i) st1[i] = get();
        for (i = 0; i < nd; ++i) st2[i] = get();
        na = get(); nb = get();
        if (fread(a, 2, (size_t)na, stdin) != (size_t)na || fread(b, 2, (size_t)nb, stdin) != (size_t)nb) return 2;
        if (op == 2) {
            mcf_mul_s16_params p = {hdr[7], hdr[8], hdr[10], hdr[11], nd, dims, st1, st2};
            mcf_mul_s16(&p, a, b, out);
        } else {
            mcf_add_s16_params p = {hdr[0], hdr[1], 15, hdr[2], hdr[3], hdr[4], hdr[5], hdr[7], hdr[8], hdr[9],
                                    hdr[10], hdr[11], nd, dims, st1, st2};
            (op == 0 ? mcf_add_s16 : mcf_sub_s16)(&p, a, b, out);
        }
        fwrite(out, 2, (size_t)nout, stdout);
    }
    return 0;
}
"""


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if CC is None:
        pytest.skip("needs a host C compiler (apt-get install gcc)")
    work = tmp_path_factory.mktemp("s16dsp")
    (work / "main.c").write_text(HARNESS)
    exes = {}
    for name, flag in (("dsp", "-DMCF_EMULATE_DSP"), ("portable", "-DMCF_PORTABLE_KERNELS"), ("fast", "-DMCF_X")):
        exe = work / name
        proc = subprocess.run([CC, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", flag, "-I", KERNELS,
                               KERNELS / "elementwise_s16.c", work / "main.c", "-o", exe],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        exes[name] = exe
    return exes


def add_params(s1: float, s2: float, so: float, zp1: int = 0, zp2: int = 0) -> list[int]:
    """The lowering's ADD / SUB parameters (generator/ops/elementwise_s16.py)."""
    twice = 2.0 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice)
    m2, sh2 = quantize_multiplier(s2 / twice)
    mo, sho = quantize_multiplier(twice / ((1 << 15) * so))
    return [-zp1, -zp2, m1, sh1, m2, sh2, 0, mo, sho]


def mul_params(s1: float, s2: float, so: float) -> list[int]:
    mo, sho = quantize_multiplier(s1 * s2 / so)
    return [0, 0, 0, 0, 0, 0, 0, mo, sho]


def extreme_values(rng: np.random.Generator, n: int, amplitude: int = 32768) -> np.ndarray:
    v = rng.integers(-amplitude, amplitude, n)
    pick = rng.random(n)
    v[pick < 0.15] = -32768
    v[(pick >= 0.15) & (pick < 0.3)] = 32767
    v[(pick >= 0.3) & (pick < 0.4)] = rng.integers(-3, 4, int(np.sum((pick >= 0.3) & (pick < 0.4))))
    return v.astype(np.int16)


LAYOUTS = [
    # dims, stride1, stride2, elements of a, elements of b
    ([37], [1], [1], 37, 37),            # contiguous, odd: pairs and a remainder
    ([3, 16], [16, 1], [0, 1], 48, 16),  # second input one row, repeated
    ([5, 9], [9, 1], [1, 0], 45, 5),     # second input one value per row (scalar along the row)
    ([5, 9], [1, 0], [9, 1], 5, 45),     # first input one value per row
    ([4, 6], [1, 4], [6, 1], 24, 24),    # first input strided (transposed)
    ([1, 1], [0, 0], [0, 0], 1, 1),      # one element
]


def encode(op: int, params: list[int], act: tuple[int, int], offset: int, layout, a: np.ndarray,
           b: np.ndarray) -> bytes:
    dims, st1, st2, _, _ = layout
    hdr = [*params[:6], 0, params[7], params[8], offset, act[0], act[1], len(dims)]
    ints = [op, *hdr, *dims, *st1, *st2, len(a), len(b)]
    return struct.pack(f"<{len(ints)}i", *ints) + a.astype("<i2").tobytes() + b.astype("<i2").tobytes()


def run(exe: Path, data: bytes) -> np.ndarray:
    return np.frombuffer(subprocess.run([exe], input=data, capture_output=True, check=True).stdout, "<i2")


def cases(rng: np.random.Generator, count: int):
    """(op, params, act, offset, layout, a, b) over random quantizations."""
    for k in range(count):
        op = k % 3
        amplitude = 32768
        s1, s2 = (float(10.0 ** rng.uniform(-6, -2)) for _ in range(2))
        if k % 7 == 0:
            s2 = s1  # equal scales: both inputs exact
        if op == 2:
            so = s1 * s2 * float(10.0 ** rng.uniform(2.5, 5.5))
            params = mul_params(s1, s2, so)
        elif k % 2:
            so = max(s1, s2) * float(10.0 ** rng.uniform(-0.3, 2.5))
        else:
            # output rescale close to one (shift -1 .. -13): an input rescaled one off shows
            real = 0.999 * float(10.0 ** -rng.uniform(0, 4))
            so = 2.0 * max(s1, s2) / (32768 * real)
            amplitude = int(min(32768, max(8, 2 / real)))
        if op != 2:
            zps = (int(rng.integers(-50, 50)), int(rng.integers(-50, 50))) if k % 11 == 0 else (0, 0)
            params = add_params(s1, s2, so, *zps)
        act = [(-32768, 32767), (0, 32767), (-1000, 6000)][k % 3 if k % 5 == 0 else 0]
        offset = int(rng.integers(-20, 20)) if (op != 2 and k % 9 == 0) else 0
        layout = LAYOUTS[k % len(LAYOUTS)]
        yield (op, params, act, offset, layout, extreme_values(rng, layout[3], amplitude),
               extreme_values(rng, layout[4], amplitude))


def test_dsp_path_equals_reference_loops(builds: dict[str, Path]) -> None:
    rng = np.random.default_rng(11)
    data = b""
    shifts: set[int] = set()
    for op, params, act, offset, layout, a, b in cases(rng, 600):
        data += encode(op, params, act, offset, layout, a, b)
        shifts.update({params[3], params[5], params[8]} if op != 2 else {params[8]})
    want = run(builds["portable"], data)
    assert len(want) > 10_000
    for path in ("dsp", "fast"):
        got = run(builds[path], data)
        assert np.array_equal(got, want), (path, np.flatnonzero(got != want)[:5])
    assert {-1, -8, -16} <= shifts and len(shifts) > 20  # rounding shifts of every size
    assert (want == 32767).any() and (want == -32768).any() and (want == 0).any()


def test_dsp_path_on_hand_picked_quantizations(builds: dict[str, Path]) -> None:
    """Edges of the identities: the exact 2^30 input, shift -1 inputs, output shift -1, MUL shifts
    -2 (the DSP path's first) and -1, 0, +3 (the fast path's), all extremes crossed."""
    grid = np.arange(-32768, 32768, 97, dtype=np.int64)
    a = np.concatenate([np.repeat([-32768, -32767, -1, 0, 1, 32767], 6), grid]).astype(np.int16)
    b = np.concatenate([np.tile([-32768, -32767, -1, 0, 1, 32767], 6), grid[::-1]]).astype(np.int16)
    layout = ([len(a)], [1], [1], len(a), len(b))
    data = b""
    for s1, s2, so in [(1.0, 1.0, 3.0 / 32768), (1.0, 0.5, 2.5 / 32768), (0.5, 1.0, 3.0 / 32768),
                       (1.0, 0.999999, 1.0), (1e-3, 1e-3, 1e-3), (2e-4, 3e-6, 2.1e-4), (1.0, 0.7, 2.8e5)]:
        for op in (0, 1):
            data += encode(op, add_params(s1, s2, so), (-32768, 32767), 0, layout, a, b)
    for real in (0.3, 0.2, 0.7, 1.5, 9.0, 2.0 ** -20, 0.1234):
        data += encode(2, [0] * 7 + list(quantize_multiplier(real)), (-32768, 32767), 0, layout, a, b)
    want = run(builds["portable"], data)
    assert np.array_equal(run(builds["dsp"], data), want)


@pytest.mark.parametrize("path", ["dsp-emulated", "fast"])
def test_against_tflite_micro(path: str) -> None:
    """ADD / SUB / MUL on inputs at the extremes and on rounding ties, against TFLite Micro."""
    from kernel_check import KERNEL_PATHS
    from test_kernels_on_device import merge_parallel

    from mcuforge.generator.compiler import compile_graph
    from mcuforge.generator.frontends.tflite import parse_model
    from mcuforge.generator.validate import validate_compiled

    shape = (2, 33)
    models = {
        "add": single_op("ADD", [T(shape, "int16", 3e-4, 0), T(shape, "int16", 7e-5, 0)],
                         [T(shape, "int16", 5e-4, 0)], options("AddOptions")),
        "add_same": single_op("ADD", [T(shape, "int16", 2.0 ** -10, 0), T(shape, "int16", 2.0 ** -10, 0)],
                              [T(shape, "int16", 2.0 ** -9, 0)], options("AddOptions")),
        "sub_relu": single_op("SUB", [T(shape, "int16", 1e-5, 0), T(shape, "int16", 4e-4, 0)],
                              [T(shape, "int16", 3e-4, 0)],
                              options("SubOptions", fusedActivationFunction=Activation.RELU)),
        "sub_scalar": single_op("SUB", [T(shape, "int16", 2e-4, 0), T((1,), "int16", 1e-3, 0)],
                                [T(shape, "int16", 8e-4, 0)], options("SubOptions")),
        "mul": single_op("MUL", [T(shape, "int16", 3e-4, 0), T(shape, "int16", 6e-4, 0)],
                         [T(shape, "int16", 3e-4 * 6e-4 * 9000, 0)], options("MulOptions")),
        "mul_row": single_op("MUL", [T(shape, "int16", 3e-4, 0), T((33,), "int16", 6e-4, 0)],
                             [T(shape, "int16", 3e-4 * 6e-4 * 40000, 0)], options("MulOptions")),
    }
    model = merge_parallel(models)
    graph = parse_model(model, name="s16.tflite")
    rng = np.random.default_rng(5)
    batches = []
    for _ in range(3):
        batches.append([extreme_values(rng, int(np.prod(graph.tensors[i].shape))).reshape(graph.tensors[i].shape)
                        for i in graph.inputs])
    # every input at one extreme, then all pairs of extremes
    for va, vb in ((-32768, -32768), (32767, -32768), (-32768, 32767), (32767, 32767)):
        batches.append([np.full(graph.tensors[i].shape, va if k % 2 == 0 else vb, np.int16)
                        for k, i in enumerate(graph.inputs)])
    result = validate_compiled(compile_graph(graph), model, batches, extra_flags=KERNEL_PATHS[path])
    assert result.bit_exact == result.inputs == len(batches), result.to_json()
