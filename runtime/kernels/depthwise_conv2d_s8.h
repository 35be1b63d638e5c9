/* depthwise_conv2d_s8.h - int8 depthwise 2-D convolution (TFLite DEPTHWISE_CONV_2D). */
#ifndef MCF_DEPTHWISE_CONV2D_S8_H
#define MCF_DEPTHWISE_CONV2D_S8_H

#include <stdint.h>

/**
 * Parameters computed by mcuforge at compile time (see generator/ops/conv.py).
 *
 * Layouts: input NHWC [batches][input_h][input_w][input_c], filter 1HWC
 * [1][filter_h][filter_w][output_c], output NHWC [batches][output_h][output_w][output_c], with
 * output_c = input_c * depth_multiplier; output channel o = c * depth_multiplier + m reads input
 * channel c only.
 *
 * Requantization: out = clamp(requant(acc, multiplier[o], shift[o]) + output_offset, act_min,
 * act_max), where acc = bias[o] + sum over the taps inside the image of w * (x + input_offset).
 * Taps outside the image contribute nothing (TFLite Micro semantics). For interior pixels the same
 * value is folded_bias[o] + sum(w * x), with folded_bias[o] = bias[o] + input_offset * sum(w[.][.][o]);
 * the kernel uses that form only when `fold_interior` is set.
 *
 * Ranges: input_offset = -input_zero_point in [-127, 128]; weights symmetric in [-128, 127];
 * -128 <= act_min <= act_max <= 127; multiplier is Q31 in [2^30, 2^31) (or 0), shift in
 * [-31, 30] (positive = left). multiplier/shift hold one entry, or output_c entries when
 * `per_channel` is set.
 *
 * Fast paths (mcf_dsp.h), `fast_layout` set; in builds with these paths `filter` then points to
 * the weights in the path's layout (uint32 words) instead of 1HWC:
 *  - depth_multiplier 1: four channels at a time, each tap's four inputs widened to int16 with
 *    the offset added (SXTAB16) and multiplied with int16 weights (SMLABB / SMLATT on cores with
 *    the DSP extension); layout mcuforge.generator.ops.conv.depthwise_fast_layout.
 *  - depth_multiplier 2 or more, filter_h * filter_w <= MCF_DW_MULT_MAX_TAPS: each input
 *    channel's window gathered once per pixel as int16 tap pairs, then one SMLAD per tap pair
 *    and output channel, two output channels per pass; layout
 *    mcuforge.generator.ops.conv.depthwise_tap_pair_layout.
 */
/** Largest window (filter_h * filter_w) of the multiplier path: its tap words take
 *  MCF_DW_MULT_MAX_TAPS * 2 bytes of stack. */
#define MCF_DW_MULT_MAX_TAPS 128

typedef struct {
    int32_t batches;
    int32_t input_h;
    int32_t input_w;
    int32_t output_h;
    int32_t output_w;
    int32_t stride_h;
    int32_t stride_w;
    int32_t dilation_h;
    int32_t dilation_w;
    int32_t pad_top;       /**< leading padding rows (SAME), 0 for VALID */
    int32_t pad_left;      /**< leading padding columns */
    int32_t input_c;
    int32_t output_c;
    int32_t filter_h;
    int32_t filter_w;
    int32_t depth_multiplier;
    int32_t input_offset;  /**< -input zero point */
    int32_t output_offset; /**< output zero point */
    int32_t act_min;
    int32_t act_max;
    int32_t per_channel;
    int32_t fold_interior; /**< folded_bias is valid for interior pixels */
    const int32_t *multiplier;
    const int32_t *shift;
    const int32_t *bias;        /**< [output_c], the model's bias (zeros when absent) */
    const int32_t *folded_bias; /**< [output_c], bias with the input offset folded in */
    int32_t fast_layout;        /**< filter is in the fast paths' layout when they are compiled */
    const int32_t *line_q;      /**< or NULL: the line path's biases and output constants: per group
                                     of four output channels their four biases, then per channel
                                     {multiplier, 2^(e-1) + output_offset * 2^e, e}, e = -shift >= 1;
                                     each of the last 1..3 channels its bias and its three. Given only
                                     where no step leaves int32 (mcuforge.generator.ops.depthwise_line) */
} mcf_depthwise_conv2d_params;

/** Depthwise-convolves `input` with `filter` (layouts above) into `output`, on the path the
 *  parameters select at run time: with it every path is linked. */
void mcf_depthwise_conv2d_s8(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                             const int8_t *filter, int8_t *output);

/*
 * One path each, as mcuforge chooses it at compile time (generated code calls these, so that a
 * firmware links only the paths its model uses, with -ffunction-sections and --gc-sections).
 * Builds without the fast paths (-DMCF_PORTABLE_KERNELS) run the reference loop in all of them.
 *  - _ref: the reference loop (filter 1HWC).
 *  - _fast_full / _fast_clamp: the fast path (`fast_layout` set, depth multiplier 1); _full requires
 *    act_min == -128 and act_max == 127, _clamp takes any activation range.
 *  - _small_full / _small_clamp: the fast path for a 3x3 filter (depth multiplier 1, channel
 *    counts not a multiple of four, or eight: the layout of _fast), windows inside the image inline
 *    in the pixel loop; other filters take _fast.
 *  - _line_full / _line_clamp: the fast path's layout and `line_q` set, depth multiplier 1, a
 *    window of one row or one column: the taps of each pixel along that line, two per pass, and a
 *    short output stage (Arm builds with the fast paths; others take _fast).
 *  - _mult_full / _mult_clamp: the same for a depth multiplier of 2 or more (`fast_layout` set,
 *    filter_h * filter_w <= MCF_DW_MULT_MAX_TAPS, the filter in the tap-pair layout).
 */
void mcf_depthwise_conv2d_s8_ref(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                 const int8_t *filter, int8_t *output);
void mcf_depthwise_conv2d_s8_fast_full(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                       const int8_t *filter, int8_t *output);
void mcf_depthwise_conv2d_s8_fast_clamp(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                        const int8_t *filter, int8_t *output);
void mcf_depthwise_conv2d_s8_small_full(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                        const int8_t *filter, int8_t *output);
void mcf_depthwise_conv2d_s8_small_clamp(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                         const int8_t *filter, int8_t *output);
void mcf_depthwise_conv2d_s8_line_full(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                       const int8_t *filter, int8_t *output);
void mcf_depthwise_conv2d_s8_line_clamp(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                        const int8_t *filter, int8_t *output);
void mcf_depthwise_conv2d_s8_mult_full(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                       const int8_t *filter, int8_t *output);
void mcf_depthwise_conv2d_s8_mult_clamp(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                        const int8_t *filter, int8_t *output);

#endif /* MCF_DEPTHWISE_CONV2D_S8_H */
