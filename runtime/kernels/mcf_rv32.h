/*
 * mcf_rv32.h - the inner loops of the RV32 paths (MCF_KERNELS_RV32, see mcf_dsp.h).
 *
 * RV32IM has no multiply-accumulate and no packed arithmetic: every product is one MUL and one ADD.
 * What is left to save is everything around them, so these loops
 *   - load each operand once per block of accumulators, with LB / LH (a signed byte or halfword at
 *     a 12-bit offset from a pointer: no shifts to unpack words, no index arithmetic),
 *   - keep a block of accumulators in registers (RV32 has 31: the blocks below use 8 to 16 and
 *     leave the rest to operands and pointers, so nothing spills),
 *   - unroll so that one pointer increment and one branch serve several values.
 * They read the same weight layouts as the other fast paths (the compiler prepares one layout per
 * operator for every target), so a model library compiled once runs on Arm and RISC-V alike.
 * Integer addition is exact and wraps identically in any order: the sums are the reference loop's.
 */
#ifndef MCF_RV32_H
#define MCF_RV32_H

#include <stdint.h>

#include "mcf_common.h"
#include "mcf_dsp.h"

#if MCF_KERNELS_RV32

/* GCC's scheduling before register allocation (-fschedule-insns, on at -O2 for RISC-V) moves the
 * loads of an unrolled block to its top and then spills the accumulators (64 stores and 64 loads
 * per pass of mcf_rv32_conv_2x4, nine taps' operands of a 3x3 depthwise window): the kernel files
 * that include this header are compiled without it on RV32. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-schedule-insns")
#endif

/* Set-up and rare-case code of the RV32 paths, optimized for size (it runs once per operator or
 * for few outputs; the flash it takes counts for every model). */
#if defined(__GNUC__) && !defined(__clang__)
#define MCF_RV32_SMALL __attribute__((noinline, optimize("Os")))
#else
#define MCF_RV32_SMALL MCF_NOINLINE
#endif

/* Out of line, and no warning in the files that include this header without calling it. */
#if defined(__GNUC__) || defined(__clang__)
#define MCF_RV32_OUTLINE __attribute__((noinline, unused))
#else
#define MCF_RV32_OUTLINE
#endif

/* Where the output stage of the RV32 blocks gets its parameters: the first channel's multiplier
 * and shift (qstep apart: 0 per tensor, 1 per channel), the output zero point and clamp. */
typedef struct {
    const int32_t *mult;
    const int32_t *shift;
    int32_t qstep;
    int32_t offset;
    int32_t act_min;
    int32_t act_max;
} mcf_rv32_out;

/*
 * mcf_requantize(x, m, -e) + offset for m >= 0 and e >= 2, in nine RV32IM instructions without a
 * branch. `m2` = 2m (< 2^32 as unsigned), `rshift` = e - 1, `half_off` = 2 * offset + 1.
 *
 * TFLite Micro rounds twice: T = SaturatingRoundingDoublingHighMul(x, m), which for m >= 0 is
 * floor((P + 2^30) / 2^31) with P = x * m (its nudge 1 - 2^30 for P < 0, then a division that
 * truncates toward zero, is the same floor), then RoundingDivideByPOT(T, e), which is
 * floor((T + 2^(e-1) - [T < 0]) / 2^e); [T < 0] may be replaced by [x < 0]: they differ only for
 * -2^30 <= P < 0, where T = 0 and both give 0 for e >= 1. Here:
 *   H = floor(P / 2^31)        the high word of x * 2m (MULHSU),
 *   b = bit 30 of P            bit 31 of the low word (MUL, SRLI): T = H + b,
 *   w = floor((T - [x < 0]) / 2^(e-1))   (SRAI for -[x < 0], two ADD, SRA),
 *   (w + 2 * offset + 1) >> 1 = floor((T - [x < 0] + 2^(e-1)) / 2^e) + offset   (ADD, SRAI),
 * using floor((floor(a / c) + k) / d) = floor((a + k c) / (c d)) for integers and c, d > 0. No
 * step overflows for any int32 x: |P| < 2^62 gives -2^31 < H <= 2^31 - 3, and |w| <= 2^30.
 * tests/test_rv32_requantize.py checks it against TFLite Micro's two steps on edge and random
 * values of x, m and e.
 */
static inline int32_t mcf_rv32_requantize(int32_t x, uint32_t m2, int32_t rshift, int32_t half_off)
{
    const uint64_t p = (uint64_t)((int64_t)x * (int64_t)(uint64_t)m2);
    const int32_t h = (int32_t)(uint32_t)(p >> 32);
    const int32_t b = (int32_t)((uint32_t)p >> 31);
    const int32_t w = (h + b + (x >> 31)) >> rshift;
    return (w + half_off) >> 1;
}

/* v (the offset already added) clamped to [lo, hi]. On RISC-V two branches, each taken when v is
 * inside (GCC's if-conversion would add a move before each compare). */
