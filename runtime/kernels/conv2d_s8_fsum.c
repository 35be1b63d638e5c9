/* conv2d_s8_fsum.c - see conv2d_s8_fsum.h. */
#include "conv2d_s8_fsum.h"

#include "mcf_common.h"
#include "mcf_dsp.h" /* MCF_FSUM_HW_FMA, MCF_FSUM_INT */

#if !MCF_FSUM_HW_FMA
/* fma(a, b, c) rounded once to float32 through double precision, for any operands: a * b is exact
 * in double (two 24-bit significands), s = a * b + c rounds once in double and its exact error comes
 * from the two-sum; (float)s is the right answer unless s fell exactly halfway between two floats
 * while the error is not zero, and then the float on the error's side is. */
static MCF_NOINLINE float mcf_fsum_fma_wide(float a, float b, float c)
{
    const double pr = (double)a * (double)b;
    const double s = pr + (double)c;
    const double t = s - pr;
    const double err = (pr - (s - t)) + ((double)c - t);
    const float f = (float)s;
    if (err != 0.0 && (double)f != s) {
        uint32_t bits;
        float g;
        MCF_COPY_FIXED(&bits, &f, sizeof bits);
        bits = ((s > (double)f) == (f >= 0.0f)) ? bits + 1u : bits - 1u; /* the float past f, toward s */
        MCF_COPY_FIXED(&g, &bits, sizeof g);
        if (2.0 * s == (double)f + (double)g) {
            return ((err > 0.0) == (g > f)) ? g : f;
        }
    }
    return f;
}
#endif

#if MCF_FSUM_INT
/* The bits of a float, and back. */
static MCF_ALWAYS_INLINE uint32_t mcf_fsum_bits(float f)
{
    uint32_t b;
    MCF_COPY_FIXED(&b, &f, sizeof b);
    return b;
}

static MCF_ALWAYS_INLINE float mcf_fsum_float(uint32_t b)
{
    float f;
    MCF_COPY_FIXED(&f, &b, sizeof f);
    return f;
}

/* What the integer routes return where the double or libgcc route takes over (a NaN pattern none
 * of them produces). */
#define MCF_FSUM_OTHER 0xFFFFFFFFu

/* The float sign | s * 2^(x - 190 - clz(s)) ... i.e. s (0 < s < 2^63) scaled so that its leading one
 * is bit 63, whose top 24 bits then are the significand and biased exponent x - clz(s): rounded half
 * to even on bit 39 (bits 38..0 sticky), a carry out of the significand moving into the exponent
 * field (2^24 adds one to it; 254 becomes 255 with a zero significand, the infinity round to
 * nearest gives past the largest float). MCF_FSUM_OTHER where the exponent is outside 1..254
 * (subnormal results, overflow). */
static MCF_ALWAYS_INLINE uint32_t mcf_fsum_round64(uint32_t sign, uint64_t s, int32_t x)
{
    const int32_t n = mcf_clz64(s);
    const int32_t e = x - n;
    uint32_t hi, lo;
    if ((uint32_t)(e - 1) >= 254u) {
        return MCF_FSUM_OTHER;
    }
    s <<= n;
    hi = (uint32_t)(s >> 32);
    lo = (uint32_t)s;
    return sign | (((uint32_t)(e - 1) << 23) + (hi >> 8) +
                   (uint32_t)((hi & 0x80u) != 0u && ((hi & 0x17Fu) | lo) != 0u));
}

/* fma(a, b, c) rounded once to float32 in integers, for normal a, b and a normal or zero c (any
 * other operands: mcf_fsum_fma_wide). The significands' product p (48 bits, one 32 x 32 -> 64
 * multiply) and c's significand q are placed with their leading ones at bit 60 or 61 (p << 14)
 * and bit 61 (q << 38), so that their sum stays below 2^63; the one with the smaller exponent is
 * shifted right by the exponents' difference, the bits shifted out ORed into its bit 0 (a sticky
 * bit: the other operand has 14 or 38 zero bits at the bottom, so the sum or difference is odd
 * exactly when bits were lost and lies on the same side of every rounding boundary, which are
 * at least two bits above bit 0 then); the magnitudes are added or subtracted, the result
 * normalized with CLZ and rounded half to even (mcf_fsum_round64). An exact zero difference is
 * +0. A zero a or b (the other finite): the product is a zero, c comes back unchanged, or for a
 * zero c the sum of two zeros (-0 only if both are). */
static MCF_NOINLINE float mcf_fsum_fma_exact(float a, float b, float c)
{
    const uint32_t ab = mcf_fsum_bits(a), bb = mcf_fsum_bits(b), cb = mcf_fsum_bits(c);
    const uint32_t ea = (ab >> 23) & 0xFFu, eb = (bb >> 23) & 0xFFu, ec = (cb >> 23) & 0xFFu;
    uint32_t sign = (ab ^ bb) & 0x80000000u;
    if (MCF_LIKELY(ea - 1u < 254u && eb - 1u < 254u && (ec - 1u < 254u || (cb << 1) == 0u))) {
        const uint32_t mb = (bb & 0x7FFFFFu) | 0x800000u;
        uint64_t p = (uint64_t)((ab & 0x7FFFFFu) | 0x800000u) * mb; /* [2^46, 2^48) */
        uint32_t r;
        int32_t x = (int32_t)(ea + eb) - 124;
        if ((cb << 1) == 0u) { /* a * b alone */
            r = mcf_fsum_round64(sign, p << 14, x);
        } else {
            const uint32_t mc = (cb & 0x7FFFFFu) | 0x800000u;
            const int32_t d = x - (int32_t)ec - 2; /* p << 14's exponent above q << 38's */
            uint64_t q;
            if (d >= 0) { /* q << 38 shifted right by d */
                if (d <= 38) {
                    q = (uint64_t)mc << (38 - d);
                } else if (d < 38 + 24) {
                    const int32_t k = d - 38;
                    q = (uint64_t)((mc >> k) | (uint32_t)((mc & ((1u << k) - 1u)) != 0u));
                } else {
                    q = 1u;
                }
                p <<= 14;
            } else { /* p << 14 shifted right by -d */
                const int32_t k = -d;
                if (k <= 14) {
                    p <<= 14 - k;
                } else if (k < 14 + 48) {
                    p = (p >> (k - 14)) | (uint64_t)((p & (((uint64_t)1 << (k - 14)) - 1u)) != 0u);
                } else {
                    p = 1u;
                }
                q = (uint64_t)mc << 38;
                x = (int32_t)ec + 2;
            }
            if (((cb ^ sign) >> 31) == 0u) {
                p += q;
            } else if (p >= q) {
                p -= q;
                if (p == 0u) {
                    return 0.0f;
                }
            } else {
                p = q - p;
                sign ^= 0x80000000u;
            }
            r = mcf_fsum_round64(sign, p, x);
        }
        if (MCF_LIKELY(r != MCF_FSUM_OTHER)) {
            return mcf_fsum_float(r);
        }
    } else if ((((ab << 1) == 0u && eb != 0xFFu) || ((bb << 1) == 0u && ea != 0xFFu)) && ec != 0xFFu) {
        return (cb << 1) != 0u ? c : mcf_fsum_float(cb & sign);
    }
    return mcf_fsum_fma_wide(a, b, c);
}

/* a * b and a + b by the C compiler: libgcc's soft-float, which rounds as IEEE does, for the
 * operands the integer routes below leave (subnormal, infinite, NaN, results outside the normal
 * range). */
static MCF_NOINLINE float mcf_fsum_mul_other(float a, float b)
{
    return a * b;
}

static MCF_NOINLINE float mcf_fsum_add_other(float a, float b)
{
    return a + b;
}

/* a * b rounded to float32 in integers, for normal a and b: the significands' product (48 bits,
 * its leading one at bit 47 or 46) taken as its top 32 bits with the leading one at bit 31 and the
 * bits below as sticky, rounded half to even on bit 7. A zero a or b (the other finite) gives a zero
 * of the product's sign. */
static MCF_ALWAYS_INLINE float mcf_fsum_mul(float a, float b)
{
    const uint32_t ab = mcf_fsum_bits(a), bb = mcf_fsum_bits(b);
    const uint32_t ea = (ab >> 23) & 0xFFu, eb = (bb >> 23) & 0xFFu;
    const uint32_t sign = (ab ^ bb) & 0x80000000u;
    if (MCF_LIKELY(ea - 1u < 254u && eb - 1u < 254u)) {
        const uint64_t p = (uint64_t)((ab & 0x7FFFFFu) | 0x800000u) * ((bb & 0x7FFFFFu) | 0x800000u);
        uint32_t hi = (uint32_t)(p >> 16), lo = (uint32_t)p & 0xFFFFu;
        uint32_t e = ea + eb - 126u; /* the biased exponent for a leading one at bit 47 */
        if (hi < 0x80000000u) {
            hi = (hi << 1) | (lo >> 15);
            lo = (lo << 1) & 0xFFFFu;
            --e;
        }
        if (MCF_LIKELY(e - 1u < 254u)) {
            return mcf_fsum_float(sign | (((e - 1u) << 23) + (hi >> 8) +
                                          (uint32_t)((hi & 0x80u) != 0u && ((hi & 0x17Fu) | lo) != 0u)));
        }
    } else if (((ab << 1) == 0u && eb != 0xFFu) || ((bb << 1) == 0u && ea != 0xFFu)) {
        return mcf_fsum_float(sign);
    }
    return mcf_fsum_mul_other(a, b);
}

/* a + b rounded to float32 in integers, for normal or zero a and b: the larger magnitude's
 * significand at bits 30..7, the other's shifted right by the exponents' difference with the bits
 * shifted out ORed into bit 0 (sticky; the larger one's seven zero bits below make a sum or
 * difference that lost bits odd, on the right side of every rounding boundary), added or
 * subtracted, normalized with CLZ, rounded half to even on bit 7. An exact zero difference is +0;
 * a zero operand gives the other, two zeros -0 only if both are. */
static MCF_ALWAYS_INLINE float mcf_fsum_add(float a, float b)
{
    uint32_t xb = mcf_fsum_bits(a), yb = mcf_fsum_bits(b);
    uint32_t ax = xb & 0x7FFFFFFFu, ay = yb & 0x7FFFFFFFu, ex, ey;
    if (ax < ay) { /* |a| >= |b| from here on (x, y) */
        const uint32_t t = xb, u = ax;
        xb = yb, yb = t, ax = ay, ay = u;
    }
    ex = ax >> 23;
    ey = ay >> 23;
    if (MCF_LIKELY(ex - 1u < 254u && ey - 1u < 254u)) {
        const uint32_t mx = ((ax & 0x7FFFFFu) | 0x800000u) << 7;
        uint32_t my = ((ay & 0x7FFFFFu) | 0x800000u) << 7, s, e;
        const uint32_t d = ex - ey;
        int32_t n;
        if (d != 0u) {
            if (d < 31u) {
                const uint32_t t = my >> d;
                my = t | (uint32_t)((t << d) != my);
            } else {
                my = 1u;
            }
        }
        if (((xb ^ yb) >> 31) != 0u) {
            s = mx - my;
            if (s == 0u) {
                return 0.0f;
            }
        } else {
            s = mx + my;
        }
        n = (int32_t)__builtin_clz(s);
        s <<= n;
        e = ex + 1u - (uint32_t)n;
        if (MCF_LIKELY(e - 1u < 254u)) {
            return mcf_fsum_float((xb & 0x80000000u) |
                                  (((e - 1u) << 23) + (s >> 8) + (uint32_t)((s & 0x80u) != 0u && (s & 0x17Fu) != 0u)));
        }
    } else if (ay == 0u && ex != 0xFFu) {
        return ax != 0u ? mcf_fsum_float(xb) : mcf_fsum_float(xb & yb);
    }
    return mcf_fsum_add_other(a, b);
}
/* one copy of each in the object (the unrolled windows call them dozens of times) */
static MCF_NOINLINE float mcf_fsum_add_call(float a, float b)
{
    return mcf_fsum_add(a, b);
}

static MCF_NOINLINE float mcf_fsum_mul_call(float a, float b)
{
    return mcf_fsum_mul(a, b);
}
#define MCF_FSUM_ADD(a, b) mcf_fsum_add_call((a), (b))

/* fma(a, b, c) rounded once to float32, the usual case first: a, b and c normal. The product of
 * the significands p (one 32 x 32 -> 64 multiply) and c's significand q are put in one 32-bit
 * frame, the larger one's leading one at bit 29 or 30 (p >> 17, or q << 7), the other shifted to
 * its place and truncated; their sum or difference S is then less than 1 unit from the exact one
 * (scaled to the frame), 2 where both were truncated. S normalized (leading one at bit 31 after
 * a left shift by n, the error bound times 2^n) gives the float unless a rounding midpoint (bits
 * 7..0 = 0x80) lies within that bound of S: then, and for zero differences, subnormal or
 * overflowing results, the exact
 * computation above decides (mcf_fsum_fma_exact: a few percent of the operands). c = 0: the
 * rounded product; a zero a or b: c, or the sum of two zeros. */
static MCF_ALWAYS_INLINE float mcf_fsum_fma(float a, float b, float c)
{
    const uint32_t ab = mcf_fsum_bits(a), bb = mcf_fsum_bits(b), cb = mcf_fsum_bits(c);
    const uint32_t ea = (ab >> 23) & 0xFFu, eb = (bb >> 23) & 0xFFu, ec = (cb >> 23) & 0xFFu;
    if (MCF_LIKELY(ea - 1u < 254u && eb - 1u < 254u)) {
        if (MCF_LIKELY(ec - 1u < 254u)) {
            /* p >> 16 (p < 2^48): every truncation of p below is one of it, floor(floor(p / 2^16) / 2^j)
               being floor(p / 2^(16 + j)) */
            const uint32_t p16 = (uint32_t)(((uint64_t)((ab & 0x7FFFFFu) | 0x800000u) * ((bb & 0x7FFFFFu) | 0x800000u)) >> 16);
            const uint32_t q = (cb & 0x7FFFFFu) | 0x800000u;
            const int32_t t = (int32_t)ec - (int32_t)(ea + eb) + 133; /* q's unit above p >> 17's */
            uint32_t pv, cv, s, rem, err = 1u, sign = (ab ^ bb) & 0x80000000u; /* err: the error bound */
            int32_t e, n;
            if (t <= 7) { /* the product's frame: p >> 17, q << t (|q| < 2^31) */
                pv = p16 >> 1;
                cv = t >= 0 ? q << t : (t > -24 ? q >> -t : 0u);
                err = t >= 0 ? 1u : 2u; /* one or both truncated */
                e = (int32_t)(ea + eb) - 125;
            } else { /* c's frame: q << 7, p >> (t + 10) */
                const int32_t k = t + 10;
                cv = q << 7;
                pv = k < 48 ? p16 >> (k - 16) : 0u;
                e = (int32_t)ec + 1;
            }
            if (((cb ^ sign) >> 31) == 0u) {
                s = pv + cv;
            } else if (pv >= cv) {
                s = pv - cv;
            } else {
                s = cv - pv;
                sign ^= 0x80000000u;
            }
            if (MCF_LIKELY(s != 0u)) {
                n = (int32_t)__builtin_clz(s);
                s <<= n;
                e -= n;
                err <<= n;
                rem = (s & 0xFFu) - 0x80u + err; /* below 2 * err: a midpoint within the error */
                if (MCF_LIKELY(n < 8 && rem >= 2u * err && (uint32_t)(e - 1) < 254u)) {
                    /* no midpoint here: rounded up where bits 7..0 exceed 0x80 */
                    return mcf_fsum_float(sign | (((uint32_t)(e - 1) << 23) + (s >> 8) + (((s & 0xFFu) + 0x7Fu) >> 8)));
                }
            }
        } else if ((cb << 1) == 0u) {
            return mcf_fsum_mul_call(a, b);
        }
    } else if ((((ab << 1) == 0u && eb != 0xFFu) || ((bb << 1) == 0u && ea != 0xFFu)) && ec != 0xFFu) {
        return (cb << 1) != 0u ? c : mcf_fsum_float(cb & (ab ^ bb) & 0x80000000u);
    }
    return mcf_fsum_fma_exact(a, b, c);
}
#else
/* fma(a, b, c) rounded once to float32: VFMA.F32 / fmadd.s, else the double route. */
static MCF_ALWAYS_INLINE float mcf_fsum_fma(float a, float b, float c)
{
#if MCF_FSUM_HW_FMA
    return __builtin_fmaf(a, b, c);
#else
    return mcf_fsum_fma_wide(a, b, c);
#endif
}
/* a + b: the compiler's float addition */
#define MCF_FSUM_ADD(a, b) ((a) + (b))
#endif

