/*
 * startup.c - reset and trap entry for RV32 in machine mode.
 *
 * QEMU's virt machine with `-bios none` starts every hart at the start of RAM (0x80000000)
 * with the hart id in a0; the linker script (generator/linker.py) puts section .isr_vector
 * first in the image region, so Reset_Handler below is what runs. It parks every hart but
 * hart 0, sets gp (for linker relaxation), sp and mtvec, and continues in C: the copy and zero
 * tables the linker script provides, constructors, main(), mcf_exit().
 *
 * Symbols from the linker script:
 *   __mcf_stack_top                           initial stack pointer (16-byte aligned)
 *   __global_pointer$                         gp, 0x800 past the start of the small data
 *   __mcf_copy_table_start/_end               {load, start, end} word triples to copy
 *   __mcf_zero_table_start/_end               {start, end} word pairs to clear (.bss)
 *   __mcf_init_array_start/_end               constructors (.preinit_array + .init_array)
 *
 * Traps (exceptions; the port enables no interrupt) go to mcf_trap_entry, which reports
 * mepc, mcause and mtval on the UART and exits with MCF_EXIT_FAULT_BASE + the cause code.
 */
#include <stdint.h>

#include "mcf_baremetal.h"
#include "mcf_riscv.h"


int main(void);
void mcf_c_start(void) __attribute__((noreturn, used));
void mcf_trap_report(uint32_t mepc, uint32_t mcause, uint32_t mtval) __attribute__((noreturn, used));

/* Weak default: nothing to prepare before the copy and zero tables run. */
__attribute__((weak)) void mcf_early_init(void)
{
}

/*
 * The entry point and the trap vector (direct mode: every trap enters at mtvec, which must be
 * 4-byte aligned). In assembly because no C code may run before gp and sp are set.
 */
__asm__(".section .isr_vector, \"ax\", @progbits\n"
        ".globl Reset_Handler\n"
        ".type Reset_Handler, @function\n"
        "Reset_Handler:\n"
        "  .option push\n"
        "  .option norelax\n"
        "  .option arch, +zicsr\n"
        "  la gp, __global_pointer$\n"
        "  csrw mie, zero\n"
        "  csrci mstatus, 8\n"
        "  csrr t0, mhartid\n"
        "  bnez t0, 2f\n"
        "  la sp, __mcf_stack_top\n"
        "  la t0, mcf_trap_entry\n"
        "  csrw mtvec, t0\n"
        "  j mcf_c_start\n"
        "2:\n"
        "  wfi\n"
        "  j 2b\n"
        "  .balign 4\n"
        ".globl mcf_trap_entry\n"
        ".type mcf_trap_entry, @function\n"
        "mcf_trap_entry:\n"
        "  csrr a0, mepc\n"
        "  csrr a1, mcause\n"
        "  csrr a2, mtval\n"
        "  la sp, __mcf_stack_top\n"
        "  j mcf_trap_report\n"
        "  .option pop\n"
        ".size Reset_Handler, . - Reset_Handler\n"
        ".text\n");

/*
 * Keep GCC from turning the copy/clear loops into memcpy/memset calls: they run before the C
 * environment exists, and the port should not need a C library to boot.
 */
__attribute__((optimize("no-tree-loop-distribute-patterns"))) void mcf_c_start(void)
{
    mcf_early_init();
    mcf_crt_init();
    mcf_exit(main());
}

static const char *cause_name(uint32_t code)
{
    switch (code) {
    case 0: return "InstructionMisaligned";
    case 1: return "InstructionAccessFault";
    case 2: return "IllegalInstruction";
    case 3: return "Breakpoint";
    case 4: return "LoadMisaligned";
    case 5: return "LoadAccessFault";
    case 6: return "StoreMisaligned";
    case 7: return "StoreAccessFault";
    case 8: return "EcallFromU";
    case 11: return "EcallFromM";
    default: return "Trap";
    }
}

__attribute__((weak)) void mcf_fault_hook(const uint32_t *frame, uint32_t exception)
{
    (void)frame;
    (void)exception;
}

void mcf_trap_report(uint32_t mepc, uint32_t mcause, uint32_t mtval)
{
    const uint32_t code = mcause & ~MCF_MCAUSE_INTERRUPT;
    const char *name = (mcause & MCF_MCAUSE_INTERRUPT) ? "Interrupt" : cause_name(code);
    const uint32_t frame[3] = {mepc, mcause, mtval};

    /* The console may not be up yet (trap before mcf_uart_init): bring it up; harmless twice. */
    mcf_uart_init(MCF_UART_BAUD);
    mcf_console_puts("\r\n*** ");
    mcf_console_puts(name);
    mcf_console_puts(" (mcause ");
    mcf_console_put_u64(code);
    mcf_console_puts(") mepc=0x");
    mcf_console_put_hex(mepc, 8);
    mcf_console_puts(" mtval=0x");
    mcf_console_put_hex(mtval, 8);
    mcf_console_puts("\r\n");

    mcf_fault_hook(frame, code);
    mcf_exit(MCF_EXIT_FAULT_BASE + (int)(code < 127u ? code : 127u));
}
