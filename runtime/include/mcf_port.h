/*
 * mcf_port.h - what mcuforge's application code needs from a platform.
 *
 * One implementation per port: runtime/ports/baremetal (CMSDK UART, SysTick, semihosting),
 * runtime/ports/zephyr (console UART, k_cycle_get), runtime/ports/arduino (Serial, micros or
 * the DWT cycle counter), runtime/ports/native (stdio and the host clock, for `pio run -e native`
 * and host tests). The byte stream is the same one the serial protocol and the console use.
 */
#ifndef MCF_PORT_H
#define MCF_PORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Bring up the console/host link. Called once, first thing in main(). */
void mcf_port_init(void);

/** Write raw bytes to the host link (8-bit clean; blocks until queued). */
void mcf_port_write(const uint8_t *data, size_t len);

/** Read one byte if one is waiting: returns 1 and stores it, or 0 when none is available. */
int mcf_port_read(uint8_t *byte);

/** Monotonic tick counter for latency measurement. */
uint64_t mcf_port_ticks(void);

/** What one tick is: "cycles" (CPU clock cycles), "instructions" (emulators counting
 *  instructions, e.g. QEMU -icount), "us" or "ns". */
const char *mcf_port_tick_unit(void);

/** End the program: emulators exit with `status`; hardware idles. */
void mcf_port_exit(int status);

#ifdef __cplusplus
}
#endif

#endif /* MCF_PORT_H */
