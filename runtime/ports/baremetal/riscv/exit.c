/*
 * exit.c - mcf_exit() through the SiFive test device, and the semihosting stub.
 *
 * QEMU's virt machine has the SiFive test device ("finisher") at MCF_EXIT_DEVICE: a 32-bit
 * write of 0x5555 ends QEMU with status 0, (code << 16) | 0x3333 ends it with status `code`.
 */
#include "mcf_baremetal.h"
#include "mcf_riscv.h"

#define FINISHER_FAIL 0x3333u
#define FINISHER_PASS 0x5555u

void mcf_semihost_puts(const char *s)
{
    (void)s; /* no semihosting on this port: the UART carries all text */
}

void mcf_exit(int status)
{
    mcf_uart_flush();
#if MCF_EXIT_DEVICE
    const uint32_t code = (uint32_t)status & 0xFFFFu;
    MCF_REG32(MCF_EXIT_DEVICE) = code == 0u ? FINISHER_PASS : (code << 16) | FINISHER_FAIL;
#else
    (void)status;
#endif
    for (;;) {
        __asm__ volatile(".option push\n\t.option arch, +zicsr\n\tcsrci mstatus, 8\n\twfi\n\t.option pop" ::: "memory");
    }
}
