"""The int16 audio ring: audio pipelines with an MFCC stage and no scaling keep their samples as int16
(rounded half away from zero, saturated, NaN → 0) and the stage reads the ring in place, frame by
frame (mcf_mfcc_clip_ring_s16), with no float copy of the window.

The glue (runtime/sensor/mcf_sensor.c + mcf_mfcc.c) is compiled for this host with the generated
config and fed random audio in random chunks, so that the ring wraps at every offset a frame can
start at; every input tensor must equal generator/sensor/reference.py's bit for bit. Samples are
int16 values (what a WAV holds), then floats with fractions, halves, huge values and NaN (which the
ring rounds and saturates, as the twin does). A pipeline with scaling keeps the float ring; both
give the same tensors for int16 audio. The RAM figures of the kws pipeline are pinned.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from test_sensor_glue import HARNESS, SENSOR, Glue

from mcuforge.generator.sensor.codegen import config_header
from mcuforge.generator.sensor.features import mfcc_stage
from mcuforge.generator.sensor.pipeline import Pipeline
from mcuforge.generator.sensor.reference import input_tensors, to_int16

CC = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
pytestmark = pytest.mark.skipif(CC is None, reason="needs a host C compiler (apt-get install gcc)")

SMALL = {"frame_length": 200, "frame_step": 120, "fft_length": 256, "n_mels": 16, "n_mfcc": 6}


def audio_pipeline(window: int, hop: int, *, scale: float = 1.0, params: dict | None = None,
                   dtype: str = "int8") -> Pipeline:
    stage = mfcc_stage(dict(SMALL if params is None else params), 16000.0, window, 1, "time_major")
    return Pipeline(
        source="replay", kind="microphone", part=None, framework="cmake", rate_hz=16000.0, channels=("audio",),
        units={"audio": "raw"}, window=window, hop=hop, layout="time_major", offset=np.zeros(1, np.float32),
        scale=np.full(1, scale, np.float32), clip_lo=None, clip_hi=None, features=stage,
        feature_params={"kind": "mfcc", **SMALL}, input_index=0, input_name="x",
        input_shape=(1, stage.output_elements), input_dtype=dtype,
        input_scale=np.float32(0.6) if dtype == "int8" else None, input_zero_point=80 if dtype == "int8" else None,
        sensor=None)


class AudioGlue(Glue):
    """Glue with the feature stage's sources and generated files."""

    def __init__(self, p: Pipeline, workdir: Path) -> None:
        assert p.features is not None
        workdir.mkdir(parents=True, exist_ok=True)
        for name, text in p.features.c_files().items():
            (workdir / name).write_text(text)
        (workdir / "mcf_sensor_config.h").write_text(config_header(p, model_sha256="0" * 64, board_id="host"))
        self.p = p
        self.exe = workdir / "glue"
        proc = subprocess.run([CC, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I", workdir,
                               "-I", SENSOR, SENSOR / "mcf_sensor.c", SENSOR / "mcf_mfcc.c", HARNESS, "-o", self.exe,
                               "-lm"], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def chunks_of(x: np.ndarray, rng: np.random.Generator) -> list[np.ndarray | None]:
    out: list[np.ndarray | None] = []
    pos = 0
    while pos < len(x):
        n = int(rng.integers(1, 900))
        out.append(x[pos:pos + n])
        pos += n
    return out


def test_int16_ring_config_and_ram() -> None:
    p = audio_pipeline(2000, 700)
    assert p.ring_int16 and p.ring_bytes == 2 * 2000
    header = config_header(p, model_sha256="0" * 64, board_id="host")
    assert "#define MCF_SENSOR_RING_S16 1" in header and "mcf_mfcc_clip_ring_s16" in header
    scaled = audio_pipeline(2000, 700, scale=0.5)
    assert not scaled.ring_int16 and scaled.ring_bytes == 4 * 2000
    assert "MCF_SENSOR_RING_S16" not in config_header(scaled, model_sha256="0" * 64, board_id="host")
    # kws_ref_model: 1 s at 16 kHz through the MLPerf Tiny front end (49 × 10)
    kws = audio_pipeline(16000, 8000, params={})
    stage_out, scratch, counters = 4 * 49 * 10, 4 * (512 + 256 + 1), 32
    assert kws.ram_bytes == 2 * 16000 + stage_out + scratch + counters == 37_068
    float_ring = audio_pipeline(16000, 8000, scale=0.999, params={})
    assert float_ring.ram_bytes == 4 * 16000 + 4 * 16000 + stage_out + scratch + counters == 133_068


@pytest.mark.parametrize(("hop", "dtype"), [(700, "float32"), (120, "float32"), (1999, "int8")])
def test_int16_ring_glue_matches_reference(tmp_path: Path, hop: int, dtype: str) -> None:
    """float32 inputs expose the features themselves: one sample off by one LSB shows."""
    p = audio_pipeline(2000, hop, dtype=dtype)
    glue = AudioGlue(p, tmp_path / "g")
    rng = np.random.default_rng(hop)
    n = 2000 + 9 * hop + 37
    pcm = rng.integers(-32768, 32768, n).astype(np.float32)  # a WAV's values
    quiet = rng.random(n) < 0.3  # quiet stretches: the peak gain varies per window
    pcm[quiet] = np.round(pcm[quiet] * np.float32(0.02))
    floats = rng.normal(0, 9000, n).astype(np.float32)
    floats[::7] = np.round(floats[::7]) + np.float32(0.5)  # exact halves
    floats[::11] = -np.round(floats[::11]) - np.float32(0.5)
    floats[5::97] = np.float32(1e9)
    floats[6::97] = np.float32(-1e9)
    floats[7::97] = np.nan
    for x in (pcm, floats):
        chunks = chunks_of(x[:, None], rng)
        predicted, actual, tensors = glue.run(chunks)
        assert predicted == actual
        want = input_tensors(p, x[:, None])
        assert len(tensors) == len(want) == p.windows_in(n)
        for k, (got, ref) in enumerate(zip(tensors, want, strict=True)):
            assert got.tobytes() == ref.tobytes(), (hop, k)


def test_float_ring_and_int16_ring_agree_on_pcm(tmp_path: Path) -> None:
    """The int16 ring changes nothing for int16 audio: same tensors as the float ring with scale 1."""
    x = np.random.default_rng(1).integers(-20000, 20000, (2000 + 4 * 700, 1)).astype(np.float32)
    p16 = audio_pipeline(2000, 700)
    p32 = audio_pipeline(2000, 700, scale=np.nextafter(np.float32(1), np.float32(2)))
    assert p16.ring_int16 and not p32.ring_int16
    _, _, got16 = AudioGlue(p16, tmp_path / "a").run([x])
    want = input_tensors(p16, x)
    assert all(np.array_equal(g, w.reshape(-1)) for g, w in zip(got16, want, strict=True))
    assert np.array_equal(to_int16(np.array([0.5, -0.5, 1.49, 32767.6, -40000, np.nan], np.float32)),
                          np.array([1, -1, 1, 32767, -32768, 0], np.int16))
