/* conv2d_s8_narrow.h - int8 CONV_2D whose windows are contiguous runs of the input, few outputs each. */
#ifndef MCF_CONV2D_S8_NARROW_H
#define MCF_CONV2D_S8_NARROW_H

#include <stdint.h>

/**
 * Convolutions where every output pixel's window lies inside the image as one contiguous run of
 * `depth` input bytes (a 1x1 filter without padding; or a window that spans whole input rows, as a
 * single output pixel over the whole image): each pixel is then a fully connected layer on its
 * run. mcuforge chooses these paths at compile time (generator/ops/conv_narrow.py) for shapes where
 * the im2col path's 2 x 2 blocks waste work: one output pixel, few output channels, or 4 or 8
 * input channels on 1x1 filters.
 *
 * Output pixel (b, oy, ox) (raster order, batches outermost) reads input[b * batch_step +
 * oy * row_step + ox * col_step + k] for k < depth and writes output_c bytes. Windows inside the
 * image only: the sums start at the bias with the input zero point folded in (TFLite Micro's
 * bias - input_zero_point * sum(w)) and add w * x.
 *
 * Fast builds: `filter` is the layout of mcuforge.generator.ops.conv_narrow (uint32 words, their
 * output constants {multiplier, 2^(e-1) + output_offset * 2^e, e} inside; the output stage is
 * t = SMMULR(2 * sum, multiplier), (t + q[1] - [t < 0]) >> e: TFLite Micro's requantization
 * exactly, given only where no step can leave int32):
 *  - _narrow_*: blocks of four output channels (then two, then one): per block the four folded
 *    biases, then per group of four inputs one word of four int8 weights per channel, then the
 *    channels' output constants. A depth that is not a multiple of 4 reads its last group at
 *    depth - 4 (overlapping the one before; the weights of the bytes read twice are zero). RV32:
 *    the blocks of two pixels at once (each weight byte loaded once for both), an odd last pixel alone.
 *  - _narrow_k8_*: depth 8: per output channel eight words {2 * folded bias, multiplier, w(0,2),
 *    w(1,3), w(4,6), w(5,7) as doubled int16 pairs, round, e} (_clamp: then act_min, act_max), the
 *    pixel's eight inputs widened once and kept in registers (RV32: two pixels' sixteen inputs,
 *    the weights read a halfword at a time).
 *  - _narrow_k4_*: depth 4 (a 1x1 filter on 4 channels): two pixels per pass, both pixels' inputs
 *    widened once and kept in registers; per output channel six words {2 * folded bias, multiplier,
 *    w(0,2), w(1,3) as doubled int16 pairs, round, e} (_clamp: then act_min and act_max, each in both
 *    halfwords); the last channel's e word has bit 8 set (shifts read its low byte only), which ends
 *    the pass. An odd last pixel runs as a pair with itself. RV32: the pair's eight inputs loaded
 *    once, the doubled weights read a halfword at a time.
 * Portable builds (-DMCF_PORTABLE_KERNELS) pass the model's filter ([output_c][depth] int8) and
 * run the reference loop with `bias`, `multiplier` and `shift`.
 */
typedef struct {
    int32_t batches;
    int32_t rows;          /**< output_h */
    int32_t cols;          /**< output_w */
    int32_t batch_step;    /**< input bytes between the windows of two batches */
    int32_t row_step;      /**< ... of two output rows */
    int32_t col_step;      /**< ... of two output columns */
    int32_t depth;         /**< bytes of one window, >= 4 */
    int32_t output_c;
    int32_t act_min;
    int32_t act_max;
    int32_t input_offset;  /**< -input zero point (reference loop) */
    int32_t output_offset; /**< output zero point (reference loop) */
    int32_t per_channel;   /**< multiplier/shift have output_c entries (else one) */
    const int32_t *bias;   /**< reference loop: [output_c], the model's bias */
    const int32_t *multiplier;
    const int32_t *shift;
} mcf_conv2d_narrow_params;

/** _full: act_min == -128 and act_max == 127 (required); _clamp: any activation range. */
void mcf_conv2d_s8_narrow_full(const mcf_conv2d_narrow_params *p, const int8_t *input, const int8_t *filter,
                               int8_t *output);
void mcf_conv2d_s8_narrow_clamp(const mcf_conv2d_narrow_params *p, const int8_t *input, const int8_t *filter,
                                int8_t *output);
void mcf_conv2d_s8_narrow_k8_full(const mcf_conv2d_narrow_params *p, const int8_t *input, const int8_t *filter,
                                  int8_t *output);
void mcf_conv2d_s8_narrow_k8_clamp(const mcf_conv2d_narrow_params *p, const int8_t *input, const int8_t *filter,
                                   int8_t *output);
void mcf_conv2d_s8_narrow_k4_full(const mcf_conv2d_narrow_params *p, const int8_t *input, const int8_t *filter,
                                  int8_t *output);
void mcf_conv2d_s8_narrow_k4_clamp(const mcf_conv2d_narrow_params *p, const int8_t *input, const int8_t *filter,
                                   int8_t *output);

#endif /* MCF_CONV2D_S8_NARROW_H */