static MCF_ALWAYS_INLINE int8_t mcf_rv32_clamp(int32_t v, int32_t lo, int32_t hi)
{
#if defined(__riscv) && defined(__GNUC__)
    __asm__("bge %0, %1, 1f\n\tmv %0, %1\n1:\n\tbge %2, %0, 2f\n\tmv %0, %2\n2:" : "+r"(v) : "r"(lo), "r"(hi));
#else
    if (v < lo) {
        v = lo;
    }
    if (v > hi) {
        v = hi;
    }
#endif
    return (int8_t)v;
}

/* mcf_requantize(x, m, shift) for the shifts above -2 (rare: e = 1, e = 0 or a left shift), out of
 * line: T = SaturatingRoundingDoublingHighMul(x * 2^left, m) as in mcf_rv32_requantize (m >= 0),
 * then for e = 1 floor((T + 1 - [T < 0]) / 2). */
static MCF_RV32_OUTLINE int32_t mcf_rv32_requantize_other(int32_t x, int32_t m, int32_t shift)
{
    const int32_t xs = (int32_t)((uint32_t)x << (shift > 0 ? shift : 0));
    const uint64_t p = (uint64_t)((int64_t)xs * (int64_t)(uint64_t)((uint32_t)m << 1));
    const int32_t t = (int32_t)(uint32_t)(p >> 32) + (int32_t)((uint32_t)p >> 31);
    return shift < 0 ? (t + 1 + (t >> 31)) >> 1 : t;
}

/* One channel's sums x0 (pixel 0) and x1 (pixel 1) requantized with multiplier m and shift sh,
 * offset (half_off = 2 * offset + 1), clamped to [lo, hi] and stored. */
static inline void mcf_rv32_out2(int32_t m, int32_t sh, int32_t half_off, int32_t lo, int32_t hi, int32_t x0,
                                 int32_t x1, int8_t *out0, int8_t *out1)
{
    int32_t v0, v1;
    if (MCF_LIKELY(sh <= -2)) {
        const uint32_t m2 = (uint32_t)m << 1;
        const int32_t rshift = -sh - 1;
        v0 = mcf_rv32_requantize(x0, m2, rshift, half_off);
        v1 = mcf_rv32_requantize(x1, m2, rshift, half_off);
    } else {
        v0 = mcf_rv32_requantize_other(x0, m, sh) + (half_off >> 1);
        v1 = mcf_rv32_requantize_other(x1, m, sh) + (half_off >> 1);
    }
    *out0 = mcf_rv32_clamp(v0, lo, hi);
    *out1 = mcf_rv32_clamp(v1, lo, hi);
}

/*
 * CONV_2D, im2col path with the folded bias: every output channel of four pixels, out[l][c] for
 * lanes l = 0..3. The columns hold raw int8 inputs (no offset: the sums start at the folded bias,
 * bias + input_offset * sum(w), and padding taps hold -input_offset, which adds nothing), per group
 * of four values of K 16 bytes: lane 0's four values, then lanes 1, 2, 3; `groups` is even. The
 * filter is in the channel-pair layout (per pair of channels and group, one 4-byte word of each
 * channel's weights; a last channel without a partner has one word per group).
 *
 * Blocks of four channels of four pixels: per value of K four LB of inputs, four LB of weights and
 * sixteen MUL + ADD, two groups per pass: 2.53 instructions per MAC. Sixteen accumulators, four
 * inputs, a weight and three pointers stay in registers. The last 1..3 channels one at a time.
 */
