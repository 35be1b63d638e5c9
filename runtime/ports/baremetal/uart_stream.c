/*
 * uart_stream.c - buffer writes and timed reads over a family's polled UART (every family).
 *
 * Built on the byte calls each family's driver provides (arm/uart_cmsdk.c,
 * riscv/uart_ns16550.c): mcf_uart_putc(), mcf_uart_getc(); timeouts on mcf_ticks().
 */
#include "mcf_baremetal.h"

void mcf_uart_write(const void *buf, size_t len)
{
    const uint8_t *p = (const uint8_t *)buf;
    while (len--) {
        mcf_uart_putc(*p++);
    }
}

size_t mcf_uart_read(void *buf, size_t len, uint32_t timeout_ms)
{
    uint8_t *p = (uint8_t *)buf;
    size_t got = 0;
    const int forever = timeout_ms == MCF_WAIT_FOREVER;
    const uint64_t limit = (uint64_t)timeout_ms * (MCF_CPU_HZ / 1000u);
    const uint64_t start = (forever || timeout_ms == 0) ? 0 : mcf_ticks();

    while (got < len) {
        int c;
        if (mcf_uart_getc(&c)) {
            p[got++] = (uint8_t)c;
            continue;
        }
        if (timeout_ms == 0 || (!forever && mcf_ticks() - start >= limit)) {
            break;
        }
    }
    return got;
}
