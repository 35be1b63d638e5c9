/*
 * mcf_host.h - serve the mcuforge host tools (run, test, bench, the pytest plugin) over the
 * platform's host link, using the serial protocol of runtime/protocol (docs/protocol.md).
 *
 * Two ways to use it.
 *
 * 1. Non-blocking, beside the application's own work (Arduino setup()/loop(), a main loop, an
 *    RTOS thread):
 *
 *     void setup(void) {
 *         mcf_port_init();
 *         mymodel_init();
 *         (void)mcf_selftest(&mymodel_model, mcf_selftest_inputs, MCF_SELFTEST_CHECKSUM);
 *         (void)mcf_host_begin(&mymodel_model, "nucleo_f746zg", NULL);
 *     }
 *     void loop(void) {
 *         ... the application ...
 *         mcf_host_poll();          // handles what has arrived, then returns
 *     }
 *
 * 2. Blocking, when the host protocol is all the program does (the CMake flavor's main()):
 *
 *     mcf_host_serve(&mymodel_model, "mps2_an386");      // never returns
 *
 *    which is mcf_host_begin() followed by mcf_host_poll() forever.
 *
 * What mcf_host_begin() does: fills an mcf_proto_port from mcf_port.h (write, read, ticks, tick
 * unit), sends a lone 0x00 so that any text printed before (the self-test line) is closed off as
 * a frame of its own, and sends HELLO with the BOOT flag (the host detects resets by it). Each
 * mcf_host_poll() then reads the bytes mcf_port_read() has waiting (stopping after each complete
 * frame to answer it), answers complete requests and returns; it never waits for bytes that have
 * not arrived. An INFER_RUN request runs the model inside the call, so one poll can take as long
 * as one inference. The protocol context is static (about 600 bytes with the default 256-byte
 * frames); nothing is allocated.
 *
 * Threads (e.g. a Zephyr thread that serves the host while main() does other work): there is one
 * host link per program. Call mcf_host_begin() once and then mcf_host_poll() from that one thread
 * only; nothing here locks. The host's requests run the model and read or write its tensors, so
 * the application must not invoke the same model from another thread at the same time. A thread
 * that has nothing else to do may sleep between polls (a few milliseconds add that much latency
 * to each request, nothing else).
 *
 * Ticks: the counter is mcf_port_ticks(), reported in the unit mcf_port_tick_unit() names:
 * "cycles", "instructions", "us", "ns" (anything else is sent as RAW timer ticks).
 */
#ifndef MCF_HOST_H
#define MCF_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "mcf_model.h"
#include "mcf_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Optional application hooks (both may be NULL):
 *  - on_message: requests the protocol core does not handle (e.g. SAMPLES); same contract as
 *    mcf_proto_port.on_message: return 1 and answer the request, or 0 for BAD_TYPE;
 *  - poll: called once per mcf_host_poll(), after the link was served, for work of the
 *    application's own (e.g. reading a sensor at its sample rate). Keep it short.
 */
typedef struct {
    int (*on_message)(mcf_proto *proto, uint8_t type, uint8_t seq, const uint8_t *payload, size_t len);
    void (*poll)(mcf_proto *proto);
} mcf_host_hooks;

/** Results of mcf_host_begin(). */
typedef enum {
    MCF_HOST_OK = 0,      /**< HELLO sent; call mcf_host_poll() from now on */
    MCF_HOST_OFF = 1,     /**< the port keeps the host link off (the native port without
                               MCUFORGE_HOST): nothing was sent, mcf_host_poll() does nothing */
    MCF_HOST_REFUSED = -1 /**< the protocol cannot serve this model (more inputs than
                               MCF_PROTO_MAX_INPUTS, or no model); one text line said so */
} mcf_host_status;

/**
 * Starts serving the host: `board_id` (may be NULL) is reported in HELLO, e.g. "mps2_an386";
 * `hooks` may be NULL and must stay valid while mcf_host_poll() is called. Call once, after
 * mcf_port_init(). Returns without waiting for the host.
 */
mcf_host_status mcf_host_begin(const mcf_model *model, const char *board_id, const mcf_host_hooks *hooks);

/**
 * Handles what the host link has delivered since the last call (complete requests are answered,
 * a partial frame is kept for the next call), runs hooks->poll once and returns. Does nothing
 * unless mcf_host_begin() returned MCF_HOST_OK. Returns the number of requests handled.
 */
size_t mcf_host_poll(void);

/** The protocol context once mcf_host_begin() succeeded (e.g. to send LOG frames), else NULL. */
mcf_proto *mcf_host_proto(void);

/**
 * Answers the host forever on the mcf_port link: mcf_host_begin(), then mcf_host_poll() in a loop.
 * If the protocol refuses the model, prints one text line saying so and ends the program through
 * mcf_port_exit(3); if the port keeps the link off, ends it through mcf_port_exit(0).
 * Does not return.
 */
void mcf_host_serve(const mcf_model *model, const char *board_id);

/** mcf_host_serve() with application hooks (`hooks` may be NULL). Does not return. */
void mcf_host_serve_with(const mcf_model *model, const char *board_id, const mcf_host_hooks *hooks);

#ifdef __cplusplus
}
#endif

#endif /* MCF_HOST_H */
