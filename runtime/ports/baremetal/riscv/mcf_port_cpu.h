/*
 * mcf_port_cpu.h - configuration defaults of the bare-metal port on RV32 (M-mode only).
 *
 * Included by mcf_baremetal.h. The defaults fit QEMU's `virt` machine in 32-bit mode
 * (qemu-system-riscv32 -M virt -bios none), the board Zephyr calls qemu_riscv32: an NS16550
 * UART at 0x10000000 (3.6864 MHz input clock, one byte per register), the SiFive test device
 * at 0x100000, RAM from 0x80000000. Override the MCF_* macros on the compiler command line
 * for another board.
 */
#ifndef MCF_PORT_CPU_H
#define MCF_PORT_CPU_H

/**
 * Rate of the mcycle CSR, which mcf_ticks() reads. Under QEMU with `-icount shift=0` mcycle
 * (like minstret) advances by one per executed instruction, i.e. one per nanosecond of virtual
 * time: 1 GHz. On hardware: the core clock.
 */
#ifndef MCF_CPU_HZ
#define MCF_CPU_HZ 1000000000u
#endif

/** Base address of the NS16550 UART used for the console and the host protocol. */
#ifndef MCF_UART_BASE
#define MCF_UART_BASE 0x10000000u
#endif

/** Input clock of the UART's baud generator (QEMU virt's devicetree: clock-frequency 0x384000). */
#ifndef MCF_UART_CLK_HZ
#define MCF_UART_CLK_HZ 3686400u
#endif

/** log2 of the distance between two UART registers in bytes (virt: 0, byte-wide registers). */
#ifndef MCF_UART_REG_SHIFT
#define MCF_UART_REG_SHIFT 0
#endif

/** Default console baud rate (ignored by QEMU, which moves bytes at host speed). */
#ifndef MCF_UART_BAUD
#define MCF_UART_BAUD 115200u
#endif

/**
 * Address of the SiFive test device ("finisher") that ends the emulator with a status
 * (QEMU virt: 0x100000). 0: no such device; mcf_exit() then parks the core.
 */
#ifndef MCF_EXIT_DEVICE
#define MCF_EXIT_DEVICE 0x100000u
#endif

/** Not used on RISC-V: mcf_exit() goes through MCF_EXIT_DEVICE, mcf_semihost_puts() is a no-op. */
#ifndef MCF_SEMIHOSTING
#define MCF_SEMIHOSTING 0
#endif

/**
 * Instructions per mcf_ticks() tick under QEMU `-icount shift=0`: mcycle and minstret read the
 * same instruction count there (tests/test_riscv_port.py checks it), so 1.
 */
#ifndef MCF_QEMU_INSTR_PER_TICK
#define MCF_QEMU_INSTR_PER_TICK 1u
#endif

/** 1: mcf_instructions() reads minstret, a hardware count of retired instructions. */
#define MCF_INSTRET_COUNTER 1

#endif /* MCF_PORT_CPU_H */
