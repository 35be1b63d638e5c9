/*
 * baremetal_echo.c - UART echo for the 8-bit-clean test (driven over a TCP socket by pytest).
 *
 * Protocol: the firmware prints "mcf-echo: ready\n". The host then sends blocks of
 * [length: 2 bytes, little-endian][length bytes]; the firmware sends each block's bytes
 * back unchanged. A block of length 0 ends the program with exit status 0. Reads wait
 * forever (the test's own timeout kills the emulator).
 */
#include <stdint.h>

#include "mcf_baremetal.h"

int main(void)
{
    mcf_uart_init(MCF_UART_BAUD);
    mcf_ticks_init();
    mcf_console_puts("mcf-echo: ready\n");
    for (;;) {
        uint8_t hdr[2];
        (void)mcf_uart_read(hdr, sizeof hdr, MCF_WAIT_FOREVER);
        uint32_t len = (uint32_t)hdr[0] | ((uint32_t)hdr[1] << 8);
        if (len == 0u) {
            return 0;
        }
        while (len--) {
            uint8_t b;
            (void)mcf_uart_read(&b, 1, MCF_WAIT_FOREVER);
            mcf_uart_putc(b);
        }
    }
}
