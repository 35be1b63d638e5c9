/* activations_s16.c - int16 RELU, RELU6, LEAKY_RELU: one pass each, input[i] read before
 * output[i] is written (so they may run in place). */
#include "activations_s16.h"

#include "mcf_common.h"

void mcf_relu_s16(const mcf_relu_s16_params *p, const int16_t *input, int16_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t v = mcf_requantize(input[i], p->multiplier, p->shift);
        output[i] = (int16_t)mcf_clamp(v, p->act_min, p->act_max);
    }
}

void mcf_clamp_s16(const mcf_clamp_s16_params *p, const int16_t *input, int16_t *output)
{
    const int32_t lo = p->lo;
    const int32_t hi = p->hi;
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        output[i] = (int16_t)mcf_clamp(input[i], lo, hi);
    }
}

void mcf_leaky_relu_s16(const mcf_leaky_relu_s16_params *p, const int16_t *input, int16_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = input[i] - p->input_zero_point;
        int32_t y;
        if (x >= 0) {
            y = mcf_requantize(x, p->identity_multiplier, p->identity_shift);
        } else {
            y = mcf_requantize(x, p->alpha_multiplier, p->alpha_shift);
            y = p->negate_alpha ? -y : y;
        }
        output[i] = (int16_t)mcf_clamp(p->output_zero_point + y, -32768, 32767);
    }
}
