"""Sensor glue for int16-input (16x8) models: samples quantized straight to int16.

* numpy's `quantize_int16` against TFLite Micro's own QUANTIZE float32 → int16 (exact ties, values
  a few ulps around them with a scale whose division rounds, saturation, NaN and infinities);
* runtime/sensor/mcf_sensor.c compiled for this host with an int16 configuration, fed random
  recordings whose scaled values land on rounding ties (k + 1/2) * s for k across and beyond the
  int16 range, next to them and on extremes, in random chunks with resets: every tensor it builds
  must equal the host reference byte for byte (several channel counts, layouts, scalings, clips,
  scales and zero points, including scales so small that most values saturate);
* the same with the audio feature stage (MFCC, int16 ring) and with a camera table;
* `resolve` and `config_header` for an int16 model, and the refusals that remain;
* one firmware: `new_project --sensor replay` on an int16-input model for mps2_an386 (CMake flavor),
  built and, with QEMU, streamed through: device tensors equal the host's, outputs TFLite Micro's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from test_sensor_audio_ring import AudioGlue, audio_pipeline, chunks_of
from test_sensor_glue import Glue, make_pipeline, random_chunks, with_extremes
from tflite_builder import Op, T, build, options, rng_int8, single_op

from mcuforge.generator.sensor.codegen import config_header
from mcuforge.generator.sensor.pipeline import Pipeline, SensorConfigError
from mcuforge.generator.sensor.quantize import quantize_int8, quantize_int16
from mcuforge.generator.sensor.reference import input_tensors

REPO = Path(__file__).resolve().parents[1]
SENSOR = REPO / "runtime" / "sensor"
CC = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
needs_cc = pytest.mark.skipif(CC is None, reason="needs a host C compiler (apt-get install gcc)")


def int16_pipeline(*, channels: int, window: int, hop: int, qscale: float, qzero: int, **kw) -> Pipeline:
    from dataclasses import replace

    p = make_pipeline(channels=channels, window=window, hop=hop, dtype="int8", qscale=qscale, **kw)
    return replace(p, input_dtype="int16", input_zero_point=qzero)


class Glue16(Glue):
    """tests/test_sensor_glue.py's harness, its tensors read as int16."""

    def run(self, chunks):
        predicted, actual, tensors = super().run(chunks)
        return predicted, actual, [t.view(np.int16) for t in tensors]


def tie_values(p: Pipeline, rng: np.random.Generator, n: int) -> np.ndarray:
    """Samples whose scaled value is (k + 1/2) * s (k across and beyond int16), a few ulps off it,
    exact multiples, and extremes (±3e38, ±inf, NaN, 0)."""
    c = p.num_channels
    s = np.float32(p.input_scale)
    k = rng.integers(-34000, 34000, size=(n, c)).astype(np.float32)
    half = rng.random((n, c)) < 0.7
    y = ((k + np.where(half, np.float32(0.5), np.float32(0))) * s).astype(np.float32)
    # invert the scaling so that (x - offset) * scale is y or a neighbour (C and numpy see the same x)
    x = (y / p.scale + p.offset).astype(np.float32)
    steps = rng.integers(-2, 3, size=(n, c))
    for _ in range(2):
        x = np.where(steps > 0, np.nextafter(x, np.float32(np.inf)), np.where(steps < 0, np.nextafter(
            x, np.float32(-np.inf)), x)).astype(np.float32)
        steps = np.where(np.abs(steps) == 2, steps, 0)
    with_extremes(x, rng)
    return x.astype(np.float32)


# ---- the rounding rule, against TFLite Micro ------------------------------------------------------

