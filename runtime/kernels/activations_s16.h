/* activations_s16.h - int16 RELU, RELU6 and LEAKY_RELU (TFLite, 16x8 quantization). */
#ifndef MCF_ACTIVATIONS_S16_H
#define MCF_ACTIVATIONS_S16_H

#include <stdint.h>

/** RELU with rescaling (zero points 0): output = clamp(requant(input), act_min, act_max) with the
 *  Q31 `multiplier` and `shift` (> 0 shifts left) of input_scale / output_scale. */
typedef struct {
    int32_t size;
    int32_t multiplier;
    int32_t shift;
    int32_t act_min; /**< 0: the output's quantized zero */
    int32_t act_max; /**< 32767 */
} mcf_relu_s16_params;

void mcf_relu_s16(const mcf_relu_s16_params *p, const int16_t *input, int16_t *output);

/** Clamp without rescaling: RELU6 (the input's quantized 0 and 6) and RELU when input and output
 *  share their quantization. */
typedef struct {
    int32_t size;
    int32_t lo;
    int32_t hi;
} mcf_clamp_s16_params;

void mcf_clamp_s16(const mcf_clamp_s16_params *p, const int16_t *input, int16_t *output);

/** LEAKY_RELU: x = input - input_zero_point; x >= 0 is rescaled by the identity multiplier,
 *  x < 0 by the alpha one (its magnitude; `negate_alpha` flips the product for alpha < 0). */
typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t identity_multiplier;
    int32_t identity_shift;
    int32_t alpha_multiplier; /**< >= 0 */
    int32_t alpha_shift;
    int32_t negate_alpha;
} mcf_leaky_relu_s16_params;

void mcf_leaky_relu_s16(const mcf_leaky_relu_s16_params *p, const int16_t *input, int16_t *output);

#endif /* MCF_ACTIVATIONS_S16_H */
