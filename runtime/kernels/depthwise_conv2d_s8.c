/* depthwise_conv2d_s8.c - portable int8 depthwise 2-D convolution. */
#include "depthwise_conv2d_s8.h"

#include "mcf_common.h"

void mcf_depthwise_conv2d_s8(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                             const int8_t *filter, int8_t *output)
{
    const int32_t ic_count = p->input_c;
    const int32_t oc_count = p->output_c;
    const int32_t mult = p->depth_multiplier;
    const int32_t in_row = p->input_w * ic_count;         /* elements per input row */
    const int32_t tap_step_y = p->dilation_h * in_row;    /* input step between tap rows */
    const int32_t tap_step_x = p->dilation_w * ic_count;  /* input step between tap columns */
    const int32_t filter_row = p->filter_w * oc_count;    /* filter step between tap rows */
    const int32_t input_offset = p->input_offset;
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->input_h * in_row;
        int32_t oy;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            int32_t ky_lo, ky_hi;
            int32_t ox;
            mcf_tap_range(iy0, p->input_h, p->filter_h, p->dilation_h, &ky_lo, &ky_hi);
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                int32_t kx_lo, kx_hi;
                int32_t interior;
                int32_t px; /* offset of the window's (0, 0) tap; negative when it lies outside */
                int32_t ic;
                mcf_tap_range(ix0, p->input_w, p->filter_w, p->dilation_w, &kx_lo, &kx_hi);
                interior = p->fold_interior && ky_lo == 0 && ky_hi == p->filter_h && kx_lo == 0 &&
                           kx_hi == p->filter_w;
                px = iy0 * in_row + ix0 * ic_count;
                for (ic = 0; ic < ic_count; ++ic) {
                    int32_t m;
                    for (m = 0; m < mult; ++m) {
                        const int32_t oc = ic * mult + m;
                        const int32_t ch = p->per_channel ? oc : 0;
                        int32_t acc;
                        int32_t ky, kx;
                        if (interior) {
                            /* |w * x| <= 2^14: the taps' sum fits int32 for filter_h * filter_w
                             * < 2^17, and folded_bias + sum equals the unfolded value. */
                            acc = p->folded_bias[oc];
                            for (ky = 0; ky < p->filter_h; ++ky) {
                                const int8_t *x = in_b + (px + ky * tap_step_y + ic);
                                const int8_t *w = filter + (ky * filter_row + oc);
                                for (kx = 0; kx < p->filter_w; ++kx) {
                                    acc += (int32_t)w[kx * oc_count] * (int32_t)x[kx * tap_step_x];
                                }
                            }
                        } else {
                            /* |w * (x + input_offset)| <= 128 * 255 < 2^15: the sum fits int32
                             * for filter_h * filter_w < 2^16 (TFLite Micro's bound too). */
                            acc = p->bias[oc];
                            for (ky = ky_lo; ky < ky_hi; ++ky) {
                                for (kx = kx_lo; kx < kx_hi; ++kx) {
                                    const int32_t xv =
                                        in_b[px + ky * tap_step_y + kx * tap_step_x + ic];
                                    const int32_t wv = filter[ky * filter_row + kx * oc_count + oc];
                                    acc += wv * (xv + input_offset);
                                }
                            }
                        }
                        acc = mcf_requantize(acc, p->multiplier[ch], p->shift[ch]) + p->output_offset;
                        output[oc] = (int8_t)mcf_clamp(acc, p->act_min, p->act_max);
                    }
                }
                output += oc_count;
            }
        }
    }
}