/* DequantizeLinear of an integer v (|v| < 2^24, exact in float32): (float)v * scale rounded once;
 * without an FPU in integers: for |v| <= 255 and a normal scale the product of |v| and the scale's
 * 24-bit significand (at most 32 bits) normalized with CLZ and rounded half to even; otherwise v's
 * float bits from CLZ and the product from mcf_fsum_mul. */
#if MCF_FSUM_INT
static MCF_ALWAYS_INLINE float mcf_fsum_dequant(int32_t v, float scale)
{
    const uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v, sb = mcf_fsum_bits(scale);
    const uint32_t es = (sb >> 23) & 0xFFu;
    int32_t n;
    if (u == 0u) {
        return mcf_fsum_mul(0.0f, scale);
    }
    if (MCF_LIKELY(u < 256u && es - 1u < 254u)) {
        const uint32_t prod = u * ((sb & 0x7FFFFFu) | 0x800000u); /* < 2^32 */
        uint32_t mant, e;
        n = (int32_t)__builtin_clz(prod); /* 0..8 */
        e = es + 8u - (uint32_t)n;        /* the biased exponent of the leading one */
        if (n >= 8) {
            mant = prod << (n - 8); /* exact */
        } else {
            const uint32_t sh = 8u - (uint32_t)n, rest = prod & ((1u << sh) - 1u), half = 1u << (sh - 1u);
            mant = prod >> sh;
            mant += (uint32_t)(rest > half || (rest == half && (mant & 1u) != 0u));
        }
        if (MCF_LIKELY(e - 1u < 253u)) { /* a carry out of the significand moves e up by one, still normal */
            return mcf_fsum_float((((uint32_t)v & 0x80000000u) ^ (sb & 0x80000000u)) | ((e << 23) + mant - 0x800000u));
        }
    }
    n = (int32_t)__builtin_clz(u); /* >= 8 */
    /* the leading one at bit 23 adds one to the exponent field (157 - n) */
    return mcf_fsum_mul(mcf_fsum_float(((uint32_t)v & 0x80000000u) | (((uint32_t)(157 - n) << 23) + (u << (n - 8)))),
                        scale);
}
#define MCF_FSUM_DEQUANT(v, scale) mcf_fsum_dequant((v), (scale))
#else
#define MCF_FSUM_DEQUANT(v, scale) ((float)(v) * (scale))
#endif

/* QuantizeLinear of the float result: y / scale, half to even, clamped to [lo, hi] (the activation
 * range minus the offset), plus the offset. With a single-precision FPU, VCVTR rounds in the
 * FPSCR's mode (round to nearest even, the reset default, which mcf_round_f32's addition trick
 * relies on as well) and saturates, so the clamp comes before the offset is added. */
static MCF_ALWAYS_INLINE int8_t mcf_fsum_q(float y, float scale, int32_t lo, int32_t hi, int32_t offset)
{
    int32_t q;
#if defined(__GNUC__) && defined(__arm__) && defined(__ARM_FP) && (__ARM_FP & 4) && !MCF_REQUANT_F32_SOFT
    float r = y / scale;
    __asm__("vcvtr.s32.f32 %0, %0" : "+t"(r));
    MCF_COPY_FIXED(&q, &r, sizeof q);
#else
    q = mcf_round_f32(y / scale); /* |q| <= 1024 */
#endif
    q = q < lo ? lo : q;
    q = q > hi ? hi : q;
    return (int8_t)(q + offset);
}

static MCF_ALWAYS_INLINE int8_t mcf_fsum_quantize(const mcf_conv2d_fsum_params *p, float y)
{
    return mcf_fsum_q(y, p->output_scale, p->act_min - p->output_offset, p->act_max - p->output_offset,
                      p->output_offset);
}

/* The dequantized input value of channel c at (iy, ix) of image `in` (DequantizeLinear), 0.0f in the padding. */
static MCF_ALWAYS_INLINE float mcf_fsum_tap(const mcf_conv2d_fsum_params *p, const int8_t *in, int32_t c,
                                            int32_t iy, int32_t ix)
{
    if ((uint32_t)iy >= (uint32_t)p->input_h || (uint32_t)ix >= (uint32_t)p->input_w) {
        return 0.0f;
    }
    return MCF_FSUM_DEQUANT(in[(iy * p->input_w + ix) * p->input_c + c] + p->input_offset, p->input_scale);
}

/* DequantizeLinear of every int8 value, indexed by its byte: (float)(x + input_offset) * input_scale. */
static void mcf_fsum_dequant_table(const mcf_conv2d_fsum_params *p, float *table)
{
    int32_t i;
    for (i = 0; i < 256; ++i) {
        table[i] = MCF_FSUM_DEQUANT((int32_t)(int8_t)(uint8_t)i + p->input_offset, p->input_scale);
    }
}

/* Sequential fused multiply-adds over the taps of N output channels side by side (filter
 * interleaved: tap k of the N channels at w[k * N ..]), each channel's own sum in its own order, in
 * blocks of k_block taps summed apart, each block's sum added to the total (MLAS's SGEMM kernels).
 * The N sums are named variables so that they stay in registers. */
#define MCF_FSUM_FMA8(s, wk, x)                  \
    do {                                         \
        s##0 = mcf_fsum_fma((wk)[0], x, s##0);   \
        s##1 = mcf_fsum_fma((wk)[1], x, s##1);   \
        s##2 = mcf_fsum_fma((wk)[2], x, s##2);   \
        s##3 = mcf_fsum_fma((wk)[3], x, s##3);   \
        s##4 = mcf_fsum_fma((wk)[4], x, s##4);   \
        s##5 = mcf_fsum_fma((wk)[5], x, s##5);   \
        s##6 = mcf_fsum_fma((wk)[6], x, s##6);   \
        s##7 = mcf_fsum_fma((wk)[7], x, s##7);   \
    } while (0)

#if defined(__GNUC__) && defined(__arm__) && defined(__ARM_FP) && (__ARM_FP & 4) && defined(__ARM_FEATURE_FMA)
#define MCF_FSUM_VLDM 1
#else
#define MCF_FSUM_VLDM 0
#endif

#if MCF_FSUM_VLDM
/* Assembly text: the eight sums s16..s23 (channels 0..7) each take `op` (vmul.f32 / vfma.f32) of their
 * weight in s0..s7 (LANES0) or s8..s15 (LANES8) and the tap's input in register `x`. */
#define MCF_FSUM_LANES0(op, x)                                                                              \
    op " s16, s0, " x "\n\t" op " s17, s1, " x "\n\t" op " s18, s2, " x "\n\t" op " s19, s3, " x "\n\t"         \
    op " s20, s4, " x "\n\t" op " s21, s5, " x "\n\t" op " s22, s6, " x "\n\t" op " s23, s7, " x "\n\t"
#define MCF_FSUM_LANES8(op, x)                                                                              \
    op " s16, s8, " x "\n\t" op " s17, s9, " x "\n\t" op " s18, s10, " x "\n\t" op " s19, s11, " x "\n\t"      \
    op " s20, s12, " x "\n\t" op " s21, s13, " x "\n\t" op " s22, s14, " x "\n\t" op " s23, s15, " x "\n\t"

/* n >= 1 taps of eight channels: sums[j] = the fused multiply-adds of w[k * 8 + j] * x[k] from 0, k
 * in order. Two taps a pass: the sixteen weights in one VLDM, the two inputs in another, sixteen
 * VFMA.F32 (each channel's two in tap order), then a last single tap. */
static void mcf_fsum_fma8_run(const float *w, const float *x, int32_t n, float *sums)
{
    __asm__ volatile(
        "vmov s16, %[z]\n\t"
        "vmov s17, %[z]\n\t"
        "vmov s18, %[z]\n\t"
        "vmov s19, %[z]\n\t"
        "vmov s20, %[z]\n\t"
        "vmov s21, %[z]\n\t"
        "vmov s22, %[z]\n\t"
        "vmov s23, %[z]\n\t"
        "subs %[n], %[n], #2\n\t"
        "blt 2f\n"
        "1:\n\t"
        "vldmia %[x]!, {s24-s25}\n\t"
        "vldmia %[w]!, {s0-s15}\n\t"
        MCF_FSUM_LANES0("vfma.f32", "s24")
        MCF_FSUM_LANES8("vfma.f32", "s25")
        "subs %[n], %[n], #2\n\t"
        "bge 1b\n"
        "2:\n\t"
        "adds %[n], %[n], #2\n\t"
        "beq 3f\n\t"
        "vldmia %[x]!, {s24}\n\t"
        "vldmia %[w]!, {s0-s7}\n\t"
        "vfma.f32 s16, s0, s24\n\t"
        "vfma.f32 s17, s1, s24\n\t"
        "vfma.f32 s18, s2, s24\n\t"
        "vfma.f32 s19, s3, s24\n\t"
        "vfma.f32 s20, s4, s24\n\t"
        "vfma.f32 s21, s5, s24\n\t"
        "vfma.f32 s22, s6, s24\n\t"
        "vfma.f32 s23, s7, s24\n"
        "3:\n\t"
        "vstmia %[o], {s16-s23}\n\t"
        : [w] "+r"(w), [x] "+r"(x), [n] "+r"(n)
        : [o] "r"(sums), [z] "r"(0)
        : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13", "s14",
          "s15", "s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s24", "s25", "cc", "memory");
}

static void mcf_fsum_dot8(int32_t kb, const float *w, const float *col, int32_t k_count, float *total)
{
    float s[8];
    int32_t k0, j;
    for (k0 = 0; k0 < k_count; k0 += kb) {
        const int32_t n = k0 + kb < k_count ? kb : k_count - k0;
        if (k0 == 0) {
            mcf_fsum_fma8_run(w, col, n, total);
        } else {
            mcf_fsum_fma8_run(w + k0 * 8, col + k0, n, s);
            for (j = 0; j < 8; ++j) {
                total[j] = total[j] + s[j];
            }
        }
    }
}
#endif
#if !MCF_FSUM_VLDM && !MCF_FSUM_INT
static void mcf_fsum_dot8(int32_t kb, const float *w, const float *col, int32_t k_count, float *total)
{
    int32_t k0, k, j;
    for (k0 = 0; k0 < k_count; k0 += kb) {
        const int32_t k1 = k0 + kb < k_count ? k0 + kb : k_count;
        const float *wk = w + k0 * 8;
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f, s4 = 0.0f, s5 = 0.0f, s6 = 0.0f, s7 = 0.0f;
        float s[8];
        for (k = k0; k < k1; ++k) {
            const float x = col[k];
            MCF_FSUM_FMA8(s, wk, x);
            wk += 8;
        }
        s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3, s[4] = s4, s[5] = s5, s[6] = s6, s[7] = s7;
        for (j = 0; j < 8; ++j) {
            total[j] = k0 ? MCF_FSUM_ADD(total[j], s[j]) : s[j];
        }
    }
}

#endif

#if !MCF_FSUM_INT
static void mcf_fsum_dot4(int32_t kb, const float *w, const float *col, int32_t k_count, float *total)
{
    int32_t k0, k, j;
    for (k0 = 0; k0 < k_count; k0 += kb) {
        const int32_t k1 = k0 + kb < k_count ? k0 + kb : k_count;
        const float *wk = w + k0 * 4;
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
        float s[4];
        for (k = k0; k < k1; ++k) {
            const float x = col[k];
            s0 = mcf_fsum_fma(wk[0], x, s0);
            s1 = mcf_fsum_fma(wk[1], x, s1);
            s2 = mcf_fsum_fma(wk[2], x, s2);
            s3 = mcf_fsum_fma(wk[3], x, s3);
            wk += 4;
        }
        s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3;
        for (j = 0; j < 4; ++j) {
            total[j] = k0 ? MCF_FSUM_ADD(total[j], s[j]) : s[j];
        }
    }
}

static void mcf_fsum_dot1(int32_t kb, const float *w, const float *col, int32_t k_count, float *total)
{
    int32_t k0, k;
    for (k0 = 0; k0 < k_count; k0 += kb) {
        const int32_t k1 = k0 + kb < k_count ? k0 + kb : k_count;
        float s0 = 0.0f;
        for (k = k0; k < k1; ++k) {
            s0 = mcf_fsum_fma(w[k], col[k], s0);
        }
        total[0] = k0 ? MCF_FSUM_ADD(total[0], s0) : s0;
    }
}
#endif

#if MCF_FSUM_VLDM && defined(__ARM_FEATURE_DSP) && MCF_UNALIGNED_WORDS && !defined(__ARM_BIG_ENDIAN) && \
    !MCF_REQUANT_F32_SOFT && !defined(MCF_PORTABLE_KERNELS)
#define MCF_FSUM_BLOCK8 1
/* What mcf_fsum_blocks8 reads besides the filter and the bias (offsets: the assembly's). */
typedef struct {
    float totals[8];  /* +0: a sum over several K blocks, the blocks before the current one */
    float scale;      /* +32: the output scale */
    int32_t offset;   /* +36: the output zero point */
    uint32_t lo4;     /* +40: act_min in each byte */
    uint32_t hi4;     /* +44: act_max in each byte */
    const float *col; /* +48: the pixel's column */
    int32_t k_count;  /* +52: taps */
    int32_t kb;       /* +56: taps per K block */
    int32_t blocks;   /* +60: blocks of eight channels left (counted down) */
    int32_t clamp;    /* +64: act_min > -128 or act_max < 127 */
    const float *w;   /* +68: the filter while its register is needed for the bytes */
} mcf_fsum_out8;

/* `blocks` blocks of eight output channels of one pixel, whole: _gemm's sums (mcf_fsum_dot8's
 * order: per K block of kb taps the fused multiply-adds from zero, the first tap's as its product,
 * which differs from fma(w, x, +0) only in the sign of a zero; each later block's sum added to the
 * total), then the bias, then QuantizeLinear as mcf_fsum_q (VDIV.F32, VCVTR), the offset added with
 * saturation (QADD), SSAT to int8, where the activation range is narrower the four bytes of a word
 * clamped to it with SSUB8 / SEL, one word stored per four channels (out may be unaligned). Eight
 * taps a pass: their inputs in one VLDM, sixteen weights a VLDM, then pairs, then one. */
