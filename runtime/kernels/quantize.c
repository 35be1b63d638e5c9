/* quantize.c - QUANTIZE and DEQUANTIZE kernels (float where TFLite Micro uses float, a byte table
 * between 8-bit types). */
#include "quantize.h"

#include "mcf_common.h"

/* Round half away from zero (C's roundf) for |v| <= 512, without libm. */
static int32_t mcf_round_half_away(float v)
{
    int32_t t = (int32_t)v;          /* truncates toward zero */
    const float frac = v - (float)t; /* exact: the fraction bits of v */
    if (frac >= 0.5f) {
        t += 1;
    } else if (frac <= -0.5f) {
        t -= 1;
    }
    return t;
}

void mcf_quantize_f32_s8(const mcf_quantize_params *p, const float *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        float q = input[i] / p->scale;
        if (q != q) { /* NaN */
            q = 0.0f;
        } else if (q > 512.0f) {
            q = 512.0f;
        } else if (q < -512.0f) {
            q = -512.0f;
        }
        output[i] = (int8_t)mcf_clamp(mcf_round_half_away(q) + p->zero_point, -128, 127);
    }
}

void mcf_quantize_f32_s8_rne(const mcf_quantize_params *p, const float *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        float q = input[i] / p->scale;
        if (q != q) { /* NaN */
            q = 0.0f;
        }
        output[i] = (int8_t)mcf_clamp(mcf_round_f32(q) + p->zero_point, -128, 127);
    }
}

void mcf_requantize_8(const mcf_requantize_params *p, const void *input, void *output)
{
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    const uint8_t *table = p->table;
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        out[i] = table[in[i]];
    }
}

void mcf_dequantize_s8_f32(const mcf_dequantize_params *p, const int8_t *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        output[i] = p->scale * (float)((int32_t)input[i] - p->zero_point);
    }
}

void mcf_dequantize_u8_f32(const mcf_dequantize_params *p, const uint8_t *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        output[i] = p->scale * (float)((int32_t)input[i] - p->zero_point);
    }
}
