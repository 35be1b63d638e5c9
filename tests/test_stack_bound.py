"""Stack bounds from -fstack-usage / -fcallgraph-info (generator/stack_usage.py), checked against the
high-water mark of a painted stack in QEMU.

* The pure functions on small graphs (always).
* The CMake flavor on mps2_an386 (CI: arm-none-eabi-gcc and qemu-system-arm): the self-test's call tree
  (invoke and every kernel) bounded the way `mcuforge build` bounds Zephyr's threads; a test main()
  paints the stack below its frame, runs the self-test and reports how deep it went.
* The Zephyr flavor on mps2/an385 (skips without ZEPHYR_BASE, see tests/test_project_zephyr.py):
  `mcuforge build` writes the bounds into prj.conf; after the host ran vectors through the host thread,
  both threads' painted stacks (CONFIG_INIT_STACKS) stay within them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from mcuforge.generator.build import UNKNOWN_CALLEE_BYTES, ZEPHYR_THREAD_MARGIN, build_project
from mcuforge.generator.scaffold import new_project
from mcuforge.generator.stack_usage import (
    CallGraph,
    Frame,
    load_call_graph,
    parse_ci,
    parse_su,
    set_conf_values,
    stack_bound,
    stack_size,
)

CI_TEXT = r'''graph: { title: "a.c"
node: { title: "a.c:helper" label: "helper\na.c:2:12\n40 bytes (static)" }
node: { title: "memcpy" label: "memcpy\n/usr/include/newlib/string.h:31:9" shape : ellipse }
edge: { sourcename: "a.c:helper" targetname: "memcpy" label: "a.c:2:48" }
node: { title: "top" label: "top\na.c:4:5\n128 bytes (static)" }
edge: { sourcename: "top" targetname: "a.c:helper" label: "a.c:4:40" }
node: { title: "__indirect_call" label: "Indirect Call Placeholder" shape : ellipse }
edge: { sourcename: "top" targetname: "__indirect_call" label: "a.c:4:73" }
node: { title: "model_invoke" label: "model_invoke\nm.c:9:6\n16 bytes (static)" }
edge: { sourcename: "model_invoke" targetname: "conv" label: "m.c:10:5" }
node: { title: "conv" label: "conv\nk.c:3:6\n240 bytes (static)" }
}
'''


def _graph(frames: dict[str, int], calls: dict[str, set[str]]) -> CallGraph:
    return CallGraph({k: Frame(v, "static") for k, v in frames.items()}, {k: set(v) for k, v in calls.items()})


def test_parse_ci_reads_frames_edges_and_static_names() -> None:
    g = parse_ci(CI_TEXT)
    assert g.frames["a.c:helper"] == Frame(40, "static") and g.frames["top"].bytes == 128
    assert "memcpy" not in g.frames  # a library function: no frame known
    assert g.calls["top"] == {"a.c:helper", "__indirect_call"} and g.calls["model_invoke"] == {"conv"}
    assert g.find("helper") == "a.c:helper" and g.find("top") == "top" and g.find("nothing") is None


def test_parse_su_lines() -> None:
    su = "a.c:2:12:helper\t40\tstatic\nk.c:7:1:vla\t24\tdynamic\nk.c:9:1:bnd\t56\tdynamic,bounded\n"
    frames = parse_su(su)
    assert frames[("a.c", "helper")] == Frame(40, "static")
    assert not frames[("k.c", "vla")].bounded and frames[("k.c", "bnd")].bounded


def test_bound_is_the_deepest_path_with_indirect_calls_resolved() -> None:
    g = parse_ci(CI_TEXT)
    # without targets, the pointer call counts as unknown
    b = stack_bound(g, "top", unknown_bytes=64)
    assert b.bounded and b.bytes == 128 + max(40 + 64, 64)
    assert any(u.startswith("__indirect_call") for u in b.unknown) and "memcpy" in b.unknown
    # the model's entry point as the pointer's target: top > invoke > conv is the deepest
    b = stack_bound(g, "top", indirect=["model_invoke"], unknown_bytes=64)
    assert b.bytes == 128 + 16 + 240
    assert [name for name, _ in b.path] == ["top", "model_invoke", "conv"]
    assert b.describe() == "top: 384 B (top 128 > model_invoke 16 > conv 240)"
    # a library function of known size
    assert stack_bound(g, "helper", known={"memcpy": 8}).bytes == 48


def test_recursion_and_dynamic_frames_have_no_bound() -> None:
    g = _graph({"a": 8, "b": 16, "c": 4}, {"a": {"b"}, "b": {"c", "a"}})
    b = stack_bound(g, "a")
    assert not b.bounded and "recursion: a > b > a" in b.reason and "no bound" in b.describe()
    g = CallGraph({"a": Frame(8, "static"), "v": Frame(32, "dynamic")}, {"a": {"v"}})
    assert not stack_bound(g, "a").bounded
    g = CallGraph({"a": Frame(8, "static"), "v": Frame(32, "dynamic,bounded")}, {"a": {"v"}})
    assert stack_bound(g, "a").bytes == 40
    assert not stack_bound(g, "missing").bounded


def test_diamond_takes_the_larger_branch_once() -> None:
    g = _graph({"r": 8, "x": 100, "y": 10, "z": 50}, {"r": {"x", "y"}, "x": {"z"}, "y": {"z"}})
    assert stack_bound(g, "r").bytes == 8 + 100 + 50


def test_stack_size_and_conf_values() -> None:
    g = _graph({"r": 13}, {})
    assert stack_size(stack_bound(g, "r"), margin=256) == 272
    conf = "# comment\nCONFIG_MAIN_STACK_SIZE=4096\n# CONFIG_MAIN_STACK_SIZE=1 stays\nCONFIG_X=y\n"
    out = set_conf_values(conf, {"CONFIG_MAIN_STACK_SIZE": 768, "CONFIG_MCUFORGE_HOST_STACK_SIZE": 952})
    assert out == ("# comment\nCONFIG_MAIN_STACK_SIZE=768\n# CONFIG_MAIN_STACK_SIZE=1 stays\nCONFIG_X=y\n"
                   "CONFIG_MCUFORGE_HOST_STACK_SIZE=952\n")
    assert set_conf_values(out, {"CONFIG_MAIN_STACK_SIZE": 768}) == out


# ---- the CMake flavor in QEMU (CI) ---------------------------------------------------------------------

PAINT_MAIN = r'''/* Test firmware: paint the stack below main's frame, run the self-test (invoke and its kernels),
 * report the deepest byte written. */
#include <stdint.h>

#include "mcf_app.h"
#include "mcf_port.h"
#include "mcf_selftest.h"
#include "@PREFIX@.h"

#define PAINT 0xA5A5A5A5u
#define DEPTH 32768u /* bytes painted below main's stack pointer */

static inline uintptr_t stack_pointer(void)
{
    uintptr_t sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

/* Paints from DEPTH below `top` up to a little below its own frame. */
__attribute__((noinline)) static void paint(uintptr_t top)
{
    volatile uint32_t *p = (volatile uint32_t *)((top - DEPTH) & ~(uintptr_t)3u);
    volatile uint32_t *end = (volatile uint32_t *)((stack_pointer() - 64u) & ~(uintptr_t)3u);
    while (p < end) {
        *p++ = PAINT;
    }
}

__attribute__((noinline)) static uint32_t used_below(uintptr_t top)
{
    const volatile uint32_t *p = (const volatile uint32_t *)((top - DEPTH) & ~(uintptr_t)3u);
    while (*p == PAINT) {
        ++p;
    }
    return (uint32_t)(top - (uintptr_t)p);
}

int main(void)
{
    uintptr_t top;
    int ok;
    mcf_port_init();
    @PREFIX@_init();
    top = stack_pointer();
    paint(top);
    ok = mcf_selftest(&@PREFIX@_model, mcf_selftest_inputs, MCF_SELFTEST_CHECKSUM);
    mcf_print("mcuforge-stack: used=");
    mcf_print_u64(used_below(top));
    mcf_print("\r\n");
    mcf_port_exit(ok ? 0 : 1);
    return 0;
}
'''

# A Cortex-M exception frame that an interrupt (SysTick) may push below the deepest frame: 32 B, or 104 B
# with the FPU's state.
EXCEPTION_FRAME = 104


def _tools_missing() -> str | None:
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm", "cmake", "ninja"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    return None


@pytest.mark.slow
@pytest.mark.skipif(_tools_missing() is not None, reason=_tools_missing() or "")
@pytest.mark.parametrize("model", ["kws_ref_model", "pretrainedResnet_quant"])
def test_cmake_selftest_stack_stays_under_the_bound(models_dir: Path, tmp_path: Path, model: str) -> None:
    from mcuforge.hil.emulator import qemu_argv

    project = tmp_path / "p"
    p = new_project(project, models_dir / f"{model}.tflite", "mps2_an386", framework="cmake")
    (project / "src" / "main.c").write_text(PAINT_MAIN.replace("@PREFIX@", p.config.prefix))
    res = build_project(project, extra_cflags=["-fstack-usage", "-fcallgraph-info=su"])

    graph = load_call_graph(project / "build")
    indirect = [f"{p.config.prefix}_invoke", f"{p.config.prefix}_reset_state"]
    bound = stack_bound(graph, "mcf_selftest", indirect=indirect, unknown_bytes=UNKNOWN_CALLEE_BYTES)
    assert bound.bounded, bound.reason
    names = [name.rsplit(":", 1)[-1] for name, _ in bound.path]
    assert f"{p.config.prefix}_invoke" in names and names[-1].startswith("mcf_"), bound.describe()

    out = subprocess.run(qemu_argv(res.board, res.elf, "stdio"), capture_output=True, timeout=300).stdout
    m = re.search(rb"mcuforge-stack: used=(\d+)", out)
    assert m, out[-400:]
    used = int(m.group(1))
    print(f"{model}: high-water {used} B, bound {bound.describe()}")
    assert b"result=ok" in out
    # the bound holds, and it is the depth the kernels really reach (not a loose guess)
    assert used <= bound.bytes + EXCEPTION_FRAME, (used, bound.describe())
    assert used >= bound.bytes // 2, (used, bound.describe())


# ---- the Zephyr flavor (ZEPHYR_BASE) -----------------------------------------------------------------

ZEPHYR_MAIN = r'''/* Test application: reports both threads' stack use (CONFIG_INIT_STACKS paints them), while the
 * host is quiet (the host thread keeps the model lock during a session). */
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/sys/printk.h>

#include "mcf_selftest.h"
#include "mcf_zephyr.h"
#include "@PREFIX@.h"

extern const k_tid_t mcf_host_thread;

int main(void)
{
    for (;;) {
        size_t main_unused = 0;
        size_t host_unused = 0;
        unsigned i;
        mcf_model_lock();
        for (i = 0; i < @PREFIX@_model.num_inputs; ++i) {
            memcpy(@PREFIX@_model.inputs[i].data, mcf_selftest_inputs[i], @PREFIX@_model.inputs[i].bytes);
        }
        @PREFIX@_invoke();
        (void)k_thread_stack_space_get(k_current_get(), &main_unused);
        (void)k_thread_stack_space_get(mcf_host_thread, &host_unused);
        printk("mcuforge-stack main_unused=%u host_unused=%u\n", (unsigned)main_unused, (unsigned)host_unused);
        mcf_model_unlock();
        k_sleep(K_MSEC(300));
    }
    return 0;
}
'''


LINE = re.compile(rb"mcuforge-stack main_unused=(\d+) host_unused=(\d+)\r?\n")  # printk: \r\n on the console


def _zephyr_skip() -> str | None:
    from test_project_zephyr import _zephyr_missing

    return _zephyr_missing(("cmsis_6",)) or (None if shutil.which("qemu-system-arm") else "needs qemu-system-arm")


@pytest.mark.slow
@pytest.mark.zephyr
@pytest.mark.skipif(_zephyr_skip() is not None, reason=_zephyr_skip() or "")
def test_zephyr_thread_stacks_stay_under_the_bound(models_dir: Path, tmp_path: Path) -> None:
    import serial

    from mcuforge.hil.emulator import start_emulator
    from mcuforge.hil.runner import TestReport, random_vectors, run_vectors
    from mcuforge.hil.session import open_session

    project = tmp_path / "zs"
    p = new_project(project, models_dir / "kws_ref_model.tflite", "mps2_an385", framework="zephyr")
    (project / "src" / "main.c").write_text(ZEPHYR_MAIN.replace("@PREFIX@", p.config.prefix))
    conf = project / "prj.conf"
    conf.write_text(conf.read_text() + "CONFIG_INIT_STACKS=y\nCONFIG_THREAD_STACK_INFO=y\n")
    res = build_project(project)
    sizes = res.stack_sizes
    assert set(sizes) == {"CONFIG_MAIN_STACK_SIZE", "CONFIG_MCUFORGE_HOST_STACK_SIZE"}
    text = conf.read_text()
    for option, size in sizes.items():
        assert f"\n{option}={size}\n" in text
        assert size == stack_size(res.stacks[option], margin=ZEPHYR_THREAD_MARGIN) < 4096

    with start_emulator(res.board, res.elf) as emu:
        with open_session(project, port=emu.url) as s:
            report = TestReport(s.config.model, s.graph.sha256, s.board.id, s.url, 0.0)
            run_vectors(s.device, s.graph, s.model_bytes, random_vectors(s.graph, 2), report)
        assert report.ok, report.to_json()
        port = serial.serial_for_url(emu.url, timeout=0.5)
        try:
            buf, deadline = b"", time.monotonic() + 30
            while time.monotonic() < deadline and len(re.findall(LINE, buf)) < 2:
                buf += port.read(256)
        finally:
            port.close()
    lines = re.findall(LINE, buf)
    assert lines, buf[-400:]
    main_unused, host_unused = (int(v) for v in lines[-1])
    main_used = sizes["CONFIG_MAIN_STACK_SIZE"] - main_unused
    host_used = sizes["CONFIG_MCUFORGE_HOST_STACK_SIZE"] - host_unused
    print(f"zephyr: main used {main_used} B, host used {host_used} B of {sizes}; "
          f"bounds {[b.describe() for b in res.stacks.values()]}")
    assert 0 < main_used <= res.stacks["CONFIG_MAIN_STACK_SIZE"].bytes + ZEPHYR_THREAD_MARGIN
    assert 0 < host_used <= res.stacks["CONFIG_MCUFORGE_HOST_STACK_SIZE"].bytes + ZEPHYR_THREAD_MARGIN
    # the host thread ran invoke(): its stack went as deep as the kernels
    assert host_used >= res.stacks["CONFIG_MCUFORGE_HOST_STACK_SIZE"].bytes // 2
