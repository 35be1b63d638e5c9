/* svdf_s8.h - TFLite SVDF (singular value decomposition filter) with int8 input and output and an
 * int16 (or int8) activation state: a feature projection whose newest column is pushed into a
 * per-filter memory, then a time filter over that memory, summed per unit. The state tensor lives
 * in the model's state buffer and is updated in place on every invoke. */
#ifndef MCF_SVDF_S8_H
#define MCF_SVDF_S8_H

#include <stdint.h>

/**
 * Parameters computed by mcuforge at compile time (generator/ops/svdf.py).
 *
 * Feature stage, for each filter f: state[f][memory-1] = state_offset +
 *   clamp(requantize(feature_bias[f] + sum_i weights_feature[f][i] * input[i], feature_multiplier,
 *   feature_shift), state type range), stored with the state type's wrap-around.
 * Time stage, for each unit u: output[u] = clamp(requantize(unit_bias[u] +
 *   sum_{f of u} sum_j weights_time[f][j] * state[f][j], output_multiplier, output_shift)
 *   + output_offset, -128, 127).
 * The zero points are folded into the two bias arrays.
 */
typedef struct {
    int32_t batches;
    int32_t input_size;
    int32_t filters;  /**< units * rank */
    int32_t rank;
    int32_t memory;   /**< time steps each filter remembers */
    int32_t feature_multiplier;
    int32_t feature_shift;
    int32_t state_offset; /**< the state's zero point */
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t output_offset;
    const int32_t *feature_bias; /**< [filters]: -input_zero_point * sum_i weights_feature[f][i] */
    const int32_t *unit_bias;    /**< [units]: bias[u] - state_zero_point * sum_{f of u, j} weights_time[f][j] */
} mcf_svdf_params;

/** int16 state and time weights. Layouts: input [batches][input_size], weights_feature
 *  [filters][input_size], weights_time [filters][memory], state [batches][filters][memory],
 *  output [batches][filters / rank]. */
void mcf_svdf_s8_s16(const mcf_svdf_params *p, const int8_t *input, const int8_t *weights_feature,
                     const int16_t *weights_time, int16_t *state, int8_t *output);

/** The same with int8 state and time weights. */
void mcf_svdf_s8_s8(const mcf_svdf_params *p, const int8_t *input, const int8_t *weights_feature,
                    const int8_t *weights_time, int8_t *state, int8_t *output);

#endif /* MCF_SVDF_S8_H */
