"""The sensor glue beside the application: in a PlatformIO project generated with `--sensor`,
setup() starts the pipeline (mcf_sensor_begin) and loop() polls it (mcf_sensor_poll), so code
added to loop() keeps running while the host streams a recording through the glue and every
window's input tensor and outputs come back bit-exact (host reference, TFLite Micro). The same
for a Zephyr project's main() loop.

* PlatformIO: the native program is compiled the way PlatformIO's native env compiles it
  (-DPLATFORMIO, the library's include/ and src/), with the host gcc/g++: no PlatformIO needed,
  so this runs in CI.
* Zephyr (slow; ZEPHYR_BASE and modules as in tests/test_project_zephyr.py, qemu-system-arm):
  mps2/an385 in QEMU; skipped without them.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from sensor_helpers import int8_imu_model
from test_project_zephyr import _needs_zephyr

from mcuforge.generator.boards import load_board
from mcuforge.generator.build import build_project
from mcuforge.generator.frontends import read_model
from mcuforge.generator.references import Reference
from mcuforge.generator.scaffold import load_config, new_project
from mcuforge.generator.sensor.pipeline import resolve
from mcuforge.generator.sensor.reference import input_tensors
from mcuforge.hil.device import Device, LinkLost
from mcuforge.hil.emulator import start_emulator

SELFTEST = re.compile(rb"mcuforge: selftest model=\w+ checksum=0x[0-9a-f]{8} ticks=\d+ unit=\w+ result=ok")
# Added to loop() before the poll: counts the passes on stderr (stdout is the host link with stdio).
LOOP_LINE = """    static unsigned long passes;
    if (++passes % 100u == 0u) {
        fprintf(stderr, "user loop: %lu passes\\n", passes);
    }
"""
POLL = "    if (mcf_sensor_poll()) {"


def _host_build(root: Path, out: Path) -> Path:
    cc, cxx = shutil.which("gcc"), shutil.which("g++")
    if cc is None or cxx is None:
        pytest.skip("needs gcc and g++")
    lib = root / "lib" / "mcuforge_model"
    flags = ["-DPLATFORMIO=60200", "-O2", "-Wall", "-Werror", "-I", str(lib / "include"), "-I", str(lib / "src")]
    objs = []
    sources = sorted([*(lib / "src").rglob("*.c"), *(lib / "src").rglob("*.cpp"), *(root / "src").glob("*.cpp")])
    for n, src in enumerate(sources):
        obj = out / f"{n}_{src.stem}.o"
        compiler = cxx if src.suffix == ".cpp" else cc
        proc = subprocess.run([compiler, *flags, "-c", str(src), "-o", str(obj)], capture_output=True, text=True)
        assert proc.returncode == 0, f"{src.name}: {proc.stderr[-2000:]}"
        objs.append(str(obj))
    program = out / "program"
    subprocess.run([cxx, *objs, "-o", str(program), "-lm"], check=True, capture_output=True)
    return program


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("sensor_loop")
    model = base / "imu_int8.tflite"
    model.write_bytes(int8_imu_model())
    root = base / "p"
    new_project(root, model, "nucleo_f746zg", framework="platformio", sensor="replay:accelerometer")
    return root


def test_generated_loop_polls_the_sensor_glue(project: Path) -> None:
    main = (project / "src" / "main.cpp").read_text()
    setup = main[main.index("void setup(void)"):main.index("void loop(void)")]
    loop = main[main.index("void loop(void)"):]
    assert "mcf_sensor_begin(&" in setup and "mcf_sensor_serve" not in main
    assert POLL in loop and "mcf_host_poll" not in loop


def test_loop_runs_while_a_recording_is_replayed_bit_exact(project: Path, tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(project, root)
    main = root / "src" / "main.cpp"
    text = main.read_text().replace('#include "mcf_app.h"', '#include <stdio.h>\n\n#include "mcf_app.h"', 1)
    assert POLL in text
    main.write_text(text.replace(POLL, LOOP_LINE + POLL, 1))
    program = _host_build(root, tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "MCUFORGE_HOST"}

    # By itself: the self-test line, nothing binary; it ends with stdin.
    alone = subprocess.run([str(program)], stdin=subprocess.DEVNULL, capture_output=True, timeout=60, env=env)
    assert alone.returncode == 0 and SELFTEST.fullmatch(alone.stdout.rstrip(b"\r\n")), alone.stdout[:300]

    cfg = load_config(root)
    assert cfg.sensor is not None
    graph = read_model(root / cfg.model)
    pipeline = resolve(cfg.sensor, graph, load_board(cfg.board), cfg.framework)
    rng = np.random.default_rng(7)
    x = rng.normal(0.0, 1.6, size=(200, 3)).astype(np.float32)
    x[::17] *= 4  # beyond the int8 input's range: clamped

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    err_path = tmp_path / "stderr.txt"
    with err_path.open("wb") as err:
        proc = subprocess.Popen([str(program)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                env=dict(env, MCUFORGE_HOST=f"tcp:{port}"))
        try:
            deadline = time.monotonic() + 30.0
            while True:
                try:
                    dev = Device.open(f"socket://127.0.0.1:{port}", timeout=2.0)
                    break
                except LinkLost:
                    assert time.monotonic() < deadline, "the program never listened"
                    time.sleep(0.05)
            with dev:
                dev.hello(wait=30)
                time.sleep(0.3)  # idle: loop() runs, nothing arrives
                before = err_path.read_bytes().count(b"user loop:")
                windows = dev.replay(x, window=pipeline.window, hop=pipeline.hop)
                time.sleep(0.3)
                after = err_path.read_bytes().count(b"user loop:")
            assert proc.wait(timeout=10) == 0  # the link closed: the program ends
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    passes = [int(n) for n in re.findall(rb"user loop: (\d+) passes", err_path.read_bytes())]
    assert before >= 1 and after > before and passes == sorted(passes), passes[-5:]

    want = input_tensors(pipeline, x)
    ref = Reference((root / cfg.model).read_bytes())
    assert len(windows) == len(want) == pipeline.windows_in(len(x)) > 10
    for w, host_in in zip(windows, want, strict=True):
        assert w.input is not None and np.array_equal(w.input, host_in), f"window {w.window}: input differs"
        assert np.array_equal(w.outputs[0], ref.run([host_in], 1)[0]), f"window {w.window}: output differs"



# ---- the live-source path of mcf_sensor_poll(), on this host with a scripted source -----------------

FAKE_SOURCE = r"""
#include "mcf_sensor.h"
#include "mcf_source.h"

