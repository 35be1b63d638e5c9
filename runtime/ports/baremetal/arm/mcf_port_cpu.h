/*
 * mcf_port_cpu.h - configuration defaults of the bare-metal port on ARMv7-M (Cortex-M3/M4/M7).
 *
 * Included by mcf_baremetal.h. The defaults fit the Arm MPS2 FPGA images as QEMU emulates them
 * (mps2-an385 Cortex-M3, mps2-an386 Cortex-M4, mps2-an500 Cortex-M7): 25 MHz system clock,
 * UART0 at 0x40004000. Override the MCF_* macros on the compiler command line for another board.
 */
#ifndef MCF_PORT_CPU_H
#define MCF_PORT_CPU_H

/* ------------------------------------------------------------------------------------ */
/* Configuration (override with -D...)                                                  */
/* ------------------------------------------------------------------------------------ */

/** Processor clock in Hz; SysTick counts this clock. MPS2 FPGA images: 25 MHz. */
#ifndef MCF_CPU_HZ
#define MCF_CPU_HZ 25000000u
#endif

/** Clock of the APB bus that feeds the UART (baud divider input). MPS2: same 25 MHz. */
#ifndef MCF_UART_CLK_HZ
#define MCF_UART_CLK_HZ MCF_CPU_HZ
#endif

/** Base address of the CMSDK APB UART used for the console and the host protocol. */
#ifndef MCF_UART_BASE
#define MCF_UART_BASE 0x40004000u
#endif

/** Default console baud rate (ignored by QEMU, which moves bytes at host speed). */
#ifndef MCF_UART_BAUD
#define MCF_UART_BAUD 115200u
#endif

/**
 * 1 (default): mcf_exit() and the fault handlers use semihosting (BKPT 0xAB) so an emulator
 * started with `-semihosting-config enable=on,target=native` ends with the status, and a
 * debugger sees it. On a board running without a debugger a BKPT instruction escalates to
 * HardFault; build with -DMCF_SEMIHOSTING=0 there: mcf_exit() then parks the core in a
 * low-power loop instead.
 */
#ifndef MCF_SEMIHOSTING
#define MCF_SEMIHOSTING 1
#endif

/**
 * Instructions executed per SysTick tick under QEMU with `-icount shift=0`.
 *
 * With icount, QEMU advances its virtual clock by 2^shift ns per executed instruction, so
 * shift=0 gives 1 ns per instruction. SysTick is clocked at MCF_CPU_HZ = 25 MHz, i.e. one
 * tick per 40 ns = 40 instructions. Measured (tests/test_baremetal_port.py calibration
 * test): a loop of a known number of instructions reads back as instructions / 40 ticks
 * within one tick, identically on repeated runs, on mps2-an385, -an386 and -an500.
 * Only valid for that emulator setting; QEMU does not model cycle timing at all.
 */
#ifndef MCF_QEMU_INSTR_PER_TICK
#define MCF_QEMU_INSTR_PER_TICK 40u
#endif

/**
 * 0: the instruction count is derived from a timer (SysTick) and is exact only under QEMU
 * -icount; the port then reports DWT cycles on hardware. (1 would mean a hardware counter of
 * retired instructions, as RISC-V's minstret.)
 */
#define MCF_INSTRET_COUNTER 0

#endif /* MCF_PORT_CPU_H */
