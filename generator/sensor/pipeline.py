"""The sensor pipeline: how samples from a sensor become the model's input tensor.

A pipeline is described by the ``sensor:`` section of a project's ``mcuforge.yaml`` (`SensorSpec`),
which ``mcuforge new --sensor KIND[:PART]`` fills with defaults, and resolved against the model's
input tensor and the board (`resolve`) into a `Pipeline` where every number is explicit. The
stages, in the order both the device (``runtime/sensor/mcf_sensor.c``) and the host reference
(`mcuforge.generator.sensor.reference`) apply them::

    source ──▶ ring buffer of `window` samples × `channels` (float32, in the pipeline's units)
           ──▶ every `hop` samples once `window` are in: the latest window, oldest sample first
           ──▶ per channel c:  y = (x - offset[c]) * scale[c]   then  y = clip(y, lo[c], hi[c])
           ──▶ layout: time-major  t*C + c  (x0 y0 z0 x1 …)  or channel-major  c*W + t
           ──▶ [feature stage, e.g. MFCC: window → features]             (optional)
           ──▶ int8 input:    q = clamp(round_half_away(y / s) + z, -128, 127), y / s in float32
               int16 input:   the same, saturated to -32768..32767 (16x8 models)
               float32 input: the values themselves (the model quantizes itself)

Sources: ``board`` (a sensor of the board: Zephyr sensor API, or the board's Arduino library on
PlatformIO), ``serial`` (samples streamed by the host over the mcuforge protocol, SAMPLES messages)
and ``replay`` (the same transport, for recordings: ``mcuforge test --replay``). Every pipeline's
firmware also accepts a replayed stream, so the glue that ships can be checked on the device.

Errors are `SensorConfigError` (one line, nothing written).
"""

from __future__ import annotations

import contextlib
import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import McuforgeError
from .arduino import ARDUINO_CAMERAS, ARDUINO_LIBRARIES, arduino_camera_caps
from .camera import FORMATS as CAMERA_FORMATS
from .camera import Camera, CameraSpec, center_crop, value_lut
from .feature_stage import FEATURE_STAGES, FeatureStage, register_feature_stage
from .quantize import QUANTIZED_INPUTS, quantize_input

if TYPE_CHECKING:
    from ..boards import Board, Sensor, SensorCamera
    from ..ir import Graph

__all__ = [
    "CHANNELS",
    "Channel",
    "FeatureStage",
    "Pipeline",
    "SensorConfigError",
    "SensorSpec",
    "register_feature_stage",
    "resolve",
    "spec_from_option",
]

SourceName = Literal["board", "serial", "replay"]
Layout = Literal["time_major", "channel_major"]
SOURCES: tuple[str, ...] = ("board", "serial", "replay")
#: Host-fed sources: the samples arrive as SAMPLES messages of the serial protocol.
HOST_SOURCES = ("serial", "replay")


class SensorConfigError(McuforgeError):
    """The sensor pipeline cannot be built as described (for this model, board or framework)."""