static MCF_NOINLINE void mcf_fsum_blocks8(const float *w, const float *b, mcf_fsum_out8 *q, int8_t *o)
{
    const float *x;
    int32_t k, kb, n, f;
    __asm__ volatile(
        "0:\n\t"
        "ldr %[x], [%[q], #48]\n\t"
        "ldr %[k], [%[q], #52]\n\t"
        "ldr %[kb], [%[q], #56]\n\t"
        "movs %[f], #0\n\t"
        "1:\n\t"
        "cmp %[k], %[kb]\n\t"
        "ite gt\n\t"
        "movgt %[n], %[kb]\n\t"
        "movle %[n], %[k]\n\t"
        "subs %[k], %[k], %[n]\n\t"
        "cmp %[n], #8\n\t"
        "blt 10f\n\t"
        "vldmia %[x]!, {s24-s31}\n\t"
        "vldmia %[w]!, {s0-s15}\n\t"
        MCF_FSUM_LANES0("vmul.f32", "s24")
        MCF_FSUM_LANES8("vfma.f32", "s25")
        "vldmia %[w]!, {s0-s15}\n\t"
        MCF_FSUM_LANES0("vfma.f32", "s26")
        MCF_FSUM_LANES8("vfma.f32", "s27")
        "vldmia %[w]!, {s0-s15}\n\t"
        MCF_FSUM_LANES0("vfma.f32", "s28")
        MCF_FSUM_LANES8("vfma.f32", "s29")
        "vldmia %[w]!, {s0-s15}\n\t"
        MCF_FSUM_LANES0("vfma.f32", "s30")
        MCF_FSUM_LANES8("vfma.f32", "s31")
        "subs %[n], %[n], #16\n\t"
        "blt 12f\n\t"
        "11:\n\t"
        "vldmia %[x]!, {s24-s31}\n\t"
        "vldmia %[w]!, {s0-s15}\n\t"
        MCF_FSUM_LANES0("vfma.f32", "s24")
        MCF_FSUM_LANES8("vfma.f32", "s25")
        "vldmia %[w]!, {s0-s15}\n\t"
        MCF_FSUM_LANES0("vfma.f32", "s26")
        MCF_FSUM_LANES8("vfma.f32", "s27")
        "vldmia %[w]!, {s0-s15}\n\t"
        MCF_FSUM_LANES0("vfma.f32", "s28")
        MCF_FSUM_LANES8("vfma.f32", "s29")
        "vldmia %[w]!, {s0-s15}\n\t"
        MCF_FSUM_LANES0("vfma.f32", "s30")
        MCF_FSUM_LANES8("vfma.f32", "s31")
        "subs %[n], %[n], #8\n\t"
        "bge 11b\n\t"
        "12:\n\t"
        "adds %[n], %[n], #8\n\t"
        "beq 23f\n\t"
        "b 20f\n\t"
        "10:\n\t"
        "vldmia %[x]!, {s24}\n\t"
        "vldmia %[w]!, {s0-s7}\n\t"
        MCF_FSUM_LANES0("vmul.f32", "s24")
        "subs %[n], %[n], #1\n\t"
        "20:\n\t"
        "subs %[n], %[n], #2\n\t"
        "blt 22f\n\t"
        "21:\n\t"
        "vldmia %[x]!, {s24-s25}\n\t"
        "vldmia %[w]!, {s0-s15}\n\t"
        MCF_FSUM_LANES0("vfma.f32", "s24")
        MCF_FSUM_LANES8("vfma.f32", "s25")
        "subs %[n], %[n], #2\n\t"
        "bge 21b\n\t"
        "22:\n\t"
        "adds %[n], %[n], #2\n\t"
        "beq 23f\n\t"
        "vldmia %[x]!, {s24}\n\t"
        "vldmia %[w]!, {s0-s7}\n\t"
        MCF_FSUM_LANES0("vfma.f32", "s24")
        "23:\n\t"
        "cmp %[f], #0\n\t"
        "beq 24f\n\t"
        "vldmia %[q], {s0-s7}\n\t"
        "vadd.f32 s16, s0, s16\n\t"
        "vadd.f32 s17, s1, s17\n\t"
        "vadd.f32 s18, s2, s18\n\t"
        "vadd.f32 s19, s3, s19\n\t"
        "vadd.f32 s20, s4, s20\n\t"
        "vadd.f32 s21, s5, s21\n\t"
        "vadd.f32 s22, s6, s22\n\t"
        "vadd.f32 s23, s7, s23\n\t"
        "24:\n\t"
        "movs %[f], #1\n\t"
        "cmp %[k], #0\n\t"
        "ble 25f\n\t"
        "vstmia %[q], {s16-s23}\n\t"
        "b 1b\n\t"
        "25:\n\t"
        "vldmia %[b]!, {s0-s7}\n\t"
        "vadd.f32 s16, s16, s0\n\t"
        "vadd.f32 s17, s17, s1\n\t"
        "vadd.f32 s18, s18, s2\n\t"
        "vadd.f32 s19, s19, s3\n\t"
        "vadd.f32 s20, s20, s4\n\t"
        "vadd.f32 s21, s21, s5\n\t"
        "vadd.f32 s22, s22, s6\n\t"
        "vadd.f32 s23, s23, s7\n\t"
        "vldr s24, [%[q], #32]\n\t"
        "vdiv.f32 s16, s16, s24\n\t"
        "vdiv.f32 s17, s17, s24\n\t"
        "vdiv.f32 s18, s18, s24\n\t"
        "vdiv.f32 s19, s19, s24\n\t"
        "vdiv.f32 s20, s20, s24\n\t"
        "vdiv.f32 s21, s21, s24\n\t"
        "vdiv.f32 s22, s22, s24\n\t"
        "vdiv.f32 s23, s23, s24\n\t"
        "vcvtr.s32.f32 s16, s16\n\t"
        "vcvtr.s32.f32 s17, s17\n\t"
        "vcvtr.s32.f32 s18, s18\n\t"
        "vcvtr.s32.f32 s19, s19\n\t"
        "vcvtr.s32.f32 s20, s20\n\t"
        "vcvtr.s32.f32 s21, s21\n\t"
        "vcvtr.s32.f32 s22, s22\n\t"
        "vcvtr.s32.f32 s23, s23\n\t"
        "str %[w], [%[q], #68]\n\t"
        "ldr %[n], [%[q], #36]\n\t"
        "ldr %[f], [%[q], #64]\n\t"
        "vmov %[w], %[x], s16, s17\n\t"
        "vmov %[k], %[kb], s18, s19\n\t"
        "qadd %[w], %[w], %[n]\n\t"
        "qadd %[x], %[x], %[n]\n\t"
        "qadd %[k], %[k], %[n]\n\t"
        "qadd %[kb], %[kb], %[n]\n\t"
        "ssat %[w], #8, %[w]\n\t"
        "ssat %[x], #8, %[x]\n\t"
        "ssat %[k], #8, %[k]\n\t"
        "ssat %[kb], #8, %[kb]\n\t"
        "bfi %[w], %[x], #8, #8\n\t"
        "bfi %[w], %[k], #16, #8\n\t"
        "bfi %[w], %[kb], #24, #8\n\t"
        "cmp %[f], #0\n\t"
        "beq 30f\n\t"
        "ldr %[x], [%[q], #40]\n\t"
        "ldr %[k], [%[q], #44]\n\t"
        "ssub8 %[kb], %[w], %[x]\n\t"
        "sel %[w], %[w], %[x]\n\t"
        "ssub8 %[kb], %[k], %[w]\n\t"
        "sel %[w], %[w], %[k]\n\t"
        "30:\n\t"
        "str %[w], [%[o], #0]\n\t"
        "vmov %[w], %[x], s20, s21\n\t"
        "vmov %[k], %[kb], s22, s23\n\t"
        "qadd %[w], %[w], %[n]\n\t"
        "qadd %[x], %[x], %[n]\n\t"
        "qadd %[k], %[k], %[n]\n\t"
        "qadd %[kb], %[kb], %[n]\n\t"
        "ssat %[w], #8, %[w]\n\t"
        "ssat %[x], #8, %[x]\n\t"
        "ssat %[k], #8, %[k]\n\t"
        "ssat %[kb], #8, %[kb]\n\t"
        "bfi %[w], %[x], #8, #8\n\t"
        "bfi %[w], %[k], #16, #8\n\t"
        "bfi %[w], %[kb], #24, #8\n\t"
        "cmp %[f], #0\n\t"
        "beq 34f\n\t"
        "ldr %[x], [%[q], #40]\n\t"
        "ldr %[k], [%[q], #44]\n\t"
        "ssub8 %[kb], %[w], %[x]\n\t"
        "sel %[w], %[w], %[x]\n\t"
        "ssub8 %[kb], %[k], %[w]\n\t"
        "sel %[w], %[w], %[k]\n\t"
        "34:\n\t"
        "str %[w], [%[o], #4]\n\t"
        "ldr %[w], [%[q], #68]\n\t"
        "adds %[o], %[o], #8\n\t"
        "ldr %[n], [%[q], #60]\n\t"
        "subs %[n], %[n], #1\n\t"
        "str %[n], [%[q], #60]\n\t"
        "bgt 0b"
        : [w] "+r"(w), [b] "+r"(b), [o] "+r"(o), [x] "=&r"(x), [k] "=&r"(k), [kb] "=&r"(kb), [n] "=&r"(n),
          [f] "=&r"(f)
        : [q] "r"(q)
        : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13", "s14", "s15",
          "s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s24", "s25", "s26", "s27", "s28", "s29", "s30",
          "s31", "cc", "memory");
}
/* col[i] = table[src[i]] for 4 * n4 bytes (n4 >= 0), four a pass: one word load (unaligned, little
 * endian), its bytes, their four table entries, one STM. Returns the count written. */
static MCF_ALWAYS_INLINE int32_t mcf_fsum_fill4(float *col, const uint8_t *src, const float *table, int32_t n4)
{
    /* STM stores in register number order: the four values in r8..r11, in col's order */
    register uint32_t a __asm__("r8");
    register uint32_t b __asm__("r9");
    register uint32_t c __asm__("r10");
    register uint32_t v __asm__("r11");
    int32_t n = n4;
    __asm__ volatile(
        "cmp %[n], #0\n\t"
        "ble 2f\n"
        "1:\n\t"
        "ldr %[v], [%[s]], #4\n\t"
        "uxtb %[a], %[v]\n\t"
        "ubfx %[b], %[v], #8, #8\n\t"
        "ubfx %[c], %[v], #16, #8\n\t"
        "lsrs %[v], %[v], #24\n\t"
        "ldr %[a], [%[t], %[a], lsl #2]\n\t"
        "ldr %[b], [%[t], %[b], lsl #2]\n\t"
        "ldr %[c], [%[t], %[c], lsl #2]\n\t"
        "ldr %[v], [%[t], %[v], lsl #2]\n\t"
        "stmia %[d]!, {%[a], %[b], %[c], %[v]}\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n"
        "2:"
        : [d] "+r"(col), [s] "+r"(src), [n] "+r"(n), [v] "=&r"(v), [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c)
        : [t] "r"(table)
        : "cc", "memory");
    return 4 * (n4 > 0 ? n4 : 0);
}
/* A 3x3 window inside the image, its column in im2col order: for each of n >= 1 channels (bytes
 * from `src` on), three rows `row_step` bytes apart of three taps `col_step` bytes apart, each
 * row's three table entries stored with one STM. Returns the count written. */
static MCF_ALWAYS_INLINE int32_t mcf_fsum_fill3x3(float *col, const uint8_t *src, const float *table, int32_t n,
                                                  int32_t col_step, int32_t row_step)
{
    register uint32_t a __asm__("r8"); /* STM's order: the registers in number order */
    register uint32_t b __asm__("r9");
    register uint32_t v __asm__("r10");
    const uint8_t *r;
    int32_t left = n;
    __asm__ volatile(
        "1:\n\t"
        "ldrb %[a], [%[s]]\n\t"
        "ldrb %[b], [%[s], %[cs]]\n\t"
        "ldrb %[v], [%[s], %[cs], lsl #1]\n\t"
        "ldr %[a], [%[t], %[a], lsl #2]\n\t"
        "ldr %[b], [%[t], %[b], lsl #2]\n\t"
        "ldr %[v], [%[t], %[v], lsl #2]\n\t"
        "stmia %[d]!, {%[a], %[b], %[v]}\n\t"
        "add %[r], %[s], %[rs]\n\t"
        "ldrb %[a], [%[r]]\n\t"
        "ldrb %[b], [%[r], %[cs]]\n\t"
        "ldrb %[v], [%[r], %[cs], lsl #1]\n\t"
        "ldr %[a], [%[t], %[a], lsl #2]\n\t"
        "ldr %[b], [%[t], %[b], lsl #2]\n\t"
        "ldr %[v], [%[t], %[v], lsl #2]\n\t"
        "stmia %[d]!, {%[a], %[b], %[v]}\n\t"
        "add %[r], %[r], %[rs]\n\t"
        "ldrb %[a], [%[r]]\n\t"
        "ldrb %[b], [%[r], %[cs]]\n\t"
        "ldrb %[v], [%[r], %[cs], lsl #1]\n\t"
        "ldr %[a], [%[t], %[a], lsl #2]\n\t"
        "ldr %[b], [%[t], %[b], lsl #2]\n\t"
        "ldr %[v], [%[t], %[v], lsl #2]\n\t"
        "stmia %[d]!, {%[a], %[b], %[v]}\n\t"
        "adds %[s], %[s], #1\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b"
        : [d] "+r"(col), [s] "+r"(src), [n] "+r"(left), [r] "=&r"(r), [a] "=&r"(a), [b] "=&r"(b), [v] "=&r"(v)
        : [t] "r"(table), [cs] "r"(col_step), [rs] "r"(row_step)
        : "cc", "memory");
    return 9 * n;
}
#else
#define MCF_FSUM_BLOCK8 0
#endif

#if !MCF_FSUM_INT
/* n zeros (a loop GCC would otherwise make a memset call) */
static MCF_NOINLINE MCF_NO_LIBCALL_LOOPS void mcf_fsum_zero(float *dst, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        dst[i] = 0.0f;
    }
}
#endif

#if MCF_FSUM_INT
/* Tests only (tests/test_onnx_float_conv.py): 1 computes every output the float way too and traps
 * where the screen decided otherwise; 2 does that with the margins cut to one unit, which must trap;
 * 3 is 1 and also traps where _gemm's margins do not bound the float quotient's distance from t. */
#ifndef MCF_FSUM_SCREEN_TEST
#define MCF_FSUM_SCREEN_TEST 0
#endif

/* t = acc * s[0] + the 64-bit bias (s[3] : s[2]) in units of 2^-32 output steps (conv2d_s8_fsum.h);
 * smul (a constant): s[0] is below 2^31, one signed multiply-accumulate. */
static MCF_ALWAYS_INLINE uint64_t mcf_fsum_fixed(const int32_t *s, int32_t acc, const int smul)
{
    const uint64_t bias = ((uint64_t)(uint32_t)s[3] << 32) | (uint32_t)s[2];
    return smul ? (uint64_t)((int64_t)acc * (int64_t)s[0] + (int64_t)bias)
                : (uint64_t)((int64_t)acc * (int64_t)(uint32_t)s[0]) + bias;
}

/* The screen of one output (conv2d_s8_fsum.h) with the margin for it: 1 and the clamped quotient in
 * *q where the float arithmetic's result is certain, else 0. */
#define MCF_FSUM_TEST_MARGIN(margin) (MCF_FSUM_SCREEN_TEST == 2 ? 1u : (margin))
static MCF_ALWAYS_INLINE int32_t mcf_fsum_screen(const int32_t *s, int32_t acc, uint64_t margin, int32_t lo,
                                                 int32_t hi, int32_t *q)
{
    const uint64_t t = mcf_fsum_fixed(s, acc, 0);
    const uint32_t frac = (uint32_t)t;
    int32_t n = (int32_t)(uint32_t)(t >> 32), other; /* floor(t / 2^32) */
    if (margin >= 0x80000000u) {
        return 0;
    }
    if (n >= 2048 || n <= -2048) { /* far past both activation bounds (|lo|, |hi| <= 255) */
        *q = n < 0 ? lo : hi;
        return 1;
    }
    other = n;
    if (frac <= (uint32_t)margin) {
        other = n - 1;
    } else if (frac >= 0u - (uint32_t)margin) {
        other = n + 1;
    }
    n = n < lo ? lo : (n > hi ? hi : n);
    other = other < lo ? lo : (other > hi ? hi : other);
    *q = n;
    return n == other;
}

/* P = the sum of |I| over every rounding of the float sum of one channel (conv2d_s8_fsum.h, the
 * second screen): per K block of kb taps the exact integer partial sums from zero, then from the
 * second block on the running total after each block's sum is added. col: X at col[2k], weights at
 * w[k * step]. */
