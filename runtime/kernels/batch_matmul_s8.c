/* batch_matmul_s8.c - portable int8 batched matrix product through strides. */
#include "batch_matmul_s8.h"

#include "mcf_common.h"

/* One matrix product of the batch. */
static void mcf_bmm_one(const mcf_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs, int8_t *output)
{
    const int32_t depth = p->depth;
    const int32_t lk = p->lhs_depth_stride;
    const int32_t rk = p->rhs_depth_stride;
    const int32_t lo = p->lhs_offset;
    const int32_t ro = p->rhs_offset;
    int32_t i, j, k;
    for (i = 0; i < p->rows; ++i) {
        const int8_t *l = lhs + i * p->lhs_row_stride;
        for (j = 0; j < p->cols; ++j) {
            const int8_t *r = rhs + j * p->rhs_col_stride;
            int32_t acc = 0;
            if (lk == 1 && rk == 1) {
                for (k = 0; k < depth; ++k) {
                    acc += (l[k] + lo) * (r[k] + ro);
                }
            } else {
                for (k = 0; k < depth; ++k) {
                    acc += (l[k * lk] + lo) * (r[k * rk] + ro);
                }
            }
            acc = mcf_requantize(acc, p->multiplier, p->shift) + p->output_offset;
            *output++ = (int8_t)mcf_clamp(acc, -128, 127);
        }
    }
}

void mcf_batch_matmul_s8(const mcf_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs, int8_t *output)
{
    const int32_t *n = p->batch_count;
    const int32_t *ls = p->lhs_batch_stride;
    const int32_t *rs = p->rhs_batch_stride;
    const int32_t size = p->rows * p->cols;
    int32_t b0, b1, b2;
    for (b0 = 0; b0 < n[0]; ++b0) {
        for (b1 = 0; b1 < n[1]; ++b1) {
            for (b2 = 0; b2 < n[2]; ++b2) {
                mcf_bmm_one(p, lhs + b0 * ls[0] + b1 * ls[1] + b2 * ls[2], rhs + b0 * rs[0] + b1 * rs[1] + b2 * rs[2],
                            output);
                output += size;
            }
        }
    }
}
