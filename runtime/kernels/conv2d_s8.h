/* conv2d_s8.h - int8 2-D convolution (TFLite CONV_2D, grouped convolution included). */
#ifndef MCF_CONV2D_S8_H
#define MCF_CONV2D_S8_H

#include <stdint.h>

/**
 * Parameters computed by mcuforge at compile time (see generator/ops/conv.py).
 *
 * Layouts: input NHWC [batches][input_h][input_w][input_c], filter OHWI
 * [output_c][filter_h][filter_w][filter_c], output NHWC [batches][output_h][output_w][output_c].
 * Grouped convolution: input_c = groups * filter_c; output channel o reads input channels
 * [g * filter_c, (g + 1) * filter_c) with g = o / (output_c / groups).
 *
 * Requantization: out = clamp(requant(acc, multiplier[o], shift[o]) + output_offset, act_min,
 * act_max), where acc = bias[o] + sum over the taps inside the image of w * (x + input_offset).
 * Taps outside the image contribute nothing (TFLite Micro semantics). For interior pixels the same
 * value is folded_bias[o] + sum(w * x), with folded_bias[o] = bias[o] + input_offset * sum(w[o]);
 * the kernel uses that form only when `fold_interior` is set.
 *
 * Ranges: input_offset = -input_zero_point in [-127, 128]; weights symmetric in [-128, 127];
 * -128 <= act_min <= act_max <= 127; multiplier is Q31 in [2^30, 2^31) (or 0), shift in
 * [-31, 30] (positive = left). multiplier/shift hold one entry, or output_c entries when
 * `per_channel` is set.
 *
 * Fast paths (mcf_dsp.h), both reading `filter` in the channel-pair layout (uint32 words; see
 * mcuforge.generator.ops.conv.channel_pair_layout) in builds that compile them:
 *  - im2col, when `scratch` is set (groups == 1): output pixels are processed in pairs, their
 *    windows copied into `scratch` as int16 columns (x + input_offset, 0 for padding taps), then a
 *    matrix product over K = filter_h * filter_w * filter_c computes two output channels of both
 *    pixels per pass, with SMLAD on cores with the DSP extension. `scratch` holds
 *    MCF_CONV2D_SCRATCH_BYTES(K, filter_c) bytes, 4-byte aligned (planned in the arena).
 *    With `inplace` instead of `scratch` (a convolution whose input dies with it), the columns
 *    (`inplace` bytes, MCF_CONV2D_SCRATCH_BYTES) live in bytes free at the time: the end of the
 *    output not written yet, else the start of the input already consumed (before the current
 *    window's first row). The input's bytes are overwritten.
 *  - direct, when `scratch` is NULL and `fast_layout` is set (groups == 1, filter_c % 4 == 0,
 *    dilation_w == 1): four output channels of one pixel per pass, each window row read in place
 *    (x + input_offset widened four at a time). No scratch memory; about 1.4 times the im2col
 *    path's inner-loop instructions.
 */
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
    int32_t filter_c;      /**< input channels per group */
    int32_t groups;        /**< input_c / filter_c */
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
    int16_t *scratch;           /**< im2col columns for the fast paths, or NULL */
    int32_t fast_layout;        /**< without scratch: the direct fast path may run (see above) */
    int32_t inplace;            /**< bytes of in-place im2col columns (see above), or 0 */
    const int32_t *c1_out;      /**< one-input-channel path: per output channel {multiplier,
                                     2^(e-1) + output_offset * 2^e, e} with e = -shift >= 1, or NULL */
    const int32_t *pw_out;      /**< pointwise path: the same three constants per output channel, for
                                     sums that start at folded_bias, or NULL */
} mcf_conv2d_params;

/** Scratch bytes of the fast paths: ceil(K / 4) groups of 4 int16, rounded up to an even
 *  number, for each of the two pixels, plus K int16 for assembling a window when filter_c is
 *  not a multiple of 4. */
