"""Camera frames → image input: runtime/sensor/mcf_camera.c against generator/sensor/camera.py.

The C core is compiled once for this host (with AddressSanitizer and UBSan where available) into
tests/c/camera_harness.c; hypothesis draws frame geometries (source sizes, crops, model sizes,
odd and even), every source format, both resize methods, 1 and 3 channels, BGR, both YUV ranges,
int8 and float32 tables, and random frame bytes; every tensor the C code builds, row by row and from
a byte stream cut in random pieces that straddle rows and frames, must equal the numpy reference
byte for byte. Fixed cases pin the definitions themselves (bit replication, BT.601 coefficients,
pixel-centre alignment, one rounding) against independent float formulas, and the C core is
cross-compiled for Cortex-M4 without a warning.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcuforge.generator.sensor.camera import (
    FORMATS,
    Camera,
    center_crop,
    frame_tensor,
    resize,
    to_channels,
    value_lut,
)
from mcuforge.generator.sensor.reference import quantize_int8

REPO = Path(__file__).resolve().parents[1]
SENSOR = REPO / "runtime" / "sensor"
HARNESS = Path(__file__).resolve().parent / "c" / "camera_harness.c"
CC = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
VWW = Path(os.environ.get("MCUFORGE_MODELS_DIR") or REPO.parent / "shared" / "models") / "vww_96_int8.tflite"
CODES = {"rgb565le": 0, "rgb565be": 1, "yuyv": 2, "gray8": 3, "rgb888": 4}


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if CC is None:
        pytest.skip("needs a host C compiler (apt-get install gcc)")
    exe = tmp_path_factory.mktemp("camera") / "camera_harness"
    base = [CC, "-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I", str(SENSOR),
            str(SENSOR / "mcf_camera.c"), str(HARNESS), "-o", str(exe)]
    proc = subprocess.run([*base[:1], "-fsanitize=address,undefined", "-fno-sanitize-recover=all", *base[1:]],
                          capture_output=True, text=True)
    if proc.returncode != 0:  # no sanitizer runtime on this host
        subprocess.run(base, check=True, capture_output=True)
    return exe


def make_camera(fmt: str, src: tuple[int, int], crop: tuple[int, int, int, int], dst: tuple[int, int], c: int,
                method: str, *, bgr: bool = False, limited: bool = False, dtype: str = "int8",
                seed: int = 0) -> Camera:
    rng = np.random.default_rng(seed)
    offset = rng.uniform(-20, 150, c).astype(np.float32)
    scale = rng.uniform(0.002, 0.05, c).astype(np.float32)
    if dtype == "int8":
        qscale, qzero = np.float32(rng.uniform(0.002, 0.03)), int(rng.integers(-128, 128))
        lut = value_lut(lambda y: quantize_int8(y, qscale, qzero), offset, scale, None, None)
    else:
        lut = value_lut(lambda y: y, offset, scale, np.full(c, -1.5, np.float32), np.full(c, 2.5, np.float32))
    return Camera(fmt, src[0], src[1], crop, dst[0], dst[1], c, method, limited, bgr, lut)


def run_c(exe: Path, cases: list[tuple[Camera, np.ndarray, int]]) -> list[tuple[int, list[bytes], list[bytes], int]]:
    """Feeds cases (camera, frames uint8 [N, frame_bytes], seed) → per case: check, tensors row by
    row, tensors from the stream, frames completed by the stream."""
    stdin = bytearray()
    for cam, frames, seed in cases:
        flags = (1 if cam.bgr else 0) | (2 if cam.yuv_limited else 0) | (4 if cam.lut.dtype == np.float32 else 0)
        stdin += struct.pack("<8H4B", cam.src_w, cam.src_h, *cam.crop, cam.dst_w, cam.dst_h, cam.dst_c,
                             CODES[cam.format], 1 if cam.method == "bilinear" else 0, flags)
        stdin += np.ascontiguousarray(cam.lut).tobytes() + struct.pack("<II", len(frames), seed) + frames.tobytes()
    proc = subprocess.run([exe], input=bytes(stdin), capture_output=True, timeout=300)
    assert proc.returncode == 0, (proc.returncode, proc.stderr.decode()[-2000:])
    out, pos, results = proc.stdout, 0, []
    for cam, frames, _ in cases:
        (check,) = struct.unpack_from("<i", out, pos)
        pos += 4
        if check != 0:
            results.append((check, [], [], 0))
            continue
        size = cam.dst_w * cam.dst_h * cam.dst_c * cam.lut.itemsize
        rows = [out[pos + k * size:pos + (k + 1) * size] for k in range(len(frames))]
        pos += size * len(frames)
        stream = [out[pos + k * size:pos + (k + 1) * size] for k in range(len(frames))]
        pos += size * len(frames)
        (done,) = struct.unpack_from("<I", out, pos)
        pos += 4
        results.append((check, rows, stream, done))
    assert pos == len(out)
    return results


def reference_bytes(cam: Camera, frame: np.ndarray) -> bytes:
    return np.ascontiguousarray(frame_tensor(frame, cam)).tobytes()


@st.composite
def cameras(draw: st.DrawFn) -> tuple[Camera, int]:
    fmt = draw(st.sampled_from(sorted(FORMATS)))
    c = draw(st.sampled_from([1, 3]))
    dst_w, dst_h = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    src_w = draw(st.integers(dst_w, 40))
    src_h = draw(st.integers(dst_h, 30))
    if fmt == "yuyv":
        src_w += src_w % 2
    mode = draw(st.sampled_from(["none", "center", "free"]))
    if mode == "none":
        crop = (0, 0, src_w, src_h)
    elif mode == "center":
        crop = center_crop(src_w, src_h, dst_w, dst_h)
        if crop[2] < dst_w or crop[3] < dst_h:
            crop = (0, 0, src_w, src_h)
    else:
        cw, ch = draw(st.integers(dst_w, src_w)), draw(st.integers(dst_h, src_h))
        crop = (draw(st.integers(0, src_w - cw)), draw(st.integers(0, src_h - ch)), cw, ch)
    cam = make_camera(fmt, (src_w, src_h), crop, (dst_w, dst_h), c, draw(st.sampled_from(["bilinear", "nearest"])),
                      bgr=draw(st.booleans()), limited=draw(st.booleans()),
                      dtype=draw(st.sampled_from(["int8", "int8", "float32"])), seed=draw(st.integers(0, 2**16)))
    return cam, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(batch=st.lists(cameras(), min_size=1, max_size=8), data=st.data())
def test_c_equals_numpy_for_random_frames(harness: Path, batch: list[tuple[Camera, int]], data: st.DataObject) -> None:
    cases = []
    for cam, seed in batch:
        n = data.draw(st.integers(1, 3))
        rng = np.random.default_rng(seed)
        frames = rng.integers(0, 256, (n, cam.frame_bytes), dtype=np.uint8)
        if data.draw(st.booleans()):  # extremes: saturating YUV, full-scale RGB565
            frames[:, ::3] = rng.choice(np.array([0, 255], np.uint8), frames[:, ::3].shape)
        cases.append((cam, frames, seed))
    for (cam, frames, _), (check, rows, stream, done) in zip(cases, run_c(harness, cases), strict=True):
        assert check == 0, cam
        assert done == len(frames)
        for k, frame in enumerate(frames):
            want = reference_bytes(cam, frame)
            assert rows[k] == want, (cam.describe(), k, "row by row")
            assert stream[k] == want, (cam.describe(), k, "stream")


def test_vww_sized_frames(harness: Path) -> None:
    """The sizes the QEMU test uses, every format: 160×120 → centre crop 120×120 → 96×96×3."""
    cases = []
    for i, fmt in enumerate(sorted(FORMATS)):
        for method in ("bilinear", "nearest"):
            cam = make_camera(fmt, (160, 120), center_crop(160, 120, 96, 96), (96, 96), 3, method, seed=i)
            frames = np.random.default_rng(i).integers(0, 256, (2, cam.frame_bytes), dtype=np.uint8)
            cases.append((cam, frames, i))
    for (cam, frames, _), (check, rows, stream, _) in zip(cases, run_c(harness, cases), strict=True):
        assert check == 0
        for k, frame in enumerate(frames):
            assert rows[k] == stream[k] == reference_bytes(cam, frame), cam.describe()


def test_check_refuses_bad_geometry(harness: Path) -> None:
    ok = make_camera("rgb888", (8, 8), (0, 0, 8, 8), (4, 4), 3, "bilinear")
    bad = [
        Camera("rgb888", 8, 8, (0, 0, 8, 8), 9, 4, 3, "bilinear", False, False, ok.lut),  # upscale
        Camera("rgb888", 8, 8, (2, 0, 8, 8), 4, 4, 3, "bilinear", False, False, ok.lut),  # crop outside
        Camera("yuyv", 7, 8, (0, 0, 7, 8), 4, 4, 3, "bilinear", False, False, ok.lut),  # odd YUYV width
    ]
    results = run_c(harness, [(c, np.zeros((1, c.frame_bytes), np.uint8), 0) for c in [ok, *bad]])
    assert results[0][0] == 0
    assert [r[0] for r in results[1:]] == [-3, -3, -4]


# ---- the definitions themselves -------------------------------------------------------------------


def identity_camera(fmt: str, w: int, h: int, c: int = 3, *, limited: bool = False) -> Camera:
    return Camera(fmt, w, h, (0, 0, w, h), w, h, c, "nearest", limited, False,
                  np.tile(np.arange(-128, 128, dtype=np.int8), (c, 1)))


def test_rgb565_bit_replication_both_byte_orders() -> None:
    words = np.arange(65536, dtype=np.uint32)
    le = np.stack([words & 0xFF, words >> 8], axis=1).astype(np.uint8).reshape(256, 512)
    be = le.reshape(256, 256, 2)[:, :, ::-1].reshape(256, 512)
    got_le = to_channels(le, identity_camera("rgb565le", 256, 256)).reshape(-1, 3)
    got_be = to_channels(be, identity_camera("rgb565be", 256, 256)).reshape(-1, 3)
    r5, g6, b5 = words >> 11, (words >> 5) & 63, words & 31
    want = np.stack([np.round(r5 * 255 / 31), np.round(g6 * 255 / 63), np.round(b5 * 255 / 31)], axis=1)
    assert np.array_equal(got_le, got_be)
    assert np.max(np.abs(got_le - want)) <= 1  # bit replication is within 1 of the exact scaling
    assert np.array_equal(got_le[words == 0xFFFF][0], [255, 255, 255]) and np.all(got_le[0] == 0)


@pytest.mark.parametrize("limited", [False, True])
def test_yuv_bt601_integer_matches_float_formula(limited: bool) -> None:
    y, u, v = np.meshgrid(np.arange(256), np.arange(0, 256, 5), np.arange(0, 256, 5), indexing="ij")
    n = y.size
    frame = np.stack([y.ravel(), u.ravel(), y.ravel(), v.ravel()], axis=1).astype(np.uint8).reshape(1, 4 * n)
    got = to_channels(frame, identity_camera("yuyv", 2 * n, 1, limited=limited)).reshape(n, 2, 3)[:, 0, :]
    yf, d, e = y.ravel().astype(float), u.ravel() - 128.0, v.ravel() - 128.0
    if limited:
        yf = (yf - 16) * 255 / 219
        d, e = d * 255 / 224, e * 255 / 224
    kr, kb = 0.299, 0.114
    r = yf + 2 * (1 - kr) * e
    b = yf + 2 * (1 - kb) * d
    g = (yf - kr * r - kb * b) / (1 - kr - kb)
    want = np.clip(np.stack([r, g, b], axis=1), 0, 255)
    assert np.max(np.abs(got - want)) <= 1.51  # 8-bit coefficients: within 1.5 of the real-valued BT.601


def test_gray_conversions() -> None:
    rgb = np.array([[255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255, 0]], np.uint8)
    gray = to_channels(rgb, identity_camera("rgb888", 4, 1, 1)).ravel()
    assert list(gray) == [255, 0, 77, 149]  # (77 r + 150 g + 29 b + 128) >> 8
    g8 = np.array([[0, 7, 200, 255]], np.uint8)
    assert to_channels(g8, identity_camera("gray8", 4, 1, 3)).tolist() == [[[v] * 3 for v in (0, 7, 200, 255)]]
    yuyv = np.array([[16, 128, 235, 128]], np.uint8)
    assert to_channels(yuyv, identity_camera("yuyv", 2, 1, 1, limited=True)).ravel().tolist() == [0, 255]


def test_bilinear_is_half_pixel_centred_with_one_rounding() -> None:
    """Against a float64 bilinear (TensorFlow's half_pixel_centers) on a smooth ramp: within ±1."""
    w, h, dw, dh = 37, 23, 11, 7
    ramp = ((np.arange(w)[None, :] * 5 + np.arange(h)[:, None] * 9) % 256).astype(np.uint8)
    cam = identity_camera("gray8", w, h, 1)
    cam = Camera("gray8", w, h, (0, 0, w, h), dw, dh, 1, "bilinear", False, False, cam.lut)
    got = resize(to_channels(ramp, cam), cam)[:, :, 0]

    def coords(n: int, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = np.clip((np.arange(d) + 0.5) * n / d - 0.5, 0, n - 1)
        x0 = np.floor(p).astype(int)
        return x0, np.minimum(x0 + 1, n - 1), p - x0

    x0, x1, fx = coords(w, dw)
    y0, y1, fy = coords(h, dh)
    img = ramp.astype(float)
    top = img[y0][:, x0] * (1 - fx) + img[y0][:, x1] * fx
    bot = img[y1][:, x0] * (1 - fx) + img[y1][:, x1] * fx
    want = top * (1 - fy[:, None]) + bot * fy[:, None]
    assert np.max(np.abs(got - want)) <= 1.0
    # nearest picks the pixel under each output pixel's centre
    near = Camera("gray8", w, h, (0, 0, w, h), dw, dh, 1, "nearest", False, False, cam.lut)
    xs = np.floor((np.arange(dw) + 0.5) * w / dw).astype(int)
    ys = np.floor((np.arange(dh) + 0.5) * h / dh).astype(int)
    assert np.array_equal(resize(to_channels(ramp, near), near)[:, :, 0], ramp[ys][:, xs])


def test_center_crop() -> None:
    assert center_crop(160, 120, 96, 96) == (20, 0, 120, 120)
    assert center_crop(120, 160, 96, 96) == (0, 20, 120, 120)
    assert center_crop(320, 240, 160, 120) == (0, 0, 320, 240)
    assert center_crop(100, 100, 64, 32) == (0, 25, 100, 50)


@pytest.mark.skipif(not shutil.which("arm-none-eabi-gcc"), reason="needs arm-none-eabi-gcc")
def test_cross_compiles_for_cortex_m4_without_warnings(tmp_path: Path) -> None:
    for opt in ("-Os", "-O2"):
        proc = subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
                               "-mfpu=fpv4-sp-d16", "-std=c99", opt, "-Wall", "-Wextra", "-Wpedantic",
                               "-Wconversion", "-Wshadow", "-Wcast-align", "-Werror", "-c",
                               str(SENSOR / "mcf_camera.c"), "-o", str(tmp_path / "cam.o")],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


# ---- the pipeline description: defaults, round trip, one-line errors ----------------------------------


def _resolve(source: str = "replay", framework: str = "cmake", model: Path | None = None, **camera: object) -> object:
    from mcuforge.generator.boards import load_board
    from mcuforge.generator.frontends import read_model
    from mcuforge.generator.sensor.camera import CameraSpec
    from mcuforge.generator.sensor.pipeline import SensorSpec, resolve

    spec = SensorSpec(source=source, kind="camera", camera=CameraSpec(**camera))  # type: ignore[arg-type]
    return resolve(spec, read_model(model or VWW), load_board("mps2_an386"), framework)


def _error(**kw: object) -> str:
    from mcuforge.generator.sensor.pipeline import SensorConfigError

    with pytest.raises(SensorConfigError) as exc:
        _resolve(**kw)  # type: ignore[arg-type]
    assert "\n" not in exc.value.message
    return exc.value.message


@pytest.mark.skipif(not VWW.is_file(), reason=f"{VWW} not found (set MCUFORGE_MODELS_DIR)")
def test_pipeline_defaults_round_trip_and_errors(tmp_path: Path) -> None:
    from mcuforge.generator.boards import load_board
    from mcuforge.generator.frontends import read_model
    from mcuforge.generator.sensor.pipeline import resolve

    p = _resolve()
    cam = p.camera  # type: ignore[attr-defined]
    assert (cam.format, cam.src_w, cam.src_h, cam.crop, cam.dst_w, cam.dst_h, cam.dst_c, cam.method) == \
        ("rgb565le", 160, 120, (20, 0, 120, 120), 96, 96, 3, "bilinear")
    assert p.window == p.hop == 160 * 120 * 2 // 4  # type: ignore[attr-defined]
    # default normalization [0, 1]: with vww's scale 1/255 and zero point -128, level v -> v - 128
    assert np.array_equal(cam.lut[0], np.arange(-128, 128, dtype=np.int8))
    spec = p.to_spec()  # type: ignore[attr-defined]
    again = resolve(spec, read_model(VWW), load_board("mps2_an386"), "cmake")
    assert again.camera is not None and np.array_equal(again.camera.lut, cam.lut)
    assert again.camera.describe() == cam.describe() and again.camera.crop == cam.crop
    assert "unsupported pixel format 'rgb565x'; did you mean 'rgb565le'?" in _error(format="rgb565x")
    assert "the 64×64 frames are smaller than input 'input_1_int8' (96×96)" in _error(width=64, height=64)
    assert "the crop 100×90 of the 160×120 frame is smaller" in _error(crop=[0, 0, 100, 90])
    assert "is not inside the 160×120 frame" in _error(crop=[100, 0, 100, 100])
    assert "even width" in _error(format="yuyv", width=161)
    assert "not a multiple of 4" in _error(format="rgb888", width=161, height=121)
    assert "is read through Zephyr's video API" in _error(source="board", framework="cmake")
    assert _resolve(source="board", framework="zephyr").ram_bytes > 160 * 120 * 2  # type: ignore[attr-defined]
    from tflite_builder import T, single_op

    two = single_op("RELU", [T((1, 32, 32, 2), "int8", 0.1, 0)], [T((1, 32, 32, 2), "int8", 0.1, 0)])
    path = tmp_path / "two_channels.tflite"
    path.write_bytes(two)
    assert "with 1 (gray) or 3 (RGB) channels" in _error(model=path)


@pytest.mark.skipif(not VWW.is_file(), reason=f"{VWW} not found (set MCUFORGE_MODELS_DIR)")
def test_camera_option_errors_write_nothing(tmp_path: Path) -> None:
    import sys

    root = tmp_path / "p"
    proc = subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", "new", str(root), "--model", str(VWW),
                           "--board", "mps2_an386", "--sensor", "camera"], capture_output=True, text=True)
    assert proc.returncode == 2 and not root.exists()
    assert proc.stderr.startswith("error: a board camera (video-sw-generator) is read through Zephyr's video API")
    assert "Traceback" not in proc.stderr


