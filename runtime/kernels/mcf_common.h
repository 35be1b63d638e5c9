/*
 * mcf_common.h - integer helpers shared by the mcuforge kernels.
 *
 * The requantization here reproduces TFLite Micro's default ("double rounding") arithmetic
 * exactly: a saturating rounding doubling high multiply by a Q31 multiplier followed by a
 * rounding right shift. Multipliers and shifts are computed on the host by
 * mcuforge.generator.quant; kernels never see a float scale.
 */
#ifndef MCF_COMMON_H
#define MCF_COMMON_H

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MCF_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MCF_MAX(a, b) ((a) > (b) ? (a) : (b))

static inline int32_t mcf_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* round(a * b / 2^31) with ties away from zero; saturates the single overflow case. */
static inline int32_t mcf_sat_round_doubling_high_mul(int32_t a, int32_t b)
{
    int64_t ab;
    int64_t v;
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    ab = (int64_t)a * (int64_t)b;
    v = ab + (ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30)));
    /* division by 2^31 truncating toward zero, without a 64-bit divide */
    return (int32_t)(v >= 0 ? (v >> 31) : -((-v) >> 31));
}

/* x / 2^exponent rounded to nearest, ties away from zero; 0 <= exponent <= 31. */
static inline int32_t mcf_rounding_divide_by_pot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * multiplier * 2^shift with multiplier in Q31; shift > 0 is a left shift. */
static inline int32_t mcf_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    return mcf_rounding_divide_by_pot(
        mcf_sat_round_doubling_high_mul((int32_t)((uint32_t)x << left), multiplier), right);
}

#ifdef __cplusplus
}
#endif

#endif /* MCF_COMMON_H */
