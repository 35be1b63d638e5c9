/*
 * mcf_sensor_host.h - a sensor pipeline feeding the model, while the host link is served.
 *
 * Typical main() of a project generated with a `sensor:` section:
 *
 *     mcf_port_init();
 *     mymodel_init();
 *     (void)mcf_selftest(&mymodel_model, mcf_selftest_inputs, MCF_SELFTEST_CHECKSUM);
 *     mcf_sensor_serve(&mymodel_model, "disco_l475_iot1", on_window);   // never returns
 *
 * What it does, on top of mcf_host_serve_with() (HELLO, inferences and tensor reads for the host):
 *
 *  - live source (sensor.source `board`): samples are read at the pipeline's rate between polls of
 *    the host link; every completed window (every HOP samples) builds the input tensor, runs the
 *    model and calls `on_window(model, n)` (n = 1, 2, ...), which reads the outputs. NULL: each
 *    window is reported as a LOG frame "window <n>: top <index>". Windows are skipped while the
 *    host is loading inputs of its own (INFER_BEGIN .. INFER_RUN); a live window run after a host
 *    inference replaces its outputs in memory (the host has them from the RESULT stream).
 *
 *  - SAMPLES messages (every source; the only one for `replay` / `serial`): float32 samples from
 *    the host go through the same ring buffer and build; each completed window is run and
 *    answered like INFER_RUN (docs/protocol.md, SAMPLES). A live source pauses while a host stream
 *    is open (from the START flag until the END flag).
 *
 * RAM: MCF_SENSOR_RAM_BYTES (mcf_sensor.c) plus a few counters here; no heap.
 */
#ifndef MCF_SENSOR_HOST_H
#define MCF_SENSOR_HOST_H

#include <stdint.h>

#include "mcf_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Called after each live window's inference; `window` counts from 1. */
typedef void (*mcf_sensor_window_fn)(const mcf_model *model, uint32_t window);

/** Serves the host and runs the sensor pipeline forever (see above). `on_window` may be NULL. */
void mcf_sensor_serve(const mcf_model *model, const char *board_id, mcf_sensor_window_fn on_window);

/** Sends a LOG frame to the host (from on_window, for instance); no-op before mcf_sensor_serve(). */
void mcf_sensor_log(const char *text);

#ifdef __cplusplus
}
#endif

#endif /* MCF_SENSOR_HOST_H */