# ---- a real board camera: what it delivers, its frame buffers, DMA-reachable RAM ----------------

NICLA_SMALL_CAMERA = """\
id: small_cam
name: A board whose camera only does QVGA YUYV, with a TCM DMA does not reach
vendor: test
cpu: {core: cortex-m7, arch: arm, fpu: dp, dsp: true}
clock_hz: 400_000_000
default_framework: zephyr
memory:
  - {name: flash, base: 0x08000000, size: 2M, kind: flash, attributes: [executable], zephyr: {node: flash0}}
  - {name: dtcm, base: 0x20000000, size: 128K, kind: tcm, zephyr: {node: dtcm, memory_region: DTCM}}
  - {name: sram, base: 0x24000000, size: 512K, kind: sram, attributes: [dma-capable], zephyr: {node: sram0},
     default: true}
zephyr: {target: small_cam}
console: {uart: usart1, baud: 115200}
sensors:
  - kind: camera
    part: qvga-cam
    zephyr: {compatible: "vendor,qvga-cam"}
    camera: {formats: [yuyv], sizes: [[320, 240]], frame_buffers: 2, dma: true}
"""


def _nicla(board: str = "arduino_nicla_vision", board_dirs: list[str] | None = None, **camera: object) -> object:
    from mcuforge.generator.boards import load_board
    from mcuforge.generator.frontends import read_model
    from mcuforge.generator.sensor.camera import CameraSpec
    from mcuforge.generator.sensor.pipeline import SensorSpec, resolve

    spec = SensorSpec(source="board", kind="camera", camera=CameraSpec(**camera) if camera else None)  # type: ignore[arg-type]
    return resolve(spec, read_model(VWW), load_board(board, board_dirs or []), "zephyr")


