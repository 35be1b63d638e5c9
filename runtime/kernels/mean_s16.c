/* mean_s16.c - int16 mean / sum over grouped axes. */
#include "mean_s16.h"

#include "mcf_common.h"

/* The 32-bit sum of one group, wrapping as TFLite Micro's int32 accumulator does. */
static int32_t mcf_mean_s16_sum(const mcf_mean_s16_params *p, const int16_t *base)
{
    const int32_t *n = p->reduced_count;
    const int32_t *s = p->reduced_stride;
    uint32_t acc = (uint32_t)p->acc_init;
    int32_t i0, i1, i2, i3;
    for (i0 = 0; i0 < n[0]; ++i0) {
        for (i1 = 0; i1 < n[1]; ++i1) {
            for (i2 = 0; i2 < n[2]; ++i2) {
                const int16_t *q = base + i0 * s[0] + i1 * s[1] + i2 * s[2];
                for (i3 = 0; i3 < n[3]; ++i3) {
                    acc += (uint32_t)(int32_t)q[i3 * s[3]];
                }
            }
        }
    }
    return (int32_t)acc;
}

void mcf_mean_s16(const mcf_mean_s16_params *p, const int16_t *input, int16_t *output)
{
    const int32_t *n = p->kept_count;
    const int32_t *s = p->kept_stride;
    int32_t o0, o1, o2, o3;
    for (o0 = 0; o0 < n[0]; ++o0) {
        for (o1 = 0; o1 < n[1]; ++o1) {
            for (o2 = 0; o2 < n[2]; ++o2) {
                const int16_t *base = input + o0 * s[0] + o1 * s[1] + o2 * s[2];
                for (o3 = 0; o3 < n[3]; ++o3) {
                    const int32_t acc = mcf_mean_s16_sum(p, base + o3 * s[3]);
                    const int32_t v = mcf_requantize(acc, p->multiplier, p->shift) + p->output_offset;
                    *output++ = (int16_t)mcf_clamp(v, -32768, 32767);
                }
            }
        }
    }
}
