/* resize_s8_f32.c - onnxruntime's linear Resize of quantized data from precomputed tables, in float32. */
#include "resize_s8_f32.h"

/* The products go through volatile storage so that no compiler fuses a product and the following
 * addition into one multiply-add (GCC contracts across statements in GNU C mode): onnxruntime rounds
 * each product to float32 before adding it. Without an FPU these are libgcc's IEEE single-precision
 * routines, which round alike. */
void mcf_resize_bilinear_trunc_s8(const mcf_resize_bilinear_f32_params *p, const int8_t *input, int8_t *output)
{
    const int32_t c = p->channels;
    const int32_t image = p->input_h * p->input_w * c;
    const int32_t off = p->offset;
    const int32_t lo = -128 + off;
    const int32_t hi = 127 + off;
    int32_t b, y, x, k;
    for (b = 0; b < p->batches; ++b) {
        for (y = 0; y < p->output_h; ++y) {
            const int8_t *row1 = input + p->rows[2 * y];
            const int8_t *row2 = input + p->rows[2 * y + 1];
            const float dy1 = p->row_weights[2 * y];
            const float dy2 = p->row_weights[2 * y + 1];
            for (x = 0; x < p->output_w; ++x) {
                const int32_t c1 = p->cols[2 * x];
                const int32_t c2 = p->cols[2 * x + 1];
                const float dx1 = p->col_weights[2 * x];
                const float dx2 = p->col_weights[2 * x + 1];
                const float w11 = dx2 * dy2;
                const float w21 = dx1 * dy2;
                const float w12 = dx2 * dy1;
                const float w22 = dx1 * dy1;
                for (k = 0; k < c; ++k) {
                    volatile float t11, t21, t12, t22;
                    float s;
                    int32_t v;
                    t11 = w11 * (float)(row1[c1 + k] + off);
                    t21 = w21 * (float)(row1[c2 + k] + off);
                    t12 = w12 * (float)(row2[c1 + k] + off);
                    t22 = w22 * (float)(row2[c2 + k] + off);
                    s = ((t11 + t21) + t12) + t22;
                    v = (int32_t)s; /* toward zero */
                    v = v < lo ? lo : (v > hi ? hi : v);
                    output[k] = (int8_t)(v - off);
                }
                output += c;
            }
        }
        input += image;
    }
}

void mcf_resize_bilinear_dq_q_s8(const mcf_resize_bilinear_dq_params *p, const int8_t *input, int8_t *output)
{
    const int32_t c = p->channels;
    const int32_t image = p->input_h * p->input_w * c;
    const int32_t zp = p->input_zero_point;
    const float scale = p->input_scale;
    const float *t = p->thresholds;
    int32_t b, y, x, k;
    for (b = 0; b < p->batches; ++b) {
        for (y = 0; y < p->output_h; ++y) {
            const int8_t *row1 = input + p->rows[2 * y];
            const int8_t *row2 = input + p->rows[2 * y + 1];
            const float dy1 = p->row_weights[2 * y];
            const float dy2 = p->row_weights[2 * y + 1];
            for (x = 0; x < p->output_w; ++x) {
                const int32_t c1 = p->cols[2 * x];
                const int32_t c2 = p->cols[2 * x + 1];
                const float dx1 = p->col_weights[2 * x];
                const float dx2 = p->col_weights[2 * x + 1];
                const float w11 = dx2 * dy2;
                const float w21 = dx1 * dy2;
                const float w12 = dx2 * dy1;
                const float w22 = dx1 * dy1;
                for (k = 0; k < c; ++k) {
                    volatile float t11, t21, t12, t22;
                    float s;
                    int32_t i, step;
                    t11 = w11 * ((float)(row1[c1 + k] - zp) * scale);
                    t21 = w21 * ((float)(row1[c2 + k] - zp) * scale);
                    t12 = w12 * ((float)(row2[c1 + k] - zp) * scale);
                    t22 = w22 * ((float)(row2[c2 + k] - zp) * scale);
                    s = ((t11 + t21) + t12) + t22;
                    /* how many thresholds s reaches: i ends in 0..255 */
                    i = 0;
                    for (step = 128; step > 0; step >>= 1) {
                        if (s >= t[i + step - 1]) {
                            i += step;
                        }
                    }
                    output[k] = (int8_t)(i - 128);
                }
                output += c;
            }
        }
        input += image;
    }
}
