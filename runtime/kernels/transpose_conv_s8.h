/* transpose_conv_s8.h - int8 transposed convolution (TFLite TRANSPOSE_CONV). */
#ifndef MCF_TRANSPOSE_CONV_S8_H
#define MCF_TRANSPOSE_CONV_S8_H

#include <stdint.h>

/**
 * Layouts: input NHWC, filter OHWI [output_c][filter_h][filter_w][input_c], output NHWC.
 * Output pixel (oy, ox) receives input pixel (iy, ix) through filter tap (fy, fx) when
 * fy = oy + pad_top - iy * stride_h and fx = ox + pad_left - ix * stride_w are inside the filter.
 * rows[3 * oy .. 3 * oy + 2] = (first such iy, how many, its fy); fy falls by stride_h for each
 * next iy. cols the same for ox. Computed by mcuforge (generator/ops/transpose_conv.py).
 *
 * out = clamp(requant(bias[o] + sum over those taps and input channels of (x + input_offset) * w,
 *                     multiplier[o], shift[o]) + output_offset, act_min, act_max)
 * computed as the sum over the taps of (sum over input channels of x * w) + tap_offset[o][fy][fx],
 * where tap_offset = input_offset * (sum over input channels of w).
 * multiplier/shift hold one entry, or output_c when `per_channel` is set; bias is zeros when the
 * model has none.
 */
typedef struct {
    int32_t batches;
    int32_t input_h;
    int32_t input_w;
    int32_t input_c;
    int32_t output_h;
    int32_t output_w;
    int32_t output_c;
    int32_t filter_h;
    int32_t filter_w;
    int32_t stride_h;
    int32_t stride_w;
    int32_t input_offset;  /**< -input zero point */
    int32_t output_offset; /**< output zero point */
    int32_t act_min;
    int32_t act_max;
    int32_t per_channel;
    const int32_t *multiplier;
    const int32_t *shift;
    const int32_t *bias;
    const int32_t *rows;
    const int32_t *cols;
    const int32_t *tap_offset; /**< [output_c][filter_h][filter_w] */
} mcf_transpose_conv_params;

void mcf_transpose_conv_s8(const mcf_transpose_conv_params *p, const int8_t *input, const int8_t *filter,
                           int8_t *output);

#endif /* MCF_TRANSPOSE_CONV_S8_H */