static MCF_RV32_OUTLINE void mcf_rv32_conv_quad(const int8_t *x, int32_t groups, const int8_t *w,
                                                const int32_t *folded, const mcf_rv32_out *o, int32_t oc_count,
                                                int8_t *const *out)
{
    const int8_t *x_end = x + 16 * groups;
    const int32_t *mult = o->mult, *shift = o->shift;
    const int32_t qstep = o->qstep, half_off = 2 * o->offset + 1, lo = o->act_min, hi = o->act_max;
    int8_t *const out0 = out[0], *const out1 = out[1], *const out2 = out[2], *const out3 = out[3];
    int32_t oc;
#define MCF_RV32_QUAD_K(xo, wo)                                   \
    do {                                                          \
        const int32_t x0_ = xp[(xo)], x1_ = xp[(xo) + 4];         \
        const int32_t x2_ = xp[(xo) + 8], x3_ = xp[(xo) + 12];    \
        int32_t w_ = wa[(wo)];                                    \
        a0 += w_ * x0_;                                           \
        b0 += w_ * x1_;                                           \
        c0 += w_ * x2_;                                           \
        d0 += w_ * x3_;                                           \
        w_ = wa[(wo) + 4];                                        \
        a1 += w_ * x0_;                                           \
        b1 += w_ * x1_;                                           \
        c1 += w_ * x2_;                                           \
        d1 += w_ * x3_;                                           \
        w_ = wb[(wo)];                                            \
        a2 += w_ * x0_;                                           \
        b2 += w_ * x1_;                                           \
        c2 += w_ * x2_;                                           \
        d2 += w_ * x3_;                                           \
        w_ = wb[(wo) + 4];                                        \
        a3 += w_ * x0_;                                           \
        b3 += w_ * x1_;                                           \
        c3 += w_ * x2_;                                           \
        d3 += w_ * x3_;                                           \
    } while (0)
    for (oc = 0; oc + 4 <= oc_count; oc += 4, w += 16 * groups) {
        const int8_t *xp = x;
        const int8_t *wa = w, *wb = w + 8 * groups;
        int32_t a0 = folded[oc], a1 = folded[oc + 1], a2 = folded[oc + 2], a3 = folded[oc + 3];
        int32_t b0 = a0, b1 = a1, b2 = a2, b3 = a3, c0 = a0, c1 = a1, c2 = a2, c3 = a3;
        int32_t d0 = a0, d1 = a1, d2 = a2, d3 = a3;
        while (xp != x_end) {
            MCF_RV32_QUAD_K(0, 0);
            MCF_RV32_QUAD_K(1, 1);
            MCF_RV32_QUAD_K(2, 2);
            MCF_RV32_QUAD_K(3, 3);
            MCF_RV32_QUAD_K(16, 8);
            MCF_RV32_QUAD_K(17, 9);
            MCF_RV32_QUAD_K(18, 10);
            MCF_RV32_QUAD_K(19, 11);
            xp += 32;
            wa += 16;
            wb += 16;
        }
        {
            const int32_t acc[16] = {a0, b0, c0, d0, a1, b1, c1, d1, a2, b2, c2, d2, a3, b3, c3, d3};
            int32_t i;
            for (i = 0; i < 4; ++i) {
                const int32_t m = mult[(oc + i) * qstep], sh = shift[(oc + i) * qstep];
                mcf_rv32_out2(m, sh, half_off, lo, hi, acc[4 * i], acc[4 * i + 1], out0 + oc + i, out1 + oc + i);
                mcf_rv32_out2(m, sh, half_off, lo, hi, acc[4 * i + 2], acc[4 * i + 3], out2 + oc + i, out3 + oc + i);
            }
        }
    }
#undef MCF_RV32_QUAD_K
    for (; oc < oc_count; ++oc) {
        /* channel oc is the second of its pair, or the first: then in a pair unless it is the last */
        const int32_t second = oc & 1, step = second || oc + 1 < oc_count ? 8 : 4;
        const int8_t *xp = x;
        const int8_t *wb = w + 4 * second;
        int32_t a = folded[oc], b = a, c = a, d = a;
        for (; xp != x_end; xp += 16, wb += step) {
            int32_t j;
            for (j = 0; j < 4; ++j) {
                const int32_t v = wb[j];
                a += v * xp[j];
                b += v * xp[4 + j];
                c += v * xp[8 + j];
                d += v * xp[12 + j];
            }
        }
        mcf_rv32_out2(mult[oc * qstep], shift[oc * qstep], half_off, lo, hi, a, b, out0 + oc, out1 + oc);
        mcf_rv32_out2(mult[oc * qstep], shift[oc * qstep], half_off, lo, hi, c, d, out2 + oc, out3 + oc);
        if (second) {
            w += 8 * groups; /* past the pair */
        }
    }
}

/*
 * CONV_2D with one input channel (conv2d_s8.c, the _c1 path): n pixels' windows at x, `words`
 * words of two int16 values each per window (x + input offset, the taps in the filter layout's
 * order), against every output channel's block of `4 + words` words at blk: 2 * bias first, then
 * (after three words the assembly of other cores reads) `words` words of two doubled int16 weights. k holds per channel {multiplier, round, e} and
 * output i of channel c goes to out[i * oc_count + c].
 *
 * Four channels of two pixels per pass (an odd last pixel paired with itself): per word (two values
 * of K) four LH of the windows, eight LH of weights, sixteen MUL + ADD, two words per pass. The
 * doubled sum a gives t = floor((a * m + 2^31) / 2^32) (MUL, MULH, SRLI, ADD: the high word of
 * a * m + 2^31) and (t + round + (t >> 31)) >> e, TFLite Micro's output stage for the halved sum
 * with the output offset in `round` (generator/ops/conv.py, one_channel_constants, which also
 * checks that nothing overflows).
 */
static MCF_ALWAYS_INLINE int8_t mcf_rv32_c1_out(int32_t a, int32_t m, int32_t round, int32_t e, int32_t lo, int32_t hi)
{
    const uint64_t p = (uint64_t)((int64_t)a * m);
    const int32_t t = (int32_t)(uint32_t)(p >> 32) + (int32_t)((uint32_t)p >> 31);
    return mcf_rv32_clamp((t + round + (t >> 31)) >> e, lo, hi);
}

