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
#include <string.h> /* memcpy for compilers other than GCC and clang (MCF_COPY_FIXED) */
#if defined(__ARM_FEATURE_SAT) && !defined(MCF_PORTABLE_KERNELS) && !defined(MCF_EMULATE_DSP)
#include <arm_acle.h> /* __ssat */
#endif

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define MCF_NOINLINE __attribute__((noinline))
#define MCF_ALWAYS_INLINE __attribute__((always_inline)) inline
#define MCF_LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define MCF_NOINLINE
#define MCF_ALWAYS_INLINE inline
#define MCF_LIKELY(x) (x)
#endif

/*
 * A copy of a size known at compile time (a word, a halfword, a float's bits) that never becomes a
 * library call: GCC and clang expand __builtin_memcpy of a constant small size inline even with
 * -ffreestanding / -fno-builtin, where memcpy is an ordinary external function (Zephyr's minimal
 * libc copies byte by byte). Other compilers get memcpy, which they expand themselves.
 */
#if defined(__GNUC__) || defined(__clang__)
#define MCF_COPY_FIXED(dst, src, n) __builtin_memcpy((dst), (src), (n))
#else
#define MCF_COPY_FIXED(dst, src, n) memcpy((dst), (src), (n))
#endif

/*
 * Keeps GCC from recognizing the byte loops of mcf_copy_s8 / mcf_fill_s8 as memcpy / memset and
 * calling the library after all (-ftree-loop-distribute-patterns, on at -Os and -O2).
 */
#if defined(__GNUC__) && !defined(__clang__)
#define MCF_NO_LIBCALL_LOOPS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define MCF_NO_LIBCALL_LOOPS
#endif

/* Cores whose loads and stores take any address (Armv7-M and later, the host): the copy helpers
 * move a word at a time there, bytes elsewhere (Armv6-M). */
#if defined(__ARM_FEATURE_UNALIGNED) || defined(__x86_64__) || defined(__i386__) || defined(__aarch64__)
#define MCF_UNALIGNED_WORDS 1
#else
#define MCF_UNALIGNED_WORDS 0
#endif

#define MCF_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MCF_MAX(a, b) ((a) > (b) ? (a) : (b))

static inline int32_t mcf_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* v clamped to [lo, hi] as an int8; `full` (a constant where kernels specialize on it) says that
 * [lo, hi] is the whole int8 range: one SSAT on Arm cores that have it. */
static inline int8_t mcf_clamp8(int32_t v, int32_t lo, int32_t hi, int full)
{
    if (full) {
#if defined(__ARM_FEATURE_SAT) && !defined(MCF_PORTABLE_KERNELS) && !defined(MCF_EMULATE_DSP)
        return (int8_t)__ssat(v, 8);
#else
        return (int8_t)mcf_clamp(v, -128, 127);
#endif
    }
    return (int8_t)mcf_clamp(v, lo, hi);
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

/*
 * x * multiplier * 2^shift with multiplier in Q31; shift > 0 is a left shift. Every caller passes
 * a multiplier computed by mcuforge.generator.quant: 0 or in [2^30, 2^31), never negative.
 *
 * The reference form is TFLite Micro's MultiplyByQuantizedMultiplier: a saturating rounding
 * doubling high multiply, then a rounding right shift by e = -shift. Unless the kernels are built
 * with MCF_PORTABLE_KERNELS, the usual case e >= 2 takes a shorter route to the same value:
 *
 *   1. SRDHM(x, m) = floor((x*m + 2^30) / 2^31) for m >= 0 (TFLite nudges negative products by
 *      1 - 2^30 and truncates toward zero, which is the same floor; the saturating case needs
 *      m = INT32_MIN). Call that t.
 *   2. RDBP(t, e) = floor((t + 2^(e-1) - [t < 0]) / 2^e)   (round half away from zero).
 *   3. Nested floors of divisions by powers of two combine, so the result is
 *      floor((x*m + 2^30 + (2^(e-1) - [t < 0]) * 2^31) / 2^(31+e)), with no overflow in int64
 *      (|x*m| < 2^62). [t < 0] may be replaced by [x < 0]: they differ only when t = 0, and then
 *      both give 0.
 *   4. The constant is 2^30 + 2^(e+30) - [x < 0] * 2^31; as a 64-bit value it has low word
 *      0x40000000 (x >= 0) or 0xC0000000 (x < 0) and high word 2^(e-2) - [x < 0]. One SMLAL adds
 *      x*m to it, and because 31 + e >= 32 the result is the high word shifted right by e - 1.
 * tests/test_kernel_fixedpoint.py compares both forms on a sweep of values and all shifts.
 */
static inline int32_t mcf_requantize_right(int32_t x, int32_t multiplier, uint32_t round_high,
                                           int32_t rshift)
{
    /* round_high = 2^(e-2), rshift = e - 1, for a right shift by e >= 2 (see below) */
    const uint32_t neg = (uint32_t)x >> 31;
    const uint64_t c = ((uint64_t)(round_high - neg) << 32) | (0x40000000u | (neg << 31));
    const uint64_t w = c + (uint64_t)((int64_t)x * multiplier);
    return (int32_t)(w >> 32) >> rshift;
}

static inline int32_t mcf_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
#if !defined(MCF_PORTABLE_KERNELS)
    if (MCF_LIKELY(shift <= -2)) {
        return mcf_requantize_right(x, multiplier, (uint32_t)1 << (-shift - 2), -shift - 1);
    }
#endif
    {
        const int32_t left = shift > 0 ? shift : 0;
        const int32_t right = shift > 0 ? 0 : -shift;
        return mcf_rounding_divide_by_pot(
            mcf_sat_round_doubling_high_mul((int32_t)((uint32_t)x << left), multiplier), right);
    }
}