@pytest.mark.skipif(not VWW.is_file(), reason=f"{VWW} not found (set MCUFORGE_MODELS_DIR)")
def test_board_camera_capabilities_are_checked(tmp_path: Path) -> None:
    from mcuforge.generator.sensor.codegen import config_header
    from mcuforge.generator.sensor.pipeline import SensorConfigError

    p = _nicla()  # no camera settings: defaults the GC2145 delivers
    cam = p.camera  # type: ignore[attr-defined]
    assert (cam.format, cam.src_w, cam.src_h) == ("rgb565le", 160, 120)
    assert p.frame_buffers == 2  # type: ignore[attr-defined]
    assert p.ram_bytes >= 2 * 160 * 120 * 2  # type: ignore[attr-defined]  # both DCMI buffers are reserved
    header = config_header(p, model_sha256="0" * 64, board_id="arduino_nicla_vision")  # type: ignore[arg-type]
    assert "#define MCF_CAMERA_FRAME_BUFFERS 2u" in header and "DT_CHOSEN(zephyr_camera)" in header
    assert _nicla(format="yuyv", width=320, height=240).camera.format == "yuyv"  # type: ignore[attr-defined]
    assert _nicla(width=200, height=150).camera.src_w == 200  # type: ignore[attr-defined]  # the driver scales
    for kw, message in [({"format": "gray8"}, "the gc2145 on board 'arduino_nicla_vision' does not deliver gray8 "
                                              "frames (it delivers rgb565le, yuyv)"),
                        ({"width": 1920, "height": 1080}, "does not deliver 1920×1080 frames (320×240, 640×480, "
                                                          "1600×1200, any from 160×120 to 1600×1200)")]:
        with pytest.raises(SensorConfigError) as exc:
            _nicla(**kw)
        assert message in exc.value.message and "\n" not in exc.value.message
    # a camera that only does one size and format: the defaults follow it
    (tmp_path / "small_cam.yaml").write_text(NICLA_SMALL_CAMERA)
    small = _nicla("small_cam", [str(tmp_path)])
    assert (small.camera.format, small.camera.src_w, small.camera.src_h) == ("yuyv", 320, 240)  # type: ignore[attr-defined]
    assert small.frame_buffers == 2  # type: ignore[attr-defined]