static MCF_NOINLINE uint64_t mcf_fsum_partials(const int16_t *col, const int8_t *w, int32_t step, int32_t k_count,
                                               int32_t kb)
{
    /* |I| <= k_count * 255 * 128 < 2^31 (screen_constants): `run` such values fit a 32-bit sum */
    const int32_t run = (int32_t)(0xFFFFFFFFu / ((uint32_t)k_count * 255u * 128u + 1u));
    uint64_t sum = 0;
    int32_t total = 0, k0, k;
    for (k0 = 0; k0 < k_count; k0 += kb) {
        const int32_t k1 = k0 + kb < k_count ? k0 + kb : k_count;
        int32_t part = 0;
        for (k = k0; k < k1;) {
            const int32_t stop = k1 - k < run ? k1 : k + run;
            uint32_t chunk = 0;
            for (; k + 2 <= stop; k += 2) {
                part += col[2 * k] * w[k * step];
                chunk += (uint32_t)(part < 0 ? -part : part);
                part += col[2 * k + 2] * w[(k + 1) * step];
                chunk += (uint32_t)(part < 0 ? -part : part);
            }
            if (k < stop) {
                part += col[2 * k] * w[k * step];
                chunk += (uint32_t)(part < 0 ? -part : part);
                ++k;
            }
            sum += chunk;
        }
        if (k0 != 0) {
            total += part;
            sum += (uint32_t)(total < 0 ? -total : total);
        } else {
            total = part;
        }
    }
    return sum;
}

/* One channel as the float Conv computes it (mcf_fsum_dot1's order: per K block of kb taps the
 * fused multiply-adds from zero, each block's sum added to the total), from its int8 weights (tap k
 * at w[k * step]) dequantized with `scale`; then the bias and QuantizeLinear. */
static float mcf_fsum_sum1(const int8_t *w, int32_t step, float scale, const float *col, int32_t k_count,
                           int32_t kb, float bias)
{
    float total = 0.0f;
    int32_t k0, k;
    for (k0 = 0; k0 < k_count; k0 += kb) {
        const int32_t k1 = k0 + kb < k_count ? k0 + kb : k_count;
        float s0 = 0.0f;
        for (k = k0; k < k1; ++k) {
            s0 = mcf_fsum_fma(MCF_FSUM_DEQUANT(w[k * step], scale), col[k], s0);
        }
        total = k0 ? MCF_FSUM_ADD(total, s0) : s0;
    }
    return MCF_FSUM_ADD(total, bias);
}

static MCF_NOINLINE int8_t mcf_fsum_exact1(const mcf_conv2d_fsum_params *p, const int8_t *w, int32_t step,
                                           float scale, const float *col, int32_t k_count, int32_t kb, float bias)
{
    return mcf_fsum_quantize(p, mcf_fsum_sum1(w, step, scale, col, k_count, kb, bias));
}

#if MCF_FSUM_SCREEN_TEST == 3
#ifndef MCF_FSUM_CUT_FIRST_MARGIN
#define MCF_FSUM_CUT_FIRST_MARGIN 1 /* tests only: the first margin divided by this */
#endif
/* Tests only: traps unless both margins bound how far the float Conv's quotient (before its
 * rounding) lies from t / 2^32 - 1/2, for |V| < 2^11 + 1 (conv2d_s8_fsum.h). The host's double
 * holds every value here exactly. */
static void mcf_fsum_check_margins(const mcf_conv2d_fsum_params *p, const int32_t *sc, int32_t acc, float sum,
                                   uint64_t margin1, uint64_t margin2)
{
    const int64_t t = (int64_t)mcf_fsum_fixed(sc, acc, 0);
    const double dev = (double)(sum / p->output_scale) * 4294967296.0 + 2147483648.0 - (double)t;
    const double size = dev < 0.0 ? -dev : dev;
    if ((t >> 32) > -2049 && (t >> 32) < 2049 && (size > (double)margin1 || size > (double)margin2)) {
        __builtin_trap(); /* a margin smaller than the float arithmetic's error */
    }
}
#endif

/* One tap of mcf_fsum_fill16: X stored, |X| added to *sum and k |X| to *ksum (k = (*at)++); the
 * next slot returned. */
static MCF_ALWAYS_INLINE int16_t *mcf_fsum_tap16(int16_t *dst, int32_t v, uint32_t *sum, uint32_t *ksum, uint32_t *at)
{
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    *dst = (int16_t)v;
    *sum += a;
    *ksum += a * (*at)++;
    return dst + 2;
}

/* Two pixels' column of group g in integers, interleaved (col16[2k + e] for pixel e, 0 for a padding tap;
 * a missing second pixel's taps 0), each pixel's sum |X| and, where `weighted`, sum k |X_k| (modulo
 * 2^32: exact for K <= MCF_FSUM_WEIGHTED_MAX_K; inside the image otherwise 0, a lower bound). */
#define MCF_FSUM_WEIGHTED_MAX_K 5792 /* K (K - 1) / 2 * 255 < 2^32 */
/* The screening words per unit of W and of P carry this many more fraction bits (conv_fsum.PARTIAL_BITS):
 * a product with them is shifted right by it, rounding up. */
#define MCF_FSUM_PARTIAL_BITS 8
#define MCF_FSUM_PARTIAL_UP(x) (((x) + ((1u << MCF_FSUM_PARTIAL_BITS) - 1u)) >> MCF_FSUM_PARTIAL_BITS)
static void mcf_fsum_fill16(const mcf_conv2d_fsum_params *p, const int8_t *in, int32_t g, const int32_t *y0,
                            const int32_t *x0, int32_t count, int16_t *col16, uint32_t *col_abs, uint32_t *col_kabs,
                            const int weighted)
{
    const int32_t in_off = p->input_offset, c0 = g * p->group_c, c1 = c0 + p->group_c;
    /* the last window origins whose windows lie inside the image (negative: none, the window
       larger than the image) */
    const int32_t last_y = p->input_h - 1 - (p->filter_h - 1) * p->dilation_h;
    const int32_t last_x = p->input_w - 1 - (p->filter_w - 1) * p->dilation_w;
    int32_t e, k, c, ky, kx;
    for (e = 0; e < 2; ++e) {
        int16_t *dst = col16 + e;
        uint32_t sum = 0, ksum = 0, at = 0; /* at: the tap's index k */
        if (e >= count) {
            for (k = 0; k < p->group_c * p->filter_h * p->filter_w; ++k) {
                dst[2 * k] = 0;
            }
            col_abs[e] = 0;
            col_kabs[e] = 0;
            continue;
        }
        if (p->filter_h == 1 && p->filter_w == 1 && (uint32_t)y0[e] < (uint32_t)p->input_h &&
            (uint32_t)x0[e] < (uint32_t)p->input_w) { /* 1x1 inside the image: the pixel's channels in a row */
            const int8_t *src = in + (y0[e] * p->input_w + x0[e]) * p->input_c;
            if (weighted) {
                for (c = c0; c < c1; ++c) {
                    dst = mcf_fsum_tap16(dst, src[c] + in_off, &sum, &ksum, &at);
                }
            } else {
                for (c = c0; c < c1; ++c) {
                    const int32_t v = src[c] + in_off;
                    *dst = (int16_t)v;
                    dst += 2;
                    sum += (uint32_t)(v < 0 ? -v : v);
                }
            }
        } else if (last_y >= 0 && last_x >= 0 && (uint32_t)y0[e] <= (uint32_t)last_y &&
                   (uint32_t)x0[e] <= (uint32_t)last_x) {
            /* the window inside the image: each channel's rows from one pointer, no bounds to check */
            const int32_t row = p->dilation_h * p->input_w * p->input_c, step = p->dilation_w * p->input_c;
            const int8_t *src = in + (y0[e] * p->input_w + x0[e]) * p->input_c + c0;
            for (c = c0; c < c1; ++c, ++src) {
                const int8_t *r = src;
                for (ky = 0; ky < p->filter_h; ++ky, r += row) {
                    if (p->filter_w == 3) {
                        const int32_t v0 = r[0] + in_off, v1 = r[step] + in_off, v2 = r[2 * step] + in_off;
                        const uint32_t a0 = (uint32_t)(v0 < 0 ? -v0 : v0), a1 = (uint32_t)(v1 < 0 ? -v1 : v1);
                        const uint32_t a2 = (uint32_t)(v2 < 0 ? -v2 : v2);
                        dst[0] = (int16_t)v0;
                        dst[2] = (int16_t)v1;
                        dst[4] = (int16_t)v2;
                        dst += 6;
                        sum += a0 + a1 + a2;
                        if (weighted) {
                            ksum += (a0 + a1 + a2) * at + a1 + 2u * a2;
                            at += 3;
                        }
                    } else {
                        const int8_t *t = r;
                        for (kx = 0; kx < p->filter_w; ++kx, t += step) {
                            dst = mcf_fsum_tap16(dst, *t + in_off, &sum, &ksum, &at);
                        }
                    }
                }
            }
        } else {
            for (c = c0; c < c1; ++c) {
                for (ky = 0; ky < p->filter_h; ++ky) {
                    const int32_t iy = y0[e] + ky * p->dilation_h;
                    const int32_t row_ok = (uint32_t)iy < (uint32_t)p->input_h;
                    for (kx = 0; kx < p->filter_w; ++kx) {
                        const int32_t ix = x0[e] + kx * p->dilation_w;
                        dst = mcf_fsum_tap16(dst,
                                             (row_ok && (uint32_t)ix < (uint32_t)p->input_w)
                                                 ? in[(iy * p->input_w + ix) * p->input_c + c] + in_off
                                                 : 0,
                                             &sum, &ksum, &at);
                    }
                }
            }
        }
        col_abs[e] = sum;
        col_kabs[e] = ksum;
    }
}

/* Four channels' exact integer sums over two pixels' interleaved columns ([K][2]), the weights
 * interleaved ([K][4]): acc[j] pixel 0, acc[4 + j] pixel 1; `two` 0: pixel 0 only. Two taps a pass. */
#define MCF_FSUM_TAP4(k, two)                                                                                      \
    do {                                                                                                           \
        const int32_t x0 = col[2 * (k)], x1 = (two) ? col[2 * (k) + 1] : 0;                                        \
        int32_t v = w[4 * (k)];                                                                                    \
        a0 += x0 * v;                                                                                              \
        b0 += x1 * v;                                                                                              \
        v = w[4 * (k) + 1];                                                                                        \
        a1 += x0 * v;                                                                                              \
        b1 += x1 * v;                                                                                              \
        v = w[4 * (k) + 2];                                                                                        \
        a2 += x0 * v;                                                                                              \
        b2 += x1 * v;                                                                                              \
        v = w[4 * (k) + 3];                                                                                        \
        a3 += x0 * v;                                                                                              \
        b3 += x1 * v;                                                                                              \
    } while (0)
/* The body of mcf_fsum_acc4x2 (two = 1) and mcf_fsum_acc4x1 (two = 0; acc[4..7] then 0). */
#define MCF_FSUM_ACC4(two)                                                                                         \
    const int16_t *end = col + 2 * (k_count & ~1);                                                                 \
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;                                        \
    for (; col != end; col += 4, w += 8) {                                                                         \
        MCF_FSUM_TAP4(0, two);                                                                                     \
        MCF_FSUM_TAP4(1, two);                                                                                     \
    }                                                                                                              \
    if (k_count & 1) {                                                                                             \
        MCF_FSUM_TAP4(0, two);                                                                                     \
    }                                                                                                              \
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;                                                            \
    acc[4] = b0, acc[5] = b1, acc[6] = b2, acc[7] = b3

/* Not inlined: the thirteen live registers of the two-pixel sums stay in registers (17
 * instructions per 8 MACs on Cortex-M3). */
static MCF_NOINLINE void mcf_fsum_acc4x2(const int16_t *col, const int8_t *w, int32_t k_count, int32_t *acc)
{
    MCF_FSUM_ACC4(1);
}

/* A last pixel without a pair. */
static MCF_NOINLINE void mcf_fsum_acc4x1(const int16_t *col, const int8_t *w, int32_t k_count, int32_t *acc)
{
    MCF_FSUM_ACC4(0);
}
#undef MCF_FSUM_ACC4
#undef MCF_FSUM_TAP4

/* _dw's first screen of one output: 1 with the output written, else 0. Its margin is the channel's
 * constant s[1] (screen_constants with x_max); |floor(t / 2^32)| < 2^30. */
static MCF_ALWAYS_INLINE uint32_t mcf_fsum_dw_screen(const int32_t *s, int32_t acc, int32_t lo, int32_t hi,
                                                     int32_t out_off, int8_t *out)
{
    const uint64_t t = mcf_fsum_fixed(s, acc, 0);
    /* margin + 1: the fraction must lie in [m1, 2^32 - m1] */
    const uint32_t m1 = MCF_FSUM_TEST_MARGIN((uint32_t)s[1]) + 1u;
    const int32_t q = (int32_t)(uint32_t)(t >> 32);
    if ((uint32_t)t - m1 > 0u - (m1 << 1)) {
        return 0u; /* within the margin of an integer */
    }
    *out = mcf_clamp8(q + out_off, lo + out_off, hi + out_off, 0);
    return 1u;
}

/* What the first screen's usual case reads besides the sums and the screening words. */
typedef struct {
    int32_t lo, hi;   /* the activation bounds less the output offset */
    int32_t out_off;  /* output zero point */
    uint32_t margin0; /* the margin's constant part (below 2^30) */
    uint32_t a_limit; /* the largest sum |X| and the largest W / 2^8, rounded up (W: conv2d_s8_fsum.h), */
    uint32_t w_limit; /* for which the margin stays below 2^31 - 1 in 32 bits */
    int32_t smul;     /* every channel's multiplier below 2^31 */
    int32_t full;     /* the activation range is all of int8 */
} mcf_fsum_bounds;

/* The usual case's four channels (screening words at sc[6j]) of one pixel (sums acc[j], outputs
 * out[j]) or, `two`, of two (acc[4 + j], out[oc + j] the second's), whose margins + 1 are m1a and
 * m1b (below 2^31): an output whose t has its fraction in [m1, 2^32 - m1] is floor(t / 2^32)
 * clamped, written here; the others' bits (j, 4 + j) are returned. Each channel's words are read
 * once for both pixels, the channels unrolled. Constants: smul, every multiplier s[0] is below
 * 2^31 (one signed multiply-accumulate makes t); full, the activation range is all of int8 (one
 * saturation). |floor(t / 2^32)| < 2^30 (screen_constants). */
#define MCF_FSUM_FAST1(j, e, m1, lim)                                                                              \
    do {                                                                                                           \
        const uint64_t t_ = mcf_fsum_fixed(w, acc[4 * (e) + (j)], smul);                                         \
        if (MCF_LIKELY((uint32_t)t_ - (m1) <= (lim))) {                                                          \
            out[(e) * oc + (j)] =                                                                                  \
                mcf_clamp8((int32_t)(uint32_t)(t_ >> 32) + out_off, lo + out_off, hi + out_off, full);           \
        } else {                                                                                                   \
            left |= 1u << (4 * (e) + (j));                                                                         \
        }                                                                                                          \
    } while (0)
#define MCF_FSUM_FAST_CH(j)                                                                                        \
    do {                                                                                                           \
        const int32_t w[4] = {sc[6 * (j)], 0, sc[6 * (j) + 2], sc[6 * (j) + 3]}; /* read before the stores */   \
        MCF_FSUM_FAST1(j, 0, m1a, lima);                                                                           \
        if (two) {                                                                                                 \
            MCF_FSUM_FAST1(j, 1, m1b, limb);                                                                       \
        }                                                                                                          \
    } while (0)
static MCF_ALWAYS_INLINE uint32_t mcf_fsum_fast4(const int32_t *sc, const int32_t *acc, int8_t *out, int32_t oc,
                                                 uint32_t m1a, uint32_t m1b, int32_t lo, int32_t hi, int32_t out_off,
                                                 const int two, const int smul, const int full)
{
    const uint32_t lima = 0u - (m1a << 1), limb = 0u - (m1b << 1);
    uint32_t left = 0;
    MCF_FSUM_FAST_CH(0);
    MCF_FSUM_FAST_CH(1);
    MCF_FSUM_FAST_CH(2);
    MCF_FSUM_FAST_CH(3);
    return left;
}
#undef MCF_FSUM_FAST_CH
#undef MCF_FSUM_FAST1