/*
 * mcf_requantize(x, multiplier, shift) for one fixed multiplier (>= 0) and a shift <= 0, with the
 * constants of the short route (see mcf_requantize) computed once, e = -shift:
 *   e >= 1: floor((x*m + 2^30 + 2^(e+30) - [x < 0] * 2^31) / 2^(31+e))
 *   e == 0: floor((x*m + 2^30) / 2^31)   (the saturating high multiply alone, m >= 0)
 * For loops that rescale many values with the same parameters (elementwise ADD/SUB).
 */
typedef struct {
    int32_t multiplier;
    int32_t rshift;  /* e - 1 for e >= 1; -1 for e == 0 */
    uint64_t c_pos;  /* the 64-bit constant for x >= 0 */
    uint64_t c_neg;  /* for x < 0 */
} mcf_rescaler;

static inline mcf_rescaler mcf_rescaler_make(int32_t multiplier, int32_t shift)
{
    mcf_rescaler r;
    const int32_t e = -shift; /* 0..31 */
    r.multiplier = multiplier;
    r.rshift = e - 1;
    r.c_pos = ((uint64_t)1 << 30) + (e >= 1 ? (uint64_t)1 << (e + 30) : 0u);
    r.c_neg = r.c_pos - (e >= 1 ? (uint64_t)1 << 31 : 0u);
    return r;
}

static inline int32_t mcf_rescale(const mcf_rescaler *r, int32_t x)
{
    const uint64_t w = (x < 0 ? r->c_neg : r->c_pos) + (uint64_t)((int64_t)x * r->multiplier);
    if (r->rshift >= 0) {
        return (int32_t)(w >> 32) >> r->rshift;
    }
    return (int32_t)((uint32_t)(w >> 31)); /* e == 0: |result| < 2^31, the low 32 bits of w >> 31 */
}

/*
 * onnxruntime's output stage (CPU provider, MLAS): the int32 sum converted to float32, multiplied
 * by the float32 scale, rounded half to even; the caller adds the zero point and saturates. The
 * scale arrives as its IEEE-754 bit pattern (mcuforge stores float scales in the kernels' int32
 * multiplier arrays, see docs/kernels.md "Float32 requantization"). Clamping the product to
 * [-1024, 1024] before rounding changes no int8 result (every bound the caller clamps to is
 * inside it) and keeps the rounding trick exact: for |v| < 2^22, v + 1.5 * 2^23 lands where one
 * unit is the last place, so the addition itself rounds v half to even (the default IEEE mode,
 * which both FPU instructions and libgcc's soft-float use); subtracting the constant is exact.
 * Needs IEEE single precision without -ffast-math (no reassociation).
 */
