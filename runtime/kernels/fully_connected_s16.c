/* fully_connected_s16.c - 16x8 fully connected: int16 inputs, int8 weights, 64-bit or 32-bit
 * sums. Every product is below 2^22 in magnitude, so partial sums of up to 256 products are exact
 * in int32 before they join the 64-bit sum.
 *
 * Fast builds read the weights in the layout of fc_s16_fast_layout (generator/ops/
 * fully_connected_s16.py): units in blocks of four (the last padded with zero units), inputs in
 * groups of four (the last padded with zeros); per block and group, one word per unit holding its
 * four weights as w0, w2, w1, w3, so that one SXTB16 gives (w0, w1) and one with ROR #8 gives
 * (w2, w3), matching the input words (x0, x1) and (x2, x3): two SMLAD per four products on DSP
 * cores, the input words loaded once per block. */
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

#if MCF_KERNELS_FAST
/* Position of weight j (0..3) of a group in the fast layout. */
#define MCF_FC_S16_SLOT(j) ((((j) & 1) << 1) | ((j) >> 1))

/* Sums of products of groups [g, end) for one block of four units: the block's words for group g
 * start at w + 16 g, one per unit; the input words are loaded once for all four. Not inlined:
 * alone, the loop keeps everything in registers. */
static MCF_NOINLINE void mcf_fc_s16_groups(const int16_t *x, const int8_t *w, int32_t g, int32_t end,
                                           int32_t s[4])
{
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    w += 16 * g;
    x += 4 * g;
    for (; g < end; ++g) {
#if MCF_KERNELS_DSP
        const uint32_t x01 = mcf_read_u32(x);
        const uint32_t x23 = mcf_read_u32(x + 2);
        uint32_t k = mcf_read_u32(w);
        a0 = mcf_smlad(mcf_sxtb16_ror8(k), x23, mcf_smlad(mcf_sxtb16(k), x01, a0));
        k = mcf_read_u32(w + 4);
        a1 = mcf_smlad(mcf_sxtb16_ror8(k), x23, mcf_smlad(mcf_sxtb16(k), x01, a1));
        k = mcf_read_u32(w + 8);
        a2 = mcf_smlad(mcf_sxtb16_ror8(k), x23, mcf_smlad(mcf_sxtb16(k), x01, a2));
        k = mcf_read_u32(w + 12);
        a3 = mcf_smlad(mcf_sxtb16_ror8(k), x23, mcf_smlad(mcf_sxtb16(k), x01, a3));
#else
        const int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
        a0 += x0 * w[0] + x1 * w[2] + x2 * w[1] + x3 * w[3];
        a1 += x0 * w[4] + x1 * w[6] + x2 * w[5] + x3 * w[7];
        a2 += x0 * w[8] + x1 * w[10] + x2 * w[9] + x3 * w[11];
        a3 += x0 * w[12] + x1 * w[14] + x2 * w[13] + x3 * w[15];
#endif
        x += 4;
        w += 16;
    }
    s[0] = a0;
    s[1] = a1;
    s[2] = a2;
    s[3] = a3;
}

static void mcf_fully_connected_s16_fast(const mcf_fc_s16_params *p, const int16_t *input,
                                         const int8_t *weights, int16_t *output)
{
    const int32_t depth = p->depth;
    const int32_t groups = depth >> 2;         /* whole groups of four inputs */
    const int32_t block = 16 * ((depth + 3) >> 2); /* bytes of one block of four units */
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int16_t *x = input + b * depth;
        int32_t u;
        for (u = 0; u < p->units; u += 4) {
            const int8_t *w = weights + (u >> 2) * block;
            const int32_t n = MCF_MIN(4, p->units - u); /* the last block is padded with zero units */
            int64_t acc[4];
            int32_t k, g = 0, d;
            for (k = 0; k < 4; ++k) {
                acc[k] = k < n ? p->bias[u + k] : 0;
            }
            while (g < groups) {
                const int32_t end = MCF_MIN(groups, g + 64); /* 256 products: below 2^30 */
                int32_t s[4];
                mcf_fc_s16_groups(x, w, g, end, s);
                for (k = 0; k < 4; ++k) {
                    acc[k] += s[k];
                }
                g = end;
            }
            for (d = 4 * groups; d < depth; ++d) {
                const int8_t *wg = w + 16 * groups + MCF_FC_S16_SLOT(d - 4 * groups);
                for (k = 0; k < 4; ++k) {
                    acc[k] += (int32_t)x[d] * wg[4 * k];
                }
            }
            for (k = 0; k < n; ++k) {
                output[u + k] = mcf_fc_s16_finish(p, acc[k], u + k);
            }
        }
        output += p->units;
    }
}
#endif

void mcf_fully_connected_s16(const mcf_fc_s16_params *p, const int16_t *input, const int8_t *weights,
                             int16_t *output)
{
#if MCF_KERNELS_FAST
    mcf_fully_connected_s16_fast(p, input, weights, output);
#else
    const int32_t depth = p->depth;
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int16_t *x = input + b * depth;
        int32_t u;
        for (u = 0; u < p->units; ++u) {
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
#endif
}
