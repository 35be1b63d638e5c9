"""Live microphone capture: Zephyr's DMIC API and the Arduino PDM library feeding the audio pipeline
(ring → MFCC → int8 features → kws_ref_model).

Always run: the pipeline checks (one-line errors), the generated sources, prj.conf / app.overlay and
mcf_sensor_config.h, the Kconfig symbols against a list verified in Zephyr 4.3, and the FIFO between
the capture context and the main loop (compiled and run on the host).

Need the real tools, and skip saying so otherwise:

* ZEPHYR_BASE (see tests/test_project_zephyr.py) with cmsis_6, hal_stm32 and hal_st (the mpxxdtyy
  driver's OpenPDMFilter): the glue builds for 96b_argonkey (MP34DT05 on I2S5, st,mpxxdtyy) and links
  the driver; the Kconfig symbols exist in that tree. The nRF boards (arduino_nano_33_ble's
  nordic,nrf-pdm) need hal_nordic.
* MCUFORGE_ARDUINO_MBED_DIR (a checkout of github.com/arduino/ArduinoCore-mbed with
  ArduinoCore-API's api/ in cores/arduino/api, as its README says) and arm-none-eabi-g++:
  mcf_source_arduino_pdm.cpp compiles (-Wall -Wextra -Werror) against the real PDM.h, Arduino.h and
  mbed headers with the flags of the core's platform.txt recipe for nano33ble (no link: the
  variant's prebuilt libmbed.a is not needed to compile).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_project_zephyr import _needs_zephyr, _zephyr_modules

from mcuforge.generator.build import build_project, west_workspace
from mcuforge.generator.scaffold import new_project, update_project
from mcuforge.generator.sensor.microphone import KCONFIG_SYMBOLS, capture_plan
from mcuforge.generator.sensor.pipeline import SensorConfigError

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "runtime" / "sensor" / "sources"
MBED_ENV = "MCUFORGE_ARDUINO_MBED_DIR"

#: Kconfig symbols verified in Zephyr 4.3 (zephyr/drivers/audio/Kconfig: `menuconfig AUDIO`,
#: `menuconfig AUDIO_DMIC`; Kconfig.dmic_pdm_nrfx: `config AUDIO_DMIC_NRFX_PDM`; Kconfig.mpxxdtyy:
#: `config AUDIO_MPXXDTYY`; kernel/Kconfig: `config NUM_COOP_PRIORITIES`) - what prj.conf and the
#: sources may name.
VERIFIED_KCONFIG = {"AUDIO", "AUDIO_DMIC", "AUDIO_DMIC_NRFX_PDM", "AUDIO_MPXXDTYY", "NUM_COOP_PRIORITIES",
                    "SERIAL", "CONSOLE", "UART_CONSOLE", "PRINTK", "LOG", "MAIN_STACK_SIZE"}


@pytest.fixture(scope="module")
def kws(models_dir: Path) -> Path:
    return models_dir / "kws_ref_model.tflite"


def _app(root: Path, framework: str) -> Path:
    return root / ("mcuforge_model" if framework == "zephyr" else "lib/mcuforge_model") / "app"


# ---- generation (always) ---------------------------------------------------------------------------


@pytest.mark.parametrize(("board", "node"), [
    ("96b_argonkey", "DT_COMPAT_GET_ANY_STATUS_OKAY(st_mpxxdtyy)"),
    ("arduino_nano_33_ble", "DT_NODELABEL(dmic_dev)"),
])
def test_zephyr_dmic_project(kws: Path, tmp_path: Path, board: str, node: str) -> None:
    root = tmp_path / board
    p = new_project(root, kws, board, framework="zephyr", sensor="microphone")
    pipe = p.pipeline
    assert pipe is not None and pipe.kind == "microphone" and pipe.source == "board"
    # the kws input (49 x 10 MFCCs) gets the standard front end: 1 s windows at 16 kHz
    assert (pipe.rate_hz, pipe.window, pipe.hop, pipe.feature_params) == (16000.0, 16000, 8000, {"kind": "mfcc"})
    spec = yaml.safe_load((root / "mcuforge.yaml").read_text())["sensor"]
    assert spec["features"] == {"kind": "mfcc"} and spec["window"] == 16000
    app = _app(root, "zephyr")
    for name in ("mcf_source_zephyr_dmic.c", "mcf_audio_fifo.h", "mcf_mfcc.c", "mcf_mfcc_tables.h"):
        assert (app / name).is_file(), name
    assert not (app / "mcf_source_zephyr.c").exists() and not (app / "mcf_source_replay.c").exists()
    config = (app / "mcf_sensor_config.h").read_text()
    assert f"#define MCF_SOURCE_ZEPHYR_NODE {node}\n" in config
    assert "#define MCF_AUDIO_RATE_HZ 16000u\n" in config
    assert "#define MCF_AUDIO_FIFO_SAMPLES 4096u\n" in config  # >= 250 ms at 16 kHz, a power of two
    assert "#define MCF_AUDIO_PDM_CLK_MIN 1200000u\n#define MCF_AUDIO_PDM_CLK_MAX 3250000u\n" in config
    # mpxxdtyy: decimation 128 at 16 kHz, PCM blocks of 512 * 16 / 128 bytes (its I2S blocks are 512 B)
    block = "32u" if board == "96b_argonkey" else "160u"
    assert f"#define MCF_AUDIO_BLOCK_SAMPLES {block} " in config
    # prj.conf: exactly the audio options, each a real Zephyr 4.3 symbol
    conf = (root / "prj.conf").read_text()
    assert "CONFIG_AUDIO=y\nCONFIG_AUDIO_DMIC=y\n" in conf
    assert "CONFIG_SENSOR" not in conf and "CONFIG_VIDEO" not in conf
    symbols = set(re.findall(r"^CONFIG_([A-Z0-9_]+)=", conf, re.M))
    assert symbols <= VERIFIED_KCONFIG, symbols - VERIFIED_KCONFIG
    overlay = (root / "app.overlay").read_text()
    assert "microphone of the sensor pipeline" in overlay
    assert ("node label `dmic_dev`" in overlay) == (board == "arduino_nano_33_ble")
    # the source uses the DMIC API as Zephyr 4.3 declares it (include/zephyr/audio/dmic.h)
    src = (app / "mcf_source_zephyr_dmic.c").read_text()
    for call in ("#include <zephyr/audio/dmic.h>", "DEVICE_DT_GET(MCF_SOURCE_ZEPHYR_NODE)", "device_is_ready(mic_dev)",
                 "dmic_configure(mic_dev, &mic_cfg)", "dmic_trigger(mic_dev, DMIC_TRIGGER_START)",
                 "dmic_read(mic_dev, 0, &block, &size, READ_TIMEOUT_MS)", "k_mem_slab_free(&mcf_audio_slab, block)",
                 "K_MEM_SLAB_DEFINE_STATIC(mcf_audio_slab", "dmic_build_channel_map(0, 0, PDM_CHAN_LEFT)",
                 ".pcm_width = 16", "k_thread_start(mcf_audio_thread)"):
        assert call in src, call
    assert "malloc" not in src and "k_malloc" not in src
    used = set(re.findall(r"CONFIG_([A-Z0-9_]+)", src))
    assert used <= set(KCONFIG_SYMBOLS) <= VERIFIED_KCONFIG
    # the RAM the glue adds includes the FIFO, the slab and the capture thread's stack
    plan = capture_plan(pipe.sensor, "zephyr", 16000.0, ["audio"])  # type: ignore[arg-type]
    assert plan.ram_bytes >= 2 * 4096 + 1024 and pipe.ram_bytes > pipe.ring_bytes + plan.ram_bytes


def test_arduino_pdm_project(kws: Path, tmp_path: Path) -> None:
    root = tmp_path / "nano"
    p = new_project(root, kws, "arduino_nano_33_ble", framework="platformio", sensor="microphone")
    assert p.pipeline is not None and p.pipeline.window == 16000
    ini = (root / "platformio.ini").read_text()
    assert "lib_deps" not in ini  # PDM comes with the mbed core
    app = _app(root, "platformio")
    assert (app / "mcf_source_arduino_pdm.cpp").is_file() and (app / "mcf_audio_fifo.h").is_file()
    assert not (app / "mcf_source_arduino.cpp").exists()
    config = (app / "mcf_sensor_config.h").read_text()
    assert "#define MCF_ARDUINO_LIB MCF_ARDUINO_PDM\n" in config
    assert "#define MCF_AUDIO_PDM_BUFFER_BYTES 512u " in config and "#define MCF_AUDIO_RATE_HZ 16000u\n" in config
    src = (app / "mcf_source_arduino_pdm.cpp").read_text()
    for call in ("#include <PDM.h>", "PDM.onReceive(on_pdm)", "PDM.setBufferSize(MCF_AUDIO_PDM_BUFFER_BYTES)",
                 "PDM.begin(1, MCF_AUDIO_RATE_HZ)", "PDM.available()", "PDM.read(isr_block, (size_t)n)"):
        assert call in src, call
    assert "malloc" not in src.replace("realloc()", "")


def _err(kws: Path, tmp_path: Path, board: str, framework: str, **sensor: object) -> str:
    root = tmp_path / f"{board}-{framework}-{len(list(tmp_path.iterdir()))}"
    with pytest.raises(SensorConfigError) as info:
        if sensor:
            new_project(root, kws, board, framework=framework, sensor="replay:microphone")
            data = yaml.safe_load((root / "mcuforge.yaml").read_text())
            data["sensor"].update(source="board", part=None, **sensor)
            (root / "mcuforge.yaml").write_text(yaml.safe_dump(data))
            update_project(root)
        else:
            new_project(root, kws, board, framework=framework, sensor="microphone")
    assert "\n" not in info.value.message
    return info.value.message


def test_bad_microphone_pipelines(kws: Path, tmp_path: Path) -> None:
    assert "Zephyr's devicetree does not describe the mp34dt01" in _err(kws, tmp_path, "disco_l475_iot1", "zephyr")
    assert "no Arduino source for the mp34dt01" in _err(kws, tmp_path, "disco_l475_iot1", "platformio")
    mfcc = {"kind": "mfcc"}
    msg = _err(kws, tmp_path, "arduino_nano_33_ble", "platformio", rate_hz=8000.0, window=8000, features=mfcc)
    assert "records at 16000 or 41667 Hz, not 8000" in msg
    msg = _err(kws, tmp_path, "96b_argonkey", "zephyr", rate_hz=8000.0, window=8000, features=mfcc)
    assert "decimates by 64 or 128: 8000 Hz needs a PDM clock of 0.512 or 1.024 MHz" in msg
    msg = _err(kws, tmp_path, "arduino_nano_33_ble", "zephyr", rate_hz=100000.0, window=16000, features=mfcc)
    assert "decimates by 64 or 80" in msg
    msg = _err(kws, tmp_path, "arduino_nano_33_ble", "zephyr", rate_hz=16000.5, window=16000, features=mfcc)
    assert "whole number of Hz" in msg or "integer sample rate" in msg


def test_cli_error_is_one_line(kws: Path, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", "new", str(tmp_path / "p"), "--model",
                           str(kws), "--board", "disco_l475_iot1", "--framework", "zephyr", "--sensor", "microphone"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
    assert any("live microphone capture has no DMIC device" in ln for ln in lines), lines
    assert not (tmp_path / "p").exists()


# ---- the FIFO between capture context and main loop, on the host -----------------------------------

_FIFO_TEST = r"""
#include <stdio.h>
#include "mcf_audio_fifo.h"
static mcf_audio_fifo f;
int main(void)
{
    int16_t block[48];
    int16_t v;
    int i, k, expect = 0, next = 0, got = 0;
    /* free-running indices across the uint32 wrap */
    f.head = f.tail = 0xFFFFFF00u;
    for (k = 0; k < 2000; ++k) {
        for (i = 0; i < 48; ++i) block[i] = (int16_t)(next + i);
        if (mcf_audio_fifo_put(&f, block, 48u)) next += 48; else next += 0;
        /* the consumer takes fewer than are produced in bursts, then catches up */
        for (i = 0; i < ((k % 5) == 0 ? 400 : 30); ++i) {
            if (!mcf_audio_fifo_get(&f, &v)) break;
            if (v != (int16_t)expect) { printf("order %d %d\n", v, expect); return 1; }
            expect++; got++;
        }
    }
    printf("got %d dropped %u head %u\n", got, (unsigned)mcf_audio_fifo_dropped(&f), (unsigned)f.head);
    /* full: a block that does not fit is dropped whole */
    while (mcf_audio_fifo_get(&f, &v)) {}
    for (k = 0; k < 64 / 16 + 1; ++k) (void)mcf_audio_fifo_put(&f, block, 16u);
    printf("after fill dropped %u\n", (unsigned)mcf_audio_fifo_dropped(&f));
    return 0;
}
"""


def test_fifo_order_wrap_and_drops(tmp_path: Path) -> None:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("needs a host C compiler")
    (tmp_path / "mcf_sensor.h").write_text("#define MCF_AUDIO_FIFO_SAMPLES 64u\n")
    (tmp_path / "t.c").write_text(_FIFO_TEST)
    shutil.copy(SOURCES / "mcf_audio_fifo.h", tmp_path)
    exe = tmp_path / "t"
    subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-I", str(tmp_path), str(tmp_path / "t.c"),
                    "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    got, dropped = re.search(r"got (\d+) dropped (\d+)", out).groups()  # type: ignore[union-attr]
    # every accepted sample came out in order; blocks were dropped whole while the consumer lagged
    assert int(got) > 0 and int(dropped) > 0
    assert int(got) + int(dropped) * 48 <= 2000 * 48
    # a 64-sample FIFO takes four 16-sample blocks; the fifth is dropped whole (counted once more)
    assert f"after fill dropped {int(dropped) + 1}" in out


# ---- Zephyr tree ------------------------------------------------------------------------------------


@pytest.mark.zephyr
@_needs_zephyr()
def test_kconfig_symbols_exist_in_the_tree() -> None:
    zephyr = Path(os.environ["ZEPHYR_BASE"])
    text = "\n".join(p.read_text(errors="replace") for p in
                     [*zephyr.glob("drivers/audio/Kconfig*"), zephyr / "kernel" / "Kconfig"])
    for sym in ("AUDIO", "AUDIO_DMIC", "AUDIO_DMIC_NRFX_PDM", "AUDIO_MPXXDTYY", "NUM_COOP_PRIORITIES"):
        assert re.search(rf"^(menu)?config {sym}$", text, re.M), sym
    header = (zephyr / "include" / "zephyr" / "audio" / "dmic.h").read_text()
    for decl in ("struct dmic_cfg", "static inline int dmic_configure(", "static inline int dmic_trigger(",
                 "static inline int dmic_read(", "DMIC_TRIGGER_START", "struct pcm_stream_cfg"):
        assert decl in header, decl
    dts = zephyr / "boards" / "arduino" / "nano_33_ble" / "arduino_nano_33_ble_nrf52840_sense.dts"
    assert "dmic_dev: &pdm0" in dts.read_text()  # the node label board_defs cites
    argon = (zephyr / "boards" / "96boards" / "argonkey" / "96b_argonkey.dts").read_text()
    assert 'compatible = "st,mpxxdtyy";' in argon


def _with_module_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """Modules found under the workspace but not listed in EXTRA_ZEPHYR_MODULES are added to it."""
    ws = west_workspace({"ZEPHYR_BASE": os.environ["ZEPHYR_BASE"]})
    listed = [p for p in os.environ.get("EXTRA_ZEPHYR_MODULES", "").split(";") if p]
    found = [str(y.parent.parent) for y in ws.glob("modules/**/zephyr/module.yml")]
    monkeypatch.setenv("EXTRA_ZEPHYR_MODULES", ";".join(dict.fromkeys(listed + found)))
    assert "hal_st" in _zephyr_modules(ws)


@pytest.mark.slow
@pytest.mark.zephyr
@_needs_zephyr("cmsis_6", "hal_stm32", "hal_st")
def test_zephyr_dmic_glue_builds_for_96b_argonkey(kws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _with_module_paths(monkeypatch)
    root = tmp_path / "argon"
    new_project(root, kws, "96b_argonkey", framework="zephyr", sensor="microphone")
    res = build_project(root)
    nm = subprocess.run(["arm-none-eabi-nm", "-C", str(res.elf)], capture_output=True, text=True, check=True).stdout
    for sym in ("mpxxdtyy_driver_api", "Open_PDM_Filter_128", "i2s_stm32_read", "mcf_audio_thread",
                "_k_mem_slab_buf_mcf_audio_slab", "mcf_audio_fifo_buf", "mcf_mfcc_clip", "mcf_source_poll"):
        assert sym in nm, sym
    config = (root / "build" / "zephyr" / ".config").read_text()
    assert "CONFIG_AUDIO_MPXXDTYY=y" in config and "CONFIG_I2S_STM32=y" in config
    # the glue compiles warning-free with Zephyr's own flags plus -Wextra -Werror
    build = root / "build"
    commands = subprocess.run(["ninja", "-C", str(build), "-t", "commands"], capture_output=True, text=True,
                              check=True).stdout.splitlines()
    for name in ("mcf_source_zephyr_dmic.c", "mcf_sensor.c", "mcf_sensor_host.c", "mcf_mfcc.c"):
        cmd = next(c for c in commands if c.rstrip().endswith(f"app/{name}"))
        proc = subprocess.run(cmd + " -Wextra -Werror", shell=True, cwd=build, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.zephyr
@_needs_zephyr("cmsis_6", "hal_nordic")
def test_zephyr_dmic_glue_builds_for_nano_33_ble_sense(kws: Path, tmp_path: Path) -> None:
    root = tmp_path / "nano"
    new_project(root, kws, "arduino_nano_33_ble", framework="zephyr", sensor="microphone")
    res = build_project(root)
    nm = subprocess.run(["arm-none-eabi-nm", "-C", str(res.elf)], capture_output=True, text=True, check=True).stdout
    assert "mcf_audio_thread" in nm and "dmic_nrfx_pdm" in nm


# ---- Arduino mbed core -----------------------------------------------------------------------------


def _recipe(core: Path, variant: str) -> list[str]:
    """The compile flags of the core's platform.txt (recipe.cpp.o.pattern, nano33ble in boards.txt)."""
    vdir = core / "variants" / variant
    arduino = core / "cores" / "arduino"
    return ["-c", "-Wall", "-Wextra", "-g3", "-nostdlib", f"@{vdir / 'defines.txt'}", f"@{vdir / 'cxxflags.txt'}",
            "-DARDUINO_ARCH_NRF52840", "-mcpu=cortex-m4", "-mfloat-abi=softfp", "-mfpu=fpv4-sp-d16",
            "-DARDUINO=10819", "-DARDUINO_ARDUINO_NANO33BLE", "-DARDUINO_ARCH_MBED", f"-I{arduino}", f"-I{vdir}",
            f"-I{arduino / 'api' / 'deprecated'}", f"-I{arduino / 'api' / 'deprecated-avr-comp'}",
            f"-iprefix{arduino}", f"@{vdir / 'includes.txt'}"]


