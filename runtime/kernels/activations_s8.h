/* activations_s8.h - int8 RELU, RELU6 and HARD_SWISH (TFLite RELU, RELU6, HARD_SWISH). */
#ifndef MCF_ACTIVATIONS_S8_H
#define MCF_ACTIVATIONS_S8_H

#include <stdint.h>

/**
 * RELU with requantization from the input to the output scale:
 * output = clamp(requant(input + input_offset) + output_offset, act_min, act_max), with the Q31
 * `multiplier` and `shift` (> 0 shifts left) for input_scale / output_scale. Any layout.
 */
typedef struct {
    int32_t size;          /**< number of elements */
    int32_t input_offset;  /**< -input zero point */
    int32_t multiplier;    /**< Q31 */
    int32_t shift;
    int32_t output_offset; /**< output zero point */
    int32_t act_min;       /**< the output's quantized zero (or -128) */
    int32_t act_max;       /**< 127 */
} mcf_relu_params;

void mcf_relu_s8(const mcf_relu_params *p, const int8_t *input, int8_t *output);

/**
 * Clamp without rescaling: output = input > hi ? hi : (input < lo ? lo : input). This is RELU6
 * (lo = the input's quantized 0, hi = its quantized 6, as TFLite Micro computes them, on the
 * input's scale) and RELU whenever input and output share their quantization.
 */
typedef struct {
    int32_t size;
    int32_t lo; /**< in [-128, 127] */
    int32_t hi; /**< in [-128, 127] */
} mcf_clamp_params;

void mcf_clamp_s8(const mcf_clamp_params *p, const int8_t *input, int8_t *output);

/**
 * HARD_SWISH through a 256-entry table indexed by the input byte (table[(uint8_t)x]). The table
 * is built at compile time by running TFLite Micro's int16 fixed-point hard-swish arithmetic on
 * every int8 input value, so the results are the reference's, bit for bit.
 */
typedef struct {
    int32_t size;
    const int8_t *table; /**< [256], indexed by the input value's bit pattern */
} mcf_hard_swish_params;

void mcf_hard_swish_s8(const mcf_hard_swish_params *p, const int8_t *input, int8_t *output);

#endif /* MCF_ACTIVATIONS_S8_H */
