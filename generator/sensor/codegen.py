"""C for a sensor pipeline: ``mcf_sensor_config.h`` and the list of runtime files a project needs.

The runtime code in ``runtime/sensor/`` is fixed; everything that depends on the pipeline is a macro
in the generated header: sizes (which size the static buffers), the per-channel constants as
float32 literals that parse to exactly the values the host reference uses, the quantization
parameters, and the source's wiring (Zephyr devicetree node and channels, or the Arduino library
and its unit conversions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .pipeline import CHANNELS, ZEPHYR_UNITS, Pipeline, unit_factor

if TYPE_CHECKING:
    from ..boards import SensorCamera
    from .microphone import Capture

__all__ = ["ARDUINO_CAMERAS", "ARDUINO_CAMERA_SIZES", "ARDUINO_LIBRARIES", "ArduinoCamera", "ArduinoLibrary",
           "arduino_camera_caps", "config_header", "runtime_files"]


@dataclass(frozen=True)
class ArduinoLibrary:
    """An Arduino sensor library mcuforge generates a source for (sources/mcf_source_arduino.cpp)."""

    macro: str  # MCF_ARDUINO_LIB value selecting the code path
    lib_dep: str  # PlatformIO lib_deps entry (registry owner/name)
    native: dict[str, str]  # quantity → the unit the library returns
    max_rate_hz: float | None  # the rate the library configures the part to (None: the app may set it)


ARDUINO_LIBRARIES: dict[str, ArduinoLibrary] = {
    # IMU.readAcceleration() in g, readGyroscope() in dps, readMagneticField() in uT; begin() fixes the
    # accelerometer/gyroscope at 119 Hz (accelerationSampleRate()), the magnetometer at 20 Hz.
    "Arduino_LSM9DS1": ArduinoLibrary("MCF_ARDUINO_LSM9DS1", "arduino-libraries/Arduino_LSM9DS1",
                                      {"accel": "g", "gyro": "dps", "magn": "uT"}, 119.0),
    # LSM6DSLSensor::Get_X_Axes() in mg, Get_G_Axes() in mdps (int32); Set_X_ODR/Set_G_ODR choose the rate.
    "STM32duino LSM6DSL": ArduinoLibrary("MCF_ARDUINO_STM32DUINO_LSM6DSL", "stm32duino/STM32duino LSM6DSL",
                                         {"accel": "mg", "gyro": "mdps"}, None),
    # PDM microphones: the PDM library comes with Arduino's mbed cores (no lib_deps entry); int16 PCM;
    # the rates PDM.begin() accepts are checked in microphone.py. Source: sources/mcf_source_arduino_pdm.cpp.
    "PDM": ArduinoLibrary("MCF_ARDUINO_PDM", "", {"audio": "raw"}, None),
}


@dataclass(frozen=True)
class ArduinoCamera:
    """An image sensor the Camera library of Arduino's mbed cores drives (libraries/Camera with the
    sensor's own library, e.g. libraries/GC2145), read by sources/mcf_source_arduino_camera.cpp."""

    header: str  # the sensor library's header
    cls: str  # its ImageSensor class
    formats: dict[str, str]  # mcuforge pixel format → the Camera library's pixel format constant


#: The Camera library's resolutions (camera.h, restab in camera.cpp): frame size → constant.
ARDUINO_CAMERA_SIZES: dict[tuple[int, int], str] = {
    (160, 120): "CAMERA_R160x120", (320, 240): "CAMERA_R320x240", (320, 320): "CAMERA_R320x320",
    (640, 480): "CAMERA_R640x480", (800, 600): "CAMERA_R800x600", (1600, 1200): "CAMERA_R1600x1200",
}

ARDUINO_CAMERAS: dict[str, ArduinoCamera] = {
    # GC2145::setPixelFormat: RGB565 (as the sensor sends it, high byte first); its "grayscale" is
    # raw Bayer, which the glue does not take.
    "gc2145": ArduinoCamera("gc2145.h", "GC2145", {"rgb565be": "CAMERA_RGB565"}),
}


