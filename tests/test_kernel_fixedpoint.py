"""The fixed-point helpers of runtime/kernels/mcf_fixedpoint.h and their host twin
(mcuforge.generator.ops.fixedpoint), checked value by value.

int8 kernel outputs hide most one-unit errors in a Q0 intermediate, so these helpers are also
checked on their own: a deterministic sweep of several hundred thousand inputs per function is
hashed and compared with hashes recorded from the gemmlowp fixed-point implementation that
TFLite Micro compiles in (same sweep, same hash). The Python twin, which builds the LOGISTIC/TANH
tables, is then compared with the C header input by input.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from mcuforge.generator.hostbuild import WARNING_FLAGS
from mcuforge.generator.ops import fixedpoint as fp
from mcuforge.generator.resources import runtime_dir
from mcuforge.generator.tools import find_tool

KERNELS = runtime_dir() / "kernels"

# FNV-1a hashes of the sweep below, as produced by gemmlowp's fixedpoint.h (exp_on_negative_values,
# logistic, tanh for each number of integer bits; one_over_one_plus_x_for_x_in_0_1,
# one_minus_x_over_one_plus_x_for_x_in_0_1; TFLite's GetReciprocal).
GOLDEN = {
    "exp0": "72c95f52",
    "logistic0": "40ecba48",
    "tanh0": "0f6e2441",
    "exp1": "32fb1fab",
    "logistic1": "3ed4b9f8",
    "tanh1": "ee926d6b",
    "exp2": "e1fc7b91",
    "logistic2": "cd5ea95c",
    "tanh2": "da01057d",
    "exp3": "0a261f93",
    "logistic3": "97dec21a",
    "tanh3": "34bd2778",
    "exp4": "6c1e1b3c",
    "logistic4": "8759f496",
    "tanh4": "8cfbd5a8",
    "exp5": "61d90de4",
    "logistic5": "a38905ca",
    "tanh5": "0a1b7b21",
    "exp6": "a4d2c89b",
    "logistic6": "4b3405ce",
    "tanh6": "ef8d973b",
    "exp8": "44139d17",
    "logistic8": "cdc24112",
    "tanh8": "a7e76d48",
    "exp12": "972bd070",
    "logistic12": "e9b6f05b",
    "tanh12": "2a51ab4f",
    "exp20": "89515548",
    "logistic20": "ab632c6c",
    "tanh20": "ffeb1ab7",
    "exp28": "1484ad78",
    "logistic28": "12dac899",
    "tanh28": "1ad307cf",
    "one_over_one_plus_x": "0d83d173",
    "one_minus_x_over_one_plus_x": "be5d1af4",
    "reciprocal": "cdc2e4af",
}

SWEEP = r"""
#include <stdio.h>
#include "mcf_fixedpoint.h"
#define F_EXP mcf_fp_exp_on_negative_values
#define F_LOGISTIC mcf_fp_logistic
#define F_TANH mcf_fp_tanh
#define F_OOX mcf_fp_one_over_one_plus_x
#define F_OMX mcf_fp_one_minus_x_over_one_plus_x
#define F_RECIP mcf_fp_reciprocal
static uint32_t fnv(uint32_t h, int32_t v)
{
    int i;
    for (i = 0; i < 4; ++i) {
        h ^= (uint32_t)v >> (8 * i) & 0xffu;
        h *= 16777619u;
    }
    return h;
}

static uint32_t rng_state = 2463534242u;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Values spread over every magnitude: random bits shifted right by a random amount. */
static int32_t spread(void)
{
    const uint32_t r = rng();
    return (int32_t)((r & 0x7fffffffu) >> (rng() % 31u));
}

