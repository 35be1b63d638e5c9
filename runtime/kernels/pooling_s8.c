/* pooling_s8.c - portable int8 average and max pooling over NHWC tensors. */
#include "pooling_s8.h"

#include "mcf_common.h"

/* Window of output pixel (oy, ox) clipped to the input: rows [*y0, *y1), columns [*x0, *x1),
 * relative to the window origin (iy, ix), which may lie in the padding. */
static void mcf_pool_window(const mcf_pool_params *p, int32_t oy, int32_t ox, int32_t *iy, int32_t *ix,
                            int32_t *y0, int32_t *y1, int32_t *x0, int32_t *x1)
{
    *iy = oy * p->stride_h - p->pad_top;
    *ix = ox * p->stride_w - p->pad_left;
    *y0 = MCF_MAX(0, -*iy);
    *y1 = MCF_MIN(p->filter_h, p->input_h - *iy);
    *x0 = MCF_MAX(0, -*ix);
    *x1 = MCF_MIN(p->filter_w, p->input_w - *ix);
}

void mcf_avgpool_s8(const mcf_pool_params *p, const int8_t *input, int8_t *output)
{
    const int32_t C = p->channels;
    const int32_t row = p->input_w * C;
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->input_h * row;
        int32_t oy;
        for (oy = 0; oy < p->output_h; ++oy) {
            int32_t ox;
            for (ox = 0; ox < p->output_w; ++ox) {
                int32_t iy, ix, y0, y1, x0, x1, count, half, c;
                const int8_t *origin;
                mcf_pool_window(p, oy, ox, &iy, &ix, &y0, &y1, &x0, &x1);
                count = (y1 - y0) * (x1 - x0);
                half = count / 2;
                origin = in_b + (iy + y0) * row + (ix + x0) * C;
                for (c = 0; c < C; ++c) {
                    /* |sum| <= 128 * count and the compiler checked count < 2^24: no overflow. */
                    int32_t sum = 0;
                    int32_t y;
                    for (y = 0; y < y1 - y0; ++y) {
                        const int8_t *src = origin + y * row + c;
                        int32_t x;
                        for (x = 0; x < x1 - x0; ++x) {
                            sum += src[x * C];
                        }
                    }
                    /* C division truncates toward zero, so +-half rounds halves away from zero. */
                    sum = (sum > 0 ? sum + half : sum - half) / count;
                    *output++ = (int8_t)mcf_clamp(sum, p->act_min, p->act_max);
                }
            }
        }
    }
}

void mcf_maxpool_s8(const mcf_pool_params *p, const int8_t *input, int8_t *output)
{
    const int32_t C = p->channels;
    const int32_t row = p->input_w * C;
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->input_h * row;
        int32_t oy;
        for (oy = 0; oy < p->output_h; ++oy) {
            int32_t ox;
            for (ox = 0; ox < p->output_w; ++ox) {
                int32_t iy, ix, y0, y1, x0, x1, c;
                const int8_t *origin;
                mcf_pool_window(p, oy, ox, &iy, &ix, &y0, &y1, &x0, &x1);
                origin = in_b + (iy + y0) * row + (ix + x0) * C;
                for (c = 0; c < C; ++c) {
                    int32_t best = -128;
                    int32_t y;
                    for (y = 0; y < y1 - y0; ++y) {
                        const int8_t *src = origin + y * row + c;
                        int32_t x;
                        for (x = 0; x < x1 - x0; ++x) {
                            best = MCF_MAX(best, (int32_t)src[x * C]);
                        }
                    }
                    *output++ = (int8_t)mcf_clamp(best, p->act_min, p->act_max);
                }
            }
        }
    }
}