#ifndef MCF_REQUANT_F32_SOFT
#if (defined(__arm__) && !(defined(__ARM_FP) && (__ARM_FP & 4))) || (defined(__riscv) && !defined(__riscv_flen))
#define MCF_REQUANT_F32_SOFT 1
#else
#define MCF_REQUANT_F32_SOFT 0
#endif
#endif

static inline int32_t mcf_round_f32(float v)
{
#if MCF_REQUANT_F32_SOFT
    /* the same from the bits: biased exponent e, value m * 2^(e - 150) with m the 24-bit
     * significand; below 0.5 (e < 126) it rounds to 0, from 1024 (e >= 137) it saturates */
    uint32_t b;
    int32_t e, r, q;
    MCF_COPY_FIXED(&b, &v, sizeof b);
    e = (int32_t)((b >> 23) & 0xFFu);
    if (e < 126) {
        return 0;
    }
    if (e >= 137) {
        q = 1024;
    } else {
        const uint32_t m = (b & 0x7FFFFFu) | 0x800000u;
        r = 150 - e; /* 14..24 */
        q = (int32_t)((m + ((1u << (r - 1)) - 1u) + ((m >> r) & 1u)) >> r);
    }
    return (b >> 31) ? -q : q;
#else
    v = v < -1024.0f ? -1024.0f : (v > 1024.0f ? 1024.0f : v);
    v = (v + 12582912.0f) - 12582912.0f;
    return (int32_t)v;
#endif
}

static inline float mcf_f32_from_bits(int32_t bits)
{
    float f;
    MCF_COPY_FIXED(&f, &bits, sizeof f);
    return f;
}

/*
 * Where float32 arithmetic is not an instruction (Cortex-M0/M3, RV32 without F; on any compiler with
 * -DMCF_REQUANT_F32_SOFT=1, which the host tests use), mcf_requant_f32 computes the same result in
 * integers instead of calling libgcc's soft-float (about 200 instructions per output on a
 * Cortex-M3). The value is |acc| * m * 2^(e - 150) for the scale's 24-bit significand m and
 * biased exponent e (scales are positive and normal). float32 rounds twice: the product to 24
 * significant bits, then that to an integer, each half to even.
 */

/* a >> sh (1 <= sh <= 63) rounded half to even. */
static inline uint64_t mcf_shift_rne_u64(uint64_t a, int32_t sh)
{
    return (a + (((uint64_t)1 << (sh - 1)) - 1u) + ((a >> sh) & 1u)) >> sh;
}

/* Both roundings done one after the other, for every input: the rare cases the short route of
 * mcf_requant_f32 leaves (|acc| >= 2^24 or 0, results of 0 or beyond +-1024, and sums within
 * 2^31 / 2^K of a rounding boundary). |result| <= 1024, as mcf_round_f32. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((cold))
#endif
static MCF_NOINLINE int32_t mcf_requant_f32_exact(int32_t acc, int32_t scale_bits)
{
    uint64_t a = acc < 0 ? 0u - (uint32_t)acc : (uint32_t)acc;
    const uint32_t sb = (uint32_t)scale_bits;
    const int32_t se = (int32_t)((sb >> 23) & 0xFFu);
    int32_t e = se - 150, n = 0;
    uint32_t v;
    if (a == 0u || se == 0) {
        return 0; /* a zero or subnormal scale: |acc * scale| < 2^-94 */
    }
    if (se == 0xFF) {
        v = 1024u; /* infinite: saturates */
    } else {
        if (a >= 0x1000000u) { /* float32(acc): 24 significant bits */
            while ((a >> n) >= 0x1000000u) {
                ++n;
            }
            a = mcf_shift_rne_u64(a, n);
            e += n;
        }
        a *= (sb & 0x7FFFFFu) | 0x800000u; /* < 2^49 */
        n = 0;
        while ((a >> n) >= 0x1000000u) {
            ++n;
        }
        if (n > 0) { /* the product: 24 significant bits */
            a = mcf_shift_rne_u64(a, n);
            e += n;
        }
        /* a * 2^e with 2^23 <= a <= 2^24, to an integer */
        v = e >= -13 ? 1024u : (e <= -25 ? 0u : (uint32_t)mcf_shift_rne_u64(a, -e));
        v = v > 1024u ? 1024u : v;
    }
    return acc < 0 ? -(int32_t)v : (int32_t)v;
}

