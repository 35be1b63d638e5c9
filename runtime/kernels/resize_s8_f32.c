/* resize_s8_f32.c - onnxruntime's linear Resize of quantized data from precomputed tables, in float32. */
#include "resize_s8_f32.h"

#include "mcf_common.h"

/* The level QuantizeLinear gives s: how many of the 255 ascending thresholds s reaches, minus 128. */
static MCF_ALWAYS_INLINE int8_t quantize_by_thresholds(float s, const float *t)
{
    int32_t i = 0;
    int32_t step;
    for (step = 128; step > 0; step >>= 1) {
        if (s >= t[i + step - 1]) {
            i += step;
        }
    }
    return (int8_t)(i - 128);
}

/* One walk for both kernels; `dq` is a constant at each call, so each kernel keeps only its own
 * element step. The products go through volatile storage so that no compiler fuses a product and
 * the following addition into one multiply-add (GCC contracts across statements in GNU C mode):
 * onnxruntime rounds each product to float32 before adding it. Without an FPU these are libgcc's
 * IEEE single-precision routines, which round alike. */
static MCF_ALWAYS_INLINE void bilinear_walk(const mcf_resize_bilinear_f32_params *p, const int8_t *input,
                                            int8_t *output, const int dq)
{
    const int32_t c = p->channels;
    const int32_t image = p->input_h * p->input_w * c;
    /* value of a stored byte: (v + add) * mul, with mul = 1 for the truncating kernel */
    const int32_t add = dq ? -p->input_zero_point : p->offset;
    const float mul = dq ? p->input_scale : 1.0f;
    const int32_t lo = -128 + p->offset;
    const int32_t hi = 127 + p->offset;
    int32_t b, y, x, k;
    for (b = 0; b < p->batches; ++b) {
        for (y = 0; y < p->output_h; ++y) {
            const int8_t *row1 = input + p->rows[2 * y];
            const int8_t *row2 = input + p->rows[2 * y + 1];
            const float dy1 = p->row_weights[2 * y];
            const float dy2 = p->row_weights[2 * y + 1];
            for (x = 0; x < p->output_w; ++x) {
                const int8_t *a = row1 + p->cols[2 * x];
                const int8_t *bb = row1 + p->cols[2 * x + 1];
                const int8_t *cc = row2 + p->cols[2 * x];
                const int8_t *d = row2 + p->cols[2 * x + 1];
                const float dx1 = p->col_weights[2 * x];
                const float dx2 = p->col_weights[2 * x + 1];
                const float w11 = dx2 * dy2;
                const float w21 = dx1 * dy2;
                const float w12 = dx2 * dy1;
                const float w22 = dx1 * dy1;
                for (k = 0; k < c; ++k) {
                    volatile float t11, t21, t12, t22;
                    float s;
                    if (dq) {
                        t11 = w11 * ((float)(a[k] + add) * mul);
                        t21 = w21 * ((float)(bb[k] + add) * mul);
                        t12 = w12 * ((float)(cc[k] + add) * mul);
                        t22 = w22 * ((float)(d[k] + add) * mul);
                    } else {
                        t11 = w11 * (float)(a[k] + add);
                        t21 = w21 * (float)(bb[k] + add);
                        t12 = w12 * (float)(cc[k] + add);
                        t22 = w22 * (float)(d[k] + add);
                    }
                    s = ((t11 + t21) + t12) + t22;
                    if (dq) {
                        output[k] = quantize_by_thresholds(s, p->thresholds);
                    } else {
                        int32_t v = (int32_t)s; /* toward zero */
                        v = v < lo ? lo : (v > hi ? hi : v);
                        output[k] = (int8_t)(v - p->offset);
                    }
                }
                output += c;
            }
        }
        input += image;
    }
}

void mcf_resize_bilinear_trunc_s8(const mcf_resize_bilinear_f32_params *p, const int8_t *input, int8_t *output)
{
    bilinear_walk(p, input, output, 0);
}

void mcf_resize_bilinear_dq_q_s8(const mcf_resize_bilinear_f32_params *p, const int8_t *input, int8_t *output)
{
    bilinear_walk(p, input, output, 1);
}
