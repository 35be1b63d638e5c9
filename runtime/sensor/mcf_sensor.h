/*
 * mcf_sensor.h - sensor samples to the model's input tensor: ring buffer, sliding windows,
 * per-channel scaling and clipping, an optional feature stage, and quantization with the model
 * input's own scale and zero point.
 *
 * Everything that depends on the pipeline comes from the generated mcf_sensor_config.h (see
 * generator/sensor/codegen.py): channel count, window and hop, layout, the per-channel constants,
 * the input's type and quantization. Portable C99: no malloc, no libm, no stdio; one static ring
 * buffer of MCF_SENSOR_WINDOW x MCF_SENSOR_CHANNELS floats (MCF_SENSOR_RAM_BYTES in all).
 *
 *     mcf_sensor_reset();
 *     for (;;) {
 *         float sample[MCF_SENSOR_CHANNELS];       // one reading, in the pipeline's channel order
 *         read_sensor(sample);                      // and units (mcf_sensor_config.h says which)
 *         if (mcf_sensor_push(sample)) {            // a window is complete (every HOP samples)
 *             mcf_sensor_build(model.inputs[MCF_SENSOR_INPUT_INDEX].data);
 *             model.invoke();                       // the input must be built again before each
 *         }                                         // invoke: invoke may reuse its memory
 *     }
 *
 * What mcf_sensor_build() computes, for sample t (0 = oldest of the window) and channel c:
 *
 *     y = (x[t][c] - offset[c]) * scale[c]          float32, two operations (no fused multiply-add
 *     y = y < lo[c] ? lo[c] : y > hi[c] ? hi[c] : y  is possible in this form)
 *     position = t * CHANNELS + c   (time-major)   or   c * WINDOW + t   (channel-major)
 *     [feature stage: window of y -> features]
 *     int8 input:    clamp(round_half_away(y / qscale) + qzero, -128, 127), y / qscale in float32
 *     int16 input:   the same, saturated to -32768..32767 (16x8 models: audio, time series)
 *     float32 input: y
 *
 * The int8 / int16 step is TFLite's QUANTIZE operator as runtime/kernels/quantize.c and
 * quantize_s16.c compute it (bit-exact with TFLite Micro); generator/sensor/reference.py computes the same values on the host. Build
 * with IEEE float32 arithmetic: -ffast-math (reciprocal division, reassociation) is refused.
 */
#ifndef MCF_SENSOR_H
#define MCF_SENSOR_H

#include <stdint.h>

/* Values the generated configuration chooses from. */
#define MCF_SENSOR_TIME_MAJOR 0
#define MCF_SENSOR_CHANNEL_MAJOR 1
#define MCF_SENSOR_SOURCE_REPLAY 0  /* samples from the host (SAMPLES messages), for recordings */
#define MCF_SENSOR_SOURCE_SERIAL 1  /* the same transport, for live streams from a host */
#define MCF_SENSOR_SOURCE_ZEPHYR 2  /* a board sensor through Zephyr's sensor API */
#define MCF_SENSOR_SOURCE_ARDUINO 3 /* a board sensor through its Arduino library */

#include "mcf_sensor_config.h"

#ifndef MCF_SENSOR_CAMERA
#define MCF_SENSOR_CAMERA 0 /* 1: camera frames (mcf_sensor_camera.c) instead of samples */
#endif
#ifndef MCF_SENSOR_INPUT_INT16
#define MCF_SENSOR_INPUT_INT16 0 /* 1: the model input is int16 (configurations before 16x8 lack it) */
#endif
#if MCF_SENSOR_INPUT_INT8 && MCF_SENSOR_INPUT_INT16
#error "mcf_sensor_config.h: the model input is either int8 or int16"
#endif
#ifndef MCF_SENSOR_RING_S16
#define MCF_SENSOR_RING_S16 0 /* 1: int16 ring read in place by the feature stage (audio) */
#endif
#if MCF_SENSOR_RING_S16 && !(MCF_SENSOR_FEATURE && defined(MCF_SENSOR_FEATURE_RUN_RING_S16))
#error "mcf_sensor_config.h: an int16 ring needs a feature stage that reads it (MCF_SENSOR_FEATURE_RUN_RING_S16)"
#endif

#if !defined(MCF_SENSOR_CHANNELS) || !defined(MCF_SENSOR_WINDOW) || !defined(MCF_SENSOR_HOP) ||        \
    !defined(MCF_SENSOR_INPUT_ELEMS) || !defined(MCF_SENSOR_LAYOUT)
