"""Live microphone capture: what the generated sources need to know, and the checks that keep a
pipeline within what the driver and the part can do.

Two sources feed the same pipeline (ring buffer → MCF_SENSOR_FEATURE e.g. MFCC → int8 input):

* Zephyr's DMIC API (``runtime/sensor/sources/mcf_source_zephyr_dmic.c``): ``dmic_configure`` with
  one 16-bit mono stream, ``dmic_trigger(DMIC_TRIGGER_START)``, a capture thread in ``dmic_read``
  that copies each ``k_mem_slab`` block into a FIFO and frees it.
* the PDM library of Arduino's mbed cores (``runtime/sensor/sources/mcf_source_arduino_pdm.cpp``):
  ``PDM.onReceive`` (interrupt context) → the same FIFO; ``PDM.begin(1, rate)``.

The FIFO (``mcf_audio_fifo.h``) holds at least `FIFO_SECONDS` of audio: the time the main loop may
spend building a window (the MFCC of a whole clip) and running the model before blocks are dropped.

Facts and where they come from (Zephyr 4.3, ArduinoCore-mbed 4.x):

* ``drivers/audio/mpxxdtyy.c``/``mpxxdtyy-i2s.c`` (``st,mpxxdtyy`` on an I2S bus): decimation 64 or
  128, the first whose PDM clock ``rate × factor`` lies within the clock limits the application
  passes; the I2S side uses blocks of 512 bytes (``PDM_BLOCK_MAX_SIZE_BYTES``, 4 of them), and one
  PCM block becomes ``block_size × factor / 16`` PDM bytes, so a PCM block is at most
  ``512 × 16 / factor`` bytes. The PDM-to-PCM filter (hal_st's OpenPDMFilter) runs inside
  ``dmic_read``, in the capture thread.
* ``drivers/audio/dmic_nrfx_pdm.c`` (``nordic,nrf-pdm``): blocks of any size from the slab; the
  driver picks the PDM clock and ratio (64 or 80 on the nRF52840) nearest the rate within the clock
  limits (``find_suitable_clock``; 16 kHz is exact: 1.28 MHz / 80) and fails ``dmic_configure`` when
  none fits.
* ``libraries/PDM/src/nrf52/PDM.cpp``: ``begin()`` accepts 16000 and 41667 Hz, 1 or 2 channels; a
  double buffer of ``setBufferSize()`` bytes per half (512 by default); if a half is still unread at
  the next swap, the library disables the peripheral for good.
* PDM clock limits of the parts: MP34DT01-M and MP34DT05-A datasheets, 1.2 (MP34DT01: 1) to
  3.25 MHz; the same limits as Zephyr's ``MPXXDTYY_MIN/MAX_PDM_FREQ``.

A third source drives an STM32 **DFSDM** directly (``runtime/sensor/sources/mcf_source_stm32_dfsdm.c``),
because Zephyr 4.3 has no DFSDM audio driver (disco_l475_iot1's MP34DT01): the STM32Cube HAL that
Zephyr ships (hal_stm32, ``stm32l4xx_hal_dfsdm.c`` and ``stm32l4xx_hal_dma.c``, compiled when
``USE_STM32_HAL_DFSDM`` / ``USE_STM32_HAL_DMA`` are selected, modules/Kconfig.stm32). `dfsdm_plan`
derives its settings; facts (RM0351, DFSDM chapter; stm32l4xx_hal_dfsdm.h's IS_DFSDM_* checks):

* the PDM clock CKOUT is the DFSDM kernel clock (here the system clock, ``DFSDM1SEL``) divided by
  2..256; an even divider gives a 50 % duty cycle (the MP34DT01 asks for 40-60 %);
* a Sinc^N filter decimating by FOSR (1..1024 for N <= 3) outputs ``±FOSR^N`` for a full-scale PDM
  stream (integrator bypassed, IOSR 1); the result register keeps 24 bits, after a right shift of
  0..31 (``DTRBS``), so ``FOSR^N >> shift <= 32767`` makes full scale fit int16 without saturation;
* sample rate = kernel clock / (divider × FOSR): the plan takes the exact rate, the largest FOSR
  (best anti-alias rejection of the sinc) with an even divider and the PDM clock inside the part's
  limits; e.g. 80 MHz / (40 × 125) = 16 kHz, PDM clock 2 MHz, Sinc3, shift 6 (125³ = 1,953,125
  → 30,517). ST's own BSP for the board takes 16 kHz from the SAI PLL instead (49.152 MHz / 24,
  FOSR 128, shift 3, saturating): mcuforge leaves the PLLs to Zephyr's clock control.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..boards import Sensor

__all__ = ["ARDUINO_PDM_LIBRARY", "DFSDM_KCONFIG_SYMBOLS", "DMIC_DRIVERS", "FIFO_SECONDS", "KCONFIG_SYMBOLS",
           "Capture", "DfsdmPlan", "capture_plan", "dfsdm_plan"]

#: Seconds of audio the FIFO between the capture context and the main loop holds.
FIFO_SECONDS = 0.25
#: Blocks in the DMIC slab (the capture thread frees each one as soon as it is copied).
SLAB_BLOCKS = 4
#: The Arduino PDM library's buffer (bytes per half of its double buffer), its default.
ARDUINO_PDM_BUFFER_BYTES = 512
#: The library name a board YAML gives for the microphone of an Arduino mbed core.
ARDUINO_PDM_LIBRARY = "PDM"
#: Rates the nRF52 implementation of PDM.begin() accepts (others return 0).
ARDUINO_PDM_RATES = (16000, 41667)

#: Kconfig symbols the generated prj.conf and the sources use, each checked to exist in Zephyr 4.3
#: (drivers/audio/Kconfig, Kconfig.dmic_pdm_nrfx, Kconfig.mpxxdtyy; kernel/Kconfig).
KCONFIG_SYMBOLS = ("AUDIO", "AUDIO_DMIC", "AUDIO_DMIC_NRFX_PDM", "AUDIO_MPXXDTYY", "NUM_COOP_PRIORITIES")

#: Kconfig symbols of the DFSDM source, each checked to exist in Zephyr 4.3: modules/Kconfig.stm32
#: (``config USE_STM32_HAL_DFSDM``, ``config USE_STM32_HAL_DMA``: no prompt, so the project's Kconfig
#: option MCF_AUDIO_STM32_DFSDM selects them), soc/st/stm32/stm32l4x/Kconfig (``SOC_SERIES_STM32L4X``),
#: drivers/dma/Kconfig (``DMA``) and Kconfig.stm32 (``DMA_STM32``, which must stay off: its driver owns
#: DMA1's interrupts), drivers/pinctrl/Kconfig (``PINCTRL``).
DFSDM_KCONFIG_SYMBOLS = ("USE_STM32_HAL_DFSDM", "USE_STM32_HAL_DMA", "SOC_SERIES_STM32L4X", "DMA", "DMA_STM32",
                         "PINCTRL")
#: The project's own option (the generated Kconfig of the model folder) that selects the HAL modules.
DFSDM_OPTION = "MCF_AUDIO_STM32_DFSDM"
#: DFSDM limits (RM0351; stm32l4xx_hal_dfsdm.h IS_DFSDM_CHANNEL_OUTPUT_CLOCK_DIVIDER,
#: IS_DFSDM_FILTER_OVS_RATIO, IS_DFSDM_CHANNEL_RIGHT_BIT_SHIFT).
DFSDM_DIVIDER = (2, 256)
DFSDM_FOSR_MAX = 1024  # Sinc1..Sinc3 and FastSinc
DFSDM_SINC_ORDER = 3
DFSDM_SHIFT_MAX = 31
DFSDM_DATA_BITS = 24
#: Samples per DMA half-buffer: one half-transfer or transfer-complete interrupt every 10 ms at 16 kHz.
DFSDM_BLOCK_MS = 10

#: PDM clock limits (Hz) per microphone part (datasheets); parts not listed get DEFAULT_PDM_CLOCK.
PDM_CLOCK: dict[str, tuple[int, int]] = {"mp34dt05": (1_200_000, 3_250_000), "mp34dt01": (1_000_000, 3_250_000)}
DEFAULT_PDM_CLOCK = (1_200_000, 3_250_000)


@dataclass(frozen=True)
class DmicDriver:
    """A Zephyr DMIC driver mcuforge knows the limits of."""

    kconfig: str  # the driver's Kconfig symbol (enabled by the devicetree node)
    source: str  # where the facts come from


DMIC_DRIVERS: dict[str, DmicDriver] = {
    "nordic,nrf-pdm": DmicDriver("AUDIO_DMIC_NRFX_PDM", "drivers/audio/dmic_nrfx_pdm.c"),
    "st,mpxxdtyy": DmicDriver("AUDIO_MPXXDTYY", "drivers/audio/mpxxdtyy.c, mpxxdtyy-i2s.c"),
}


class CaptureError(ValueError):
    """The microphone cannot deliver this stream (one line; the pipeline reports it)."""


@dataclass(frozen=True)
class DfsdmPlan:
    """Settings of an STM32 DFSDM channel + filter for one PCM rate (see the module's docstring)."""

    kernel_clock_hz: int
    divider: int  # CKOUT = kernel clock / divider
    fosr: int  # sinc filter oversampling (decimation) ratio
    order: int  # sinc order
    shift: int  # channel right bit shift: full scale → at most 32767
    rate_hz: int

    @property
    def pdm_clock_hz(self) -> float:
        return self.kernel_clock_hz / self.divider

    @property
    def full_scale(self) -> int:
        """The filter's output for a full-scale PDM stream (±), before the shift."""
        return int(self.fosr ** self.order)

    @property
    def pcm_full_scale(self) -> int:
        return self.full_scale >> self.shift


def dfsdm_plan(rate: int, kernel_clock_hz: int, pdm_clock: tuple[int, int], part: str) -> DfsdmPlan:
    """The divider and oversampling giving exactly `rate` Hz from `kernel_clock_hz` with the PDM
    clock inside `pdm_clock`: the largest FOSR with an even divider (50 % duty cycle), Sinc3, and the
    smallest right shift that fits full scale into int16. Raises CaptureError (one line)."""
    lo, hi = pdm_clock
    best: tuple[int, int] | None = None
    for divider in range(DFSDM_DIVIDER[0], DFSDM_DIVIDER[1] + 1, 2):
        ck = kernel_clock_hz / divider
        if not lo <= ck <= hi or (kernel_clock_hz % (divider * rate)) != 0:
            continue
        fosr = kernel_clock_hz // (divider * rate)
        if 1 <= fosr <= DFSDM_FOSR_MAX and (best is None or fosr > best[1]):
            best = (divider, fosr)
    if best is None:
        raise CaptureError(f"the DFSDM cannot make exactly {rate} Hz from its {kernel_clock_hz / 1e6:g} MHz clock with "
                           f"an even divider (2-256), oversampling 1-{DFSDM_FOSR_MAX} and a PDM clock within the "
                           f"{part}'s {lo / 1e6:g}-{hi / 1e6:g} MHz")
    divider, fosr = best
    peak = fosr ** DFSDM_SINC_ORDER
    shift = 0
    while (peak >> shift) > 32767:
        shift += 1
    assert shift <= DFSDM_SHIFT_MAX and (peak >> shift) < (1 << (DFSDM_DATA_BITS - 1))
    return DfsdmPlan(kernel_clock_hz, divider, fosr, DFSDM_SINC_ORDER, shift, rate)


@dataclass(frozen=True)
class Capture:
    """How the generated source captures: rate, blocks, FIFO, clock limits."""

    rate_hz: int
    block_samples: int  # samples per DMIC block, or per half of the Arduino library's double buffer
    blocks: int  # DMIC slab blocks (0 on Arduino)
    fifo_samples: int  # power of two
    pdm_clock: tuple[int, int]
    framework: str
    decimation: int | None = None  # mpxxdtyy: the driver's decimation factor for this rate
    dfsdm: DfsdmPlan | None = None  # STM32 DFSDM source (no Zephyr driver)

    @property
    def ram_bytes(self) -> int:
        """Static RAM of the source: FIFO, slab or ISR block, counters, and the capture thread's
        stack on Zephyr (1 KiB); DFSDM: the circular DMA buffer (two halves of int32), one int16
        block converted in the interrupt, the HAL handles."""
        fifo = 2 * self.fifo_samples + 12
        if self.dfsdm is not None:
            return fifo + 2 * 4 * self.block_samples + 2 * self.block_samples + 256
        if self.framework == "zephyr":
            return fifo + 2 * self.block_samples * self.blocks + 1024 + 64
        return fifo + 2 * self.block_samples + 8

    def describe(self) -> str:
        if self.dfsdm is not None:
            d = self.dfsdm
            return (f"{self.rate_hz} Hz mono 16-bit, DFSDM: PDM clock {d.pdm_clock_hz / 1e6:g} MHz "
                    f"({d.kernel_clock_hz / 1e6:g} MHz / {d.divider}), Sinc{d.order} FOSR {d.fosr}, shift {d.shift}, "
                    f"DMA halves of {self.block_samples} samples, FIFO {self.fifo_samples} samples "
                    f"({1000 * self.fifo_samples / self.rate_hz:.0f} ms)")
        where = (f"{self.blocks} DMIC blocks of {self.block_samples} samples" if self.framework == "zephyr"
                 else f"PDM buffer {2 * self.block_samples} B per half")
        return (f"{self.rate_hz} Hz mono 16-bit, {where}, FIFO {self.fifo_samples} samples "
                f"({1000 * self.fifo_samples / self.rate_hz:.0f} ms)")


def _fifo_samples(rate: int) -> int:
    need = max(1, int(rate * FIFO_SECONDS + 0.999))
    return 1 << (need - 1).bit_length()


def capture_plan(sensor: Sensor, framework: str, rate_hz: float, channels: tuple[str, ...] | list[str],
                 clock_hz: int = 0) -> Capture:
    """Checks that the board's microphone can deliver `rate_hz` mono 16-bit PCM through the
    framework's source and returns how it will. `clock_hz`: the board's system clock (the DFSDM
    kernel clock). Raises CaptureError (one line)."""
    if list(channels) != ["audio"]:
        raise CaptureError(f"a microphone delivers one channel, audio (mono 16-bit PCM), not {', '.join(channels)}")
    if rate_hz != int(rate_hz):
        raise CaptureError(f"a microphone samples at a whole number of Hz, not {rate_hz:g}")
    rate = int(rate_hz)
    clock = PDM_CLOCK.get(sensor.part, DEFAULT_PDM_CLOCK)
    if framework == "platformio":
        if rate not in ARDUINO_PDM_RATES:
            raise CaptureError(f"the Arduino PDM library records at {' or '.join(map(str, ARDUINO_PDM_RATES))} Hz, "
                               f"not {rate:g} (PDM.begin refuses other rates)")
        return Capture(rate, ARDUINO_PDM_BUFFER_BYTES // 2, 0, _fifo_samples(rate), clock, framework)
    if sensor.dfsdm is not None:
        if clock_hz <= 0:
            raise CaptureError("the DFSDM source needs the board's system clock (clock_hz)")
        plan = dfsdm_plan(rate, clock_hz, clock, sensor.part)
        block = max(1, rate * DFSDM_BLOCK_MS // 1000)
        return Capture(rate, block, 0, _fifo_samples(rate), clock, framework, plan.fosr, plan)
    assert sensor.zephyr is not None
    driver = sensor.zephyr.compatible
    if driver not in DMIC_DRIVERS:
        raise CaptureError(f"no DMIC source for the {sensor.part} ({driver}); mcuforge knows the drivers "
                           f"{', '.join(sorted(DMIC_DRIVERS))}")
    lo, hi = clock
    if driver == "st,mpxxdtyy":
        factors = [f for f in (64, 128) if lo <= rate * f <= hi]
        if not factors:
            raise CaptureError(f"the mpxxdtyy driver decimates by 64 or 128: {rate} Hz needs a PDM clock of "
                               f"{rate * 64 / 1e6:g} or {rate * 128 / 1e6:g} MHz, outside the {sensor.part}'s "
                               f"{lo / 1e6:g}-{hi / 1e6:g} MHz")
        factor = factors[0]
        block = 512 * 16 // factor // 2  # samples: the I2S side's 512-byte blocks
        return Capture(rate, block, SLAB_BLOCKS, _fifo_samples(rate), clock, framework, factor)
    # nordic,nrf-pdm on the nRF52840: ratio 64 or 80; the driver picks the PDM clock nearest rate × ratio
    # within the limits (16 kHz: 1.28 MHz / 80, exact) and fails dmic_configure when none fits
    if not any(lo <= rate * f <= hi for f in (64, 80)):
        raise CaptureError(f"the nRF PDM peripheral decimates by 64 or 80: {rate} Hz needs a PDM clock of "
                           f"{rate * 64 / 1e6:g} or {rate * 80 / 1e6:g} MHz, outside the {sensor.part}'s "
                           f"{lo / 1e6:g}-{hi / 1e6:g} MHz")
    return Capture(rate, max(1, rate // 100), SLAB_BLOCKS, _fifo_samples(rate), clock, framework)