static unsigned due;
static unsigned next;

void fake_source_make_due(unsigned n) { due += n; }

/* x[i][c] = ((7 i + 13 c) mod 41 - 20) / 4: exact in float32, some beyond the input's range */
int mcf_source_init(void) { return 0; }
int mcf_source_poll(float *sample)
{
    unsigned c;
    if (due == 0u) {
        return 0;
    }
    for (c = 0; c < MCF_SENSOR_CHANNELS; ++c) {
        sample[c] = (float)((int)((7u * next + 13u * c) % 41u) - 20) * 0.25f;
    }
    due--;
    next++;
    return 1;
}
int mcf_source_poll_frame(void *input) { (void)input; return 0; }
unsigned long mcf_source_overruns(void) { return 0; }
const char *mcf_source_name(void) { return "scripted"; }
"""

LIVE_MAIN = r"""
#include <stdio.h>

#include "mcf_port.h"
#include "mcf_sensor_host.h"
#include "@PREFIX@.h"

void fake_source_make_due(unsigned n);

static void on_window(const mcf_model *m, uint32_t window)
{
    uint32_t i;
    fprintf(stderr, "window %u:", (unsigned)window);
    for (i = 0; i < m->outputs[0].bytes; ++i) {
        fprintf(stderr, " %d", (int)((const int8_t *)m->outputs[0].data)[i]);
    }
    fprintf(stderr, "\n");
}