def arduino_camera_caps(part: str) -> SensorCamera:
    """What the Camera library delivers from image sensor `part` (for the pipeline's checks)."""
    from ..boards import SensorCamera

    cam = ARDUINO_CAMERAS[part]
    return SensorCamera(formats=tuple(cam.formats), sizes=tuple(ARDUINO_CAMERA_SIZES), frame_buffers=1, dma=True)


def c_float(v: float | np.floating) -> str:
    """A C float literal that parses to exactly float32(v) (its exact value, shortest digits)."""
    f = float(np.float32(v))
    if f == 0.0:
        return "-0.0f" if np.signbit(np.float32(v)) else "0.0f"
    text = repr(f)
    if "e" not in text and "." not in text:
        text += ".0"
    return text + "f"


def _array(values: list[str]) -> str:
    return "{" + ", ".join(values) + "}"


def runtime_files(p: Pipeline) -> list[str]:
    """Files of runtime/sensor/ a project with this pipeline gets (copied into its app/ folder)."""
    if p.camera is not None:
        source = ("sources/mcf_source_replay.c" if p.source != "board" else
                  "sources/mcf_source_arduino_camera.cpp" if p.framework == "platformio" else
                  "sources/mcf_source_zephyr_video.c")
        files = ["mcf_sensor_camera.c", "mcf_sensor.h", "mcf_camera.c", "mcf_camera.h", "mcf_sensor_host.c",
                 "mcf_sensor_host.h", "sources/mcf_source.h", source]
        return files + (["sources/mcf_source_host_stub.h"] if source.endswith(".cpp") else [])
    files = ["mcf_sensor.c", "mcf_sensor.h", "mcf_sensor_host.c", "mcf_sensor_host.h", "sources/mcf_source.h"]
    if p.source == "board" and p.kind == "microphone":
        if p.framework == "zephyr":
            assert p.sensor is not None
            source = ("sources/mcf_source_stm32_dfsdm.c" if p.sensor.dfsdm is not None
                      else "sources/mcf_source_zephyr_dmic.c")
        else:
            source = "sources/mcf_source_arduino_pdm.cpp"
        files += ["sources/mcf_audio_fifo.h", source]
    elif p.source == "board" and p.framework == "zephyr":
        files.append("sources/mcf_source_zephyr.c")
    elif p.source == "board" and p.framework == "platformio":
        files.append("sources/mcf_source_arduino.cpp")
    else:
        files.append("sources/mcf_source_replay.c")
    if files[-1].endswith(".cpp"):  # the Arduino sources compile to a stub in PlatformIO's native env
        files.append("sources/mcf_source_host_stub.h")
    if p.features is not None:
        files += list(p.features.c_sources)
    return files


def _input_lines(p: Pipeline) -> list[str]:
    """The model input section of ``mcf_sensor_config.h``: which input, its size, its quantization."""
    lines = ["/* ---- model input */",
             f"#define MCF_SENSOR_INPUT_INDEX {p.input_index}u",
             f"/* '{p.input_name}' {p.input_dtype} {list(p.input_shape)} */",
             f"#define MCF_SENSOR_INPUT_ELEMS {p.input_elements}u"]
    if p.input_dtype == "int8":
        assert p.input_scale is not None and p.input_zero_point is not None
        return [*lines, "#define MCF_SENSOR_INPUT_INT8 1",
                f"#define MCF_SENSOR_QSCALE {c_float(p.input_scale)} /* {float(p.input_scale):.9g} */",
                f"#define MCF_SENSOR_QZERO ({p.input_zero_point})"]
    return [*lines, "#define MCF_SENSOR_INPUT_INT8 0 /* float32: the values go in as they are */"]


