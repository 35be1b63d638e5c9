/*
 * mcf_baremetal.h - mcuforge bare-metal port: one API, one implementation per CPU family.
 *
 * What the port gives a firmware that has no RTOS:
 *   - startup: stack, .data copied and .bss zeroed from the tables the linker script provides
 *     (generator/linker.py), constructors, main(), then mcf_exit(); fault entry that reports
 *     the fault on the UART and exits;
 *   - a polled, 8-bit clean UART driver, plus small printf-free console helpers and a tiny
 *     formatted print (console.c);
 *   - a 64-bit tick counter, an instruction counter and a cycle counter;
 *   - an exit path that ends an emulator with a status.
 *
 * Family implementations (the build picks one folder and adds it to the include path):
 *   arm/    ARMv7-M (Cortex-M3/M4/M7): vector table, CMSDK APB UART, SysTick, DWT, semihosting.
 *           Defaults fit QEMU's MPS2 machines (mps2-an385/an386/an500).
 *   riscv/  RV32 (M-mode only): crt0, NS16550 UART, mcycle/minstret, the SiFive test device.
 *           Defaults fit QEMU's virt machine (qemu-system-riscv32 -M virt).
 * Each folder's mcf_port_cpu.h gives the defaults of the MCF_* configuration macros below;
 * override them on the compiler command line for another board.
 *
 * Nothing here allocates memory or needs a C library beyond memcpy/memset.
 */
#ifndef MCF_BAREMETAL_H
#define MCF_BAREMETAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* The family's configuration defaults: MCF_CPU_HZ, MCF_UART_BASE, MCF_UART_CLK_HZ,
 * MCF_UART_BAUD, MCF_SEMIHOSTING, MCF_QEMU_INSTR_PER_TICK, MCF_INSTRET_COUNTER. */
#include "mcf_port_cpu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------ */
/* UART (polled: CMSDK APB UART on arm/, NS16550 on riscv/)                              */
/* ------------------------------------------------------------------------------------ */

/** Timeout value for mcf_uart_read() meaning "wait forever". */
#define MCF_WAIT_FOREVER 0xFFFFFFFFu

/** Enable the transmitter and receiver at `baud` (8 data bits, no parity, 1 stop bit). */
void mcf_uart_init(uint32_t baud);

/** Send one byte; waits while the transmit buffer is full. Any value 0..255 is sent as is. */
void mcf_uart_putc(uint8_t c);

/** Send `len` bytes from `buf` unchanged (no newline translation). */
void mcf_uart_write(const void *buf, size_t len);

/**
 * Non-blocking receive. Returns 1 and stores the byte (0..255) in *c when one was waiting,
 * otherwise returns 0 and leaves *c alone.
 */
int mcf_uart_getc(int *c);

/**
 * Receive up to `len` bytes, waiting at most `timeout_ms` milliseconds (of tick time) for
 * the whole buffer; 0 polls once, MCF_WAIT_FOREVER never gives up. Returns the number of
 * bytes stored. A finite timeout needs mcf_ticks_init() to have been called.
 */
size_t mcf_uart_read(void *buf, size_t len, uint32_t timeout_ms);

/** Number of receive overruns seen and cleared so far (bytes lost on real hardware). */
uint32_t mcf_uart_overruns(void);

/** Wait until the transmit buffer has taken the last byte written. */
void mcf_uart_flush(void);

/* ------------------------------------------------------------------------------------ */
/* Console text helpers (over the same UART; no printf from the C library)              */
/* ------------------------------------------------------------------------------------ */

/** Write a NUL-terminated string as is (no newline is added). */
void mcf_console_puts(const char *s);

/** Write `v` as exactly `digits` hexadecimal digits (1..16, lower case, no prefix). */
void mcf_console_put_hex(uint64_t v, unsigned digits);

/** Write `v` in decimal. */
void mcf_console_put_u64(uint64_t v);

/** Write `v` in decimal with a leading '-' when negative. */
void mcf_console_put_i64(int64_t v);

