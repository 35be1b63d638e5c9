/* fully_connected_s8.c - portable int8 fully connected layer. */
#include "fully_connected_s8.h"

#include "mcf_common.h"

void mcf_fully_connected_s8(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                            int8_t *output)
{
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * p->depth;
        int32_t u;
        for (u = 0; u < p->units; ++u) {
            const int8_t *w = weights + u * p->depth;
            const int32_t ch = p->per_channel ? u : 0;
            /* |w * x| <= 128 * 128 = 2^14, so int32 holds a sum over any depth < 2^17. */
            int32_t acc = p->bias[u];
            int32_t d;
            for (d = 0; d < p->depth; ++d) {
                acc += (int32_t)w[d] * (int32_t)x[d];
            }
            acc = mcf_requantize(acc, p->multiplier[ch], p->shift[ch]) + p->output_offset;
            output[b * p->units + u] = (int8_t)mcf_clamp(acc, p->act_min, p->act_max);
        }
    }
}