def _header_start(p: Pipeline, model_sha256: str, board_id: str, attr_includes: tuple[str, ...]) -> list[str]:
    """The lines every ``mcf_sensor_config.h`` starts with, up to its source macro."""
    return [
        f"/* Generated by mcuforge from model sha256 {model_sha256} for board {board_id}.",
        " * Do not edit: `mcuforge update` rewrites it from the `sensor:` section of mcuforge.yaml.",
        " *",
        f" * Pipeline: {p.describe()}",
        " */",
        "#ifndef MCF_SENSOR_CONFIG_H",
        "#define MCF_SENSOR_CONFIG_H",
        "",
        *[f"#include {inc}" for inc in attr_includes],
        *([""] if attr_includes else []),
        "/* ---- source */",
        f"#define MCF_SENSOR_SOURCE {_source_macro(p)}",
    ]


def config_header(p: Pipeline, *, model_sha256: str, board_id: str, buffer_attr: str = "",
                  attr_includes: tuple[str, ...] = ()) -> str:
    """``mcf_sensor_config.h`` for pipeline `p`. `buffer_attr` places the ring buffer (the arena's
    section attribute when the arena was moved out of the default RAM)."""
    if p.camera is not None:
        return _camera_header(p, model_sha256=model_sha256, board_id=board_id, buffer_attr=buffer_attr,
                              attr_includes=attr_includes)
    n = p.num_channels
    lines = [
        *_header_start(p, model_sha256, board_id, attr_includes),
        f"#define MCF_SENSOR_RATE_HZ {c_float(p.rate_hz)}",
        f"#define MCF_SENSOR_PERIOD_US {max(1, round(1e6 / p.rate_hz))}u",
        "",
        "/* ---- ring buffer and windows */",
        f"#define MCF_SENSOR_CHANNELS {n}",
        f"#define MCF_SENSOR_WINDOW {p.window}u",
        f"#define MCF_SENSOR_HOP {p.hop}u",
        f"/* channel order: {', '.join(f'{c} [{_unit(p, c)}]' for c in p.channels)} */",
        f"#define MCF_SENSOR_LAYOUT MCF_SENSOR_{'TIME' if p.layout == 'time_major' else 'CHANNEL'}_MAJOR",
        f"#define MCF_SENSOR_ATTR {buffer_attr}".rstrip(),
        "",
        "/* ---- scaling: y = (x - offset) * scale, then clip to [lo, hi] */",
        f"#define MCF_SENSOR_OFFSET {_array([c_float(v) for v in p.offset])}",
        f"#define MCF_SENSOR_SCALE {_array([c_float(v) for v in p.scale])}",
    ]
    if p.clip_lo is not None and p.clip_hi is not None:
        lines += ["#define MCF_SENSOR_CLIP 1",
                  f"#define MCF_SENSOR_CLIP_LO {_array([c_float(v) for v in p.clip_lo])}",
                  f"#define MCF_SENSOR_CLIP_HI {_array([c_float(v) for v in p.clip_hi])}"]
    else:
        lines.append("#define MCF_SENSOR_CLIP 0")
    lines += ["", "/* ---- feature stage */"]
    if p.features is not None:
        lines.append("#define MCF_SENSOR_FEATURE 1")
        lines.append(f"#define MCF_SENSOR_FEATURE_OUT_ELEMS {p.features.output_elements}u")
        for k, v in p.features.c_macros().items():
            lines.append(f"#define {k} {v}")
        if p.ring_int16:
            lines.append("/* int16 ring (samples rounded and saturated), read in place by the stage */")
            lines.append("#define MCF_SENSOR_RING_S16 1")
    else:
        lines.append("#define MCF_SENSOR_FEATURE 0")
    lines += ["", *_input_lines(p), "", *_source_lines(p), "", "#endif /* MCF_SENSOR_CONFIG_H */", ""]
    return "\n".join(lines)


def _unit(p: Pipeline, channel: str) -> str:
    return p.units[CHANNELS[channel].quantity] if channel in CHANNELS else "raw"


def _source_macro(p: Pipeline) -> str:
    if p.source == "board":
        return "MCF_SENSOR_SOURCE_ZEPHYR" if p.framework == "zephyr" else "MCF_SENSOR_SOURCE_ARDUINO"
    return "MCF_SENSOR_SOURCE_SERIAL" if p.source == "serial" else "MCF_SENSOR_SOURCE_REPLAY"


