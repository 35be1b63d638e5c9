/* variables.c - copies for the model state (see variables.h). A word at a time through
 * mcf_read_u32 / mcf_write_u32, then at most three tail bytes; GCC is kept from turning the loops
 * back into library memcpy / memset calls (freestanding builds have a byte-by-byte libc). */
#include "variables.h"

#include "mcf_dsp.h"

#if defined(__GNUC__) && !defined(__clang__)
#define MCF_VAR_NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define MCF_VAR_NO_LIBCALL
#endif

MCF_VAR_NO_LIBCALL void mcf_var_copy(const mcf_var_params *p, void *dst, const void *src)
{
    uint8_t *d = (uint8_t *)dst;
    const uint8_t *s = (const uint8_t *)src;
    uint32_t words = p->bytes >> 2;
    uint32_t tail = p->bytes & 3u;

    for (; words > 0u; --words, d += 4, s += 4) {
        mcf_write_u32(d, mcf_read_u32(s));
    }
    if (tail > 0u) {
        d[0] = s[0];
    }
    if (tail > 1u) {
        d[1] = s[1];
    }
    if (tail > 2u) {
        d[2] = s[2];
    }
}

MCF_VAR_NO_LIBCALL void mcf_var_fill(const mcf_var_params *p, void *dst, uint8_t value)
{
    uint8_t *d = (uint8_t *)dst;
    const uint32_t word = (uint32_t)value * 0x01010101u;
    uint32_t words = p->bytes >> 2;
    uint32_t tail = p->bytes & 3u;

    for (; words > 0u; --words, d += 4) {
        mcf_write_u32(d, word);
    }
    if (tail > 0u) {
        d[0] = value;
    }
    if (tail > 1u) {
        d[1] = value;
    }
    if (tail > 2u) {
        d[2] = value;
    }
}
