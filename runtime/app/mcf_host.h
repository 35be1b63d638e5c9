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

#include "mcf_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Answers the host forever on the mcf_port link. `board_id` (may be NULL) is reported in HELLO,
 * e.g. "mps2_an386". If the protocol refuses the model (more inputs than MCF_PROTO_MAX_INPUTS),
 * prints one text line saying so and ends the program through mcf_port_exit(3).
 * Does not return.
 */
void mcf_host_serve(const mcf_model *model, const char *board_id);

#ifdef __cplusplus
}
#endif

#endif /* MCF_HOST_H */
