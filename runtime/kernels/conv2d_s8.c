/* conv2d_s8.c - portable int8 2-D convolution. */
#include "conv2d_s8.h"

#include "mcf_common.h"

void mcf_conv2d_s8(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter,
                   int8_t *output)
{
    const int32_t in_row = p->input_w * p->input_c;             /* elements per input row */
    const int32_t tap_step_y = p->dilation_h * in_row;          /* input step between tap rows */
    const int32_t tap_step_x = p->dilation_w * p->input_c;      /* input step between tap columns */
    const int32_t filter_row = p->filter_w * p->filter_c;
    const int32_t filter_size = p->filter_h * filter_row;       /* weights per output channel */
    const int32_t out_per_group = p->output_c / p->groups;
    const int32_t fc = p->filter_c;
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
                int32_t g;
                mcf_tap_range(ix0, p->input_w, p->filter_w, p->dilation_w, &kx_lo, &kx_hi);
                interior = p->fold_interior && ky_lo == 0 && ky_hi == p->filter_h && kx_lo == 0 &&
                           kx_hi == p->filter_w;
                px = iy0 * in_row + ix0 * p->input_c;
                for (g = 0; g < p->groups; ++g) {
                    int32_t oc;
                    for (oc = g * out_per_group; oc < (g + 1) * out_per_group; ++oc) {
                        const int8_t *w_oc = filter + oc * filter_size;
                        const int32_t ch = p->per_channel ? oc : 0;
                        int32_t acc = interior ? p->folded_bias[oc] : p->bias[oc];
                        int32_t ky, kx, i;
                        for (ky = ky_lo; ky < ky_hi; ++ky) {
                            for (kx = kx_lo; kx < kx_hi; ++kx) {
                                const int8_t *x =
                                    in_b + (px + ky * tap_step_y + kx * tap_step_x + g * fc);
                                const int8_t *w = w_oc + (ky * filter_row + kx * fc);
                                if (interior) {
                                    /* |w * x| <= 2^14: the taps' sum fits int32 for filter_size
                                     * < 2^17, and folded_bias + sum equals the unfolded value. */
                                    for (i = 0; i < fc; ++i) {
                                        acc += (int32_t)w[i] * (int32_t)x[i];
                                    }
                                } else {
                                    /* |w * (x + input_offset)| <= 128 * 255 < 2^15: the sum fits
                                     * int32 for filter_size < 2^16 (TFLite Micro's bound too). */
                                    for (i = 0; i < fc; ++i) {
                                        acc += (int32_t)w[i] * ((int32_t)x[i] + input_offset);
                                    }
                                }
                            }
                        }
                        acc = mcf_requantize(acc, p->multiplier[ch], p->shift[ch]) + p->output_offset;
                        *output++ = (int8_t)mcf_clamp(acc, p->act_min, p->act_max);
                    }
                }
            }
        }
    }
}
