/* softmax_s8.h - int8 softmax over the innermost dimension (TFLite SOFTMAX). */
#ifndef MCF_SOFTMAX_S8_H
#define MCF_SOFTMAX_S8_H

#include <stdint.h>

/**
 * Parameters computed by mcuforge at compile time (TFLite Micro's softmax Prepare).
 * For an input difference d = x - max(row) (always <= 0), beta * input_scale * d is
 * `mcf_requantize`-style scaled into Q5.26: (d << input_left_shift) high-multiplied by
 * `input_multiplier`. Differences below `diff_min` are treated as exp() == 0; `diff_min` also
 * guarantees that the left shift cannot overflow.
 */
typedef struct {
    int32_t outer;            /**< number of rows (product of all but the last dimension) */
    int32_t depth;            /**< length of the last dimension, >= 1 */
    int32_t input_multiplier; /**< Q31 multiplier for beta * input_scale * 2^26 */
    int32_t input_left_shift; /**< 0 .. 31 */
    int32_t diff_min;         /**< <= 0 */
} mcf_softmax_params;

/**
 * output[r][c] = softmax(beta * input_scale * input[r][:])[c], quantized with scale 1/256 and
 * zero point -128 (the only int8 output quantization TFLite accepts for SOFTMAX).
 * Layouts: input and output [outer][depth], contiguous; any input zero point (it cancels out).
 * Fixed-point arithmetic only, bit-exact with TFLite Micro's reference kernel.
 */
void mcf_softmax_s8(const mcf_softmax_params *p, const int8_t *input, int8_t *output);

/** The same with an int16 output quantized with scale 1/65536 and zero point -32768 (TFLite's
 *  int8 -> int16 SOFTMAX). */
void mcf_softmax_s8_s16(const mcf_softmax_params *p, const int8_t *input, int16_t *output);

#endif /* MCF_SOFTMAX_S8_H */