@pytest.mark.skipif(not VWW.is_file(), reason=f"{VWW} not found (set MCUFORGE_MODELS_DIR)")
def test_camera_frame_buffers_must_be_dma_reachable(tmp_path: Path) -> None:
    import sys

    boards_dir = tmp_path / "boards"
    boards_dir.mkdir()
    (boards_dir / "small_cam.yaml").write_text(NICLA_SMALL_CAMERA)
    root = tmp_path / "p"
    cmd = [sys.executable, "-m", "mcuforge.generator.cli", "new", str(root), "--model", str(VWW), "--board",
           "small_cam", "--board-dir", str(boards_dir), "--sensor", "camera"]
    proc = subprocess.run([*cmd, "--place", "arena=dtcm"], capture_output=True, text=True)
    assert proc.returncode == 2 and not root.exists(), proc.stderr
    assert "the qvga-cam's frame buffers go where the arena goes, dtcm, which its capture DMA does not reach" \
        in proc.stderr and "--place arena=sram" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    conf = (root / "prj.conf").read_text()
    assert "CONFIG_VIDEO_BUFFER_POOL_NUM_MAX=2" in conf
    info = json.loads((root / "mcuforge_model" / "mcuforge_build.json").read_text())
    assert info["placement"]["arena"] == "sram"  # by default too: not the faster dtcm DMA cannot reach