def test_quantize_int16_rule() -> None:
    s = np.float32(0.5)
    x = np.array([0.25, -0.25, 0.75, -0.75, 0.2499999, 16383.75, -16384.25, 16383.25, 1e9, -1e9, np.nan, np.inf,
                  -np.inf, -0.0], np.float32)
    assert quantize_int16(x, s, 0).tolist() == [1, -1, 2, -2, 0, 32767, -32768, 32767, 32767, -32768, 0, 32767,
                                                -32768, 0]
    assert quantize_int16(np.array([0.25, 0.0, np.nan], np.float32), s, -32768).tolist() == [-32767, -32768, -32768]
    assert quantize_int16(np.array([16383.0, 16384.0], np.float32), s, 1).tolist() == [32767, 32767]
    # the division is in float32: 0.3 / 0.1 is exactly 3.0 there (2.9999999999999996 in double)
    assert quantize_int16(np.array([0.3], np.float32), np.float32(0.1), 0).tolist() == [3]
    # int8 keeps its own range
    assert quantize_int8(np.array([1000.0], np.float32), s, 0).tolist() == [127]


@pytest.mark.parametrize(("scale", "zp"), [(2.0 ** -12, 0), (0.5, 7), (float(np.float32(3.0517578e-05 * 1.37)), -9)])
def test_quantize_int16_is_tflite_quantize(scale: float, zp: int) -> None:
    """The host twin equals TFLite Micro's QUANTIZE float32 → int16 on ties, near-ties, saturation."""
    from mcuforge.generator.references import Reference

    s = np.float32(scale)
    k = np.arange(-33000, 33000, 37, dtype=np.float32)
    ties = ((k + np.float32(0.5)) * s).astype(np.float32)
    near = np.concatenate([np.nextafter(ties, np.float32(np.inf)), np.nextafter(ties, np.float32(-np.inf))])
    # beyond int32 (|y / s| >= 2^31) TFLite Micro's float -> int32 cast is undefined (x86 gives
    # INT32_MIN for both signs); the glue saturates those as ARM's conversion does
    far = (np.array([1e6, -1e6, 1e9, -1e9, 0.0, -0.0], np.float32) * s).astype(np.float32)
    x = np.concatenate([ties, near, (k * s).astype(np.float32), far]).astype(np.float32).reshape(1, -1)
    model = single_op("QUANTIZE", [T(x.shape, "float32")], [T(x.shape, "int16", scale, zp)])
    want = Reference(model).run([x], 1)[0]
    got = quantize_int16(x, s, zp)
    assert want.dtype == np.int16
    assert np.array_equal(got, want), np.flatnonzero(got != want)[:5]
    assert (got == 32767).any() and (got == -32768).any()


# ---- the C glue on the host -----------------------------------------------------------------------

CONFIGS = [
    # channels, window, hop, layout, qscale, zero point
    (3, 32, 16, "time_major", 1 / 8192, 0),
    (3, 32, 5, "channel_major", 3e-5, 0),
    (1, 40, 1, "time_major", 0.7, 123),
    (6, 12, 7, "channel_major", 2.5e-3, -4000),
]


@needs_cc
@pytest.mark.parametrize(("channels", "window", "hop", "layout", "qscale", "qzero"), CONFIGS)
def test_glue_int16_matches_reference(tmp_path: Path, channels: int, window: int, hop: int, layout: str,
                                      qscale: float, qzero: int) -> None:
    rng = np.random.default_rng(channels * 100 + window + hop)
    for variant in range(2):
        offset = rng.normal(0, 1, channels).astype(np.float32).tolist() if variant else None
        scale = rng.uniform(-3, 3, channels).astype(np.float32).tolist() if variant else None
        clip = None
        if variant:
            lo = (rng.uniform(-30000, 0, channels) * qscale).astype(np.float32)  # in steps of the input
            clip = (lo.tolist(), (lo + rng.uniform(100, 40000, channels) * qscale).astype(np.float32).tolist())
        p = int16_pipeline(channels=channels, window=window, hop=hop, layout=layout, offset=offset, scale=scale,
                           clip=clip, qscale=qscale, qzero=qzero)
        header = config_header(p, model_sha256="0" * 64, board_id="host")
        assert "#define MCF_SENSOR_INPUT_INT16 1" in header and "#define MCF_SENSOR_INPUT_INT8 0" in header
        glue = Glue16(p, tmp_path / f"v{variant}")
        recordings = [tie_values(p, rng, int(rng.integers(window, window + 6 * hop + 40))) for _ in range(2)]
        predicted, actual, got = glue.run(random_chunks(recordings, rng, hop))
        assert predicted == actual
        want = [t.reshape(-1) for rec in recordings for t in input_tensors(p, rec)]
        assert len(got) == len(want) == sum(p.windows_in(len(r)) for r in recordings) > 0
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            assert w.dtype == np.int16
            assert np.array_equal(g, w), f"window {k} (variant {variant}): {np.flatnonzero(g != w)[:5]}"
        values = np.concatenate(want)
        assert len(np.unique(values)) > 20  # not all saturated


