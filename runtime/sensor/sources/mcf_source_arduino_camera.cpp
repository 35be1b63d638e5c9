/* mcf_source_arduino_camera.cpp - a camera through the Camera library of Arduino's mbed cores for
 * STM32H7 boards (ArduinoCore-mbed libraries/Camera, with the image sensor's own library, e.g.
 * libraries/GC2145 on the Nicla Vision; both come with the core, nothing to install).
 *
 * mcf_source_init(): Camera::begin(resolution, pixel format, frame rate) resets and configures the
 * sensor and the DCMI, then the frame size it reports must be the one the pipeline was generated
 * for (MCF_CAMERA_FRAME_BYTES). The frame buffer is ours: static, aligned to the data cache line
 * (the library checks), handed to a FrameBuffer with setBuffer(): the library allocates none.
 *
 * mcf_source_poll_frame(): once per MCF_SENSOR_PERIOD_US (the pipeline's rate_hz), grabFrame()
 * takes one snapshot by DMA into the buffer - it waits for the frame, up to one frame time at the
 * sensor's rate, and invalidates the data cache over the buffer afterwards - and the glue builds
 * the model input from it row by row (mcf_sensor_camera_frame). A frame that times out counts as
 * an overrun. The library's RGB565 frames hold each pixel high byte first, as the sensor sends it
 * (format rgb565be in mcuforge.yaml).
 *
 * RAM: MCF_CAMERA_FRAME_BYTES, in the arena's region (MCF_SENSOR_ATTR), which must be reachable
 * by the DCMI's DMA. Outside Arduino builds (PlatformIO's native env) the file is a source without
 * frames, so the host can still replay recordings. */
#include "mcf_sensor.h"
#include "mcf_source.h"

#if defined(ARDUINO)

#include <Arduino.h>

#include "camera.h"
#include MCF_ARDUINO_CAMERA_HEADER

#if (MCF_CAMERA_FRAME_BYTES % 4u) != 0
#error "the DCMI moves whole 32-bit words: the frame size must be a multiple of 4 bytes"
#endif

static MCF_ARDUINO_CAMERA_CLASS image_sensor;
static Camera camera(image_sensor);
static FrameBuffer frame;
static uint8_t frame_buf[MCF_CAMERA_FRAME_BYTES] __attribute__((aligned(32))) MCF_SENSOR_ATTR;
static unsigned long overruns;
static uint32_t last_us;
static int started;

extern "C" int mcf_source_init(void)
{
    const int fps = (int)(MCF_SENSOR_RATE_HZ + 0.5f) < 1 ? 1 : (int)(MCF_SENSOR_RATE_HZ + 0.5f);

    if (!camera.begin(MCF_ARDUINO_CAMERA_RESOLUTION, MCF_ARDUINO_CAMERA_PIXFORMAT, fps)) {
        return -1; /* no sensor answered on the camera's I2C bus, or it refused the settings */
    }
    if (camera.frameSize() != (int)MCF_CAMERA_FRAME_BYTES) {
        return -2; /* the library's frame is not the one the pipeline was generated for */
    }
    frame.setBuffer(frame_buf);
    last_us = micros() - MCF_SENSOR_PERIOD_US;
    started = 1;
    return 0;
}

extern "C" int mcf_source_poll_frame(void *input)
{
    uint32_t now = micros();

    if (!started || (uint32_t)(now - last_us) < MCF_SENSOR_PERIOD_US) {
        return 0;
    }
    last_us = now;
    /* at least one frame time at 1 frame/s, the slowest rate Camera::begin takes, plus margin */
    if (camera.grabFrame(frame, 1500u) != 0) {
        overruns++;
        return 0;
    }
    mcf_sensor_camera_frame(frame_buf, MCF_CAMERA_ROW_BYTES, input);
    return 1;
}

extern "C" int mcf_source_poll(float *sample)
{
    (void)sample; /* frames, not samples: mcf_source_poll_frame */
    return 0;
}

extern "C" unsigned long mcf_source_overruns(void)
{
    return overruns;
}

extern "C" const char *mcf_source_name(void)
{
    return "arduino camera " MCF_ARDUINO_CAMERA_NAME;
}

#else /* PlatformIO's native env: no camera, frames come from the host */

#include "mcf_source_host_stub.h"

#endif /* ARDUINO */
