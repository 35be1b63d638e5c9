/*
 * uart_cmsdk.c - polled driver for the Arm CMSDK APB UART (Cortex-M System Design Kit).
 *
 * Register map (offsets from MCF_UART_BASE), from the CMSDK technical reference:
 *   0x00 DATA       [7:0] write: byte to send; read: byte received
 *   0x04 STATE      bit0 TX buffer full, bit1 RX buffer full,
 *                   bit2 TX overrun, bit3 RX overrun (write 1 to clear)
 *   0x08 CTRL       bit0 TX enable, bit1 RX enable, bit2/3 TX/RX interrupt enable,
 *                   bit4/5 TX/RX overrun interrupt enable, bit6 high-speed test mode
 *   0x0C INTSTATUS  read: pending interrupts; write 1 to clear (INTCLEAR)
 *   0x10 BAUDDIV    [19:0] UART clock / baud rate, at least 16
 * The data path is 8 bits wide and the driver never alters bytes, so it carries binary
 * frames as well as text. Both buffers hold a single byte: on real hardware the caller has
 * to poll fast enough (115200 baud = one byte per 87 us) or lose bytes (counted as overruns).
 */
#include "mcf_baremetal.h"
#include "mcf_cortexm.h"

#define UART_DATA MCF_REG32(MCF_UART_BASE + 0x00u)
#define UART_STATE MCF_REG32(MCF_UART_BASE + 0x04u)
#define UART_CTRL MCF_REG32(MCF_UART_BASE + 0x08u)
#define UART_INTSTATUS MCF_REG32(MCF_UART_BASE + 0x0Cu)
#define UART_BAUDDIV MCF_REG32(MCF_UART_BASE + 0x10u)

#define STATE_TX_FULL (1u << 0)
#define STATE_RX_FULL (1u << 1)
#define STATE_TX_OVERRUN (1u << 2)
#define STATE_RX_OVERRUN (1u << 3)
#define CTRL_TX_EN (1u << 0)
#define CTRL_RX_EN (1u << 1)
#define BAUDDIV_MIN 16u
#define BAUDDIV_MAX 0xFFFFFu

static uint32_t rx_overruns;

void mcf_uart_init(uint32_t baud)
{
    uint32_t div = baud ? (MCF_UART_CLK_HZ + baud / 2u) / baud : BAUDDIV_MAX;
    if (div < BAUDDIV_MIN) {
        div = BAUDDIV_MIN;
    }
    if (div > BAUDDIV_MAX) {
        div = BAUDDIV_MAX;
    }
    UART_CTRL = 0; /* interrupts off: this driver polls */
    UART_BAUDDIV = div;
    UART_STATE = STATE_TX_OVERRUN | STATE_RX_OVERRUN;
    UART_INTSTATUS = 0xFu;
    UART_CTRL = CTRL_TX_EN | CTRL_RX_EN;
}

void mcf_uart_putc(uint8_t c)
{
    while (UART_STATE & STATE_TX_FULL) {
    }
    UART_DATA = c;
}

int mcf_uart_getc(int *c)
{
    uint32_t state = UART_STATE;
    if (state & STATE_RX_OVERRUN) {
        UART_STATE = STATE_RX_OVERRUN;
        ++rx_overruns;
    }
    if (!(state & STATE_RX_FULL)) {
        return 0;
    }
    *c = (int)(UART_DATA & 0xFFu);
    return 1;
}

uint32_t mcf_uart_overruns(void)
{
    return rx_overruns;
}

void mcf_uart_flush(void)
{
    if (UART_CTRL & CTRL_TX_EN) {
        while (UART_STATE & STATE_TX_FULL) {
        }
    }
}
