/*
 * mcf_fixedpoint.h - 32-bit fixed-point math shared by the mcuforge kernels.
 *
 * Notation: a value in "Qm" has m integer bits and 31 - m fractional bits in an int32_t, so it
 * covers [-2^m, 2^m). Q0 covers [-1, 1) and its largest value (INT32_MAX) stands for 1.
 * The product of a Qa and a Qb value is a Q(a+b) value computed with
 * mcf_sat_round_doubling_high_mul (round(a * b / 2^31), saturating -1 * -1).
 *
 * These functions reproduce, bit for bit, the fixed-point exp / reciprocal arithmetic that
 * TensorFlow Lite Micro's quantized SOFTMAX, LOGISTIC and TANH use (the gemmlowp "fixedpoint"
 * algorithms): the same polynomial, the same Newton-Raphson steps, the same rounding at every
 * step. Integer only; no division except by 2. The mirror of this file on the host side is
 * mcuforge.generator.ops.fixedpoint (used to build lookup tables ahead of time).
 *
 * Plain additions here wrap modulo 2^32 (done on uint32_t to stay clear of undefined
 * behaviour); in every caller the operands are bounded so that they do not actually wrap.
 */
#ifndef MCF_FIXEDPOINT_H
#define MCF_FIXEDPOINT_H

#include <stdint.h>

#include "mcf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Q0 "one" (the largest Q0 value) and Q2 one (exactly 2^29). */
#define MCF_FP_Q0_ONE INT32_MAX
#define MCF_FP_Q2_ONE ((int32_t)1 << 29)

