/* mcf_port_arduino.cpp - mcuforge port for Arduino cores (PlatformIO `framework = arduino`):
 * the host link is `Serial`, ticks are microseconds from micros(). Compiles to nothing
 * outside Arduino builds, so the PlatformIO library can carry every port. */
#if defined(ARDUINO)

#include <Arduino.h>

#include "mcf_port.h"

#ifndef MCF_SERIAL_BAUD
#define MCF_SERIAL_BAUD 115200 /* the generated platformio.ini passes the board's console speed */
#endif

/* Native-USB boards (RP2040, ESP32-S3 USB CDC, ...): `Serial` is true once a host has opened the
 * port. mcf_port_init() waits for that at most this many milliseconds, so that the self-test line
 * reaches a host that is already attached, and then goes on: a device without a host runs its
 * loop() all the same (what it prints meanwhile is dropped). 0: do not wait. UARTs are ready at
 * once. */
#ifndef MCF_SERIAL_WAIT_MS
#define MCF_SERIAL_WAIT_MS 2000
#endif

static uint32_t last_us;
static uint64_t high_us;

extern "C" void mcf_port_init(void)
{
    const uint32_t start_ms = millis();
    Serial.begin(MCF_SERIAL_BAUD);
    while (!Serial && (uint32_t)(millis() - start_ms) < (uint32_t)MCF_SERIAL_WAIT_MS) {
        delay(10);
    }
    last_us = micros();
}

extern "C" void mcf_port_write(const uint8_t *data, size_t len)
{
    Serial.write(data, len);
}

extern "C" int mcf_port_read(uint8_t *byte)
{
    if (Serial.available() <= 0) {
        return 0;
    }
    *byte = (uint8_t)Serial.read();
    return 1;
}

extern "C" uint64_t mcf_port_ticks(void)
{
    const uint32_t now = micros(); /* wraps every ~71 minutes: extend to 64 bits */
    if (now < last_us) {
        high_us += (uint64_t)1 << 32;
    }
    last_us = now;
    return high_us | now;
}

extern "C" const char *mcf_port_tick_unit(void)
{
    return "us";
}

extern "C" void mcf_port_exit(int status)
{
    (void)status;
    for (;;) {
        delay(1000);
    }
}

#endif /* ARDUINO */