#error "mcf_sensor_config.h is incomplete: regenerate it with `mcuforge update`"
#endif
#if (MCF_SENSOR_CHANNELS < 1) || (MCF_SENSOR_WINDOW < 1) || (MCF_SENSOR_HOP < 1) ||                    \
    (MCF_SENSOR_HOP > MCF_SENSOR_WINDOW)
#error "mcf_sensor_config.h: need CHANNELS >= 1 and 1 <= HOP <= WINDOW"
#endif
#if !MCF_SENSOR_CAMERA && !MCF_SENSOR_FEATURE && (MCF_SENSOR_WINDOW * MCF_SENSOR_CHANNELS != MCF_SENSOR_INPUT_ELEMS)
#error "mcf_sensor_config.h: WINDOW x CHANNELS must equal the model input's element count"
#endif
#if defined(__FAST_MATH__)
#error "build the sensor glue without -ffast-math: its float32 arithmetic must match the host reference"
#endif
#ifndef MCF_SENSOR_ATTR
#define MCF_SENSOR_ATTR
#endif

/** Static RAM of this module: the ring buffer (plus the feature stage's buffers) and counters. */
#if MCF_SENSOR_CAMERA
/* one source row (host-fed stream) or the frame buffer (live source, mcf_source_zephyr_video.c),
 * the bilinear line buffer, the state */
#define MCF_SENSOR_RAM_BYTES                                                                           \
    (MCF_CAMERA_ROW_BYTES + 4u * MCF_CAMERA_DST_W * MCF_CAMERA_DST_C + 64u)
#elif MCF_SENSOR_RING_S16
/* int16 ring, features; no float copy of the window */
#define MCF_SENSOR_RAM_BYTES (2u * MCF_SENSOR_WINDOW * MCF_SENSOR_CHANNELS + 4u * MCF_SENSOR_FEATURE_OUT_ELEMS + 16u)
#elif MCF_SENSOR_FEATURE
#define MCF_SENSOR_RAM_BYTES                                                                           \
    (8u * MCF_SENSOR_WINDOW * MCF_SENSOR_CHANNELS + 4u * MCF_SENSOR_FEATURE_OUT_ELEMS + 16u)
#else
#define MCF_SENSOR_RAM_BYTES (4u * MCF_SENSOR_WINDOW * MCF_SENSOR_CHANNELS + 16u)
#endif

#ifdef __cplusplus
extern "C" {
#endif

#if MCF_SENSOR_CAMERA
#include <stddef.h>

/* Camera pipelines (mcf_sensor_camera.c, runtime/sensor/mcf_camera.h): a window is a frame. The
 * host-fed stream carries the raw frame bytes; a "sample" is 4 of them (MCF_SENSOR_WINDOW words
 * make a frame). mcf_sensor_reset, mcf_sensor_windows_after and mcf_sensor_count count words. */

/**
 * Appends `n` bytes of the frame stream (rows are processed as they complete, straight into the
 * model input `input`); stops right after the byte that completes a frame.
 * @param[out] frame_done 1 when a frame was completed: `input` holds its tensor
 * @return the bytes consumed (n, or fewer when a frame completed)
 */
size_t mcf_sensor_camera_feed(const uint8_t *data, size_t n, void *input, int *frame_done);

/** Builds the model input from one whole frame in memory (a video driver's buffer; rows `pitch`
 *  bytes apart). Restarts any partial host-fed frame. */
void mcf_sensor_camera_frame(const uint8_t *frame, uint32_t pitch, void *input);
#endif

/** Empties the ring buffer: the next window completes after MCF_SENSOR_WINDOW new samples. */
void mcf_sensor_reset(void);

/**
 * Appends one sample (MCF_SENSOR_CHANNELS floats in channel order and the pipeline's units).
 * @return 1 when this sample completes a window (the first after WINDOW samples, then every HOP),
 *         0 otherwise.
 */
int mcf_sensor_push(const float *sample);

/** How many windows `n` more samples would complete (to announce them before pushing). */
uint32_t mcf_sensor_windows_after(uint32_t n);

/** Samples pushed since the last reset (modulo 2^32). */
uint32_t mcf_sensor_count(void);

/**
 * Writes the model input for the latest MCF_SENSOR_WINDOW samples into `input` (the input
 * tensor's memory: MCF_SENSOR_INPUT_ELEMS int8, int16 or float values, as configured). Call it when
 * mcf_sensor_push() returned 1; the ring buffer is only read.
 */
void mcf_sensor_build(void *input);

#ifdef __cplusplus
}
#endif

#endif /* MCF_SENSOR_H */
