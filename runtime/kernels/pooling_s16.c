/* pooling_s16.c - int16 average and max pooling, NHWC: output pixels in raster order, all
 * channels of one pixel from its window clipped to the input. */
#include "pooling_s16.h"

#include "mcf_common.h"

static void mcf_pool_s16(const mcf_pool_params *p, int32_t is_max, const int16_t *input,
                         int16_t *output)
{
    const int32_t C = p->channels;
    const int32_t row = p->input_w * C;
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int16_t *in_b = input + b * p->input_h * row;
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
                const int32_t count = (y1 - y0) * (x1 - x0);
                const int32_t half = count / 2;
                const int16_t *origin = in_b + (iy + y0) * row + (ix + x0) * C;
                int32_t c;
                for (c = 0; c < C; ++c) {
                    /* |sum| <= 32768 * count, and the compiler keeps count below 2^16 */
                    int32_t acc = is_max ? -32768 : 0;
                    int32_t y;
                    for (y = 0; y < y1 - y0; ++y) {
                        const int16_t *src = origin + y * row + c;
                        int32_t x;
                        if (is_max) {
                            for (x = 0; x < x1 - x0; ++x) {
                                acc = MCF_MAX(acc, (int32_t)src[x * C]);
                            }
                        } else {
                            for (x = 0; x < x1 - x0; ++x) {
                                acc += src[x * C];
                            }
                        }
                    }
                    if (!is_max) {
                        /* C division truncates toward zero: +-half first rounds halves away */
                        acc = (acc > 0 ? acc + half : acc - half) / count;
                    }
                    *output++ = (int16_t)mcf_clamp(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}

void mcf_avgpool_s16(const mcf_pool_params *p, const int16_t *input, int16_t *output)
{
    mcf_pool_s16(p, 0, input, output);
}

void mcf_maxpool_s16(const mcf_pool_params *p, const int16_t *input, int16_t *output)
{
    mcf_pool_s16(p, 1, input, output);
}
