/* batch_matmul_s16.h - TFLite BATCH_MATMUL on int16 operands and output (zero points 0): 64-bit
 * sums requantized as TFLite Micro's 16x8 kernels do. */
#ifndef MCF_BATCH_MATMUL_S16_H
#define MCF_BATCH_MATMUL_S16_H

#include <stdint.h>

#define MCF_BMM_S16_BATCH_DIMS 3

/**
 * For every output batch (MCF_BMM_S16_BATCH_DIMS nested loops of extents `batches`, padded with
 * leading 1s; each operand moves by its `*_batch_step` elements per step, 0 where it is
 * broadcast): out[i][j] = saturate16(rescale(sum_k lhs(i, k) * rhs(k, j))), lhs(i, k) at
 * i * lhs_row + k * lhs_col and rhs(k, j) at k * rhs_row + j * rhs_col elements from the batch's
 * start (adj_x / adj_y are only other steps). The rescale is TFLite Micro's 64-bit
 * MultiplyByQuantizedMultiplier: the multiplier reduced to 16 bits and one rounding right shift.
 */
typedef struct {
    int32_t batches[MCF_BMM_S16_BATCH_DIMS];
    int32_t lhs_batch_step[MCF_BMM_S16_BATCH_DIMS];
    int32_t rhs_batch_step[MCF_BMM_S16_BATCH_DIMS];
    int32_t rows;  /**< M */
    int32_t cols;  /**< N */
    int32_t depth; /**< K */
    int32_t lhs_row;
    int32_t lhs_col;
    int32_t rhs_row;
    int32_t rhs_col;
    int32_t multiplier; /**< reduced to 16 bits */
    int32_t shift;      /**< right shift, 8..46 */
} mcf_bmm_s16_params;

void mcf_batch_matmul_s16(const mcf_bmm_s16_params *p, const int16_t *lhs, const int16_t *rhs,
                          int16_t *output);

#endif /* MCF_BATCH_MATMUL_S16_H */
