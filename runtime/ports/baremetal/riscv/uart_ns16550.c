/*
 * uart_ns16550.c - polled driver for an NS16550-compatible UART (QEMU virt's UART0).
 *
 * Registers, each (1 << MCF_UART_REG_SHIFT) bytes apart, byte access:
 *   0 RBR (read: received byte) / THR (write: byte to send); DLL with LCR.DLAB set
 *   1 IER (interrupt enable);                                DLM with LCR.DLAB set
 *   2 FCR (write: FIFO control)   3 LCR (line control)   4 MCR (modem control)
 *   5 LSR (line status: bit0 data ready, bit1 overrun, bit5 THR empty, bit6 transmitter empty)
 * The data path is 8 bits and the driver never alters bytes, so binary frames pass as well as
 * text. FIFOs stay off unless MCF_UART_FIFO is 1: then 16 bytes wait in each direction, which
 * a board polling slowly at a high baud rate needs. Not under QEMU 7.2: turning the FIFOs on
 * empties them, and when the host had sent a byte before that (it may write as soon as it is
 * connected, before mcf_uart_init() runs), QEMU holds back every later byte until the guest
 * reads one, which with nothing left to read never happens: the link is dead
 * (tests/test_riscv_port.py sends a frame at connect time and sees this with MCF_UART_FIFO=1).
 * With the FIFOs off, QEMU keeps that early byte in RBR and hands over each next one after the
 * guest has read the previous one, so nothing is lost in the emulator.
 */
#include "mcf_baremetal.h"
#include "mcf_riscv.h"

#define UART_REG(n) MCF_REG8(MCF_UART_BASE + ((uint32_t)(n) << MCF_UART_REG_SHIFT))
#define UART_RBR UART_REG(0)
#define UART_THR UART_REG(0)
#define UART_DLL UART_REG(0)
#define UART_IER UART_REG(1)
#define UART_DLM UART_REG(1)
#define UART_FCR UART_REG(2)
#define UART_LCR UART_REG(3)
#define UART_MCR UART_REG(4)
#define UART_LSR UART_REG(5)

#define LCR_8N1 0x03u
#define LCR_DLAB 0x80u
#ifndef MCF_UART_FIFO
#define MCF_UART_FIFO 0
#endif
#define FCR_ENABLE_CLEAR 0x07u /* FIFOs on, both cleared */
#define MCR_DTR_RTS 0x03u
#define LSR_DATA_READY 0x01u
#define LSR_OVERRUN 0x02u
#define LSR_THR_EMPTY 0x20u
#define LSR_TX_EMPTY 0x40u

static uint32_t rx_overruns;

void mcf_uart_init(uint32_t baud)
{
    /* Divisor = clock / (16 * baud), rounded; 16 bits, at least 1. */
    uint32_t div = baud ? (MCF_UART_CLK_HZ + 8u * baud) / (16u * baud) : 0xFFFFu;
    if (div < 1u) {
        div = 1u;
    }
    if (div > 0xFFFFu) {
        div = 0xFFFFu;
    }
    UART_IER = 0; /* this driver polls */
    UART_LCR = LCR_DLAB;
    UART_DLL = (uint8_t)(div & 0xFFu);
    UART_DLM = (uint8_t)(div >> 8);
    UART_LCR = LCR_8N1;
    UART_FCR = MCF_UART_FIFO ? FCR_ENABLE_CLEAR : 0u;
    UART_MCR = MCR_DTR_RTS;
}

void mcf_uart_putc(uint8_t c)
{
    while (!(UART_LSR & LSR_THR_EMPTY)) {
    }
    UART_THR = c;
}

int mcf_uart_getc(int *c)
{
    uint8_t lsr = UART_LSR;
    if (lsr & LSR_OVERRUN) { /* reading LSR cleared it */
        ++rx_overruns;
    }
    if (!(lsr & LSR_DATA_READY)) {
        return 0;
    }
    *c = (int)UART_RBR;
    return 1;
}

uint32_t mcf_uart_overruns(void)
{
    return rx_overruns;
}

void mcf_uart_flush(void)
{
    while (!(UART_LSR & LSR_TX_EMPTY)) {
    }
}
