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


/* scratch[i] = maximum over `rows` input rows (`row` bytes apart, from src) of byte i, for the
 * first n bytes of the row: the window's vertical pass, every column and channel at once. */
static void mcf_pool_rowmax(const int8_t *src, int32_t rows, int32_t row, int32_t n, int8_t *scratch)
{
    int32_t i = 0;
#if MCF_KERNELS_DSP
    for (; i + 4 <= n; i += 4) {
        const int8_t *s = src + i;
        uint32_t m = mcf_read_u32(s);
        int32_t y;
        for (y = 1; y < rows; ++y) {
            s += row;
            m = mcf_max4_s8(m, mcf_read_u32(s));
        }
        mcf_write_u32(scratch + i, m);
    }
#endif
    for (; i < n; ++i) {
        const int8_t *s = src + i;
        int32_t best = *s;
        int32_t y;
        for (y = 1; y < rows; ++y) {
            s += row;
            best = MCF_MAX(best, (int32_t)*s);
        }
        scratch[i] = (int8_t)best;
    }
}

/* The two passes of mcf_maxpool_s8_rows, colmax holding one row's column maxima. All of an output
 * row's input rows are read before any of its pixels is written, so an output that overlaps its dying
 * input (the planner's window_min_shift for the direct loop's order) never overwrites a byte still to
 * be read: each output row is written later here than there, after the same reads or more. */
static void mcf_maxpool_s8_passes(const mcf_pool_params *p, const int8_t *input, int8_t *output, int8_t *colmax)
{
    const int32_t C = p->channels;
    const int32_t row = p->input_w * C;
    /* bytes of each input row that some window reads */
    const int32_t used = MCF_MIN(p->input_w, (p->output_w - 1) * p->stride_w - p->pad_left + p->filter_w) * C;
#if MCF_KERNELS_DSP
    const uint32_t lo4 = (uint32_t)(uint8_t)(int8_t)p->act_min * 0x01010101u;
    const uint32_t hi4 = (uint32_t)(uint8_t)(int8_t)p->act_max * 0x01010101u;
    const int clamp4 = p->act_min > -128 || p->act_max < 127;
#endif
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->input_h * row;
        int32_t oy;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t iy = oy * p->stride_h - p->pad_top;
            const int32_t y0 = MCF_MAX(0, -iy);
            const int32_t y1 = MCF_MIN(p->filter_h, p->input_h - iy);
            int32_t ox;
            mcf_pool_rowmax(in_b + (iy + y0) * row, y1 - y0, row, used, colmax);
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t ix = ox * p->stride_w - p->pad_left;
                const int32_t x0 = MCF_MAX(0, -ix);
                const int32_t cols = MCF_MIN(p->filter_w, p->input_w - ix) - x0;
                const int8_t *first = colmax + (ix + x0) * C;
                int32_t c = 0;
#if MCF_KERNELS_DSP
                for (; c + 4 <= C; c += 4) {
                    const int8_t *s = first + c;
                    uint32_t m = mcf_read_u32(s);
                    int32_t x;
                    for (x = 1; x < cols; ++x) {
                        s += C;
                        m = mcf_max4_s8(m, mcf_read_u32(s));
                    }
                    if (clamp4) {
                        m = mcf_min4_s8(mcf_max4_s8(m, lo4), hi4);
                    }
                    mcf_write_u32(output, m);
                    output += 4;
                }
#endif
                for (; c < C; ++c) {
                    const int8_t *s = first + c;
                    int32_t best = *s;
                    int32_t x;
                    for (x = 1; x < cols; ++x) {
                        s += C;
                        best = MCF_MAX(best, (int32_t)*s);
                    }
                    *output++ = (int8_t)mcf_clamp(best, p->act_min, p->act_max);
                }
            }
        }
    }
}

void mcf_maxpool_s8_rows(const mcf_pool_params *p, const int8_t *input, int8_t *output, void *scratch)
{
    mcf_maxpool_s8_passes(p, input, output, (int8_t *)scratch);
}

void mcf_maxpool_s8_rows_stack(const mcf_pool_params *p, const int8_t *input, int8_t *output)
{
    uint32_t colmax[MCF_POOL_ROW_STACK_BYTES / 4]; /* words: 4-byte aligned */
    mcf_maxpool_s8_passes(p, input, output, (int8_t *)colmax);
}
