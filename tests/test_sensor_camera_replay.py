"""Camera frames end to end on the emulated Cortex-M4 (QEMU mps2-an386, bare-metal cmake flavor).

`mcuforge new --sensor replay:camera` for the int8 visual-wake-words model (96×96×3), `build`, then
`mcuforge test --replay frames.npy`: the host streams raw 160×120 frames in SAMPLES messages (the
bytes, 4 per "sample"); the device's glue consumes them row by row into the model input (it holds
one source row, never the 38,400-byte frame), echoes the tensor it built and runs the model. Every
frame's tensor must equal generator/sensor/camera.py's bit for bit, and the outputs TFLite Micro's.
RGB565 (uint16 pixels, bilinear) and YUYV (raw bytes, nearest, limited range, BGR) are both run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
VWW = Path(os.environ.get("MCUFORGE_MODELS_DIR") or REPO.parent / "shared" / "models") / "vww_96_int8.tflite"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")
                            and shutil.which("ninja") and shutil.which("cmake")),
                       reason="needs arm-none-eabi-gcc, cmake, ninja and qemu-system-arm"),
    pytest.mark.skipif(not VWW.is_file(), reason=f"{VWW} not found (set MCUFORGE_MODELS_DIR)"),
]


def mcuforge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", *args], capture_output=True, text=True,
                          timeout=1200)


def scene_rgb565(n: int, seed: int = 0) -> np.ndarray:
    """uint16 [n, 120, 160] RGB565 frames: gradients, a moving bright box, sensor noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:120, 0:160]
    out = []
    for k in range(n):
        r = ((x * 3 + 40 * k) % 256).astype(np.int64)
        g = ((y * 2 + 90 * k) % 256).astype(np.int64)
        b = np.clip(128 + rng.normal(0, 40, (120, 160)), 0, 255).astype(np.int64)
        x0 = 20 + 30 * k
        r[30:80, x0:x0 + 40] = 255
        g[30:80, x0:x0 + 40] = 250
        out.append(((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3))
    return np.array(out, dtype=np.uint16)


def test_rgb565_and_yuyv_frames_through_the_cli(tmp_path: Path) -> None:
    project = tmp_path / "vww"
    for cmd in (("new", str(project), "--model", str(VWW), "--board", "mps2_an386", "--sensor", "replay:camera"),
                ("build", str(project))):
        proc = mcuforge(*cmd)
        assert proc.returncode == 0, proc.stderr
    cfg = yaml.safe_load((project / "mcuforge.yaml").read_text())["sensor"]
    assert cfg["camera"] == {"format": "rgb565le", "width": 160, "height": 120, "crop": "center",
                             "resize": "bilinear", "yuv_range": "full", "channel_order": "rgb"}
    assert "window" not in cfg and "channels" not in cfg

    frames = tmp_path / "frames.npy"
    np.save(frames, scene_rgb565(3))
    proc = mcuforge("test", str(project), "--replay", str(frames), "--json")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    report = json.loads(proc.stdout)
    assert [v["name"] for v in report["vectors"]] == ["frame-0", "frame-1", "frame-2"]
    assert all(v["passed"] and v["input_match"] and v["max_abs_diff"] == 0 for v in report["vectors"])
    # the glue holds one 320-byte source row and two bilinear lines of 96 × 3 uint16, not the frame
    assert report["memory"]["symbols"]["sensor"]["size"] == 320 + 2 * 2 * 96 * 3

    # frames of another format: the firmware built for RGB565 is caught, then rebuilt
    data = yaml.safe_load((project / "mcuforge.yaml").read_text())
    data["sensor"]["camera"].update(format="yuyv", resize="nearest", yuv_range="limited", channel_order="bgr")
    (project / "mcuforge.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    yuyv = np.random.default_rng(3).integers(0, 256, (2, 120, 160, 2), dtype=np.uint8)
    np.save(tmp_path / "yuyv.npy", yuyv)
    proc = mcuforge("test", str(project), "--replay", str(tmp_path / "yuyv.npy"), "--json")  # stale firmware
    assert proc.returncode == 1
    assert "input tensor differs from the host pipeline" in proc.stdout
    for cmd in (("update", str(project)), ("build", str(project))):
        proc = mcuforge(*cmd)
        assert proc.returncode == 0, proc.stderr
    proc = mcuforge("test", str(project), "--replay", str(tmp_path / "yuyv.npy"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert "2/2 frames: device input tensors bit-exact with the host pipeline, outputs bit-exact" in proc.stdout


def test_bad_frames_are_refused_before_anything_is_sent(tmp_path: Path) -> None:
    project = tmp_path / "vww"
    proc = mcuforge("new", str(project), "--model", str(VWW), "--board", "mps2_an386", "--sensor", "replay:camera")
    assert proc.returncode == 0, proc.stderr
    cases = {
        "small.npy": (np.zeros((2, 96, 96), np.uint16), "is not [frames, 120, 160] RGB565 pixels"),
        "float.npy": (np.zeros((1, 120, 160, 2), np.float32), "hold float32 values"),
        "channels.npy": (np.zeros((1, 120, 160, 3), np.uint8), "is not [frames, 120, 160, 2]"),
        "empty.npy": (np.zeros((0, 120, 160, 2), np.uint8), "no frame"),
    }
    for name, (arr, message) in cases.items():
        np.save(tmp_path / name, arr)
        # no firmware was built: a refusal must come before any attempt to reach the device
        proc = mcuforge("test", str(project), "--replay", str(tmp_path / name))
        assert proc.returncode == 2, (name, proc.stdout, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert lines[0].startswith("error: ") and message in lines[0], (name, proc.stderr)
        assert "Traceback" not in proc.stderr
    (tmp_path / "frames.csv").write_text("r,g,b\n1,2,3\n")
    proc = mcuforge("test", str(project), "--replay", str(tmp_path / "frames.csv"))
    assert proc.returncode == 2 and "camera frames are replayed from a .npy array" in proc.stderr
