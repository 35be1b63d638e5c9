/* gather.c - GATHER: one run copy per position, word by word. */
#include "gather.h"

#include "mcf_dsp.h"

void mcf_gather(const mcf_gather_params *p, const void *input, const int32_t *positions, void *output)
{
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *dst = (uint8_t *)output;
    const int32_t run = p->run;
    const int32_t words = run >> 2;
    const int32_t tail = run & 3;
    const int32_t block = p->axis_size * run; /* input bytes of one (batch, outer) */
    int32_t b, o, c, k;

    for (b = 0; b < p->batches; ++b) {
        const int32_t *pos = positions + b * p->coords;
        for (o = 0; o < p->outer; ++o) {
            for (c = 0; c < p->coords; ++c) {
                const int32_t at = pos[c];
                if (at >= 0 && at < p->axis_size) {
                    const uint8_t *s = in + at * run;
                    for (k = 0; k < words; ++k) {
                        mcf_write_u32(dst, mcf_read_u32(s));
                        dst += 4;
                        s += 4;
                    }
                    for (k = 0; k < tail; ++k) {
                        *dst++ = *s++;
                    }
                } else {
                    for (k = 0; k < run; ++k) {
                        *dst++ = 0;
                    }
                }
            }
            in += block;
        }
    }
}