/* The first screen's usual case for a block of four channels (screening words at sc[6j]; words 1
 * and 5, the margin's, hold the block's largest: conv_fsum.py) over `count` pixels (sums
 * acc[4e + j], sum |X| col_abs[e], the bound on sum |X_k| c_k col_pw[e], outputs out[e * oc + j]):
 * where both are within the layer's limits (the margin then below 2^31 - 1) and t's fraction lies
 * more than the margin from both integers, the output is floor(t / 2^32) clamped and written here
 * (mcf_fsum_screen's decision, in 32-bit words); every other output's bit 4e + j is set in the
 * mask returned, for the whole screen and what follows. */
#define MCF_FSUM_FAST4(two, smul, full) \
    mcf_fsum_fast4(sc, acc + 4 * e, out + e * oc, oc, m1[e], m1[1], lo, hi, out_off, two, smul, full)
static MCF_NOINLINE uint32_t mcf_fsum_screen_fast(const mcf_fsum_bounds *bd, const int32_t *acc, const int32_t *sc,
                                                  const uint32_t *col_abs, const uint32_t *col_pw, int32_t count,
                                                  int8_t *out, int32_t oc)
{
    const int32_t lo = bd->lo, hi = bd->hi, out_off = bd->out_off;
    uint32_t left = 0, m1[2] = {0u, 0u};
    int32_t e;
    if (count == 2 && col_abs[0] <= bd->a_limit && col_abs[1] <= bd->a_limit && col_pw[0] <= bd->w_limit &&
        col_pw[1] <= bd->w_limit) { /* the usual: both pixels at once */
        const uint32_t s1 = (uint32_t)sc[1], s5 = (uint32_t)sc[5], c = bd->margin0;
        /* margin + 1: the fraction must lie in [m1, 2^32 - m1] */
        m1[0] = MCF_FSUM_TEST_MARGIN(col_pw[0] * s1 + col_abs[0] * s5 + c) + 1u;
        m1[1] = MCF_FSUM_TEST_MARGIN(col_pw[1] * s1 + col_abs[1] * s5 + c) + 1u;
        e = 0;
        if (bd->smul && bd->full) {
            return MCF_FSUM_FAST4(1, 1, 1);
        }
        if (bd->smul) {
            return MCF_FSUM_FAST4(1, 1, 0);
        }
        return MCF_FSUM_FAST4(1, 0, 0);
    }
    for (e = 0; e < count; ++e) {
        const uint32_t a_abs = col_abs[e], pw = col_pw[e];
        if (a_abs > bd->a_limit || pw > bd->w_limit) {
            left |= 0xFu << (4 * e);
            continue;
        }
        m1[e] = MCF_FSUM_TEST_MARGIN(pw * (uint32_t)sc[1] + a_abs * (uint32_t)sc[5] + bd->margin0) + 1u;
        if (bd->smul && bd->full) {
            left |= MCF_FSUM_FAST4(0, 1, 1) << (4 * e);
        } else if (bd->smul) {
            left |= MCF_FSUM_FAST4(0, 1, 0) << (4 * e);
        } else {
            left |= MCF_FSUM_FAST4(0, 0, 0) << (4 * e);
        }
    }
    return left;
}
#undef MCF_FSUM_FAST4

/* _gemm without an FPU: the integer sums of two pixels at a time and the screen, the float
 * arithmetic only where the screen cannot decide (conv2d_s8_fsum.h). */
static void mcf_fsum_gemm_int(const mcf_conv2d_fsum_params *p, const int8_t *input, int8_t *output)
{
    const int32_t k_count = p->group_c * p->filter_h * p->filter_w;
    const int32_t groups = p->output_c / p->group_m;
    const int32_t image = p->input_h * p->input_w * p->input_c;
    const int32_t pixels = p->output_h * p->output_w, oc = p->output_c;
    const int32_t out_off = p->output_offset, lo = p->act_min - out_off, hi = p->act_max - out_off;
    const int32_t in_off = p->input_offset;
    const uint32_t margin0 = p->screen_margin;
    const int32_t *screen = p->screen;
    float *table = p->scratch;
    float *col = p->scratch + 256;
    int16_t *col16 = (int16_t *)(void *)(p->scratch + 256 + k_count); /* [K][2] */
    /* the most roundings a tap's product takes part in, K + blocks - 1, for k_block and its tail */
    const uint32_t reach = (uint32_t)(k_count + (k_count + p->k_block - 1) / p->k_block - 1);
    const uint32_t reach_tail = (uint32_t)(k_count + (k_count + p->k_block_tail - 1) / p->k_block_tail - 1);
    /* sum k |X_k| where it pays for itself: long sums, and 1x1 filters only with many channels a
       group (it costs two instructions a tap a pixel) */
    const int weighted = k_count >= 128 && (p->filter_h * p->filter_w > 1 || p->group_m >= 32);
    int32_t table_ready = 0;
    int32_t b, px, g, m, k, j, n, e, q;
    int32_t acc[8];
    uint32_t fast, left, all;
    int32_t bit;
    mcf_fsum_bounds bd;
    bd.lo = lo;
    bd.hi = hi;
    bd.out_off = out_off;
    bd.margin0 = margin0;
    bd.a_limit = 0;
    bd.w_limit = 0;
    bd.smul = 0;
    if (screen != 0) { /* each term of the margin below 2^30 (margin0 < 2^30 - 1) */
        uint32_t most_w = 1, most_a = 1;
        bd.smul = 1;
        for (j = 0; j < oc; ++j) {
            most_w = (uint32_t)screen[6 * j + 1] > most_w ? (uint32_t)screen[6 * j + 1] : most_w;
            most_a = (uint32_t)screen[6 * j + 5] > most_a ? (uint32_t)screen[6 * j + 5] : most_a;
            bd.smul &= screen[6 * j] >= 0;
        }
        bd.w_limit = 0x3FFFFFFFu / most_w;
        bd.a_limit = (0x3FFFFFFFu - margin0) / most_a;
    }
    bd.full = p->act_min == -128 && p->act_max == 127;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * image;
        int32_t oy = 0, ox = 0; /* pixel px's position */
        for (px = 0; px < pixels; px += 2) {
            const int32_t count = px + 1 < pixels ? 2 : 1;
            int32_t y0[2], x0[2], kb[2];
            for (e = 0; e < count; ++e) {
                y0[e] = oy * p->stride_h - p->pad_top;
                x0[e] = ox * p->stride_w - p->pad_left;
                kb[e] = px + e >= p->tail_start ? p->k_block_tail : p->k_block;
                if (++ox == p->output_w) {
                    ox = 0;
                    ++oy;
                }
            }
            for (g = 0; g < groups; ++g) {
                uint32_t col_abs[2], col_kabs[2], col_pw[2];
                uint64_t pw64[2];
                int32_t col_pixel = -1; /* whose column `col` holds, dequantized */
                mcf_fsum_fill16(p, in, g, y0, x0, count, col16, col_abs, col_kabs, weighted);
                for (e = 0; e < 2; ++e) { /* sum |X_k| c_k <= (K + blocks - 1) A - sum k |X_k| */
                    pw64[e] = (uint64_t)(px + e >= p->tail_start ? reach_tail : reach) * col_abs[e] -
                              (weighted && k_count <= MCF_FSUM_WEIGHTED_MAX_K ? col_kabs[e] : 0u);
                    /* the usual case's margin takes W rounded up to whole units of 2^8 */
                    col_pw[e] = pw64[e] >= 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)MCF_FSUM_PARTIAL_UP(pw64[e]);
                }
                for (m = g * p->group_m; m < (g + 1) * p->group_m; m += n) {
                    const int8_t *w = p->filter_s8 + m * k_count;
                    n = (g + 1) * p->group_m - m >= 4 ? 4 : 1;
                    if (n == 4 && count == 2) {
                        mcf_fsum_acc4x2(col16, w, k_count, acc);
                    } else if (n == 4) { /* a last pixel without a pair */
                        mcf_fsum_acc4x1(col16, w, k_count, acc);
                    } else {
                        int32_t a0 = 0, a1 = 0;
                        for (k = 0; k < k_count; ++k) {
                            a0 += col16[2 * k] * w[k];
                            a1 += col16[2 * k + 1] * w[k];
                        }
                        acc[0] = a0;
                        acc[4] = a1;
                    }
                    all = count == 2 ? (n == 4 ? 0xFFu : 0x11u) : (n == 4 ? 0xFu : 0x1u);
                    left = screen != 0 && n == 4 ? mcf_fsum_screen_fast(&bd, acc, screen + 6 * m, col_abs, col_pw,
                                                                        count, output + (b * pixels + px) * oc + m, oc)
                                                 : all;
                    fast = all & ~left; /* decided by the usual case, the output written */
                    if (MCF_FSUM_SCREEN_TEST) {
                        left = all; /* each one checked below */
                    }
                    for (bit = 0; left != 0; ++bit, left >>= 1) {
                        if ((left & 1u) == 0u) {
                            continue;
                        }
                        e = bit >> 2;
                        j = bit & 3;
                        {
                            int8_t *out = output + (b * pixels + px + e) * oc;
                            const int32_t *sc = screen + 6 * (m + j);
                            const int32_t a = acc[4 * e + j];
                            int32_t decided = (int32_t)((fast >> bit) & 1u);
                            int8_t exact;
                            if (decided) { /* MCF_FSUM_SCREEN_TEST: the usual case's output */
                                q = out[m + j] - out_off;
                            } else {
                                decided = screen != 0 &&
                                          mcf_fsum_screen(sc, a,
                                                          MCF_FSUM_TEST_MARGIN(MCF_FSUM_PARTIAL_UP(pw64[e] * (uint32_t)sc[1]) +
                                                                               (uint64_t)col_abs[e] * (uint32_t)sc[5] +
                                                                               margin0),
                                                          lo, hi, &q);
                            }
                            if (screen != 0 && !decided) {
                                /* again with the exact partial sums in the float sum's order (a much
                                   tighter margin) before the float arithmetic */
                                const uint64_t partials = mcf_fsum_partials(col16 + e, w + j, n, k_count, kb[e]);
                                decided = mcf_fsum_screen(sc, a,
                                                          MCF_FSUM_TEST_MARGIN(MCF_FSUM_PARTIAL_UP(partials * (uint32_t)sc[4]) +
                                                                               (uint64_t)col_abs[e] * (uint32_t)sc[5] +
                                                                               margin0),
                                                          lo, hi, &q);
                            }
                            if (decided && !MCF_FSUM_SCREEN_TEST) {
                                out[m + j] = (int8_t)(q + out_off);
                                continue;
                            }
                            if (!table_ready) {
                                mcf_fsum_dequant_table(p, table);
                                table_ready = 1;
                            }
                            if (col_pixel != e) { /* a padding tap (0) reads DequantizeLinear(zero point), 0.0f */
                                for (k = 0; k < k_count; ++k) {
                                    col[k] = table[(uint8_t)(int8_t)(col16[2 * k + e] - in_off)];
                                }
                                col_pixel = e;
                            }
                            exact = mcf_fsum_exact1(p, w + j, n, p->weight_scale[m + j], col, k_count, kb[e],
                                                    p->bias[m + j]);
#if MCF_FSUM_SCREEN_TEST == 3
                            mcf_fsum_check_margins(
                                p, sc, a,
                                mcf_fsum_sum1(w + j, n, p->weight_scale[m + j], col, k_count, kb[e], p->bias[m + j]),
                                (MCF_FSUM_PARTIAL_UP(pw64[e] * (uint32_t)sc[1]) + (uint64_t)col_abs[e] * (uint32_t)sc[5] +
                                 margin0) / MCF_FSUM_CUT_FIRST_MARGIN,
                                MCF_FSUM_PARTIAL_UP(mcf_fsum_partials(col16 + e, w + j, n, k_count, kb[e]) *
                                                    (uint32_t)sc[4]) +
                                    (uint64_t)col_abs[e] * (uint32_t)sc[5] + margin0);
#endif
                            if (MCF_FSUM_SCREEN_TEST && decided && exact != (int8_t)(q + out_off)) {
                                __builtin_trap(); /* the screen decided wrongly */
                            }
                            out[m + j] = exact;
                        }
                    }
                }
            }
        }
    }
}
#endif

