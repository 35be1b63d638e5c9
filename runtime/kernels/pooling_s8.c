/* pooling_s8.c - portable int8 average and max pooling over NHWC tensors. */
#include "pooling_s8.h"

#include "mcf_common.h"
#include "mcf_dsp.h"

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

/* The window's mean, rounded like TFLite (halves away from zero), clamped to the activation. C
 * division truncates toward zero, so adding +-half first rounds halves away from zero. */
static int8_t mcf_pool_mean(int32_t sum, int32_t count, const mcf_pool_params *p)
{
    const int32_t half = count / 2;
    sum = (sum > 0 ? sum + half : sum - half) / count;
    return (int8_t)mcf_clamp(sum, p->act_min, p->act_max);
}

#if MCF_KERNELS_DSP
/* Bits 0-15 of h as a signed 16-bit value. */
static int32_t mcf_pool_s16(uint32_t h)
{
    h &= 0xFFFFu;
    return h < 0x8000u ? (int32_t)h : (int32_t)h - 65536;
}

/* Window sums of four adjacent channels: each SXTAB16 adds two sign-extended bytes of a word to
 * two 16-bit lanes (channels 0 and 2 in `even`, 1 and 3 in `odd`), one load per four values. A
 * lane's magnitude stays below count * 128 <= 255 * 128 = 32640 (the caller checks count <= 255),
 * so the 16-bit sums are exact. */
static void mcf_pool_sum4(const int8_t *origin, int32_t rows, int32_t cols, int32_t row, int32_t C,
                          int32_t sums[4])
{
    uint32_t even = 0u;
    uint32_t odd = 0u;
    int32_t y;
    for (y = 0; y < rows; ++y) {
        const int8_t *src = origin + y * row;
        int32_t x;
        for (x = 0; x < cols; ++x) {
            const uint32_t w = mcf_read_u32(src + x * C);
            even = mcf_sxtab16(even, w);
            odd = mcf_sxtab16_ror8(odd, w);
        }
    }
    sums[0] = mcf_pool_s16(even);
    sums[1] = mcf_pool_s16(odd);
    sums[2] = mcf_pool_s16(even >> 16);
    sums[3] = mcf_pool_s16(odd >> 16);
}
#endif

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
                int32_t iy, ix, y0, y1, x0, x1, count, c = 0;
                const int8_t *origin;
                mcf_pool_window(p, oy, ox, &iy, &ix, &y0, &y1, &x0, &x1);
                count = (y1 - y0) * (x1 - x0);
                origin = in_b + (iy + y0) * row + (ix + x0) * C;
#if MCF_KERNELS_DSP
                if (count <= 255) {
                    for (; c + 4 <= C; c += 4) {
                        int32_t sums[4];
                        int32_t k;
                        mcf_pool_sum4(origin + c, y1 - y0, x1 - x0, row, C, sums);
                        for (k = 0; k < 4; ++k) {
                            *output++ = mcf_pool_mean(sums[k], count, p);
                        }
                    }
                }
#endif
                for (; c < C; ++c) {
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
                    *output++ = mcf_pool_mean(sum, count, p);
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
