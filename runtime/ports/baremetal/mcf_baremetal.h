/*
 * mcf_baremetal.h - mcuforge bare-metal port for Arm Cortex-M (ARMv7-M).
 *
 * What the port gives a firmware that has no RTOS:
 *   - startup (startup.c): vector table in section .isr_vector, Reset_Handler that copies
 *     initialised data and zeroes .bss using tables the linker script provides, enables the
 *     FPU when the code is built for one (__ARM_FP), runs constructors, calls main() and
 *     ends through mcf_exit(); fault handlers that report the fault and exit.
 *   - a polled driver for the Arm CMSDK APB UART (uart_cmsdk.c), 8-bit clean, plus small
 *     printf-free console helpers and a tiny formatted print (console.c);
 *   - a 64-bit tick counter built on SysTick (ticks.c);
 *   - semihosting (semihost.c): exit status and debug text to the emulator or debugger.
 *
 * Defaults fit the Arm MPS2 FPGA images as QEMU emulates them (mps2-an385 Cortex-M3,
 * mps2-an386 Cortex-M4, mps2-an500 Cortex-M7): 25 MHz system clock, UART0 at 0x40004000.
 * Override the MCF_* macros below on the compiler command line for another board.
 *
 * Nothing here allocates memory or needs a C library beyond memcpy/memset.
 */
#ifndef MCF_BAREMETAL_H
#define MCF_BAREMETAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

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

/* ------------------------------------------------------------------------------------ */
/* UART (CMSDK APB UART, polled)                                                        */
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
 * Receive up to `len` bytes, waiting at most `timeout_ms` milliseconds (of SysTick time) for
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
 * Start SysTick on the processor clock, counting down from 0xFFFFFF, with its interrupt
 * extending the count to 64 bits (one interrupt every 2^24 ticks, 0.67 s at 25 MHz).
 * Safe to call again: restarts the count from 0.
 */
void mcf_ticks_init(void);

/** Processor-clock ticks since mcf_ticks_init(); wrap-safe, callable with interrupts masked. */
uint64_t mcf_ticks(void);

/** Ticks converted to microseconds (MCF_CPU_HZ based). */
uint64_t mcf_ticks_to_us(uint64_t ticks);

/**
 * Emulator only: instructions executed since mcf_ticks_init(), i.e. mcf_ticks() times
 * MCF_QEMU_INSTR_PER_TICK. Meaningful under QEMU `-icount shift=0` alone; resolution is one
 * tick (40 instructions). Report these as "instructions", never as cycles.
 */
uint64_t mcf_instructions(void);

/**
 * Real hardware only: start the DWT cycle counter (CYCCNT). Returns 1 when the counter is
 * present and counting, 0 otherwise (QEMU's DWT does not count: it reads 0).
 */
int mcf_cycles_init(void);

/** Current DWT cycle count (32-bit, wraps); report these as "cycles". */
uint32_t mcf_cycles(void);

/* ------------------------------------------------------------------------------------ */
/* Semihosting and exit                                                                 */
/* ------------------------------------------------------------------------------------ */

/**
 * End the program with `status` (0 = success). Under QEMU with semihosting enabled the
 * emulator exits with this status (SYS_EXIT_EXTENDED; values are truncated to 0..255 by the
 * host). Waits for the UART to drain first. Never returns.
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
 * Called by the fault handlers with the stacked exception frame (r0-r3, r12, lr, pc, xpsr)
 * and the active exception number, after the port has printed its report. Weak: a firmware
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

#ifdef __cplusplus
}
#endif

#endif /* MCF_BAREMETAL_H */
