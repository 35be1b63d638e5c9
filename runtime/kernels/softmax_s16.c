/* softmax_s16.c - int16 softmax with TFLite Micro's two interpolated tables. */
#include "softmax_s16.h"

#include "mcf_common.h"

/* The 513-entry table at v: entry 256 + (v >> 7), plus the step to the next entry times the
 * low seven bits of v, rounded. */
static inline int16_t mcf_lut16(const int16_t *lut, int32_t v)
{
    const int32_t index = 256 + (v >> 7);
    const int32_t base = lut[index];
    const int32_t slope = lut[index + 1] - base;
    return (int16_t)(base + ((slope * (v & 0x7f) + 64) >> 7));
}

static inline int32_t mcf_clz32(uint32_t x)
{
#if defined(__GNUC__) || defined(__clang__)
    return x ? __builtin_clz(x) : 32;
#else
    int32_t n = 0;
    if (x == 0) {
        return 32;
    }
    while (!(x & 0x80000000u)) {
        x <<= 1;
        ++n;
    }
    return n;
#endif
}

void mcf_softmax_s16(const mcf_softmax_s16_params *p, const int16_t *input, int16_t *output)
{
    const int32_t depth = p->depth;
    int32_t r;
    for (r = 0; r < p->rows; ++r) {
        const int16_t *x = input + r * depth;
        int16_t *y = output + r * depth;
        int32_t max = -32768;
        int32_t sum = 0;
        int32_t c;
        int32_t headroom;
        int32_t shifted;
        int32_t reciprocal;
        int32_t right;
        int64_t round;
        for (c = 0; c < depth; ++c) {
            max = MCF_MAX(max, (int32_t)x[c]);
        }
        for (c = 0; c < depth; ++c) {
            /* the difference (<= 0) on the exp table's grid, recentred around 0 */
            const int32_t d = mcf_requantize(x[c] - max, p->input_multiplier, p->input_shift) + 32767;
            y[c] = mcf_lut16(p->exp_lut, mcf_clamp(d, -32768, 32767));
            sum += y[c]; /* at most depth * 32767: TFLite Micro's Q16.15 sum */
        }
        /* the row maximum contributes exp(0) > 0, so sum > 0 */
        headroom = mcf_clz32((uint32_t)sum);
        shifted = (int32_t)((((int64_t)sum << (headroom - 1)) + (1 << 13)) >> 14);
        reciprocal = mcf_lut16(p->recip_lut, mcf_clamp(shifted - ((1 << 15) + (1 << 16)), -32768, 32767));
        right = 31 - headroom;
        round = right > 0 ? (int64_t)1 << (right - 1) : 0;
        for (c = 0; c < depth; ++c) {
            const int32_t v = (int32_t)(((int64_t)y[c] * reciprocal + round) >> right);
            y[c] = (int16_t)mcf_clamp(v, 0, 32767);
        }
    }
}
