/* fully_connected_s16.h - 16x8 fully connected layer (TFLite FULLY_CONNECTED with int16
 * activations, int8 weights and an int64 or int32 bias). */
#ifndef MCF_FULLY_CONNECTED_S16_H
#define MCF_FULLY_CONNECTED_S16_H

#include <stdint.h>

/**
 * Parameters computed by mcuforge at compile time.
 *
 * `wide` set (int64 bias, TFLite Micro's usual 16x8 case): the sum is kept in 64 bits and
 * rescaled as TFLite Micro's 64-bit MultiplyByQuantizedMultiplier does: the Q31 multiplier
 * rounded to 16 bits (`multiplier` holds that reduced value) and one rounding right shift by
 * `shift` = 15 - (TFLite shift), in [8, 46].
 *
 * `wide` clear (int32 bias): the sum wraps in 32 bits and is requantized with the Q31
 * `multiplier` and `shift` (> 0 is a left shift), as for int8.
 *
 * `bias` (int64 either way) already holds bias[u] - input_zero_point * sum(weights[u][:]).
 * `multiplier`/`shift` have one entry, or one per unit when `per_channel` is set.
 */
typedef struct {
    int32_t batches;       /**< rows of the input, each `depth` long */
    int32_t depth;         /**< inner dimension */
    int32_t units;         /**< output features (rows of the weight matrix) */
    int32_t output_offset; /**< output zero point (0 in TFLite's 16x8 scheme) */
    int32_t act_min;       /**< clamp applied after requantization, within int16 */
    int32_t act_max;
    int32_t per_channel;
    int32_t wide;          /**< 64-bit sum and rescaling (int64 bias), else 32-bit */
    const int32_t *multiplier;
    const int32_t *shift;
    const int64_t *bias;   /**< [units], zero point folded in */
} mcf_fc_s16_params;

/** output[b][u] = clamp(rescale(bias[u] + sum_d weights[u][d] * input[b][d]) + output_offset).
 *  Layouts: input [batches][depth] int16, weights [units][depth] int8, output [batches][units]. */
void mcf_fully_connected_s16(const mcf_fc_s16_params *p, const int16_t *input, const int8_t *weights,
                             int16_t *output);

#endif /* MCF_FULLY_CONNECTED_S16_H */
