/* mcf_port_zephyr.c - mcuforge port for Zephyr: the console UART (devicetree chosen
 * `zephyr,console`) in polling mode, and the kernel cycle counter. */
#if defined(__ZEPHYR__)

#include "mcf_port.h"

#include <zephyr/device.h>
#include <zephyr/drivers/uart.h>
#include <zephyr/kernel.h>

static const struct device *const host_uart = DEVICE_DT_GET(DT_CHOSEN(zephyr_console));
static uint32_t last_cycles;
static uint64_t high_cycles;

void mcf_port_init(void)
{
    last_cycles = k_cycle_get_32();
}

void mcf_port_write(const uint8_t *data, size_t len)
{
    size_t i;
    for (i = 0; i < len; ++i) {
        uart_poll_out(host_uart, data[i]);
    }
}

int mcf_port_read(uint8_t *byte)
{
    unsigned char c;
    if (uart_poll_in(host_uart, &c) != 0) {
        return 0;
    }
    *byte = c;
    return 1;
}

uint64_t mcf_port_ticks(void)
{
    /* Extend the 32-bit hardware cycle counter; valid if called at least once per wrap. */
    const uint32_t now = k_cycle_get_32();
    if (now < last_cycles) {
        high_cycles += (uint64_t)1 << 32;
    }
    last_cycles = now;
    return high_cycles | now;
}

const char *mcf_port_tick_unit(void)
{
    return "cycles";
}

void mcf_port_exit(int status)
{
    ARG_UNUSED(status);
    k_sleep(K_FOREVER);
}

#else
typedef int mcf_port_zephyr_unused; /* ISO C wants a non-empty translation unit */
#endif