/*
 * The short route, in signed arithmetic: with c the count of acc's redundant sign bits
 * (acc ^ (acc >> 31), or'ed with 1 so that 0 and -1 count as 1), x = acc << (c - 1) has a magnitude
 * in [2^30, 2^31] (or is 0), and the product p = x * m one below 2^55. float32's two roundings move
 * it by less than 2^31 together: float32(acc) by at most 2^(7 - c) (0 for |acc| <= 2^24), that is
 * below 2^6 * m < 2^30 in p's units, and the product's rounding by at most 2^30. The result is p / 2^K
 * rounded, K = 149 + c - e = 32 + s. With h = floor(p / 2^32), the exact value lies in
 * (h - 1/2, h + 3/2) in units of 2^32, so floor((h + 2^(s-1)) / 2^s), rounding h half up, is all
 * three roundings' result unless h mod 2^s is 2^(s-1) or 2^(s-1) - 1 (p within 2^32 + 2^31 of a
 * rounding boundary, a tie included). Both of those are 0 or all ones modulo 2^(s-1), the only
 * values for which (h - 1) >> (s - 1) and (h + 1) >> (s - 1) differ: where they agree, both equal
 * h >> (s - 1), the result is (((h + 1) >> (s - 1)) + 1) >> 1 (rounding half up and half to even
 * agree, for negative values too), and elsewhere (twice the band that matters, a share of about
 * 2^(2 - s)) the exact route decides. For 1 <= s <= 32 (s = 1 always takes the exact route); a
 * larger s gives 0 (|acc * scale| < 2^-9). The scale must be positive (onnxruntime's are ratios of
 * positive scales): s - 1 = (c - 1) - (e - 117), with e - 117 taken as (sb - 117 * 2^23) >> 23 (one
 * subtraction with a shifted operand on Thumb-2). A result beyond +-1024 is not clamped here (a
 * small s can give up to 2^22 in magnitude, the exact route 1024): every caller adds a zero point
 * and saturates to 8 bits, where all of them saturate alike.
 */
static inline int32_t mcf_requant_f32_soft(int32_t acc, int32_t scale_bits)
{
    const uint32_t sb = (uint32_t)scale_bits;
    /* c - 1 (acc ^ (acc >> 31) has a clear top bit) */
    const int32_t c1 = (int32_t)__builtin_clz((((uint32_t)acc ^ (uint32_t)(acc >> 31)) << 1) | 1u);
    const int32_t s1 = c1 - ((int32_t)(sb - (117u << 23)) >> 23); /* s - 1 = c + 116 - e */
    if (MCF_LIKELY((uint32_t)s1 <= 31u)) {
        const int64_t p = (int64_t)(int32_t)((uint32_t)acc << c1) * (int32_t)((sb & 0x7FFFFFu) | 0x800000u);
        const int32_t h = (int32_t)(uint32_t)((uint64_t)p >> 32); /* |h| < 2^23 */
        const int32_t q = (h + 1) >> s1;
        if (MCF_LIKELY(q == ((h - 1) >> s1))) {
            return (q + 1) >> 1;
        }
    } else if (s1 > 31) {
        return 0;
    }
    return mcf_requant_f32_exact(acc, scale_bits);
}

/*
 * The short route with its per-channel work done at compile time (generator/ops/float_requant.py,
 * soft_constants), for kernels whose sums have a known bound B (|acc| <= B for every input). Two words
 * per channel: mq = m * 2^t (the scale's 24-bit significand shifted by t <= 7), and
 * pq = a | s << 8 | (2^(s-1) + 1) << 16, chosen so that x = acc * 2^a fits int32 (B * 2^a < 2^31)
 * and acc * scale = x * mq / 2^(32 + s) exactly, with 1 <= s <= 14 (s = 118 + t + a - e). With h the
 * high word of x * mq and g = h + 2^(s-1), floor(g / 2^s) is the exact product rounded half up. Both
 * float32 roundings (of acc, then of the product) move the product by less than |acc * scale| * 2^-23,
 * below 2^-15 while |acc * scale| < 2^8; outside that, both results are beyond +-256 on the same side
 * and every caller saturates them alike (zero points in [-128, 127], int8 outputs). So the short result
 * is onnxruntime's unless the exact value lies within 2^-s of a rounding boundary (g mod 2^s is 0 or
 * 2^s - 1: (g + 1) >> s and (g - 1) >> s then differ); those (a share of 2^(1-s), ties included) take
 * the cold route. pq = 0 marks a channel the constants cannot serve (a scale below 2^-23 or not
 * normal, a bound too wide): mq then holds the scale's bits, and every output takes the cold route.
 * Per output: LSL, SMULL, ADD, ASR, SUB, ASR, CMP, branch.
 */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((cold))
