/* strided_copy.c - the N-D strided copy: nested offset walks, runs copied word by word.
 * Offsets, not pointers, walk both tensors: a negative step never forms a pointer outside them. */
#include "strided_copy.h"

#include "mcf_dsp.h"

/* Fast builds on little-endian cores move single bytes four at a time through one word: four
 * scattered reads packed into one write, or one read spread over four scattered writes. */
#if MCF_KERNELS_FAST && !defined(__ARM_BIG_ENDIAN) && \
    !(defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
#define MCF_COPY_WORDS 1
#else
#define MCF_COPY_WORDS 0
#endif

/* n single bytes: read at in + a + i * sa, written at out + b + i * sb. */
static void mcf_copy_bytes(uint8_t *out, int32_t b, int32_t sb, const uint8_t *in, int32_t a, int32_t sa,
                           int32_t n)
{
    int32_t i = 0;
#if MCF_COPY_WORDS
    if (sb == 1) { /* gather: four reads, one word written */
        for (; i + 4 <= n; i += 4, a += 4 * sa, b += 4) {
            const uint32_t w = (uint32_t)in[a] | ((uint32_t)in[a + sa] << 8) | ((uint32_t)in[a + 2 * sa] << 16) |
                               ((uint32_t)in[a + 3 * sa] << 24);
            mcf_write_u32(out + b, w);
        }
    } else if (sa == 1) { /* scatter: one word read, four writes */
        for (; i + 4 <= n; i += 4, a += 4, b += 4 * sb) {
            const uint32_t w = mcf_read_u32(in + a);
            out[b] = (uint8_t)w;
            out[b + sb] = (uint8_t)(w >> 8);
            out[b + 2 * sb] = (uint8_t)(w >> 16);
            out[b + 3 * sb] = (uint8_t)(w >> 24);
        }
    }
#endif
    for (; i < n; ++i, a += sa, b += sb) {
        out[b] = in[a];
    }
}

/* n runs of `run` bytes (run > 1): read at in + a + i * sa, written at out + b + i * sb. */
static void mcf_copy_runs(uint8_t *out, int32_t b, int32_t sb, const uint8_t *in, int32_t a, int32_t sa,
                          int32_t n, int32_t run)
{
    const int32_t words = run >> 2;
    const int32_t tail = run & 3;
    int32_t i, k;
    for (i = 0; i < n; ++i, a += sa, b += sb) {
        const uint8_t *s = in + a;
        uint8_t *d = out + b;
        for (k = 0; k < words; ++k) {
            mcf_write_u32(d, mcf_read_u32(s));
            d += 4;
            s += 4;
        }
        for (k = 0; k < tail; ++k) {
            *d++ = *s++;
        }
    }
}

void mcf_strided_copy(const mcf_strided_copy_params *p, const void *input, void *output)
{
    const int32_t *c = p->count;
    const int32_t *si = p->in_step;
    const int32_t *so = p->out_step;
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    int32_t i0, i1, i2, i3, i4;
    int32_t a0, a1, a2, a3, a4; /* read offsets */
    int32_t b0, b1, b2, b3, b4; /* write offsets */

    for (i0 = 0, a0 = p->start, b0 = 0; i0 < c[0]; ++i0, a0 += si[0], b0 += so[0]) {
        for (i1 = 0, a1 = a0, b1 = b0; i1 < c[1]; ++i1, a1 += si[1], b1 += so[1]) {
            for (i2 = 0, a2 = a1, b2 = b1; i2 < c[2]; ++i2, a2 += si[2], b2 += so[2]) {
                for (i3 = 0, a3 = a2, b3 = b2; i3 < c[3]; ++i3, a3 += si[3], b3 += so[3]) {
                    for (i4 = 0, a4 = a3, b4 = b3; i4 < c[4]; ++i4, a4 += si[4], b4 += so[4]) {
                        if (p->run == 1) {
                            mcf_copy_bytes(out, b4, so[5], in, a4, si[5], c[5]);
                        } else {
                            mcf_copy_runs(out, b4, so[5], in, a4, si[5], c[5], p->run);
                        }
                    }
                }
            }
        }
    }
}
