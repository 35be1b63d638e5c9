"""Host reference of the sensor pipeline: the input tensors the device must build, bit for bit.

`input_tensors` applies the stages of `Pipeline` (see pipeline.py) to a recording with numpy in
float32, in the order ``runtime/sensor/mcf_sensor.c`` does them, one operation at a time, so each
intermediate value is rounded to float32 exactly as the C code rounds it:

    y = (x - offset[c]) * scale[c]          two float32 operations (never fused into one)
    y = y < lo[c] ? lo[c] : (y > hi[c] ? hi[c] : y)   (NaN passes, as in C)
    int8:  q = y / s  (float32); NaN → 0; q clamped to ±512; r = round half away from zero
           (trunc, then ±1 when the exact fraction is ≥ 0.5); clamp(r + zero_point, -128, 127)
    int16: the same with q clamped to ±131072 and clamp(r + zero_point, -32768, 32767)

which is TFLite's QUANTIZE (float32 → int8 / int16) as `runtime/kernels/quantize.c` and
`quantize_s16.c` compute it.

`load_recording` reads a CSV (a header naming the channels; other columns such as a time column are
allowed and, when named t/time/timestamp, checked against the pipeline's rate), a .npy array
``[samples, channels]`` in channel order, or a 16-bit PCM WAV file at the pipeline's rate (audio).
Missing or non-numeric values are refused with the line and column.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from .pipeline import Pipeline, SensorConfigError
from .quantize import QUANTIZED_INPUTS, quantize_input, quantize_int8, quantize_int16

__all__ = ["RecordingError", "input_tensors", "load_recording", "quantize_int8", "quantize_int16", "scaled_windows",
           "stream_samples", "window_starts"]

TIME_COLUMNS = ("t", "time", "timestamp", "time_s", "t_s")


class RecordingError(SensorConfigError):
    """A recording cannot be used with the pipeline (unreadable, wrong columns, bad values, wrong rate)."""


def window_starts(pipeline: Pipeline, samples: int) -> np.ndarray:
    """Index of the first sample of every window a stream of `samples` samples completes."""
    return np.arange(pipeline.windows_in(samples), dtype=np.int64) * pipeline.hop


def scaled_windows(pipeline: Pipeline, samples: np.ndarray) -> np.ndarray:
    """float32 ``[windows, W * C]``: each window scaled, clipped and laid out as the model expects
    (before any feature stage and before quantization)."""
    x = _as_samples(pipeline, samples)
    starts = window_starts(pipeline, x.shape[0])
    idx = starts[:, None] + np.arange(pipeline.window)[None, :]
    w = x[idx]  # [K, W, C] float32
    with np.errstate(over="ignore", invalid="ignore"):  # inf and NaN behave as in C
        y = (w - pipeline.offset) * pipeline.scale  # float32 - float32, then float32 * float32
        if pipeline.clip_lo is not None and pipeline.clip_hi is not None:
            lo, hi = pipeline.clip_lo, pipeline.clip_hi
            y = np.where(y < lo, lo, np.where(y > hi, hi, y))
    if pipeline.layout == "channel_major":
        y = np.transpose(y, (0, 2, 1))
    return np.ascontiguousarray(y.reshape(len(starts), -1), dtype=np.float32)


def input_tensors(pipeline: Pipeline, samples: np.ndarray) -> np.ndarray:
    """The model input of every window, ``[windows, *input_shape]``, int8, int16 or float32. Camera
    pipelines: `samples` are frames (uint8 ``[frames, frame bytes]`` raw, or an array
    `load_recording` accepts), one input per frame."""
    if pipeline.camera is not None:
        return _camera_tensors(pipeline, samples)
    if pipeline.ring_int16:  # the device keeps int16 samples: round and saturate as mcf_sensor.c does
        samples = to_int16(_as_samples(pipeline, samples)).astype(np.float32)
    y = scaled_windows(pipeline, samples)
    if pipeline.features is not None:
        y = np.stack([np.asarray(pipeline.features.reference(w), dtype=np.float32).reshape(-1) for w in y]) \
            if len(y) else np.zeros((0, pipeline.input_elements), np.float32)
    if pipeline.input_dtype in QUANTIZED_INPUTS:
        assert pipeline.input_scale is not None and pipeline.input_zero_point is not None
        out = quantize_input(y, pipeline.input_dtype, pipeline.input_scale, pipeline.input_zero_point)
    else:
        out = y.astype(np.float32)
    return out.reshape((len(out), *pipeline.input_shape))


def to_int16(values: np.ndarray) -> np.ndarray:
    """float32 → int16 as mcf_sensor.c's int16 ring stores a sample: NaN → 0, saturated to
    -32768..32767, rounded half away from zero."""
    v = np.asarray(values, dtype=np.float32)
    v = np.where(np.isnan(v), np.float32(0), v)
    v = np.clip(v, np.float32(-32768), np.float32(32767))
    t = np.trunc(v)
    frac = v - t
    r = t.astype(np.int32) + (frac >= 0.5).astype(np.int32) - (frac <= -0.5).astype(np.int32)
    return np.clip(r, -32768, 32767).astype(np.int16)


def _camera_frames(pipeline: Pipeline, frames: np.ndarray) -> np.ndarray:
    from .camera import frame_bytes_from_array

    cam = pipeline.camera
    assert cam is not None
    a = np.asarray(frames)
    if a.dtype == np.uint8 and a.ndim == 2 and a.shape[1] == cam.frame_bytes:
        return a
    try:
        return frame_bytes_from_array(a, cam)
    except ValueError as exc:
        raise RecordingError(str(exc)) from None


def _camera_tensors(pipeline: Pipeline, frames: np.ndarray) -> np.ndarray:
    from .camera import frame_tensor

    cam = pipeline.camera
    assert cam is not None
    raw = _camera_frames(pipeline, frames)
    dtype = QUANTIZED_INPUTS[pipeline.input_dtype][0] if pipeline.input_dtype in QUANTIZED_INPUTS else np.float32
    out = np.stack([frame_tensor(f, cam) for f in raw]) if len(raw) else np.zeros((0, *pipeline.input_shape), dtype)
    return out.astype(dtype, copy=False).reshape((len(raw), *pipeline.input_shape))


def stream_samples(pipeline: Pipeline, samples: np.ndarray) -> np.ndarray:
    """What `Device.replay` streams for `samples`: the samples themselves, or for a camera the raw
    frame bytes as ``[words, 1]`` float32 values (a view of the bytes, 4 per SAMPLES "sample":
    the device's camera glue reads the bytes, whatever float they spell)."""
    if pipeline.camera is None:
        return samples
    raw = _camera_frames(pipeline, samples)
    return np.frombuffer(np.ascontiguousarray(raw).tobytes(), dtype="<f4").reshape(-1, 1)


def _as_samples(pipeline: Pipeline, samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples)
    if x.ndim == 1 and pipeline.num_channels == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != pipeline.num_channels:
        raise RecordingError(f"samples must be [samples, {pipeline.num_channels}] "
                             f"({', '.join(pipeline.channels)}), got {list(x.shape)}")
    return np.ascontiguousarray(x, dtype=np.float32)


# ---- recordings ------------------------------------------------------------------------------------


def load_recording(path: Path, pipeline: Pipeline) -> np.ndarray:
    """float32 ``[samples, channels]`` in the pipeline's channel order, from a .csv, .npy or .wav
    file; camera pipelines: uint8 ``[frames, frame bytes]`` raw frames from a .npy file."""
    path = Path(path)
    if not path.is_file():
        raise RecordingError(f"recording {path} not found" if not path.exists() else f"recording {path} is not a file")
    suffix = path.suffix.lower()
    if pipeline.camera is not None:
        if suffix != ".npy":
            raise RecordingError(f"{path}: camera frames are replayed from a .npy array (uint8 [frames, height, "
                                 "width, bytes per pixel], or uint16 [frames, height, width] RGB565)")
        try:
            x = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise RecordingError(f"cannot read {path}: {exc}") from exc
        from .camera import frame_bytes_from_array

        try:
            return frame_bytes_from_array(x, pipeline.camera, what=str(path))
        except ValueError as exc:
            raise RecordingError(str(exc)) from None
    if suffix == ".npy":
        return _load_npy(path, pipeline)
    if suffix in (".csv", ".txt"):
        return _load_csv(path, pipeline)
    if suffix == ".wav":
        return _load_wav(path, pipeline)
    raise RecordingError(f"{path}: unknown recording format {suffix or '(no suffix)'}; use .csv or .npy")


def _check_values(path: Path, x: np.ndarray, pipeline: Pipeline) -> np.ndarray:
    bad = np.argwhere(~np.isfinite(x))
    if len(bad):
        row, col = (int(v) for v in bad[0])
        raise RecordingError(f"{path}: sample {row} channel {pipeline.channels[col]}: {x[row, col]} is not a "
                             f"finite number ({len(bad)} such values)")
    f32 = x.astype(np.float32)
    big = np.argwhere(~np.isfinite(f32))
    if len(big):
        row, col = (int(v) for v in big[0])
        raise RecordingError(f"{path}: sample {row} channel {pipeline.channels[col]}: {x[row, col]} is out of "
                             "float32 range")
    if f32.shape[0] < pipeline.window:
        raise RecordingError(f"{path}: {f32.shape[0]} samples, fewer than one window ({pipeline.window})")
    return f32


def _load_npy(path: Path, pipeline: Pipeline) -> np.ndarray:
    try:
        x = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise RecordingError(f"cannot read {path}: {exc}") from exc
    if x.dtype.kind not in "fiu":
        raise RecordingError(f"{path}: holds {x.dtype} values, not numbers")
    if x.ndim == 1 and pipeline.num_channels == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != pipeline.num_channels:
        raise RecordingError(f"{path}: array {list(x.shape)} is not [samples, {pipeline.num_channels}] "
                             f"(columns {', '.join(pipeline.channels)})")
    return _check_values(path, x.astype(np.float64), pipeline)


def _load_wav(path: Path, pipeline: Pipeline) -> np.ndarray:
    """16-bit PCM WAV, one file channel per pipeline channel, at the pipeline's rate; the samples
    keep their int16 values (as float32: exact), which is what the audio feature stage expects."""
    import wave

    try:
        with wave.open(str(path), "rb") as w:
            rate, width, nch, frames = w.getframerate(), w.getsampwidth(), w.getnchannels(), w.getnframes()
            raw = w.readframes(frames)
    except (OSError, EOFError, wave.Error) as exc:
        raise RecordingError(f"cannot read {path} as a PCM WAV file: {exc}") from exc
    if width != 2:
        raise RecordingError(f"{path}: {8 * width}-bit samples; the pipeline reads 16-bit PCM WAV files")
    if nch != pipeline.num_channels:
        raise RecordingError(f"{path}: {nch} audio channel(s), the pipeline has {pipeline.num_channels} "
                             f"({', '.join(pipeline.channels)})")
    if rate != pipeline.rate_hz:
        raise RecordingError(f"{path}: recorded at {rate} Hz, the pipeline samples at {pipeline.rate_hz:g} Hz",
                             hint="resample the recording, or set sensor.rate_hz")
    x = np.frombuffer(raw, dtype="<i2").reshape(-1, nch).astype(np.float64)
    return _check_values(path, x, pipeline)


def _load_csv(path: Path, pipeline: Pipeline) -> np.ndarray:
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RecordingError(f"cannot read {path}: {exc}") from exc
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise RecordingError(f"{path} is empty")
    header = [h.strip() for h in rows[0]]
    try:
        [float(h) for h in header]
        raise RecordingError(f"{path}: the first line must name the columns ({', '.join(pipeline.channels)}), "
                             f"found numbers")
    except ValueError:
        pass
    cols = []
    for ch in pipeline.channels:
        if ch not in header:
            raise RecordingError(f"{path}: no column {ch!r} (columns: {', '.join(header)})",
                                 hint=f"the pipeline's channels are {', '.join(pipeline.channels)}")
        cols.append(header.index(ch))
    time_col = next((header.index(c) for c in TIME_COLUMNS if c in header), None)
    data = np.empty((len(rows) - 1, len(cols)), dtype=np.float64)
    times = np.empty(len(rows) - 1, dtype=np.float64) if time_col is not None else None
    for i, row in enumerate(rows[1:]):
        line = i + 2
        for j, c in enumerate(cols):
            data[i, j] = _cell(path, row, c, line, header[c])
        if times is not None and time_col is not None:
            times[i] = _cell(path, row, time_col, line, header[time_col])
    x = _check_values(path, data, pipeline)
    if times is not None and len(times) >= 2:
        _check_rate(path, times, pipeline)
    return x


def _cell(path: Path, row: list[str], col: int, line: int, name: str) -> float:
    if col >= len(row) or not row[col].strip():
        raise RecordingError(f"{path}:{line}: column {name!r} is missing a value")
    text = row[col].strip()
    try:
        v = float(text)
    except ValueError:
        raise RecordingError(f"{path}:{line}: column {name!r}: {text!r} is not a number") from None
    if not math.isfinite(v):
        raise RecordingError(f"{path}:{line}: column {name!r}: {text!r} is not a finite number")
    return v


def _check_rate(path: Path, t: np.ndarray, pipeline: Pipeline) -> None:
    dt = np.diff(t)
    if np.any(dt <= 0):
        k = int(np.argmax(dt <= 0))
        raise RecordingError(f"{path}:{k + 3}: time does not increase ({t[k]:g} then {t[k + 1]:g})")
    rate = 1.0 / float(np.median(dt))
    if abs(rate - pipeline.rate_hz) > 0.02 * pipeline.rate_hz:
        raise RecordingError(f"{path}: recorded at {rate:.4g} Hz (from its time column), the pipeline samples at "
                             f"{pipeline.rate_hz:g} Hz", hint="resample the recording, or set sensor.rate_hz")