void mcf_conv2d_s8_fsum_gemm(const mcf_conv2d_fsum_params *p, const int8_t *input, const float *filter,
                             int8_t *output)
{
#if MCF_FSUM_INT
    mcf_fsum_gemm_int(p, input, output);
    (void)filter;
#else
    const int32_t k_count = p->group_c * p->filter_h * p->filter_w;
    const int32_t groups = p->output_c / p->group_m;
    const int32_t image = p->input_h * p->input_w * p->input_c;
    const float *filter_start = filter;
    float *table = p->scratch;
    float *col = p->scratch + 256;
    const int32_t pointwise = p->filter_h == 1 && p->filter_w == 1;
    /* the last window origins whose windows lie inside the image (negative: none) */
    const int32_t last_y = p->input_h - 1 - (p->filter_h - 1) * p->dilation_h;
    const int32_t last_x = p->input_w - 1 - (p->filter_w - 1) * p->dilation_w;
    const int32_t row_step = p->dilation_h * p->input_w * p->input_c, col_step = p->dilation_w * p->input_c;
    const int32_t windows_inside = last_y >= 0 && last_x >= 0;
    /* QuantizeLinear's constants in locals: the int8 stores below may alias *p, which GCC would
       otherwise read again for every output value */
    const float out_scale = p->output_scale;
    const int32_t out_off = p->output_offset, lo = p->act_min - out_off, hi = p->act_max - out_off;
    const float *bias = p->bias;
    float totals[8];
    int32_t b, oy, ox, g, m, k, c, ky, kx, n, j;
#if MCF_FSUM_BLOCK8
    mcf_fsum_out8 out8;
    out8.scale = out_scale;
    out8.offset = out_off;
    out8.lo4 = (uint32_t)(uint8_t)(int8_t)p->act_min * 0x01010101u;
    out8.hi4 = (uint32_t)(uint8_t)(int8_t)p->act_max * 0x01010101u;
    out8.col = col;
    out8.k_count = k_count;
    out8.clamp = p->act_min > -128 || p->act_max < 127;
#endif
    mcf_fsum_dequant_table(p, table);
#if MCF_FSUM_BLOCK8
    if (pointwise && groups == 1 && (p->group_m & 7) == 0 && p->stride_h == 1 && p->stride_w == 1 &&
        p->pad_top == 0 && p->pad_left == 0 && p->output_h == p->input_h && p->output_w == p->input_w) {
        /* a 1x1 convolution over every pixel in order, its channels in blocks of eight: the pixel's
           column, then one call for all its blocks */
        const int32_t pixels = p->batches * p->output_h * p->output_w, image_pixels = p->output_h * p->output_w;
        const int32_t ic = p->input_c, oc = p->output_c, tail = p->tail_start, kb0 = p->k_block,
                      kb1 = p->k_block_tail;
        const uint8_t *src = (const uint8_t *)input;
        int32_t px, in_image = 0;
        for (px = 0; px < pixels; ++px) {
            k = mcf_fsum_fill4(col, src, table, ic >> 2);
            for (; k < ic; ++k) {
                col[k] = table[src[k]];
            }
            out8.kb = in_image >= tail ? kb1 : kb0;
            out8.blocks = oc >> 3;
            mcf_fsum_blocks8(filter, bias, &out8, output);
            src += ic;
            output += oc;
            in_image = in_image + 1 == image_pixels ? 0 : in_image + 1;
        }
        return;
    }
#endif
    for (b = 0; b < p->batches; ++b) {
        const uint8_t *in = (const uint8_t *)input + b * image;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                const int32_t kb = oy * p->output_w + ox >= p->tail_start ? p->k_block_tail : p->k_block;
                for (g = 0; g < groups; ++g) {
                    /* this pixel's column of the group: taps in im2col order */
                    int32_t filled = 1;
                    k = 0;
                    if (pointwise) { /* 1x1: the pixel's channels in a row */
                        if ((uint32_t)y0 < (uint32_t)p->input_h && (uint32_t)x0 < (uint32_t)p->input_w) {
                            const uint8_t *src = in + (y0 * p->input_w + x0) * p->input_c + g * p->group_c;
                            const int32_t gc = p->group_c;
#if MCF_FSUM_BLOCK8
                            k = mcf_fsum_fill4(col, src, table, gc >> 2);
#endif
                            for (; k < gc; ++k) {
                                col[k] = table[src[k]];
                            }
                        } else {
                            mcf_fsum_zero(col, p->group_c);
                        }
                    } else if (windows_inside && (uint32_t)y0 <= (uint32_t)last_y && (uint32_t)x0 <= (uint32_t)last_x) {
                        /* the window inside the image: no bounds to check */
                        const uint8_t *base = in + (y0 * p->input_w + x0) * p->input_c;
                        c = g * p->group_c;
#if MCF_FSUM_BLOCK8
                        if (p->filter_h == 3 && p->filter_w == 3) {
                            k = mcf_fsum_fill3x3(col, base + c, table, p->group_c, col_step, row_step);
                            c = (g + 1) * p->group_c; /* all of them */
                        }
#endif
                        for (; c < (g + 1) * p->group_c; ++c) {
                            for (ky = 0; ky < p->filter_h; ++ky) {
                                const uint8_t *src = base + ky * row_step + c;
                                for (kx = 0; kx < p->filter_w; ++kx) {
                                    col[k++] = table[*src];
                                    src += col_step;
                                }
                            }
                        }
                    } else {
                        filled = 0;
                    }
                    for (c = g * p->group_c; filled == 0 && c < (g + 1) * p->group_c; ++c) {
                        for (ky = 0; ky < p->filter_h; ++ky) {
                            const int32_t iy = y0 + ky * p->dilation_h;
                            const int32_t row_ok = (uint32_t)iy < (uint32_t)p->input_h;
                            const int32_t row = iy * p->input_w * p->input_c + c; /* read only inside */
                            for (kx = 0; kx < p->filter_w; ++kx) {
                                const int32_t ix = x0 + kx * p->dilation_w;
                                col[k++] = (row_ok && (uint32_t)ix < (uint32_t)p->input_w) ? table[in[row + ix * p->input_c]]
                                                                                            : 0.0f;
                            }
                        }
                    }
                    /* output channels in blocks of eight, then four, then one (the filter's layout) */
                    for (m = g * p->group_m; m < (g + 1) * p->group_m; m += n) {
                        const int32_t left = (g + 1) * p->group_m - m;
                        n = left >= 8 ? 8 : (left >= 4 ? 4 : 1);
#if MCF_FSUM_BLOCK8
                        if (left >= 8) { /* the channels in blocks of eight: sums, bias, QuantizeLinear */
                            out8.kb = kb;
                            out8.blocks = left >> 3;
                            mcf_fsum_blocks8(filter, bias + m, &out8, output + m);
                            filter += (left & ~7) * k_count;
                            n = left & ~7;
                            continue;
                        }
#endif
                        if (n == 8) {
                            mcf_fsum_dot8(kb, filter, col, k_count, totals);
                        } else if (n == 4) {
                            mcf_fsum_dot4(kb, filter, col, k_count, totals);
                        } else {
                            mcf_fsum_dot1(kb, filter, col, k_count, totals);
                        }
                        filter += n * k_count;
                        for (j = 0; j < n; ++j) {
                            output[m + j] = mcf_fsum_q(MCF_FSUM_ADD(totals[j], bias[m + j]), out_scale, lo, hi, out_off);
                        }
                    }
                }
                filter = filter_start;
                output += p->output_c;
            }
        }
    }
#endif
}

/* One product rounded to float32 on its own, never fused into the addition that follows (GCC
 * contracts across statements in GNU C mode): an empty asm statement makes the rounded product an
 * opaque register value where the FPU's register class can be named, volatile storage elsewhere.
 * Without an FPU there is no fused instruction to contract into. */
static MCF_ALWAYS_INLINE float mcf_fsum_product(float w, float x)
{
#if MCF_FSUM_INT
    return mcf_fsum_mul_call(w, x);
#elif defined(__GNUC__) && defined(__arm__) && defined(__ARM_FP) && (__ARM_FP & 4)
    float pr = w * x;
    __asm__("" : "+t"(pr));
    return pr;
#elif defined(__GNUC__) && defined(__x86_64__)
    float pr = w * x;
    __asm__("" : "+x"(pr));
    return pr;
#elif defined(__GNUC__) && defined(__riscv_flen)
    float pr = w * x;
    __asm__("" : "+f"(pr));
    return pr;
#else
    volatile float pr = w * x;
    return pr;
#endif
}

void mcf_conv2d_s8_fsum_m1(const mcf_conv2d_fsum_params *p, const int8_t *input, const float *filter,
                           int8_t *output)
{
    const int32_t k_count = p->group_c * p->filter_h * p->filter_w;
    const int32_t image = p->input_h * p->input_w * p->input_c;
    int32_t b, oy, ox, m, c, ky, kx;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * image;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                const int32_t kb = oy * p->output_w + ox >= p->tail_start ? p->k_block_tail : p->k_block;
                for (m = 0; m < p->output_c; ++m) {
                    const float *w = filter + m * k_count;
                    float total = 0.0f, part = 0.0f;
                    int32_t k = 0, block_left = 0, group_left = 0, started = 0;
                    for (c = m * p->group_c; c < (m + 1) * p->group_c; ++c) {
                        for (ky = 0; ky < p->filter_h; ++ky) {
                            for (kx = 0; kx < p->filter_w; ++kx) {
                                const float x = mcf_fsum_tap(p, in, c, y0 + ky * p->dilation_h, x0 + kx * p->dilation_w);
                                const float pr = mcf_fsum_product(w[k], x);
                                if (block_left == 0) { /* a block starts: its taps */
                                    block_left = k_count - k < kb ? k_count - k : kb;
                                }
                                if (group_left == 0) { /* a group starts: four taps, else two, else one */
                                    group_left = block_left >= 4 ? 4 : (block_left >= 2 ? 2 : 1);
                                    part = pr;
                                } else {
                                    part = MCF_FSUM_ADD(part, pr);
                                }
                                ++k;
                                --block_left;
                                if (--group_left == 0) {
                                    total = started ? MCF_FSUM_ADD(part, total) : part;
                                    started = 1;
                                }
                            }
                        }
                    }
                    output[m] = mcf_fsum_quantize(p, MCF_FSUM_ADD(total, p->bias[m]));
                }
                output += p->output_c;
            }
        }
    }
}

/* Eight lane sums of one row reduced as MLAS's M = 1 transposed kernel reduces a row of a block of
 * four rows (`rows` 4), of two (2) or a single row (1). */
static MCF_ALWAYS_INLINE float mcf_fsum_lanes(const float *a, int32_t rows)
{
    if (rows == 4) {
        return MCF_FSUM_ADD(MCF_FSUM_ADD(MCF_FSUM_ADD(MCF_FSUM_ADD(a[0], a[1]), a[2]), a[3]),
                            MCF_FSUM_ADD(MCF_FSUM_ADD(MCF_FSUM_ADD(a[4], a[5]), a[6]), a[7]));
    }
    if (rows == 2) {
        return MCF_FSUM_ADD(MCF_FSUM_ADD(MCF_FSUM_ADD(a[0], a[2]), MCF_FSUM_ADD(a[4], a[6])),
                            MCF_FSUM_ADD(MCF_FSUM_ADD(a[1], a[3]), MCF_FSUM_ADD(a[5], a[7])));
    }
    return MCF_FSUM_ADD(MCF_FSUM_ADD(MCF_FSUM_ADD(a[0], a[1]), MCF_FSUM_ADD(a[2], a[3])),
                        MCF_FSUM_ADD(MCF_FSUM_ADD(a[4], a[5]), MCF_FSUM_ADD(a[6], a[7])));
}

void mcf_conv2d_s8_fsum_n1(const mcf_conv2d_fsum_params *p, const int8_t *input, const float *filter,
                           int8_t *output)
{
    const int32_t k_count = p->group_c * p->filter_h * p->filter_w;
    const int32_t groups = p->output_c / p->group_m;
    const int32_t rows4 = p->group_m & ~3;
    const int32_t image = p->input_h * p->input_w * p->input_c;
    float *col = p->scratch;
    int32_t b, g, m, k, c, ky, kx;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * image;
        const int32_t y0 = -p->pad_top;
        const int32_t x0 = -p->pad_left;
        for (g = 0; g < groups; ++g) {
            k = 0;
            for (c = g * p->group_c; c < (g + 1) * p->group_c; ++c) {
                for (ky = 0; ky < p->filter_h; ++ky) {
                    for (kx = 0; kx < p->filter_w; ++kx) {
                        col[k++] = mcf_fsum_tap(p, in, c, y0 + ky * p->dilation_h, x0 + kx * p->dilation_w);
                    }
                }
            }
            for (m = 0; m < p->group_m; ++m) {
                const float *w = filter + (g * p->group_m + m) * k_count;
                /* tap k goes to lane k % 8; eight named sums (an initialised array becomes a memset call
                   on some cores, and this file must not call the C library) */
                float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f, s4 = 0.0f, s5 = 0.0f, s6 = 0.0f, s7 = 0.0f;
                float lanes[8];
                for (k = 0; k + 8 <= k_count; k += 8) {
                    s0 = MCF_FSUM_ADD(s0, mcf_fsum_product(w[k], col[k]));
                    s1 = MCF_FSUM_ADD(s1, mcf_fsum_product(w[k + 1], col[k + 1]));
                    s2 = MCF_FSUM_ADD(s2, mcf_fsum_product(w[k + 2], col[k + 2]));
                    s3 = MCF_FSUM_ADD(s3, mcf_fsum_product(w[k + 3], col[k + 3]));
                    s4 = MCF_FSUM_ADD(s4, mcf_fsum_product(w[k + 4], col[k + 4]));
                    s5 = MCF_FSUM_ADD(s5, mcf_fsum_product(w[k + 5], col[k + 5]));
                    s6 = MCF_FSUM_ADD(s6, mcf_fsum_product(w[k + 6], col[k + 6]));
                    s7 = MCF_FSUM_ADD(s7, mcf_fsum_product(w[k + 7], col[k + 7]));
                }
                if (k < k_count) s0 = MCF_FSUM_ADD(s0, mcf_fsum_product(w[k], col[k]));
                if (k + 1 < k_count) s1 = MCF_FSUM_ADD(s1, mcf_fsum_product(w[k + 1], col[k + 1]));
                if (k + 2 < k_count) s2 = MCF_FSUM_ADD(s2, mcf_fsum_product(w[k + 2], col[k + 2]));
                if (k + 3 < k_count) s3 = MCF_FSUM_ADD(s3, mcf_fsum_product(w[k + 3], col[k + 3]));
                if (k + 4 < k_count) s4 = MCF_FSUM_ADD(s4, mcf_fsum_product(w[k + 4], col[k + 4]));
                if (k + 5 < k_count) s5 = MCF_FSUM_ADD(s5, mcf_fsum_product(w[k + 5], col[k + 5]));
                if (k + 6 < k_count) s6 = MCF_FSUM_ADD(s6, mcf_fsum_product(w[k + 6], col[k + 6]));
                lanes[0] = s0; lanes[1] = s1; lanes[2] = s2; lanes[3] = s3;
                lanes[4] = s4; lanes[5] = s5; lanes[6] = s6; lanes[7] = s7;
                output[g * p->group_m + m] = mcf_fsum_quantize(
                    p, MCF_FSUM_ADD(mcf_fsum_lanes(lanes, m < rows4 ? 4 : (m < rows4 + 2 && p->group_m - rows4 >= 2 ? 2 : 1)),
                                    p->bias[g * p->group_m + m]));
            }
        }
        output += p->output_c;
    }
}

/* _m1's order over the taps of one window: products added in groups of four taps (then two, then
 * one), each group's sum added to the total. MCF_FSUM_X(t) is tap t's product. */
#define MCF_FSUM_G4(t) \
    MCF_FSUM_ADD(MCF_FSUM_ADD(MCF_FSUM_ADD(MCF_FSUM_X(t), MCF_FSUM_X((t) + 1)), MCF_FSUM_X((t) + 2)), MCF_FSUM_X((t) + 3))

#if !MCF_FSUM_INT
/* One input row of channel c dequantized into `row` (width floats, the first for input column
 * -pad_left), 0.0f outside the image: a padding tap then adds a zero product, as in MLAS's im2col. */
static MCF_NOINLINE MCF_NO_LIBCALL_LOOPS void mcf_fsum_dw_row(const mcf_conv2d_fsum_params *p, const float *table, const uint8_t *src, int32_t inside,
                            int32_t width, float *row)
{
    const int32_t ch = p->output_c;
    int32_t xi = 0, end = p->pad_left + p->input_w;
    end = end < width ? end : width;
    if (inside) {
        for (; xi < p->pad_left; ++xi) {
            row[xi] = 0.0f;
        }
        src += (xi - p->pad_left) * ch;
        for (; xi < end; ++xi) {
            row[xi] = table[*src];
            src += ch;
        }
    }
    for (; xi < width; ++xi) {
        row[xi] = 0.0f;
    }
}
#endif

/* (unoptimized builds keep the frame pointer and lack registers for the windows' operands: the C loops) */
#if MCF_FSUM_VLDM && defined(__OPTIMIZE__)
#define MCF_FSUM_DW_ASM 1
#else
#define MCF_FSUM_DW_ASM 0
#endif
#if MCF_FSUM_DW_ASM
/* One 5x5 window (rows at a0..a4, weights w[25]) in _m1's order, each product rounded (VMUL.F32),
 * then added (VADD.F32): the weights in two VLDM, each row's five inputs in one. */
static MCF_ALWAYS_INLINE float mcf_fsum_dw5_window(const float *w, const float *a0, const float *a1, const float *a2,
                                                   const float *a3, const float *a4)
{
    register float total __asm__("s7");
    __asm__(
        "vldmia %[w], {s8-s31}\n\t"
        "vldmia %[a0], {s0-s4}\n\t"
        "vmul.f32 s5, s8, s0\n\t"
        "vmul.f32 s6, s9, s1\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vmul.f32 s6, s10, s2\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vmul.f32 s6, s11, s3\n\t"
        "vadd.f32 s7, s5, s6\n\t"
        "vmul.f32 s5, s12, s4\n\t"
        "vldmia %[a1], {s0-s4}\n\t"
        "vmul.f32 s6, s13, s0\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vmul.f32 s6, s14, s1\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vmul.f32 s6, s15, s2\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vadd.f32 s7, s5, s7\n\t"
        "vmul.f32 s5, s16, s3\n\t"
        "vmul.f32 s6, s17, s4\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vldmia %[a2], {s0-s4}\n\t"
        "vmul.f32 s6, s18, s0\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vmul.f32 s6, s19, s1\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vadd.f32 s7, s5, s7\n\t"
        "vmul.f32 s5, s20, s2\n\t"
        "vmul.f32 s6, s21, s3\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vmul.f32 s6, s22, s4\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vldmia %[a3], {s0-s4}\n\t"
        "vmul.f32 s6, s23, s0\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vadd.f32 s7, s5, s7\n\t"
        "vmul.f32 s5, s24, s1\n\t"
        "vmul.f32 s6, s25, s2\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vmul.f32 s6, s26, s3\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vmul.f32 s6, s27, s4\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vadd.f32 s7, s5, s7\n\t"
        "vldmia %[a4], {s0-s4}\n\t"
        "vmul.f32 s5, s28, s0\n\t"
        "vmul.f32 s6, s29, s1\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vmul.f32 s6, s30, s2\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vmul.f32 s6, s31, s3\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vadd.f32 s7, s5, s7\n\t"
        "vldr s5, [%[w], #96]\n\t"
        "vmul.f32 s5, s5, s4\n\t"
        "vadd.f32 s7, s5, s7\n\t"
        : "=t"(total)
        : [w] "r"(w), [a0] "r"(a0), [a1] "r"(a1), [a2] "r"(a2), [a3] "r"(a3), [a4] "r"(a4), "m"(*(const float(*)[25])w),
          "m"(*(const float(*)[5])a0), "m"(*(const float(*)[5])a1), "m"(*(const float(*)[5])a2),
          "m"(*(const float(*)[5])a3), "m"(*(const float(*)[5])a4)
        : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s8", "s9", "s10", "s11", "s12", "s13", "s14", "s15", "s16",
          "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s24", "s25", "s26", "s27", "s28", "s29", "s30", "s31");
    return total;
}

