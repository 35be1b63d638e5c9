"""The device glue (runtime/sensor/mcf_sensor.c) against the host reference (generator/sensor/reference.py).

For many pipelines (channels, window, hop, layout, per-channel offset/scale/clip, int8 with
various scales and zero points, float32 passthrough) the C code is compiled for this host with a
config header from `config_header`, fed random recordings in random chunk sizes (with resets), and
every input tensor it builds must equal, byte for byte, what `input_tensors` computes. The
recordings include values that land exactly on quantization rounding boundaries, huge values,
infinities and NaN. `mcf_sensor_windows_after` must announce exactly the windows each chunk completes.
"""

from __future__ import annotations

import itertools
import os
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mcuforge.generator.sensor.codegen import config_header
from mcuforge.generator.sensor.pipeline import Pipeline
from mcuforge.generator.sensor.reference import input_tensors, quantize_int8

REPO = Path(__file__).resolve().parents[1]
SENSOR = REPO / "runtime" / "sensor"
HARNESS = Path(__file__).resolve().parent / "c" / "sensor_harness.c"
CC = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")

pytestmark = pytest.mark.skipif(CC is None, reason="needs a host C compiler (apt-get install gcc)")


def make_pipeline(*, channels: int, window: int, hop: int, layout: str = "time_major",
                  offset: list[float] | None = None, scale: list[float] | None = None,
                  clip: tuple[list[float], list[float]] | None = None, dtype: str = "int8",
                  qscale: float = 0.05, qzero: int = 0) -> Pipeline:
    names = tuple(f"ch{i}" for i in range(channels))
    return Pipeline(
        source="replay", kind=None, part=None, framework="cmake", rate_hz=100.0, channels=names,
        units={"raw": "raw"}, window=window, hop=hop, layout=layout,
        offset=np.array(offset or [0.0] * channels, np.float32), scale=np.array(scale or [1.0] * channels, np.float32),
        clip_lo=np.array(clip[0], np.float32) if clip else None,
        clip_hi=np.array(clip[1], np.float32) if clip else None,
        features=None, feature_params=None, input_index=0, input_name="x", input_shape=(1, window * channels),
        input_dtype=dtype, input_scale=np.float32(qscale) if dtype == "int8" else None,
        input_zero_point=qzero if dtype == "int8" else None, sensor=None)


class Glue:
    """The harness built for one pipeline."""

    def __init__(self, p: Pipeline, workdir: Path, flags: tuple[str, ...] = ()) -> None:
        self.p = p
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "mcf_sensor_config.h").write_text(config_header(p, model_sha256="0" * 64, board_id="host"))
        self.exe = workdir / "glue"
        subprocess.run([CC, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", *flags, "-I", workdir,
                        "-I", SENSOR, SENSOR / "mcf_sensor.c", HARNESS, "-o", self.exe], check=True,
                       capture_output=True)

    def run(self, chunks: list[np.ndarray | None]) -> tuple[list[int], list[int], list[np.ndarray]]:
        """chunks: [n, C] float32 arrays, or None for a reset. → predicted and actual windows per
        chunk, and every tensor built."""
        stdin = bytearray()
        for c in chunks:
            if c is None:
                stdin += struct.pack("<I", 0xFFFFFFFF)
            else:
                stdin += struct.pack("<I", len(c)) + np.ascontiguousarray(c, np.float32).tobytes()
        out = subprocess.run([self.exe], input=bytes(stdin), capture_output=True, check=True).stdout
        size = self.p.input_bytes
        dt = np.int8 if self.p.input_dtype == "int8" else np.float32
        predicted, actual, tensors = [], [], []
        pos = 0
        for c in chunks:
            if c is None:
                continue
            pred, done = struct.unpack_from("<II", out, pos)
            pos += 8
            predicted.append(pred)
            actual.append(done)
            for _ in range(done):
                tensors.append(np.frombuffer(out[pos:pos + size], dtype=dt).copy())
                pos += size
        assert pos == len(out)
        return predicted, actual, tensors


