"""The Arduino libraries and cameras mcuforge's Arduino sources read (runtime/sensor/sources/).

The pipeline checks a board's sensor against these (pipeline.py); the C generator writes their
macros and constants into mcf_sensor_config.h (codegen.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..boards import SensorCamera

__all__ = ["ARDUINO_CAMERAS", "ARDUINO_CAMERA_SIZES", "ARDUINO_LIBRARIES", "ArduinoCamera", "ArduinoLibrary",
           "arduino_camera_caps"]


@dataclass(frozen=True)
class ArduinoLibrary:
    """An Arduino sensor library mcuforge generates a source for (sources/mcf_source_arduino.cpp)."""

    macro: str  # MCF_ARDUINO_LIB value selecting the code path
    lib_dep: str  # PlatformIO lib_deps entry (registry owner/name)
    native: dict[str, str]  # quantity → the unit the library returns
    max_rate_hz: float | None  # the rate the library configures the part to (None: the app may set it)


ARDUINO_LIBRARIES: dict[str, ArduinoLibrary] = {
    # IMU.readAcceleration() in g, readGyroscope() in dps, readMagneticField() in uT; begin() fixes the
    # accelerometer/gyroscope at 119 Hz (accelerationSampleRate()), the magnetometer at 20 Hz.
    "Arduino_LSM9DS1": ArduinoLibrary("MCF_ARDUINO_LSM9DS1", "arduino-libraries/Arduino_LSM9DS1",
                                      {"accel": "g", "gyro": "dps", "magn": "uT"}, 119.0),
    # LSM6DSLSensor::Get_X_Axes() in mg, Get_G_Axes() in mdps (int32); Set_X_ODR/Set_G_ODR choose the rate.
    "STM32duino LSM6DSL": ArduinoLibrary("MCF_ARDUINO_STM32DUINO_LSM6DSL", "stm32duino/STM32duino LSM6DSL",
                                         {"accel": "mg", "gyro": "mdps"}, None),
    # PDM microphones: the PDM library comes with Arduino's mbed cores (no lib_deps entry); int16 PCM;
    # the rates PDM.begin() accepts are checked in microphone.py. Source: sources/mcf_source_arduino_pdm.cpp.
    "PDM": ArduinoLibrary("MCF_ARDUINO_PDM", "", {"audio": "raw"}, None),
}


@dataclass(frozen=True)
class ArduinoCamera:
    """An image sensor the Camera library of Arduino's mbed cores drives (libraries/Camera with the
    sensor's own library, e.g. libraries/GC2145), read by sources/mcf_source_arduino_camera.cpp."""

    header: str  # the sensor library's header
    cls: str  # its ImageSensor class
    formats: dict[str, str]  # mcuforge pixel format → the Camera library's pixel format constant


#: The Camera library's resolutions (camera.h, restab in camera.cpp): frame size → constant.
ARDUINO_CAMERA_SIZES: dict[tuple[int, int], str] = {
    (160, 120): "CAMERA_R160x120", (320, 240): "CAMERA_R320x240", (320, 320): "CAMERA_R320x320",
    (640, 480): "CAMERA_R640x480", (800, 600): "CAMERA_R800x600", (1600, 1200): "CAMERA_R1600x1200",
}

ARDUINO_CAMERAS: dict[str, ArduinoCamera] = {
    # GC2145::setPixelFormat: RGB565 (as the sensor sends it, high byte first); its "grayscale" is
    # raw Bayer, which the glue does not take.
    "gc2145": ArduinoCamera("gc2145.h", "GC2145", {"rgb565be": "CAMERA_RGB565"}),
}


def arduino_camera_caps(part: str) -> SensorCamera:
    """What the Camera library delivers from image sensor `part` (for the pipeline's checks)."""
    from ..boards import SensorCamera

    cam = ARDUINO_CAMERAS[part]
    return SensorCamera(formats=tuple(cam.formats), sizes=tuple(ARDUINO_CAMERA_SIZES), frame_buffers=1, dma=True)
