/*
 * mcf_riscv.h - the few RV32 machine-mode CSRs and MMIO helpers the bare-metal port uses.
 *
 * Private to runtime/ports/baremetal/riscv. CSR numbers and bits are from the RISC-V
 * privileged specification. The CSR instructions belong to Zicsr; `.option arch, +zicsr`
 * lets them assemble under -march=rv32imac (GCC 12 follows ISA spec 20191213, where the
 * base "I" no longer includes Zicsr) without changing the multilib the driver picks.
 */
#ifndef MCF_RISCV_H
#define MCF_RISCV_H

#include <stdint.h>

#define MCF_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))
#define MCF_REG8(addr) (*(volatile uint8_t *)(uintptr_t)(addr))

#define MCF_CSR_READ(name)                                                                        \
    __extension__({                                                                               \
        uint32_t mcf_csr_value_;                                                                  \
        __asm__ volatile(".option push\n\t.option arch, +zicsr\n\tcsrr %0, " #name "\n\t.option pop" \
                         : "=r"(mcf_csr_value_)                                                   \
                         :                                                                        \
                         : "memory");                                                             \
        mcf_csr_value_;                                                                           \
    })

/* mstatus.MIE: machine interrupts enabled. */
#define MCF_MSTATUS_MIE (1u << 3)

/* mcause: the top bit marks an interrupt, the rest is the cause code. */
#define MCF_MCAUSE_INTERRUPT (1u << 31)

#endif /* MCF_RISCV_H */
