/* mcf_port_zephyr.c - mcuforge port for Zephyr: the console UART (devicetree chosen
 * `zephyr,console`) and a tick counter whose unit is a fact.
 *
 * Host link. Received bytes arrive by interrupt (CONFIG_UART_INTERRUPT_DRIVEN) into a ring
 * buffer; a semaphore wakes the reader. mcf_port_read() called from the host protocol's own
 * thread (mcf_zephyr.c) sleeps on that semaphore while the buffer is empty, so serving the host
 * costs no CPU between requests; from any other thread it returns 0 at once (the mcf_port.h
 * contract), as the sensor glue's serving loop needs. Bytes are sent with uart_poll_out(): the
 * console driver shares the UART with printk(), so nothing else should print once the host
 * protocol runs (CONFIG_MCUFORGE_HOST).
 *
 * Ticks, reported in the unit they really count (CONFIG_MCUFORGE_TICKS_*):
 *  - instructions on RISC-V: the minstret CSR (64 bits, read as two halves), in QEMU (7.2 derives
 *    it from its instruction count under -icount) and on cores whose SoC declares the Zicntr
 *    counters (Kconfig). The ESP32-C3's core has no minstret (its counter is Espressif's custom
 *    CSR 0x7e2): there the ticks are ns.
 *  - instructions on the MPS2 boards: they run in QEMU with `-icount shift=CONFIG_MCUFORGE_QEMU_ICOUNT_SHIFT`,
 *    where the virtual clock advances 2^shift ns per instruction, so a timer at
 *    CONFIG_SYS_CLOCK_HW_CYCLES_PER_SEC counts whole groups of instructions (40 at 25 MHz and
 *    shift 0). The counter is the CMSDK APB timer `timer1` of the MPS2 boards (Zephyr's kernel
 *    does not use it), re-based at every reading: writing its VALUE restarts the tick grid at
 *    that instruction, so the difference of two readings depends on the code executed between
 *    them alone, not on when a host byte happened to arrive. Zephyr's own SysTick is left alone.
 *  - cycles: the DWT cycle counter (CPU clock), on cores that have one.
 *  - ns: k_cycle_get_64()/k_cycle_get_32() converted from CONFIG_SYS_CLOCK_HW_CYCLES_PER_SEC,
 *    which on many boards is not the CPU clock.
 */
#if defined(__ZEPHYR__)

#include "mcf_port.h"

#include <zephyr/device.h>
#include <zephyr/devicetree.h>
#include <zephyr/drivers/uart.h>
#include <zephyr/kernel.h>
#include <zephyr/sys/ring_buffer.h>

#include "mcf_zephyr.h"

BUILD_ASSERT(DT_HAS_CHOSEN(zephyr_console),
             "mcuforge talks to the host on the zephyr,console UART: choose one in the devicetree");

static const struct device *const host_uart = DEVICE_DT_GET(DT_CHOSEN(zephyr_console));

/* ---- host link ---------------------------------------------------------------------------- */

#if defined(CONFIG_MCUFORGE_HOST)
RING_BUF_DECLARE(rx_ring, CONFIG_MCUFORGE_HOST_RX_BUFFER_SIZE);
static K_SEM_DEFINE(rx_ready, 0, 1);

static void host_uart_isr(const struct device *dev, void *user_data)
{
    uint8_t chunk[16];
    ARG_UNUSED(user_data);
    while (uart_irq_update(dev) > 0 && uart_irq_rx_ready(dev) > 0) {
        const int n = uart_fifo_read(dev, chunk, sizeof(chunk));
        if (n <= 0) {
            break;
        }
        /* A full buffer drops bytes; the protocol's CRC and the host's retry recover. */
        (void)ring_buf_put(&rx_ring, chunk, (uint32_t)n);
        k_sem_give(&rx_ready);
    }
}
#endif

/* ---- tick counter -------------------------------------------------------------------------- */

#if defined(CONFIG_MCUFORGE_TICKS_INSTRUCTIONS) && defined(CONFIG_RISCV)
#include <zephyr/arch/riscv/csr.h>

static uint64_t instret_base;

static uint64_t read_minstret(void)
{
    uint32_t high;
    uint32_t low;
    do { /* the high half again until it did not change in between */
        high = (uint32_t)csr_read(minstreth);
        low = (uint32_t)csr_read(minstret);
    } while (high != (uint32_t)csr_read(minstreth));
    return ((uint64_t)high << 32) | low;
}

static void ticks_init(void)
{
    instret_base = read_minstret();
}

uint64_t mcf_port_ticks(void)
{
    return read_minstret() - instret_base;
}

const char *mcf_port_tick_unit(void)
{
    return "instructions";
}

#elif defined(CONFIG_MCUFORGE_TICKS_INSTRUCTIONS)
BUILD_ASSERT(DT_NODE_HAS_COMPAT(DT_NODELABEL(timer1), arm_cmsdk_timer),
             "CONFIG_MCUFORGE_TICKS_INSTRUCTIONS counts with the CMSDK timer1 of the MPS2 boards");
