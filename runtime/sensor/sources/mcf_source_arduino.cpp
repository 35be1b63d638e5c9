/* mcf_source_arduino.cpp - a board sensor through its Arduino library (PlatformIO Arduino envs).
 *
 * The library (MCF_ARDUINO_LIB), the channels it must read and the unit factors come from
 * mcf_sensor_config.h; the generated platformio.ini lists the library in lib_deps. Samples are
 * paced with micros() at MCF_SENSOR_PERIOD_US. Outside Arduino builds (PlatformIO's native env) the
 * file provides a source without samples, so the same library compiles everywhere and the host can
 * still replay recordings. */
#include "mcf_sensor.h"
#include "mcf_source.h"

#define MCF_ARDUINO_LSM9DS1 1
#define MCF_ARDUINO_STM32DUINO_LSM6DSL 2

#if defined(ARDUINO)

#include <Arduino.h>

/* Native values: accel x, y, z = 0..2, gyro x, y, z = 3..5, magn x, y, z = 6..8 (library units). */
static const unsigned char native_index[MCF_SENSOR_CHANNELS] = MCF_SOURCE_NATIVE_INDEX;
static const float factor[MCF_SENSOR_CHANNELS] = MCF_SOURCE_FACTOR;

#if MCF_ARDUINO_LIB == MCF_ARDUINO_LSM9DS1
/* Arduino_LSM9DS1: IMU.begin() sets the accelerometer/gyroscope to 119 Hz (+-4 g, 2000 dps);
 * readAcceleration() in g, readGyroscope() in dps, readMagneticField() in uT. */
#include <Arduino_LSM9DS1.h>

static int lib_begin(void)
{
    return IMU.begin() ? 0 : -1;
}

static int lib_read(float *n)
{
#if MCF_SOURCE_NEEDS_ACCEL
    if (!IMU.readAcceleration(n[0], n[1], n[2])) {
        return 0;
    }
#endif
#if MCF_SOURCE_NEEDS_GYRO
    if (!IMU.readGyroscope(n[3], n[4], n[5])) {
        return 0;
    }
#endif
#if MCF_SOURCE_NEEDS_MAGN
    if (!IMU.readMagneticField(n[6], n[7], n[8])) {
        return 0;
    }
#endif
    return 1;
}

#elif MCF_ARDUINO_LIB == MCF_ARDUINO_STM32DUINO_LSM6DSL
/* STM32duino LSM6DSL (2.x): Get_X_Axes() in mg, Get_G_Axes() in mdps (int32); the output data
 * rate is set to the first one at or above ours. */
#include <LSM6DSLSensor.h>
#include <Wire.h>

#if defined(MCF_SOURCE_I2C_SDA)
static TwoWire sensor_bus(MCF_SOURCE_I2C_SDA, MCF_SOURCE_I2C_SCL);
#define MCF_SOURCE_BUS sensor_bus
#else
#define MCF_SOURCE_BUS Wire
#endif
#if !defined(MCF_SOURCE_I2C_ADDRESS)
#define MCF_SOURCE_I2C_ADDRESS LSM6DSL_ACC_GYRO_I2C_ADDRESS_HIGH
#endif
static LSM6DSLSensor sensor(&MCF_SOURCE_BUS, MCF_SOURCE_I2C_ADDRESS);

static int lib_begin(void)
{
    MCF_SOURCE_BUS.begin();
    if (sensor.begin() != LSM6DSL_STATUS_OK) {
        return -1;
    }
#if MCF_SOURCE_NEEDS_ACCEL
    if (sensor.Enable_X() != LSM6DSL_STATUS_OK || sensor.Set_X_ODR(MCF_SENSOR_RATE_HZ) != LSM6DSL_STATUS_OK) {
        return -1;
    }
#endif
#if MCF_SOURCE_NEEDS_GYRO
    if (sensor.Enable_G() != LSM6DSL_STATUS_OK || sensor.Set_G_ODR(MCF_SENSOR_RATE_HZ) != LSM6DSL_STATUS_OK) {
        return -1;
    }
#endif
    return 0;
}

static int lib_read(float *n)
{
    int32_t v[3];
    unsigned i;
#if MCF_SOURCE_NEEDS_ACCEL
    if (sensor.Get_X_Axes(v) != LSM6DSL_STATUS_OK) {
        return 0;
    }
    for (i = 0; i < 3u; ++i) {
        n[i] = (float)v[i];
    }
#endif
#if MCF_SOURCE_NEEDS_GYRO
    if (sensor.Get_G_Axes(v) != LSM6DSL_STATUS_OK) {
        return 0;
    }
    for (i = 0; i < 3u; ++i) {
        n[3u + i] = (float)v[i];
    }
#endif
    (void)v;
    (void)i;
    return 1;
}

#else
#error "mcf_sensor_config.h names no Arduino library this source knows (MCF_ARDUINO_LIB)"
#endif

static int started;
static uint32_t next_us;
static unsigned long overruns;

extern "C" int mcf_source_init(void)
{
    if (lib_begin() != 0) {
        return -1;
    }
    next_us = micros() + (uint32_t)MCF_SENSOR_PERIOD_US;
    started = 1;
    return 0;
}

extern "C" int mcf_source_poll(float *sample)
{
    float native[9] = {0};
    const uint32_t now = micros();
    unsigned c;

    if (!started || (int32_t)(now - next_us) < 0) {
        return 0;
    }
    next_us += (uint32_t)MCF_SENSOR_PERIOD_US;
    if ((int32_t)(now - next_us) >= 0) { /* one or more whole periods were missed */
        const uint32_t missed = (now - next_us) / (uint32_t)MCF_SENSOR_PERIOD_US + 1u;
        overruns += missed;
        next_us += missed * (uint32_t)MCF_SENSOR_PERIOD_US;
    }
    if (!lib_read(native)) {
        overruns++;
        return 0;
    }
    for (c = 0; c < MCF_SENSOR_CHANNELS; ++c) {
        sample[c] = native[native_index[c]] * factor[c];
    }
    return 1;
}

extern "C" unsigned long mcf_source_overruns(void)
{
    return overruns;
}

extern "C" const char *mcf_source_name(void)
{
#if MCF_ARDUINO_LIB == MCF_ARDUINO_LSM9DS1
    return "arduino Arduino_LSM9DS1";
#else
    return "arduino STM32duino LSM6DSL";
#endif
}

#else /* not an Arduino build (PlatformIO native env): no live samples, replay still works */

#include "mcf_source_host_stub.h"

#endif /* ARDUINO */
