/* batch_matmul_s8.c - portable int8 batched matrix product, operands contiguous along the depth. */
#include "batch_matmul_s8.h"

#include "mcf_common.h"
#include "mcf_dsp.h"

/* Products are |x * y| <= 2^14 and the compiler bounds depth: every int32 sum below is exact, in
 * any order, and equals TFLite Micro's. */

static inline int32_t mcf_bmm_sum(const int8_t *x, int32_t n)
{
    int32_t s = 0;
    for (; n > 0; --n) {
        s += *x++;
    }
    return s;
}

/* *a0 += dot(x, y0), *a1 += dot(x, y1) over n values; two columns share each word of x. */
static inline void mcf_bmm_dot2(const int8_t *x, const int8_t *y0, const int8_t *y1, int32_t n, int32_t *a0,
                                int32_t *a1)
{
    int32_t s0 = 0, s1 = 0;
#if MCF_KERNELS_DSP
    for (; n >= 4; n -= 4) {
        const uint32_t xv = mcf_read_u32(x);
        const uint32_t xa = mcf_sxtb16(xv), xb = mcf_sxtb16_ror8(xv);
        const uint32_t v0 = mcf_read_u32(y0), v1 = mcf_read_u32(y1);
        s0 = mcf_smlad(mcf_sxtb16(v0), xa, s0);
        s0 = mcf_smlad(mcf_sxtb16_ror8(v0), xb, s0);
        s1 = mcf_smlad(mcf_sxtb16(v1), xa, s1);
        s1 = mcf_smlad(mcf_sxtb16_ror8(v1), xb, s1);
        x += 4;
        y0 += 4;
        y1 += 4;
    }
#endif
    for (; n > 0; --n) {
        const int32_t v = *x++;
        s0 += v * *y0++;
        s1 += v * *y1++;
    }
    *a0 += s0;
    *a1 += s1;
}

/* dst[j][k] = src[k * k_stride + j * j_stride] for j < n, k < depth: an operand made contiguous along k. */
static void mcf_bmm_transpose(int8_t *dst, const int8_t *src, int32_t n, int32_t depth, int32_t j_stride,
                              int32_t k_stride)
{
    int32_t j, k;
    for (j = 0; j < n; ++j) {
        const int8_t *s = src + j * j_stride;
        for (k = 0; k < depth; ++k) {
            *dst++ = s[k * k_stride];
        }
    }
}

static inline int8_t mcf_bmm_out(const mcf_batch_matmul_params *p, int32_t acc)
{
#if MCF_REQUANT_F32
    acc = mcf_requant_f32(acc, p->multiplier) + p->output_offset;
#else
    acc = mcf_requantize(acc, p->multiplier, p->shift) + p->output_offset;
#endif
    return (int8_t)mcf_clamp(acc, -128, 127);
}

/* One matrix product: lhs [rows][depth], rhs [cols][depth] (row strides lrs, rcs), col terms ct. */
static void mcf_bmm_one(const mcf_batch_matmul_params *p, const int8_t *lhs, int32_t lrs, const int8_t *rhs,
                        int32_t rcs, const int32_t *ct, int8_t *output)
{
    const int32_t depth = p->depth;
    const int32_t cols = p->cols;
    int32_t i, j;
    for (i = 0; i < p->rows; ++i) {
        const int8_t *l = lhs + i * lrs;
        const int32_t row_term = p->rhs_offset ? p->rhs_offset * mcf_bmm_sum(l, depth) : 0;
        for (j = 0; j + 1 < cols; j += 2) {
            int32_t a0 = row_term + ct[j], a1 = row_term + ct[j + 1];
            mcf_bmm_dot2(l, rhs + j * rcs, rhs + (j + 1) * rcs, depth, &a0, &a1);
            output[0] = mcf_bmm_out(p, a0);
            output[1] = mcf_bmm_out(p, a1);
            output += 2;
        }
        if (j < cols) {
            int32_t a0 = row_term + ct[j], a1 = 0;
            mcf_bmm_dot2(l, rhs + j * rcs, rhs + j * rcs, depth, &a0, &a1);
            *output++ = mcf_bmm_out(p, a0);
        }
    }
}

void mcf_batch_matmul_s8(const mcf_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs, int8_t *output)
{
    const int32_t *n = p->batch_count;
    const int32_t *ls = p->lhs_batch_stride;
    const int32_t *rs = p->rhs_batch_stride;
    const int32_t *ts = p->rhs_term_stride;
    const int32_t depth = p->depth;
    const int32_t size = p->rows * p->cols;
    int8_t *lhs_t = p->lhs_copy >= 0 ? (int8_t *)p->scratch + p->lhs_copy : 0;
    int8_t *rhs_t = p->rhs_copy >= 0 ? (int8_t *)p->scratch + p->rhs_copy : 0;
    const int32_t lrs = lhs_t ? depth : p->lhs_row_stride;
    const int32_t rcs = rhs_t ? depth : p->rhs_col_stride;
    int32_t b0, b1, b2, j;
    for (b0 = 0; b0 < n[0]; ++b0) {
        for (b1 = 0; b1 < n[1]; ++b1) {
            for (b2 = 0; b2 < n[2]; ++b2) {
                const int8_t *l = lhs + b0 * ls[0] + b1 * ls[1] + b2 * ls[2];
                const int8_t *r = rhs + b0 * rs[0] + b1 * rs[1] + b2 * rs[2];
                const int32_t *ct;
                if (lhs_t) {
                    mcf_bmm_transpose(lhs_t, l, p->rows, depth, p->lhs_row_stride, p->lhs_depth_stride);
                    l = lhs_t;
                }
                if (rhs_t) {
                    mcf_bmm_transpose(rhs_t, r, p->cols, depth, p->rhs_col_stride, p->rhs_depth_stride);
                    r = rhs_t;
                }
                if (p->col_terms) {
                    ct = p->col_terms + b0 * ts[0] + b1 * ts[1] + b2 * ts[2];
                } else {
                    const int32_t k_terms = depth * p->lhs_offset * p->rhs_offset;
                    for (j = 0; j < p->cols; ++j) {
                        p->scratch[j] = p->lhs_offset * mcf_bmm_sum(r + j * rcs, depth) + k_terms;
                    }
                    ct = p->scratch;
                }
                mcf_bmm_one(p, l, lrs, r, rcs, ct, output);
                output += size;
            }
        }
    }
}