def _source_lines(p: Pipeline) -> list[str]:
    if p.source != "board":
        return ["/* ---- host-fed source: samples arrive as SAMPLES messages (docs/protocol.md) */"]
    assert p.sensor is not None
    if p.kind == "microphone":
        return _microphone_lines(p)
    channels = [CHANNELS[c] for c in p.channels]
    if p.framework == "zephyr":
        z = p.sensor.zephyr
        assert z is not None
        if z.alias:
            node = f"DT_ALIAS({z.alias.replace('-', '_')})"
        elif z.node:
            node = f"DT_NODELABEL({z.node})"
        else:
            node = f"DT_COMPAT_GET_ANY_STATUS_OKAY({z.compatible.replace(',', '_').replace('-', '_')})"
        groups: list[str] = []
        for ch in channels:
            assert ch.zephyr_chan is not None
            if ch.zephyr_chan not in groups:
                groups.append(ch.zephyr_chan)
        sizes = [3 if g.endswith("_XYZ") else 1 for g in groups]
        factors = [unit_factor(ch.quantity, ZEPHYR_UNITS[ch.quantity], p.units[ch.quantity]) for ch in channels]
        # the sampling-frequency attribute goes to the first group (ACCEL_XYZ, GYRO_XYZ, ...)
        return [f"/* ---- Zephyr source: {p.sensor.part} ({z.compatible}) */",
                f"#define MCF_SOURCE_ZEPHYR_NODE {node}",
                f"#define MCF_SOURCE_ZEPHYR_GROUPS {len(groups)}",
                f"#define MCF_SOURCE_ZEPHYR_GROUP_CHANS {_array(groups)}",
                f"#define MCF_SOURCE_ZEPHYR_GROUP_SIZES {_array([str(s) for s in sizes])}",
                f"#define MCF_SOURCE_GROUP {_array([str(groups.index(ch.zephyr_chan or '')) for ch in channels])}",
                f"#define MCF_SOURCE_COMPONENT {_array([str(ch.component) for ch in channels])}",
                f"/* Zephyr units ({', '.join(sorted({ZEPHYR_UNITS[c.quantity] for c in channels}))}) "
                "to pipeline units */",
                f"#define MCF_SOURCE_FACTOR {_array([c_float(f) for f in factors])}"]
    lib = ARDUINO_LIBRARIES[p.sensor.arduino_library or ""]
    # native values: accel x,y,z = 0..2, gyro x,y,z = 3..5, magn x,y,z = 6..8
    base = {"accel": 0, "gyro": 3, "magn": 6}
    index = [base[ch.quantity] + ch.component for ch in channels]
    factors = [unit_factor(ch.quantity, lib.native[ch.quantity], p.units[ch.quantity]) for ch in channels]
    quantities = {ch.quantity for ch in channels}
    out = [f"/* ---- Arduino source: {p.sensor.part} through {p.sensor.arduino_library} */",
           f"#define MCF_ARDUINO_LIB {lib.macro}",
           f"#define MCF_SOURCE_NEEDS_ACCEL {int('accel' in quantities)}",
           f"#define MCF_SOURCE_NEEDS_GYRO {int('gyro' in quantities)}",
           f"#define MCF_SOURCE_NEEDS_MAGN {int('magn' in quantities)}",
           f"#define MCF_SOURCE_NATIVE_INDEX {_array([str(i) for i in index])}",
           f"/* library units ({', '.join(sorted({lib.native[q] for q in quantities}))}) to pipeline units */",
           f"#define MCF_SOURCE_FACTOR {_array([c_float(f) for f in factors])}"]
    if p.sensor.arduino_i2c is not None:
        bus = p.sensor.arduino_i2c
        out += [f"#define MCF_SOURCE_I2C_SDA {bus.sda}", f"#define MCF_SOURCE_I2C_SCL {bus.scl}",
                f"#define MCF_SOURCE_I2C_ADDRESS 0x{bus.address:02X}u"]
    return out


