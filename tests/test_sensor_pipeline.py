"""Sensor pipeline description: defaults derived from the model input and the board sensor, the
checks with their one-line messages, mcuforge.yaml round trips, the generated config header, and
recordings (CSV / .npy) with their errors. Nothing here builds firmware."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from sensor_helpers import GESTURE, IN_SCALE, IN_ZERO, int8_imu_model, write_csv

from mcuforge.generator.boards import load_board
from mcuforge.generator.errors import McuforgeError
from mcuforge.generator.frontends import read_model
from mcuforge.generator.scaffold import ProjectError, load_config, new_project, update_project
from mcuforge.generator.sensor.codegen import c_float, config_header, runtime_files
from mcuforge.generator.sensor.pipeline import SensorConfigError, SensorSpec, resolve, spec_from_option
from mcuforge.generator.sensor.reference import RecordingError, input_tensors, load_recording


@pytest.fixture(scope="module")
def gesture():
    return read_model(GESTURE)


@pytest.fixture(scope="module")
def imu_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("m") / "imu_int8.tflite"
    path.write_bytes(int8_imu_model((1, 32, 3)))
    return path


def spec(option: str, **fields: object) -> SensorSpec:
    return spec_from_option(option).model_copy(update=fields)


def _resolve(graph, option: str, board: str = "mps2_an386", framework: str = "cmake", **fields: object):
    return resolve(SensorSpec.model_validate({**spec_from_option(option).model_dump(), **fields}), graph,
                   load_board(board), framework)


def err(graph, option: str, board: str = "mps2_an386", framework: str = "cmake", **fields: object) -> str:
    with pytest.raises(SensorConfigError) as exc:
        _resolve(graph, option, board, framework, **fields)
    msg = exc.value.message
    assert "\n" not in msg
    return msg


# ---- defaults ------------------------------------------------------------------------------------


def test_gesture_defaults(gesture) -> None:
    p = _resolve(gesture, "replay:accelerometer")
    assert (p.channels, p.window, p.hop, p.layout, p.rate_hz) == (("accel_x", "accel_y", "accel_z"), 32, 16,
                                                                  "time_major", 50.0)
    assert p.input_dtype == "float32" and p.input_scale is None  # the model quantizes itself
    assert p.units == {"accel": "g"} and p.ring_bytes == 384
    assert p.to_spec().model_dump()["window"] == 32


def test_int8_input_takes_the_models_quantization(imu_model: Path) -> None:
    p = _resolve(read_model(imu_model), "replay:accelerometer")
    assert p.input_dtype == "int8" and p.input_scale == np.float32(IN_SCALE) and p.input_zero_point == IN_ZERO
    assert (p.window, p.layout) == (32, "time_major")


def test_channel_major_default_from_shape(tmp_path: Path) -> None:
    m = tmp_path / "cm.tflite"
    m.write_bytes(int8_imu_model((1, 3, 32)))
    assert _resolve(read_model(m), "replay:accelerometer").layout == "channel_major"


def test_generic_replay_channels(imu_model: Path) -> None:
    p = _resolve(read_model(imu_model), "replay")
    assert p.channels == ("ch0", "ch1", "ch2") and p.window == 32


def test_board_sensor_defaults() -> None:
    g = read_model(GESTURE)
    z = _resolve(g, "accelerometer", "disco_l475_iot1", "zephyr")
    assert z.sensor is not None and z.sensor.part == "lsm6dsl" and z.part == "lsm6dsl"
    imu = _resolve(g, "imu", "disco_l475_iot1", "zephyr")
    assert imu.channels[3:] == ("gyro_x", "gyro_y", "gyro_z") and imu.window == 16
    a = _resolve(g, "accelerometer", "arduino_nano_33_ble", "platformio")
    assert a.sensor is not None and a.sensor.arduino_library == "Arduino_LSM9DS1"


# ---- errors ---------------------------------------------------------------------------------------


def test_window_times_channels_must_match(gesture) -> None:
    msg = err(gesture, "replay:accelerometer", window=30)
    assert "30 × 3 = 90" in msg and "96 elements" in msg
    msg = err(gesture, "replay", channels=["ch0", "ch1", "ch2", "ch3", "ch4"])
    assert "96 elements, not a multiple of the 5 channels" in msg


def test_hop_larger_than_window(gesture) -> None:
    assert "hop 40 is larger than the window 32" in err(gesture, "replay:accelerometer", hop=40)


def test_unknown_channel_and_unit(gesture) -> None:
    assert "did you mean 'accel_x'" in err(gesture, "replay", channels=["acel_x", "accel_y", "accel_z"])
    assert "unknown unit 'furlong'" in err(gesture, "replay:accelerometer", units={"accel": "furlong"})
    assert "gyro not measured" in err(gesture, "replay:accelerometer", units={"accel": "g", "gyro": "dps"})


def test_per_channel_values(gesture) -> None:
    assert "2 values for 3 channels" in err(gesture, "replay:accelerometer", offset=[0.0, 1.0])
    assert "lo > hi for accel_y" in err(gesture, "replay:accelerometer", clip=[[-1, 1], [2, 1], [-1, 1]])
    p = _resolve(gesture, "replay:accelerometer", offset=[0.1, 0.2, 0.3], scale=2.0, clip=[-2.5, 2.5])
    assert p.offset.dtype == np.float32 and p.scale.tolist() == [2.0, 2.0, 2.0] and p.clip_hi.tolist() == [2.5] * 3


def test_layout_against_input_shape(imu_model: Path) -> None:
    msg = err(read_model(imu_model), "replay:accelerometer", layout="channel_major")
    assert "[1, 32, 3] is not channel-major" in msg


def test_board_sensor_errors(gesture) -> None:
    msg = err(gesture, "accelerometer", "mps2_an386", "cmake")
    assert "board 'mps2_an386' has no accelerometer" in msg
    with pytest.raises(SensorConfigError) as exc:
        _resolve(gesture, "accelerometer", "mps2_an386", "cmake")
    assert exc.value.hint == "stream the data from the host instead: --sensor replay:accelerometer"
    assert "no sensor drivers" in err(gesture, "accelerometer", "disco_l475_iot1", "cmake")
    assert "samples at most 6660 Hz, not 10000 Hz" in err(gesture, "accelerometer", "disco_l475_iot1", "zephyr",
                                                         rate_hz=10000)
    assert "Arduino_LSM9DS1 delivers at most 119" in err(gesture, "accelerometer", "arduino_nano_33_ble",
                                                         "platformio", rate_hz=200)
    assert "has no channel magn_x" in err(gesture, "accelerometer", "disco_l475_iot1", "zephyr",
                                          channels=["magn_x", "accel_y", "accel_z"])
    assert "has no gyroscope 'bmi270'" in err(gesture, "gyroscope:bmi270", "disco_l475_iot1", "zephyr")
    assert "no Arduino source for the lis3mdl" in err(gesture, "magnetometer", "disco_l475_iot1", "platformio")


def test_camera_needs_an_image_input_and_microphone_is_refused(gesture) -> None:
    assert "is not an image [1, height, width, channels]" in err(gesture, "replay:camera")
    assert "has no microphone" in err(gesture, "microphone", "nrf52840dk", "zephyr")
    assert "bare-metal cmake flavor has no microphone driver" in err(gesture, "microphone", "disco_l475_iot1", "cmake")


def test_option_parsing() -> None:
    assert spec_from_option("imu:lsm6dsl").model_dump(exclude_none=True) == {
        "source": "board", "kind": "imu", "part": "lsm6dsl", "offset": 0.0, "scale": 1.0}
    assert spec_from_option("serial").source == "serial"
    with pytest.raises(SensorConfigError, match="did you mean 'accelerometer'"):
        spec_from_option("acelerometer")
    with pytest.raises(SensorConfigError, match="unknown kind 'accel'"):
        spec_from_option("replay:accel")


def test_multi_input_and_int32_models_are_refused(tmp_path: Path) -> None:
    """int16 inputs are filled since 16x8 models (tests/test_sensor_int16.py); int32 ones are not."""
    from tflite_builder import T, single_op

    m = tmp_path / "i32.tflite"
    m.write_bytes(single_op("RELU", [T((1, 96), "int32")], [T((1, 96), "int32")]))
    assert "is int32" in err(read_model(m), "replay:accelerometer")


# ---- projects -------------------------------------------------------------------------------------


def test_new_project_records_the_pipeline_and_update_reproduces_it(tmp_path: Path) -> None:
    root = tmp_path / "p"
    new_project(root, GESTURE, "mps2_an386", sensor="replay:accelerometer")
    cfg = load_config(root)
    assert cfg.sensor is not None and cfg.sensor.window == 32 and cfg.sensor.hop == 16
    app = root / "mcuforge_model" / "app"
    names = {f.name for f in app.iterdir()}
    assert {"mcf_sensor.c", "mcf_sensor_host.c", "mcf_source_replay.c", "mcf_sensor_config.h"} <= names
    assert "mcf_source_zephyr.c" not in names
    main = (root / "src" / "main.c").read_text()
    assert "mcf_sensor_serve(&gesture_mlp_int8_model" in main and "mcf_host_serve(&" not in main
    before = {f.name: f.read_bytes() for f in app.iterdir()}
    update_project(root)
    assert {f.name: f.read_bytes() for f in app.iterdir()} == before  # deterministic
    # editing the yaml and updating regenerates the config
    data = yaml.safe_load((root / "mcuforge.yaml").read_text())
    data["sensor"]["hop"] = 8
    (root / "mcuforge.yaml").write_text(yaml.safe_dump(data))
    update_project(root)
    assert "#define MCF_SENSOR_HOP 8u" in (app / "mcf_sensor_config.h").read_text()


def test_project_without_sensor_is_unchanged(tmp_path: Path) -> None:
    new_project(tmp_path / "p", GESTURE, "mps2_an386")
    assert "sensor" not in (tmp_path / "p" / "mcuforge.yaml").read_text()
    assert not (tmp_path / "p" / "mcuforge_model" / "app" / "mcf_sensor.c").exists()
    assert "mcf_sensor" not in (tmp_path / "p" / "src" / "main.c").read_text()


def test_bad_sensor_option_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "p"
    proc = subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", "new", str(root), "--model", str(GESTURE),
                           "--board", "mps2_an386", "--sensor", "accelerometer"], capture_output=True, text=True)
    assert proc.returncode == 2 and not root.exists()
    lines = proc.stderr.strip().splitlines()
    assert lines[0] == "error: board 'mps2_an386' has no accelerometer (its sensors: camera video-sw-generator)"
    assert "--sensor replay:accelerometer" in proc.stderr


def test_bad_sensor_section_in_yaml(tmp_path: Path) -> None:
    root = tmp_path / "p"
    new_project(root, GESTURE, "mps2_an386", sensor="replay:accelerometer")
    data = yaml.safe_load((root / "mcuforge.yaml").read_text())
    data["sensor"]["windw"] = 3
    (root / "mcuforge.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ProjectError, match=r"sensor\.windw"):
        load_config(root)
    data["sensor"].pop("windw")
    data["sensor"]["window"] = 31
    (root / "mcuforge.yaml").write_text(yaml.safe_dump(data))
    before = (root / "mcuforge_model" / "app" / "mcf_sensor_config.h").read_text()
    with pytest.raises(McuforgeError, match="31 × 3 = 93"):
        update_project(root)
    assert (root / "mcuforge_model" / "app" / "mcf_sensor_config.h").read_text() == before


# ---- generated C -------------------------------------------------------------------------------


def test_c_float_literals_are_exact() -> None:
    for v in (0.1, 1 / 3, 9.80665, 1e-38, 3.4e38, -0.0, 0.0, 123456789.0, 0.0234375):
        text = c_float(v)
        assert text.endswith("f") and np.float32(float(text[:-1])) == np.float32(v)


def test_zephyr_and_arduino_configs(gesture) -> None:
    z = _resolve(gesture, "accelerometer", "disco_l475_iot1", "zephyr")
    h = config_header(z, model_sha256="ab" * 32, board_id="disco_l475_iot1")
    assert "#define MCF_SOURCE_ZEPHYR_NODE DT_ALIAS(accel0)" in h
    assert "#define MCF_SOURCE_ZEPHYR_GROUP_CHANS {SENSOR_CHAN_ACCEL_XYZ}" in h
    assert f"#define MCF_SOURCE_FACTOR {{{c_float(1 / 9.80665)}" in h  # m/s² → g
    assert "sources/mcf_source_zephyr.c" in runtime_files(z)
    n = _resolve(gesture, "imu", "arduino_nano_33_ble", "zephyr", units={"accel": "m/s2", "gyro": "dps"})
    hn = config_header(n, model_sha256="ab" * 32, board_id="arduino_nano_33_ble")
    assert "DT_NODELABEL(lsm9ds1)" in hn and "{SENSOR_CHAN_ACCEL_XYZ, SENSOR_CHAN_GYRO_XYZ}" in hn
    assert f"{c_float(180 / np.pi)}" in hn  # rad/s → dps
    a = _resolve(gesture, "accelerometer", "disco_l475_iot1", "platformio")
    ha = config_header(a, model_sha256="ab" * 32, board_id="disco_l475_iot1")
    assert "#define MCF_ARDUINO_LIB MCF_ARDUINO_STM32DUINO_LSM6DSL" in ha and "MCF_SOURCE_I2C_SDA PB11" in ha
    assert f"{c_float(0.001)}" in ha  # mg → g


# ---- recordings -----------------------------------------------------------------------------------


def test_recording_csv_and_npy(gesture, tmp_path: Path) -> None:
    p = _resolve(gesture, "replay:accelerometer")
    x = np.random.default_rng(0).normal(0, 1, (70, 3)).astype(np.float32)
    csv_path = write_csv(tmp_path / "r.csv", x[:, ::-1], ["accel_z", "accel_y", "accel_x"], rate_hz=50)
    assert np.array_equal(load_recording(csv_path, p), x)  # columns found by name, any order
    np.save(tmp_path / "r.npy", x)
    assert np.array_equal(load_recording(tmp_path / "r.npy", p), x)
    t = input_tensors(p, x)
    assert t.shape == (p.windows_in(70), 1, 96) and np.array_equal(t[1].reshape(32, 3), x[16:48])


@pytest.mark.parametrize(("text", "message"), [
    ("accel_x,accel_y\n1,2\n", "no column 'accel_z'"),
    ("accel_x,accel_y,accel_z\n1,2,x\n", ":2: column 'accel_z': 'x' is not a number"),
    ("accel_x,accel_y,accel_z\n1,,3\n", ":2: column 'accel_y' is missing a value"),
    ("accel_x,accel_y,accel_z\n1,2,nan\n", "'nan' is not a finite number"),
    ("1,2,3\n4,5,6\n", "must name the columns"),
    ("", "is empty"),
])
def test_recording_errors(gesture, tmp_path: Path, text: str, message: str) -> None:
    p = _resolve(gesture, "replay:accelerometer")
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(RecordingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_recording(f, p)


def test_recording_rate_length_and_format(gesture, tmp_path: Path) -> None:
    p = _resolve(gesture, "replay:accelerometer")
    x = np.zeros((40, 3), np.float32)
    with pytest.raises(RecordingError, match=r"recorded at 100 Hz .* samples at 50 Hz"):
        load_recording(write_csv(tmp_path / "fast.csv", x, ["accel_x", "accel_y", "accel_z"], rate_hz=100), p)
    with pytest.raises(RecordingError, match="10 samples, fewer than one window"):
        load_recording(write_csv(tmp_path / "short.csv", x[:10], ["accel_x", "accel_y", "accel_z"]), p)
    np.save(tmp_path / "wrong.npy", np.zeros((40, 2), np.float32))
    with pytest.raises(RecordingError, match=r"\[40, 2\] is not \[samples, 3\]"):
        load_recording(tmp_path / "wrong.npy", p)
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    with pytest.raises(RecordingError, match=r"cannot read .* as a PCM WAV file"):
        load_recording(tmp_path / "a.wav", p)
    with pytest.raises(RecordingError, match="not found"):
        load_recording(tmp_path / "none.csv", p)


def _wav(path: Path, x: np.ndarray, rate: int, width: int = 2) -> Path:
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(x.astype("<i2" if width == 2 else "u1").tobytes())
    return path


def test_wav_recordings(tmp_path: Path) -> None:
    m = tmp_path / "audio.tflite"
    m.write_bytes(int8_imu_model((1, 96), units=2))
    p = _resolve(read_model(m), "replay:microphone", rate_hz=16000)
    assert p.channels == ("audio",) and p.window == 96
    x = np.random.default_rng(1).integers(-32768, 32768, 400).astype(np.int16)
    got = load_recording(_wav(tmp_path / "ok.wav", x, 16000), p)
    assert got.shape == (400, 1) and np.array_equal(got[:, 0], x.astype(np.float32))
    with pytest.raises(RecordingError, match="recorded at 8000 Hz, the pipeline samples at 16000 Hz"):
        load_recording(_wav(tmp_path / "slow.wav", x, 8000), p)
    with pytest.raises(RecordingError, match="8-bit samples"):
        load_recording(_wav(tmp_path / "u8.wav", x[:200] & 0xFF, 16000, width=1), p)
