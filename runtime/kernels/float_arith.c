/* float_arith.c - see float_arith.h. */
#include "float_arith.h"

#include <math.h>

#include "mcf_common.h"

/* The clamp as TFLite Micro writes it, min(max(x, lo), hi), comparisons in that order, so that a NaN
 * stays NaN and an infinity becomes the range's end. */
static float mcf_f32_clamp(float x, float lo, float hi)
{
    const float y = (x < lo) ? lo : x;
    return (hi < y) ? hi : y;
}

/* Operand k of output element i is element i mod period_k: a wrapping index, no division. */
#define MCF_F32_LOOP(OP)                                                 \
    do {                                                                 \
        const float lo = p->act_min, hi = p->act_max;                    \
        int32_t i, ia = 0, ib = 0;                                       \
        for (i = 0; i < p->count; ++i) {                                 \
            const float r = a[ia] OP b[ib];                              \
            out[i] = mcf_f32_clamp(r, lo, hi);                           \
            if (++ia == p->a_period) {                                   \
                ia = 0;                                                  \
            }                                                            \
            if (++ib == p->b_period) {                                   \
                ib = 0;                                                  \
            }                                                            \
        }                                                                \
    } while (0)

void mcf_f32_add(const mcf_f32_binary_params *p, const float *a, const float *b, float *out)
{
    MCF_F32_LOOP(+);
}

void mcf_f32_sub(const mcf_f32_binary_params *p, const float *a, const float *b, float *out)
{
    MCF_F32_LOOP(-);
}

void mcf_f32_mul(const mcf_f32_binary_params *p, const float *a, const float *b, float *out)
{
    MCF_F32_LOOP(*);
}

void mcf_cast_to_f32(const mcf_cast_f32_params *p, const void *input, float *output)
{
    int32_t i;
    switch (p->from) {
    case -1: {
        const int8_t *in = (const int8_t *)input;
        for (i = 0; i < p->count; ++i) {
            output[i] = (float)in[i];
        }
        break;
    }
    case -2: {
        const int16_t *in = (const int16_t *)input;
        for (i = 0; i < p->count; ++i) {
            output[i] = (float)in[i];
        }
        break;
    }
    default: {
        const int32_t *in = (const int32_t *)input;
        for (i = 0; i < p->count; ++i) {
            output[i] = (float)in[i];
        }
        break;
    }
    }
}

/* The largest of x[0..n), found as TFLite Micro's softmax loops find it: from -FLT_MAX up, each
 * comparison max < x (a NaN is passed over). */
static MCF_ALWAYS_INLINE float mcf_f32_row_max(const float *x, int32_t n)
{
    float m = -3.40282347e+38f;
    int32_t c;
    for (c = 0; c < n; ++c) {
        m = (m < x[c]) ? x[c] : m;
    }
    return m;
}

void mcf_f32_log_softmax(const mcf_f32_rows_params *p, const float *input, float *output)
{
    int32_t r, c;
    for (r = 0; r < p->rows; ++r) {
        const float *x = input + r * p->depth;
        float *y = output + r * p->depth;
        const float m = mcf_f32_row_max(x, p->depth);
        float s = 0.0f;
        float log_s;
        for (c = 0; c < p->depth; ++c) {
            s += expf(x[c] - m);
        }
        log_s = logf(s);
        for (c = 0; c < p->depth; ++c) {
            y[c] = x[c] - m - log_s;
        }
    }
}

void mcf_f32_softmax(const mcf_f32_softmax_params *p, const float *input, float *output)
{
    int32_t r, c;
    for (r = 0; r < p->rows; ++r) {
        const float *x = input + r * p->depth;
        float *y = output + r * p->depth;
        const float m = mcf_f32_row_max(x, p->depth);
        float s = 0.0f;
        for (c = 0; c < p->depth; ++c) {
            const float e = expf((x[c] - m) * p->beta);
            y[c] = e;
            s += e;
        }
        for (c = 0; c < p->depth; ++c) {
            y[c] = y[c] / s;
        }
    }
}
