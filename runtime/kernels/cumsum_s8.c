/* cumsum_s8.c - int8 CUMSUM: one running int32 sum per column, requantized per output. */
#include "cumsum_s8.h"

#include "mcf_common.h"

void mcf_cumsum_s8(const mcf_cumsum_params *p, const int8_t *input, int8_t *output)
{
    const mcf_rescaler r = mcf_rescaler_make(p->output_multiplier, p->output_shift);
    /* all ones when an output includes its own value, 0 when exclusive */
    const uint32_t own = p->exclusive ? 0u : 0xFFFFFFFFu;
    const int32_t block = p->depth * p->inner;
    int32_t o, k, d;
    for (o = 0; o < p->outer; ++o) {
        const int8_t *column_in = input + o * block + p->first;
        int8_t *column_out = output + o * block + p->first;
        for (k = 0; k < p->inner; ++k) {
            const int8_t *x = column_in + k;
            int8_t *y = column_out + k;
            uint32_t sum = (uint32_t)p->initial;
            for (d = 0; d < p->depth; ++d) {
                const uint32_t v = (uint32_t)(((int32_t)*x + p->input_offset) * p->input_factor);
                const int32_t s = (int32_t)(sum + (v & own));
                sum += v;
                *y = (int8_t)mcf_clamp(mcf_rescale(&r, s) + p->output_offset, INT8_MIN, INT8_MAX);
                x += p->step;
                y += p->step;
            }
        }
    }
}