def _zephyr_node(p: Pipeline) -> str:
    assert p.sensor is not None and p.sensor.zephyr is not None
    z = p.sensor.zephyr
    if z.alias:
        return f"DT_ALIAS({z.alias.replace('-', '_')})"
    if z.node:
        return f"DT_NODELABEL({z.node})"
    return f"DT_COMPAT_GET_ANY_STATUS_OKAY({z.compatible.replace(',', '_').replace('-', '_')})"


def _microphone_lines(p: Pipeline) -> list[str]:
    """A live microphone: mcf_source_zephyr_dmic.c or mcf_source_arduino_pdm.cpp (microphone.py)."""
    from .microphone import capture_plan

    assert p.sensor is not None
    c = capture_plan(p.sensor, p.framework, p.rate_hz, p.channels, p.clock_hz)
    lines = ["/* ---- microphone: " + c.describe() + " */",
             f"#define MCF_AUDIO_RATE_HZ {c.rate_hz}u",
             f"/* FIFO between the capture context and the main loop: {c.fifo_samples * 2} B; blocks that find it",
             " * full are dropped and counted (mcf_source_overruns, in the host's LOG lines) */",
             f"#define MCF_AUDIO_FIFO_SAMPLES {c.fifo_samples}u"]
    if p.framework == "zephyr" and c.dfsdm is not None:
        return lines + _dfsdm_lines(p, c)
    if p.framework == "zephyr":
        assert p.sensor.zephyr is not None
        lines += [f"/* Zephyr DMIC API: {p.sensor.part} ({p.sensor.zephyr.compatible})"
                  + (f", decimation {c.decimation}" if c.decimation else "") + " */",
                  f"#define MCF_SOURCE_ZEPHYR_NODE {_zephyr_node(p)}",
                  f"#define MCF_AUDIO_BLOCK_SAMPLES {c.block_samples}u /* per k_mem_slab block */",
                  f"#define MCF_AUDIO_BLOCKS {c.blocks}u",
                  f"/* PDM clock limits of the {p.sensor.part} (Hz, datasheet) */",
                  f"#define MCF_AUDIO_PDM_CLK_MIN {c.pdm_clock[0]}u",
                  f"#define MCF_AUDIO_PDM_CLK_MAX {c.pdm_clock[1]}u"]
    else:
        lines += [f"/* Arduino: {p.sensor.part} through the core's PDM library */",
                  f"#define MCF_ARDUINO_LIB {ARDUINO_LIBRARIES['PDM'].macro}",
                  f"#define MCF_AUDIO_PDM_BUFFER_BYTES {2 * c.block_samples}u /* per half of PDM's double buffer */"]
    return lines


def _pin_macro(pin: str, af: int) -> str:
    """STM32_PINMUX('E', 9, AF6) of Zephyr's dt-bindings/pinctrl/stm32-pinctrl.h for ``PE9``."""
    return f"STM32_PINMUX('{pin[1]}', {int(pin[2:])}, AF{af})"