# ---- channels and units ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    """One channel: the quantity it measures, and where Zephyr delivers it (the channel that
    `sensor_channel_get` fills, and the index in the values it returns)."""

    name: str
    quantity: str
    zephyr_chan: str | None  # e.g. SENSOR_CHAN_ACCEL_XYZ
    component: int  # index in the sensor_value array sensor_channel_get fills
    group: str  # the board YAML channel name that provides it, e.g. accel_xyz


def _xyz(prefix: str, quantity: str) -> dict[str, Channel]:
    return {f"{prefix}_{a}": Channel(f"{prefix}_{a}", quantity, f"SENSOR_CHAN_{prefix.upper()}_XYZ", i,
                                     f"{prefix}_xyz") for i, a in enumerate("xyz")}


def _scalar(name: str, quantity: str, zephyr: str | None) -> dict[str, Channel]:
    return {name: Channel(name, quantity, zephyr, 0, name)}


#: Every named channel a pipeline can use. Host-fed pipelines may also use generic ``ch0``, ``ch1``…
CHANNELS: dict[str, Channel] = {
    **_xyz("accel", "accel"), **_xyz("gyro", "gyro"), **_xyz("magn", "magn"),
    **_scalar("ambient_temp", "temperature", "SENSOR_CHAN_AMBIENT_TEMP"),
    **_scalar("humidity", "humidity", "SENSOR_CHAN_HUMIDITY"),
    **_scalar("press", "pressure", "SENSOR_CHAN_PRESS"),
    **_scalar("prox", "raw", "SENSOR_CHAN_PROX"),
    **_scalar("light", "raw", "SENSOR_CHAN_LIGHT"),
    **_scalar("red", "raw", "SENSOR_CHAN_RED"),
    **_scalar("green", "raw", "SENSOR_CHAN_GREEN"),
    **_scalar("blue", "raw", "SENSOR_CHAN_BLUE"),
    **_scalar("audio", "audio", None),
}

#: For each quantity: how many of each unit make one of the first (base) unit. The user picks a
#: unit from ``UNIT_CHOICES``; sources convert from their native unit (Zephyr: m/s², rad/s, gauss,
#: °C, %, kPa; the Arduino libraries: see codegen) with one float32 multiply.
UNITS: dict[str, dict[str, float]] = {
    "accel": {"g": 1.0, "mg": 1000.0, "m/s2": 9.80665},
    "gyro": {"dps": 1.0, "mdps": 1000.0, "rad/s": math.pi / 180.0},
    "magn": {"gauss": 1.0, "mgauss": 1000.0, "uT": 100.0},
    "temperature": {"degC": 1.0},
    "humidity": {"percent": 1.0},
    "pressure": {"kPa": 1.0, "hPa": 10.0, "Pa": 1000.0},
    "raw": {"raw": 1.0},
    "audio": {"raw": 1.0},
}
UNIT_CHOICES: dict[str, tuple[str, ...]] = {
    "accel": ("g", "m/s2"), "gyro": ("dps", "rad/s"), "magn": ("gauss", "uT"), "temperature": ("degC",),
    "humidity": ("percent",), "pressure": ("kPa", "hPa"), "raw": ("raw",), "audio": ("raw",),
}
#: Zephyr's units for each quantity (include/zephyr/drivers/sensor.h).
ZEPHYR_UNITS: dict[str, str] = {"accel": "m/s2", "gyro": "rad/s", "magn": "gauss", "temperature": "degC",
                                "humidity": "percent", "pressure": "kPa", "raw": "raw", "audio": "raw"}


def unit_factor(quantity: str, native: str, target: str) -> float:
    """What a value in `native` units is multiplied by to be in `target` units."""
    table = UNITS[quantity]
    return table[target] / table[native]


# ---- sensor kinds ----------------------------------------------------------------------------------

KINDS = ("accelerometer", "gyroscope", "imu", "magnetometer", "temperature", "humidity", "pressure",
         "proximity", "microphone", "camera")
_KIND_CHANNELS: dict[str, tuple[str, ...]] = {
    "accelerometer": ("accel_x", "accel_y", "accel_z"),
    "gyroscope": ("gyro_x", "gyro_y", "gyro_z"),
    "imu": ("accel_x", "accel_y", "accel_z", "gyro_x", "gyro_y", "gyro_z"),
    "magnetometer": ("magn_x", "magn_y", "magn_z"),
    "temperature": ("ambient_temp",),
    "humidity": ("humidity",),
    "pressure": ("press",),
    "proximity": ("prox",),
    "microphone": ("audio",),
}
# A sample rate to start from, per kind; the model's training rate is what matters (the yaml says so).
_KIND_RATE: dict[str, float] = {"accelerometer": 50.0, "gyroscope": 50.0, "imu": 50.0, "magnetometer": 50.0,
                                "temperature": 1.0, "humidity": 1.0, "pressure": 1.0, "proximity": 10.0,
                                "microphone": 16000.0, "camera": 5.0}
# Which board sensor kinds can serve a requested kind (an IMU holds an accelerometer and a gyroscope).
_KIND_PROVIDERS: dict[str, tuple[str, ...]] = {"accelerometer": ("accelerometer", "imu"),
                                               "gyroscope": ("gyroscope", "imu")}


# ---- the yaml section ------------------------------------------------------------------------------


class SensorSpec(BaseModel):
    """The ``sensor:`` section of mcuforge.yaml. Fields left out (null) are derived from the model's
    input tensor and the board's sensor when the project is generated; `mcuforge new --sensor`
    writes them all out."""

    model_config = ConfigDict(extra="forbid")

    source: SourceName
    kind: str | None = None  # board sensor kind, or the kind of data a serial/replay stream carries
    part: str | None = None  # board sensor part, when the board has several of the kind
    rate_hz: float | None = Field(default=None, gt=0)
    channels: list[str] | None = None  # in the order the model expects them
    units: dict[str, str] | None = None  # quantity → unit, e.g. {accel: g}
    window: int | None = Field(default=None, ge=1)  # samples per inference
    hop: int | None = Field(default=None, ge=1)  # samples between two inferences
    layout: Layout | None = None
    offset: float | list[float] = 0.0  # per channel (or one for all): y = (x - offset) * scale
    scale: float | list[float] = 1.0
    clip: list[float] | list[list[float]] | None = None  # [lo, hi] for all channels, or one per channel
    features: dict[str, Any] | None = None  # optional feature stage, e.g. {kind: mfcc, ...}
    camera: CameraSpec | None = None  # kind camera: the frames' format, size, crop and resize

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v: str | None) -> str | None:
        if v is not None and v not in KINDS:
            close = difflib.get_close_matches(v, KINDS, n=1)
            raise ValueError(f"unknown sensor kind {v!r}" + (f"; did you mean {close[0]!r}?" if close else "")
                             + f" (kinds: {', '.join(KINDS)})")
        return v


# ---- feature stages --------------------------------------------------------------------------------


def _feature_stage(params: dict[str, Any], rate_hz: float, window: int, channels: int,
                   layout: str) -> FeatureStage:
    with contextlib.suppress(ImportError):  # the feature module registers its stages on import
        from . import features  # noqa: F401
    kind = params.get("kind")
    if not isinstance(kind, str) or kind not in FEATURE_STAGES:
        known = ", ".join(sorted(FEATURE_STAGES)) or "none in this build"
        raise SensorConfigError(f"sensor.features: unknown feature stage {kind!r} (available: {known})",
                                hint="remove `features` to feed the scaled window to the model")
    rest = {k: v for k, v in params.items() if k != "kind"}
    try:
        return FEATURE_STAGES[kind](rest, rate_hz, window, channels, layout)
    except (ValueError, TypeError, ValidationError) as exc:
        raise SensorConfigError(f"sensor.features ({kind}): {' '.join(str(exc).split())}") from exc


# ---- the resolved pipeline -------------------------------------------------------------------------


@dataclass(frozen=True)
class Pipeline:
    """Everything the device glue and the host reference need, explicit and checked."""

    source: str  # board | serial | replay
    kind: str | None
    part: str | None
    framework: str  # zephyr | platformio | cmake
    rate_hz: float
    channels: tuple[str, ...]
    units: dict[str, str]  # quantity → unit, for the quantities the channels measure
    window: int
    hop: int
    layout: str
    offset: np.ndarray  # float32 [C]
    scale: np.ndarray  # float32 [C]
    clip_lo: np.ndarray | None  # float32 [C], with clip_hi; None: no clipping
    clip_hi: np.ndarray | None
    features: FeatureStage | None
    feature_params: dict[str, Any] | None
    input_index: int
    input_name: str
    input_shape: tuple[int, ...]
    input_dtype: str  # int8 | int16 | float32
    input_scale: np.float32 | None  # int8 / int16 input: quantization scale and zero point
    input_zero_point: int | None
    sensor: Sensor | None  # the board's sensor (source board)
    # kind camera: frames, not samples. The SAMPLES stream then carries the raw frame bytes, 4 per
    # "sample" (channels 1, window = hop = one frame's 4-byte words); `channels` names the model's.
    camera: Camera | None = None
    clock_hz: int = 0  # the board's system clock (a DFSDM microphone's kernel clock)

    @property
    def num_channels(self) -> int:
        return len(self.channels)

    @property
    def input_elements(self) -> int:
        return int(np.prod(self.input_shape, dtype=np.int64)) if self.input_shape else 1

    @property
    def input_bytes(self) -> int:
        return self.input_elements * {"int8": 1, "int16": 2}.get(self.input_dtype, 4)

    @property
    def ring_bytes(self) -> int:
        """Static RAM of the ring buffer: `window` samples of float32 per channel (camera: the
        buffers of mcf_sensor_camera.c, see `ram_bytes`)."""
        if self.camera is not None:
            return self.ram_bytes - 32
        return self.window * self.num_channels * (2 if self.ring_int16 else 4)

    @property
    def frame_buffers(self) -> int:
        """Frame buffers a board camera's capture driver needs queued (board YAML, camera.frame_buffers)."""
        if self.framework == "zephyr" and self.sensor is not None and self.sensor.camera is not None:
            return self.sensor.camera.frame_buffers
        return 1

    @property
    def ring_int16(self) -> bool:
        """The ring holds int16 samples (rounded half away from zero, saturated), read in place by
        the feature stage: audio (one channel) through a stage that can (MFCC), without scaling or
        clipping. Halves the ring and drops the float copy of the window."""
        return (self.features is not None and bool(getattr(self.features, "ring_int16", False))
                and self.num_channels == 1 and self.clip_lo is None
                and bool(np.all(self.offset == 0)) and bool(np.all(self.scale == 1)))

    @property
    def ram_bytes(self) -> int:
        """Static RAM the glue adds: ring buffer, the feature stage's buffers (window copy + its own),
        counters. Camera: one source row (host-fed stream) or the whole frame buffers the video
        driver fills (board camera: as many as it needs queued), the bilinear line buffer, state."""
        if self.camera is not None:
            cam = self.camera
            frame = cam.frame_bytes * self.frame_buffers if self.source == "board" else 0
            return frame + cam.row_bytes + 2 * max(cam.hbuf_elems, 1) + 64 + 32
        extra = 0
        if self.features is not None:
            window_copy = 0 if self.ring_int16 else 4 * self.window * self.num_channels
            extra = window_copy + 4 * self.features.output_elements + self.features.ram_bytes
        if self.source == "board" and self.kind == "microphone" and self.sensor is not None:
            from .microphone import capture_plan  # the live source's FIFO, DMIC blocks, thread stack

            extra += capture_plan(self.sensor, self.framework, self.rate_hz, self.channels, self.clock_hz).ram_bytes
        return self.ring_bytes + extra + 32

    def windows_in(self, samples: int) -> int:
        """Windows a stream of `samples` samples completes."""
        return 0 if samples < self.window else (samples - self.window) // self.hop + 1

    def to_spec(self) -> SensorSpec:
        """The explicit yaml section for this pipeline (what `mcuforge new` writes)."""
        if self.camera is not None:
            return self._camera_spec()

        def per_channel(v: np.ndarray) -> float | list[float]:
            vals = [float(x) for x in v]
            return vals[0] if all(x == vals[0] for x in vals) else vals

        clip: list[float] | list[list[float]] | None = None
        if self.clip_lo is not None and self.clip_hi is not None:
            pairs = [[float(lo), float(hi)] for lo, hi in zip(self.clip_lo, self.clip_hi, strict=True)]
            clip = pairs[0] if all(p == pairs[0] for p in pairs) else pairs
        return SensorSpec(source=self.source, kind=self.kind, part=self.part, rate_hz=self.rate_hz,  # type: ignore[arg-type]
                          channels=list(self.channels), units=dict(self.units), window=self.window, hop=self.hop,
                          layout=self.layout, offset=per_channel(self.offset),  # type: ignore[arg-type]
                          scale=per_channel(self.scale), clip=clip, features=self.feature_params)

    def _camera_spec(self) -> SensorSpec:
        cam = self.camera
        assert cam is not None
        x, y, w, h = cam.crop
        crop: Any = "none" if (x, y, w, h) == (0, 0, cam.src_w, cam.src_h) else \
            "center" if cam.crop == center_crop(cam.src_w, cam.src_h, cam.dst_w, cam.dst_h) else [x, y, w, h]
        spec = CameraSpec(format=cam.format, width=cam.src_w, height=cam.src_h, crop=crop,
                          resize=cam.method, yuv_range="limited" if cam.yuv_limited else "full",  # type: ignore[arg-type]
                          channel_order="bgr" if cam.bgr else "rgb")

        def per_channel(v: np.ndarray) -> float | list[float]:
            vals = [float(x) for x in v]
            return vals[0] if all(x == vals[0] for x in vals) else vals

        clip: Any = None
        if self.clip_lo is not None and self.clip_hi is not None:
            pairs = [[float(lo), float(hi)] for lo, hi in zip(self.clip_lo, self.clip_hi, strict=True)]
            clip = pairs[0] if all(p == pairs[0] for p in pairs) else pairs
        return SensorSpec(source=self.source, kind=self.kind, part=self.part, rate_hz=self.rate_hz,  # type: ignore[arg-type]
                          offset=per_channel(self.offset), scale=per_channel(self.scale), clip=clip, camera=spec)

    def describe(self) -> str:
        """One line for the CLI."""
        if self.camera is not None:
            q = (f"{self.input_dtype} (scale {float(self.input_scale):.6g}, zero point {self.input_zero_point})"
                 if self.input_scale is not None else "float32")
            where = f"camera {self.part or ''}".strip()
            return (f"{self.source} {where} at {self.rate_hz:g} frames/s: {self.camera.describe()} -> input "
                    f"'{self.input_name}' {q}; {self.ram_bytes:,} B of RAM")
        q = (f"{self.input_dtype} (scale {float(self.input_scale):.6g}, zero point {self.input_zero_point})"
             if self.input_scale is not None else "float32 (the model quantizes)")
        where = f"{self.kind or 'generic'} {self.part or ''}".strip()
        return (f"{self.source} {where} at {self.rate_hz:g} Hz: {self.num_channels} channels "
                f"({', '.join(self.channels)}), window {self.window}, hop {self.hop}, {self.layout.replace('_', '-')}"
                f" -> input '{self.input_name}' {q}; {self.ram_bytes:,} B of RAM")