@needs_cc
def test_audio_features_to_int16(tmp_path: Path) -> None:
    """The MFCC front end (int16 ring read in place) quantized straight to an int16 input."""
    from dataclasses import replace

    p = replace(audio_pipeline(2000, 700), input_dtype="int16", input_scale=np.float32(0.01),
                input_zero_point=0)
    assert p.ring_int16 and p.input_bytes == 2 * p.input_elements
    glue = AudioGlue(p, tmp_path / "a")
    rng = np.random.default_rng(3)
    x = rng.integers(-32768, 32768, (2000 + 5 * 700 + 11, 1)).astype(np.float32)
    _, _, tensors = glue.run(chunks_of(x, rng))
    want = input_tensors(p, x)
    assert len(tensors) == len(want) == p.windows_in(len(x))
    for got, ref in zip(tensors, want, strict=True):
        assert ref.dtype == np.int16 and got.view(np.int16).tobytes() == ref.tobytes()
    assert len(np.unique(want)) > 50


CAMERA_MAIN = r"""
#include <stdio.h>
#include <stdint.h>
#include "mcf_sensor.h"
static uint8_t frame[MCF_CAMERA_SRC_H * MCF_CAMERA_ROW_BYTES];
static int16_t input[MCF_CAMERA_DST_W * MCF_CAMERA_DST_H * MCF_CAMERA_DST_C];
int main(void)
{
    if (fread(frame, 1, sizeof frame, stdin) != sizeof frame) return 2;
    mcf_sensor_camera_frame(frame, MCF_CAMERA_ROW_BYTES, input);
    fwrite(input, 1, sizeof input, stdout);
    return 0;
}
"""


