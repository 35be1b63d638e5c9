/* resize_s8_q10.c - onnxruntime's 8-bit linear Resize on NHWC data (1/1024 weights, toward zero). */
#include "resize_s8_q10.h"

void mcf_resize_bilinear_q10_s8(const mcf_resize_bilinear_q10_params *p, const int8_t *input, int8_t *output)
{
    const int32_t c = p->channels;
    const int32_t image = p->input_h * p->input_w * c;
    const int32_t off = p->offset;
    int32_t b, y, x, k;
    for (b = 0; b < p->batches; ++b) {
        for (y = 0; y < p->output_h; ++y) {
            const int8_t *row1 = input + p->rows[4 * y];
            const int8_t *row2 = input + p->rows[4 * y + 1];
            const int32_t dy1 = p->rows[4 * y + 2];
            const int32_t dy2 = p->rows[4 * y + 3];
            for (x = 0; x < p->output_w; ++x) {
                const int8_t *a = row1 + p->cols[4 * x];
                const int8_t *bb = row1 + p->cols[4 * x + 1];
                const int8_t *cc = row2 + p->cols[4 * x];
                const int8_t *d = row2 + p->cols[4 * x + 1];
                const int32_t dx1 = p->cols[4 * x + 2];
                const int32_t dx2 = p->cols[4 * x + 3];
                const int32_t w11 = dx2 * dy2;
                const int32_t w21 = dx1 * dy2;
                const int32_t w12 = dx2 * dy1;
                const int32_t w22 = dx1 * dy1;
                for (k = 0; k < c; ++k) {
                    const int32_t s = w11 * (a[k] + off) + w21 * (bb[k] + off) + w12 * (cc[k] + off)
                                      + w22 * (d[k] + off);
                    /* a weighted mean of the four values: no saturation needed */
                    const int32_t v = s >= 0 ? (s >> 20) : -((-s) >> 20);
                    output[k] = (int8_t)(v - off);
                }
                output += c;
            }
        }
        input += image;
    }
}