def with_extremes(x: np.ndarray, rng: np.random.Generator) -> None:
    """About 4 % of the samples in x (float32) replaced in place: ±3e38, ±inf, NaN and 0."""
    picks = rng.random(x.shape)
    x[picks < 0.01] = np.float32(3e38)
    x[(picks >= 0.01) & (picks < 0.02)] = -np.float32(3e38)
    x[(picks >= 0.02) & (picks < 0.025)] = np.inf
    x[(picks >= 0.025) & (picks < 0.03)] = -np.inf
    x[(picks >= 0.03) & (picks < 0.035)] = np.nan
    x[(picks >= 0.035) & (picks < 0.04)] = 0.0


def special_values(p: Pipeline, rng: np.random.Generator, n: int) -> np.ndarray:
    """Samples whose scaled value lands on quantization rounding boundaries (k + 0.5) * qscale,
    next to them, and on extremes."""
    c = p.num_channels
    x = rng.normal(0.0, 3.0, size=(n, c)).astype(np.float32)
    if p.input_dtype == "int8":
        s = np.float32(p.input_scale)
        k = rng.integers(-140, 140, size=(n, c)).astype(np.float32)
        y = (k + np.float32(0.5)) * s  # scaled values on a .5 boundary (before division rounding)
        # invert the scaling so that (x - offset) * scale ≈ y; exactness is not needed: C and numpy
        # see the same x, and the neighbourhood of the boundary is what matters
        x = (y / p.scale + p.offset).astype(np.float32)
        nudge = rng.integers(-2, 3, size=(n, c))
        x = np.nextafter(x, np.where(nudge > 0, np.inf, -np.inf).astype(np.float32)) * (nudge != 0) + x * (nudge == 0)
        x = x.astype(np.float32)
    with_extremes(x, rng)
    return x


def random_chunks(recordings: list[np.ndarray], rng: np.random.Generator, hop: int) -> list[np.ndarray | None]:
    """The recordings pushed in chunks of 0 to 2 * hop + 2 samples, a reset (None) between two."""
    chunks: list[np.ndarray | None] = []
    for k, rec in enumerate(recordings):
        if k:
            chunks.append(None)
        pos = 0
        while pos < len(rec):
            n = int(rng.integers(0, 2 * hop + 3))
            chunks.append(rec[pos:pos + n])
            pos += n
    return chunks


CONFIGS = [
    # (channels, window, hop, layout, dtype)
    (3, 32, 16, "time_major", "float32"),
    (3, 32, 16, "time_major", "int8"),
    (3, 32, 32, "channel_major", "int8"),
    (1, 50, 1, "time_major", "int8"),
    (6, 20, 7, "channel_major", "int8"),
    (6, 16, 16, "time_major", "float32"),
    (2, 1, 1, "time_major", "int8"),
    (4, 13, 5, "channel_major", "float32"),
    (9, 10, 3, "time_major", "int8"),
]


@pytest.mark.parametrize(("channels", "window", "hop", "layout", "dtype"), CONFIGS)
def test_glue_matches_reference_bit_for_bit(tmp_path: Path, channels: int, window: int, hop: int, layout: str,
                                            dtype: str) -> None:
    rng = np.random.default_rng(channels * 1000 + window * 10 + hop)
    for variant in range(3):
        offset = rng.normal(0, 1, channels).astype(np.float32).tolist() if variant else None
        scale = rng.uniform(-3, 3, channels).astype(np.float32).tolist() if variant else None
        clip = None
        if variant == 2:
            lo = rng.uniform(-4, 0, channels).astype(np.float32)
            clip = (lo.tolist(), (lo + rng.uniform(0.1, 6, channels).astype(np.float32)).tolist())
        qscale = float(rng.choice([0.0234375, 0.01, 1 / 3, 0.7, 2.5e-3]))
        qzero = int(rng.integers(-128, 128))
        p = make_pipeline(channels=channels, window=window, hop=hop, layout=layout, offset=offset, scale=scale,
                          clip=clip, dtype=dtype, qscale=qscale, qzero=qzero)
        glue = Glue(p, tmp_path / f"v{variant}")
        # three recordings, reset between them, random chunk sizes (0 included)
        recordings = [special_values(p, rng, int(rng.integers(window, window + 5 * hop + 40))) for _ in range(3)]
        predicted, actual, got = glue.run(random_chunks(recordings, rng, hop))
        assert predicted == actual, "mcf_sensor_windows_after disagrees with mcf_sensor_push"
        want = [t.reshape(-1) for rec in recordings for t in input_tensors(p, rec)]
        assert len(got) == len(want) == sum(p.windows_in(len(r)) for r in recordings)
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            if dtype == "float32":
                assert np.array_equal(g.view(np.uint32), w.view(np.uint32)), f"window {k} differs (variant {variant})"
            else:
                assert np.array_equal(g, w), f"window {k} differs (variant {variant}): {np.flatnonzero(g != w)[:5]}"