@needs_cc
@pytest.mark.parametrize("resize", ["bilinear", "nearest"])
def test_camera_frame_to_int16(tmp_path: Path, resize: str) -> None:
    """A camera pipeline on an int16 image input: the table holds int16 values; C equals numpy."""
    from mcuforge.generator.boards import load_board
    from mcuforge.generator.frontends.tflite import parse_model
    from mcuforge.generator.sensor.pipeline import SensorSpec, resolve

    model = single_op("RELU", [T((1, 12, 16, 3), "int16", 1 / 4096, 0)], [T((1, 12, 16, 3), "int16", 1 / 4096, 0)])
    spec = SensorSpec(source="replay", kind="camera", offset=[100.0, 128.0, 20.0], scale=[0.05, 0.0625, 0.04],
                      camera={"format": "rgb565le", "width": 24, "height": 20, "resize": resize})
    p = resolve(spec, parse_model(model, name="m.tflite"), load_board("mps2_an386"), "cmake")
    assert p.camera is not None and p.camera.lut.dtype == np.int16 and p.input_dtype == "int16"
    lut = p.camera.lut
    assert lut.max() == 32767 and lut.min() == -32768 and len(np.unique(lut)) > 300  # saturates at both ends
    work = tmp_path / "cam"
    work.mkdir()
    header = config_header(p, model_sha256="0" * 64, board_id="host")
    assert "MCF_CAMERA_OUT_S16" in header
    (work / "mcf_sensor_config.h").write_text(header)
    (work / "main.c").write_text(CAMERA_MAIN)
    exe = work / "cam"
    proc = subprocess.run([CC, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-I", work, "-I", SENSOR,
                           SENSOR / "mcf_sensor_camera.c", SENSOR / "mcf_camera.c", work / "main.c", "-o", exe],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rng = np.random.default_rng(7)
    for _ in range(2):
        frame = rng.integers(0, 256, p.camera.frame_bytes, dtype=np.uint8)
        out = subprocess.run([exe], input=frame.tobytes(), capture_output=True, check=True).stdout
        want = input_tensors(p, frame[None, :])[0]
        assert want.dtype == np.int16 and np.frombuffer(out, np.int16).tobytes() == want.tobytes()


# ---- resolve, configuration, refusals -------------------------------------------------------------

def int16_imu_model(shape: tuple[int, ...] = (1, 32, 3), units: int = 4, seed: int = 0,
                    in_scale: float = 1 / 8192) -> bytes:
    """int16 input → RESHAPE → FULLY_CONNECTED 16x8 (int8 weights, int64 bias) → int16 scores."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    w = T((units, n), "int8", 0.01, 0, data=rng_int8(rng, (units, n)))
    b = T((units,), "int64", in_scale * 0.01, 0, data=rng.integers(-200000, 200000, units).astype(np.int64))
    out_scale = in_scale * 0.01 * np.sqrt(n) * 175
    tensors = [T(shape, "int16", in_scale, 0, name="imu_window"), T((2,), "int32", data=np.array([1, n], np.int32)),
               T((1, n), "int16", in_scale, 0), w, b, T((1, units), "int16", float(out_scale), 0, name="scores")]
    return build(tensors, [Op("RESHAPE", [0, 1], [2], options("ReshapeOptions", newShape=[1, n])),
                           Op("FULLY_CONNECTED", [2, 3, 4], [5], options("FullyConnectedOptions"))], [0], [5])


def test_resolve_int16_input() -> None:
    from mcuforge.generator.boards import load_board
    from mcuforge.generator.frontends.tflite import parse_model
    from mcuforge.generator.sensor.pipeline import SensorSpec, resolve

    board = load_board("mps2_an386")
    graph = parse_model(int16_imu_model(), name="m.tflite")
    p = resolve(SensorSpec(source="replay", kind="accelerometer"), graph, board, "cmake")
    assert p.input_dtype == "int16" and p.input_zero_point == 0 and p.input_scale == np.float32(1 / 8192)
    assert p.input_bytes == 2 * 96 and "int16 (scale" in p.describe()
    header = config_header(p, model_sha256="0" * 64, board_id=board.id)
    assert "#define MCF_SENSOR_QSCALE 0.0001220703125f" in header
    # per-channel int16 inputs and other types stay refused, in one line
    bad = single_op("RELU", [T((1, 4, 2), "int16", [0.1, 0.2], [0, 0])], [T((1, 4, 2), "int16", 0.1, 0)])
    with pytest.raises(SensorConfigError, match="int16 without per-tensor"):
        resolve(SensorSpec(source="replay"), parse_model(bad, name="b.tflite"), board, "cmake")
    i32 = single_op("RELU", [T((1, 8), "int32")], [T((1, 8), "int32")])
    with pytest.raises(SensorConfigError, match="int8, int16 or float32"):
        resolve(SensorSpec(source="replay"), parse_model(i32, name="c.tflite"), board, "cmake")


# ---- one firmware: mps2_an386, CMake flavor -------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("ninja") and shutil.which("cmake")),
                    reason="needs arm-none-eabi-gcc, cmake and ninja")
def test_int16_project_builds_and_replays(tmp_path: Path) -> None:
    from mcuforge.generator.boards import load_board
    from mcuforge.generator.build import build_project
    from mcuforge.generator.references import Reference
    from mcuforge.generator.scaffold import new_project

    model = tmp_path / "imu16.tflite"
    model_bytes = int16_imu_model(units=5, seed=2, in_scale=1 / 16384)
    model.write_bytes(model_bytes)
    root = tmp_path / "p"
    new_project(root, model, "mps2_an386", sensor="replay:accelerometer")
    header = (root / "app" / "mcf_sensor_config.h") if (root / "app" / "mcf_sensor_config.h").is_file() else \
        next(root.rglob("mcf_sensor_config.h"))
    assert "#define MCF_SENSOR_INPUT_INT16 1" in header.read_text()
    res = build_project(root)
    assert res.elf.is_file()
    if not shutil.which("qemu-system-arm"):
        pytest.skip("built; running needs qemu-system-arm")
    from mcuforge.generator.frontends import read_model
    from mcuforge.generator.scaffold import load_config
    from mcuforge.generator.sensor.pipeline import resolve
    from mcuforge.hil.device import Device
    from mcuforge.hil.emulator import start_emulator

    cfg = load_config(root)
    assert cfg.sensor is not None
    board = load_board("mps2_an386")
    p = resolve(cfg.sensor, read_model(root / cfg.model), board, cfg.framework)
    rng = np.random.default_rng(4)
    x = rng.normal(0.0, 1.2, size=(32 + 4 * p.hop, 3)).astype(np.float32)
    x[::9] *= 3  # beyond ±2 g: saturates at the input's ±2 g range
    x[1::13] = (np.round(x[1::13] * 16384) + 0.5) / 16384  # exact ties
    want = input_tensors(p, x)
    ref = Reference(model_bytes)
    with start_emulator(board, res.elf) as emu, Device.open(emu.url, timeout=2.0) as dev:
        dev.hello(wait=30)
        windows = dev.replay(x, window=p.window, hop=p.hop)
    assert len(windows) == len(want) == 5
    for w, host_in in zip(windows, want, strict=True):
        assert w.input is not None and w.input.dtype == np.int16
        assert np.array_equal(w.input.reshape(-1), host_in.reshape(-1)), f"window {w.window}: input differs"
        assert np.array_equal(w.outputs[0], ref.run([host_in], 1)[0]), f"window {w.window}: output differs"
    assert (np.concatenate([h.reshape(-1) for h in want]) == 32767).any()


QUANT_MAIN = r"""
#include <stdio.h>
#include "mcf_mfcc.h"
int main(void)
{
    static float in[4096];
    static int16_t out[4096];
    float scale;
    int zp;
    size_t n = fread(in, 4, 4096, stdin);
    if (n < 2) return 2;
    scale = in[0];
    zp = (int)in[1];
    mcf_mfcc_quantize_s16(in + 2, out, n - 2, scale, zp);
    fwrite(out, 2, n - 2, stdout);
    return 0;
}
"""


@needs_cc
def test_mfcc_library_quantizes_to_int16(tmp_path: Path) -> None:
    """The MFCC library's own quantizer (mcf_mfcc_quantize_s16) and its twin features.quantize."""
    from mcuforge.generator.sensor import features as F

    (tmp_path / "main.c").write_text(QUANT_MAIN)
    exe = tmp_path / "q"
    proc = subprocess.run([CC, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-I", SENSOR, SENSOR / "mcf_mfcc.c",
                           tmp_path / "main.c", "-o", exe, "-lm"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rng = np.random.default_rng(9)
    for scale, zp in ((0.01, 0), (np.float32(0.0234375), -3000)):
        s = np.float32(scale)
        k = rng.integers(-40000, 40000, 1500).astype(np.float32)
        x = np.concatenate([((k + np.float32(0.5)) * s), k * s, rng.normal(0, 300, 500),
                            [np.nan, np.inf, -np.inf, 3e38, -3e38]]).astype(np.float32)
        data = np.concatenate([[s, np.float32(zp)], x]).astype(np.float32).tobytes()
        got = np.frombuffer(subprocess.run([exe], input=data, capture_output=True, check=True).stdout, np.int16)
        want = F.quantize(x, float(s), zp, "int16")
        assert want.dtype == np.int16 and np.array_equal(got, want)
        assert (want == 32767).any() and (want == -32768).any()
    assert F.quantize(np.array([1e9], np.float32), 1.0, 0).dtype == np.int8  # int8 stays the default
