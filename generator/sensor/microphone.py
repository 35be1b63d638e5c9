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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..boards import Sensor

__all__ = ["ARDUINO_PDM_LIBRARY", "DMIC_DRIVERS", "FIFO_SECONDS", "KCONFIG_SYMBOLS", "Capture", "capture_plan"]

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
class Capture:
    """How the generated source captures: rate, blocks, FIFO, clock limits."""

    rate_hz: int
    block_samples: int  # samples per DMIC block, or per half of the Arduino library's double buffer
    blocks: int  # DMIC slab blocks (0 on Arduino)
    fifo_samples: int  # power of two
    pdm_clock: tuple[int, int]
    framework: str
    decimation: int | None = None  # mpxxdtyy: the driver's decimation factor for this rate

    @property
    def ram_bytes(self) -> int:
        """Static RAM of the source: FIFO, slab or ISR block, counters, and the capture thread's
        stack on Zephyr (1 KiB)."""
        fifo = 2 * self.fifo_samples + 12
        if self.framework == "zephyr":
            return fifo + 2 * self.block_samples * self.blocks + 1024 + 64
        return fifo + 2 * self.block_samples + 8

    def describe(self) -> str:
        where = (f"{self.blocks} DMIC blocks of {self.block_samples} samples" if self.framework == "zephyr"
                 else f"PDM buffer {2 * self.block_samples} B per half")
        return (f"{self.rate_hz} Hz mono 16-bit, {where}, FIFO {self.fifo_samples} samples "
                f"({1000 * self.fifo_samples / self.rate_hz:.0f} ms)")


def _fifo_samples(rate: int) -> int:
    need = max(1, int(rate * FIFO_SECONDS + 0.999))
    return 1 << (need - 1).bit_length()


def capture_plan(sensor: Sensor, framework: str, rate_hz: float, channels: tuple[str, ...] | list[str]) -> Capture:
    """Checks that the board's microphone can deliver `rate_hz` mono 16-bit PCM through the
    framework's source and returns how it will. Raises CaptureError (one line)."""
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