static MCF_RV32_OUTLINE void mcf_rv32_conv_c1(const int16_t *x, int32_t n, int32_t words, const uint32_t *blk,
                                              const int32_t *k, int32_t oc_count, int32_t lo, int32_t hi,
                                              int8_t *out)
{
    const int32_t stride = 4 + words; /* words per channel block */
    const int32_t xw = 2 * words;     /* int16 values per window */
    const int32_t ws = 2 * stride;    /* int16 values per channel block */
    int32_t oc = 0, i;
    for (; oc + 4 <= oc_count; oc += 4, blk += 4 * stride, k += 12) {
        const int16_t *w0 = (const int16_t *)(const void *)(blk + 4);
        const int32_t c0 = (int32_t)blk[0], c1 = (int32_t)blk[stride];
        const int32_t c2 = (int32_t)blk[2 * stride], c3 = (int32_t)blk[3 * stride];
        const int16_t *xp = x;
        int8_t *o = out + oc;
        for (i = 0; i < n; i += 2, xp += 2 * xw, o += 2 * oc_count) {
            /* an odd last pixel runs as a pair with itself; the second copy is not stored */
            const int16_t *p0 = xp, *p1 = i + 1 < n ? xp + xw : xp;
            const int16_t *q0 = w0, *q1 = w0 + ws, *q2 = w0 + 2 * ws, *q3 = w0 + 3 * ws;
            const int16_t *end = xp + xw;
            int32_t a0 = c0, a1 = c1, a2 = c2, a3 = c3, b0 = c0, b1 = c1, b2 = c2, b3 = c3;
#define MCF_RV32_C1_V(j)                     \
    do {                                     \
        const int32_t u_ = p0[(j)];          \
        const int32_t v_ = p1[(j)];          \
        int32_t t_ = q0[(j)];                \
        a0 += t_ * u_;                       \
        b0 += t_ * v_;                       \
        t_ = q1[(j)];                        \
        a1 += t_ * u_;                       \
        b1 += t_ * v_;                       \
        t_ = q2[(j)];                        \
        a2 += t_ * u_;                       \
        b2 += t_ * v_;                       \
        t_ = q3[(j)];                        \
        a3 += t_ * u_;                       \
        b3 += t_ * v_;                       \
    } while (0)
            if (words & 1) {
                MCF_RV32_C1_V(0);
                MCF_RV32_C1_V(1);
                p0 += 2;
                p1 += 2;
                q0 += 2;
                q1 += 2;
                q2 += 2;
                q3 += 2;
            }
            for (; p0 != end; p0 += 4, p1 += 4, q0 += 4, q1 += 4, q2 += 4, q3 += 4) {
                MCF_RV32_C1_V(0);
                MCF_RV32_C1_V(1);
                MCF_RV32_C1_V(2);
                MCF_RV32_C1_V(3);
            }
#undef MCF_RV32_C1_V
            o[0] = mcf_rv32_c1_out(a0, k[0], k[1], k[2], lo, hi);
            o[1] = mcf_rv32_c1_out(a1, k[3], k[4], k[5], lo, hi);
            o[2] = mcf_rv32_c1_out(a2, k[6], k[7], k[8], lo, hi);
            o[3] = mcf_rv32_c1_out(a3, k[9], k[10], k[11], lo, hi);
            if (p1 != p0) {
                o[oc_count] = mcf_rv32_c1_out(b0, k[0], k[1], k[2], lo, hi);
                o[oc_count + 1] = mcf_rv32_c1_out(b1, k[3], k[4], k[5], lo, hi);
                o[oc_count + 2] = mcf_rv32_c1_out(b2, k[6], k[7], k[8], lo, hi);
                o[oc_count + 3] = mcf_rv32_c1_out(b3, k[9], k[10], k[11], lo, hi);
            }
        }
    }
    for (; oc < oc_count; ++oc, blk += stride, k += 3) { /* the last 1..3 channels, pixel by pixel */
        const int16_t *q = (const int16_t *)(const void *)(blk + 4);
        const int16_t *xp = x;
        for (i = 0; i < n; ++i, xp += xw) {
            int32_t a = (int32_t)blk[0], j;
            for (j = 0; j < xw; ++j) {
                a += q[j] * xp[j];
            }
            out[i * oc_count + oc] = mcf_rv32_c1_out(a, k[0], k[1], k[2], lo, hi);
        }
    }
}

/*
 * CONV_2D on few input channels (conv2d_s8_first.c): four pixels times four output channels. The
 * columns at x hold int16 values, per column pair 16 of them (pixel 0's four, then pixels 1, 2, 3);
 * wa and wb are two channel pairs of the layout of conv2d_s8_first.h (eight words: the two doubled
 * biases first, then per column pair channel a's four int16 weights, then b's). acc[4 * c + l]
 * receives the sum of channel c (wa's two, then wb's) and pixel l. Per value four LH of the
 * columns, four LH of weights and sixteen MUL + ADD: 2.5 instructions per MAC and the loop's four.
 */
