"""The RV32 output stage's requantization (mcf_rv32_requantize in runtime/kernels/mcf_rv32.h: a
MULHSU by 2m, the rounding bit from the low word, one arithmetic shift and a halving that adds the
output offset) against TFLite Micro's two rounding steps, SaturatingRoundingDoublingHighMul then
RoundingDivideByPOT (mcf_sat_round_doubling_high_mul and mcf_rounding_divide_by_pot in
mcf_common.h), value by value on the host (built with -DMCF_EMULATE_RV32); the same for its
out-of-line route, mcf_rv32_requantize_other (shifts -1, 0 and left shifts).

The sweep: every shift e in 2..31 against edge values of x (both ends of int32, around 0 and
around the powers of two) and of m (0, 1, both ends of [2^30, 2^31)), a dense run of x for
multipliers whose products land exactly on the rounding ties (m = 2^30, 2^30 + 2^k), and random
triples. Offsets -128 and 127 and 0 check that the halving adds the offset exactly.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from mcuforge.generator.hostbuild import WARNING_FLAGS
from mcuforge.generator.resources import runtime_dir
from mcuforge.generator.tools import find_tool

KERNELS = runtime_dir() / "kernels"

SWEEP = r"""
#include <stdio.h>
#include "mcf_rv32.h"

static long checks, wrong;

static void check(int32_t x, int32_t m, int32_t e, int32_t offset)
{
    const int32_t want = mcf_rounding_divide_by_pot(mcf_sat_round_doubling_high_mul(x, m), e) + offset;
    const int32_t got = mcf_rv32_requantize(x, (uint32_t)m << 1, e - 1, 2 * offset + 1);
    ++checks;
    if (got != want && wrong++ < 10) {
        printf("x=%ld m=%ld e=%ld offset=%ld: %ld, TFLite Micro %ld\n", (long)x, (long)m, (long)e, (long)offset,
               (long)got, (long)want);
    }
}

/* the out-of-line route for shifts -1..31 (left shifts included) against mcf_requantize */
static void check_other(int32_t x, int32_t m, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t want = mcf_rounding_divide_by_pot(
        mcf_sat_round_doubling_high_mul((int32_t)((uint32_t)x << left), m), left ? 0 : -shift);
    const int32_t got = mcf_rv32_requantize_other(x, m, shift);
    ++checks;
    if (got != want && wrong++ < 10) {
        printf("x=%ld m=%ld shift=%ld: %ld, TFLite Micro %ld\n", (long)x, (long)m, (long)shift, (long)got,
               (long)want);
    }
}

static uint32_t state = 0x2545F491u;
static uint32_t next(void)
{
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

int main(void)
{
    static const int32_t ms[] = {0, 1, 0x40000000, 0x40000001, 0x55555555, 0x7FFFFFFE, 0x7FFFFFFF};
    static const int32_t offsets[] = {-128, 0, 127};
    int32_t xs[200];
    int nx = 0, i, j, e, k, o;
    xs[nx++] = INT32_MIN;
    xs[nx++] = INT32_MIN + 1;
    xs[nx++] = INT32_MAX;
    xs[nx++] = INT32_MAX - 1;
    for (k = 0; k < 31; ++k) {
        const int32_t p = (int32_t)((uint32_t)1 << k);
        xs[nx++] = p;
        xs[nx++] = p - 1;
        xs[nx++] = -p;
        xs[nx++] = -p - 1;
        xs[nx++] = p + 1;
        xs[nx++] = -p + 1;
    }
    for (e = 2; e <= 31; ++e) {
        for (o = 0; o < 3; ++o) {
            for (i = 0; i < nx; ++i) {
                for (j = 0; j < (int)(sizeof ms / sizeof ms[0]); ++j) {
                    check(xs[i], ms[j], e, offsets[o]);
                }
            }
        }
        /* products on the ties of both roundings */
        for (k = 0; k <= 30; k += 3) {
            const int32_t m = 0x40000000 + (k < 30 ? (int32_t)1 << k : 0);
            int32_t x;
            for (x = -3000; x <= 3000; ++x) {
                check(x << (e > 16 ? e - 16 : 0), m, e, 0);
            }
        }
    }
    for (e = -1; e <= 31; ++e) {
        for (i = 0; i < nx; ++i) {
            for (j = 0; j < (int)(sizeof ms / sizeof ms[0]); ++j) {
                check_other(xs[i] >> (e > 0 ? e : 0), ms[j], e);
            }
        }
        for (k = -40000; k <= 40000; ++k) {
            check_other(k, 0x40000000 + (k & 0xFFFF), e);
        }
    }
    for (i = 0; i < 3000000; ++i) {
        const int32_t x = (int32_t)next() >> (next() & 31);
        const int32_t m = (next() & 7) == 0 ? (int32_t)(next() & 0x7FFFFFFFu)
                                            : (int32_t)(0x40000000u | (next() & 0x3FFFFFFFu));
        const int32_t eo = (int32_t)(next() % 30u) + 2;
        check(x, m, eo, (int32_t)(next() % 256u) - 128);
    }
    printf("checks=%ld wrong=%ld\n", checks, wrong);
    return 0;
}
"""


def test_rv32_requantize_matches_tflite_micro(tmp_path: Path) -> None:
    src = tmp_path / "sweep.c"
    src.write_text(SWEEP)
    exe = tmp_path / "sweep"
    cc = find_tool("cc")
    subprocess.run([cc, *WARNING_FLAGS, "-O2", "-DMCF_EMULATE_RV32", "-I", str(KERNELS), str(src), "-o", str(exe)],
                   check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    last = out.strip().splitlines()[-1]
    assert last.startswith("checks=") and last.endswith(" wrong=0"), out
    assert int(last.split()[0].split("=")[1]) > 5_000_000, out