@pytest.mark.skipif(not VWW.is_file(), reason=f"{VWW} not found (set MCUFORGE_MODELS_DIR)")
def test_arduino_camera_project(tmp_path: Path) -> None:
    from mcuforge.generator.scaffold import new_project
    from mcuforge.generator.sensor.pipeline import SensorConfigError

    root = tmp_path / "nicla"
    p = new_project(root, VWW, "arduino_nicla_vision", framework="platformio", sensor="camera")
    assert p.pipeline is not None and p.pipeline.camera is not None
    # the Camera library's RGB565 is high byte first, at its fixed resolutions; one buffer of ours
    assert (p.pipeline.camera.format, p.pipeline.camera.src_w, p.pipeline.camera.src_h) == ("rgb565be", 160, 120)
    assert p.pipeline.frame_buffers == 1
    app = root / "lib" / "mcuforge_model" / "src" / "app"  # PlatformIO library: sources in src/, headers in include/
    inc = root / "lib" / "mcuforge_model" / "include"
    assert (app / "mcf_source_arduino_camera.cpp").is_file() and not (app / "mcf_source_zephyr_video.c").exists()
    config = (inc / "mcf_sensor_config.h").read_text()
    for line in ('#define MCF_ARDUINO_CAMERA_HEADER "gc2145.h"', "#define MCF_ARDUINO_CAMERA_CLASS GC2145",
                 "#define MCF_ARDUINO_CAMERA_RESOLUTION CAMERA_R160x120",
                 "#define MCF_ARDUINO_CAMERA_PIXFORMAT CAMERA_RGB565"):
        assert line in config, line
    ini = (root / "platformio.ini").read_text()
    assert "board = nicla_vision" in ini and "lib_deps" not in ini  # Camera and GC2145 come with the core
    src = (app / "mcf_source_arduino_camera.cpp").read_text()
    for call in ("camera.begin(MCF_ARDUINO_CAMERA_RESOLUTION, MCF_ARDUINO_CAMERA_PIXFORMAT, fps)",
                 "frame.setBuffer(frame_buf)", "camera.grabFrame(frame, 1500u)", "camera.frameSize()"):
        assert call in src, call
    assert "malloc" not in src
    cxx = shutil.which("c++") or shutil.which("g++")
    if cxx is not None:  # PlatformIO's native env compiles the file without ARDUINO: a source without frames
        proc = subprocess.run([cxx, "-c", "-Wall", "-Wextra", "-Werror", "-I", str(app), "-I",
                               str(inc), str(app / "mcf_source_arduino_camera.cpp"), "-o",
                               str(tmp_path / "native.o")], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-2000:]
    for kw, message in [({"format": "rgb565le"}, "does not deliver rgb565le frames (it delivers rgb565be)"),
                        ({"format": "rgb565be", "width": 200, "height": 150}, "does not deliver 200×150 frames "
                         "(160×120, 320×240, 320×320, 640×480, 800×600, 1600×1200)")]:
        with pytest.raises(SensorConfigError) as exc:
            from mcuforge.generator.boards import load_board
            from mcuforge.generator.frontends import read_model
            from mcuforge.generator.sensor.camera import CameraSpec
            from mcuforge.generator.sensor.pipeline import SensorSpec, resolve

            spec = SensorSpec(source="board", kind="camera", camera=CameraSpec(**kw))  # type: ignore[arg-type]
            resolve(spec, read_model(VWW), load_board("arduino_nicla_vision"), "platformio")
        assert message in exc.value.message


