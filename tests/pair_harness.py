"""A host C program that runs an elementwise int8 kernel on every (a, b) pair of int8 values twice,
once as the reference route and once as the route under test, and prints per input line how many of
the 65536 outputs differ and how many are not saturated (so a test can see that it tested something).
Used for the no-FPU fixed-point routes of the binary kernels (their fallback is the float32 formula)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def pair_harness(header: str, params_type: str, function: str, words: int, reference: str, route: str) -> str:
    """C source: each input line holds `words` integers v[0..words-1]; `reference` sets up `p` (a
    zero-initialised `params_type`, its broadcast loops already one row of 65536) for the reference
    route, `route` then changes it for the route under test."""
    return rf"""
#include <stdio.h>
#include <string.h>
#include "{header}"
int main(void)
{{
    static int8_t x[65536], y[65536], o1[65536], o2[65536];
    int32_t v[{words}], dims[1] = {{65536}}, st[1] = {{1}};
    int i;
    for (i = 0; i < 65536; ++i) {{
        x[i] = (int8_t)(i >> 8);
        y[i] = (int8_t)i;
    }}
    for (;;) {{
        {params_type} p = {{0}};
        int bad = 0, inside = 0;
        for (i = 0; i < {words}; ++i) {{
            if (scanf("%d", &v[i]) != 1) {{
                return 0;
            }}
        }}
        p.act_min = -128;
        p.act_max = 127;
        p.ndims = 1;
        p.dims = dims;
        p.stride1 = st;
        p.stride2 = st;
        {reference}
        {function}(&p, x, y, o1);
        {route}
        {function}(&p, x, y, o2);
        for (i = 0; i < 65536; ++i) {{
            bad += o1[i] != o2[i];
            inside += o1[i] > -128 && o1[i] < 127;
        }}
        printf("%d %d\n", bad, inside);
    }}
}}
"""


def run_harness(tmp_path: Path, source: str, kernel: str, lines: list[str]) -> list[str]:
    """Builds `source` with the kernel file `kernel` (runtime/kernels, -DMCF_REQUANT_F32_SOFT=1: the
    routes of cores without an FPU), feeds it `lines` and returns the words it prints."""
    from mcuforge.generator.resources import runtime_dir

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("needs a host C compiler")
    kernels = runtime_dir() / "kernels"
    (tmp_path / "harness.c").write_text(source)
    exe = tmp_path / "harness"
    subprocess.run([cc, "-O2", "-DMCF_REQUANT_F32_SOFT=1", "-I", str(kernels), str(tmp_path / "harness.c"),
                    str(kernels / kernel), "-o", str(exe)], check=True)
    return subprocess.run([str(exe)], input="\n".join(lines) + "\n", capture_output=True, text=True,
                          check=True).stdout.split()


def run_pairs(tmp_path: Path, source: str, kernel: str, lines: list[str]) -> tuple[list[int], list[int]]:
    """run_harness on a pair_harness source: (differing outputs, unsaturated outputs) per line."""
    out = run_harness(tmp_path, source, kernel, lines)
    assert len(out) == 2 * len(lines), out[:10]
    return [int(v) for v in out[0::2]], [int(v) for v in out[1::2]]
