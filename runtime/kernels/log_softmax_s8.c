/* log_softmax_s8.c - int8 log-softmax: the fixed-point exp sum of softmax_s8.c, then a fixed-point
 * natural logarithm of it (the gemmlowp-style rational approximation TFLite Micro uses). */
#include "log_softmax_s8.h"

#include "mcf_common.h"
#include "mcf_fixedpoint.h"

#define MCF_LS_DIFF_BITS 5   /* scaled differences and log(sum) in Q5.26 */
#define MCF_LS_SUM_BITS 12   /* the sum of exps in Q12.19 */
#define MCF_LS_ACCUM_BITS 6  /* the logarithm is accumulated in Q6.25 (one bit of headroom) */
#define MCF_LS_OUTPUT_BITS 4 /* the output grid, 16/256: 31 - 5 - 4 = 22 fraction bits dropped */

static inline int32_t mcf_ls_srdhm(int32_t a, int32_t b)
{
    return mcf_sat_round_doubling_high_mul(a, b);
}

static inline int32_t mcf_ls_sat_add(int32_t a, int32_t b)
{
    const int64_t s = (int64_t)a + (int64_t)b;
    return (int32_t)(s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : s));
}

static inline int32_t mcf_ls_sat_sub(int32_t a, int32_t b)
{
    const int64_t s = (int64_t)a - (int64_t)b;
    return (int32_t)(s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : s));
}

/* log(x) in Q5.26 for a Q12.19 value x >= 1. x = 2^k * z with z in [1/2, 1) (or the same for
 * x / sqrt(2), whichever leaves z closer to 2^-1/4); log z = 2 atanh((z - c) / (z + c)) around
 * c = 2^-1/4 by a rational approximation in Q0; k log 2 is added in Q6. */
static int32_t mcf_ls_log(int32_t x)
{
    const int32_t log_2 = 1488522236;          /* round(log(2) * 2^31) */
    const int32_t sqrt_sqrt_half = 1805811301; /* 2^-1/4 */
    const int32_t sqrt_half = 1518500250;      /* 2^-1/2 */
    const int32_t alpha_n = 117049297;         /* 11/240 * 2^1/4 */
    const int32_t alpha_d = 127690142;         /* 1/20 * 2^1/4 */
    const int32_t alpha_i = 1057819769;        /* 2 / 2^1/4 - 2^1/4 */
    const int32_t alpha_f = 638450708;         /* 1/4 * 2^1/4 */
    const int32_t quarter_accum = (int32_t)1 << (31 - MCF_LS_ACCUM_BITS - 2); /* 1/4 in Q6 */
    const int32_t za_headroom_plus_1 = mcf_fp_clz((uint32_t)x);
    const int32_t ra = mcf_fp_sat_shift_left(
        mcf_ls_srdhm(mcf_fp_sat_shift_left(x, za_headroom_plus_1 - 1), sqrt_half), 1);
    const int32_t za_pow2 = mcf_ls_sat_add(
        mcf_fp_sat_shift_left(MCF_LS_SUM_BITS - za_headroom_plus_1, 31 - MCF_LS_ACCUM_BITS),
        quarter_accum);
    const int32_t zb_headroom = mcf_fp_clz((uint32_t)mcf_ls_srdhm(x, sqrt_half)) - 1;
    const int32_t rb = mcf_fp_sat_shift_left(x, zb_headroom);
    const int32_t zb_pow2 = mcf_ls_sat_sub(
        mcf_fp_sat_shift_left(MCF_LS_SUM_BITS - zb_headroom, 31 - MCF_LS_ACCUM_BITS), quarter_accum);
    const int32_t r = MCF_MIN(ra, rb);
    const int32_t pow2 = MCF_MAX(za_pow2, zb_pow2);
    const int32_t p = mcf_fp_rounding_half_sum(r, sqrt_sqrt_half);
    const int32_t q0 = mcf_fp_sub(r, sqrt_sqrt_half);
    const int32_t q = mcf_fp_add(q0, q0);
    const int32_t q_sq = mcf_ls_srdhm(q, q);
    const int32_t num = mcf_fp_add(mcf_ls_srdhm(q, r), mcf_ls_srdhm(mcf_ls_srdhm(q, q_sq), alpha_n));
    const int32_t denom_minus_one = mcf_fp_add(
        mcf_ls_srdhm(p, mcf_fp_add(mcf_fp_add(alpha_i, q), mcf_ls_srdhm(alpha_d, q_sq))),
        mcf_ls_srdhm(alpha_f, q));
    const int32_t recip_denom = mcf_fp_one_over_one_plus_x(denom_minus_one);
    const int32_t num_scaled = mcf_rounding_divide_by_pot(num, MCF_LS_ACCUM_BITS);
    const int32_t sum = mcf_fp_add(mcf_ls_srdhm(pow2, log_2), mcf_ls_srdhm(num_scaled, recip_denom));
    return mcf_fp_sat_shift_left(sum, MCF_LS_ACCUM_BITS - MCF_LS_DIFF_BITS); /* Q6 -> Q5 */
}

/* A difference (diff_min <= d <= 0) scaled into Q5.26; |d| << shift cannot overflow there. */
static inline int32_t mcf_ls_scaled(const mcf_log_softmax_params *p, int32_t diff)
{
    return mcf_ls_srdhm((int32_t)((uint32_t)diff << p->input_left_shift), p->input_multiplier);
}

void mcf_log_softmax_s8(const mcf_log_softmax_params *p, const int8_t *input, int8_t *output)
{
    int32_t r;
    for (r = 0; r < p->outer; ++r) {
        const int8_t *x = input + r * p->depth;
        int8_t *y = output + r * p->depth;
        int32_t max = INT8_MIN;
        int32_t sum = 0;
        int32_t log_sum;
        int32_t lowest;
        int32_t c;
        for (c = 0; c < p->depth; ++c) {
            max = MCF_MAX(max, (int32_t)x[c]);
        }
        for (c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)x[c] - max;
            if (diff >= p->diff_min) {
                /* each term <= 2^19 (1.0 in Q12.19): no wrap below 4096 terms */
                sum = mcf_fp_add(sum, mcf_rounding_divide_by_pot(
                                          mcf_fp_exp_on_negative_values(mcf_ls_scaled(p, diff),
                                                                        MCF_LS_DIFF_BITS),
                                          MCF_LS_SUM_BITS));
            }
        }
        log_sum = mcf_ls_log(sum);
        /* the most negative difference whose output is still above the int8 range: the
         * smallest Q5.26 value plus log(sum), scaled back onto the input grid */
        lowest = MCF_MAX(p->diff_min - 1,
                         mcf_requantize(mcf_fp_add(log_sum, INT32_MIN), p->reverse_multiplier,
                                        p->reverse_shift));
        for (c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)x[c] - max;
            int32_t q = INT8_MIN;
            if (diff > lowest) {
                q = mcf_rounding_divide_by_pot(mcf_fp_sub(mcf_ls_scaled(p, diff), log_sum),
                                               31 - MCF_LS_DIFF_BITS - MCF_LS_OUTPUT_BITS) +
                    INT8_MAX;
                q = mcf_clamp(q, INT8_MIN, INT8_MAX);
            }
            y[c] = (int8_t)q;
        }
    }
}