def test_glue_exact_with_fused_multiply_add_allowed(tmp_path: Path) -> None:
    """The glue's arithmetic has no a*b+c form, so allowing contraction cannot change a bit."""
    p = make_pipeline(channels=3, window=24, hop=8, offset=[0.1, -0.2, 0.3], scale=[1.7, 0.3, -2.2],
                      clip=([-3, -3, -3], [3, 3, 3]), dtype="int8", qscale=0.0234375, qzero=-3)
    flags = ("-ffp-contract=fast", "-mfma") if subprocess.run([CC, "-mfma", "-E", "-x", "c", "/dev/null"],
                                                               capture_output=True).returncode == 0 else ()
    glue = Glue(p, tmp_path, flags)
    rec = special_values(p, np.random.default_rng(5), 400)
    _, _, got = glue.run([rec])
    assert all(np.array_equal(g, w.reshape(-1)) for g, w in zip(got, input_tensors(p, rec), strict=True))


def test_quantize_int8_is_tflite_quantize() -> None:
    """The reference rounding: half away from zero, division in float32, saturation."""
    s = np.float32(0.5)
    x = np.array([0.25, -0.25, 0.75, -0.75, 0.2499999, 1e9, -1e9, np.nan, np.inf, -np.inf, 63.75, -64.25], np.float32)
    got = quantize_int8(x, s, 0)
    assert got.tolist() == [1, -1, 2, -2, 0, 127, -128, 0, 127, -128, 127, -128]
    assert quantize_int8(np.array([0.0], np.float32), s, -128).tolist() == [-128]
    # division in float32 (not double): 0.3 / 0.1 rounds to exactly 3.0 in float32 → 3
    assert quantize_int8(np.array([0.3], np.float32), np.float32(0.1), 0).tolist() == [3]


def test_windows_in_and_starts() -> None:
    p = make_pipeline(channels=1, window=5, hop=2)
    assert [p.windows_in(n) for n in range(10)] == [0, 0, 0, 0, 0, 1, 1, 2, 2, 3]
    rec = np.arange(9, dtype=np.float32)
    tensors = input_tensors(make_pipeline(channels=1, window=5, hop=2, dtype="float32"), rec)
    assert [t.reshape(-1).tolist() for t in tensors] == [[0, 1, 2, 3, 4], [2, 3, 4, 5, 6], [4, 5, 6, 7, 8]]


def test_layouts_order_values() -> None:
    rec = np.array(list(itertools.product([1, 2, 3], [10, 20])), np.float32)[:, ::-1].copy()  # [6, 2]
    tm = input_tensors(make_pipeline(channels=2, window=3, hop=3, dtype="float32"), rec[:3])[0].reshape(-1)
    cm = input_tensors(make_pipeline(channels=2, window=3, hop=3, layout="channel_major", dtype="float32"),
                       rec[:3])[0].reshape(-1)
    assert tm.tolist() == [10, 1, 20, 1, 10, 2]
    assert cm.tolist() == [10, 20, 10, 1, 1, 2]
