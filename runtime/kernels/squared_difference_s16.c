/* squared_difference_s16.c - int16 SQUARED_DIFFERENCE: five nested loops, the innermost one a
 * strided run; each input rescaled, the difference squared and requantized. */
#include "squared_difference_s16.h"

#include "mcf_common.h"

void mcf_squared_difference_s16(const mcf_sqdiff_s16_params *p, const int16_t *input1,
                                const int16_t *input2, int16_t *output)
{
    const mcf_rescaler r1 = mcf_rescaler_make(p->input1_multiplier, p->input1_shift);
    const mcf_rescaler r2 = mcf_rescaler_make(p->input2_multiplier, p->input2_shift);
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
                        const int32_t d = mcf_rescale(&r1, *a) - mcf_rescale(&r2, *b);
                        const int32_t y = mcf_requantize(d * d, p->output_multiplier, p->output_shift);
                        *output++ = (int16_t)mcf_clamp(y, INT16_MIN, INT16_MAX);
                        a += s1[4];
                        b += s2[4];
                    }
                }
            }
        }
    }
}