def test_arduino_pdm_source_compiles_against_the_mbed_core(kws: Path, tmp_path: Path) -> None:
    value = os.environ.get(MBED_ENV)
    core = Path(value) if value else None
    if core is None or not (core / "libraries" / "PDM" / "src" / "PDM.h").is_file():
        pytest.skip(f"{MBED_ENV} does not name a checkout of github.com/arduino/ArduinoCore-mbed")
    if not (core / "variants" / "ARDUINO_NANO33BLE" / "cxxflags.txt").is_file():
        pytest.skip(f"{core} has no variants/ARDUINO_NANO33BLE")
    if not (core / "cores" / "arduino" / "api" / "ArduinoAPI.h").is_file():
        pytest.skip(f"{core}/cores/arduino/api is missing: copy github.com/arduino/ArduinoCore-API's api/ there")
    cxx = shutil.which("arm-none-eabi-g++")
    if cxx is None:
        pytest.skip("needs arm-none-eabi-g++")
    root = tmp_path / "nano"
    new_project(root, kws, "arduino_nano_33_ble", framework="platformio", sensor="microphone")
    app = _app(root, "platformio")
    obj = tmp_path / "pdm.o"
    cmd = [cxx, *_recipe(core, "ARDUINO_NANO33BLE"), "-Werror", "-I", str(core / "libraries" / "PDM" / "src"),
           "-I", str(app), "-I", str(app.parent / "include"), str(app / "mcf_source_arduino_pdm.cpp"), "-o", str(obj)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=core)
    assert proc.returncode == 0, proc.stderr[-3000:]
    nm = subprocess.run(["arm-none-eabi-nm", "-C", str(obj)], capture_output=True, text=True, check=True).stdout
    for sym in ("PDMClass::begin", "PDMClass::onReceive", "PDMClass::read", "PDMClass::available", "mcf_source_poll"):
        assert sym in nm, sym
