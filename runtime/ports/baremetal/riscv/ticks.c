/*
 * ticks.c - the tick, instruction and cycle counters on RV32: mcycle and minstret.
 *
 * Both CSRs are 64 bits wide, read as two 32-bit halves (the high half again until it did not
 * change in between). mcf_ticks_init() notes where they stand; the readings are differences
 * from there, so the port never writes the counters (some cores make them read-only).
 *
 * Under QEMU with `-icount shift=0`, QEMU 7.2 derives both CSRs from the same instruction
 * count (tests/test_riscv_port.py checks them against loops of known length): mcycle and
 * minstret both count executed instructions. On hardware mcycle counts clock cycles and
 * minstret retired instructions.
 */
#include "mcf_baremetal.h"
#include "mcf_riscv.h"

#define READ_CSR64(lo, hi)                                                                         \
    __extension__({                                                                                \
        uint32_t high_, low_;                                                                      \
        do {                                                                                       \
            high_ = MCF_CSR_READ(hi);                                                              \
            low_ = MCF_CSR_READ(lo);                                                               \
        } while (high_ != MCF_CSR_READ(hi));                                                       \
        ((uint64_t)high_ << 32) | low_;                                                            \
    })

static uint64_t cycle_base;
static uint64_t instret_base;

static uint64_t read_mcycle(void)
{
    return READ_CSR64(mcycle, mcycleh);
}

static uint64_t read_minstret(void)
{
    return READ_CSR64(minstret, minstreth);
}

void mcf_ticks_init(void)
{
    cycle_base = read_mcycle();
    instret_base = read_minstret();
}

uint64_t mcf_ticks(void)
{
    return read_mcycle() - cycle_base;
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
    return read_minstret() - instret_base;
}

int mcf_cycles_init(void)
{
    return 1;
}

uint32_t mcf_cycles(void)
{
    return (uint32_t)read_mcycle();
}
