/* transpose_conv_s8.c - portable int8 transposed convolution, gathered per output pixel. */
#include "transpose_conv_s8.h"

#include "mcf_common.h"

/* sum over k < n of (x[k] + offset) * w[k] */
static inline int32_t mcf_tconv_dot(const int8_t *x, const int8_t *w, int32_t n, int32_t offset)
{
    int32_t acc = 0;
    int32_t k;
    for (k = 0; k < n; ++k) {
        acc += (x[k] + offset) * w[k];
    }
    return acc;
}

void mcf_transpose_conv_s8(const mcf_transpose_conv_params *p, const int8_t *input, const int8_t *filter,
                           int8_t *output)
{
    const int32_t ic = p->input_c;
    const int32_t in_row = p->input_w * ic;
    const int32_t filter_row = p->filter_w * ic;
    const int32_t filter_size = p->filter_h * filter_row;
    const int32_t fy_step = p->stride_h * filter_row; /* filter elements back per next input row */
    const int32_t fx_step = p->stride_w * ic;
    int32_t b, oy, ox, o, ty, tx;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->input_h * in_row;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t *r = p->rows + 3 * oy;
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t *c = p->cols + 3 * ox;
                const int8_t *x0 = image + r[0] * in_row + c[0] * ic;
                const int32_t w0 = r[2] * filter_row + c[2] * ic;
                for (o = 0; o < p->output_c; ++o) {
                    const int8_t *wo = filter + o * filter_size + w0;
                    const int32_t q = p->per_channel ? o : 0;
                    int32_t acc = p->bias[o];
                    for (ty = 0; ty < r[1]; ++ty) {
                        const int8_t *x = x0 + ty * in_row;
                        const int8_t *w = wo - ty * fy_step;
                        for (tx = 0; tx < c[1]; ++tx) {
                            acc += mcf_tconv_dot(x + tx * ic, w - tx * fx_step, ic, p->input_offset);
                        }
                    }
                    acc = mcf_requantize(acc, p->multiplier[q], p->shift[q]) + p->output_offset;
                    *output++ = (int8_t)mcf_clamp(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}
