/* minmax_s16.c - int16 MAXIMUM / MINIMUM: five nested loops, the innermost one a strided run. */
#include "minmax_s16.h"

static inline void mcf_minmax_s16(const mcf_minmax_s16_params *p, const int16_t *input1,
                                  const int16_t *input2, int16_t *output, int want_max)
{
    const int32_t *n = p->dims;
    const int32_t *s1 = p->stride1;
    const int32_t *s2 = p->stride2;
    int32_t i0, i1, i2, i3, i4;
    for (i0 = 0; i0 < n[0]; ++i0) {
        for (i1 = 0; i1 < n[1]; ++i1) {
            for (i2 = 0; i2 < n[2]; ++i2) {
                for (i3 = 0; i3 < n[3]; ++i3) {
                    const int16_t *a = input1 + i0 * s1[0] + i1 * s1[1] + i2 * s1[2] + i3 * s1[3];
                    const int16_t *b = input2 + i0 * s2[0] + i1 * s2[1] + i2 * s2[2] + i3 * s2[3];
                    for (i4 = 0; i4 < n[4]; ++i4) {
                        const int16_t x = *a;
                        const int16_t y = *b;
                        *output++ = want_max ? (x > y ? x : y) : (x < y ? x : y);
                        a += s1[4];
                        b += s2[4];
                    }
                }
            }
        }
    }
}

void mcf_maximum_s16(const mcf_minmax_s16_params *p, const int16_t *input1, const int16_t *input2,
                     int16_t *output)
{
    mcf_minmax_s16(p, input1, input2, output, 1);
}

void mcf_minimum_s16(const mcf_minmax_s16_params *p, const int16_t *input1, const int16_t *input2,
                     int16_t *output)
{
    mcf_minmax_s16(p, input1, input2, output, 0);
}
