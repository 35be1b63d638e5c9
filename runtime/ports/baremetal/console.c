/*
 * console.c - text output over the port's UART without the C library's printf.
 *
 * A libc printf drags in 10-20 KB (buffering, locale, floating point); these helpers are a
 * few hundred bytes and need no 64-bit division routine from libgcc either.
 */
#include "mcf_baremetal.h"

void mcf_console_puts(const char *s)
{
    while (*s) {
        mcf_uart_putc((uint8_t)*s++);
    }
}

/* n / 10 and n % 10 for 64-bit n with shifts and one multiply (no __aeabi_uldivmod). */
static uint64_t divmod10(uint64_t n, unsigned *rem)
{
    uint64_t q = (n >> 1) + (n >> 2);
    q += q >> 4;
    q += q >> 8;
    q += q >> 16;
    q += q >> 32;
    q >>= 3;
    uint64_t r = n - q * 10u;
    if (r > 9u) {
        q += 1u;
        r -= 10u;
    }
    *rem = (unsigned)r;
    return q;
}

/* Digits of v in base 10 or 16, least significant first, into buf; returns the count. */
static unsigned to_digits(uint64_t v, unsigned base, int upper, char *buf)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    unsigned n = 0;
    do {
        unsigned d;
        if (base == 16u) {
            d = (unsigned)(v & 0xFu);
            v >>= 4;
        } else {
            v = divmod10(v, &d);
        }
        buf[n++] = digits[d];
    } while (v);
    return n;
}

void mcf_console_put_hex(uint64_t v, unsigned digits)
{
    if (digits == 0u || digits > 16u) {
        digits = 16u;
    }
    while (digits--) {
        mcf_uart_putc((uint8_t)"0123456789abcdef"[(v >> (4u * digits)) & 0xFu]);
    }
}

void mcf_console_put_u64(uint64_t v)
{
    char buf[20];
    unsigned n = to_digits(v, 10u, 0, buf);
    while (n) {
        mcf_uart_putc((uint8_t)buf[--n]);
    }
}

void mcf_console_put_i64(int64_t v)
{
    if (v < 0) {
        mcf_uart_putc('-');
        mcf_console_put_u64(0u - (uint64_t)v);
    } else {
        mcf_console_put_u64((uint64_t)v);
    }
}

/* Write `n` digits (stored reversed) with sign/prefix and padding; returns chars written. */
static int emit(const char *prefix, const char *rev, unsigned n, unsigned width, int left, int zero)
{
    unsigned plen = 0;
    while (prefix[plen]) {
        ++plen;
    }
    unsigned len = plen + n;
    unsigned pad = width > len ? width - len : 0u;
    int written = (int)(len + pad);
    if (!left && !zero) {
        while (pad) {
            mcf_uart_putc(' ');
            --pad;
        }
    }
    mcf_console_puts(prefix);
    if (!left && zero) {
        while (pad) {
            mcf_uart_putc('0');
            --pad;
        }
    }
    while (n) {
        mcf_uart_putc((uint8_t)rev[--n]);
    }
    while (pad) {
        mcf_uart_putc(' ');
        --pad;
    }
    return written;
}

int mcf_vprintf(const char *fmt, va_list ap)
{
    int count = 0;
    while (*fmt) {
        if (*fmt != '%') {
            mcf_uart_putc((uint8_t)*fmt++);
            ++count;
            continue;
        }
        ++fmt;
        int left = 0, zero = 0;
        for (;; ++fmt) {
            if (*fmt == '-') {
                left = 1;
            } else if (*fmt == '0') {
                zero = 1;
            } else {
                break;
            }
        }
        unsigned width = 0;
        while (*fmt >= '0' && *fmt <= '9') {
            width = width * 10u + (unsigned)(*fmt++ - '0');
        }
        int longs = 0, size_mod = 0;
        while (*fmt == 'l') {
            ++longs;
            ++fmt;
        }
        if (*fmt == 'z') {
            size_mod = 1;
            ++fmt;
        }
        char conv = *fmt;
        if (conv == '\0') {
            break;
        }
        ++fmt;

        char buf[20];
        const char *prefix = "";
        uint64_t u = 0;
        unsigned base = 10u;
        switch (conv) {
        case '%':
            mcf_uart_putc('%');
            ++count;
            continue;
        case 'c':
            buf[0] = (char)va_arg(ap, int);
            count += emit("", buf, 1u, width, left, 0);
            continue;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) {
                s = "(null)";
            }
            unsigned n = 0;
            while (s[n]) {
                ++n;
            }
            unsigned pad = width > n ? width - n : 0u;
            count += (int)(n + pad);
            while (!left && pad) {
                mcf_uart_putc(' ');
                --pad;
            }
            mcf_console_puts(s);
            while (pad) {
                mcf_uart_putc(' ');
                --pad;
            }
            continue;
        }
        case 'd':
        case 'i': {
            int64_t v = longs >= 2 ? va_arg(ap, long long)
                        : longs == 1 ? va_arg(ap, long)
                        : size_mod ? (int64_t)va_arg(ap, size_t)
                                   : va_arg(ap, int);
            if (v < 0) {
                prefix = "-";
                u = 0u - (uint64_t)v;
            } else {
                u = (uint64_t)v;
            }
            break;
        }
        case 'p':
            u = (uint64_t)(uintptr_t)va_arg(ap, void *);
            prefix = "0x";
            base = 16u;
            break;
        case 'u':
        case 'x':
        case 'X':
            u = longs >= 2 ? va_arg(ap, unsigned long long)
                : longs == 1 ? va_arg(ap, unsigned long)
                : size_mod ? va_arg(ap, size_t)
                           : va_arg(ap, unsigned);
            base = conv == 'u' ? 10u : 16u;
            break;
        default: /* unknown conversion: print it verbatim */
            mcf_uart_putc('%');
            mcf_uart_putc((uint8_t)conv);
            count += 2;
            continue;
        }
        unsigned n = to_digits(u, base, conv == 'X', buf);
        count += emit(prefix, buf, n, width, left, zero);
    }
    return count;
}

int mcf_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = mcf_vprintf(fmt, ap);
    va_end(ap);
    return n;
}