def _dfsdm_lines(p: Pipeline, c: Capture) -> list[str]:
    """An STM32 DFSDM microphone (sources/mcf_source_stm32_dfsdm.c): the board's wiring and the
    settings microphone.dfsdm_plan computed, as macros; the C source has no numbers of its own."""
    assert p.sensor is not None and p.sensor.dfsdm is not None and c.dfsdm is not None
    w, d = p.sensor.dfsdm, c.dfsdm
    dma = f"DMA{w.dma.controller}_Channel{w.dma.channel}"
    return [
        f"/* STM32 {w.instance} (STM32Cube HAL; Zephyr has no DFSDM audio driver): {p.sensor.part} on channel "
        f"{w.channel}, filter {w.filter} */",
        "#define MCF_AUDIO_DFSDM 1",
        f"#define MCF_AUDIO_BLOCK_SAMPLES {c.block_samples}u /* per half of the circular DMA buffer */",
        f"#define MCF_DFSDM_CHANNEL {w.instance}_Channel{w.channel}",
        f"#define MCF_DFSDM_CHANNEL_NUMBER DFSDM_CHANNEL_{w.channel}",
        f"#define MCF_DFSDM_FILTER {w.instance}_Filter{w.filter}",
        f"#define MCF_DFSDM_SPI_EDGE DFSDM_CHANNEL_SPI_{w.edge.upper()} /* data valid on this clock edge */",
        f"/* kernel clock = system clock {d.kernel_clock_hz} Hz; PDM clock {d.pdm_clock_hz:.0f} Hz within the "
        f"{p.sensor.part}'s {c.pdm_clock[0]}-{c.pdm_clock[1]} Hz */",
        f"#define MCF_DFSDM_KERNEL_CLOCK_HZ {d.kernel_clock_hz}u",
        f"#define MCF_DFSDM_CLOCK_DIVIDER {d.divider}u",
        f"/* Sinc{d.order}, FOSR {d.fosr}: {d.kernel_clock_hz} / ({d.divider} * {d.fosr}) = {d.rate_hz} Hz; full scale "
        f"+-{d.full_scale} >> {d.shift} = +-{d.pcm_full_scale} */",
        f"#define MCF_DFSDM_SINC_ORDER DFSDM_FILTER_SINC{d.order}_ORDER",
        f"#define MCF_DFSDM_FOSR {d.fosr}u",
        f"#define MCF_DFSDM_RIGHT_SHIFT {d.shift}u",
        f"/* pins: CKOUT {w.ckout.pin} AF{w.ckout.af}, DATIN{w.channel} {w.datin.pin} AF{w.datin.af} */",
        f"#define MCF_DFSDM_PIN_CKOUT {_pin_macro(w.ckout.pin, w.ckout.af)}",
        f"#define MCF_DFSDM_PIN_DATIN {_pin_macro(w.datin.pin, w.datin.af)}",
        f"#define MCF_DFSDM_DMA_CHANNEL {dma}",
        f"#define MCF_DFSDM_DMA_REQUEST DMA_REQUEST_{w.dma.request}",
        f"#define MCF_DFSDM_DMA_IRQN {dma}_IRQn",
        f"#define MCF_DFSDM_DMA_CLK_ENABLE() __HAL_RCC_DMA{w.dma.controller}_CLK_ENABLE()",
        f"#define MCF_DFSDM_DMA_NODE DT_NODELABEL(dma{w.dma.controller})",
    ]


