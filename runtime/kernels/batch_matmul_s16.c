/* batch_matmul_s16.c - int16 BATCH_MATMUL: a plain triple loop per batch, 64-bit sums. */
#include "batch_matmul_s16.h"

#include "mcf_common.h"

static int16_t mcf_bmm_s16_rescale(int64_t acc, int32_t multiplier, int32_t shift)
{
    const int32_t v = (int32_t)((acc * (int64_t)multiplier + ((int64_t)1 << (shift - 1))) >> shift);
    return (int16_t)mcf_clamp(v, INT16_MIN, INT16_MAX);
}

void mcf_batch_matmul_s16(const mcf_bmm_s16_params *p, const int16_t *lhs, const int16_t *rhs,
                          int16_t *output)
{
    int32_t b0, b1, b2, i, j, k;
    for (b0 = 0; b0 < p->batches[0]; ++b0) {
        for (b1 = 0; b1 < p->batches[1]; ++b1) {
            for (b2 = 0; b2 < p->batches[2]; ++b2) {
                const int16_t *l = lhs + b0 * p->lhs_batch_step[0] + b1 * p->lhs_batch_step[1]
                                   + b2 * p->lhs_batch_step[2];
                const int16_t *r = rhs + b0 * p->rhs_batch_step[0] + b1 * p->rhs_batch_step[1]
                                   + b2 * p->rhs_batch_step[2];
                for (i = 0; i < p->rows; ++i) {
                    const int16_t *row = l + i * p->lhs_row;
                    for (j = 0; j < p->cols; ++j) {
                        const int16_t *x = row;
                        const int16_t *y = r + j * p->rhs_col;
                        int64_t acc = 0;
                        for (k = 0; k < p->depth; ++k) {
                            acc += (int32_t)*x * (int32_t)*y;
                            x += p->lhs_col;
                            y += p->rhs_row;
                        }
                        *output++ = mcf_bmm_s16_rescale(acc, p->multiplier, p->shift);
                    }
                }
            }
        }
    }
}
