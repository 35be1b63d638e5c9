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

#if MCF_REQUANT_F32_SOFT
/* One window's float32 sum from its first tap (`origin`, one channel), onnxruntime's order. */
static float mcf_avgpool_window_f32(const mcf_avgpool_f32_params *p, const int8_t *origin, int32_t rows, int32_t cols,
                                    int32_t row)
{
    const float *dq = p->dequant;
    const int32_t C = p->channels;
    float acc = 0.0f;
    int32_t y;
    for (y = 0; y < rows; ++y) {
        const int8_t *src = origin + y * row;
        int32_t x;
        for (x = 0; x < cols; ++x) {
            acc += dq[(uint8_t)src[x * C]];
        }
    }
    return acc;
}

/*
 * Without an FPU, where every window lies inside the input (fx_shift != 0): each float32 addition costs a
 * library call, so the window's bytes are summed as integers, T. The float32 result v (sum, divisions,
 * zero point) lies within a bound E of the real value V = input_scale * (T - taps * zp) / (taps *
 * output_scale) + raw zero point, which the compiler computes (pooling_f32.soft_constants: every
 * rounding is at most 2^-24 of its value's bound); g = (T - fx_base) * fx_mult + fx_add is
 * (V + 1/2) * 2^F to within 2^-20 of a unit. Where g's fraction is further than E (fx_near) from 0 and
 * from 1, floor(g / 2^F) is v rounded half to even (no rounding point, no tie between V and v);
 * elsewhere the float32 sum decides.
 */
static void mcf_avgpool_s8_f32_fixed(const mcf_avgpool_f32_params *p, const int8_t *input, int8_t *output)
{
    const int32_t C = p->channels;
    const int32_t row = p->input_w * C;
    const int32_t fh = p->filter_h, fw = p->filter_w;
    const int32_t f = p->fx_shift, base = p->fx_base, mult = p->fx_mult;
    const int64_t add = (int64_t)(((uint64_t)(uint32_t)p->fx_add_hi << 32) | (uint32_t)p->fx_add_lo);
    const uint64_t unit = (uint64_t)1 << f, near = (uint32_t)p->fx_near;
    const int32_t offset = p->offset, act_min = p->act_min, act_max = p->act_max;
    const float divisor = (float)(fh * fw);
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->input_h * row;
        int32_t oy;
        for (oy = 0; oy < p->output_h; ++oy) {
            int32_t ox;
            for (ox = 0; ox < p->output_w; ++ox) {
                const int8_t *origin = in_b + oy * p->stride_h * row + ox * p->stride_w * C;
                int32_t c;
                for (c = 0; c < C; ++c) {
                    const int8_t *src = origin + c;
                    int32_t t = 0, y, x, q;
                    int64_t g;
                    uint64_t frac;
                    for (y = 0; y < fh; ++y, src += row) {
                        for (x = 0; x < fw; ++x) {
                            t += src[x * C];
                        }
                    }
                    g = (int64_t)(t - base) * mult + add;
                    frac = (uint64_t)g & (unit - 1u);
                    if (MCF_LIKELY(frac >= near && frac < unit - near)) {
                        q = (int32_t)(g >> f);
                    } else {
                        const float v = mcf_avgpool_window_f32(p, origin + c, fh, fw, row) / divisor;
                        q = mcf_round_f32(v / p->output_scale + p->zero_point);
                    }
                    *output++ = (int8_t)mcf_clamp(q + offset, act_min, act_max);
                }
            }
        }
    }
}
#endif

void mcf_avgpool_s8_f32(const mcf_avgpool_f32_params *p, const int8_t *input, int8_t *output)
{
    const int32_t C = p->channels;
    const int32_t row = p->input_w * C;
    const float *dq = p->dequant;
    int32_t b;
#if MCF_REQUANT_F32_SOFT
    if (p->fx_shift != 0) {
        mcf_avgpool_s8_f32_fixed(p, input, output);
        return;
    }
#endif
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
