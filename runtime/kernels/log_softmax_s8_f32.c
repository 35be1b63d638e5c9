/*
 * log_softmax_s8_f32.c - int8 LogSoftmax over any axis with onnxruntime's float32 formula
 * (x - max - ln(sum of exp(x - max)), then QuantizeLinear). Within one quantization step of
 * onnxruntime: its exp and log are vectorised approximations, these are a table and a series.
 */
#include "log_softmax_s8_f32.h"

#include "mcf_common.h"

/* ln(v) for a normal v >= 1: v = 2^e * m with m in [1, 2), ln m = 2 atanh(z), z = (m - 1) / (m + 1)
 * in [0, 1/3]; the odd series to z^13 leaves an error below 1e-7. */
static float mcf_ln_f32(float v)
{
    uint32_t bits;
    int32_t e;
    float m, z, z2, s;
    MCF_COPY_FIXED(&bits, &v, sizeof bits);
    e = (int32_t)((bits >> 23) & 0xFFu) - 127;
    bits = (bits & 0x007FFFFFu) | 0x3F800000u;
    MCF_COPY_FIXED(&m, &bits, sizeof m);
    z = (m - 1.0f) / (m + 1.0f);
    z2 = z * z;
    s = 1.0f / 13.0f;
    s = s * z2 + 1.0f / 11.0f;
    s = s * z2 + 1.0f / 9.0f;
    s = s * z2 + 1.0f / 7.0f;
    s = s * z2 + 1.0f / 5.0f;
    s = s * z2 + 1.0f / 3.0f;
    s = s * z2 + 1.0f;
    return (float)e * 0.693147180559945f + 2.0f * z * s;
}

/* One row (depth values `step` apart): the max, the sum of exp(x - max), its ln; then every
 * x - max - ln(sum) quantized into `output`, or as float32 into `real` when `output` is NULL. */
static void mcf_log_softmax_row(const mcf_log_softmax_f32_params *p, const int8_t *x, int32_t step, int8_t *output,
                                float *real)
{
    const int32_t D = p->depth;
    int32_t k, m = -128;
    float sum = 0.0f, lse, top;
    for (k = 0; k < D; ++k) {
        m = MCF_MAX(m, (int32_t)x[k * step]);
    }
    for (k = 0; k < D; ++k) {
        sum += p->exp_neg[m - (int32_t)x[k * step]];
    }
    lse = mcf_ln_f32(sum);
    top = p->dequant[(uint8_t)m];
    for (k = 0; k < D; ++k) {
        const float v = (p->dequant[(uint8_t)x[k * step]] - top) - lse;
        if (output != 0) {
            output[k * step] = (int8_t)mcf_clamp(mcf_round_f32(v / p->out_scale) + p->out_zero_point, -128, 127);
        } else {
            real[k * step] = v;
        }
    }
}

static void mcf_log_softmax(const mcf_log_softmax_f32_params *p, const int8_t *input, int8_t *output, float *real)
{
    const int32_t D = p->depth;
    const int32_t step = p->inner;
    int32_t o;
    for (o = 0; o < p->outer; ++o) {
        int32_t i;
        for (i = 0; i < step; ++i) {
            const int32_t at = o * D * step + i;
            mcf_log_softmax_row(p, input + at, step, output != 0 ? output + at : 0, real != 0 ? real + at : 0);
        }
    }
}

void mcf_log_softmax_s8_f32(const mcf_log_softmax_f32_params *p, const int8_t *input, int8_t *output)
{
    mcf_log_softmax(p, input, output, 0);
}

void mcf_log_softmax_s8_to_f32(const mcf_log_softmax_f32_params *p, const int8_t *input, float *output)
{
    mcf_log_softmax(p, input, 0, output);
}
