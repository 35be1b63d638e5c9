/*
 * startup.c - reset and exception entry for ARMv7-M (Cortex-M3/M4/M7), no assembly file.
 *
 * The linker script (rendered by generator/linker.py) provides:
 *   __mcf_stack_top                           initial main stack pointer
 *   __mcf_copy_table_start/_end               {load, start, end} word triples: sections to
 *                                             copy from flash to RAM (.data, and RAM regions
 *                                             that hold initialised data)
 *   __mcf_zero_table_start/_end               {start, end} word pairs to clear (.bss)
 *   __mcf_init_array_start/_end               constructors (.preinit_array + .init_array)
 */
#include <stdint.h>

#include "mcf_baremetal.h"
#include "mcf_cortexm.h"

/** Number of external interrupt vectors; MPS2 AN385/AN386/AN500 have 32. */
#ifndef MCF_NUM_IRQS
#define MCF_NUM_IRQS 32
#endif

extern uint32_t __mcf_stack_top[];

int main(void);

/* Weak default: nothing to prepare before the copy and zero tables run. */
__attribute__((weak)) void mcf_early_init(void)
{
}

void Reset_Handler(void) __attribute__((noreturn));
void Default_Handler(void);
void mcf_fault_report(const uint32_t *frame, uint32_t exception) __attribute__((noreturn, used));

/* Every handler a firmware does not define lands in Default_Handler. */
#define MCF_WEAK_HANDLER(name) void name(void) __attribute__((weak, alias("Default_Handler")))
MCF_WEAK_HANDLER(NMI_Handler);
MCF_WEAK_HANDLER(HardFault_Handler);
MCF_WEAK_HANDLER(MemManage_Handler);
MCF_WEAK_HANDLER(BusFault_Handler);
MCF_WEAK_HANDLER(UsageFault_Handler);
MCF_WEAK_HANDLER(SVC_Handler);
MCF_WEAK_HANDLER(DebugMon_Handler);
MCF_WEAK_HANDLER(PendSV_Handler);
MCF_WEAK_HANDLER(SysTick_Handler);
MCF_WEAK_HANDLER(mcf_irq_handler);

/** A vector table slot: the initial stack pointer or a handler address. */
typedef union {
    void (*handler)(void);
    void *stack;
} mcf_vector;

/*
 * The table the core reads at reset (it must sit at the start of the boot region: the
 * linker script keeps .isr_vector first in flash). External interrupts all go to
 * mcf_irq_handler, which a firmware can override, or patch a RAM copy through VTOR.
 */
__attribute__((section(".isr_vector"), used)) const mcf_vector mcf_vector_table[16 + MCF_NUM_IRQS] = {
    [0] = {.stack = __mcf_stack_top},
    [1] = {.handler = Reset_Handler},
    [2] = {.handler = NMI_Handler},
    [3] = {.handler = HardFault_Handler},
    [4] = {.handler = MemManage_Handler},
    [5] = {.handler = BusFault_Handler},
    [6] = {.handler = UsageFault_Handler},
    [11] = {.handler = SVC_Handler},
    [12] = {.handler = DebugMon_Handler},
    [14] = {.handler = PendSV_Handler},
    [15] = {.handler = SysTick_Handler},
    [16 ... 16 + MCF_NUM_IRQS - 1] = {.handler = mcf_irq_handler},
};

/*
 * Keep GCC from turning the copy/clear loops into memcpy/memset calls: they run before the C
 * environment exists, and the port should not need a C library to boot.
 */
__attribute__((optimize("no-tree-loop-distribute-patterns"))) void Reset_Handler(void)
{
#if defined(__ARM_FP)
    /* Full access to CP10/CP11 (the FPU) before any code that may use it. */
    MCF_SCB_CPACR |= MCF_CPACR_CP10_CP11_FULL;
    mcf_dsb_isb();
#endif
    MCF_SCB_VTOR = (uint32_t)(uintptr_t)mcf_vector_table;
    mcf_early_init();

    mcf_crt_init();

    mcf_exit(main());
}

/*
 * Shared entry for faults and unexpected interrupts: find the stacked exception frame on the
 * stack that was in use (EXC_RETURN bit 2), read the exception number, report.
 */
__attribute__((naked)) void Default_Handler(void)
{
    __asm__ volatile(
        "tst lr, #4\n\t"
        "ite eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "mrs r1, ipsr\n\t"
        "b mcf_fault_report\n\t");
}

static const char *exception_name(uint32_t exception)
{
    switch (exception) {
    case 2: return "NMI";
    case 3: return "HardFault";
    case 4: return "MemManage";
    case 5: return "BusFault";
    case 6: return "UsageFault";
    case 11: return "SVCall";
    case 12: return "DebugMonitor";
    case 14: return "PendSV";
    case 15: return "SysTick";
    default: return exception >= 16 ? "IRQ" : "Reserved";
    }
}

__attribute__((weak)) void mcf_fault_hook(const uint32_t *frame, uint32_t exception)
{
    (void)frame;
    (void)exception;
}

void mcf_fault_report(const uint32_t *frame, uint32_t exception)
{
    exception &= 0x1FFu;
    const char *name = exception_name(exception);

    /* The console may not be up yet (fault before mcf_uart_init): bring it up; harmless twice. */
    mcf_uart_init(MCF_UART_BAUD);
    static const char *const labels[] = {" pc=0x", " lr=0x", " xpsr=0x", " cfsr=0x", " hfsr=0x", " mmfar=0x",
                                         " bfar=0x"};
    const uint32_t values[] = {frame[6], frame[5], frame[7], MCF_SCB_CFSR, MCF_SCB_HFSR, MCF_SCB_MMFAR, MCF_SCB_BFAR};
    mcf_console_puts("\r\n*** ");
    mcf_console_puts(name);
    mcf_console_puts(" (exception ");
    mcf_console_put_u64(exception);
    mcf_console_puts(")");
    for (unsigned i = 0; i < sizeof values / sizeof values[0]; ++i) {
        mcf_console_puts(labels[i]);
        mcf_console_put_hex(values[i], 8);
    }
    mcf_console_puts("\r\n");
    mcf_semihost_puts(name);
    mcf_semihost_puts("\n");

    mcf_fault_hook(frame, exception);
    mcf_exit(MCF_EXIT_FAULT_BASE + (int)(exception < 127u ? exception : 127u));
}
