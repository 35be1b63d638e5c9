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

/* Largest number of loop dimensions a broadcasting elementwise kernel walks (after the compiler
 * merged every run of dimensions that broadcast the same way). */
#define MCF_BCAST_MAX_DIMS 8

/*
 * One step of an odometer over the outer loop dimensions of a broadcasting elementwise kernel.
 * `dims[0..n-1]` are the outer extents (outermost first), `stride1`/`stride2` the element strides
 * of each input along them (0 where that input is broadcast), `idx` the current position and
 * `*off1`/`*off2` the current element offsets, all updated in place.
 */
static inline void mcf_bcast_advance(int32_t n, const int32_t *dims, const int32_t *stride1,
                                     const int32_t *stride2, int32_t *idx, int32_t *off1,
                                     int32_t *off2)
{
    int32_t d;
    for (d = n - 1; d >= 0; --d) {
        ++idx[d];
        *off1 += stride1[d];
        *off2 += stride2[d];
        if (idx[d] < dims[d]) {
            return;
        }
        idx[d] = 0;
        *off1 -= stride1[d] * dims[d];
        *off2 -= stride2[d] * dims[d];
    }
}

/* Filter taps [*lo, *hi) of a window starting at input coordinate `origin` (negative inside the
 * leading padding) that fall inside an input of `size`, with taps `dilation` apart. Taps outside
 * are skipped, as TFLite Micro skips them (they do not contribute the zero point). */
static inline void mcf_tap_range(int32_t origin, int32_t size, int32_t taps, int32_t dilation,
                                 int32_t *lo, int32_t *hi)
{
    const int32_t first = origin < 0 ? (-origin + dilation - 1) / dilation : 0;
    int32_t last = origin <= size - 1 ? (size - 1 - origin) / dilation + 1 : 0;
    if (last > taps) {
        last = taps;
    }
    *lo = first;
    *hi = last > first ? last : first;
}

#ifdef __cplusplus
}
#endif

#endif /* MCF_COMMON_H */
