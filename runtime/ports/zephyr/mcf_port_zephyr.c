/* mcf_port_zephyr.c - mcuforge port for Zephyr: the console UART (devicetree chosen
 * `zephyr,console`) in polling mode, and the kernel's hardware cycle counter.
 *
 * The console UART also carries printk() (the boot banner); nothing else should write to it
 * once mcf_host_serve() runs. Polling needs no Kconfig beyond CONFIG_SERIAL; keep
 * CONFIG_CONSOLE_HANDLER off so the console driver does not consume received bytes.
 *
 * Ticks are k_cycle_get_64()/k_cycle_get_32(): CONFIG_SYS_CLOCK_HW_CYCLES_PER_SEC per second,
 * which is the CPU clock on Cortex-M boards whose system timer is SysTick. Under QEMU they
 * follow QEMU's virtual clock (instruction counts only with -icount), not modelled cycles. */
#if defined(__ZEPHYR__)

#include "mcf_port.h"

#include <zephyr/device.h>
#include <zephyr/devicetree.h>
#include <zephyr/drivers/uart.h>
#include <zephyr/kernel.h>

BUILD_ASSERT(DT_HAS_CHOSEN(zephyr_console),
             "mcuforge talks to the host on the zephyr,console UART: choose one in the devicetree");

static const struct device *const host_uart = DEVICE_DT_GET(DT_CHOSEN(zephyr_console));

#if !defined(CONFIG_TIMER_HAS_64BIT_CYCLE_COUNTER)
static uint32_t last_cycles;
static uint64_t high_cycles;
#endif

void mcf_port_init(void)
{
    /* The UART is initialised by the kernel before main(); if it failed, there is no one to
     * tell, so stop here rather than poll a dead device. */
    if (!device_is_ready(host_uart)) {
        k_panic();
    }
#if !defined(CONFIG_TIMER_HAS_64BIT_CYCLE_COUNTER)
    last_cycles = k_cycle_get_32();
#endif
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
#if defined(CONFIG_TIMER_HAS_64BIT_CYCLE_COUNTER)
    return k_cycle_get_64();
#else
    /* Extend the 32-bit counter; valid if called at least once per wrap (2^32 cycles). */
    const uint32_t now = k_cycle_get_32();
    if (now < last_cycles) {
        high_cycles += (uint64_t)1 << 32;
    }
    last_cycles = now;
    return high_cycles | now;
#endif
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
