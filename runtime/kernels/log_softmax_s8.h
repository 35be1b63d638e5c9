/* log_softmax_s8.h - int8 log-softmax over the innermost dimension (TFLite LOG_SOFTMAX). */
#ifndef MCF_LOG_SOFTMAX_S8_H
#define MCF_LOG_SOFTMAX_S8_H

#include <stdint.h>

/**
 * Parameters computed by mcuforge at compile time (TFLite Micro's LOG_SOFTMAX Prepare, beta 1).
 * A row's differences d = x - max(row) <= 0 are scaled into Q5.26 as in softmax_s8.h
 * ((d << input_left_shift) high-multiplied by `input_multiplier`); those >= diff_min add their
 * exp to a Q12.19 sum. log(sum) in Q5.26 is brought back onto the input grid by the reverse
 * scaling (`reverse_multiplier`, `reverse_shift` <= 0) to find the differences whose output
 * would fall below the int8 range.
 */
typedef struct {
    int32_t outer;              /**< number of rows */
    int32_t depth;              /**< length of the last dimension, >= 1 */
    int32_t input_multiplier;   /**< Q31, input_scale * 2^26 (capped at 2^31 - 1) */
    int32_t input_left_shift;   /**< 1 .. 31 */
    int32_t reverse_multiplier; /**< Q31, 2^(31 - input_left_shift) / input_multiplier */
    int32_t reverse_shift;      /**< <= 0 */
    int32_t diff_min;           /**< <= 0 */
} mcf_log_softmax_params;

/**
 * output[r][c] = log(softmax(input_scale * input[r][:]))[c], quantized with scale 16/256 and
 * zero point 127 (the only int8 output quantization TFLite accepts). Layout [outer][depth],
 * contiguous. Fixed-point arithmetic only, bit-exact with TFLite Micro's reference kernel.
 */
void mcf_log_softmax_s8(const mcf_log_softmax_params *p, const int8_t *input, int8_t *output);

#endif /* MCF_LOG_SOFTMAX_S8_H */
