/* softmax_s8.c - portable int8 softmax using 32-bit fixed-point exp and reciprocal. */
#include "softmax_s8.h"

#include "mcf_common.h"
#include "mcf_fixedpoint.h"

/* Integer bits of the scaled difference fed to exp (Q5.26) and of the sum of exps (Q12.19). */
#define MCF_SOFTMAX_DIFF_BITS 5
#define MCF_SOFTMAX_SUM_BITS 12

/* exp(beta * input_scale * diff) in Q0 for a difference with diff_min <= diff <= 0. Out of line:
 * both passes call it, and inlined twice it would double the kernel's code (one call per element). */
static MCF_NOINLINE int32_t mcf_softmax_exp(const mcf_softmax_params *p, int32_t diff)
{
    /* |diff| <= -diff_min keeps |diff| * 2^input_left_shift below 31 * 2^26 (no overflow). */
    const int32_t scaled = mcf_sat_round_doubling_high_mul(
        (int32_t)((uint32_t)diff << p->input_left_shift), p->input_multiplier);
    return mcf_fp_exp_on_negative_values(scaled, MCF_SOFTMAX_DIFF_BITS);
}

/* First pass over one row: its maximum, and 1 / sum(exp) as a Q0 value `*recip` together with
 * the right shift that turns recip * exp (a Q0 probability) into units of 2^-output_bits. */
static int32_t mcf_softmax_row(const mcf_softmax_params *p, const int8_t *x, int32_t output_bits, int32_t *recip,
                               int32_t *exponent)
{
    int32_t max = INT8_MIN;
    uint32_t sum = 0u;
    int32_t bits_over_unit;
    int32_t c;
    for (c = 0; c < p->depth; ++c) {
        max = MCF_MAX(max, (int32_t)x[c]);
    }
    for (c = 0; c < p->depth; ++c) {
        const int32_t diff = (int32_t)x[c] - max;
        if (diff >= p->diff_min) {
            /* Q0 -> Q12: each term is in [0, 2^19] (1.0 in Q12.19), so the sum cannot wrap for
             * depth < 4096; beyond that it wraps modulo 2^32 as the reference's does. */
            sum += (uint32_t)mcf_rounding_divide_by_pot(mcf_softmax_exp(p, diff), MCF_SOFTMAX_SUM_BITS);
        }
    }
    /* sum >= 1.0 (the maximum contributes exp(0)), so 1/sum = recip * 2^-bits_over_unit. */
    *recip = mcf_fp_reciprocal((int32_t)sum, MCF_SOFTMAX_SUM_BITS, &bits_over_unit);
    /* Q0 has 31 fractional bits, the output 8 (or 16). The reference requires the shift to lie in
     * [0, 31] and stops otherwise (only for very long rows); we clamp. */
    *exponent = mcf_clamp(bits_over_unit + 31 - output_bits, 0, 31);
    return max;
}

void mcf_softmax_s8(const mcf_softmax_params *p, const int8_t *input, int8_t *output)
{
    int32_t r;
    for (r = 0; r < p->outer; ++r) {
        const int8_t *x = input + r * p->depth;
        int8_t *y = output + r * p->depth;
        int32_t recip;
        int32_t exponent;
        const int32_t max = mcf_softmax_row(p, x, 8, &recip, &exponent);
        int32_t c;
        for (c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)x[c] - max;
            int32_t q = INT8_MIN;
            if (diff >= p->diff_min) {
                q = mcf_rounding_divide_by_pot(
                        mcf_sat_round_doubling_high_mul(recip, mcf_softmax_exp(p, diff)), exponent) +
                    INT8_MIN;
                q = mcf_clamp(q, INT8_MIN, INT8_MAX);
            }
            y[c] = (int8_t)q;
        }
    }
}

void mcf_softmax_s8_s16(const mcf_softmax_params *p, const int8_t *input, int16_t *output)
{
    int32_t r;
    for (r = 0; r < p->outer; ++r) {
        const int8_t *x = input + r * p->depth;
        int16_t *y = output + r * p->depth;
        int32_t recip;
        int32_t exponent;
        const int32_t max = mcf_softmax_row(p, x, 16, &recip, &exponent);
        int32_t c;
        for (c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)x[c] - max;
            int32_t q = INT16_MIN;
            if (diff >= p->diff_min) {
                q = mcf_rounding_divide_by_pot(
                        mcf_sat_round_doubling_high_mul(recip, mcf_softmax_exp(p, diff)), exponent) +
                    INT16_MIN;
                q = mcf_clamp(q, INT16_MIN, INT16_MAX);
            }
            y[c] = (int16_t)q;
        }
    }
}