#endif
static MCF_NOINLINE int32_t mcf_requant_f32_pre_cold(int32_t acc, int32_t mq, int32_t pq)
{
    const int32_t s = (pq >> 8) & 0xFF;
    int32_t t, e;
    if (s == 0) {
        return mcf_requant_f32_soft(acc, mq);
    }
    t = 8 - (int32_t)__builtin_clz((uint32_t)mq); /* mq = m * 2^t, 2^23 <= m < 2^24 */
    e = 118 + t + (pq & 0xFF) - s;
    return mcf_requant_f32_exact(acc, (int32_t)(((uint32_t)e << 23) | (((uint32_t)mq >> t) & 0x7FFFFFu)));
}

static inline int32_t mcf_requant_f32_pre(int32_t acc, int32_t mq, int32_t pq)
{
    const int32_t s = (pq >> 8) & 0xFF;
    const int32_t x = (int32_t)((uint32_t)acc << (pq & 0xFF));
    const int32_t g = (int32_t)(uint32_t)((uint64_t)((int64_t)x * mq) >> 32) + (int32_t)((uint32_t)pq >> 16);
    const int32_t r = g >> s;
    if (MCF_LIKELY(r == ((g - 2) >> s))) {
        return r;
    }
    return mcf_requant_f32_pre_cold(acc, mq, pq);
}

/*
 * With a single-precision FPU: VCVTR rounds in the FPSCR's mode, round to nearest even after reset
 * (mcuforge never changes it), and saturates to int32; SSAT then bounds the result so that the
 * caller's zero point cannot overflow (|v| <= 2048 saturates int8 as 1024 does).
 */
#if defined(__arm__) && defined(__ARM_FP) && (__ARM_FP & 4) && defined(__GNUC__) && !defined(MCF_PORTABLE_KERNELS)
#define MCF_REQUANT_F32_VCVTR 1
#else
#define MCF_REQUANT_F32_VCVTR 0
#endif

static inline int32_t mcf_requant_f32(int32_t acc, int32_t scale_bits)
{
#if MCF_REQUANT_F32_SOFT
    return mcf_requant_f32_soft(acc, scale_bits);
#elif MCF_REQUANT_F32_VCVTR
    const float v = (float)acc * mcf_f32_from_bits(scale_bits);
    float r;
    int32_t i;
    __asm__("vcvtr.s32.f32 %0, %1" : "=t"(r) : "t"(v));
    MCF_COPY_FIXED(&i, &r, sizeof i);
#if defined(__ARM_FEATURE_SAT) && !defined(MCF_EMULATE_DSP)
    return __ssat(i, 12);
#else
    return i < -2048 ? -2048 : (i > 2047 ? 2047 : i);
#endif
#else
    return mcf_round_f32((float)acc * mcf_f32_from_bits(scale_bits));
#endif
}

/* x * s, rounded, plus z, rounded: two float32 roundings, never fused into one multiply-add (the
 * volatile keeps compilers that contract across statements, GCC in GNU C mode, from fusing them). */
static inline float mcf_mul_then_add_f32(float x, float s, float z)
{
    volatile float p = x * s;
    return p + z;
}

/*
 * a * r + c rounded once to float32 (a fused multiply-add, as onnxruntime's AVX2 QLinearAdd does)
 * for an integer |a| <= 256. With a single-precision FMA instruction (Cortex-M4F/M7/M33) that is
 * VFMA.F32. Elsewhere (M0/M3, RV32, the host) in double: a * r is exact (9 + 24 bits), the sum
 * s = p + c is rounded once more, and its exact error comes from the two-sum; s rounds to the right
 * float unless it fell exactly halfway between two floats while the error is not zero, and then the
 * float on the error's side is the answer.
 */
