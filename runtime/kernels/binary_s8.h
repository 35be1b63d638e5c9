/* binary_s8.h - int8 element-wise binary operators with broadcasting: MAXIMUM, MINIMUM, PRELU,
 * SQUARED_DIFFERENCE, DIV (TFLite's operators of those names). */
#ifndef MCF_BINARY_S8_H
#define MCF_BINARY_S8_H

#include <stdint.h>

/*
 * Every parameter struct ends with the broadcast iteration space of add_s8.h: the output in
 * row-major order as `ndims` merged loop dimensions (outermost first), `dims[d]` the extent,
 * `stride1[d]` / `stride2[d]` the element strides of each input (0 where it is broadcast).
 * Multipliers are Q31 with a shift (> 0 shifts left), all computed by mcuforge at compile time.
 */

/** MAXIMUM / MINIMUM: the larger / smaller raw int8 value (TFLite compares the stored values and
 *  does not rescale, whatever the tensors' quantization). */
typedef struct {
    int32_t ndims;
    const int32_t *dims;
    const int32_t *stride1;
    const int32_t *stride2;
} mcf_minmax_params;

void mcf_maximum_s8(const mcf_minmax_params *p, const int8_t *input1, const int8_t *input2,
                    int8_t *output);
void mcf_minimum_s8(const mcf_minmax_params *p, const int8_t *input1, const int8_t *input2,
                    int8_t *output);

/** PRELU: v = input + input_offset; v >= 0 gives requant(v, multiplier_pos, shift_pos), else
 *  requant(v * (alpha + alpha_offset), multiplier_neg, shift_neg); plus output_offset, clamped. */
typedef struct {
    int32_t input_offset;  /**< -input zero point */
    int32_t alpha_offset;  /**< -alpha zero point */
    int32_t output_offset; /**< output zero point */
    int32_t multiplier_pos; /**< input_scale / output_scale */
    int32_t shift_pos;
    int32_t multiplier_neg; /**< input_scale * alpha_scale / output_scale */
    int32_t shift_neg;
    int32_t ndims;
    const int32_t *dims;
    const int32_t *stride1; /**< of the input */
    const int32_t *stride2; /**< of alpha */
} mcf_prelu_params;

void mcf_prelu_s8(const mcf_prelu_params *p, const int8_t *input, const int8_t *alpha,
                  int8_t *output);

/** SQUARED_DIFFERENCE: each input (x + offset) * 2^left_shift scaled below one onto a common
 *  scale, the difference squared, requantized, plus output_offset, clamped to [act_min, act_max]. */
typedef struct {
    int32_t input1_offset;
    int32_t input2_offset;
    int32_t left_shift;        /**< 7 for int8 */
    int32_t input1_multiplier; /**< below one */
    int32_t input1_shift;      /**< <= 0 */
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t output_offset;
    int32_t act_min;
    int32_t act_max;
    int32_t ndims;
    const int32_t *dims;
    const int32_t *stride1;
    const int32_t *stride2;
} mcf_squared_difference_params;

void mcf_squared_difference_s8(const mcf_squared_difference_params *p, const int8_t *input1,
                               const int8_t *input2, int8_t *output);

/** DIV: v1 = input1 + input1_offset divided by v2 = input2 + input2_offset the way TFLite Micro
 *  does it: a fixed-point reciprocal of |v2| (per input2 byte, from the tables), v1 (negated when
 *  v2 < 0) normalised by its leading sign bits, multiplied, requantized by `output_multiplier` and
 *  a rounding right shift of (leading sign bits of v1) + exponent[input2 byte]. */
typedef struct {
    int32_t input1_offset;
    int32_t output_multiplier; /**< Q31, input1_scale / (input2_scale * output_scale) */
    int32_t output_offset;
    int32_t act_min;
    int32_t act_max;
    const int32_t *reciprocal; /**< [256] by input2 byte: 1 / |v2| in Q0 (normalised) */
    const int8_t *exponent;    /**< [256] by input2 byte: reciprocal's bits - output shift */
    const uint8_t *negate;     /**< [256] by input2 byte: 1 where v2 < 0 */
    int32_t ndims;
    const int32_t *dims;
    const int32_t *stride1;
    const int32_t *stride2;
} mcf_div_params;

void mcf_div_s8(const mcf_div_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);

#endif /* MCF_BINARY_S8_H */
