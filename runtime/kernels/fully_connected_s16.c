/* fully_connected_s16.c - 16x8 fully connected: int16 inputs, int8 weights, 64-bit or 32-bit
 * sums.
 *
 * Fast builds read the weights in the layout of fc_s16_fast_layout (generator/ops/
 * fully_connected_s16.py): units in blocks of four (the last padded with zero units), each block
 * one mcf_dot_s16_block (mcf_dot_s16.h), or its word-pair loop when the input rows are whole
 * groups of four at 4-byte boundaries (the weights are emitted as words). */
#include "fully_connected_s16.h"

#include "mcf_common.h"
#include "mcf_dot_s16.h"

static inline int16_t mcf_fc_s16_finish(const mcf_fc_s16_params *p, int64_t acc, int32_t u)
{
    const int32_t k = p->per_channel ? u : 0;
    const int32_t v = mcf_s16_rescale(acc, p->wide, p->multiplier[k], p->shift[k]);
    return (int16_t)mcf_clamp(v + p->output_offset, p->act_min, p->act_max);
}

#if MCF_KERNELS_FAST
static void mcf_fully_connected_s16_fast(const mcf_fc_s16_params *p, const int16_t *input,
                                         const int8_t *weights, int16_t *output)
{
    const int32_t depth = p->depth;
    const int32_t block = MCF_DOT_S16_BLOCK_BYTES(depth); /* bytes of one block of four units */
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int16_t *x = input + b * depth;
        /* the weights are words (4-byte aligned); the row must be too, in whole groups of four */
        const int32_t aligned = depth >= 4 && (depth & 3) == 0 && ((uintptr_t)x & 3u) == 0;
        int32_t u;
        for (u = 0; u < p->units; u += 4) {
            const int8_t *w = weights + (u >> 2) * block;
            const int32_t n = MCF_MIN(4, p->units - u); /* the last block is padded with zero units */
            int64_t acc[4];
            int32_t k;
            for (k = 0; k < 4; ++k) {
                acc[k] = k < n ? p->bias[u + k] : 0;
            }
            if (aligned) { /* whole groups, 4-byte aligned: the word-pair loop, 64 groups at a time */
                int32_t g, e;
                for (g = 0; g < (depth >> 2); g = e) {
                    int32_t sum[4];
                    e = MCF_MIN(depth >> 2, g + 64);
                    mcf_dot_s16_groups_aligned(x + 4 * g, w + 16 * g, e - g, sum);
                    for (k = 0; k < 4; ++k) {
                        acc[k] += sum[k];
                    }
                }
            } else {
                mcf_dot_s16_block(x, w, depth, acc);
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