#define EMU_TIMER_BASE DT_REG_ADDR(DT_NODELABEL(timer1))
#define EMU_CTRL (*(volatile uint32_t *)(EMU_TIMER_BASE + 0x0u))
#define EMU_VALUE (*(volatile uint32_t *)(EMU_TIMER_BASE + 0x4u))
#define EMU_RELOAD (*(volatile uint32_t *)(EMU_TIMER_BASE + 0x8u))
#define EMU_NS_PER_INSTRUCTION (1u << CONFIG_MCUFORGE_QEMU_ICOUNT_SHIFT)
BUILD_ASSERT((1000000000u % CONFIG_SYS_CLOCK_HW_CYCLES_PER_SEC) == 0u &&
                 ((1000000000u / CONFIG_SYS_CLOCK_HW_CYCLES_PER_SEC) % EMU_NS_PER_INSTRUCTION) == 0u,
             "a timer tick must be a whole number of instructions");
#define EMU_INSTRUCTIONS_PER_TICK ((1000000000u / CONFIG_SYS_CLOCK_HW_CYCLES_PER_SEC) / EMU_NS_PER_INSTRUCTION)

static uint64_t emu_ticks;

static void ticks_init(void)
{
    EMU_CTRL = 0u;
    EMU_RELOAD = UINT32_MAX;
    EMU_VALUE = UINT32_MAX;
    EMU_CTRL = 1u; /* enable, no interrupt */
}

uint64_t mcf_port_ticks(void)
{
    const unsigned int key = irq_lock();
    const uint32_t value = EMU_VALUE;
    EMU_VALUE = UINT32_MAX; /* re-base the tick grid here (see the top of this file) */
    emu_ticks += UINT32_MAX - value;
    irq_unlock(key);
    return emu_ticks * EMU_INSTRUCTIONS_PER_TICK;
}

const char *mcf_port_tick_unit(void)
{
    return "instructions";
}

#elif defined(CONFIG_MCUFORGE_TICKS_CYCLES)
#include <cmsis_core.h>

static uint32_t last_cycles;
static uint64_t high_cycles;

static void ticks_init(void)
{
    CoreDebug->DEMCR |= CoreDebug_DEMCR_TRCENA_Msk;
    DWT->CYCCNT = 0u;
    DWT->CTRL |= DWT_CTRL_CYCCNTENA_Msk;
    last_cycles = 0u;
}

uint64_t mcf_port_ticks(void)
{
    /* Extend the 32-bit counter; valid if read at least once per 2^32 cycles. */
    const unsigned int key = irq_lock();
    const uint32_t now = DWT->CYCCNT;
    if (now < last_cycles) {
        high_cycles += (uint64_t)1 << 32;
    }
    last_cycles = now;
    irq_unlock(key);
    return high_cycles | now;
}

const char *mcf_port_tick_unit(void)
{
    return "cycles";
}

#else /* CONFIG_MCUFORGE_TICKS_KERNEL */
#if !defined(CONFIG_TIMER_HAS_64BIT_CYCLE_COUNTER)
static uint32_t last_cycles;
static uint64_t high_cycles;
#endif

static void ticks_init(void)
{
#if !defined(CONFIG_TIMER_HAS_64BIT_CYCLE_COUNTER)
    last_cycles = k_cycle_get_32();
#endif
}

uint64_t mcf_port_ticks(void)
{
#if defined(CONFIG_TIMER_HAS_64BIT_CYCLE_COUNTER)
    return k_cyc_to_ns_floor64(k_cycle_get_64());
#else
    const unsigned int key = irq_lock();
    const uint32_t now = k_cycle_get_32();
    if (now < last_cycles) {
        high_cycles += (uint64_t)1 << 32;
    }
    last_cycles = now;
    irq_unlock(key);
    return k_cyc_to_ns_floor64(high_cycles | now);
#endif
}

const char *mcf_port_tick_unit(void)
{
    return "ns";
}
#endif

/* ---- mcf_port.h ---------------------------------------------------------------------------- */

void mcf_port_init(void)
{
    /* The UART is initialised by the kernel before the application; if it failed, there is no
     * one to tell, so stop here rather than talk to a dead device. */
    if (!device_is_ready(host_uart)) {
        k_panic();
    }
#if defined(CONFIG_MCUFORGE_HOST)
    if (uart_irq_callback_user_data_set(host_uart, host_uart_isr, NULL) != 0) {
        k_panic();
    }
    uart_irq_rx_enable(host_uart);
    {
        /* A byte that arrived before the interrupt was enabled raises none (the CMSDK UART
         * signals the transition to full only), and holds back the next ones: take it now. */
        const unsigned int key = irq_lock();
        host_uart_isr(host_uart, NULL);
        irq_unlock(key);
    }
#endif
    ticks_init();
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
#if defined(CONFIG_MCUFORGE_HOST)
    const int may_sleep = mcf_zephyr_is_host_thread();
    for (;;) {
        if (ring_buf_get(&rx_ring, byte, 1) == 1u) {
            return 1;
        }
        if (!may_sleep) {
            return 0;
        }
        mcf_zephyr_host_wait(&rx_ready);
    }
#else
    ARG_UNUSED(byte);
    return 0;
#endif
}

void mcf_port_exit(int status)
{
    ARG_UNUSED(status);
    k_sleep(K_FOREVER);
}

#else
typedef int mcf_port_zephyr_unused; /* ISO C wants a non-empty translation unit */
#endif