int main(void)
{
    static const int32_t ibs[] = {0, 1, 2, 3, 4, 5, 6, 8, 12, 20, 28};
    const int32_t n = 200000;
    unsigned k;
    int32_t i;
    for (k = 0; k < sizeof ibs / sizeof ibs[0]; ++k) {
        uint32_t h_exp = 2166136261u, h_log = 2166136261u, h_tanh = 2166136261u;
        for (i = 0; i < n; ++i) {
            const int32_t a = i < 4096 ? -i : -spread();
            const int32_t b = i < 4096 ? i - 2048 : ((rng() & 1u) ? spread() : -spread());
            h_exp = fnv(h_exp, F_EXP(a, ibs[k]));
            h_log = fnv(h_log, F_LOGISTIC(b, ibs[k]));
            h_tanh = fnv(h_tanh, F_TANH(b, ibs[k]));
        }
        printf("exp%d %08x\nlogistic%d %08x\ntanh%d %08x\n", (int)ibs[k], (unsigned)h_exp, (int)ibs[k],
               (unsigned)h_log, (int)ibs[k], (unsigned)h_tanh);
    }
    {
        uint32_t h_oox = 2166136261u, h_omx = 2166136261u, h_rec = 2166136261u;
        for (i = 0; i < n; ++i) {
            const int32_t a = i < 4096 ? i : (i < 8192 ? INT32_MAX - (i - 4096) : (int32_t)(rng() & 0x7fffffffu));
            int32_t x = spread();
            int32_t bits = 0;
            if (x == 0) {
                x = 1;
            }
            h_oox = fnv(h_oox, F_OOX(a));
            h_omx = fnv(h_omx, F_OMX(a));
            h_rec = fnv(fnv(h_rec, F_RECIP(x, 12, &bits)), bits);
            h_rec = fnv(fnv(h_rec, F_RECIP(x, 0, &bits)), bits);
        }
        printf("one_over_one_plus_x %08x\none_minus_x_over_one_plus_x %08x\nreciprocal %08x\n",
               (unsigned)h_oox, (unsigned)h_omx, (unsigned)h_rec);
    }
    return 0;
}
"""

EVAL = r"""
#include <stdio.h>
#include "mcf_fixedpoint.h"
int main(void)
{
    long a;
    int ib;
    char f;
    while (scanf(" %c %ld %d", &f, &a, &ib) == 3) {
        int32_t r = 0;
        switch (f) {
        case 'e': r = mcf_fp_exp_on_negative_values((int32_t)a, ib); break;
        case 'l': r = mcf_fp_logistic((int32_t)a, ib); break;
        case 't': r = mcf_fp_tanh((int32_t)a, ib); break;
        case 'o': r = mcf_fp_one_over_one_plus_x((int32_t)a); break;
        case 'm': r = mcf_fp_one_minus_x_over_one_plus_x((int32_t)a); break;
        default: return 1;
        }
        printf("%ld\n", (long)r);
    }
    return 0;
}
"""


def build(tmp_path: Path, name: str, source: str) -> Path:
    src = tmp_path / f"{name}.c"
    src.write_text(source)
    exe = tmp_path / name
    cc = find_tool("cc")
    subprocess.run([cc, *WARNING_FLAGS, "-O2", "-I", str(KERNELS), str(src), "-o", str(exe)], check=True)
    return exe


def test_c_helpers_match_recorded_reference(tmp_path):
    out = subprocess.run([build(tmp_path, "sweep", SWEEP)], check=True, capture_output=True, text=True).stdout
    got = dict(line.split() for line in out.splitlines())
    assert got == GOLDEN


def random_cases(seed: int) -> list[tuple[str, int, int]]:
    rnd = random.Random(seed)
    cases = []
    for ib in (0, 1, 3, 4, 5, 6, 12, 28):
        for _ in range(800):
            cases.append(("e", -(rnd.getrandbits(31) >> rnd.randrange(31)), ib))
            b = rnd.getrandbits(31) >> rnd.randrange(31)
            b = b if rnd.random() < 0.5 else -b
            cases += [("l", b, ib), ("t", b, ib)]
    for i in range(4000):
        a = i if i < 500 else (fp.INT32_MAX - i if i < 1000 else rnd.getrandbits(31))
        cases += [("o", a, 0), ("m", a, 0)]
    return cases


@pytest.mark.parametrize("seed", [0, 1])
def test_python_twin_matches_c(tmp_path, seed):
    cases = random_cases(seed)
    exe = build(tmp_path, "eval", EVAL)
    text = "\n".join(f"{f} {a} {ib}" for f, a, ib in cases)
    out = subprocess.run([exe], input=text, check=True, capture_output=True, text=True).stdout.split()
    fns = {"e": fp.exp_on_negative_values, "l": fp.logistic, "t": fp.tanh,
           "o": lambda a, _: fp.one_over_one_plus_x(a), "m": lambda a, _: fp.one_minus_x_over_one_plus_x(a)}
    assert len(out) == len(cases)
    bad = [(c, int(o), fns[c[0]](c[1], c[2])) for c, o in zip(cases, out, strict=True)
           if fns[c[0]](c[1], c[2]) != int(o)]
    assert not bad, bad[:10]


REQUANT_SWEEP = r"""
#include <stdio.h>
#include "mcf_common.h"
static uint32_t rng_state = 88172645u;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}
int main(void)
{
    /* Every shift of a kernel multiplier, multipliers at both ends of [2^30, 2^31) and 0, and
     * accumulators near every power of two, near 0 and at the int32 extremes, both signs. */
    static const int32_t edges[] = {0, 1, -1, 2, -2, 127, -128, 32767, -32768, 1073741824, -1073741824,
                                    2147483647, -2147483647 - 1, 2147483646, -2147483647};
    uint32_t h = 2166136261u;
    int32_t shift;
    unsigned i;
    for (shift = -31; shift <= 30; ++shift) {
        for (i = 0; i < 20000u; ++i) {
            const uint32_t r = rng();
            int32_t m = i % 7u == 0 ? (i % 14u == 0 ? 0 : 2147483647)
                                    : (int32_t)(0x40000000u | (rng() & 0x3fffffffu));
            int32_t x;
            if (i < sizeof edges / sizeof edges[0]) {
                x = edges[i];
            } else if (i < 12000u) {
                /* small and scaled-up consecutive values against multipliers with few bits set:
                 * products that land exactly on both rounding steps' ties */
                static const int32_t tie_m[] = {0x40000000, 0x60000000, 0x50000000, 0x7fff0000};
                x = ((int32_t)(i % 3000u) - 1500) * (1 << (2 * (i / 3000u)));
                m = tie_m[i % 4u];
            } else {
                const int32_t mag = (int32_t)((r & 0x7fffffffu) >> (rng() % 31u));
                x = (rng() & 1u) ? mag : -mag;
            }
            {
                const int32_t v = mcf_requantize(x, m, shift);
                unsigned k;
                for (k = 0; k < 4; ++k) {
                    h ^= ((uint32_t)v >> (8 * k)) & 0xffu;
                    h *= 16777619u;
                }
            }
        }
    }
    printf("%08x\n", (unsigned)h);
    return 0;
}
"""


def test_fast_requantize_matches_reference_form(tmp_path):
    # mcf_requantize takes a shorter route for right shifts of 2 or more unless the kernels are
    # built with MCF_PORTABLE_KERNELS (TFLite Micro's MultiplyByQuantizedMultiplier written out):
    # both builds hash the same 1.24 million results.
    src = tmp_path / "requant.c"
    src.write_text(REQUANT_SWEEP)
    cc = find_tool("cc")
    hashes = []
    for flags in ([], ["-DMCF_PORTABLE_KERNELS"]):
        exe = tmp_path / ("requant" + "".join(flags).replace("-", "_"))
        subprocess.run([cc, *WARNING_FLAGS, "-O2", *flags, "-I", str(KERNELS), str(src), "-o", str(exe)],
                       check=True)
        hashes.append(subprocess.run([exe], check=True, capture_output=True, text=True).stdout.strip())
    assert hashes[0] == hashes[1]
