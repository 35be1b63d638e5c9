/*
 * ticks.c - 64-bit tick counter on SysTick, and the DWT cycle counter.
 *
 * SysTick runs from the processor clock, reloading at 0xFFFFFF; its interrupt adds 2^24 to a
 * software high part. mcf_ticks() combines both without a race: with interrupts masked it
 * reads the current value, and if a wrap is pending that the handler has not yet counted
 * (ICSR.PENDSTSET) it counts it itself and reads the value again. This assumes interrupts
 * are never masked for a whole SysTick period (2^24 ticks, 0.67 s at 25 MHz).
 *
 * Under QEMU with `-icount shift=0` the tick count is a deterministic instruction count:
 * one tick = MCF_QEMU_INSTR_PER_TICK (40) instructions at 25 MHz. On hardware it is time.
 */
#include "mcf_baremetal.h"
#include "mcf_cortexm.h"

#define WRAP_TICKS ((uint64_t)MCF_SYST_MAX + 1u)

static volatile uint64_t wraps_ticks;

void SysTick_Handler(void);
void SysTick_Handler(void)
{
    wraps_ticks += WRAP_TICKS;
}

void mcf_ticks_init(void)
{
    MCF_SYST_CSR = 0;
    MCF_SCB_ICSR = MCF_SCB_ICSR_PENDSTCLR;
    /* Lowest priority for SysTick: it only counts. */
    MCF_SCB_SHPR3 = (MCF_SCB_SHPR3 & 0x00FFFFFFu) | 0xFF000000u;
    wraps_ticks = 0;
    MCF_SYST_RVR = MCF_SYST_MAX;
    MCF_SYST_CVR = 0; /* any write clears the counter; it reloads on the next clock */
    MCF_SYST_CSR = MCF_SYST_CSR_CLKSOURCE_CPU | MCF_SYST_CSR_TICKINT | MCF_SYST_CSR_ENABLE;
}

uint64_t mcf_ticks(void)
{
    uint32_t key = mcf_irq_save();
    uint64_t high = wraps_ticks;
    uint32_t value = MCF_SYST_CVR;
    if (MCF_SCB_ICSR & MCF_SCB_ICSR_PENDSTSET) {
        /* Wrapped but not yet counted by the handler (we hold it off): count it here, and
         * read the value again, which is now certainly from the new period. */
        value = MCF_SYST_CVR;
        high += WRAP_TICKS;
    }
    mcf_irq_restore(key);
    /* The counter runs 0xFFFFFF, ..., 1, 0 and the wrap is signalled as it reaches 0, so 0 is
     * the first value of a period (elapsed 0) and 0xFFFFFF its second (elapsed 1). */
    return high + ((MCF_SYST_MAX + 1u - value) & MCF_SYST_MAX);
}

uint64_t mcf_ticks_to_us(uint64_t ticks)
{
#if (MCF_CPU_HZ % 1000000u) == 0
    return ticks / (MCF_CPU_HZ / 1000000u);
#else
    return ticks * 1000000u / MCF_CPU_HZ;
#endif
}

uint64_t mcf_instructions(void)
{
    return mcf_ticks() * MCF_QEMU_INSTR_PER_TICK;
}

int mcf_cycles_init(void)
{
    MCF_DEMCR |= MCF_DEMCR_TRCENA;
    if (MCF_DWT_CTRL & MCF_DWT_CTRL_NOCYCCNT) {
        return 0;
    }
    MCF_DWT_CYCCNT = 0;
    MCF_DWT_CTRL |= MCF_DWT_CTRL_CYCCNTENA;
    /* Burn a few instructions and check the counter moved (QEMU's stays at 0). */
    for (volatile int i = 0; i < 4; ++i) {
    }
    return MCF_DWT_CYCCNT != 0u;
}

uint32_t mcf_cycles(void)
{
    return MCF_DWT_CYCCNT;
}
