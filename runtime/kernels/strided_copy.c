/* strided_copy.c - the N-D strided copy: nested offset walks, runs copied word by word.
 * Offsets, not pointers, walk the input: a negative step never forms a pointer outside it. */
#include "strided_copy.h"

#include "mcf_dsp.h"

/* n runs of `run` bytes, the i-th read at in + at + i * step, written one after another at dst. */
static uint8_t *mcf_copy_runs(uint8_t *dst, const uint8_t *in, int32_t at, int32_t n, int32_t step, int32_t run)
{
    int32_t i;
    if (run == 1) {
        for (i = 0; i < n; ++i, at += step) {
            *dst++ = in[at];
        }
    } else if (run == 2) {
        for (i = 0; i < n; ++i, at += step) {
            dst[0] = in[at];
            dst[1] = in[at + 1];
            dst += 2;
        }
    } else if (run == 4) {
        for (i = 0; i < n; ++i, at += step) {
            mcf_write_u32(dst, mcf_read_u32(in + at));
            dst += 4;
        }
    } else {
        const int32_t words = run >> 2;
        const int32_t tail = run & 3;
        for (i = 0; i < n; ++i, at += step) {
            const uint8_t *s = in + at;
            int32_t k;
            for (k = 0; k < words; ++k) {
                mcf_write_u32(dst, mcf_read_u32(s));
                dst += 4;
                s += 4;
            }
            for (k = 0; k < tail; ++k) {
                *dst++ = *s++;
            }
        }
    }
    return dst;
}

void mcf_strided_copy(const mcf_strided_copy_params *p, const void *input, void *output)
{
    const int32_t *c = p->count;
    const int32_t *st = p->step;
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *dst = (uint8_t *)output;
    int32_t i0, i1, i2, i3, i4;
    int32_t a0, a1, a2, a3, a4;

    for (i0 = 0, a0 = p->start; i0 < c[0]; ++i0, a0 += st[0]) {
        for (i1 = 0, a1 = a0; i1 < c[1]; ++i1, a1 += st[1]) {
            for (i2 = 0, a2 = a1; i2 < c[2]; ++i2, a2 += st[2]) {
                for (i3 = 0, a3 = a2; i3 < c[3]; ++i3, a3 += st[3]) {
                    for (i4 = 0, a4 = a3; i4 < c[4]; ++i4, a4 += st[4]) {
                        dst = mcf_copy_runs(dst, in, a4, c[5], st[5], p->run);
                    }
                }
            }
        }
    }
}
