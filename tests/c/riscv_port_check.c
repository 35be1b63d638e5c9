/*
 * riscv_port_check.c - checks of the bare-metal RV32 port (runtime/ports/baremetal/riscv),
 * driven by tests/test_riscv_port.py under qemu-system-riscv32 -M virt -icount shift=0.
 *
 * Prints:  init data=<.data word> bss=<.bss word>
 *          loop n=<iterations> instret=<minstret delta> cycle=<mcycle delta>   (three lines)
 *          busy ... ready    (the host sends its payloads once it sees busy: they arrive while the
 *                             core does not read the UART)
 * then echoes length-prefixed payloads (2 bytes little endian, then the bytes) until length 0,
 * and exits with MCF_TEST_EXIT_STATUS. With -DMCF_TEST_TRAP=1 it executes an illegal
 * instruction right after the init line instead.
 */
#include "mcf_baremetal.h"

#define MCF_TEST_EXIT_STATUS 42

static volatile uint32_t data_word = 0x5eed1234u;
static volatile uint32_t bss_word;

/* Exactly 2 instructions per iteration (addi, bnez). */
static void counted_loop(uint32_t n)
{
    __asm__ volatile("1: addi %0, %0, -1\n\tbnez %0, 1b" : "+r"(n));
}

static uint8_t read_byte(void)
{
    uint8_t c;
    (void)mcf_uart_read(&c, 1, MCF_WAIT_FOREVER);
    return c;
}

int main(void)
{
    static uint8_t buf[1024];
    mcf_uart_init(MCF_UART_BAUD);
    mcf_ticks_init();
    mcf_printf("init data=0x%x bss=%u\n", (unsigned)data_word, (unsigned)bss_word);
#if MCF_TEST_TRAP
    __asm__ volatile(".word 0"); /* all-zero: an illegal instruction */
#endif
    static const uint32_t counts[] = {1000u, 2000u, 4000u};
    for (unsigned i = 0; i < 3u; ++i) {
        const uint64_t i0 = mcf_instructions();
        const uint64_t c0 = mcf_ticks();
        counted_loop(counts[i]);
        const uint64_t i1 = mcf_instructions();
        const uint64_t c1 = mcf_ticks();
        mcf_printf("loop n=%u instret=%u cycle=%u\n", (unsigned)counts[i], (unsigned)(i1 - i0), (unsigned)(c1 - c0));
    }
    mcf_console_puts("busy\n");
    counted_loop(20000000u); /* 40 M instructions: the host's bytes arrive meanwhile */
    mcf_console_puts("ready\n");
    for (;;) {
        size_t len = read_byte();
        len |= (size_t)read_byte() << 8;
        if (len == 0u) {
            return MCF_TEST_EXIT_STATUS;
        }
        for (size_t i = 0; i < len; ++i) {
            buf[i % sizeof buf] = read_byte();
            if (i % sizeof buf == sizeof buf - 1u || i == len - 1u) {
                mcf_uart_write(buf, i % sizeof buf + 1u);
            }
        }
    }
}
