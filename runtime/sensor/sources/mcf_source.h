/*
 * mcf_source.h - where samples come from. One implementation is compiled into a project,
 * chosen by `sensor.source` in mcuforge.yaml:
 *
 *   mcf_source_zephyr.c     a board sensor through Zephyr's sensor API (sensor_sample_fetch /
 *                           sensor_channel_get on the devicetree node), paced by a k_timer
 *   mcf_source_arduino.cpp  a board sensor through its Arduino library, paced with micros()
 *   mcf_source_zephyr_video.c  a camera through Zephyr's video API (frames, MCF_SENSOR_CAMERA)
 *   mcf_source_zephyr_dmic.c   a PDM microphone through Zephyr's DMIC API (a capture thread fills
 *                              the FIFO of mcf_audio_fifo.h, the main loop takes samples from it)
 *   mcf_source_arduino_pdm.cpp a PDM microphone through the PDM library of Arduino's mbed cores
 *                              (its interrupt-context callback fills the same FIFO)
 *   mcf_source_replay.c     no live samples: they arrive from the host as SAMPLES messages
 *                           (sources `replay` and `serial`), handled in mcf_sensor_host.c
 *
 * Every firmware also accepts SAMPLES, so a recording can be replayed through the exact glue a
 * live-sensor build runs (the live source pauses meanwhile).
 */
#ifndef MCF_SOURCE_H
#define MCF_SOURCE_H

#ifdef __cplusplus
extern "C" {
#endif

/** Prepares the sensor and starts pacing at MCF_SENSOR_RATE_HZ. @return 0 when samples will come,
 *  a negative value when there is no live sensor (host-fed sources) or it failed to start. */
int mcf_source_init(void);

/**
 * Non-blocking. When the next sampling instant has come, reads the sensor into `sample`
 * (MCF_SENSOR_CHANNELS floats, channel order and units of the pipeline) and returns 1;
 * otherwise returns 0 at once. Call it often (the host-serving loop does).
 */
int mcf_source_poll(float *sample);

/**
 * Camera sources (MCF_SENSOR_CAMERA): non-blocking; when the driver has delivered a frame, builds
 * the model input from it into `input` (mcf_sensor_camera_frame), gives the buffer back to the
 * driver and returns 1; otherwise returns 0 at once. Host-fed sources return 0.
 */
int mcf_source_poll_frame(void *input);

/** Sampling instants missed because the caller was busy (e.g. in a long invoke), since init;
 *  microphones: audio blocks dropped (FIFO full) plus failed driver reads. The host-serving loop
 *  appends a non-zero count to its `window n: top k` LOG lines. */
unsigned long mcf_source_overruns(void);

/** A short description for logs, e.g. "zephyr lsm6dsl" or "replay". */
const char *mcf_source_name(void);

#ifdef __cplusplus
}
#endif

#endif /* MCF_SOURCE_H */
