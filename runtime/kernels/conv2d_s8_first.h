/* conv2d_s8_first.h - int8 CONV_2D on few input channels (a first layer: 1 to 3 channels). */
#ifndef MCF_CONV2D_S8_FIRST_H
#define MCF_CONV2D_S8_FIRST_H

#include <stdint.h>

/**
 * A convolution whose input has 1 to 3 channels (an image or a spectrogram entering the model):
 * groups == 1, dilation_w == 1, an even number of output channels. mcuforge chooses it at compile
 * time (generator/ops/conv_first.py) and computes every table.
 *
 * The window of an output pixel is filter_h runs of row_bytes = filter_w * input_c contiguous
 * input bytes (rows dilation_h input rows apart). Each run is read a word at a time and widened
 * into int16 words of x + input_offset (SXTAB16: bytes (0, 2) and (1, 3) of each word); the
 * row_bytes % 4 bytes left over in each run are widened the same way and packed (see
 * mcuforge.generator.ops.conv_first.column_slots for the order). `pairs` pairs of such words make
 * a pixel's column; the weights are laid out in the same order at compile time, doubled int16
 * (zeros where a column word holds a byte past the run). A window that crosses the border (or
 * whose last word would read past the input) is first copied into a stack buffer, taps outside
 * the image set to the input zero point (x + input_offset = 0: TFLite Micro skips those taps).
 *
 * Two pixels times two output channels per pass: SMLAD on the DSP extension. On RV32 (no packed
 * arithmetic, MCF_KERNELS_RV32) four pixels times four channels, the same layout read a halfword at
 * a time (mcf_rv32.h, mcf_rv32_first_quad; columns of 4 x pairs x 4 int16 on the stack). The sums start at
 * 2 * bias; out = clamp((t + round + [t < 0]) >> e) with t = SMMULR(sum, multiplier), TFLite
 * Micro's requantization exactly (the compiler checks that no step leaves int32; see
 * mcuforge.generator.ops.conv.one_channel_constants). Where one could (a bias near the edge of
 * int32), `long_out` is set: weights and biases are not doubled, the three words of a channel are
 * {multiplier, shift, 0} and each output is mcf_requantize(sum, multiplier, shift) + output_offset.
 *
 * `filter` (uint32 words, fast builds): per pair of output channels (a, b) eight words
 * {2 * bias[a], 2 * bias[b], multiplier[a], round[a], e[a], multiplier[b], round[b], e[b]}, then
 * per column pair k four words: a's words 2k and 2k+1, b's words 2k and 2k+1. Portable builds
 * (-DMCF_PORTABLE_KERNELS) pass the model's OHWI filter and run the reference loop with `bias`,
 * `multiplier` and `shift`.
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
    int32_t dilation_h;
    int32_t pad_top;
    int32_t pad_left;
    int32_t row_bytes;     /**< filter_w * input_c */
    int32_t pairs;         /**< column word pairs per pixel, at most MCF_CONV2D_FIRST_MAX_PAIRS */
    int32_t input_offset;  /**< -input zero point */
    int32_t output_offset; /**< output zero point (reference loop) */
    int32_t act_min;
    int32_t act_max;
    int32_t per_channel;   /**< multiplier/shift have output_c entries (else one) */
    int32_t long_out;      /**< the sums are not doubled: each output through mcf_requantize (see below) */
    const int32_t *bias;   /**< reference loop: [output_c] */
    const int32_t *multiplier;
    const int32_t *shift;
} mcf_conv2d_first_params;

/** Column word pairs per pixel, and bytes of a window copy (filter_h rows of row_bytes rounded
 *  up to a word), that the path's stack buffers hold. */
#define MCF_CONV2D_FIRST_MAX_PAIRS 40
#define MCF_CONV2D_FIRST_MAX_WINDOW 256

/** _full: act_min == -128 and act_max == 127 (required); _clamp: any activation range. */
void mcf_conv2d_s8_first_full(const mcf_conv2d_first_params *p, const int8_t *input, const int8_t *filter,
                              int8_t *output);
void mcf_conv2d_s8_first_clamp(const mcf_conv2d_first_params *p, const int8_t *input, const int8_t *filter,
                               int8_t *output);

#endif /* MCF_CONV2D_S8_FIRST_H */