static inline float mcf_fma_small_f32_double(int32_t a, float r, float c)
{
    const double p = (double)a * (double)r;
    const double s = p + (double)c;
    const double t = s - p;
    const double err = (p - (s - t)) + ((double)c - t);
    const float f = (float)s;
    if (err != 0.0 && (double)f != s) {
        uint32_t bits;
        float g;
        MCF_COPY_FIXED(&bits, &f, sizeof bits);
        /* the float next to f on s's side (|s| > |f|: one step up in magnitude) */
        bits = ((s > (double)f) == (f >= 0.0f)) ? bits + 1u : bits - 1u;
        MCF_COPY_FIXED(&g, &bits, sizeof g);
        if (2.0 * s == (double)f + (double)g) {
            return ((err > 0.0) == (g > f)) ? g : f;
        }
    }
    return f;
}

/* Bits above the highest set one of a nonzero 64-bit value (its leading zeros). */
static inline int32_t mcf_clz64(uint64_t u)
{
    const uint32_t hi = (uint32_t)(u >> 32);
    return hi ? (int32_t)__builtin_clz(hi) : 32 + (int32_t)__builtin_clz((uint32_t)u);
}

/*
 * a * r + c rounded once to float32 in integers (cores without an FPU): for normal r and c and
 * |a| < 2^16, a * m_r and m_c (the significands; 0 for a zero c) are aligned on the smaller
 * exponent when the exponents differ by at most 22, which keeps the exact sum below 2^63; that sum
 * is rounded to 24 bits half to even; a zero a gives c. Every other case (subnormals, wider exponent
 * gaps, results outside the normal range) goes through the double-precision route.
 */
static inline float mcf_fma_small_f32_int(int32_t a, float r, float c)
{
    uint32_t rb, cb, bits;
    int32_t er, ec, d, e, n;
    MCF_COPY_FIXED(&rb, &r, sizeof rb);
    MCF_COPY_FIXED(&cb, &c, sizeof cb);
    er = (int32_t)((rb >> 23) & 0xFFu);
    ec = (int32_t)((cb >> 23) & 0xFFu);
    if (a == 0) {
        return c; /* 0 * r + c: c (or a zero of either sign, which rounds the same) */
    }
    if ((cb & 0x7FFFFFFFu) == 0u) {
        ec = er; /* c is zero: a * r alone, rounded once */
    }
    d = er - ec;
    if (MCF_LIKELY(er != 0 && er != 0xFF && ec != 0 && ec != 0xFF && a > -65536 && a < 65536 &&
                   d >= -22 && d <= 22)) {
        const int64_t mr = (int64_t)((rb & 0x7FFFFFu) | 0x800000u);
        const int64_t mc = (cb & 0x7FFFFFFFu) ? (int64_t)((cb & 0x7FFFFFu) | 0x800000u) : 0;
        const int64_t p = (rb >> 31) ? -(int64_t)a * mr : (int64_t)a * mr; /* |p| < 2^40 */
        const int64_t q = (cb >> 31) ? -mc : mc;
        const int64_t s = d >= 0 ? p * ((int64_t)1 << d) + q : p + q * ((int64_t)1 << -d);
        uint64_t u = s < 0 ? 0u - (uint64_t)s : (uint64_t)s;
        if (u == 0u) {
            return 0.0f;
        }
        e = (d >= 0 ? ec : er) - 150; /* value: s * 2^e */
        n = 64 - mcf_clz64(u);        /* significant bits */
        if (n > 24) {
            u = mcf_shift_rne_u64(u, n - 24);
            e += n - 24;
            if (u == 0x1000000u) {
                u >>= 1;
                ++e;
            }
        } else {
            u <<= 24 - n;
            e -= 24 - n;
        }
        e += 150; /* the biased exponent of u * 2^(e - 150), 2^23 <= u < 2^24 */
        if (e >= 1 && e <= 254) {
            float f;
            bits = (s < 0 ? 0x80000000u : 0u) | ((uint32_t)e << 23) | ((uint32_t)u & 0x7FFFFFu);
            MCF_COPY_FIXED(&f, &bits, sizeof f);
            return f;
        }
    }
    return mcf_fma_small_f32_double(a, r, c);
}

