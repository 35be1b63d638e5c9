/* fully_connected_s16.c - 16x8 fully connected: int16 inputs, int8 weights, 64-bit or 32-bit
 * sums. Every product is below 2^22 in magnitude; the fast path sums two units per pass over the
 * input row. */
#include "fully_connected_s16.h"

#include "mcf_common.h"
#include "mcf_dsp.h"

/* TFLite Micro's 64-bit rescaling: (x * m16 + 2^(s-1)) >> s, with m16 < 2^15 and 8 <= s <= 46,
 * so |x| < 2^47 keeps the product inside int64. */
static inline int32_t mcf_fc_s16_rescale_wide(int64_t x, int32_t m16, int32_t s)
{
    return (int32_t)((x * (int64_t)m16 + ((int64_t)1 << (s - 1))) >> s);
}

static inline int16_t mcf_fc_s16_finish(const mcf_fc_s16_params *p, int64_t acc, int32_t u)
{
    const int32_t k = p->per_channel ? u : 0;
    int32_t v;
    if (p->wide) {
        v = mcf_fc_s16_rescale_wide(acc, p->multiplier[k], p->shift[k]);
    } else {
        /* the 32-bit sum wraps as TFLite Micro's int32 accumulator does */
        v = mcf_requantize((int32_t)(uint32_t)(uint64_t)acc, p->multiplier[k], p->shift[k]);
    }
    return (int16_t)mcf_clamp(v + p->output_offset, p->act_min, p->act_max);
}

void mcf_fully_connected_s16(const mcf_fc_s16_params *p, const int16_t *input, const int8_t *weights,
                             int16_t *output)
{
    const int32_t depth = p->depth;
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int16_t *x = input + b * depth;
        int32_t u = 0;
#if MCF_KERNELS_FAST
        for (; u + 2 <= p->units; u += 2) {
            const int8_t *w0 = weights + u * depth;
            const int8_t *w1 = w0 + depth;
            int64_t acc0 = p->bias[u];
            int64_t acc1 = p->bias[u + 1];
            int32_t d = 0;
            /* blocks of at most 256 products in 32 bits (< 2^30), then into the 64-bit sums */
            while (d < depth) {
                const int32_t end = MCF_MIN(depth, d + 256);
                int32_t s0 = 0;
                int32_t s1 = 0;
                for (; d < end; ++d) {
                    const int32_t xv = x[d];
                    s0 += xv * w0[d];
                    s1 += xv * w1[d];
                }
                acc0 += s0;
                acc1 += s1;
            }
            output[u] = mcf_fc_s16_finish(p, acc0, u);
            output[u + 1] = mcf_fc_s16_finish(p, acc1, u + 1);
        }
#endif
        for (; u < p->units; ++u) {
            const int8_t *w = weights + u * depth;
            int64_t acc = p->bias[u];
            int32_t d;
            for (d = 0; d < depth; ++d) {
                acc += (int64_t)((int32_t)x[d] * w[d]);
            }
            output[u] = mcf_fc_s16_finish(p, acc, u);
        }
        output += p->units;
    }
}
