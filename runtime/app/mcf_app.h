/*
 * mcf_app.h - small application helpers shared by every generated project's main():
 * text output without printf, the output checksum, and the boot-time self-test.
 */
#ifndef MCF_APP_H
#define MCF_APP_H

#include <stdint.h>

#include "mcf_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Write a NUL-terminated string to the host link. */
void mcf_print(const char *text);
/** Write an unsigned number in decimal, or as 0x%08x. */
void mcf_print_u64(uint64_t value);
void mcf_print_hex32(uint32_t value);

/**
 * The tick counter as the host tools see it: mcf_port_ticks(), re-based at each reading on an
 * emulator that counts instructions, so that the difference between two readings depends only on
 * the code run between them (see mcf_app.c). The host protocol times invoke() with it and the
 * per-operator profile (MCF_PROFILE=1) reads it between operators, through mcf_profile_ticks().
 */
uint64_t mcf_app_ticks(void);

/** FNV-1a (32-bit) over every output tensor's bytes in order; the host computes the same. */
uint32_t mcf_output_checksum(const mcf_model *model);

/**
 * Copies `inputs[i]` into each input tensor, runs one timed inference and prints
 *   "mcuforge: selftest model=<name> checksum=0x<8 hex> ticks=<n> unit=<unit> result=<ok|MISMATCH>"
 * comparing with `expected_checksum` (computed by the host with TFLite Micro-exact C).
 * Returns 1 when the checksum matches.
 */
int mcf_selftest(const mcf_model *model, const uint8_t *const inputs[], uint32_t expected_checksum);

#ifdef __cplusplus
}
#endif

#endif /* MCF_APP_H */
