/* lstm_s8.h - TFLite UNIDIRECTIONAL_SEQUENCE_LSTM with integer gates, as TFLite Micro computes it:
 * int8 activations (32-bit gate sums) or int16 activations (64-bit sums), int8 weights, an int16
 * cell state, gates in Q3.12 before and Q0.15 after their sigmoid/tanh. The hidden and cell
 * states are the operator's variable tensors; they live in the model's state buffer and carry
 * over from one invoke to the next. */
#ifndef MCF_LSTM_S8_H
#define MCF_LSTM_S8_H

#include <stdint.h>

/**
 * Parameters computed by mcuforge at compile time (generator/ops/lstm.py). Gates g in the order
 * forget, input, cell, output. For each sequence element (batch b, time t), with x the input row
 * and h, c the batch's hidden and cell state:
 *   pre[g][u] = sat16(sat16(rescale(input_bias[g][u] + W_g[u] . x)) + sat16(rescale(recurrent_bias[g][u] + R_g[u] . h)))
 *   f, i, o = sigmoid(pre), cell gate = tanh(pre)
 *   c = sat16(sat16(rq(f * c)) + sat16(rq(i * cell gate))), clipped to +-cell_clip when cell_clip > 0
 *   h = clamp(rq(tanh(c) * o) + hidden_offset, hidden_min, hidden_max); output row = h
 * The zero points of x and h are folded into the two bias arrays. `rescale` holds per gate the
 * multiplier and shift of the input product, then of the recurrent product: with 32-bit sums
 * (int8) TFLite's Q31 multiplier and shift (> 0 left); with 64-bit sums (int16) the multiplier
 * rounded to 16 bits and the right shift 15 - shift.
 * Each weight matrix ([units][cols]) is stored in the layout of mcf_dot_s16.h, for every build:
 * units padded to n4 (a multiple of 4) with zero rows, columns to a multiple of 4 (d4 for the input
 * matrices, n4 for the recurrent ones) with zeros; blocks of four units, per block groups of four
 * columns, per group four bytes per unit in the order w0, w2, w1, w3. W_g starts at g * n4 * d4,
 * R_g at 4 * n4 * d4 + g * n4 * n4.
 */
typedef struct {
    int32_t batches;
    int32_t steps;
    int32_t input_size;
    int32_t units;
    int32_t input_step;   /**< elements between consecutive time steps of one batch (input) */
    int32_t input_batch;  /**< elements between batches at the same time step (input) */
    int32_t output_step;  /**< the same for the output */
    int32_t output_batch;
    int32_t forget_multiplier; /**< f * c -> cell scale */
    int32_t forget_shift;
    int32_t update_multiplier; /**< i * cell gate -> cell scale */
    int32_t update_shift;
    int32_t hidden_multiplier; /**< tanh(c) * o -> hidden scale */
    int32_t hidden_shift;
    int32_t hidden_offset;
    int32_t hidden_min;
    int32_t hidden_max;
    int32_t cell_clip;            /**< quantized clip value, 0 for none */
    int32_t cell_tanh_multiplier; /**< tanh(c) reads v = (c * multiplier + round) >> shift */
    int32_t cell_tanh_shift;
    const int32_t *rescale;       /**< [4][4]: input multiplier, shift, recurrent multiplier, shift */
    const uint16_t *table;        /**< sigmoid(i/24) in Q0.16, 256 entries */
    const uint32_t *weights;      /**< W_f, W_i, W_c, W_o, then R_f .. R_o, each blocked (see below): int8
                                       bytes stored as words, 4-byte aligned for the word-pair loads */
    const int32_t *bias32;        /**< int8: [2][4][units], input then recurrent bias (else NULL) */
    const int64_t *bias64;        /**< int16: the same in 64 bits (else NULL) */
    int16_t *scratch;             /**< 4 * units int16, then d4 + n4 int16 (fast builds), in the arena */
} mcf_lstm_params;

/** int8 input, hidden state and output (32-bit gate sums). */
void mcf_lstm_s8(const mcf_lstm_params *p, const int8_t *input, int8_t *hidden, int16_t *cell, int8_t *output);

/** int16 input, hidden state and output (16x8, 64-bit gate sums). */
void mcf_lstm_s16(const mcf_lstm_params *p, const int16_t *input, int16_t *hidden, int16_t *cell, int16_t *output);

#endif /* MCF_LSTM_S8_H */
