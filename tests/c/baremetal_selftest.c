/*
 * baremetal_selftest.c - non-interactive check of the bare-metal port under QEMU.
 *
 * Prints "key=value" lines on the UART that tests/test_baremetal_port.py parses, then exits
 * through semihosting with MCF_TEST_EXIT_STATUS (not 0, so the test sees the status is real).
 * Built with -DMCF_TEST_FAULT it instead executes an undefined instruction to exercise the
 * fault handler (expected exit: 128 + 3, HardFault, since UsageFault is not enabled).
 */
#include <stdint.h>
#include <string.h>

#include "mcf_baremetal.h"
#include "mcf_port.h"

#ifndef MCF_TEST_EXIT_STATUS
#define MCF_TEST_EXIT_STATUS 42
#endif

/* A buffer the test places in an explicitly chosen region (section named on the command line). */
#ifdef MCF_TEST_PLACED_SECTION
#define PLACED __attribute__((section(MCF_TEST_PLACED_SECTION), aligned(16)))
#else
#define PLACED __attribute__((aligned(16)))
#endif
PLACED uint8_t mcf_test_arena[4096];

/* Copied and zeroed at boot: checks the startup tables. */
volatile uint32_t mcf_test_data_word = 0xC0FFEE11u;
volatile uint32_t mcf_test_bss_words[8];

#if defined(MCF_TEST_WEIGHTS_SECTION)
/* Initialised constant data placed in a RAM region: must be copied there at boot. */
__attribute__((section(MCF_TEST_WEIGHTS_SECTION), aligned(4)))
const uint8_t mcf_test_weights[8] = {1, 2, 3, 4, 5, 6, 7, 8};
#endif

/* Exactly 2 * n + 1 instructions: mov, then n times (subs, bne). */
static void __attribute__((noinline)) known_loop(uint32_t n)
{
    __asm__ volatile(
        "mov r0, %0\n"
        "1:\n\t"
        "subs r0, r0, #1\n\t"
        "bne 1b\n\t"
        :
        : "r"(n)
        : "r0", "cc");
}

static uint64_t measure(uint32_t n)
{
    uint64_t t0 = mcf_ticks();
    known_loop(n);
    return mcf_ticks() - t0;
}

int main(void)
{
    mcf_uart_init(MCF_UART_BAUD);
    mcf_console_puts("mcf-selftest: start\r\n");

#ifdef MCF_TEST_FAULT
    __asm__ volatile(".inst.n 0xde00"); /* permanently undefined (UDF #0) */
#endif

    int ok = 1;
    if (mcf_test_data_word != 0xC0FFEE11u) {
        ok = 0;
    }
    for (unsigned i = 0; i < 8; ++i) {
        if (mcf_test_bss_words[i] != 0u) {
            ok = 0;
        }
    }
#if defined(MCF_TEST_WEIGHTS_SECTION)
    for (unsigned i = 0; i < 8; ++i) {
        if (mcf_test_weights[i] != i + 1u) {
            ok = 0;
        }
    }
#endif
    mcf_printf("init_ok=%d\r\n", ok);
    mcf_printf("arena_addr=0x%08lx\r\n", (unsigned long)(uintptr_t)mcf_test_arena);

    /* Write and read back the whole placed buffer (it must be real RAM). */
    memset(mcf_test_arena, 0xA5, sizeof mcf_test_arena);
    uint32_t sum = 0;
    for (unsigned i = 0; i < sizeof mcf_test_arena; ++i) {
        sum += mcf_test_arena[i];
    }
    mcf_printf("arena_sum=%lu\r\n", (unsigned long)sum);

#if defined(__ARM_FP)
    volatile float a = 1.5f, b = 2.25f;
    mcf_printf("fpu_mul_x100=%d\r\n", (int)(a * b * 100.0f));
#endif

    mcf_ticks_init();
    /* Calibration: two loop lengths, so the fixed cost of the measurement cancels out. */
    const uint32_t n_small = 1000u, n_large = 201000u;
    uint64_t t_small = measure(n_small);
    uint64_t t_large = measure(n_large);
    mcf_printf("calib_instr=%lu\r\n", (unsigned long)(2u * (n_large - n_small)));
    mcf_printf("calib_ticks=%lu\r\n", (unsigned long)(t_large - t_small));
    mcf_printf("loop_ticks=%lu\r\n", (unsigned long)t_large);
    mcf_printf("instr_per_tick=%u\r\n", (unsigned)MCF_QEMU_INSTR_PER_TICK);

    /* Poll across a SysTick wrap (2^24 ticks after init) and check the 64-bit count is monotonic. */
    mcf_ticks_init();
    unsigned backwards = 0;
    uint64_t prev = mcf_ticks();
    const uint64_t wrap = 1ull << 24;
    known_loop((uint32_t)((wrap - 2000u) * MCF_QEMU_INSTR_PER_TICK / 2u));
    for (uint64_t now = mcf_ticks(); now < wrap + 2000u; now = mcf_ticks()) {
        if (now < prev) {
            ++backwards;
        }
        prev = now;
    }
    mcf_printf("monotonic=%d\r\n", backwards == 0u);
    mcf_printf("after_wrap=%llu\r\n", (unsigned long long)prev);

    mcf_printf("fmt=[%5d|%-4u|%04x|%X|%s|%c|%lld|%%]\r\n", -42, 7u, 0xbeu, 0xABCDu, "ok", 'z', -1234567890123ll);
    mcf_console_puts("hex=");
    mcf_console_put_hex(0x0123456789abcdefull, 16);
    mcf_console_puts(" u64=");
    mcf_console_put_u64(18446744073709551615ull);
    mcf_console_puts(" i64=");
    mcf_console_put_i64(-9223372036854775807ll - 1);
    mcf_console_puts("\r\n");
    mcf_printf("cycles_counter=%d\r\n", mcf_cycles_init());
    mcf_port_init();
    mcf_printf("port_tick_unit=%s\r\n", mcf_port_tick_unit());

    mcf_console_puts("mcf-selftest: done\r\n");
    return MCF_TEST_EXIT_STATUS;
}
