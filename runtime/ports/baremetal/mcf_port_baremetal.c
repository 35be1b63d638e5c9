/*
 * mcf_port_baremetal.c - runtime/include/mcf_port.h on the bare-metal port (every family).
 *
 * The host link is the port's UART at MCF_UART_BAUD. Ticks: where the core counts retired
 * instructions in hardware (MCF_INSTRET_COUNTER, RISC-V's minstret) the port reports that
 * count, "instructions", exact on hardware and emulator alike. Otherwise (Arm): on real
 * hardware SysTick runs from the processor clock, so mcf_ticks() counts CPU cycles
 * ("cycles"); under QEMU nothing counts cycles, and with `-icount shift=0` the same counter
 * times MCF_QEMU_INSTR_PER_TICK is an exact instruction count, reported as "instructions".
 * Which case applies is decided at build time with -DMCF_EMULATED=0/1 (0 reports cycles), or
 * else at run time: the DWT cycle counter counts on hardware and stays 0 under QEMU.
 */
#include "mcf_port.h"

#include "mcf_baremetal.h"

static int emulated;

void mcf_port_init(void)
{
    mcf_uart_init(MCF_UART_BAUD);
    mcf_ticks_init();
#if defined(MCF_EMULATED)
    emulated = MCF_EMULATED;
#elif MCF_INSTRET_COUNTER
    emulated = 1; /* "instructions" from the hardware counter; -DMCF_EMULATED=0 for cycles */
#else
    emulated = !mcf_cycles_init();
#endif
}

void mcf_port_write(const uint8_t *data, size_t len)
{
    mcf_uart_write(data, len);
}

int mcf_port_read(uint8_t *byte)
{
    int c;
    if (!mcf_uart_getc(&c)) {
        return 0;
    }
    *byte = (uint8_t)c;
    return 1;
}

uint64_t mcf_port_ticks(void)
{
    return emulated ? mcf_instructions() : mcf_ticks();
}

const char *mcf_port_tick_unit(void)
{
    return emulated ? "instructions" : "cycles";
}

void mcf_port_exit(int status)
{
    mcf_exit(status);
}
