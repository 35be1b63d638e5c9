"""End to end on the emulated Cortex-M4 (QEMU mps2-an386, bare-metal cmake flavor): recordings
streamed into the generated sensor glue over the serial protocol (SAMPLES), every window's input
tensor compared with the host reference bit for bit and its outputs with TFLite Micro.

* the gesture demo model (float32 input: the glue passes g values through, the model quantizes)
  through the CLI: `mcuforge new --sensor replay:accelerometer`, `build`, `test --replay rec.csv`;
* an int8-input model (the glue quantizes with the model's scale and zero point), channel-major,
  with per-channel offset, scale and clipping and a hop of 5, through `Device.replay`, on a clean
  line and with frames dropped by a fault-injecting proxy;
* firmware built with another pipeline than mcuforge.yaml describes is caught.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from sensor_helpers import GESTURE, gesture_recording, int8_imu_model, write_csv

from mcuforge.generator.boards import load_board
from mcuforge.generator.build import build_project
from mcuforge.generator.frontends import read_model
from mcuforge.generator.references import Reference
from mcuforge.generator.scaffold import load_config, new_project, update_project
from mcuforge.generator.sensor.pipeline import resolve
from mcuforge.generator.sensor.reference import input_tensors
from mcuforge.hil.device import Device
from mcuforge.hil.emulator import start_emulator
from mcuforge.hil.protocol import MsgType
from mcuforge.hil.proxy import TO_HOST, Fault, FaultProxy

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")
                            and shutil.which("ninja") and shutil.which("cmake")),
                       reason="needs arm-none-eabi-gcc, cmake, ninja and qemu-system-arm"),
]


def mcuforge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", *args], capture_output=True, text=True,
                          timeout=900)


def test_gesture_recording_through_the_cli(tmp_path: Path) -> None:
    project = tmp_path / "gesture"
    for cmd in (("new", str(project), "--model", str(GESTURE), "--board", "mps2_an386",
                 "--sensor", "replay:accelerometer"), ("build", str(project))):
        proc = mcuforge(*cmd)
        assert proc.returncode == 0, proc.stderr
    x, _ = gesture_recording(40)  # 40 held-out windows back to back: 1,280 samples at 50 Hz
    rec = write_csv(tmp_path / "rec.csv", x, ["accel_x", "accel_y", "accel_z"], rate_hz=50)
    junit = tmp_path / "replay.xml"
    proc = mcuforge("test", str(project), "--replay", str(rec), "--json", "--junit", str(junit))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    report = json.loads(proc.stdout)
    windows = report["vectors"]
    assert len(windows) == (len(x) - 32) // 16 + 1 == 79
    assert all(w["passed"] and w["input_match"] and w["max_abs_diff"] == 0 for w in windows)
    assert all(w["unit"] == "instructions" and w["elapsed"] > 0 for w in windows)
    assert report["memory"]["symbols"]["sensor"]["size"] == 32 * 3 * 4  # the ring buffer
    assert junit.is_file()
    # the human-readable summary
    proc = mcuforge("test", str(project), "--replay", str(rec))
    assert proc.returncode == 0
    assert "79/79 windows: device input tensors bit-exact with the host pipeline, outputs bit-exact" in proc.stdout


def test_gesture_windows_classify(tmp_path: Path) -> None:
    """The aligned windows (every other one at hop 16) are the held-out windows: the demo model's
    accuracy survives the trip through the glue."""
    root = tmp_path / "g"
    new_project(root, GESTURE, "mps2_an386", sensor="replay:accelerometer")
    res = build_project(root)
    x, labels = gesture_recording(40, start=40)
    with start_emulator(load_board("mps2_an386"), res.elf) as emu, \
            Device.open(emu.url, timeout=2.0) as dev:
        dev.hello(wait=30)
        got = dev.replay(x, window=32, hop=16)
    aligned = [w for w in got if w.window % 2 == 0]
    assert len(aligned) == 40
    predicted = np.array([int(np.argmax(w.outputs[0])) for w in aligned])
    assert float(np.mean(predicted == labels)) >= 0.9


@pytest.fixture(scope="module")
def int8_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("int8")
    model = tmp / "imu_cm.tflite"
    model.write_bytes(int8_imu_model((1, 3, 32), units=6, seed=4))
    root = tmp / "p"
    new_project(root, model, "mps2_an386", sensor="replay:accelerometer")
    data = yaml.safe_load((root / "mcuforge.yaml").read_text())
    assert data["sensor"]["layout"] == "channel_major"
    data["sensor"].update(hop=5, offset=[0.02, -0.01, 1.0], scale=[1.0, 1.25, 0.8],
                          clip=[[-2.5, 2.5], [-2.0, 2.0], [-3.0, 2.8]])
    (root / "mcuforge.yaml").write_text(yaml.safe_dump(data))
    update_project(root)
    build_project(root)
    return root


def _int8_setup(root: Path):
    cfg = load_config(root)
    board = load_board(cfg.board)
    graph = read_model(root / cfg.model)
    assert cfg.sensor is not None
    pipeline = resolve(cfg.sensor, graph, board, cfg.framework)
    elf = root / "build" / "firmware.elf"
    return board, pipeline, (root / cfg.model).read_bytes(), elf


def _recording(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.6, size=(n, 3)).astype(np.float32)
    x[::17] *= 4  # some samples beyond the clip range
    return x


def _check(windows, pipeline, model_bytes: bytes, x: np.ndarray) -> None:
    want = input_tensors(pipeline, x)
    ref = Reference(model_bytes)
    assert len(windows) == len(want) == pipeline.windows_in(len(x))
    for w, host_in in zip(windows, want, strict=True):
        assert w.input is not None and w.input.dtype == np.int8
        assert np.array_equal(w.input, host_in), f"window {w.window}: input differs"
        assert np.array_equal(w.outputs[0], ref.run([host_in], 1)[0]), f"window {w.window}: output differs"


def test_int8_channel_major_pipeline_is_bit_exact(int8_project: Path) -> None:
    board, pipeline, model_bytes, elf = _int8_setup(int8_project)
    assert pipeline.input_dtype == "int8" and pipeline.clip_lo is not None and pipeline.hop == 5
    x = _recording(600, seed=1)
    with start_emulator(board, elf) as emu, Device.open(emu.url, timeout=2.0) as dev:
        dev.hello(wait=30)
        t0 = time.monotonic()
        windows = dev.replay(x, window=pipeline.window, hop=pipeline.hop)
        rate = len(x) / (time.monotonic() - t0)
        _check(windows, pipeline, model_bytes, x)
        assert all(w.retries == 0 for w in windows)
        # a second stream on the same connection starts afresh (START empties the ring)
        x2 = _recording(100, seed=2)
        _check(dev.replay(x2, window=pipeline.window, hop=pipeline.hop), pipeline, model_bytes, x2)
    print(f"replay: {rate:,.0f} samples/s with the input echoed ({len(windows)} windows)")


def test_replay_recovers_lost_frames(int8_project: Path) -> None:
    """A lost RESULT is recovered by resending the SAMPLES (the device replays its answer without
    pushing the samples twice); a lost input echo by restarting the stream at that window."""
    board, pipeline, model_bytes, elf = _int8_setup(int8_project)
    x = _recording(120, seed=3)
    faults = [Fault.drop(TO_HOST, frame_type=MsgType.RESULT, nth=2),
              Fault.drop(TO_HOST, frame_type=MsgType.TENSOR_CHUNK, nth=7),
              Fault.flip(TO_HOST, frame_type=MsgType.ACK, nth=9)]
    with start_emulator(board, elf) as emu, FaultProxy(emu.url, faults) as proxy, \
            Device.open(proxy.url, timeout=0.5) as dev:
        dev.hello(wait=30)
        windows = dev.replay(x, window=pipeline.window, hop=pipeline.hop)
        _check(windows, pipeline, model_bytes, x)
    assert all(f.fired for f in faults), [f.describe() for f in faults]
    assert sum(w.retries for w in windows) >= 2


def test_stale_firmware_is_caught(int8_project: Path, tmp_path: Path) -> None:
    """mcuforge.yaml edited after the build: the device's windows or tensors no longer match."""
    cfg_file = int8_project / "mcuforge.yaml"
    original = cfg_file.read_text()
    x = _recording(200, seed=5)
    np.save(tmp_path / "rec.npy", x)
    try:
        data = yaml.safe_load(original)
        data["sensor"]["offset"] = [0.5, -0.01, 1.0]  # same windows, different scaling
        cfg_file.write_text(yaml.safe_dump(data))
        proc = mcuforge("test", str(int8_project), "--replay", str(tmp_path / "rec.npy"))
        assert proc.returncode == 1
        assert "input tensor differs from the host pipeline" in proc.stdout
        data["sensor"]["hop"] = 7  # other windows
        cfg_file.write_text(yaml.safe_dump(data))
        proc = mcuforge("test", str(int8_project), "--replay", str(tmp_path / "rec.npy"))
        assert proc.returncode == 1
        assert re.search(r"complete \d window\(s\); the pipeline \(window 32, hop 7\) completes \d", proc.stdout)
    finally:
        cfg_file.write_text(original)


