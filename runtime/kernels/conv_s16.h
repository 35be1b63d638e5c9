/* conv_s16.h - 16x8 convolutions: CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV with int16
 * activations (zero point 0), int8 weights (symmetric, per channel) and an int64 or int32 bias. */
#ifndef MCF_CONV_S16_H
#define MCF_CONV_S16_H

#include <stdint.h>

/**
 * Parameters computed by mcuforge at compile time (generator/ops/conv_s16.py).
 *
 * Layouts: input and output NHWC. Filters: CONV_2D and TRANSPOSE_CONV OHWI
 * [output_c][filter_h][filter_w][input_c]; DEPTHWISE_CONV_2D [filter_h][filter_w][output_c] with
 * output channel o = c * depth_multiplier + m reading input channel c.
 *
 * out = clamp(rescale(bias[o] + sum of w * x over the taps, multiplier[o], shift[o]), act_min,
 * act_max) with TFLite Micro's arithmetic: the sum and the rescaling in 64 bits when `wide`
 * (int64 bias; `multiplier` then holds the 16-bit reduced multiplier and `shift` the right shift,
 * see mcf_dot_s16.h), else in 32 bits (int32 bias, Q31 multiplier, shift > 0 to the left).
 * Taps outside the image add nothing (zero point 0). `multiplier`, `shift` and `bias` have
 * output_c entries (bias zeros when the model has none).
 *
 * TRANSPOSE_CONV gathers per output pixel: rows[3 oy .. 3 oy + 2] = (first input row reaching
 * output row oy, how many, the filter row of the first); the filter row falls by stride_h for each
 * next input row; cols the same for columns (see generator/ops/transpose_conv.py).
 *
 * Fast builds read filters in other layouts (the fast_only constants of conv_s16.py):
 *  - CONV_2D: blocks of four output channels over K = filter_h * filter_w * input_c, the weights
 *    widened to int16 pairs as mcf_dot_s16w_quads reads them; each output pixel's window is gathered into an int16 column of
 *    K values (zeros for taps outside the image, and up to a multiple of 4) in `scratch`
 *    (2 * K rounded up to a multiple of 8 bytes, 4-byte aligned), on
 *    the stack when `scratch` is NULL (K <= MCF_CONV_S16_STACK_MAX_K), or read in place when the
 *    window is one contiguous run of the input (filter_h == 1, dilation_w == 1, K a multiple of 4,
 *    inside, at a 4-byte boundary).
 *  - DEPTHWISE_CONV_2D: depth multiplier 1: per tap, one word per channel pair holding
 *    (w[c], w[c + 1]) as int16 (SMLABB / SMLATT on DSP cores); otherwise [output_c][taps] int8.
 *  - TRANSPOSE_CONV: per block of four output channels and per filter tap, a block of
 *    mcf_dot_s16_block over the input channels.
 */
typedef struct {
    int32_t batches;
    int32_t input_h;
    int32_t input_w;
    int32_t input_c;
    int32_t filter_c;         /**< CONV_2D: input channels per group (input_c / groups) */
    int32_t output_h;
    int32_t output_w;
    int32_t output_c;
    int32_t filter_h;
    int32_t filter_w;
    int32_t stride_h;
    int32_t stride_w;
    int32_t dilation_h;
    int32_t dilation_w;
    int32_t pad_top;
    int32_t pad_left;
    int32_t depth_multiplier; /**< DEPTHWISE_CONV_2D; 1 otherwise */
    int32_t act_min;
    int32_t act_max;
    int32_t wide;             /**< 64-bit sums and rescaling (int64 bias), else 32-bit */
    const int32_t *multiplier;
    const int32_t *shift;
    const int64_t *bias;
    const int32_t *rows;      /**< TRANSPOSE_CONV only, else NULL */
    const int32_t *cols;
    int16_t *scratch;         /**< CONV_2D fast path: the window column, or NULL */
    const int64_t *folded;    /**< CONV_2D, DEPTHWISE_CONV_2D fast paths, 64-bit sums: bias * multiplier + 2^(shift - 1)
                                   per output channel, or NULL */
    const int32_t *fold_mult; /**< with `folded`: the multipliers, or NULL; when fold_high, every channel's
                                   folded value and multiplier are scaled by 2^(32 - shift): the output is
                                   the high word of folded + sum * fold_mult */
    int32_t fold_high;
} mcf_conv_s16_params;

/** Largest K of the CONV_2D fast path's column on the stack (512 bytes). */
#define MCF_CONV_S16_STACK_MAX_K 256

/* One entry point per operator; builds without the fast paths (-DMCF_PORTABLE_KERNELS) run
 * TFLite Micro's loops on the model's own filter layout. */
void mcf_conv2d_s16(const mcf_conv_s16_params *p, const int16_t *input, const int8_t *filter, int16_t *output);
/** CONV_2D's reference loop on the model's filter (OHWI), in every build: grouped convolutions
 *  (input_c a multiple of filter_c) run here. */
void mcf_conv2d_s16_ref(const mcf_conv_s16_params *p, const int16_t *input, const int8_t *filter,
                        int16_t *output);
void mcf_depthwise_conv2d_s16(const mcf_conv_s16_params *p, const int16_t *input, const int8_t *filter,
                              int16_t *output);
void mcf_transpose_conv_s16(const mcf_conv_s16_params *p, const int16_t *input, const int8_t *filter,
                            int16_t *output);

#endif /* MCF_CONV_S16_H */
