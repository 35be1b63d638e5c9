/* activations_s8.c - portable int8 RELU, RELU6 (clamp) and HARD_SWISH (table lookup). */
#include "activations_s8.h"

#include "mcf_common.h"

void mcf_relu_s8(const mcf_relu_params *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        /* |input + input_offset| <= 255 */
        const int32_t v = mcf_requantize((int32_t)input[i] + p->input_offset, p->multiplier,
                                         p->shift) +
                          p->output_offset;
        output[i] = (int8_t)mcf_clamp(v, p->act_min, p->act_max);
    }
}

void mcf_clamp_s8(const mcf_clamp_params *p, const int8_t *input, int8_t *output)
{
    const int8_t lo = (int8_t)p->lo;
    const int8_t hi = (int8_t)p->hi;
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int8_t v = input[i];
        output[i] = v > hi ? hi : (v < lo ? lo : v);
    }
}

void mcf_hard_swish_s8(const mcf_hard_swish_params *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        output[i] = p->table[(uint8_t)input[i]];
    }
}