static inline float mcf_fma_small_f32(int32_t a, float r, float c)
{
#if defined(__ARM_FEATURE_FMA) && defined(__ARM_FP) && (__ARM_FP & 4)
    return __builtin_fmaf((float)a, r, c);
#elif MCF_REQUANT_F32_SOFT
    return mcf_fma_small_f32_int(a, r, c);
#else
    return mcf_fma_small_f32_double(a, r, c);
#endif
}

/* 1 where a kernel source is compiled for onnxruntime's output stage (each <kernel>_f32.c defines it
 * and includes <kernel>.c): the kernel's `#if MCF_REQUANT_F32` branches call mcf_requant_f32. */
#ifndef MCF_REQUANT_F32
#define MCF_REQUANT_F32 0
#endif

/*
 * The arrays a kernel's output stage reads per channel entry, from its params `p` with n entries
 * (1, or one per channel): TFLite's multiplier and shift; in a float32 copy, the scale bits in
 * `multiplier` (`shift` unused), or without an FPU the constants of mcf_requant_f32_pre, which the
 * compiler writes into `shift` ([mq[0..n-1], pq[0..n-1]], float_requant.soft_constants), and
 * MCF_REQUANT_F32_Q(acc, mult entry, shift entry) the matching output stage. In the TFLite copies the
 * macros are the plain fields (n is not evaluated).
 */
#if MCF_REQUANT_F32 && MCF_REQUANT_F32_SOFT
#define MCF_KMULT(p, n) ((p)->shift)
#define MCF_KSHIFT(p, n) ((p)->shift + (n))
#define MCF_REQUANT_F32_Q(acc, m, sh) mcf_requant_f32_pre((acc), (m), (sh))
#else
#define MCF_KMULT(p, n) ((p)->multiplier)
#define MCF_KSHIFT(p, n) ((p)->shift)
#define MCF_REQUANT_F32_Q(acc, m, sh) mcf_requant_f32((acc), (m))
#endif

/* n bytes from src to dst (regions do not overlap), without calling the C library. */
static MCF_NO_LIBCALL_LOOPS inline void mcf_copy_s8(int8_t *dst, const int8_t *src, int32_t n)
{
    int32_t i = 0;
#if MCF_UNALIGNED_WORDS
    for (; i + 4 <= n; i += 4) {
        uint32_t w;
        MCF_COPY_FIXED(&w, src + i, sizeof w);
        MCF_COPY_FIXED(dst + i, &w, sizeof w);
    }
#endif
    for (; i < n; ++i) {
        dst[i] = src[i];
    }
}

/* n copies of v at dst, without calling the C library. */
static MCF_NO_LIBCALL_LOOPS inline void mcf_fill_s8(int8_t *dst, int8_t v, int32_t n)
{
    int32_t i = 0;
#if MCF_UNALIGNED_WORDS
    const uint32_t w = (uint32_t)(uint8_t)v * 0x01010101u;
    for (; i + 4 <= n; i += 4) {
        MCF_COPY_FIXED(dst + i, &w, sizeof w);
    }
#endif
    for (; i < n; ++i) {
        dst[i] = v;
    }
}

/* n zeros at dst (small index and accumulator arrays), without calling the C library. */
static MCF_NO_LIBCALL_LOOPS inline void mcf_zero_i32(int32_t *dst, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        dst[i] = 0;
    }
}

/* Largest number of loop dimensions a broadcasting elementwise kernel walks (after the compiler
 * merged every run of dimensions that broadcast the same way). */
#define MCF_BCAST_MAX_DIMS 8

/* Starts an odometer over the n outer loop dimensions dims[0..n-1] of a broadcasting elementwise
 * kernel: idx all zero (a loop, not an initializer, which may become a memset call). Returns the
 * number of rows it steps through, the product of the extents. */
static MCF_ALWAYS_INLINE int32_t mcf_bcast_start(int32_t n, const int32_t *dims, int32_t *idx)
{
    int32_t rows = 1;
    int32_t d;
    mcf_zero_i32(idx, MCF_BCAST_MAX_DIMS);
    for (d = 0; d < n; ++d) {
        rows *= dims[d];
    }
    return rows;
}

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
