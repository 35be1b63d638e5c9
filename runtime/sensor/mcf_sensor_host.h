/*
 * mcf_sensor_host.h - a sensor pipeline feeding the model, while the host link is served.
 *
 * Two ways to use it, as mcf_host.h.
 *
 * 1. Non-blocking, beside the application's own work (Arduino setup()/loop(), a Zephyr main()):
 *
 *     void setup(void) {
 *         mcf_port_init();
 *         mymodel_init();
 *         (void)mcf_selftest(&mymodel_model, mcf_selftest_inputs, MCF_SELFTEST_CHECKSUM);
 *         (void)mcf_sensor_begin(&mymodel_model, "disco_l475_iot1", on_window);
 *     }
 *     void loop(void) {
 *         if (mcf_sensor_poll()) {   // serves the host, reads due samples; 1: a live window ran
 *             ... act on mymodel_model.outputs ...
 *         }
 *         ... the rest of the application (keep each pass short: samples are read between passes) ...
 *     }
 *
 * 2. Blocking, when the pipeline and the host protocol are all the program does (the CMake
 *    flavor's main()):
 *
 *     mcf_sensor_serve(&mymodel_model, "mps2_an386", on_window);   // never returns
 *
 *    which is mcf_sensor_begin() followed by mcf_sensor_poll() forever.
 *
 * What each mcf_sensor_poll() does: mcf_host_poll() (HELLO, inferences and tensor reads for the
 * host, and SAMPLES), then the live source:
 *
 *  - live source (sensor.source `board`): the samples that are due (mcf_source_poll(), paced at
 *    the pipeline's rate) go into the ring buffer until one completes a window (every HOP samples)
 *    or none is left; a completed window builds the input tensor, runs the model and calls
 *    `on_window(model, n)` (n = 1, 2, ...), which reads the outputs. NULL: each window is reported
 *    as a LOG frame "window <n>: top <index>". One live window at most per call; windows are
 *    skipped while the host is loading inputs of its own (INFER_BEGIN .. INFER_RUN); a live window
 *    run after a host inference replaces its outputs in memory (the host has them from the RESULT
 *    stream). A camera source: one frame per call when the driver has one.
 *
 *  - SAMPLES messages (every source; the only one for `replay` / `serial`): float32 samples from
 *    the host go through the same ring buffer and build; each completed window is run and
 *    answered like INFER_RUN (docs/protocol.md, SAMPLES). A live source pauses while a host stream
 *    is open (from the START flag until the END flag).
 *
 * Threads: call mcf_sensor_begin() and mcf_sensor_poll() from one thread (mcf_host.h); the
 * model runs inside mcf_sensor_poll(), so another thread must not invoke it meanwhile.
 *
 * RAM: MCF_SENSOR_RAM_BYTES (mcf_sensor.c) plus a few counters here; no heap.
 */
#ifndef MCF_SENSOR_HOST_H
#define MCF_SENSOR_HOST_H

#include <stdint.h>

#include "mcf_host.h"
#include "mcf_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Called after each live window's inference; `window` counts from 1. */
typedef void (*mcf_sensor_window_fn)(const mcf_model *model, uint32_t window);

/**
 * Starts the pipeline and the host link: checks that the generated glue fits the model's input,
 * starts the live source (if any) and calls mcf_host_begin() with the SAMPLES handler. Call once,
 * after mcf_port_init() and the model's init(); returns without waiting for the host or a sample.
 * `on_window` may be NULL. Returns MCF_HOST_OK; MCF_HOST_OFF when the port keeps the host link off
 * (the live source still runs in mcf_sensor_poll()); MCF_HOST_REFUSED when the glue does not fit
 * the model or the protocol refuses it (one text line said so; mcf_sensor_poll() does nothing).
 */
mcf_host_status mcf_sensor_begin(const mcf_model *model, const char *board_id, mcf_sensor_window_fn on_window);

/**
 * Serves what the host sent, then reads the live source's due samples (see above) and returns;
 * it never waits for a byte or a sample. Returns 1 when a live window ran in this call (its outputs
 * are in the model's output tensors, on_window was called), else 0.
 */
int mcf_sensor_poll(void);

/** Serves the host and runs the sensor pipeline forever: mcf_sensor_begin(), then mcf_sensor_poll()
 *  in a loop. If the glue or the protocol refuses the model, ends the program through
 *  mcf_port_exit(3); if the port keeps the link off, through mcf_port_exit(0). Does not return. */
void mcf_sensor_serve(const mcf_model *model, const char *board_id, mcf_sensor_window_fn on_window);

/** Sends a LOG frame to the host (from on_window, for instance); no-op while the link is off. */
void mcf_sensor_log(const char *text);

#ifdef __cplusplus
}
#endif

#endif /* MCF_SENSOR_HOST_H */
