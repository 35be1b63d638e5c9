/* batch_matmul_s8.h - int8 batched matrix product (TFLite BATCH_MATMUL). */
#ifndef MCF_BATCH_MATMUL_S8_H
#define MCF_BATCH_MATMUL_S8_H

#include <stdint.h>

#define MCF_BMM_MAX_BATCH_DIMS 3

/**
 * For every batch (up to three batch dimensions, outermost first, unused ones count 1), with each
 * operand's batch strides in elements (0 where it is broadcast):
 *   out[i][j] = clamp(requant(sum_k (lhs[i][k] + lhs_offset) * (rhs[k][j] + rhs_offset),
 *                             multiplier, shift) + output_offset, -128, 127)
 * where lhs[i][k] is at i * lhs_row_stride + k * lhs_depth_stride and rhs[k][j] at
 * j * rhs_col_stride + k * rhs_depth_stride. The output is [batches][rows][cols], row-major.
 *
 * The sum is computed as dot(lhs row i, rhs column j) + rhs_offset * sum(lhs row i) + col_terms[j],
 * col_terms[j] = lhs_offset * sum(rhs column j) + depth * lhs_offset * rhs_offset, with both
 * operands contiguous along k: an operand that is not (depth stride != 1) is first copied,
 * transposed, into `scratch` (at lhs_copy / rhs_copy bytes; -1: not needed). col_terms come from
 * the compiler for a constant rhs (`col_terms`, [rhs batches][cols], walked by rhs_term_stride),
 * else they are computed per batch into the first 4 * cols bytes of `scratch`.
 */
typedef struct {
    int32_t batch_count[MCF_BMM_MAX_BATCH_DIMS];
    int32_t lhs_batch_stride[MCF_BMM_MAX_BATCH_DIMS];
    int32_t rhs_batch_stride[MCF_BMM_MAX_BATCH_DIMS];
    int32_t rhs_term_stride[MCF_BMM_MAX_BATCH_DIMS]; /**< col_terms entries per batch step */
    int32_t rows;  /**< M */
    int32_t cols;  /**< N */
    int32_t depth; /**< K */
    int32_t lhs_row_stride;
    int32_t lhs_depth_stride;
    int32_t rhs_col_stride;
    int32_t rhs_depth_stride;
    int32_t lhs_offset;    /**< -lhs zero point */
    int32_t rhs_offset;    /**< -rhs zero point */
    int32_t output_offset; /**< output zero point */
    int32_t multiplier;
    int32_t shift;
    const int32_t *col_terms; /**< constant rhs: [rhs batches][cols]; else NULL */
    int32_t *scratch;         /**< 4-byte aligned working memory, or NULL when none is needed */
    int32_t lhs_copy;         /**< byte offset in scratch of lhs transposed [rows][depth], or -1 */
    int32_t rhs_copy;         /**< byte offset in scratch of rhs transposed [cols][depth], or -1 */
} mcf_batch_matmul_params;

void mcf_batch_matmul_s8(const mcf_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs, int8_t *output);

#endif /* MCF_BATCH_MATMUL_S8_H */