static MCF_RV32_OUTLINE void mcf_rv32_first_quad(const int16_t *x, int32_t pairs, const uint32_t *wa,
                                                 const uint32_t *wb, int32_t *acc)
{
    const int16_t *const x_end = x + 16 * pairs;
    const int16_t *pa = (const int16_t *)(const void *)(wa + 8);
    const int16_t *pb = (const int16_t *)(const void *)(wb + 8);
    int32_t a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3;
#if defined(__riscv) && defined(__GNUC__) && defined(__OPTIMIZE__)
    /* In assembly: from C, GCC keeps the next value's loads live across the products and spills
     * (180 instructions per column pair instead of 164). The sums start at the pairs' doubled
     * biases (words 0 and 1 of wa and wb, 32 bytes before pa and pb) and end in acc, inside the
     * statement: that keeps it at 30 operands, GCC's limit. */
#define MCF_RV32_FIRST_ROW(s0, s1, s2, s3)  \
    "mul %[t], %[w], %[x0]\n\t"             \
    "add %[" s0 "], %[" s0 "], %[t]\n\t"    \
    "mul %[t], %[w], %[x1]\n\t"             \
    "add %[" s1 "], %[" s1 "], %[t]\n\t"    \
    "mul %[t], %[w], %[x2]\n\t"             \
    "add %[" s2 "], %[" s2 "], %[t]\n\t"    \
    "mul %[t], %[w], %[x3]\n\t"             \
    "add %[" s3 "], %[" s3 "], %[t]\n\t"
#define MCF_RV32_FIRST_V(j)                                                      \
    "lh %[x0], " #j "(%[x])\n\tlh %[x1], 8+" #j "(%[x])\n\t"                     \
    "lh %[x2], 16+" #j "(%[x])\n\tlh %[x3], 24+" #j "(%[x])\n\t"                 \
    "lh %[w], " #j "(%[pa])\n\t" MCF_RV32_FIRST_ROW("a0", "a1", "a2", "a3")      \
    "lh %[w], 8+" #j "(%[pa])\n\t" MCF_RV32_FIRST_ROW("b0", "b1", "b2", "b3")    \
    "lh %[w], " #j "(%[pb])\n\t" MCF_RV32_FIRST_ROW("c0", "c1", "c2", "c3")      \
    "lh %[w], 8+" #j "(%[pb])\n\t" MCF_RV32_FIRST_ROW("d0", "d1", "d2", "d3")
#define MCF_RV32_FIRST_INIT(s0, s1, s2, s3, src) \
    "lw %[" s0 "], " src "\n\tmv %[" s1 "], %[" s0 "]\n\tmv %[" s2 "], %[" s0 "]\n\tmv %[" s3 "], %[" s0 "]\n\t"
#define MCF_RV32_FIRST_STORE(s0, s1, s2, s3, at)                                                        \
    "sw %[" s0 "], " #at "(%[acc])\n\tsw %[" s1 "], 4+" #at "(%[acc])\n\tsw %[" s2 "], 8+" #at "(%[acc])\n\t" \
    "sw %[" s3 "], 12+" #at "(%[acc])\n\t"
    int32_t x0, x1, x2, x3, w, t;
    __asm__ volatile(MCF_RV32_FIRST_INIT("a0", "a1", "a2", "a3", "-32(%[pa])")
                     MCF_RV32_FIRST_INIT("b0", "b1", "b2", "b3", "-28(%[pa])")
                     MCF_RV32_FIRST_INIT("c0", "c1", "c2", "c3", "-32(%[pb])")
                     MCF_RV32_FIRST_INIT("d0", "d1", "d2", "d3", "-28(%[pb])")
                     "1:\n\t" MCF_RV32_FIRST_V(0) MCF_RV32_FIRST_V(2) MCF_RV32_FIRST_V(4) MCF_RV32_FIRST_V(6)
                     "addi %[x], %[x], 32\n\t"
                     "addi %[pa], %[pa], 16\n\t"
                     "addi %[pb], %[pb], 16\n\t"
                     "bne %[x], %[end], 1b\n\t"
                     MCF_RV32_FIRST_STORE("a0", "a1", "a2", "a3", 0) MCF_RV32_FIRST_STORE("b0", "b1", "b2", "b3", 16)
                     MCF_RV32_FIRST_STORE("c0", "c1", "c2", "c3", 32) MCF_RV32_FIRST_STORE("d0", "d1", "d2", "d3", 48)
                     : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [b0] "=&r"(b0), [b1] "=&r"(b1),
                       [b2] "=&r"(b2), [b3] "=&r"(b3), [c0] "=&r"(c0), [c1] "=&r"(c1), [c2] "=&r"(c2), [c3] "=&r"(c3),
                       [d0] "=&r"(d0), [d1] "=&r"(d1), [d2] "=&r"(d2), [d3] "=&r"(d3), [x] "+r"(x), [pa] "+r"(pa),
                       [pb] "+r"(pb), [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2), [x3] "=&r"(x3), [w] "=&r"(w),
                       [t] "=&r"(t)
                     : [end] "r"(x_end), [acc] "r"(acc)
                     : "memory");
#undef MCF_RV32_FIRST_ROW
#undef MCF_RV32_FIRST_V
#undef MCF_RV32_FIRST_INIT
#undef MCF_RV32_FIRST_STORE
#else
    a0 = a1 = a2 = a3 = (int32_t)wa[0];
    b0 = b1 = b2 = b3 = (int32_t)wa[1];
    c0 = c1 = c2 = c3 = (int32_t)wb[0];
    d0 = d1 = d2 = d3 = (int32_t)wb[1];
    for (; x != x_end; x += 16, pa += 8, pb += 8) {
        int32_t j;
        for (j = 0; j < 4; ++j) {
            const int32_t x0_ = x[j], x1_ = x[4 + j], x2_ = x[8 + j], x3_ = x[12 + j];
            int32_t w_ = pa[j];
            a0 += w_ * x0_;
            a1 += w_ * x1_;
            a2 += w_ * x2_;
            a3 += w_ * x3_;
            w_ = pa[4 + j];
            b0 += w_ * x0_;
            b1 += w_ * x1_;
            b2 += w_ * x2_;
            b3 += w_ * x3_;
            w_ = pb[j];
            c0 += w_ * x0_;
            c1 += w_ * x1_;
            c2 += w_ * x2_;
            c3 += w_ * x3_;
            w_ = pb[4 + j];
            d0 += w_ * x0_;
            d1 += w_ * x1_;
            d2 += w_ * x2_;
            d3 += w_ * x3_;
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    acc[4] = b0;
    acc[5] = b1;
    acc[6] = b2;
    acc[7] = b3;
    acc[8] = c0;
    acc[9] = c1;
    acc[10] = c2;
    acc[11] = c3;
    acc[12] = d0;
    acc[13] = d1;
    acc[14] = d2;
    acc[15] = d3;
#endif
}

/*
 * FULLY_CONNECTED: eight units (two blocks of four of the FC layout, wa and wb: per group of four
 * inputs, one 4-byte word per unit) over `groups` whole groups of four int8 inputs at x.
 * acc[0..3] belong to block wa, acc[4..7] to wb. Per input: one LB of the input, eight LB of
 * weights, eight MUL + ADD: 3.2 instructions per MAC with the loop.
 */
static inline void mcf_rv32_fc_8(const int8_t *x, int32_t groups, const int8_t *wa, const int8_t *wb,
                                 int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t b0 = acc[4], b1 = acc[5], b2 = acc[6], b3 = acc[7];
    const int8_t *x_end = x + 4 * groups;
#define MCF_RV32_FC_J(j)                         \
    do {                                         \
        const int32_t v_ = x[(j)];               \
        a0 += wa[(j)] * v_;                      \
        a1 += wa[4 + (j)] * v_;                  \
        a2 += wa[8 + (j)] * v_;                  \
        a3 += wa[12 + (j)] * v_;                 \
        b0 += wb[(j)] * v_;                      \
        b1 += wb[4 + (j)] * v_;                  \
        b2 += wb[8 + (j)] * v_;                  \
        b3 += wb[12 + (j)] * v_;                 \
    } while (0)
    while (x != x_end) {
        MCF_RV32_FC_J(0);
        MCF_RV32_FC_J(1);
        MCF_RV32_FC_J(2);
        MCF_RV32_FC_J(3);
        x += 4;
        wa += 16;
        wb += 16;
    }
#undef MCF_RV32_FC_J
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    acc[4] = b0;
    acc[5] = b1;
    acc[6] = b2;
    acc[7] = b3;
}

/* The same for one block of four units (the last block of an odd number of blocks). */
static inline void mcf_rv32_fc_4(const int8_t *x, int32_t groups, const int8_t *wa, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    const int8_t *x_end = x + 4 * groups;
    while (x != x_end) {
        int32_t j;
        for (j = 0; j < 4; ++j) {
            const int32_t v = x[j];
            a0 += wa[j] * v;
            a1 += wa[4 + j] * v;
            a2 += wa[8 + j] * v;
            a3 += wa[12 + j] * v;
        }
        x += 4;
        wa += 16;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/*
 * DEPTHWISE_CONV_2D, one tap of four channels: inputs x[0..3] (int8, plus `offset`), weights the
 * depthwise fast layout's two words of int16 at w: (w0, w2) then (w1, w3), read as four LH.
 */
#define MCF_RV32_DW_TAP(xp, wp, offset)                                 \
    do {                                                                \
        const int16_t *w16_ = (const int16_t *)(const void *)(wp);      \
        a0 += ((int32_t)(xp)[0] + (offset)) * w16_[0];                  \
        a2 += ((int32_t)(xp)[2] + (offset)) * w16_[1];                  \
        a1 += ((int32_t)(xp)[1] + (offset)) * w16_[2];                  \
        a3 += ((int32_t)(xp)[3] + (offset)) * w16_[3];                  \
    } while (0)

/* Three taps of a filter row, `step` input bytes apart, weights w[0..5]. The row's first address
 * goes through an empty asm, so that the compiler adds `step` twice here instead of keeping nine
 * tap pointers of a 3x3 window live across the channel loop (which spills them). */
#if defined(__GNUC__) || defined(__clang__)
#define MCF_RV32_OPAQUE(ptr) __asm__("" : "+r"(ptr))
#else
#define MCF_RV32_OPAQUE(ptr) ((void)0)
#endif
#define MCF_RV32_DW_ROW3(xaddr, step, w, offset)      \
    do {                                              \
        const int8_t *q_ = (xaddr);                   \
        MCF_RV32_OPAQUE(q_);                          \
        MCF_RV32_DW_TAP(q_, (w), offset);             \
        q_ += (step);                                 \
        MCF_RV32_DW_TAP(q_, (w) + 2, offset);         \
        q_ += (step);                                 \
        MCF_RV32_DW_TAP(q_, (w) + 4, offset);         \
    } while (0)

/* One sum requantized with multiplier m and shift sh, offset (half_off = 2 * offset + 1) and clamped. */
static inline int8_t mcf_rv32_out1v(int32_t m, int32_t sh, int32_t half_off, int32_t lo, int32_t hi, int32_t x)
{
    const int32_t v = MCF_LIKELY(sh <= -2) ? mcf_rv32_requantize(x, (uint32_t)m << 1, -sh - 1, half_off)
                                           : mcf_rv32_requantize_other(x, m, sh) + (half_off >> 1);
    return mcf_rv32_clamp(v, lo, hi);
}

/* Channel i's sum requantized, offset, clamped and stored at out[i]. */
static inline void mcf_rv32_out1(const mcf_rv32_out *o, int32_t i, int32_t x, int8_t *out)
{
    out[i] = mcf_rv32_out1v(o->mult[i * o->qstep], o->shift[i * o->qstep], 2 * o->offset + 1, o->act_min,
                            o->act_max, x);
}

/*
 * DEPTHWISE_CONV_2D, 3x3 filter, depth multiplier 1, stride 1 or 2 along one axis ("along", a),
 * channel by channel: the nine weights stay in registers and the window slides along a. Each input
 * column (three values across, b) is loaded once and feeds every output that uses it: per output
 * (stride 1) three LB, nine MUL + ADD and the output stage, where the four-channel pixel routine
 * loaded nine taps' inputs and weights per output.
 * Sums start from the folded bias (bias + offset * sum of the nine weights) and add w * x; a tap in
 * the padding is a value -offset (so w * (x + offset) = 0, TFLite Micro's skipped tap): padding
 * columns add -offset times their weights' sum, and a padding lane across takes zero weights, its
 * pointer on a lane inside, with offset times its weights' sum taken off the bias. All sums are the
 * reference loop's (integer addition in any order). Channels whose shift is above -2 are skipped
 * (the caller runs them): the output stage here is mcf_rv32_requantize's nine instructions.
 */
/* per axis: input and output sizes, leading padding, stride, input and output steps */
enum { MCF_DW3_IN, MCF_DW3_OUT, MCF_DW3_PAD, MCF_DW3_STRIDE, MCF_DW3_STEP, MCF_DW3_OSTEP };
typedef struct {
    int32_t channels;
    int32_t a[6], b[6]; /* along and across, indexed by MCF_DW3_IN .. MCF_DW3_OSTEP */
    int32_t ta, tb;                                        /* tap index steps of a and b */
    int32_t offset;                                        /* input offset */
    const int32_t *folded_bias;
    mcf_rv32_out o;
} mcf_rv32_dw3_args;

#define MCF_RV32_DW3_OUT(v)                                                              \
    do {                                                                                 \
        *o = mcf_rv32_clamp(mcf_rv32_requantize((v), m2, rshift, half_off), lo, hi);     \
        o += ostep_a;                                                                    \
    } while (0)
#define MCF_RV32_DW3_DOT(w0, w1, w2) ((w0) * v0 + (w1) * v1 + (w2) * v2)
#define MCF_RV32_DW3_LOAD()  \
    do {                     \
        v0 = *x0;            \
        v1 = *x1;            \
        v2 = *x2;            \
        x0 += step_a;        \
        x1 += step_a;        \
        x2 += step_a;        \
    } while (0)

static MCF_RV32_OUTLINE void mcf_rv32_dw3(const mcf_rv32_dw3_args *k, const int8_t *x, const uint32_t *w, int8_t *out)
{
    const int32_t offset = k->offset, z = -offset;
    const int32_t step_a = k->a[MCF_DW3_STEP], ostep_a = k->a[MCF_DW3_OSTEP], step_b = k->b[MCF_DW3_STEP];
    const int32_t half_off = 2 * k->o.offset + 1, lo = k->o.act_min, hi = k->o.act_max;
    const int32_t s2 = k->a[MCF_DW3_STRIDE] == 2;
    /* outputs whose last column lies inside the image; the one after (if any) has padding there */
    const int32_t last_in = (k->a[MCF_DW3_IN] + k->a[MCF_DW3_PAD] - 3) >> s2; /* the last such output */
    const int32_t n_main = k->a[MCF_DW3_OUT] <= last_in ? k->a[MCF_DW3_OUT] : last_in + 1;
    const int32_t line_step = k->b[MCF_DW3_STRIDE] * step_b, main_span = n_main * ostep_a;
    const int32_t b_in = k->b[MCF_DW3_IN], b_out = k->b[MCF_DW3_OUT], b_stride = k->b[MCF_DW3_STRIDE];
    const int32_t ostep_b = k->b[MCF_DW3_OSTEP], pad_a = k->a[MCF_DW3_PAD], tail = n_main < k->a[MCF_DW3_OUT];
    int32_t c;
    for (c = 0; c < k->channels; ++c) {
        const int32_t j = c & 3;
        const int16_t *wl = (const int16_t *)(const void *)(w + 18 * (c >> 2)) + (((j & 1) << 1) | (j >> 1));
        /* wv[3 * a + b]: along tap a, across tap b; per edge line uv (lanes in the padding zeroed) */
        int32_t wv[9], uv[9], ta, tb;
        const int32_t m = k->o.mult[c * k->o.qstep], sh = k->o.shift[c * k->o.qstep];
        const uint32_t m2 = (uint32_t)m << 1;
        const int32_t rshift = -sh - 1, fb = k->folded_bias[c];
        int32_t ob, ib = -k->b[MCF_DW3_PAD];
        const int8_t *xb = x + c + ib * step_b; /* the line's lane 0 */
        int8_t *ol = out + c;                    /* the line's first output */
        if (sh > -2) {
            continue;
        }
        for (ta = 0; ta < 3; ++ta) {
            for (tb = 0; tb < 3; ++tb) {
                wv[3 * ta + tb] = wl[4 * (ta * k->ta + tb * k->tb)];
            }
        }
        for (ob = 0; ob < b_out; ++ob, ib += b_stride, xb += line_step, ol += ostep_b) {
            const int32_t *u = wv;
            int32_t fbl = fb;
            const int8_t *x0 = xb, *x1 = xb + step_b, *x2 = x1 + step_b;
            if (ib < 0 || ib + 2 >= b_in) { /* an edge line: some lanes in the padding */
                int32_t gone = 0, t;
                for (t = 0; t < 9; ++t) {
                    const int32_t lane = ib + t - 3 * (t >= 3) - 3 * (t >= 6);
                    uv[t] = lane >= 0 && lane < b_in ? wv[t] : 0;
                    gone += wv[t] - uv[t];
                }
                fbl -= offset * gone;
                u = uv;
                /* a lane in the padding reads one inside (its weights are zero) */
                x0 = ib < 0 ? x1 : x0;
                x1 = ib + 1 >= b_in ? x0 : x1;
                x2 = ib + 2 >= b_in ? x1 : x2;
            }
            {
                const int32_t u00 = u[0], u01 = u[1], u02 = u[2], u10 = u[3], u11 = u[4], u12 = u[5];
                const int32_t u20 = u[6], u21 = u[7], u22 = u[8];
                int8_t *o = ol;
                int8_t *const o_end = o + main_span;
                int32_t p, q, v0 = z, v1 = z, v2 = z;
                /* output 0's first column (along tap 0) */
                if (!pad_a) {
                    MCF_RV32_DW3_LOAD();
                }
                p = fbl + MCF_RV32_DW3_DOT(u00, u01, u02);
                if (!s2) {
                    /* the second column: tap 1 of output 0, tap 0 of output 1 */
                    MCF_RV32_DW3_LOAD();
                    p += MCF_RV32_DW3_DOT(u10, u11, u12);
                    q = fbl + MCF_RV32_DW3_DOT(u00, u01, u02);
                    while (o != o_end) {
                        int32_t r;
                        v0 = *x0;
                        p += u20 * v0;
                        q += u10 * v0;
                        r = fbl + u00 * v0;
                        v1 = *x1;
                        p += u21 * v1;
                        q += u11 * v1;
                        r += u01 * v1;
                        v2 = *x2;
                        p += u22 * v2;
                        q += u12 * v2;
                        r += u02 * v2;
                        x0 += step_a;
                        x1 += step_a;
                        x2 += step_a;
                        MCF_RV32_DW3_OUT(p);
                        p = q;
                        q = r;
                    }
                } else {
                    while (o != o_end) { /* two columns per output: taps 1 and 2, tap 2 is the next one's 0 */
                        MCF_RV32_DW3_LOAD();
                        p += MCF_RV32_DW3_DOT(u10, u11, u12);
                        MCF_RV32_DW3_LOAD();
                        p += MCF_RV32_DW3_DOT(u20, u21, u22);
                        q = fbl + MCF_RV32_DW3_DOT(u00, u01, u02);
                        MCF_RV32_DW3_OUT(p);
                        p = q;
                    }
                    if (tail) { /* the last output's tap 1 column is inside */
                        MCF_RV32_DW3_LOAD();
                        p += MCF_RV32_DW3_DOT(u10, u11, u12);
                    }
                }
                if (tail) { /* the last output: its last column is padding */
                    MCF_RV32_DW3_OUT(p + z * (u20 + u21 + u22));
                }
            }
        }
    }
}
#undef MCF_RV32_DW3_OUT
#undef MCF_RV32_DW3_DOT
#undef MCF_RV32_DW3_LOAD

#endif /* MCF_KERNELS_RV32 */

#endif /* MCF_RV32_H */