# ---- resolution ------------------------------------------------------------------------------------


def _per_channel(name: str, value: float | list[float], n: int, channels: Sequence[str]) -> np.ndarray:
    vals = [value] * n if isinstance(value, (int, float)) else list(value)
    if len(vals) != n:
        raise SensorConfigError(f"sensor.{name}: {len(vals)} values for {n} channels ({', '.join(channels)})",
                                hint="give one value for all channels or one per channel, in channel order")
    arr = np.array(vals, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise SensorConfigError(f"sensor.{name}: values must be finite numbers, got {vals}")
    f32 = arr.astype(np.float32)
    if not np.all(np.isfinite(f32)):
        raise SensorConfigError(f"sensor.{name}: {vals} is out of float32 range")
    return f32


def _clip(value: list[float] | list[list[float]] | None, n: int,
          channels: Sequence[str]) -> tuple[np.ndarray | None, np.ndarray | None]:
    if value is None:
        return None, None
    flat = len(value) == 2 and all(isinstance(v, (int, float)) for v in value)
    pairs: list[Any] = [value] * n if flat else list(value)
    if len(pairs) != n or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
        raise SensorConfigError(f"sensor.clip: expected [lo, hi] or one [lo, hi] per channel ({n}: "
                                f"{', '.join(channels)}), got {value}")
    lo = _per_channel("clip", [float(p[0]) for p in pairs], n, channels)
    hi = _per_channel("clip", [float(p[1]) for p in pairs], n, channels)
    bad = [channels[i] for i in range(n) if not lo[i] <= hi[i]]
    if bad:
        raise SensorConfigError(f"sensor.clip: lo > hi for {', '.join(bad)}")
    return lo, hi


def _board_sensor(board: Board, kind: str, part: str | None) -> Sensor:
    providers = _KIND_PROVIDERS.get(kind, (kind,))
    wanted = set(_KIND_CHANNELS.get(kind, ()))
    # a sensor of that kind, or one that also measures it (an IMU holds an accelerometer)
    found = [s for s in board.sensors if s.kind == kind or (
        s.kind in providers and wanted <= {c for g in s.channels for c in _group_channels(g)})]
    if part is not None:
        matches = [s for s in found if s.part == part]
        if not matches:
            have = ", ".join(f"{s.kind} {s.part}" for s in found) or "none"
            raise SensorConfigError(f"board '{board.id}' has no {kind} '{part}' (its {kind} sensors: {have})")
        return matches[0]
    if not found:
        have = ", ".join(f"{s.kind} {s.part}" for s in board.sensors) or "none"
        raise SensorConfigError(f"board '{board.id}' has no {kind} (its sensors: {have})",
                                hint=f"stream the data from the host instead: --sensor replay:{kind}")
    if len({s.part for s in found}) > 1:
        parts = ", ".join(s.part for s in found)
        raise SensorConfigError(f"board '{board.id}' has several {kind} sensors ({parts}); say which",
                                hint=f"--sensor {kind}:{found[0].part}")
    return found[0]


def _group_channels(group: str) -> list[str]:
    """Channel names a board YAML channel (``accel_xyz``, ``ambient_temp``) provides."""
    return [c.name for c in CHANNELS.values() if c.group == group] or [group]


def _source_checks(spec: SensorSpec, board: Board, framework: str) -> Sensor | None:
    if spec.source in HOST_SOURCES:
        return None
    if spec.kind is None:
        raise SensorConfigError("sensor.kind is needed with source board (e.g. accelerometer)")
    sensor = _board_sensor(board, spec.kind, spec.part)
    if sensor.kind == "microphone":
        return _microphone_checks(sensor, board, framework)
    if sensor.kind == "camera":
        if framework == "platformio":
            if sensor.arduino_library != "Camera" or sensor.part not in ARDUINO_CAMERAS:
                raise SensorConfigError(f"board '{board.id}': no Arduino source for the {sensor.part} (camera); "
                                        "mcuforge reads the Camera library of Arduino's mbed cores with "
                                        f"{', '.join(sorted(ARDUINO_CAMERAS))}",
                                        hint="use --framework zephyr, or stream frames from the host: "
                                             "--sensor replay:camera")
            return sensor
        if framework != "zephyr":
            raise SensorConfigError(f"a board camera ({sensor.part}) is read through Zephyr's video API or "
                                    f"Arduino's Camera library; the {framework} flavor has no camera source",
                                    hint="use --framework zephyr, or stream frames from the host: "
                                         "--sensor replay:camera")
        if sensor.zephyr is None:
            raise SensorConfigError(f"board '{board.id}': Zephyr's devicetree does not describe the {sensor.part} "
                                    "(camera)", hint="stream frames from the host: --sensor replay:camera")
        return sensor
    if framework == "cmake":
        raise SensorConfigError("the bare-metal cmake flavor has no sensor drivers; a board sensor needs "
                                "--framework zephyr or platformio",
                                hint=f"or stream samples from the host: --sensor replay:{spec.kind}")
    if framework == "zephyr" and sensor.zephyr is None:
        raise SensorConfigError(f"board '{board.id}': Zephyr's devicetree does not describe the {sensor.part} "
                                f"({sensor.kind})", hint="use --framework platformio, or a host-fed source")
    if framework == "platformio":
        lib = sensor.arduino_library
        if lib is None or lib not in ARDUINO_LIBRARIES:
            supported = ", ".join(sorted(ARDUINO_LIBRARIES))
            raise SensorConfigError(f"board '{board.id}': no Arduino source for the {sensor.part}"
                                    + (f" (library {lib!r})" if lib else " (no Arduino library listed)")
                                    + f"; mcuforge generates code for {supported}",
                                    hint="use --framework zephyr, or a host-fed source (--sensor replay)")
    return sensor


def _microphone_checks(sensor: Sensor, board: Board, framework: str) -> Sensor:
    """Live capture: Zephyr's DMIC API on the microphone's devicetree node, or the PDM library of
    Arduino's mbed cores (generator/sensor/microphone.py)."""
    from .microphone import ARDUINO_PDM_LIBRARY, DMIC_DRIVERS

    replay = "stream audio from the host instead: --sensor replay:microphone"
    if framework == "cmake":
        raise SensorConfigError("the bare-metal cmake flavor has no microphone driver; live capture needs "
                                "--framework zephyr (DMIC API) or platformio (Arduino PDM)", hint=replay)
    if framework == "zephyr":
        z = sensor.zephyr
        if z is None and sensor.dfsdm is not None:
            # no Zephyr driver: mcuforge's own DFSDM source through the STM32Cube HAL (microphone.py)
            if "hal_stm32" not in (board.zephyr.modules if board.zephyr else ()):
                raise SensorConfigError(f"board '{board.id}': the DFSDM source of the {sensor.part} needs the "
                                        "hal_stm32 module (STM32Cube HAL)", hint=replay)
            return sensor
        if z is None:
            raise SensorConfigError(f"board '{board.id}': Zephyr's devicetree does not describe the {sensor.part} "
                                    "(microphone), so live microphone capture has no DMIC device", hint=replay)
        if z.compatible not in DMIC_DRIVERS:
            raise SensorConfigError(f"board '{board.id}': no DMIC source for the {sensor.part} ({z.compatible}); "
                                    f"mcuforge knows {', '.join(sorted(DMIC_DRIVERS))}", hint=replay)
        return sensor
    if sensor.arduino_library != ARDUINO_PDM_LIBRARY:
        raise SensorConfigError(f"board '{board.id}': no Arduino source for the {sensor.part} (microphone); "
                                f"mcuforge generates one for the {ARDUINO_PDM_LIBRARY} library of Arduino's mbed "
                                "cores", hint=replay)
    return sensor


def _default_audio_features(spec: SensorSpec, rate: float, elements: int) -> SensorSpec:
    """Audio for a model whose input is the standard MFCC front end's output (e.g. kws_ref_model,
    49 x 10): one second windows through `features: {kind: mfcc}` unless the yaml says otherwise."""
    if spec.kind != "microphone" or spec.features is not None or spec.window is not None or rate != int(rate):
        return spec
    try:
        stage = _feature_stage({"kind": "mfcc"}, rate, int(rate), 1, "time_major")
    except SensorConfigError:
        return spec
    if stage.output_elements != elements:
        return spec
    return spec.model_copy(update={"features": {"kind": "mfcc"}, "window": int(rate)})


def resolve(spec: SensorSpec, graph: Graph, board: Board, framework: str) -> Pipeline:
    """Checks `spec` against the model and the board and fills in every default."""
    if spec.camera is not None and spec.kind != "camera":
        raise SensorConfigError(f"sensor.camera is set but sensor.kind is {spec.kind!r}", hint="set kind: camera")
    sensor = _source_checks(spec, board, framework)
    if spec.kind == "camera":
        return _resolve_camera(spec, graph, board, framework, sensor)
    t = _single_input(graph, "sensor pipeline")
    elements = t.size

    # channels
    if spec.channels is not None:
        channels = list(spec.channels)
    elif spec.kind is not None:
        channels = list(_KIND_CHANNELS[spec.kind])
    else:
        channels = _generic_channels(t.shape, elements)
    if not channels:
        raise SensorConfigError("sensor.channels: at least one channel is needed")
    dup = sorted({c for c in channels if channels.count(c) > 1})
    if dup:
        raise SensorConfigError(f"sensor.channels: {', '.join(dup)} listed twice")
    for c in channels:
        if c not in CHANNELS and not (spec.source in HOST_SOURCES and _is_generic(c)):
            close = difflib.get_close_matches(c, list(CHANNELS), n=1)
            raise SensorConfigError(f"sensor.channels: unknown channel {c!r}"
                                    + (f"; did you mean {close[0]!r}?" if close else "")
                                    + (" (host-fed sources may also use ch0, ch1, …)" if spec.source != "board"
                                       else ""))
    if sensor is not None:
        have = {c for g in sensor.channels for c in _group_channels(g)}
        missing = [c for c in channels if c not in have]
        if missing:
            raise SensorConfigError(f"the {sensor.part} on board '{board.id}' has no channel "
                                    f"{', '.join(missing)} (it has {', '.join(sensor.channels) or 'none listed'})")
    n_ch = len(channels)

    # units
    quantities = sorted({CHANNELS[c].quantity if c in CHANNELS else "raw" for c in channels})
    units: dict[str, str] = {}
    given = dict(spec.units or {})
    for q in quantities:
        u = given.pop(q, UNIT_CHOICES[q][0])
        if u not in UNIT_CHOICES[q]:
            raise SensorConfigError(f"sensor.units.{q}: unknown unit {u!r} (choose {', '.join(UNIT_CHOICES[q])})")
        units[q] = u
    if given:
        raise SensorConfigError(f"sensor.units: {', '.join(sorted(given))} not measured by the channels "
                                f"({', '.join(channels)})")

    # rate
    rate = float(spec.rate_hz) if spec.rate_hz is not None else _KIND_RATE.get(spec.kind or "", 50.0)
    if sensor is not None and sensor.max_rate_hz is not None and rate > sensor.max_rate_hz:
        raise SensorConfigError(f"sensor.rate_hz: the {sensor.part} samples at most {sensor.max_rate_hz:g} Hz, "
                                f"not {rate:g} Hz")
    if sensor is not None and framework == "platformio":
        lib_rate = ARDUINO_LIBRARIES[sensor.arduino_library or ""].max_rate_hz
        if lib_rate is not None and rate > lib_rate:
            raise SensorConfigError(f"sensor.rate_hz: {sensor.arduino_library} delivers at most {lib_rate:g} "
                                    f"samples/s, not {rate:g}")
    if rate > 1e6:
        raise SensorConfigError(f"sensor.rate_hz: {rate:g} Hz is above 1 MHz (sources pace in microseconds)")
    if sensor is not None and sensor.kind == "microphone":
        from .microphone import CaptureError, capture_plan

        try:
            capture_plan(sensor, framework, rate, channels, board.clock_hz)
        except CaptureError as exc:
            raise SensorConfigError(f"sensor: {exc}", hint="stream audio from the host instead: "
                                    "--sensor replay:microphone") from exc
    spec = _default_audio_features(spec, rate, elements)

    # layout, window, hop
    layout = spec.layout or _default_layout(t.shape, n_ch)
    features = None
    if spec.features is not None:
        if spec.window is None:
            raise SensorConfigError("sensor.window is needed with a feature stage (samples per inference)")
        window = spec.window
        features = _feature_stage(dict(spec.features), rate, window, n_ch, layout)
        if features.output_elements != elements:
            raise SensorConfigError(f"the {features.kind} stage makes {features.output_elements} values per "
                                    f"window but input '{t.name}' {list(t.shape)} has {elements} elements")
    else:
        if spec.window is not None:
            window = spec.window
        elif elements % n_ch == 0:
            window = elements // n_ch
        else:
            raise SensorConfigError(f"input '{t.name}' {list(t.shape)} has {elements} elements, not a multiple "
                                    f"of the {n_ch} channels ({', '.join(channels)})",
                                    hint="list the channels the model was trained on in sensor.channels")
        if window * n_ch != elements:
            raise SensorConfigError(f"window × channels = {window} × {n_ch} = {window * n_ch}, but input "
                                    f"'{t.name}' {list(t.shape)} has {elements} elements",
                                    hint=f"window {elements // n_ch} fits" if elements % n_ch == 0 else None)
        _check_shape_layout(t.name, t.shape, window, n_ch, layout)
    hop = spec.hop if spec.hop is not None else max(1, window // 2)
    if hop > window:
        raise SensorConfigError(f"sensor.hop {hop} is larger than the window {window}: samples would be skipped",
                                hint=f"hop between 1 and {window}")

    offset = _per_channel("offset", spec.offset, n_ch, channels)
    scale = _per_channel("scale", spec.scale, n_ch, channels)
    lo, hi = _clip(spec.clip, n_ch, channels)

    qscale, qzero = _input_quant(t)
    return Pipeline(source=spec.source, kind=spec.kind, part=sensor.part if sensor else spec.part,
                    framework=framework, rate_hz=rate, channels=tuple(channels), units=units, window=window,
                    hop=hop, layout=layout, offset=offset, scale=scale, clip_lo=lo, clip_hi=hi, features=features,
                    feature_params=dict(spec.features) if spec.features is not None else None,
                    input_index=0, input_name=t.name, input_shape=tuple(t.shape), input_dtype=t.dtype,
                    input_scale=qscale, input_zero_point=qzero, sensor=sensor, clock_hz=board.clock_hz)


def _single_input(graph: Graph, what: str) -> Any:
    """The model's one input tensor, which a `what` can fill: int8 or int16 (16x8 models) with
    per-tensor quantization, or float32."""
    if len(graph.inputs) != 1:
        raise SensorConfigError(f"a {what} feeds single-input models; this model has {len(graph.inputs)} inputs")
    t = graph.tensors[graph.inputs[0]]
    if t.dtype not in ("int8", "int16", "float32"):
        raise SensorConfigError(f"input '{t.name}' is {t.dtype}; the {what} writes int8, int16 or float32 inputs")
    if t.dtype in QUANTIZED_INPUTS and (t.quant is None or t.quant.per_channel):
        raise SensorConfigError(f"input '{t.name}' is {t.dtype} without per-tensor quantization parameters")
    return t


def _input_quant(t: Any) -> tuple[np.float32 | None, int | None]:
    """The int8 / int16 input's scale (as float32, the precision the device uses) and zero point;
    None, None for a float32 input."""
    if t.dtype not in QUANTIZED_INPUTS:
        return None, None
    assert t.quant is not None
    qscale = np.float32(t.quant.scale[0])
    if not (np.isfinite(qscale) and qscale > 0):
        raise SensorConfigError(f"input '{t.name}' has quantization scale {float(qscale)}")
    return qscale, int(t.quant.zero_point[0])


def _camera_input(graph: Graph) -> Any:
    t = _single_input(graph, "camera pipeline")
    dims = list(t.shape)
    if len(dims) == 4 and dims[0] == 1:
        dims = dims[1:]
    if len(dims) != 3 or dims[2] not in (1, 3):
        raise SensorConfigError(f"input '{t.name}' {list(t.shape)} is not an image [1, height, width, channels] with "
                                "1 (gray) or 3 (RGB) channels: a camera pipeline cannot fill it",
                                hint="camera pipelines feed NHWC image models")
    return t, dims[0], dims[1], dims[2]


def _camera_caps(sensor: Sensor | None, framework: str) -> SensorCamera | None:
    """What a board camera delivers: through Arduino's Camera library (platformio), or through its
    Zephyr driver as the board file says (None: not described, nothing to check)."""
    if sensor is None:
        return None
    if framework == "platformio":
        return arduino_camera_caps(sensor.part)
    return sensor.camera


def _default_camera(caps: SensorCamera | None, dst_w: int, dst_h: int) -> CameraSpec:
    """The camera settings when mcuforge.yaml gives none: CameraSpec's defaults, or for a board
    camera that cannot deliver them, its first format and the smallest frame it delivers that
    covers the model input."""
    base = CameraSpec()
    if caps is None:
        return base
    fmt = base.format if base.format in caps.formats else caps.formats[0]
    if caps.allows(base.width, base.height):
        return CameraSpec(format=fmt, width=base.width, height=base.height)
    sizes = [s for s in caps.sizes if s[0] >= dst_w and s[1] >= dst_h]
    if caps.min_size is not None and caps.max_size is not None:
        w, h = max(caps.min_size[0], dst_w), max(caps.min_size[1], dst_h)
        if caps.allows(w, h):
            sizes.append((w, h))
    w, h = min(sizes, key=lambda s: s[0] * s[1]) if sizes else (base.width, base.height)
    return CameraSpec(format=fmt, width=w, height=h)


def _resolve_camera(spec: SensorSpec, graph: Graph, board: Board, framework: str, sensor: Sensor | None) -> Pipeline:
    """A camera pipeline: frames → crop → resize → colours → normalization → quantization."""
    t, dst_h, dst_w, dst_c = _camera_input(graph)
    caps = _camera_caps(sensor, framework)
    cs = spec.camera or _default_camera(caps, dst_w, dst_h)
    for name in ("channels", "units", "window", "hop", "layout", "features"):
        if getattr(spec, name) is not None:
            raise SensorConfigError(f"sensor.{name} does not apply to a camera (frames are the windows)",
                                    hint="describe the frames in sensor.camera (format, width, height, crop, resize)")
    if cs.format not in CAMERA_FORMATS:
        close = difflib.get_close_matches(cs.format, list(CAMERA_FORMATS), n=1)
        raise SensorConfigError(f"sensor.camera.format: unsupported pixel format {cs.format!r}"
                                + (f"; did you mean {close[0]!r}?" if close else "")
                                + f" (formats: {', '.join(CAMERA_FORMATS)})")
    fmt = CAMERA_FORMATS[cs.format]
    w, h = cs.width, cs.height
    if fmt.name == "yuyv" and w % 2:
        raise SensorConfigError(f"sensor.camera: YUYV frames have an even width (pixel pairs share U and V), not {w}")
    if isinstance(cs.crop, list):
        if len(cs.crop) != 4 or any(v < 0 for v in cs.crop):
            raise SensorConfigError(f"sensor.camera.crop: expected center, none or [x, y, width, height], "
                                    f"got {cs.crop}")
        cx, cy, cw, ch = (int(v) for v in cs.crop)
        if cw < 1 or ch < 1 or cx + cw > w or cy + ch > h:
            raise SensorConfigError(f"sensor.camera.crop {cs.crop} is not inside the {w}×{h} frame")
    elif cs.crop == "center":
        cx, cy, cw, ch = center_crop(w, h, dst_w, dst_h)
    else:
        cx, cy, cw, ch = 0, 0, w, h
    if sensor is not None and caps is not None:
        if cs.format not in caps.formats:
            raise SensorConfigError(f"sensor.camera.format: the {sensor.part} on board '{board.id}' does not deliver "
                                    f"{cs.format} frames (it delivers {', '.join(caps.formats)})",
                                    hint=f"format: {caps.formats[0]}")
        if not caps.allows(w, h):
            raise SensorConfigError(f"sensor.camera: the {sensor.part} on board '{board.id}' does not deliver "
                                    f"{w}×{h} frames ({caps.describe_sizes()})",
                                    hint="a frame size it delivers; crop and resize make the model's input from it")
    if w < dst_w or h < dst_h:
        raise SensorConfigError(f"sensor.camera: the {w}×{h} frames are smaller than input '{t.name}' "
                                f"({dst_w}×{dst_h}); the glue only scales down",
                                hint=f"a camera resolution of at least {dst_w}×{dst_h}")
    if cw < dst_w or ch < dst_h:
        raise SensorConfigError(f"sensor.camera: the crop {cw}×{ch} of the {w}×{h} frame is smaller than input "
                                f"'{t.name}' ({dst_w}×{dst_h}); the glue only scales down",
                                hint="crop: none, or a larger crop / camera resolution")
    if spec.source in HOST_SOURCES and (w * h * fmt.bytes_per_pixel) % 4:
        raise SensorConfigError(f"sensor.camera: a {w}×{h} {fmt.name} frame is {w * h * fmt.bytes_per_pixel} bytes, "
                                "not a multiple of 4 (the SAMPLES stream carries 4-byte words)",
                                hint="an even width or height")
    bgr = cs.channel_order == "bgr"
    channels = ("gray",) if dst_c == 1 else (("b", "g", "r") if bgr else ("r", "g", "b"))
    # normalization: the 8-bit values, by default to [0, 1] (scale 1/255) unless the yaml says otherwise
    scale_value: float | list[float] = spec.scale if "scale" in spec.model_fields_set else 1.0 / 255.0
    offset = _per_channel("offset", spec.offset, dst_c, channels)
    scale = _per_channel("scale", scale_value, dst_c, channels)
    lo, hi = _clip(spec.clip, dst_c, channels)
    rate = float(spec.rate_hz) if spec.rate_hz is not None else _KIND_RATE["camera"]
    qscale, qzero = _input_quant(t)
    if qscale is not None and qzero is not None:
        s8, z8, dt = qscale, qzero, t.dtype
        lut = value_lut(lambda y: quantize_input(y, dt, s8, z8), offset, scale, lo, hi)
    else:
        lut = value_lut(lambda y: y.astype(np.float32), offset, scale, lo, hi)
    cam = Camera(fmt.name, w, h, (cx, cy, cw, ch), dst_w, dst_h, dst_c, cs.resize, cs.yuv_range == "limited", bgr, lut)
    frame_words = max(1, cam.frame_bytes // 4)
    return Pipeline(source=spec.source, kind="camera", part=sensor.part if sensor else spec.part, framework=framework,
                    rate_hz=rate, channels=channels, units={}, window=frame_words, hop=frame_words,
                    layout="time_major", offset=offset, scale=scale, clip_lo=lo, clip_hi=hi, features=None,
                    feature_params=None, input_index=0, input_name=t.name, input_shape=tuple(t.shape),
                    input_dtype=t.dtype, input_scale=qscale, input_zero_point=qzero, sensor=sensor, camera=cam)


def _is_generic(name: str) -> bool:
    return name.startswith("ch") and name[2:].isdigit()


def _squeeze(shape: Sequence[int]) -> list[int]:
    return [d for d in shape if d != 1]


def _generic_channels(shape: Sequence[int], elements: int) -> list[str]:
    """Channels of a host-fed stream with no kind: the last dimension of a [.., W, C] input."""
    dims = _squeeze(shape)
    n = dims[-1] if len(dims) == 2 else 1
    return [f"ch{i}" for i in range(n)]


def _default_layout(shape: Sequence[int], channels: int) -> str:
    dims = _squeeze(shape)
    if len(dims) == 2 and dims[0] == channels and dims[1] != channels:
        return "channel_major"
    return "time_major"


def _check_shape_layout(name: str, shape: Sequence[int], window: int, channels: int, layout: str) -> None:
    dims = _squeeze(shape)
    if len(dims) != 2 or window == 1 or channels == 1:
        return  # flat: any order of the same number of values fits
    want = (window, channels) if layout == "time_major" else (channels, window)
    if tuple(dims) != want:
        other = "channel_major" if layout == "time_major" else "time_major"
        raise SensorConfigError(f"input '{name}' {list(shape)} is not {layout.replace('_', '-')} for window "
                                f"{window} × {channels} channels (expected {list(want)} without 1s)",
                                hint=f"set sensor.layout: {other}, or the window/channels the model was trained on")


# ---- the --sensor option ---------------------------------------------------------------------------


def spec_from_option(option: str) -> SensorSpec:
    """``--sensor KIND[:PART]``: ``accelerometer``, ``imu:lsm6dsl``, ``serial``, ``replay``,
    ``replay:accelerometer`` (a host-fed stream carrying that kind of data)."""
    head_text, _, tail_text = option.strip().partition(":")
    head, tail = head_text.strip().lower(), tail_text.strip().lower() or None
    if head in HOST_SOURCES:
        if tail is not None and tail not in KINDS:
            close = difflib.get_close_matches(tail, KINDS, n=1)
            raise SensorConfigError(f"--sensor {option}: unknown kind {tail!r}"
                                    + (f"; did you mean {close[0]!r}?" if close else "")
                                    + f" (kinds: {', '.join(KINDS)})")
        return SensorSpec(source=head, kind=tail)  # type: ignore[arg-type]
    if head not in KINDS:
        choices = [*KINDS, *HOST_SOURCES]
        close = difflib.get_close_matches(head, choices, n=1)
        raise SensorConfigError(f"--sensor {option}: unknown sensor kind {head!r}"
                                + (f"; did you mean {close[0]!r}?" if close else ""),
                                hint=f"KIND[:PART] with KIND one of {', '.join(KINDS)}, or serial / replay")
    return SensorSpec(source="board", kind=head, part=tail)