int main(void)
{
    unsigned polls = 0;
    unsigned ran = 0;
    mcf_port_init();
    @PREFIX@_init();
    if (mcf_sensor_begin(&@PREFIX@_model, "host", on_window) != MCF_HOST_OFF) {
        return 2;
    }
    if (mcf_sensor_poll() != 0) { /* nothing due */
        return 3;
    }
    fake_source_make_due(@TOTAL@); /* all due at once, as after a long pass of the application */
    for (;;) {
        const int r = mcf_sensor_poll();
        polls++;
        ran += (unsigned)r;
        if (!r) {
            break;
        }
    }
    fprintf(stderr, "polls %u ran %u\n", polls, ran);
    return 0;
}
"""


def test_live_windows_run_in_the_poll_bit_exact(tmp_path: Path) -> None:
    """A live source (scripted here, on this host) that has many samples due: each poll reads them
    until one completes a window, runs it (on_window sees the outputs) and returns 1; the poll after
    the last window returns 0. The outputs are TFLite Micro's for the host reference's inputs."""
    cc = shutil.which("gcc")
    if cc is None:
        pytest.skip("needs gcc")
    model = tmp_path / "imu_int8.tflite"
    model.write_bytes(int8_imu_model())
    root = tmp_path / "c"
    new_project(root, model, "mps2_an386", sensor="replay:accelerometer")
    cfg = load_config(root)
    assert cfg.sensor is not None
    pipeline = resolve(cfg.sensor, read_model(root / cfg.model), load_board(cfg.board), cfg.framework)
    total = 150
    gen = root / "mcuforge_model"
    (tmp_path / "fake_source.c").write_text(FAKE_SOURCE)
    (tmp_path / "live_main.c").write_text(LIVE_MAIN.replace("@PREFIX@", cfg.prefix).replace("@TOTAL@", f"{total}u"))
    repo = Path(__file__).resolve().parents[1]
    sources = [*(f for f in sorted((gen / "app").glob("*.c")) if f.name != "mcf_source_replay.c"),
               *sorted((gen / "model").glob("*.c")), repo / "runtime" / "ports" / "native" / "mcf_port_native.c",
               tmp_path / "fake_source.c", tmp_path / "live_main.c"]
    exe = tmp_path / "live"
    # -DPLATFORMIO: the native port keeps the host link off without MCUFORGE_HOST (mcf_host.c)
    build = subprocess.run([cc, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-DPLATFORMIO=60200",
                            "-I", gen / "app", "-I", gen / "model", "-I", gen / "include", *sources, "-o", exe,
                            "-lm"], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
    env = {k: v for k, v in os.environ.items() if k != "MCUFORGE_HOST"}
    proc = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env)  # stdin stays open: the end of stdin would end the program
    try:
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    n_windows = pipeline.windows_in(total)
    assert f"polls {n_windows + 1} ran {n_windows}" in err, err[-500:]

    i = np.arange(total)[:, None]
    c = np.arange(3)[None, :]
    x = (((7 * i + 13 * c) % 41 - 20) * 0.25).astype(np.float32)
    ref = Reference((root / cfg.model).read_bytes())
    want = [" ".join(str(int(v)) for v in ref.run([t], 1)[0].ravel()) for t in input_tensors(pipeline, x)]
    got = re.findall(r"window (\d+): ([-\d ]+)\n", err)
    assert [int(n) for n, _ in got] == list(range(1, n_windows + 1))
    assert [v for _, v in got] == want


# ---- Zephyr: main()'s loop polls the glue (the module's host thread is off) ------------------------

ZEPHYR_LINE = """        {
            static uint32_t passes;
            if (++passes % 20u == 0u) {
                mcf_sensor_log("user loop");
            }
        }
"""
SLEEP = "        k_msleep(1);"


@pytest.mark.slow
@pytest.mark.zephyr
@_needs_zephyr("cmsis_6")
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="needs qemu-system-arm")
def test_zephyr_main_loop_runs_while_a_recording_is_replayed(tmp_path: Path) -> None:
    """On Zephyr (mps2/an385 in QEMU) main() polls the glue between passes of its own loop: a line
    added there sends LOG frames before, during and after a replay that stays bit-exact."""
    model = tmp_path / "imu_int8.tflite"
    model.write_bytes(int8_imu_model())
    root = tmp_path / "z"
    new_project(root, model, "mps2_an385", framework="zephyr", sensor="replay:accelerometer")
    main = root / "src" / "main.c"
    text = main.read_text()
    assert "mcf_sensor_begin(&" in text and "mcf_sensor_poll()" in text and SLEEP in text
    main.write_text(text.replace(SLEEP, ZEPHYR_LINE + SLEEP, 1))
    res = build_project(root)

    cfg = load_config(root)
    assert cfg.sensor is not None
    pipeline = resolve(cfg.sensor, read_model(root / cfg.model), load_board(cfg.board), cfg.framework)
    x = np.random.default_rng(11).normal(0.0, 1.6, size=(120, 3)).astype(np.float32)
    with start_emulator(res.board, res.elf) as emu, Device.open(emu.url, timeout=2.0) as dev:
        dev.hello(wait=30)
        time.sleep(1.0)
        dev.hello()
        before = sum(text == "user loop" for _, text in dev.logs)
        windows = dev.replay(x, window=pipeline.window, hop=pipeline.hop)
        time.sleep(1.0)
        dev.hello()
        after = sum(text == "user loop" for _, text in dev.logs)
    assert before >= 1 and after > before, (before, after)

    want = input_tensors(pipeline, x)
    ref = Reference((root / cfg.model).read_bytes())
    assert len(windows) == len(want) == pipeline.windows_in(len(x))
    for w, host_in in zip(windows, want, strict=True):
        assert w.input is not None and np.array_equal(w.input, host_in), f"window {w.window}: input differs"
        assert np.array_equal(w.outputs[0], ref.run([host_in], 1)[0]), f"window {w.window}: output differs"
