/*
 * prelu_s8_f32.c - int8 PRelu with a slope per channel, in onnxruntime's float32 arithmetic
 * (DequantizeLinear -> PRelu -> QuantizeLinear: a product, a division by the output scale, rounding
 * half to even, the zero point added as an integer). Bit-exact with onnxruntime, no table per channel.
 */
#include "prelu_s8_f32.h"

#include "mcf_common.h"

void mcf_prelu_s8_f32(const mcf_prelu_f32_params *p, const int8_t *input, int8_t *output)
{
    int32_t o;
    for (o = 0; o < p->outer; ++o) {
        int32_t c;
        for (c = 0; c < p->channels; ++c) {
            const float slope = p->slope[c];
            int32_t i;
            for (i = 0; i < p->inner; ++i) {
                const float x = p->dequant[(uint8_t)*input++];
                const float y = x > 0.0f ? x : x * slope;
                *output++ = (int8_t)mcf_clamp(mcf_round_f32(y / p->out_scale) + p->out_zero_point, -128, 127);
            }
        }
    }
}
