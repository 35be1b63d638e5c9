"""Live microphone capture: Zephyr's DMIC API and the Arduino PDM library feeding the audio pipeline
(ring → MFCC → int8 features → kws_ref_model).

Always run: the pipeline checks (one-line errors), the generated sources, prj.conf / app.overlay and
mcf_sensor_config.h, the Kconfig symbols against a list verified in Zephyr 4.3, and the FIFO between
the capture context and the main loop (compiled and run on the host).

Need the real tools, and skip saying so otherwise:

* ZEPHYR_BASE (see tests/test_project_zephyr.py) with cmsis_6, hal_stm32 and hal_st (the mpxxdtyy
  driver's OpenPDMFilter): the glue builds for 96b_argonkey (MP34DT05 on I2S5, st,mpxxdtyy) and links
  the driver; the Kconfig symbols exist in that tree. The nRF boards (arduino_nano_33_ble's
  nordic,nrf-pdm) need hal_nordic. disco_l475_iot1's MP34DT01 on DFSDM1 (no Zephyr driver: mcuforge's
  STM32Cube HAL source) needs hal_stm32: it builds and links the HAL's DFSDM and DMA modules, its DMA
  interrupt is in the ISR table, and the board file's pins match hal_stm32's pin data. Nothing here
  runs the DFSDM source: no board is attached and QEMU emulates no STM32L4.
* MCUFORGE_ARDUINO_MBED_DIR (a checkout of github.com/arduino/ArduinoCore-mbed with
  ArduinoCore-API's api/ in cores/arduino/api, as its README says) and arm-none-eabi-g++:
  mcf_source_arduino_pdm.cpp compiles (-Wall -Wextra -Werror) against the real PDM.h, Arduino.h and
  mbed headers with the flags of the core's platform.txt recipe for nano33ble (no link: the
  variant's prebuilt libmbed.a is not needed to compile). tests/test_sensor_camera.py compiles
  mcf_source_arduino_camera.cpp the same way for NICLA_VISION: the checkout then also needs
  variants/NICLA_VISION and libraries/Camera, GC2145 and Wire.
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
from mcuforge.generator.sensor.microphone import (
    DFSDM_KCONFIG_SYMBOLS,
    KCONFIG_SYMBOLS,
    CaptureError,
    capture_plan,
    dfsdm_plan,
)
from mcuforge.generator.sensor.pipeline import SensorConfigError

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "runtime" / "sensor" / "sources"
MBED_ENV = "MCUFORGE_ARDUINO_MBED_DIR"

#: Kconfig symbols verified in Zephyr 4.3 (zephyr/drivers/audio/Kconfig: `menuconfig AUDIO`,
#: `menuconfig AUDIO_DMIC`; Kconfig.dmic_pdm_nrfx: `config AUDIO_DMIC_NRFX_PDM`; Kconfig.mpxxdtyy:
#: `config AUDIO_MPXXDTYY`; kernel/Kconfig: `config NUM_COOP_PRIORITIES`; arch/Kconfig: `config FPU`,
#: `config FPU_SHARING`) - what prj.conf and the sources may name.
VERIFIED_KCONFIG = {"AUDIO", "AUDIO_DMIC", "AUDIO_DMIC_NRFX_PDM", "AUDIO_MPXXDTYY", "NUM_COOP_PRIORITIES",
                    "SERIAL", "CONSOLE", "UART_CONSOLE", "PRINTK", "LOG", "MAIN_STACK_SIZE", "FPU", "FPU_SHARING"}
#: The DFSDM source's symbols, verified in Zephyr 4.3: modules/Kconfig.stm32 (`config USE_STM32_HAL_DFSDM`,
#: `config USE_STM32_HAL_DMA`, both without a prompt), soc/st/stm32/stm32l4x/Kconfig (`config
#: SOC_SERIES_STM32L4X`), drivers/dma/Kconfig (`menuconfig DMA`) and Kconfig.stm32 (`config DMA_STM32`),
#: drivers/pinctrl/Kconfig
#: (`menuconfig PINCTRL`); MCF_AUDIO_STM32_DFSDM is the project's own (the model folder's Kconfig).
VERIFIED_DFSDM_KCONFIG = {"USE_STM32_HAL_DFSDM", "USE_STM32_HAL_DMA", "SOC_SERIES_STM32L4X", "DMA", "DMA_STM32",
                          "PINCTRL"}
#: MP34DT01-M datasheet: PDM clock 1 to 3.25 MHz, duty cycle 40-60 %.
MP34DT01_CLOCK = (1_000_000, 3_250_000)


@pytest.fixture(scope="module")
def kws(models_dir: Path) -> Path:
    return models_dir / "kws_ref_model.tflite"


def _app(root: Path, framework: str) -> Path:
    """The sources of the generated app/ (PlatformIO's library keeps them in src/, headers in include/)."""
    return root / ("mcuforge_model/app" if framework == "zephyr" else "lib/mcuforge_model/src/app")


def _headers(root: Path, framework: str) -> Path:
    return _app(root, framework) if framework == "zephyr" else root / "lib/mcuforge_model/include"


# ---- generation (always) ---------------------------------------------------------------------------


def _module_symbols(root: Path) -> set[str]:
    """The options the generated Zephyr module defines (mcuforge_model/Kconfig)."""
    return set(re.findall(r"^(?:menu)?config ([A-Z0-9_]+)$", (root / "mcuforge_model" / "Kconfig").read_text(), re.M))


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
    assert symbols <= VERIFIED_KCONFIG | _module_symbols(root), symbols - VERIFIED_KCONFIG
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
    inc = _headers(root, "platformio")
    assert (app / "mcf_source_arduino_pdm.cpp").is_file() and (inc / "mcf_audio_fifo.h").is_file()
    assert not (app / "mcf_source_arduino.cpp").exists()
    config = (inc / "mcf_sensor_config.h").read_text()
    assert "#define MCF_ARDUINO_LIB MCF_ARDUINO_PDM\n" in config
    assert "#define MCF_AUDIO_PDM_BUFFER_BYTES 512u " in config and "#define MCF_AUDIO_RATE_HZ 16000u\n" in config
    src = (app / "mcf_source_arduino_pdm.cpp").read_text()
    for call in ("#include <PDM.h>", "PDM.onReceive(on_pdm)", "PDM.setBufferSize(MCF_AUDIO_PDM_BUFFER_BYTES)",
                 "PDM.begin(1, MCF_AUDIO_RATE_HZ)", "PDM.available()", "PDM.read(isr_block, (size_t)n)"):
        assert call in src, call
    assert "malloc" not in src.replace("realloc()", "")


# ---- STM32 DFSDM (disco_l475_iot1's MP34DT01; always) ---------------------------------------------


@pytest.mark.parametrize("rate", [8000, 16000, 32000])
def test_dfsdm_plan_within_the_parts_and_the_peripherals_ranges(rate: int) -> None:
    d = dfsdm_plan(rate, 80_000_000, MP34DT01_CLOCK, "mp34dt01")
    # exact rate from the 80 MHz system clock: kernel / (divider x FOSR)
    assert d.kernel_clock_hz == d.divider * d.fosr * rate
    # CKOUT divider 2..256 (CKOUTDIV), even: 50 % duty cycle, inside the MP34DT01's 40-60 %
    assert 2 <= d.divider <= 256 and d.divider % 2 == 0
    # PDM clock inside the MP34DT01-M datasheet's 1-3.25 MHz
    assert MP34DT01_CLOCK[0] <= d.pdm_clock_hz <= MP34DT01_CLOCK[1]
    # Sinc3 with FOSR 1..1024 (RM0351; IS_DFSDM_FILTER_OVS_RATIO); full scale FOSR^3 fits the 32-bit
    # filter, and after the right shift (0..31, DTRBS) int16, with the smallest such shift
    assert d.order == 3 and 1 <= d.fosr <= 1024 and d.full_scale == d.fosr ** 3 < 2 ** 31
    assert 0 <= d.shift <= 31 and d.pcm_full_scale <= 32767 < (d.full_scale >> (d.shift - 1) if d.shift else 1 << 30)
    assert d.pcm_full_scale < 1 << 23  # the 24-bit data register


def test_dfsdm_plan_for_16khz() -> None:
    d = dfsdm_plan(16000, 80_000_000, MP34DT01_CLOCK, "mp34dt01")
    # 80 MHz / 40 = 2 MHz PDM clock, / 125 = 16 kHz; 125^3 = 1,953,125 >> 6 = 30,517
    assert (d.divider, d.fosr, d.order, d.shift) == (40, 125, 3, 6)
    assert d.pdm_clock_hz == 2_000_000 and d.pcm_full_scale == 30517
    # the largest oversampling wins: 50 x 100 (1.6 MHz) also gives 16 kHz exactly
    assert 80_000_000 // (50 * 16000) == 100 < d.fosr
    for rate in (44100, 48000, 11025):
        with pytest.raises(CaptureError, match=f"cannot make exactly {rate} Hz"):
            dfsdm_plan(rate, 80_000_000, MP34DT01_CLOCK, "mp34dt01")
    # a PDM clock range the divider cannot reach
    with pytest.raises(CaptureError, match=r"within the x's 3\.3-3\.4 MHz"):
        dfsdm_plan(16000, 80_000_000, (3_300_000, 3_400_000), "x")


def test_zephyr_dfsdm_project(kws: Path, tmp_path: Path) -> None:
    root = tmp_path / "disco"
    p = new_project(root, kws, "disco_l475_iot1", framework="zephyr", sensor="microphone")
    pipe = p.pipeline
    assert pipe is not None and pipe.source == "board" and pipe.sensor is not None and pipe.sensor.dfsdm is not None
    assert (pipe.rate_hz, pipe.window, pipe.hop, pipe.feature_params) == (16000.0, 16000, 8000, {"kind": "mfcc"})
    app = _app(root, "zephyr")
    assert (app / "mcf_source_stm32_dfsdm.c").is_file() and (app / "mcf_audio_fifo.h").is_file()
    assert not (app / "mcf_source_zephyr_dmic.c").exists() and not (app / "mcf_source_zephyr.c").exists()
    # the board file's wiring and microphone.py's settings, as macros
    config = (app / "mcf_sensor_config.h").read_text()
    for line in ("#define MCF_AUDIO_RATE_HZ 16000u", "#define MCF_AUDIO_BLOCK_SAMPLES 160u ",
                 "#define MCF_DFSDM_CHANNEL DFSDM1_Channel2", "#define MCF_DFSDM_CHANNEL_NUMBER DFSDM_CHANNEL_2",
                 "#define MCF_DFSDM_FILTER DFSDM1_Filter0", "#define MCF_DFSDM_SPI_EDGE DFSDM_CHANNEL_SPI_FALLING ",
                 "#define MCF_DFSDM_KERNEL_CLOCK_HZ 80000000u", "#define MCF_DFSDM_CLOCK_DIVIDER 40u",
                 "#define MCF_DFSDM_SINC_ORDER DFSDM_FILTER_SINC3_ORDER", "#define MCF_DFSDM_FOSR 125u",
                 "#define MCF_DFSDM_RIGHT_SHIFT 6u", "#define MCF_DFSDM_PIN_CKOUT STM32_PINMUX('E', 9, AF6)",
                 "#define MCF_DFSDM_PIN_DATIN STM32_PINMUX('E', 7, AF6)", "#define MCF_DFSDM_DMA_CHANNEL DMA1_Channel4",
                 "#define MCF_DFSDM_DMA_REQUEST DMA_REQUEST_0", "#define MCF_DFSDM_DMA_IRQN DMA1_Channel4_IRQn"):
        assert line in config, line
    # prj.conf: the project's own option only (it selects the HAL modules); no DMIC API
    conf = (root / "prj.conf").read_text()
    assert "CONFIG_MCF_AUDIO_STM32_DFSDM=y\n" in conf and "CONFIG_AUDIO" not in conf
    symbols = set(re.findall(r"^CONFIG_([A-Z0-9_]+)=", conf, re.M))
    assert symbols <= VERIFIED_KCONFIG | _module_symbols(root), symbols
    kconfig = (root / "mcuforge_model" / "Kconfig").read_text()
    assert "config MCF_AUDIO_STM32_DFSDM\n" in kconfig
    for line in ("depends on SOC_SERIES_STM32L4X", "select USE_STM32_HAL_DFSDM", "select USE_STM32_HAL_DMA"):
        assert f"\t{line}\n" in kconfig, line
    dfsdm_block = kconfig[kconfig.index("config MCF_AUDIO_STM32_DFSDM\n"):]
    used = set(re.findall(r"\b(?:depends on|select) ([A-Z0-9_]+)", dfsdm_block))
    assert used <= set(DFSDM_KCONFIG_SYMBOLS) <= VERIFIED_DFSDM_KCONFIG
    # the model folder is a Zephyr module whose Kconfig Zephyr reads (zephyr/module.yml)
    assert "kconfig: Kconfig" in (root / "mcuforge_model" / "zephyr" / "module.yml").read_text()
    assert "DFSDM" in (root / "app.overlay").read_text()
    # the source: the STM32Cube HAL calls (stm32l4xx_hal_dfsdm.h, stm32l4xx_hal_dma.h) and Zephyr's IRQ API
    src = (app / "mcf_source_stm32_dfsdm.c").read_text()
    for call in ("#include <stm32l4xx_hal.h>", "__HAL_RCC_DFSDM1_CONFIG(RCC_DFSDM1CLKSOURCE_SYSCLK)",
                 "__HAL_RCC_DFSDM1_CLK_ENABLE()", "HAL_DFSDM_ChannelInit(&mic_channel)",
                 "DFSDM_CHANNEL_OUTPUT_CLOCK_SYSTEM", "DFSDM_CHANNEL_SAME_CHANNEL_PINS",
                 "DFSDM_CHANNEL_SPI_CLOCK_INTERNAL",
                 ".RightBitShift = MCF_DFSDM_RIGHT_SHIFT", "HAL_DMA_Init(&mic_dma)", "DMA_CIRCULAR",
                 "DMA_PDATAALIGN_WORD", "HAL_DFSDM_FilterInit(&mic_filter)", ".IntOversampling = 1",
                 "__HAL_LINKDMA(&mic_filter, hdmaReg, mic_dma)",
                 "HAL_DFSDM_FilterConfigRegChannel(&mic_filter, MCF_DFSDM_CHANNEL_NUMBER, DFSDM_CONTINUOUS_CONV_ON)",
                 "HAL_DFSDM_FilterRegularStart_DMA(&mic_filter, mcf_dfsdm_dma_buf, DMA_SAMPLES)",
                 "IRQ_CONNECT(MCF_DFSDM_DMA_IRQN, MCF_AUDIO_IRQ_PRIORITY, mcf_dfsdm_dma_isr, NULL, 0)",
                 "irq_enable(MCF_DFSDM_DMA_IRQN)", "HAL_DMA_IRQHandler(&mic_dma)",
                 "void HAL_DFSDM_FilterRegConvHalfCpltCallback(", "void HAL_DFSDM_FilterRegConvCpltCallback(",
                 "void HAL_DFSDM_FilterErrorCallback(", "pinctrl_configure_pins(mic_pins",
                 "mcf_audio_fifo_put(&mcf_audio_fifo_buf"):
        assert call in src, call
    # no wiring or rate in the C: it all comes from mcf_sensor_config.h
    for fact in ("DFSDM1_Channel", "DFSDM1_Filter", "DMA1_Channel", "'E'", "16000", "125", "80000000"):
        assert fact not in src, fact
    assert "malloc" not in src
    used_c = set(re.findall(r"CONFIG_([A-Z0-9_]+)", src))
    assert used_c <= VERIFIED_DFSDM_KCONFIG | {"MCF_AUDIO_STM32_DFSDM"}, used_c
    # RAM: the FIFO, both DMA halves (int32) and the int16 block
    plan = capture_plan(pipe.sensor, "zephyr", 16000.0, ["audio"], 80_000_000)
    assert plan.dfsdm is not None and plan.ram_bytes >= 2 * 4096 + 2 * 4 * 160 + 2 * 160
    assert pipe.ram_bytes > pipe.ring_bytes + plan.ram_bytes


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
    mfcc = {"kind": "mfcc"}
    msg = _err(kws, tmp_path, "disco_l475_iot1", "zephyr", rate_hz=48000.0, window=48000, features=mfcc)
    assert "the DFSDM cannot make exactly 48000 Hz from its 80 MHz clock" in msg
    msg = _err(kws, tmp_path, "disco_l475_iot1", "zephyr", rate_hz=44100.0, window=44100, features=mfcc)
    assert "cannot make exactly 44100 Hz" in msg and "mp34dt01's 1-3.25 MHz" in msg
    assert "no Arduino source for the mp34dt01" in _err(kws, tmp_path, "disco_l475_iot1", "platformio")
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
                           str(kws), "--board", "nrf52840dk", "--framework", "zephyr", "--sensor", "microphone"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
    assert any("board 'nrf52840dk' has no microphone" in ln for ln in lines), lines
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


@pytest.mark.slow
@pytest.mark.zephyr
@_needs_zephyr("cmsis_6", "hal_nordic")
def test_zephyr_dmic_glue_builds_for_nrf52840dk_with_an_external_microphone(
        kws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """nrf52840dk has no microphone: examples/boards/ describes one wired to it (a user board file) and
    its overlay routes &pdm0 to the pins; the DMIC source then builds against dmic_nrfx_pdm."""
    monkeypatch.setenv("MCUFORGE_BOARD_PATH", str(REPO / "examples" / "boards"))
    root = tmp_path / "nrfmic"
    new_project(root, kws, "nrf52840dk_pdm_mic", framework="zephyr", sensor="microphone")
    shutil.copy(REPO / "examples" / "boards" / "nrf52840dk_pdm_mic.overlay", root / "app.overlay")
    res = build_project(root)
    nm = subprocess.run(["arm-none-eabi-nm", "-C", str(res.elf)], capture_output=True, text=True, check=True).stdout
    for sym in ("dmic_nrfx_pdm_configure", "dmic_nrfx_pdm_read", "mcf_audio_thread", "mcf_mfcc_clip_ring_s16"):
        assert sym in nm, sym
    assert "CONFIG_AUDIO_DMIC_NRFX_PDM=y" in (root / "build" / "zephyr" / ".config").read_text()


def _hal_stm32() -> Path | None:
    """The hal_stm32 module a build would use (EXTRA_ZEPHYR_MODULES or the workspace's modules/)."""
    ws = west_workspace({"ZEPHYR_BASE": os.environ["ZEPHYR_BASE"]})
    dirs = [Path(d) for d in os.environ.get("EXTRA_ZEPHYR_MODULES", "").split(";") if d]
    dirs += [y.parent.parent for y in ws.glob("modules/**/zephyr/module.yml")]
    for d in dirs:
        if (d / "stm32cube" / "stm32l4xx").is_dir():
            return d
    return None


@pytest.mark.zephyr
@_needs_zephyr("hal_stm32")
def test_dfsdm_facts_in_the_tree() -> None:
    zephyr = Path(os.environ["ZEPHYR_BASE"])
    text = "\n".join(p.read_text(errors="replace") for p in [
        zephyr / "modules" / "Kconfig.stm32", zephyr / "soc" / "st" / "stm32" / "stm32l4x" / "Kconfig",
        zephyr / "drivers" / "dma" / "Kconfig", zephyr / "drivers" / "dma" / "Kconfig.stm32",
        zephyr / "drivers" / "pinctrl" / "Kconfig"])
    for sym in VERIFIED_DFSDM_KCONFIG:
        assert re.search(rf"^(menu)?config {sym}$", text, re.M), sym
    # no prompt: prj.conf cannot set them, an option must select them
    for sym in ("USE_STM32_HAL_DFSDM", "USE_STM32_HAL_DMA"):
        assert re.search(rf"^config {sym}\n\tbool\n", text, re.M), sym
    # Zephyr has no DFSDM audio driver nor devicetree node for the board
    assert not list(zephyr.glob("drivers/audio/*dfsdm*"))
    assert "dfsdm" not in (zephyr / "boards" / "st" / "disco_l475_iot1" / "disco_l475_iot1.dts").read_text()
    assert "clock-frequency = <DT_FREQ_M(80)>;" in (
        zephyr / "boards" / "st" / "disco_l475_iot1" / "disco_l475_iot1.dts").read_text()
    hal = _hal_stm32()
    assert hal is not None
    cmake = (hal / "stm32cube" / "stm32l4xx" / "CMakeLists.txt").read_text()
    assert "zephyr_library_sources_ifdef(CONFIG_USE_STM32_HAL_DFSDM drivers/src/stm32l4xx_hal_dfsdm.c)" in cmake
    assert "zephyr_library_sources_ifdef(CONFIG_USE_STM32_HAL_DMA drivers/src/stm32l4xx_hal_dma.c)" in cmake
    # the board file's pins are ST's: hal_stm32's pin data for the STM32L475VG (genpinctrl from ST's
    # open pin data)
    pins = (hal / "dts" / "st" / "l4" / "stm32l475v(c-e-g)tx-pinctrl.dtsi").read_text()
    assert re.search(r"dfsdm1_ckout_pe9: dfsdm1_ckout_pe9 \{\s*pinmux = <STM32_PINMUX\('E', 9, AF6\)>", pins)
    assert re.search(r"dfsdm1_datin2_pe7: dfsdm1_datin2_pe7 \{\s*pinmux = <STM32_PINMUX\('E', 7, AF6\)>", pins)
    device = (hal / "stm32cube" / "stm32l4xx" / "soc" / "stm32l475xx.h").read_text()
    assert re.search(r"DMA1_Channel4_IRQn\s+= 14,", device)
    header = (hal / "stm32cube" / "stm32l4xx" / "drivers" / "include" / "stm32l4xx_hal_dfsdm.h").read_text()
    assert "#define IS_DFSDM_CHANNEL_OUTPUT_CLOCK_DIVIDER(DIVIDER) ((2U <= (DIVIDER)) && ((DIVIDER) <= 256U))" in header
    assert "#define IS_DFSDM_FILTER_OVS_RATIO(RATIO)               ((1U <= (RATIO)) && ((RATIO) <= 1024U))" in header
    assert "#define IS_DFSDM_CHANNEL_RIGHT_BIT_SHIFT(VALUE)        ((VALUE) <= 0x1FU)" in header


def _isr_table(elf: Path) -> dict[int, str]:
    """IRQ number -> ISR name, from Zephyr's _sw_isr_table in the ELF."""
    import struct

    from elftools.elf.elffile import ELFFile

    with elf.open("rb") as fh:
        f = ELFFile(fh)
        symtab = f.get_section_by_name(".symtab")
        names = {s["st_value"] & ~1: s.name for s in symtab.iter_symbols() if s["st_info"]["type"] == "STT_FUNC"}
        table = next(s for s in symtab.iter_symbols() if s.name == "_sw_isr_table")
        addr, size = table["st_value"], table["st_size"]
        sec = next(s for s in f.iter_sections() if s["sh_addr"] <= addr < s["sh_addr"] + s["sh_size"])
        data = sec.data()[addr - sec["sh_addr"]:addr - sec["sh_addr"] + size]
    return {i: names.get(struct.unpack_from("<II", data, 8 * i)[1] & ~1, "?") for i in range(size // 8)}


@pytest.mark.slow
@pytest.mark.zephyr
@_needs_zephyr("cmsis_6", "hal_stm32")
def test_zephyr_dfsdm_glue_builds_for_disco_l475_iot1(kws: Path, tmp_path: Path) -> None:
    root = tmp_path / "disco"
    new_project(root, kws, "disco_l475_iot1", framework="zephyr", sensor="microphone")
    res = build_project(root)
    nm = subprocess.run(["arm-none-eabi-nm", "-C", str(res.elf)], capture_output=True, text=True, check=True).stdout
    for sym in ("HAL_DFSDM_ChannelInit", "HAL_DFSDM_FilterInit", "HAL_DFSDM_FilterRegularStart_DMA", "HAL_DMA_Init",
                "HAL_DMA_IRQHandler", "HAL_DFSDM_FilterRegConvHalfCpltCallback", "mcf_dfsdm_dma_isr",
                "mcf_dfsdm_dma_buf", "mcf_audio_fifo_buf", "mcf_mfcc_clip_ring_s16", "mcf_source_poll"):
        assert sym in nm, sym
    config = (root / "build" / "zephyr" / ".config").read_text()
    for line in ("CONFIG_MCF_AUDIO_STM32_DFSDM=y", "CONFIG_USE_STM32_HAL_DFSDM=y", "CONFIG_USE_STM32_HAL_DMA=y",
                 "CONFIG_PINCTRL=y", "# CONFIG_DMA is not set"):
        assert line in config, line
    # the DMA channel's interrupt (DMA1_Channel4_IRQn = 14) is ours, through IRQ_CONNECT
    assert _isr_table(res.elf)[14] == "mcf_dfsdm_dma_isr"
    assert res.report.symbols["sensor"].region == "sram1"
    # the glue compiles warning-free with Zephyr's own flags plus -Wall -Wextra -Werror
    build = root / "build"
    commands = subprocess.run(["ninja", "-C", str(build), "-t", "commands"], capture_output=True, text=True,
                              check=True).stdout.splitlines()
    for name in ("mcf_source_stm32_dfsdm.c", "mcf_sensor.c", "mcf_sensor_host.c", "mcf_mfcc.c"):
        cmd = next(c for c in commands if c.rstrip().endswith(f"app/{name}"))
        proc = subprocess.run(cmd + " -Wall -Wextra -Werror", shell=True, cwd=build, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-2000:]


# ---- Arduino mbed core -----------------------------------------------------------------------------


#: boards.txt of ArduinoCore-mbed: build.arch, build.mcu, build.fpu, build.float-abi and build.board
#: of each variant the tests compile for (nano33ble; nicla_vision with target_core cm7).
_VARIANT_FLAGS = {
    "ARDUINO_NANO33BLE": ["-DARDUINO_ARCH_NRF52840", "-mcpu=cortex-m4", "-mfloat-abi=softfp", "-mfpu=fpv4-sp-d16",
                          "-DARDUINO_ARDUINO_NANO33BLE"],
    "NICLA_VISION": ["-DARDUINO_ARCH_MBED_NICLA", "-mcpu=cortex-m7", "-mfloat-abi=softfp", "-mfpu=fpv5-d16",
                     "-DARDUINO_NICLA_VISION"],
}


def _recipe(core: Path, variant: str) -> list[str]:
    """The compile flags of the core's platform.txt (recipe.cpp.o.pattern) for a variant of boards.txt."""
    vdir = core / "variants" / variant
    arduino = core / "cores" / "arduino"
    return ["-c", "-Wall", "-Wextra", "-g3", "-nostdlib", f"@{vdir / 'defines.txt'}", f"@{vdir / 'cxxflags.txt'}",
            *_VARIANT_FLAGS[variant], "-DARDUINO=10819", "-DARDUINO_ARCH_MBED", f"-I{arduino}", f"-I{vdir}",
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
           "-I", str(app), "-I", str(_headers(root, "platformio")), str(app / "mcf_source_arduino_pdm.cpp"),
           "-o", str(obj)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=core)
    assert proc.returncode == 0, proc.stderr[-3000:]
    nm = subprocess.run(["arm-none-eabi-nm", "-C", str(obj)], capture_output=True, text=True, check=True).stdout
    for sym in ("PDMClass::begin", "PDMClass::onReceive", "PDMClass::read", "PDMClass::available", "mcf_source_poll"):
        assert sym in nm, sym