#define MCF_CONV2D_SCRATCH_BYTES(K, filter_c) \
    (32 * (((K) + 7) / 8) + (((filter_c) % 4) != 0 ? 4 * (((K) + 1) / 2) : 0))

/** Largest K = filter_h * filter_w * filter_c of the stack path (its columns take
 *  MCF_CONV2D_SCRATCH_BYTES(K, 1) = 768 bytes of stack). */
#define MCF_CONV2D_STACK_MAX_K 128

/** Convolves `input` with `filter` (layouts above) into `output`, on the path the parameters
 *  select at run time: with it every path is linked. */
void mcf_conv2d_s8(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter,
                   int8_t *output);

/*
 * One path each, as mcuforge chooses it at compile time (generated code calls these, so that a
 * firmware links the paths its model uses only; with -ffunction-sections and --gc-sections the
 * others are dropped). Builds without the fast paths (-DMCF_PORTABLE_KERNELS) run the reference
 * loop in every one of them.
 *  - _ref: the reference loop (filter OHWI).
 *  - _im2col_*: the im2col path (`scratch`, or `inplace` columns; groups == 1). In-place columns
 *    that do not fit (the compiler checks that they do) leave the output unwritten.
 *  - _direct_*: the direct path (its conditions above, `fast_layout` set).
 *  - _stack_*: the im2col path with the columns of each pixel pair on the stack instead of
 *    `scratch` (groups == 1, `fast_layout` set, K <= MCF_CONV2D_STACK_MAX_K): for convolutions
 *    without scratch that the direct path cannot take (input channels not a multiple of 4, as in
 *    a first layer on 1 or 3 channels, or dilated columns).
 *  - _c1_*: one input channel (filter_c == input_c == 1, groups == 1), a 3x3 filter without
 *    dilation, `c1_out` set and `filter` in the layout of
 *    mcuforge.generator.ops.conv.one_channel_layout (per output channel {2 * bias, 2 * bias, act_min,
 *    act_max}, then five words of two doubled int16 weights); windows gathered on the stack (768 bytes),
 *    no scratch. The f32 copies run the reference loop (the compiler does not choose this path
 *    for them).
 *  - _pointwise_*: a 1x1 filter whose every output pixel reads the input pixel of the same index
 *    (stride 1, no padding; or a 1x1 image), groups == 1, input_c a multiple of 4 and at most
 *    MCF_CONV2D_STACK_MAX_K, `fold_interior`, `fast_layout` and `pw_out` set (per output channel
 *    {multiplier, 2^(e-1) + output_offset * 2^e, e}, see mcuforge.generator.ops.conv.short_output_constants):
 *    with the DSP extension four channels of one pixel per pass, read in place, and a short output stage
 *    (SMMULR); other builds run the _stack_ path (RV32: its own route). No scratch.
 *  - _full: act_min == -128 and act_max == 127 (required); _clamp: any activation range.
 */
void mcf_conv2d_s8_ref(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter, int8_t *output);
void mcf_conv2d_s8_im2col_full(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter,
                               int8_t *output);
void mcf_conv2d_s8_im2col_clamp(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter,
                                int8_t *output);
void mcf_conv2d_s8_direct_full(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter,
                               int8_t *output);
void mcf_conv2d_s8_direct_clamp(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter,
                                int8_t *output);
void mcf_conv2d_s8_stack_full(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter,
                              int8_t *output);
void mcf_conv2d_s8_stack_clamp(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter,
                               int8_t *output);
void mcf_conv2d_s8_c1_full(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter, int8_t *output);
void mcf_conv2d_s8_c1_clamp(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter, int8_t *output);
void mcf_conv2d_s8_pointwise_full(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter,
                                  int8_t *output);
void mcf_conv2d_s8_pointwise_clamp(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter,
                                   int8_t *output);

#endif /* MCF_CONV2D_S8_H */