/* One 3x3 window (rows at a0..a2, weights w[9]) the same way. */
static MCF_ALWAYS_INLINE float mcf_fsum_dw3_window(const float *w, const float *a0, const float *a1, const float *a2)
{
    register float total __asm__("s7");
    __asm__(
        "vldmia %[w], {s8-s16}\n\t"
        "vldmia %[a0], {s0-s2}\n\t"
        "vmul.f32 s5, s8, s0\n\t"
        "vmul.f32 s6, s9, s1\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vmul.f32 s6, s10, s2\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vldmia %[a1], {s0-s2}\n\t"
        "vmul.f32 s6, s11, s0\n\t"
        "vadd.f32 s7, s5, s6\n\t"
        "vmul.f32 s5, s12, s1\n\t"
        "vmul.f32 s6, s13, s2\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vldmia %[a2], {s0-s2}\n\t"
        "vmul.f32 s6, s14, s0\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vmul.f32 s6, s15, s1\n\t"
        "vadd.f32 s5, s5, s6\n\t"
        "vadd.f32 s7, s5, s7\n\t"
        "vmul.f32 s5, s16, s2\n\t"
        "vadd.f32 s7, s5, s7\n\t"
        : "=t"(total)
        : [w] "r"(w), [a0] "r"(a0), [a1] "r"(a1), [a2] "r"(a2), "m"(*(const float(*)[9])w),
          "m"(*(const float(*)[3])a0), "m"(*(const float(*)[3])a1), "m"(*(const float(*)[3])a2)
        : "s0", "s1", "s2", "s5", "s6", "s8", "s9", "s10", "s11", "s12", "s13", "s14", "s15", "s16");
    return total;
}
#endif

/* rows[ky] = the ring's slot of the window's row ky ((y0 + ky dilation_h + pad_top) mod span; the
 * integer and the float _dw; fh, ky, span and width in scope). */
#define MCF_FSUM_RING_ROWS(rows, ring, y0)                                                                         \
    do {                                                                                                           \
        int32_t slot_ = ((y0) + p->pad_top) % span;                                                                \
        for (ky = 0; ky < fh; ++ky) {                                                                              \
            (rows)[ky] = (ring) + slot_ * width;                                                                   \
            slot_ += p->dilation_h;                                                                                \
            slot_ = slot_ >= span ? slot_ - span : slot_;                                                          \
        }                                                                                                          \
    } while (0)

#if MCF_FSUM_INT
/* _dw's output of channel c at the window from (y0, x0) as the float Conv computes it (_m1's order:
 * the window's products rounded, added in groups of four taps, then two, then one, each group's sum
 * added to the total), the weights dequantized per channel; then the bias added (QuantizeLinear's
 * input). */
static MCF_NOINLINE float mcf_fsum_dw_sum1(const mcf_conv2d_fsum_params *p, const int8_t *in, const int8_t *filter,
                                           int32_t c, int32_t y0, int32_t x0)
{
    const int32_t taps = p->filter_h * p->filter_w;
    const float scale = p->weight_scale[c];
    float total = 0.0f, part = 0.0f;
    int32_t t = 0, left = 0, started = 0, ky, kx;
    for (ky = 0; ky < p->filter_h; ++ky) {
        for (kx = 0; kx < p->filter_w; ++kx) {
            const float x = mcf_fsum_tap(p, in, c, y0 + ky * p->dilation_h, x0 + kx * p->dilation_w);
            const float pr = mcf_fsum_product(MCF_FSUM_DEQUANT(filter[t * p->output_c + c], scale), x);
            if (left == 0) {
                left = taps - t >= 4 ? 4 : (taps - t >= 2 ? 2 : 1);
                part = pr;
            } else {
                part = MCF_FSUM_ADD(part, pr);
            }
            ++t;
            if (--left == 0) {
                total = started ? MCF_FSUM_ADD(part, total) : part;
                started = 1;
            }
        }
    }
    return MCF_FSUM_ADD(total, p->bias[c]);
}

/* S = sum |X W| over the taps of channel c's window from (y0, x0) inside the image (_dw's second
 * screen). */
static uint32_t mcf_fsum_dw_abs(const mcf_conv2d_fsum_params *p, const int8_t *in, const int8_t *filter, int32_t c,
                                int32_t y0, int32_t x0)
{
    uint32_t s = 0;
    int32_t t = 0, ky, kx;
    for (ky = 0; ky < p->filter_h; ++ky) {
        const int32_t iy = y0 + ky * p->dilation_h;
        for (kx = 0; kx < p->filter_w; ++kx, ++t) {
            const int32_t ix = x0 + kx * p->dilation_w;
            if ((uint32_t)iy < (uint32_t)p->input_h && (uint32_t)ix < (uint32_t)p->input_w) {
                const int32_t v = (in[(iy * p->input_w + ix) * p->output_c + c] + p->input_offset) *
                                  filter[t * p->output_c + c];
                s += (uint32_t)(v < 0 ? -v : v);
            }
        }
    }
    return s;
}

/* One input row of channel c for the integer _dw: X = x + input offset at row[pad_left + x] (the
 * padding columns are not written: the caller zeroes them once) or, `inside` 0, the whole row 0. */
static MCF_NOINLINE void mcf_fsum_dw_row16(const mcf_conv2d_fsum_params *p, const int8_t *src, int32_t inside,
                                           int32_t width, int16_t *row)
{
    const int32_t ch = p->output_c, in_off = p->input_offset;
    int32_t xi, end = p->input_w < width - p->pad_left ? p->input_w : width - p->pad_left;
    if (!inside) {
        for (xi = 0; xi < width; ++xi) {
            row[xi] = 0;
        }
        return;
    }
    row += p->pad_left;
    for (xi = 0; xi < end; ++xi) {
        row[xi] = (int16_t)(*src + in_off);
        src += ch;
    }
}

/* The output after _dw's first screen left it (or, MCF_FSUM_SCREEN_TEST, after it decided it: then
 * `decided`): the second screen, its margin from the window's own S = sum |X W| (the screening
 * word per unit of S, s[4]), then the float arithmetic. */
static MCF_NOINLINE void mcf_fsum_dw_rest(const mcf_conv2d_fsum_params *p, const int8_t *in, const int8_t *filter,
                                          int32_t c, int32_t y0, int32_t x0, int32_t acc, int32_t decided, int8_t *out)
{
    const int32_t out_off = p->output_offset, lo = p->act_min - out_off, hi = p->act_max - out_off;
    const int32_t *sc = p->screen + 6 * c;
    uint64_t margin2 = 0;
    int32_t q = *out - out_off;
    float sum;
    int8_t exact;
    if (p->screen != 0) {
        margin2 = MCF_FSUM_PARTIAL_UP((uint64_t)mcf_fsum_dw_abs(p, in, filter, c, y0, x0) * (uint32_t)sc[4]) +
                  p->screen_margin;
    }
    if (!decided && p->screen != 0) {
        decided = mcf_fsum_screen(sc, acc, MCF_FSUM_TEST_MARGIN(margin2), lo, hi, &q);
        if (decided && !MCF_FSUM_SCREEN_TEST) {
            *out = (int8_t)(q + out_off);
            return;
        }
    }
    sum = mcf_fsum_dw_sum1(p, in, filter, c, y0, x0);
    exact = mcf_fsum_quantize(p, sum);
#if MCF_FSUM_SCREEN_TEST == 3
    if (p->screen != 0) {
        mcf_fsum_check_margins(p, sc, acc, sum, (uint32_t)sc[1] / MCF_FSUM_CUT_FIRST_MARGIN, margin2);
    }
#endif
    if (MCF_FSUM_SCREEN_TEST && decided && exact != (int8_t)(q + out_off)) {
        __builtin_trap(); /* the screen decided wrongly */
    }
    *out = exact;
}

/* The sums of channel c over n windows (constant 1, 2 or 4), each sw columns right of the one
 * before, from the int16 rows rows[ky] (column col for the first window's tap kx = 0), weights
 * w[taps]; the windows share the weights' loads, and where they overlap the inputs'. Constants fw,
 * dw, sw give the unrolled rows. */
#define MCF_FSUM_DW_TAP(k)                                         \
    (v = w[k], a0 += r[(k) * dw] * v, a1 += n > 1 ? r[(k) * dw + sw] * v : 0, \
     a2 += n > 2 ? r[(k) * dw + 2 * sw] * v : 0, a3 += n > 2 ? r[(k) * dw + 3 * sw] * v : 0)
static MCF_ALWAYS_INLINE void mcf_fsum_dw_win(int16_t *const *rows, int32_t col, const int16_t *w, int32_t fh,
                                              int32_t fw, int32_t dw, int32_t sw, const int n, int32_t *sums)
{
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, v, ky, kx;
    for (ky = 0; ky < fh; ++ky, w += fw) {
        const int16_t *r = rows[ky] + col;
        if (fw == 3) {
            MCF_FSUM_DW_TAP(0), MCF_FSUM_DW_TAP(1), MCF_FSUM_DW_TAP(2);
        } else if (fw == 5) {
            MCF_FSUM_DW_TAP(0), MCF_FSUM_DW_TAP(1), MCF_FSUM_DW_TAP(2), MCF_FSUM_DW_TAP(3), MCF_FSUM_DW_TAP(4);
        } else {
            for (kx = 0; kx < fw; ++kx) {
                MCF_FSUM_DW_TAP(kx);
            }
        }
    }
    sums[0] = a0, sums[1] = a1, sums[2] = a2, sums[3] = a3;
}
#undef MCF_FSUM_DW_TAP

/* One output row of channel c for the integer _dw (window rows rows[ky], weights w[taps]): four
 * outputs a pass (mcf_fsum_dw_win), then two, then one; then
 * the screen, its margin the channel's constant (screen_constants). Constants fh, fw, dw, sw (0:
 * the params') give the unrolled windows. */
static MCF_ALWAYS_INLINE void mcf_fsum_dw_outrow(const mcf_conv2d_fsum_params *p, const int8_t *in,
                                                 const int8_t *filter, int32_t c, int32_t y0, int16_t *const *rows,
                                                 const int16_t *w, int8_t *o, int32_t fh, int32_t fw, int32_t dw,
                                                 int32_t sw)
{
    const int32_t ch = p->output_c, out_w = p->output_w, out_off = p->output_offset;
    const int32_t lo = p->act_min - out_off, hi = p->act_max - out_off;
    const int32_t *sc = p->screen + 6 * c;
    const int screened = p->screen != 0;
    int32_t ox, n = 0, a[4];
    fh = fh ? fh : p->filter_h;
    fw = fw ? fw : p->filter_w;
    dw = dw ? dw : p->dilation_w;
    sw = sw ? sw : p->stride_w;
    for (ox = 0; ox < out_w; ox += n, o += n * ch) {
        int32_t e, d;
        n = ox + 4 <= out_w ? 4 : (ox + 2 <= out_w ? 2 : 1);
        if (n == 4) {
            mcf_fsum_dw_win(rows, ox * sw, w, fh, fw, dw, sw, 4, a);
        } else if (n == 2) {
            mcf_fsum_dw_win(rows, ox * sw, w, fh, fw, dw, sw, 2, a);
        } else {
            mcf_fsum_dw_win(rows, ox * sw, w, fh, fw, dw, sw, 1, a);
        }
        for (e = 0; e < n; ++e) {
            d = screened && mcf_fsum_dw_screen(sc, a[e], lo, hi, out_off, o + e * ch);
            if (!d || MCF_FSUM_SCREEN_TEST) {
                mcf_fsum_dw_rest(p, in, filter, c, y0, (ox + e) * sw - p->pad_left, a[e], d, o + e * ch);
            }
        }
    }
}

/* _dw without an FPU on small images (mcf_fsum_dw_int): each output's exact integer sum over the
 * taps of its window inside the image (found once per pixel), channels in the inner loop, and the
 * screen (as _gemm's, sum |X W| bounded by the largest |X| the input offset allows times sum |W|:
 * the screen's second word is then the whole margin, a constant per channel), the float
 * arithmetic only where the screen cannot decide (mcf_fsum_dw_rest). */
static void mcf_fsum_dw_direct(const mcf_conv2d_fsum_params *p, const int8_t *input, const int8_t *filter, int8_t *output)
{
    const int32_t ch = p->output_c, fw = p->filter_w, dh = p->dilation_h, dw = p->dilation_w;
    const int32_t image = p->input_h * p->input_w * ch, step = dw * ch;
    const int32_t in_off = p->input_offset;
    const int32_t out_off = p->output_offset, lo = p->act_min - out_off, hi = p->act_max - out_off;
    const int32_t *screen = p->screen;
    int32_t roff[MCF_FSUM_DW_MAX_TAPS], woff[MCF_FSUM_DW_MAX_TAPS]; /* per filter row inside the image */
    int32_t b, oy, ox, c, ky, kx, r;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * image;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            int32_t ky0 = 0, ky1 = p->filter_h; /* the filter rows inside the image */
            while (ky0 < ky1 && y0 + ky0 * dh < 0) {
                ++ky0;
            }
            while (ky1 > ky0 && y0 + (ky1 - 1) * dh >= p->input_h) {
                --ky1;
            }
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                int32_t kx0 = 0, kx1 = fw, rows = 0, width;
                while (kx0 < kx1 && x0 + kx0 * dw < 0) {
                    ++kx0;
                }
                while (kx1 > kx0 && x0 + (kx1 - 1) * dw >= p->input_w) {
                    --kx1;
                }
                width = kx1 - kx0;
                for (ky = ky0; ky < ky1; ++ky, ++rows) {
                    roff[rows] = ((y0 + ky * dh) * p->input_w + x0 + kx0 * dw) * ch;
                    woff[rows] = (ky * fw + kx0) * ch;
                }
                for (c = 0; c < ch; ++c) {
                    int32_t acc = 0, decided;
                    for (r = 0; r < rows; ++r) {
                        const int8_t *src = in + roff[r] + c;
                        const int8_t *w = filter + woff[r] + c;
                        if (width == 3) { /* a whole row of a 3-wide window: loads at register offsets */
                            acc += (src[0] + in_off) * w[0] + (src[step] + in_off) * w[ch] +
                                   (src[2 * step] + in_off) * w[2 * ch];
                            continue;
                        }
                        if (width == 4) { /* a 5-wide window's row cut by the border */
                            acc += (src[0] + in_off) * w[0] + (src[step] + in_off) * w[ch] +
                                   (src[2 * step] + in_off) * w[2 * ch] + (src[3 * step] + in_off) * w[3 * ch];
                            continue;
                        }
                        if (width == 5) { /* of a 5-wide one */
                            acc += (src[0] + in_off) * w[0] + (src[step] + in_off) * w[ch] +
                                   (src[2 * step] + in_off) * w[2 * ch] + (src[3 * step] + in_off) * w[3 * ch] +
                                   (src[4 * step] + in_off) * w[4 * ch];
                            continue;
                        }
                        for (kx = 0; kx < width; ++kx) {
                            acc += (*src + in_off) * *w;
                            src += step;
                            w += ch;
                        }
                    }
                    /* the margin is the channel's constant here (screen_constants) */
                    decided = screen != 0 &&
                              mcf_fsum_dw_screen(screen + 6 * c, acc, lo, hi, out_off, output + c);
                    if (!decided || MCF_FSUM_SCREEN_TEST) {
                        mcf_fsum_dw_rest(p, in, filter, c, y0, x0, acc, decided, output + c);
                    }
                }
                output += ch;
            }
        }
    }
}

