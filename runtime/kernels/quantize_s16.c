/* quantize_s16.c - QUANTIZE / DEQUANTIZE with int16 on one side. Each element i is read before
 * output element i is written. */
#include "quantize_s16.h"

#include "mcf_common.h"

/* Round half away from zero (C's roundf) for |v| <= 2^17, without libm. */
static int32_t mcf_round_half_away_s16(float v)
{
    int32_t t = (int32_t)v;          /* truncates toward zero */
    const float frac = v - (float)t; /* exact for |v| < 2^23 */
    if (frac >= 0.5f) {
        t += 1;
    } else if (frac <= -0.5f) {
        t -= 1;
    }
    return t;
}

void mcf_quantize_f32_s16(const mcf_quantize_s16_params *p, const float *input, int16_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        float q = input[i] / p->scale;
        if (q != q) { /* NaN */
            q = 0.0f;
        } else if (q > 131072.0f) { /* beyond every int16 value plus any zero point: saturates */
            q = 131072.0f;
        } else if (q < -131072.0f) {
            q = -131072.0f;
        }
        output[i] = (int16_t)mcf_clamp(mcf_round_half_away_s16(q) + p->zero_point, -32768, 32767);
    }
}

void mcf_requantize_s16_s16(const mcf_requantize_s16_params *p, const int16_t *input, int16_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t v = mcf_requantize(input[i] - p->input_zero_point, p->multiplier, p->shift);
        output[i] = (int16_t)mcf_clamp(v + p->output_zero_point, -32768, 32767);
    }
}

void mcf_requantize_s16_s8(const mcf_requantize_s16_params *p, const int16_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t v = mcf_requantize(input[i] - p->input_zero_point, p->multiplier, p->shift);
        output[i] = (int8_t)mcf_clamp(v + p->output_zero_point, -128, 127);
    }
}

void mcf_requantize_s32_s16(const mcf_requantize_s16_params *p, const int32_t *input, int16_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)((uint32_t)input[i] - (uint32_t)p->input_zero_point);
        const int32_t v = mcf_requantize(x, p->multiplier, p->shift);
        /* the sum with the zero point wraps in int32, as TFLite Micro's does */
        output[i] = (int16_t)mcf_clamp((int32_t)((uint32_t)v + (uint32_t)p->output_zero_point), -32768, 32767);
    }
}

void mcf_requantize_s16_s32(const mcf_requantize_s16_params *p, const int16_t *input, int32_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t v = mcf_requantize(input[i] - p->input_zero_point, p->multiplier, p->shift);
        output[i] = (int32_t)((uint32_t)v + (uint32_t)p->output_zero_point);
    }
}

void mcf_requantize_s8_s16(const mcf_requantize_s8_s16_params *p, const int8_t *input, int16_t *output)
{
    const int16_t *table = p->table;
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        output[i] = table[(uint8_t)input[i]];
    }
}

void mcf_dequantize_s16_f32(const mcf_dequantize_s16_params *p, const int16_t *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        output[i] = p->scale * (float)((int32_t)input[i] - p->zero_point);
    }
}