def test_replay_without_echo_and_ordinary_inferences_after(int8_project: Path) -> None:
    """Without ECHO only the outputs come back; the same session then serves INFER_RUN as usual."""
    board, pipeline, model_bytes, elf = _int8_setup(int8_project)
    x = _recording(42, seed=6)  # windows end at samples 32, 37, 42
    ref = Reference(model_bytes)
    want = input_tensors(pipeline, x)
    with start_emulator(board, elf) as emu, Device.open(emu.url, timeout=2.0) as dev:
        dev.hello(wait=30)
        windows = dev.replay(x, window=pipeline.window, hop=pipeline.hop, echo=False)
        assert len(windows) == len(want) == 3 and all(w.input is None for w in windows)
        assert all(np.array_equal(w.outputs[0], ref.run([t], 1)[0]) for w, t in zip(windows, want, strict=True))
        res = dev.infer([want[1]])
        assert np.array_equal(res.outputs[0], ref.run([want[1]], 1)[0])


def test_audio_feature_stage_plugs_in(models_dir: Path, tmp_path: Path) -> None:
    """A 16 kHz WAV through the MFCC feature stage (generator/sensor/features.py) into the MLPerf
    Tiny keyword-spotting model: window 16,000 samples, hop 8,000, MFCC → int8 on the device."""
    import wave

    root = tmp_path / "kws"
    new_project(root, models_dir / "kws_ref_model.tflite", "mps2_an386", sensor="replay:microphone")
    data = yaml.safe_load((root / "mcuforge.yaml").read_text())
    data["sensor"].update(rate_hz=16000.0, window=16000, hop=8000, features={"kind": "mfcc"})
    (root / "mcuforge.yaml").write_text(yaml.safe_dump(data))
    update_project(root)
    build_project(root)
    t = np.arange(24000) / 16000
    audio = (2500 * np.sin(2 * np.pi * 440 * t) + np.random.default_rng(0).normal(0, 400, t.size))
    wav = tmp_path / "speech.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(audio.round().clip(-32768, 32767).astype("<i2").tobytes())
    proc = mcuforge("test", str(root), "--replay", str(wav), "--json")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    report = json.loads(proc.stdout)
    assert len(report["vectors"]) == 2 and all(v["passed"] and v["input_match"] for v in report["vectors"])
