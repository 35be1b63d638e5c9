/* mean_s8.c - portable int8 reductions (mean, sum, maximum, minimum) over grouped axes. */
#include "mean_s8.h"

#include "mcf_common.h"

static int32_t mcf_mean_sum(const mcf_mean_params *p, const int8_t *base)
{
    const int32_t *n = p->reduced_count;
    const int32_t *s = p->reduced_stride;
    /* |acc| <= 256 * count and the compiler checked count < 2^23: no overflow. */
    int32_t acc = p->acc_init;
    int32_t i0, i1, i2, i3;
    for (i0 = 0; i0 < n[0]; ++i0) {
        for (i1 = 0; i1 < n[1]; ++i1) {
            for (i2 = 0; i2 < n[2]; ++i2) {
                const int8_t *q = base + i0 * s[0] + i1 * s[1] + i2 * s[2];
                for (i3 = 0; i3 < n[3]; ++i3) {
                    acc += q[i3 * s[3]];
                }
            }
        }
    }
    return acc;
}

void mcf_mean_s8(const mcf_mean_params *p, const int8_t *input, int8_t *output)
{
    const int32_t *n = p->kept_count;
    const int32_t *s = p->kept_stride;
    int32_t o0, o1, o2, o3;
    for (o0 = 0; o0 < n[0]; ++o0) {
        for (o1 = 0; o1 < n[1]; ++o1) {
            for (o2 = 0; o2 < n[2]; ++o2) {
                const int8_t *base = input + o0 * s[0] + o1 * s[1] + o2 * s[2];
                for (o3 = 0; o3 < n[3]; ++o3) {
                    const int32_t acc = mcf_mean_sum(p, base + o3 * s[3]);
#if MCF_REQUANT_F32
                    const int32_t v = mcf_requant_f32(acc, p->multiplier) + p->output_offset;
#else
                    const int32_t v = mcf_requantize(acc, p->multiplier, p->shift) + p->output_offset;
#endif
                    *output++ = (int8_t)mcf_clamp(v, -128, 127);
                }
            }
        }
    }
}

/* The largest (is_max) or smallest raw value of the reduced groups at `base`. */
static MCF_ALWAYS_INLINE int32_t mcf_reduce_extreme(const mcf_reduce_params *p, const int8_t *base,
                                                    int is_max)
{
    const int32_t *n = p->reduced_count;
    const int32_t *s = p->reduced_stride;
    int32_t best = is_max ? -128 : 127;
    int32_t i0, i1, i2, i3;
    for (i0 = 0; i0 < n[0]; ++i0) {
        for (i1 = 0; i1 < n[1]; ++i1) {
            for (i2 = 0; i2 < n[2]; ++i2) {
                const int8_t *q = base + i0 * s[0] + i1 * s[1] + i2 * s[2];
                for (i3 = 0; i3 < n[3]; ++i3) {
                    const int32_t v = q[i3 * s[3]];
                    if (is_max ? v > best : v < best) {
                        best = v;
                    }
                }
            }
        }
    }
    return best;
}

static MCF_ALWAYS_INLINE void mcf_reduce_s8(const mcf_reduce_params *p, const int8_t *input, int8_t *output,
                                            int is_max)
{
    const int32_t *n = p->kept_count;
    const int32_t *s = p->kept_stride;
    int32_t o0, o1, o2, o3;
    for (o0 = 0; o0 < n[0]; ++o0) {
        for (o1 = 0; o1 < n[1]; ++o1) {
            for (o2 = 0; o2 < n[2]; ++o2) {
                const int8_t *base = input + o0 * s[0] + o1 * s[1] + o2 * s[2];
                for (o3 = 0; o3 < n[3]; ++o3) {
                    *output++ = (int8_t)mcf_reduce_extreme(p, base + o3 * s[3], is_max);
                }
            }
        }
    }
}

void mcf_reduce_max_s8(const mcf_reduce_params *p, const int8_t *input, int8_t *output)
{
    mcf_reduce_s8(p, input, output, 1);
}

void mcf_reduce_min_s8(const mcf_reduce_params *p, const int8_t *input, int8_t *output)
{
    mcf_reduce_s8(p, input, output, 0);
}
