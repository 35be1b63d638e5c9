/*
 * pooling_s8_f32.c - int8 average pooling with onnxruntime's float32 arithmetic (QLinearAveragePool,
 * and the DequantizeLinear -> AveragePool -> QuantizeLinear pattern onnxruntime fuses into it).
 *
 * The result depends on the order of the float additions, so the window is summed as onnxruntime
 * sums it: rows top to bottom, each row left to right, starting from 0.0f. The two divisions (by the
 * count, by the output scale) are IEEE divisions, once per output value, because a multiplication
 * by a reciprocal rounds differently; the zero point is added in float32 before rounding, as
 * onnxruntime does (mcf_round_f32 rounds half to even).
 */
#include "pooling_s8_f32.h"

#include "mcf_common.h"

void mcf_avgpool_s8_f32(const mcf_avgpool_f32_params *p, const int8_t *input, int8_t *output)
{
    const int32_t C = p->channels;
    const int32_t row = p->input_w * C;
    const float *dq = p->dequant;
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->input_h * row;
        int32_t oy;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t iy = oy * p->stride_h - p->pad_top;
            const int32_t y0 = MCF_MAX(0, -iy);
            const int32_t y1 = MCF_MIN(p->filter_h, p->input_h - iy);
            int32_t ox;
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t ix = ox * p->stride_w - p->pad_left;
                const int32_t x0 = MCF_MAX(0, -ix);
                const int32_t x1 = MCF_MIN(p->filter_w, p->input_w - ix);
                const int32_t rows = y1 - y0;
                const int32_t cols = x1 - x0;
                const float divisor = (float)(p->count ? p->count : rows * cols);
                const int8_t *origin = in_b + (iy + y0) * row + (ix + x0) * C;
                int32_t c;
                for (c = 0; c < C; ++c) {
                    float acc = 0.0f;
                    float v;
                    int32_t y;
                    for (y = 0; y < rows; ++y) {
                        const int8_t *src = origin + y * row + c;
                        int32_t x;
                        for (x = 0; x < cols; ++x) {
                            acc += dq[(uint8_t)src[x * C]];
                        }
                    }
                    v = acc / divisor;
                    v = v / p->output_scale + p->zero_point;
                    *output++ = (int8_t)mcf_clamp(mcf_round_f32(v) + p->offset, p->act_min, p->act_max);
                }
            }
        }
    }
}