/**
 * Small formatted print to the console. Supports %% %c %s %d %i %u %x %X %p with an optional
 * '-' or '0' flag, a decimal width, and the length modifiers l, ll and z. No floating point.
 * Returns the number of characters written.
 */
int mcf_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** mcf_printf() with a va_list. */
int mcf_vprintf(const char *fmt, va_list ap);

/* ------------------------------------------------------------------------------------ */
/* Time                                                                                 */
/* ------------------------------------------------------------------------------------ */

/**
 * Start the tick counter on the processor clock (MCF_CPU_HZ) and restart it from 0; safe to
 * call again. arm/: SysTick counting down from 0xFFFFFF, its interrupt extending the count to
 * 64 bits (one interrupt every 2^24 ticks, 0.67 s at 25 MHz). riscv/: the 64-bit mcycle CSR.
 */
void mcf_ticks_init(void);

/** Processor-clock ticks since mcf_ticks_init(); wrap-safe, callable with interrupts masked. */
uint64_t mcf_ticks(void);

/** Ticks converted to microseconds (MCF_CPU_HZ based). */
uint64_t mcf_ticks_to_us(uint64_t ticks);

/**
 * Instructions executed since mcf_ticks_init(); report these as "instructions", never as
 * cycles. arm/: mcf_ticks() times MCF_QEMU_INSTR_PER_TICK, meaningful under QEMU
 * `-icount shift=0` alone, resolution one tick (40 instructions). riscv/: the minstret CSR
 * (MCF_INSTRET_COUNTER is 1): retired instructions, exact, on hardware and in QEMU alike.
 */
uint64_t mcf_instructions(void);

/**
 * Real hardware only: start the cycle counter. Returns 1 when the counter is present and
 * counts cycles, 0 otherwise. arm/: the DWT's CYCCNT (QEMU's reads 0, so 0 there). riscv/:
 * mcycle, which QEMU makes a copy of the instruction count, so this cannot tell; returns 1.
 */
int mcf_cycles_init(void);

/** Current cycle count (the low 32 bits, wraps); report these as "cycles". */
uint32_t mcf_cycles(void);

/* ------------------------------------------------------------------------------------ */
/* Semihosting and exit                                                                 */
/* ------------------------------------------------------------------------------------ */

/**
 * End the program with `status` (0 = success); the emulator exits with this status (values
 * are truncated to 0..255 by the host). arm/: semihosting SYS_EXIT_EXTENDED (QEMU needs
 * `-semihosting-config enable=on,target=native`). riscv/: the SiFive test device ("finisher")
 * of QEMU's virt machine. Waits for the UART to drain first. Never returns.
 */
void mcf_exit(int status) __attribute__((noreturn));

/** Write a NUL-terminated string to the semihosting console (SYS_WRITE0); no-op without it. */
void mcf_semihost_puts(const char *s);

/** Exit status used by the fault handlers: MCF_EXIT_FAULT_BASE + exception number. */
#define MCF_EXIT_FAULT_BASE 128

/* ------------------------------------------------------------------------------------ */
/* Startup hooks                                                                        */
/* ------------------------------------------------------------------------------------ */

/**
 * Called by the fault handlers after the port has printed its report, with (arm/) the stacked
 * exception frame (r0-r3, r12, lr, pc, xpsr) and the active exception number, or (riscv/) the
 * words {mepc, mcause, mtval} and mcause's exception code. Weak: a firmware
 * may define its own (for example to send a log frame to the host). Must not return if the
 * port's report-and-exit is to be skipped; returning continues with mcf_exit().
 */
void mcf_fault_hook(const uint32_t *frame, uint32_t exception);

/**
 * Called by Reset_Handler before .data is copied and .bss zeroed, with only the stack usable
 * (no initialised globals yet). Weak and empty: a board whose placed sections live in external
 * memory (SDRAM, PSRAM behind a controller) defines it to set up that memory first.
 */
void mcf_early_init(void);

/** Copies .data (and initialised RAM regions), clears .bss and runs the constructors, from the
 * linker script's tables (crt_init.c); the family's startup code calls it before main(). */
void mcf_crt_init(void);

#ifdef __cplusplus
}
#endif

#endif /* MCF_BAREMETAL_H */