@pytest.mark.skipif(not VWW.is_file(), reason=f"{VWW} not found (set MCUFORGE_MODELS_DIR)")
def test_arduino_camera_source_compiles_against_the_mbed_core(tmp_path: Path) -> None:
    """sources/mcf_source_arduino_camera.cpp against the real Camera, GC2145, Wire and mbed headers of
    ArduinoCore-mbed's NICLA_VISION variant, with the core's compile recipe (-Wall -Wextra -Werror; no
    link: the variant's prebuilt libmbed.a is not needed to compile). Skips without
    MCUFORGE_ARDUINO_MBED_DIR (see tests/test_sensor_microphone.py)."""
    from test_sensor_microphone import MBED_ENV, _recipe

    from mcuforge.generator.scaffold import new_project

    value = os.environ.get(MBED_ENV)
    core = Path(value) if value else None
    if core is None or not (core / "libraries" / "Camera" / "src" / "camera.h").is_file():
        pytest.skip(f"{MBED_ENV} does not name a checkout of github.com/arduino/ArduinoCore-mbed")
    for need in ("variants/NICLA_VISION/cxxflags.txt", "libraries/GC2145/gc2145.h", "libraries/Wire/Wire.h",
                 "cores/arduino/api/ArduinoAPI.h"):
        if not (core / need).is_file():
            pytest.skip(f"{core} has no {need}")
    cxx = shutil.which("arm-none-eabi-g++")
    if cxx is None:
        pytest.skip("needs arm-none-eabi-g++")
    root = tmp_path / "nicla"
    new_project(root, VWW, "arduino_nicla_vision", framework="platformio", sensor="camera")
    app = root / "lib" / "mcuforge_model" / "src" / "app"  # PlatformIO library: sources in src/, headers in include/
    inc = root / "lib" / "mcuforge_model" / "include"
    obj = tmp_path / "camera.o"
    libs = [f"-I{core / 'libraries' / d}" for d in ("Camera/src", "GC2145", "Wire")]
    cmd = [cxx, *_recipe(core, "NICLA_VISION"), "-Werror", *libs, "-I", str(app), "-I", str(inc),
           str(app / "mcf_source_arduino_camera.cpp"), "-o", str(obj)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=core)
    assert proc.returncode == 0, proc.stderr[-3000:]
    nm = subprocess.run(["arm-none-eabi-nm", "-C", "-S", str(obj)], capture_output=True, text=True, check=True).stdout
    for sym in ("Camera::begin", "Camera::grabFrame", "Camera::frameSize", "GC2145::GC2145", "mcf_source_poll_frame"):
        assert sym in nm, sym
    buf = next(line for line in nm.splitlines() if line.endswith(" frame_buf"))
    assert int(buf.split()[1], 16) == 160 * 120 * 2


