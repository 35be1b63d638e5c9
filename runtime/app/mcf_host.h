/*
 * mcf_host.h - serve the mcuforge host tools (run, test, bench, the pytest plugin) over the
 * platform's host link, using the serial protocol of runtime/protocol (docs/protocol.md).
 *
 * Typical main():
 *
 *     mcf_port_init();
 *     mymodel_init();
 *     (void)mcf_selftest(&mymodel_model, mcf_selftest_inputs, MCF_SELFTEST_CHECKSUM);
 *     mcf_host_serve(&mymodel_model, "mps2_an386");      // never returns
 *
 * What it does: fills an mcf_proto_port from mcf_port.h (write, read, ticks, tick unit), sends a
 * lone 0x00 so that any text printed before (the self-test line) is closed off as a frame of its
 * own, sends HELLO with the BOOT flag (the host detects resets by it), then polls the link and
 * answers requests forever. The protocol context is static (about 600 bytes with the default
 * 256-byte frames); nothing is allocated.
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
 * Optional application hooks for mcf_host_serve_with() (both may be NULL):
 *  - on_message: requests the protocol core does not handle (e.g. SAMPLES); same contract as
 *    mcf_proto_port.on_message: return 1 and answer the request, or 0 for BAD_TYPE;
 *  - poll: called once per turn of the serving loop, between polls of the host link, for work
 *    of the application's own (e.g. reading a sensor at its sample rate). Keep it short.
 */
typedef struct {
    int (*on_message)(mcf_proto *proto, uint8_t type, uint8_t seq, const uint8_t *payload, size_t len);
    void (*poll)(mcf_proto *proto);
} mcf_host_hooks;

/**
 * Answers the host forever on the mcf_port link. `board_id` (may be NULL) is reported in HELLO,
 * e.g. "mps2_an386". If the protocol refuses the model (more inputs than MCF_PROTO_MAX_INPUTS),
 * prints one text line saying so and ends the program through mcf_port_exit(3).
 * Does not return.
 */
void mcf_host_serve(const mcf_model *model, const char *board_id);

/** mcf_host_serve() with application hooks (`hooks` may be NULL). Does not return. */
void mcf_host_serve_with(const mcf_model *model, const char *board_id, const mcf_host_hooks *hooks);

#ifdef __cplusplus
}
#endif

#endif /* MCF_HOST_H */