/* _dw without an FPU. Images of at least 4 columns and 16 pixels one channel at a time: the
 * channel's input rows as int16 X = x + input offset (0 for padding), each once, into the padded
 * plane where it fits the scratch (as the float _dw's), else into a ring of span rows; each output's
 * exact integer sum over its window from there, four, two or one outputs of a row at a time
 * (mcf_fsum_dw_outrow), and the screen (as _gemm's, sum |X W| bounded by the largest |X| the input
 * offset allows times sum |W|: the screen's second word is then the whole margin, a constant per
 * channel), the rest in mcf_fsum_dw_rest. Smaller images: mcf_fsum_dw_direct. scratch: the
 * channel's weights (int16) in its first taps halfwords, the rows from float 256 + taps (the float
 * _dw's plane or ring holds twice as many halfwords). */
static void mcf_fsum_dw_int(const mcf_conv2d_fsum_params *p, const int8_t *input, const int8_t *filter, int8_t *output)
{
    const int32_t ch = p->output_c, fh = p->filter_h, fw = p->filter_w, taps = fh * fw;
    const int32_t image = p->input_h * p->input_w * ch, in_row = p->input_w * ch;
    const int32_t span = (fh - 1) * p->dilation_h + 1;
    const int32_t width = (p->output_w - 1) * p->stride_w + (fw - 1) * p->dilation_w + 1;
    const int32_t plane_rows = (p->output_h - 1) * p->stride_h + span;
    const int32_t plane = plane_rows * width <= MCF_FSUM_DW_PLANE_MAX;
    const int32_t d1 = p->dilation_w == 1, sw = p->stride_w;
    int16_t *w = (int16_t *)(void *)p->scratch;
    int16_t *ring = (int16_t *)(void *)(p->scratch + 256 + taps);
    int16_t *rows[MCF_FSUM_DW_MAX_TAPS];
    int32_t b, c, t, oy, r, ky;
    if (p->output_w < 4 || p->output_h * p->output_w < 16) { /* more padding than taps: the taps inside */
        mcf_fsum_dw_direct(p, input, filter, output);
        return;
    }
    for (t = 0; t < (plane ? plane_rows : span) * width; ++t) { /* the padding stays 0 */
        ring[t] = 0;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * image;
        int8_t *out_b = output + b * p->output_h * p->output_w * ch;
        for (c = 0; c < ch; ++c) {
            int32_t filled = -p->pad_top - 1; /* the last input row written */
            for (t = 0; t < taps; ++t) {
                w[t] = filter[t * ch + c];
            }
            if (plane) {
                const int32_t y_end = p->input_h < plane_rows - p->pad_top ? p->input_h : plane_rows - p->pad_top;
                for (r = 0; r < y_end; ++r) {
                    mcf_fsum_dw_row16(p, in + r * in_row + c, 1, width, ring + (r + p->pad_top) * width);
                }
            }
            for (oy = 0; oy < p->output_h; ++oy) {
                const int32_t y0 = oy * p->stride_h - p->pad_top, last = y0 + span - 1;
                int8_t *o = out_b + oy * p->output_w * ch + c;
                if (plane) {
                    for (ky = 0; ky < fh; ++ky) {
                        rows[ky] = ring + (oy * p->stride_h + ky * p->dilation_h) * width;
                    }
                } else {
                    for (r = filled + 1 > y0 ? filled + 1 : y0; r <= last; ++r) {
                        mcf_fsum_dw_row16(p, in + r * in_row + c, (uint32_t)r < (uint32_t)p->input_h, width,
                                          ring + ((r + p->pad_top) % span) * width);
                    }
                    filled = last;
                    MCF_FSUM_RING_ROWS(rows, ring, y0);
                }
                if (fh == 3 && fw == 3 && d1 && sw == 1) {
                    mcf_fsum_dw_outrow(p, in, filter, c, y0, rows, w, o, 3, 3, 1, 1);
                } else if (fh == 3 && fw == 3 && d1 && sw == 2) {
                    mcf_fsum_dw_outrow(p, in, filter, c, y0, rows, w, o, 3, 3, 1, 2);
                } else if (fh == 5 && fw == 5 && d1 && sw == 1) {
                    mcf_fsum_dw_outrow(p, in, filter, c, y0, rows, w, o, 5, 5, 1, 1);
                } else if (fh == 5 && fw == 5 && d1 && sw == 2) {
                    mcf_fsum_dw_outrow(p, in, filter, c, y0, rows, w, o, 5, 5, 1, 2);
                } else {
                    mcf_fsum_dw_outrow(p, in, filter, c, y0, rows, w, o, 0, 0, 0, 0);
                }
            }
        }
    }
}
#endif

void mcf_conv2d_s8_fsum_dw(const mcf_conv2d_fsum_params *p, const int8_t *input, const int8_t *filter,
                           int8_t *output)
{
#if MCF_FSUM_INT
    mcf_fsum_dw_int(p, input, filter, output);
#else
    const int32_t fh = p->filter_h, fw = p->filter_w, taps = fh * fw;
    const int32_t ch = p->output_c;
    const int32_t image = p->input_h * p->input_w * ch;
    const int32_t span = (fh - 1) * p->dilation_h + 1;                                    /* rows of a window */
    const int32_t width = (p->output_w - 1) * p->stride_w + (fw - 1) * p->dilation_w + 1; /* padded row */
    const int32_t sw = p->stride_w;
    const float out_scale = p->output_scale;
    const int32_t out_off = p->output_offset, lo = p->act_min - out_off, hi = p->act_max - out_off;
    float *table = p->scratch;
    float *w = p->scratch + 256;
    float *ring = w + taps;
    const int32_t square = fh == fw && p->dilation_w == 1; /* the unrolled 3x3 and 5x5 windows */
    const float *tp[MCF_FSUM_DW_MAX_TAPS];
    const float *rows[MCF_FSUM_DW_MAX_TAPS];
    /* a small image: all its padded rows at once (`plane`), the padding zeroed once per call and
       only the channel's own values written per channel */
    const int32_t plane_rows = (p->output_h - 1) * p->stride_h + span;
    const int32_t plane = plane_rows * width <= MCF_FSUM_DW_PLANE_MAX;
    const int32_t y_end = p->input_h < plane_rows - p->pad_top ? p->input_h : plane_rows - p->pad_top;
    const int32_t x_end = p->input_w < width - p->pad_left ? p->input_w : width - p->pad_left;
    const int32_t in_row = p->input_w * ch, out_w = p->output_w;
    int32_t b, c, oy, ox, t, r, ky, kx, step;
    mcf_fsum_dequant_table(p, table);
    if (plane) {
        mcf_fsum_zero(ring, plane_rows * width);
    }
    for (b = 0; b < p->batches; ++b) {
        const uint8_t *in = (const uint8_t *)input + b * image;
        int8_t *out_b = output + b * p->output_h * p->output_w * ch;
        for (c = 0; c < ch; ++c) {
            int32_t filled = -p->pad_top - 1;
            /* DequantizeLinear of the channel's weights: float32(w * scale), one rounding */
            const float wscale = p->weight_scale[c];
            const float bias = p->bias[c];
            for (t = 0; t < taps; ++t) {
                w[t] = MCF_FSUM_DEQUANT(filter[t * ch + c], wscale);
            }
            if (plane) { /* the channel's values inside the padding */
                for (r = 0; r < y_end; ++r) {
                    const uint8_t *src = in + r * in_row + c;
                    float *dst = ring + (r + p->pad_top) * width + p->pad_left;
                    for (ox = 0; ox < x_end; ++ox) {
                        dst[ox] = table[*src];
                        src += ch;
                    }
                }
            }
            for (oy = 0; oy < p->output_h; ++oy) {
                const int32_t y0 = oy * p->stride_h - p->pad_top;
                const int32_t last = y0 + span - 1;
                int8_t *o = out_b + oy * out_w * ch + c;
                if (plane) {
                    const float *row0 = ring + oy * p->stride_h * width;
                    for (ky = 0; ky < fh; ++ky) {
                        rows[ky] = row0 + ky * p->dilation_h * width;
                    }
                } else {
                    /* the window's rows, each dequantized once into a ring of `span` rows (slot: row + pad_top mod span) */
                    for (r = filled + 1 > y0 ? filled + 1 : y0; r <= last; ++r) {
                        mcf_fsum_dw_row(p, table, in + r * in_row + c, (uint32_t)r < (uint32_t)p->input_h, width,
                                        ring + ((r + p->pad_top) % span) * width);
                    }
                    filled = last;
                    MCF_FSUM_RING_ROWS(rows, ring, y0);
                }
                ox = 0;
#if MCF_FSUM_DW_ASM
                if (square && fw == 3) {
                    const float *a0 = rows[0], *a1 = rows[1], *a2 = rows[2];
                    for (; ox < out_w; ++ox) {
                        *o = mcf_fsum_q(mcf_fsum_dw3_window(w, a0, a1, a2) + bias, out_scale, lo, hi, out_off);
                        o += ch;
                        a0 += sw;
                        a1 += sw;
                        a2 += sw;
                    }
                } else if (square && fw == 5) {
                    const float *a0 = rows[0], *a1 = rows[1], *a2 = rows[2], *a3 = rows[3], *a4 = rows[4];
                    for (; ox < out_w; ++ox) {
                        *o = mcf_fsum_q(mcf_fsum_dw5_window(w, a0, a1, a2, a3, a4) + bias, out_scale, lo, hi, out_off);
                        o += ch;
                        a0 += sw;
                        a1 += sw;
                        a2 += sw;
                        a3 += sw;
                        a4 += sw;
                    }
                } else
#endif
                if (square && fw == 3) {
                    const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6],
                                w7 = w[7], w8 = w[8];
                    const float *a0 = rows[0], *a1 = rows[1], *a2 = rows[2];
#define MCF_FSUM_DW3(j)                                                                                               \
    MCF_FSUM_ADD(mcf_fsum_product(w8, a2[2 + (j)]),                                                                   \
                 MCF_FSUM_ADD(MCF_FSUM_ADD(MCF_FSUM_ADD(MCF_FSUM_ADD(mcf_fsum_product(w4, a1[1 + (j)]),              \
                                                                   mcf_fsum_product(w5, a1[2 + (j)])),                \
                                                      mcf_fsum_product(w6, a2[(j)])),                                 \
                                         mcf_fsum_product(w7, a2[1 + (j)])),                                          \
                              MCF_FSUM_ADD(MCF_FSUM_ADD(MCF_FSUM_ADD(mcf_fsum_product(w0, a0[(j)]),                   \
                                                                   mcf_fsum_product(w1, a0[1 + (j)])),                \
                                                      mcf_fsum_product(w2, a0[2 + (j)])),                             \
                                         mcf_fsum_product(w3, a1[(j)]))))
                    if (sw == 1) { /* two pixels a pass: the loads of their shared columns once */
                        for (; ox + 2 <= out_w; ox += 2) {
                            const float t0 = MCF_FSUM_DW3(0), t1 = MCF_FSUM_DW3(1);
                            o[0] = mcf_fsum_q(MCF_FSUM_ADD(t0, bias), out_scale, lo, hi, out_off);
                            o[ch] = mcf_fsum_q(MCF_FSUM_ADD(t1, bias), out_scale, lo, hi, out_off);
                            o += 2 * ch;
                            a0 += 2;
                            a1 += 2;
                            a2 += 2;
                        }
                    }
                    for (; ox < out_w; ++ox) {
                        const float t0 = MCF_FSUM_DW3(0);
                        *o = mcf_fsum_q(MCF_FSUM_ADD(t0, bias), out_scale, lo, hi, out_off);
                        o += ch;
                        a0 += sw;
                        a1 += sw;
                        a2 += sw;
                    }
#undef MCF_FSUM_DW3
                } else if (square && fw == 5) {
                    const float *a0 = rows[0], *a1 = rows[1], *a2 = rows[2], *a3 = rows[3], *a4 = rows[4];
                    while (ox < out_w) {
                        const float *wv = w;
                        float total, total1 = 0.0f;
                        step = sw == 1 && ox + 2 <= out_w ? 2 : 1;
                        /* the pointers opaque here: GCC would otherwise hoist the 25 weight addresses
                         * out of the loop and keep them on the stack */
                        __asm__("" : "+r"(wv), "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3), "+r"(a4));
#define MCF_FSUM_X(t)                                                                                                  \
    mcf_fsum_product(wv[t], ((t) < 5 ? a0 : (t) < 10 ? a1 : (t) < 15 ? a2 : (t) < 20 ? a3 : a4)[(t) % 5 + MCF_FSUM_J])
#define MCF_FSUM_DW5                                                                                                   \
    MCF_FSUM_ADD(MCF_FSUM_X(24),                                                                                       \
                 MCF_FSUM_ADD(MCF_FSUM_G4(20),                                                                         \
                              MCF_FSUM_ADD(MCF_FSUM_G4(16),                                                            \
                                           MCF_FSUM_ADD(MCF_FSUM_G4(12),                                               \
                                                        MCF_FSUM_ADD(MCF_FSUM_G4(8),                                   \
                                                                     MCF_FSUM_ADD(MCF_FSUM_G4(4), MCF_FSUM_G4(0)))))))
#define MCF_FSUM_J 0
                        total = MCF_FSUM_DW5;
#undef MCF_FSUM_J
                        if (step == 2) { /* stride 1 and a second pixel: its columns shifted by one */
#define MCF_FSUM_J 1
                            total1 = MCF_FSUM_DW5;
#undef MCF_FSUM_J
                        }
#undef MCF_FSUM_DW5
#undef MCF_FSUM_X
                        *o = mcf_fsum_q(MCF_FSUM_ADD(total, bias), out_scale, lo, hi, out_off);
                        if (step == 2) {
                            o[ch] = mcf_fsum_q(MCF_FSUM_ADD(total1, bias), out_scale, lo, hi, out_off);
                        }
                        o += step * ch;
                        a0 += step * sw;
                        a1 += step * sw;
                        a2 += step * sw;
                        a3 += step * sw;
                        a4 += step * sw;
                        ox += step;
                    }
                } else {
                    for (ky = 0, t = 0; ky < fh; ++ky) {
                        for (kx = 0; kx < fw; ++kx) {
                            tp[t++] = rows[ky] + kx * p->dilation_w;
                        }
                    }
                    for (ox = 0; ox < out_w; ++ox) {
                        const int32_t x = ox * sw;
                        float total = 0.0f;
                        int32_t k0;
#define MCF_FSUM_X(t) mcf_fsum_product(w[t], tp[t][x])
                        for (k0 = 0; k0 + 4 <= taps; k0 += 4) {
                            const float part = MCF_FSUM_G4(k0);
                            total = k0 ? MCF_FSUM_ADD(part, total) : part;
                        }
                        if (k0 + 2 <= taps) {
                            const float part = MCF_FSUM_ADD(MCF_FSUM_X(k0), MCF_FSUM_X(k0 + 1));
                            total = k0 ? MCF_FSUM_ADD(part, total) : part;
                            k0 += 2;
                        }
                        if (k0 < taps) {
                            const float part = MCF_FSUM_X(k0);
                            total = k0 ? MCF_FSUM_ADD(part, total) : part;
                        }
#undef MCF_FSUM_X
                        *o = mcf_fsum_q(MCF_FSUM_ADD(total, bias), out_scale, lo, hi, out_off);
                        o += ch;
                    }
                }
            }
        }
    }
#endif
}