def _camera_header(p: Pipeline, *, model_sha256: str, board_id: str, buffer_attr: str,
                   attr_includes: tuple[str, ...]) -> str:
    """mcf_sensor_config.h of a camera pipeline (runtime/sensor/mcf_camera.h, mcf_sensor_camera.c)."""
    cam = p.camera
    assert cam is not None
    fmt = cam.pixel_format
    flags = [name for name, on in (("MCF_CAMERA_BGR", cam.bgr), ("MCF_CAMERA_YUV_LIMITED", cam.yuv_limited),
                                   ("MCF_CAMERA_OUT_F32", p.input_dtype == "float32")) if on]
    if p.input_dtype == "int8":
        values = [str(int(v)) for v in cam.lut.reshape(-1)]
    else:
        values = [c_float(v) for v in cam.lut.reshape(-1)]
    rows = [", ".join(values[i:i + 16]) for i in range(0, len(values), 16)]
    lut = "{ \\\n    " + ", \\\n    ".join(rows) + " }"
    x, y, w, h = cam.crop
    lines = [
        *_header_start(p, model_sha256, board_id, attr_includes),
        f"#define MCF_SENSOR_RATE_HZ {c_float(p.rate_hz)} /* frames per second (live camera) */",
        f"#define MCF_SENSOR_PERIOD_US {max(1, round(1e6 / p.rate_hz))}u",
        "",
        "/* ---- camera frames: a SAMPLES stream carries the raw frame bytes, 4 per \"sample\" */",
        "#define MCF_SENSOR_CAMERA 1",
        "#define MCF_SENSOR_CHANNELS 1",
        f"#define MCF_SENSOR_WINDOW {p.window}u /* 4-byte words per frame */",
        f"#define MCF_SENSOR_HOP {p.hop}u",
        "#define MCF_SENSOR_LAYOUT MCF_SENSOR_TIME_MAJOR",
        "#define MCF_SENSOR_FEATURE 0",
        "#define MCF_SENSOR_CLIP 0",
        f"#define MCF_SENSOR_ATTR {buffer_attr}".rstrip(),
        "",
        f"/* {fmt.description}, {cam.src_w} x {cam.src_h}; crop {w} x {h} at ({x}, {y}); {cam.method} to "
        f"{cam.dst_w} x {cam.dst_h} x {cam.dst_c} */",
        f"#define MCF_CAMERA_FORMAT {fmt.code}",
        f"#define MCF_CAMERA_ZEPHYR_PIXFMT {fmt.zephyr}",
        f"#define MCF_CAMERA_SRC_W {cam.src_w}u",
        f"#define MCF_CAMERA_SRC_H {cam.src_h}u",
        f"#define MCF_CAMERA_ROW_BYTES {cam.row_bytes}u",
        f"#define MCF_CAMERA_FRAME_BYTES {cam.frame_bytes}u",
        f"#define MCF_CAMERA_CROP_X {x}u",
        f"#define MCF_CAMERA_CROP_Y {y}u",
        f"#define MCF_CAMERA_CROP_W {w}u",
        f"#define MCF_CAMERA_CROP_H {h}u",
        f"#define MCF_CAMERA_DST_W {cam.dst_w}u",
        f"#define MCF_CAMERA_DST_H {cam.dst_h}u",
        f"#define MCF_CAMERA_DST_C {cam.dst_c}u",
        f"#define MCF_CAMERA_METHOD MCF_CAMERA_{cam.method.upper()}",
        f"#define MCF_CAMERA_FLAGS ({' | '.join(flags) if flags else '0u'})",
        "/* value of 8-bit level v in channel c: lut[c * 256 + v] = quantize(clip((v - offset[c]) * scale[c])),",
        f" * offset {[float(v) for v in p.offset]}, scale {[float(v) for v in p.scale]}"
        + (f", clip {[float(v) for v in p.clip_lo]}..{[float(v) for v in p.clip_hi]}"
           if p.clip_lo is not None and p.clip_hi is not None else "") + " */",
        f"#define MCF_CAMERA_LUT {lut}",
        "",
        *_input_lines(p),
    ]
    if p.source == "board" and p.framework == "platformio":
        assert p.sensor is not None
        ac = ARDUINO_CAMERAS[p.sensor.part]
        lines += ["", f"/* ---- Arduino Camera library source: {p.sensor.part} ({ac.cls}, {ac.header}) */",
                  f"#define MCF_ARDUINO_CAMERA_HEADER \"{ac.header}\"",
                  f"#define MCF_ARDUINO_CAMERA_CLASS {ac.cls}",
                  f"#define MCF_ARDUINO_CAMERA_NAME \"{p.sensor.part}\"",
                  f"#define MCF_ARDUINO_CAMERA_RESOLUTION {ARDUINO_CAMERA_SIZES[(cam.src_w, cam.src_h)]}",
                  f"#define MCF_ARDUINO_CAMERA_PIXFORMAT {ac.formats[cam.format]}"]
    elif p.source == "board":
        assert p.sensor is not None and p.sensor.zephyr is not None
        z = p.sensor.zephyr
        node = (f"DT_NODELABEL({z.node})" if z.node else f"DT_ALIAS({z.alias.replace('-', '_')})" if z.alias
                else "DT_CHOSEN(zephyr_camera)")
        lines += ["", f"/* ---- Zephyr video source: {p.sensor.part} ({z.compatible}) */",
                  f"#define MCF_SOURCE_ZEPHYR_NODE {node}",
                  "/* frame buffers queued to the driver: at least its video_caps.min_vbuf_count */",
                  f"#define MCF_CAMERA_FRAME_BUFFERS {p.frame_buffers}u"]
    else:
        lines += ["", "/* ---- host-fed source: frames arrive as SAMPLES messages (docs/protocol.md) */"]
    lines += ["", "#endif /* MCF_SENSOR_CONFIG_H */", ""]
    return "\n".join(lines)
