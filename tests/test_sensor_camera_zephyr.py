"""The camera glue on Zephyr: a generated project with `--sensor camera` on mps2_an386, whose camera is
Zephyr's video test-pattern generator (`zephyr,video-sw-generator`, colour bars), built with a real
Zephyr 4.3 tree and run in QEMU (machine mps2-an386).

The firmware captures frames through the video API (video_set_format / video_get_format,
video_enqueue / video_dequeue, video_stream_start), builds vww_96_int8's input from each and runs
the model. Built with MCF_SENSOR_LIVE_ECHO=1 it also sends every live input tensor (before invoke)
and the outputs (after) as TENSOR_CHUNK frames: each must equal the host reference computed from
the generator's known pattern (its source, drivers/video/video_sw_generator.c, re-implemented below)
bit for bit, and the outputs TFLite Micro's on it. RGB565 with bilinear resize, and YUYV with
nearest. Skips without a Zephyr tree (see tests/test_project_zephyr.py).
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from test_project_zephyr import _needs_zephyr

from mcuforge.generator.boards import load_board
from mcuforge.generator.build import build_project
from mcuforge.generator.frontends import read_model
from mcuforge.generator.references import Reference
from mcuforge.generator.scaffold import load_config, new_project, update_project
from mcuforge.generator.sensor.pipeline import resolve
from mcuforge.generator.sensor.reference import input_tensors
from mcuforge.hil.emulator import start_emulator
from mcuforge.hil.protocol import FrameDecoder, Log, TensorChunk

REPO = Path(__file__).resolve().parents[1]
VWW = Path(os.environ.get("MCUFORGE_MODELS_DIR") or REPO.parent / "shared" / "models") / "vww_96_int8.tflite"

# drivers/video/video_sw_generator.c (Zephyr 4.3): white, yellow, cyan, green, magenta, red, blue, black
BARS_RGB = [(0xFF, 0xFF, 0xFF), (0xFF, 0xFF, 0x00), (0x00, 0xFF, 0xFF), (0x00, 0xFF, 0x00), (0xFF, 0x00, 0xFF),
            (0xFF, 0x00, 0x00), (0x00, 0x00, 0xFF), (0x00, 0x00, 0x00)]
BARS_YUV = [(0xFE, 0x80, 0x7F), (0xEC, 0x00, 0x8B), (0xC8, 0x9D, 0x00), (0xB6, 0x1D, 0x0C), (0x48, 0xE2, 0xF3),
            (0x36, 0x62, 0xFF), (0x12, 0xFF, 0x74), (0x00, 0x80, 0x80)]


def sw_generator_frame(fmt: str, width: int, height: int) -> np.ndarray:
    """One frame of the generator's colour bars as raw bytes (uint8 [height, row bytes])."""
    row = bytearray()
    if fmt == "rgb565le":
        for w in range(width):
            r, g, b = BARS_RGB[8 * w // width]
            # as the driver writes it (green shifted by 6, not 5), little-endian
            row += (((r >> 3) << 11 | (g >> 2) << 6 | (b >> 3)) & 0xFFFF).to_bytes(2, "little")
    elif fmt == "yuyv":
        for w in range(0, width, 2):
            y, u, v = BARS_YUV[8 * w // width]
            row += bytes([y, u, y, v])
    else:
        raise ValueError(fmt)
    return np.tile(np.frombuffer(bytes(row), np.uint8), (height, 1))


def live_messages(elf: Path, seconds: float) -> list[object]:
    board = load_board("mps2_an386")
    dec = FrameDecoder()
    msgs: list[object] = []
    with start_emulator(board, elf) as emu:
        s = socket.create_connection(("127.0.0.1", emu.port))
        s.settimeout(0.5)
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end and sum(isinstance(m, TensorChunk) and int(m.kind) == 1 for m in msgs) < 4:
                try:
                    data = s.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                msgs += dec.feed(data)
        finally:
            s.close()
    return msgs


def tensors(msgs: list[object], kind: int, size: int) -> list[bytes]:
    """Consecutive TENSOR_CHUNK frames of one kind reassembled into whole tensors (in order)."""
    out: list[bytes] = []
    cur = bytearray()
    for m in msgs:
        if isinstance(m, TensorChunk) and int(m.kind) == kind:
            if m.offset == 0:
                cur = bytearray()
            if m.offset == len(cur):
                cur += m.data
            if len(cur) == size:
                out.append(bytes(cur))
                cur = bytearray()
    return out


@pytest.mark.zephyr
@_needs_zephyr("cmsis_6")
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="needs qemu-system-arm")
@pytest.mark.skipif(not VWW.is_file(), reason=f"{VWW} not found (set MCUFORGE_MODELS_DIR)")
@pytest.mark.parametrize("fmt,resize", [("rgb565le", "bilinear"), ("yuyv", "nearest")])
def test_sw_generator_frames_through_the_video_api_in_qemu(tmp_path: Path, fmt: str, resize: str) -> None:
    root = tmp_path / "zcam"
    new_project(root, VWW, "mps2_an386", framework="zephyr", sensor="camera")
    overlay = (root / "app.overlay").read_text()
    assert 'compatible = "zephyr,video-sw-generator"' in overlay and "zephyr,camera = &video_sw_generator" in overlay
    assert "CONFIG_VIDEO=y" in (root / "prj.conf").read_text()
    data = yaml.safe_load((root / "mcuforge.yaml").read_text())
    data["sensor"]["camera"].update(format=fmt, resize=resize)
    (root / "mcuforge.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    update_project(root)
    with (root / "CMakeLists.txt").open("a") as f:  # a debugging build: live tensors go to the host
        f.write("target_compile_definitions(mcuforge_model PRIVATE MCF_SENSOR_LIVE_ECHO=1)\n")
    build = build_project(root)
    elf = build.elf

    cfg = load_config(root)
    graph = read_model(VWW)
    pipeline = resolve(cfg.sensor, graph, load_board("mps2_an386"), "zephyr")
    assert pipeline.camera is not None and pipeline.camera.format == fmt
    frame = sw_generator_frame(fmt, 160, 120).reshape(1, -1)
    want = input_tensors(pipeline, frame)[0]

    msgs = live_messages(elf, 120)
    logs = [m.text for m in msgs if isinstance(m, Log)]
    assert any(t.startswith("window 1: top ") for t in logs), logs[:5]
    inputs = tensors(msgs, 0, want.size)
    outputs = tensors(msgs, 1, 2)
    assert len(inputs) >= 2 and len(outputs) >= 2, (len(inputs), len(outputs), logs[:5])
    ref = Reference(VWW.read_bytes()).run([want], 1)[0].reshape(-1)
    for got_in, got_out in zip(inputs, outputs, strict=False):
        assert got_in == want.tobytes(), np.flatnonzero(np.frombuffer(got_in, np.int8) != want.reshape(-1))[:10]
        assert np.array_equal(np.frombuffer(got_out, np.int8), ref)


@pytest.mark.slow
@pytest.mark.zephyr
@_needs_zephyr("cmsis_6", "hal_stm32")
@pytest.mark.skipif(not VWW.is_file(), reason=f"{VWW} not found (set MCUFORGE_MODELS_DIR)")
def test_nicla_vision_gc2145_glue_builds(tmp_path: Path) -> None:
    """A real camera: the Nicla Vision's GC2145 behind the STM32H747's DCMI (devicetree chosen
    `zephyr,camera`). The DCMI driver wants two buffers queued (and checks the pool size at build
    time): both are mcuforge's own, in the AXI SRAM its DMA reaches. Built, not run (no board here)."""
    import subprocess

    root = tmp_path / "nicla"
    new_project(root, VWW, "arduino_nicla_vision", framework="zephyr", sensor="camera")
    assert "CONFIG_VIDEO_BUFFER_POOL_NUM_MAX=2" in (root / "prj.conf").read_text()
    res = build_project(root)
    config = (root / "build" / "zephyr" / ".config").read_text()
    for opt in ("CONFIG_VIDEO_STM32_DCMI=y", "CONFIG_VIDEO_GC2145=y", "CONFIG_USBD_CDC_ACM_CLASS=y"):
        assert opt in config, opt  # the camera drivers, and the USB CDC ACM console the host talks to
    nm = subprocess.run(["arm-none-eabi-nm", "-S", str(res.elf)], capture_output=True, text=True, check=True).stdout
    sizes = {line.split()[3]: (int(line.split()[0], 16), int(line.split()[1], 16))
             for line in nm.splitlines() if len(line.split()) == 4}
    addr, size = sizes["mcf_camera_frame_buf"]
    assert size == 2 * 160 * 120 * 2 and 0x24000000 <= addr < 0x24080000  # two RGB565 frames in axi_sram
    assert "gc2145_init" in sizes and "video_stm32_dcmi_init" in sizes
    assert res.report.symbols["arena"].region == "axi_sram"