static inline int32_t mcf_fp_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t mcf_fp_sub(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

/* Number of leading zero bits of x (32 for x == 0). */
static inline int32_t mcf_fp_clz(uint32_t x)
{
#if defined(__GNUC__)
    return x ? (int32_t)__builtin_clz(x) : 32;
#else
    int32_t n = 0;
    if (x == 0u) {
        return 32;
    }
    while ((x & 0x80000000u) == 0u) {
        x <<= 1;
        ++n;
    }
    return n;
#endif
}

/* x * 2^exponent for 0 <= exponent <= 31, saturated to the int32 range. */
static inline int32_t mcf_fp_sat_shift_left(int32_t x, int32_t exponent)
{
    int32_t limit;
    if (exponent == 0) {
        return x;
    }
    limit = (int32_t)((((int64_t)1) << (31 - exponent)) - 1);
    if (x > limit) {
        return INT32_MAX;
    }
    if (x < -limit) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* (a + b) / 2 rounded to nearest, halves away from zero. */
static inline int32_t mcf_fp_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* exp(a) for a Q0 value a in [-1/4, 0); result in Q0.
 * Fourth-order Taylor expansion around -1/8: with x = a + 1/8,
 * exp(a) = exp(-1/8) * (1 + x + x^2/2 + x^3/6 + x^4/24). */
static inline int32_t mcf_fp_exp_quarter(int32_t a)
{
    const int32_t exp_minus_eighth = 1895147668; /* round(exp(-1/8) * 2^31) */
    const int32_t one_third = 715827883;         /* round(2^31 / 3) */
    const int32_t x = mcf_fp_add(a, (int32_t)1 << 28); /* + 1/8 */
    const int32_t x2 = mcf_sat_round_doubling_high_mul(x, x);
    const int32_t x3 = mcf_sat_round_doubling_high_mul(x2, x);
    const int32_t x4 = mcf_sat_round_doubling_high_mul(x2, x2);
    const int32_t x4_quarter = mcf_rounding_divide_by_pot(x4, 2);
    /* ((x^4/4 + x^3) / 3 + x^2) / 2 = x^4/24 + x^3/6 + x^2/2 */
    const int32_t tail = mcf_rounding_divide_by_pot(
        mcf_fp_add(mcf_sat_round_doubling_high_mul(mcf_fp_add(x4_quarter, x3), one_third), x2), 1);
    return mcf_fp_add(exp_minus_eighth,
                      mcf_sat_round_doubling_high_mul(exp_minus_eighth, mcf_fp_add(x, tail)));
}

/* exp(a) for a <= 0 given in Q(integer_bits), 0 <= integer_bits <= 29; result in Q0.
 * a is split as (a mod 1/4 - 1/4) + (multiple of 1/4): the first part goes through the
 * polynomial, the second is a sum of powers of two whose exponentials are multiplied in from
 * a table of exp(-2^k). exp(0) is exactly the Q0 one. */
static inline int32_t mcf_fp_exp_on_negative_values(int32_t a, int32_t integer_bits)
{
    /* round(exp(-2^k) * 2^31) for k = -2 .. 4 */
    static const int32_t exp_minus_pot[7] = {1672461947, 1302514674, 790015084, 290630308,
                                              39332535, 720401, 242};
    const int32_t frac_bits = 31 - integer_bits;
    const int32_t quarter = (int32_t)1 << (frac_bits - 2);
    const int32_t a_mod_quarter_minus_quarter = mcf_fp_sub(a & (quarter - 1), quarter);
    const int32_t remainder = mcf_fp_sub(a_mod_quarter_minus_quarter, a);
    int32_t result = mcf_fp_exp_quarter(mcf_fp_sat_shift_left(a_mod_quarter_minus_quarter, integer_bits));
    int32_t k;
    for (k = -2; k <= 4; ++k) {
        /* bit (frac_bits + k) of the remainder stands for 2^k */
        if (integer_bits > k && (remainder & ((int32_t)1 << (frac_bits + k))) != 0) {
            result = mcf_sat_round_doubling_high_mul(result, exp_minus_pot[k + 2]);
        }
    }
    if (integer_bits > 5 && a < -((int32_t)1 << (36 - integer_bits))) {
        result = 0; /* below -32: exp underflows Q0 */
    }
    return a == 0 ? MCF_FP_Q0_ONE : result;
}

/* Q2 Newton-Raphson estimate of 1 / d for the Q0 value d = (1 + a) / 2, a in [0, 1):
 * start from 48/17 - 32/17 * d and refine three times with x += x * (1 - d * x). */
static inline int32_t mcf_fp_reciprocal_half_denominator_q2(int32_t a)
{
    const int32_t forty_eight_17ths = 1515870810;   /* round(48/17 * 2^29) */
    const int32_t minus_thirty_two_17ths = -1010580540; /* round(-32/17 * 2^29) */
    const int32_t half_denominator = mcf_fp_rounding_half_sum(a, MCF_FP_Q0_ONE);
    int32_t x = mcf_fp_add(forty_eight_17ths,
                           mcf_sat_round_doubling_high_mul(half_denominator, minus_thirty_two_17ths));
    int32_t i;
    for (i = 0; i < 3; ++i) {
        const int32_t dx = mcf_sat_round_doubling_high_mul(half_denominator, x); /* Q2 */
        const int32_t err = mcf_fp_sub(MCF_FP_Q2_ONE, dx);                       /* Q2 */
        /* Q2 * Q2 = Q4, brought back to Q2 */
        x = mcf_fp_add(x, mcf_fp_sat_shift_left(mcf_sat_round_doubling_high_mul(x, err), 2));
    }
    return x;
}

/* 1 / (1 + a) for a Q0 value a in [0, 1); result in Q0. */
static inline int32_t mcf_fp_one_over_one_plus_x(int32_t a)
{
    /* x estimates 2 / (1 + a) in Q2; halving it is a Q1 value with the same raw bits. */
    return mcf_fp_sat_shift_left(mcf_fp_reciprocal_half_denominator_q2(a), 1);
}

/* (1 - a) / (1 + a) for a Q0 value a in [0, 1); result in Q0. */
static inline int32_t mcf_fp_one_minus_x_over_one_plus_x(int32_t a)
{
    return mcf_fp_sat_shift_left(mcf_fp_sub(mcf_fp_reciprocal_half_denominator_q2(a), MCF_FP_Q2_ONE), 2);
}

/* 1 / (1 + exp(-a)) for a in Q(integer_bits); result in Q0 (0.5 for a == 0). */
static inline int32_t mcf_fp_logistic(int32_t a, int32_t integer_bits)
{
    const int32_t abs_a = a > 0 ? a : mcf_fp_sub(0, a);
    const int32_t pos = mcf_fp_one_over_one_plus_x(mcf_fp_exp_on_negative_values(mcf_fp_sub(0, abs_a), integer_bits));
    if (a == 0) {
        return (int32_t)1 << 30;
    }
    return a > 0 ? pos : mcf_fp_sub(MCF_FP_Q0_ONE, pos);
}

/* tanh(a) for a in Q(integer_bits), computed as (1 - exp(-2|a|)) / (1 + exp(-2|a|)) with the
 * sign restored; result in Q0. Doubling is free: the same raw value read as Q(integer_bits+1). */
static inline int32_t mcf_fp_tanh(int32_t a, int32_t integer_bits)
{
    const int32_t neg_abs = a < 0 ? a : mcf_fp_sub(0, a);
    const int32_t t = mcf_fp_one_minus_x_over_one_plus_x(mcf_fp_exp_on_negative_values(neg_abs, integer_bits + 1));
    if (a == 0) {
        return 0;
    }
    return a < 0 ? mcf_fp_sub(0, t) : t;
}

/* 1 / x for a positive x in Q(x_integer_bits). Returns a Q0 value r and sets *bits_over_unit
 * to n such that 1 / x = r * 2^-n: x is normalised to 1 + f with f in [0, 1) by a left shift
 * of its leading one up to bit 31 (then r = 1 / (1 + f)). */
static inline int32_t mcf_fp_reciprocal(int32_t x, int32_t x_integer_bits, int32_t *bits_over_unit)
{
    const int32_t lz = mcf_fp_clz((uint32_t)x);
    const uint32_t normalised = lz >= 32 ? 0u : ((uint32_t)x << lz);
    *bits_over_unit = x_integer_bits - lz;
    return mcf_fp_one_over_one_plus_x((int32_t)(normalised - 0x80000000u));
}

#ifdef __cplusplus
}
#endif

#endif /* MCF_FIXEDPOINT_H */
