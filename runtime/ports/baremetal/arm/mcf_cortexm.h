/*
 * mcf_cortexm.h - the few ARMv7-M system registers the bare-metal port touches.
 *
 * Private to runtime/ports/baremetal. Addresses and bit positions are from the ARMv7-M
 * Architecture Reference Manual (System Control Space, SysTick, DWT, coprocessor access).
 */
#ifndef MCF_CORTEXM_H
#define MCF_CORTEXM_H

#include <stdint.h>

#define MCF_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* SysTick: control/status, reload, current value. */
#define MCF_SYST_CSR MCF_REG32(0xE000E010u)
#define MCF_SYST_RVR MCF_REG32(0xE000E014u)
#define MCF_SYST_CVR MCF_REG32(0xE000E018u)
#define MCF_SYST_CSR_ENABLE (1u << 0)
#define MCF_SYST_CSR_TICKINT (1u << 1)
#define MCF_SYST_CSR_CLKSOURCE_CPU (1u << 2)
#define MCF_SYST_MAX 0x00FFFFFFu

/* System control block. */
#define MCF_SCB_ICSR MCF_REG32(0xE000ED04u)
#define MCF_SCB_VTOR MCF_REG32(0xE000ED08u)
#define MCF_SCB_SHPR3 MCF_REG32(0xE000ED20u)
#define MCF_SCB_CFSR MCF_REG32(0xE000ED28u)
#define MCF_SCB_HFSR MCF_REG32(0xE000ED2Cu)
#define MCF_SCB_MMFAR MCF_REG32(0xE000ED34u)
#define MCF_SCB_BFAR MCF_REG32(0xE000ED38u)
#define MCF_SCB_CPACR MCF_REG32(0xE000ED88u)
#define MCF_SCB_ICSR_PENDSTSET (1u << 26)
#define MCF_SCB_ICSR_PENDSTCLR (1u << 25)
#define MCF_CPACR_CP10_CP11_FULL (0xFu << 20)

/* Debug exception and monitor control; data watchpoint and trace unit. */
#define MCF_DEMCR MCF_REG32(0xE000EDFCu)
#define MCF_DEMCR_TRCENA (1u << 24)
#define MCF_DWT_CTRL MCF_REG32(0xE0001000u)
#define MCF_DWT_CYCCNT MCF_REG32(0xE0001004u)
#define MCF_DWT_CTRL_NOCYCCNT (1u << 25)
#define MCF_DWT_CTRL_CYCCNTENA (1u << 0)

static inline uint32_t mcf_irq_save(void)
{
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    return primask;
}

static inline void mcf_irq_restore(uint32_t primask)
{
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
}

static inline void mcf_dsb_isb(void)
{
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

#endif /* MCF_CORTEXM_H */
