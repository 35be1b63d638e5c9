"""The live-sensor sources compiled with the real tools, where they are available (each test says
what it needs and skips with the reason otherwise):

* Zephyr (ZEPHYR_BASE, modules as in tests/test_project_zephyr.py): the disco_l475_iot1 glue on its
  LSM6DSL (accelerometer, and accelerometer + gyroscope in other units) builds warning-free and links
  the driver; the Nordic boards (nano 33 BLE's LSM9DS1, nrf52840dk with a host-fed source) need
  hal_nordic; the replay glue runs on Zephyr in QEMU (mps2/an385, a Cortex-M3 without FPU: soft
  float) and passes `mcuforge test --replay`;
* PlatformIO (MCUFORGE_PIO_CORE_DIR with the ststm32 platform, and the STM32duino LSM6DSL library in
  <core>/libdeps/, placed like Unity, see tests/test_project_platformio.py): the Arduino source builds
  for disco_l475_iot1 against the real library and core; the native env builds the same library;
* the Arduino_LSM9DS1 path of mcf_source_arduino.cpp is compiled (syntax and types) against the real
  library header from MCUFORGE_ARDUINO_LIBS_DIR (a folder holding Arduino_LSM9DS1/), with stand-ins
  for the two Arduino core headers it includes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sensor_helpers import GESTURE, gesture_recording, write_csv
from test_project_zephyr import _needs_zephyr

from mcuforge.generator.build import build_project
from mcuforge.generator.scaffold import new_project

REPO = Path(__file__).resolve().parents[1]
ARDUINO_LIBS_ENV = "MCUFORGE_ARDUINO_LIBS_DIR"
PIO_CORE_ENV = "MCUFORGE_PIO_CORE_DIR"


def _nm(elf: Path) -> str:
    return subprocess.run(["arm-none-eabi-nm", "-C", str(elf)], capture_output=True, text=True, check=True).stdout


# ---- Zephyr ----------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.zephyr
@_needs_zephyr("cmsis_6", "hal_stm32")
@pytest.mark.parametrize(("option", "units", "symbols"), [
    ("accelerometer", None, ["lsm6dsl_init", "mcf_source_poll"]),
    ("imu", {"accel": "m/s2", "gyro": "rad/s"}, ["lsm6dsl_init", "lsm6dsl_attr_set", "mcf_source_poll"]),
])
def test_zephyr_lsm6dsl_glue_builds_for_disco_l475_iot1(tmp_path: Path, option: str, units: dict | None,
                                                        symbols: list[str]) -> None:
    import yaml

    root = tmp_path / "disco"
    new_project(root, GESTURE, "disco_l475_iot1", framework="zephyr", sensor=option)
    if units:
        data = yaml.safe_load((root / "mcuforge.yaml").read_text())
        data["sensor"]["units"] = units
        (root / "mcuforge.yaml").write_text(yaml.safe_dump(data))
        from mcuforge.generator.scaffold import update_project

        update_project(root)
    assert "CONFIG_SENSOR=y" in (root / "prj.conf").read_text()
    res = build_project(root)
    nm = _nm(res.elf)
    for sym in symbols:
        assert sym in nm, sym
    ring = res.report.symbols["sensor"]
    assert ring.region == "sram1" and ring.size == 384  # 32 samples × 3 channels, or 16 × 6, of float32
    config = (root / "mcuforge_model" / "app" / "mcf_sensor_config.h").read_text()
    if option == "imu":
        assert "{SENSOR_CHAN_ACCEL_XYZ, SENSOR_CHAN_GYRO_XYZ}" in config
    # the glue compiles warning-free with Zephyr's own flags plus -Wextra -Werror
    build = root / "build"
    commands = subprocess.run(["ninja", "-C", str(build), "-t", "commands"], capture_output=True, text=True,
                              check=True).stdout.splitlines()
    for name in ("mcf_source_zephyr.c", "mcf_sensor.c", "mcf_sensor_host.c"):
        cmd = next(c for c in commands if c.rstrip().endswith(f"app/{name}") or f"app/{name} " in c + " ")
        proc = subprocess.run(cmd + " -Wextra -Werror", shell=True, cwd=build, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.zephyr
@_needs_zephyr("cmsis_6", "hal_stm32", "hal_st")  # hal_st: the st,lsm6dso driver's sensor library
def test_zephyr_lsm6dso_glue_builds_for_nicla_vision(tmp_path: Path) -> None:
    """The Nicla Vision's LSM6DSOX through Zephyr's st,lsm6dso driver on SPI5 (console: USB CDC ACM)."""
    root = tmp_path / "nicla"
    new_project(root, GESTURE, "arduino_nicla_vision", framework="zephyr", sensor="imu")
    res = build_project(root)
    nm = _nm(res.elf)
    assert "lsm6dso_init" in nm and "mcf_source_poll" in nm
    assert res.report.symbols["sensor"].region == "axi_sram"


@pytest.mark.slow
@pytest.mark.zephyr
@_needs_zephyr("cmsis_6", "hal_nordic")
@pytest.mark.parametrize(("board", "option"), [("arduino_nano_33_ble", "imu"), ("nrf52840dk", "replay:accelerometer")])
def test_zephyr_glue_builds_for_nordic_boards(tmp_path: Path, board: str, option: str) -> None:
    root = tmp_path / board
    new_project(root, GESTURE, board, framework="zephyr", sensor=option)
    res = build_project(root)
    assert "mcf_sensor_build" in _nm(res.elf)


@pytest.mark.slow
@pytest.mark.zephyr
@_needs_zephyr("cmsis_6")
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="needs qemu-system-arm")
def test_zephyr_replay_in_qemu(tmp_path: Path) -> None:
    root = tmp_path / "an385"
    new_project(root, GESTURE, "mps2_an385", framework="zephyr", sensor="replay:accelerometer")
    build_project(root)
    x, _ = gesture_recording(20)
    rec = write_csv(tmp_path / "rec.csv", x, ["accel_x", "accel_y", "accel_z"])
    proc = subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", "test", str(root), "--replay", str(rec)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    assert "39/39 windows: device input tensors bit-exact with the host pipeline, outputs bit-exact" in proc.stdout


# ---- PlatformIO / Arduino --------------------------------------------------------------------------


def _pio_core(platform: str) -> Path:
    value = os.environ.get(PIO_CORE_ENV)
    if not value:
        pytest.skip(f"{PIO_CORE_ENV} is not set (a PlatformIO core folder with platforms; "
                    "see tests/test_project_platformio.py)")
    core = Path(value)
    if not (core / "platforms" / platform / "platform.json").is_file():
        pytest.skip(f"{PIO_CORE_ENV}={core} has no '{platform}' platform")
    try:
        import platformio  # noqa: F401
    except ImportError:
        pytest.skip("the platformio package is not installed (pip install platformio)")
    return core


def _pio(root: Path, core: Path, env: str) -> subprocess.CompletedProcess[str]:
    envvars = {**os.environ, "PLATFORMIO_CORE_DIR": str(core), "PLATFORMIO_SETTING_ENABLE_TELEMETRY": "no",
               "PLATFORMIO_SETTING_CHECK_PLATFORMIO_INTERVAL": "3650"}
    return subprocess.run([sys.executable, "-m", "platformio", "run", "-d", str(root), "-e", env], cwd=root,
                          capture_output=True, text=True, timeout=900, env=envvars, stdin=subprocess.DEVNULL)


def _offline_libs(root: Path, core: Path, env: str, libs: list[str]) -> None:
    """Libraries PlatformIO would download (Unity, the sensor's), from <core>/libdeps/."""
    for lib in ["Unity", *libs]:
        src = core / "libdeps" / lib
        if not src.is_dir():
            if lib == "Unity":
                continue  # online, PlatformIO installs it
            pytest.skip(f"{src} is missing: put the '{lib}' library there (with a .piopm) to build offline")
        shutil.copytree(src, root / ".pio" / "libdeps" / env / lib)


@pytest.mark.slow
@pytest.mark.platformio
def test_arduino_lsm6dsl_source_builds_for_disco_l475_iot1(tmp_path: Path) -> None:
    core = _pio_core("ststm32")
    root = tmp_path / "disco"
    new_project(root, GESTURE, "disco_l475_iot1", framework="platformio", sensor="accelerometer")
    ini = (root / "platformio.ini").read_text()
    assert "lib_deps = stm32duino/STM32duino LSM6DSL" in ini
    env = "disco_l475_iot1_arduino"
    _offline_libs(root, core, env, ["STM32duino LSM6DSL"])
    proc = _pio(root, core, env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    nm = _nm(root / ".pio" / "build" / env / "firmware.elf")
    for sym in ("LSM6DSLSensor::Get_X_Axes", "LSM6DSLSensor::Set_X_ODR", "mcf_source_poll", "mcf_sensor_ring"):
        assert sym in nm, sym
    assert "mcf_source" not in "".join(line for line in proc.stdout.splitlines() if "warning" in line)


@pytest.mark.slow
@pytest.mark.platformio
def test_native_env_builds_with_the_arduino_source(tmp_path: Path) -> None:
    core = _pio_core("native")
    root = tmp_path / "disco"
    new_project(root, GESTURE, "disco_l475_iot1", framework="platformio", sensor="accelerometer")
    _offline_libs(root, core, "native", [])
    proc = _pio(root, core, "native")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


_ARDUINO_STANDINS = {
    "Arduino.h": "#include <stdint.h>\n#include <stddef.h>\n#include <math.h>\ntypedef uint8_t byte;\n"
                 "unsigned long micros(void);\nunsigned long millis(void);\nvoid delay(unsigned long ms);\n",
    "Wire.h": "class TwoWire { public: void begin(); };\n",
}


def test_arduino_lsm9ds1_source_matches_the_library_api(tmp_path: Path) -> None:
    value = os.environ.get(ARDUINO_LIBS_ENV)
    lib = Path(value) / "Arduino_LSM9DS1" / "src" if value else None
    if lib is None or not (lib / "Arduino_LSM9DS1.h").is_file():
        pytest.skip(f"{ARDUINO_LIBS_ENV} does not name a folder holding Arduino_LSM9DS1/ "
                    "(github.com/arduino-libraries/Arduino_LSM9DS1)")
    cxx = shutil.which("g++")
    if cxx is None:
        pytest.skip("needs g++")
    root = tmp_path / "nano"
    new_project(root, GESTURE, "arduino_nano_33_ble", framework="platformio", sensor="imu")
    app = root / "lib" / "mcuforge_model" / "src" / "app"  # PlatformIO library: sources in src/, headers in include/
    inc = root / "lib" / "mcuforge_model" / "include"
    stand = tmp_path / "core"
    stand.mkdir()
    for name, text in _ARDUINO_STANDINS.items():
        (stand / name).write_text(text)
    proc = subprocess.run([cxx, "-std=gnu++17", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-DARDUINO=10819",
                           "-I", str(stand), "-I", str(lib), "-I", str(app),
                           "-I", str(inc), str(app / "mcf_source_arduino.cpp")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "MCF_ARDUINO_LIB MCF_ARDUINO_LSM9DS1" in (inc / "mcf_sensor_config.h").read_text()
