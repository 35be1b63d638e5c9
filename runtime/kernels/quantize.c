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

#if MCF_REQUANT_F32_SOFT
#define MCF_QUANT_MARGIN 0x20400u /* 2^17 + 2^10 units of 2^-32 */
/* round(|x| / scale) from the fixed-point reciprocal (quantize.h) into *q, with x's sign: 1 where it
 * is certain (no rounding boundary within the float32 division's reach), else 0. */
static MCF_ALWAYS_INLINE int32_t mcf_quantize_fixed(const mcf_quantize_params *p, float x, int32_t *q)
{
    uint32_t bits, frac;
    int32_t e, sh, n;
    uint64_t t;
    MCF_COPY_FIXED(&bits, &x, sizeof bits);
    e = (int32_t)((bits >> 23) & 0xFFu);
    sh = p->fx_shift - e;
    if (e == 0 || e == 0xFF || sh < 15) { /* zero, subnormal, infinite, NaN; quotients that may reach 2^9 */
        return 0;
    }
    if (sh >= 64) { /* below 2^-8 */
        *q = 0;
        return 1;
    }
    t = (((uint64_t)((bits & 0x7FFFFFu) | 0x800000u) * p->fx_recip) >> sh) + 0x80000000u;
    frac = (uint32_t)t;
    if (frac <= MCF_QUANT_MARGIN || frac >= 0u - MCF_QUANT_MARGIN) {
        return 0;
    }
    n = (int32_t)(t >> 32);
    *q = (bits >> 31) ? -n : n;
    return 1;
}
#endif

void mcf_quantize_f32_s8(const mcf_quantize_params *p, const float *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        float q;
#if MCF_REQUANT_F32_SOFT
        int32_t n;
        if (p->fx_recip != 0u && mcf_quantize_fixed(p, input[i], &n)) { /* no tie: either rounding */
            output[i] = (int8_t)mcf_clamp(n + p->zero_point, -128, 127);
            continue;
        }
#endif
        q = input[i] / p->scale;
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
        float q;
#if MCF_REQUANT_F32_SOFT
        int32_t n;
        if (p->fx_recip != 0u && mcf_quantize_fixed(p, input[i], &n)) {
            output[i] = (int8_t)mcf_clamp(n + p->zero_point, -128, 127);
            continue;
        }
#endif
        q = input[i] / p->scale;
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