# ---- on an emulated Cortex-M4F (slow): bit-exact, and what a frame costs -------------------------

INSTR_PER_FRAME_BUDGET = 3_500_000  # 160×120 → 96×96×3: 0.8M (gray8 nearest) to 2.4M (YUYV bilinear) on mps2-an386


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
                    reason="needs arm-none-eabi-gcc and qemu-system-arm")
@pytest.mark.skipif(not VWW.is_file(), reason=f"{VWW} not found (set MCUFORGE_MODELS_DIR)")
@pytest.mark.parametrize("fmt,method", [("rgb565le", "bilinear"), ("rgb565le", "nearest"), ("yuyv", "bilinear"),
                                        ("rgb888", "bilinear"), ("gray8", "nearest")])
def test_qemu_cortex_m4_frame_bit_exact_and_instruction_count(tmp_path: Path, fmt: str, method: str,
                                                              record_property: object) -> None:
    from test_baremetal_port import MACHINES, _port_sources, parse_keys, run_to_exit

    from mcuforge.generator.boards import load_board
    from mcuforge.generator.frontends import read_model
    from mcuforge.generator.linker import render_linker_script
    from mcuforge.generator.sensor.camera import CameraSpec
    from mcuforge.generator.sensor.codegen import config_header
    from mcuforge.generator.sensor.pipeline import SensorSpec, resolve
    from mcuforge.generator.sensor.reference import input_tensors

    spec = SensorSpec(source="replay", kind="camera", camera=CameraSpec(format=fmt, resize=method))  # type: ignore[arg-type]
    p = resolve(spec, read_model(VWW), load_board("mps2_an386"), "cmake")
    assert p.camera is not None
    frame = np.random.default_rng(4).integers(0, 256, p.camera.frame_bytes, dtype=np.uint8)
    (tmp_path / "mcf_sensor_config.h").write_text(config_header(p, model_sha256="0" * 64, board_id="mps2_an386"))
    rows = [", ".join(str(int(v)) for v in frame[i:i + 32]) for i in range(0, len(frame), 32)]
    (tmp_path / "camera_bench_frame.h").write_text(
        "#include <stdint.h>\nstatic const uint8_t camera_bench_frame[MCF_CAMERA_FRAME_BYTES] = {\n    "
        + ",\n    ".join(rows) + "\n};\n")
    machine = MACHINES["mps2-an386"]
    script = tmp_path / "firmware.ld"
    script.write_text(render_linker_script(machine.regions, {}, origin=machine.name))
    elf = tmp_path / "bench.elf"
    port = REPO / "runtime" / "ports" / "baremetal"
    cmd = ["arm-none-eabi-gcc", *machine.cpu_flags, "--specs=nano.specs", "-std=c99", "-Wall", "-Wextra", "-Werror",
           "-O2", "-ffunction-sections", "-fdata-sections", f"-I{port}", f"-I{port / 'arm'}",
           f"-I{REPO / 'runtime' / 'include'}", f"-I{SENSOR}", f"-I{tmp_path}", *map(str, _port_sources()),
           str(SENSOR / "mcf_camera.c"),
           str(SENSOR / "mcf_sensor_camera.c"), str(HARNESS.parent / "camera_bench.c"), "-nostartfiles",
           "-Wl,--gc-sections", f"-T{script}", "-o", str(elf)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    status, text, _ = run_to_exit(machine.name, elf)
    assert status == 0, text
    keys = parse_keys(text)
    device = np.frombuffer(bytes.fromhex(keys["t"]), np.int8)
    assert np.array_equal(device, input_tensors(p, frame.reshape(1, -1)).reshape(-1))
    assert keys["same"] == "1"
    per_frame, streamed = int(keys["instr_frame"]), int(keys["instr_stream"])
    record_property(f"camera_{fmt}_{method}_instructions", per_frame)  # type: ignore[operator]
    print(f"{fmt} {method}: {per_frame:,} instructions per frame, {streamed:,} streamed")
    assert 0 < per_frame < INSTR_PER_FRAME_BUDGET and per_frame <= streamed < INSTR_PER_FRAME_BUDGET + 200_000
