/*
 * mcf_dot_s16.h - the pieces shared by the 16x8 kernels (int16 activations, int8 weights):
 * TFLite Micro's rescaling of a 64-bit or 32-bit sum, and the fast dot product of one int16
 * vector with a block of four int8 weight rows (fully connected layers, convolutions, LSTM gates).
 */
#ifndef MCF_DOT_S16_H
#define MCF_DOT_S16_H

#include <stdint.h>

#include "mcf_common.h"
#include "mcf_dsp.h"

/* TFLite Micro's requantization of a 16x8 sum. `wide` (int64 bias): its 64-bit
 * MultiplyByQuantizedMultiplier, the Q31 multiplier reduced to 16 bits (`m` < 2^15) and one rounding
 * right shift `s` in [8, 46]; |acc| < 2^47 keeps the product inside int64. Otherwise (int32 bias) the
 * sum wraps in 32 bits as TFLite Micro's int32 accumulator does and `m`/`s` are the Q31 pair. */
static inline int32_t mcf_s16_rescale(int64_t acc, int32_t wide, int32_t m, int32_t s)
{
    if (wide) {
        return (int32_t)((acc * (int64_t)m + ((int64_t)1 << (s - 1))) >> s);
    }
    return mcf_requantize((int32_t)(uint32_t)(uint64_t)acc, m, s);
}

#if MCF_KERNELS_FAST
/*
 * Weights of a block of four rows, as fc_s16_fast_layout (generator/ops/fully_connected_s16.py)
 * writes them: inputs in groups of four (the last padded with zeros); per group, one word per row
 * holding its four weights as w0, w2, w1, w3. One SXTB16 then gives (w0, w1) and one with ROR #8
 * gives (w2, w3), matching the input words (x0, x1) and (x2, x3): two SMLAD per four products on DSP
 * cores, each input word loaded once for the four rows. A block of `depth` inputs takes
 * MCF_DOT_S16_BLOCK_BYTES(depth) bytes.
 */
#define MCF_DOT_S16_BLOCK_BYTES(depth) (16 * (((depth) + 3) >> 2))

/* Position of weight j (0..3) of a group in that layout. */
#define MCF_DOT_S16_SLOT(j) ((((j) & 1) << 1) | ((j) >> 1))

/* Sums of the products of groups [g, end) for the four rows of block `w`. Not inlined: alone, the
 * loop keeps everything in registers. */
static MCF_NOINLINE void mcf_dot_s16_groups(const int16_t *x, const int8_t *w, int32_t g, int32_t end,
                                            int32_t s[4])
{
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    const int16_t *const x_end = x + 4 * end;
    w += 16 * g;
    x += 4 * g;
    while (x != x_end) {
#if MCF_KERNELS_DSP
        const uint32_t x01 = mcf_read_u32(x);
        const uint32_t x23 = mcf_read_u32(x + 2);
        uint32_t k = mcf_read_u32(w);
        a0 = mcf_smlad(mcf_sxtb16_ror8(k), x23, mcf_smlad(mcf_sxtb16(k), x01, a0));
        k = mcf_read_u32(w + 4);
        a1 = mcf_smlad(mcf_sxtb16_ror8(k), x23, mcf_smlad(mcf_sxtb16(k), x01, a1));
        k = mcf_read_u32(w + 8);
        a2 = mcf_smlad(mcf_sxtb16_ror8(k), x23, mcf_smlad(mcf_sxtb16(k), x01, a2));
        k = mcf_read_u32(w + 12);
        a3 = mcf_smlad(mcf_sxtb16_ror8(k), x23, mcf_smlad(mcf_sxtb16(k), x01, a3));
#else
        const int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
        a0 += x0 * w[0] + x1 * w[2] + x2 * w[1] + x3 * w[3];
        a1 += x0 * w[4] + x1 * w[6] + x2 * w[5] + x3 * w[7];
        a2 += x0 * w[8] + x1 * w[10] + x2 * w[9] + x3 * w[11];
        a3 += x0 * w[12] + x1 * w[14] + x2 * w[13] + x3 * w[15];
#endif
        x += 4;
        w += 16;
    }
    s[0] = a0;
    s[1] = a1;
    s[2] = a2;
    s[3] = a3;
}

/* mcf_dot_s16_groups(x, w, 0, groups, s) for x and w 4-byte aligned and groups >= 1. With
 * GCC-compatible compilers, optimizing for a DSP core, the loop is written out in assembly: 21
 * instructions per 16 products (post-indexed LDRD for the input and the weights). */
static inline void mcf_dot_s16_groups_aligned(const int16_t *x, const int8_t *w, int32_t groups, int32_t s[4])
{
#if MCF_KERNELS_DSP && defined(__GNUC__) && defined(__OPTIMIZE__) && defined(__ARM_FEATURE_DSP) && \
    !defined(MCF_EMULATE_DSP)
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    const int16_t *const end = x + 4 * groups;
    uint32_t x01, x23, k0, k1, t;
    __asm__ volatile("1:\n\t"
                     "ldrd %[x01], %[x23], [%[x]], #8\n\t"
                     "ldrd %[k0], %[k1], [%[w]], #8\n\t"
                     "sxtb16 %[t], %[k0]\n\t"
                     "smlad %[a0], %[t], %[x01], %[a0]\n\t"
                     "sxtb16 %[k0], %[k0], ror #8\n\t"
                     "smlad %[a0], %[k0], %[x23], %[a0]\n\t"
                     "sxtb16 %[t], %[k1]\n\t"
                     "smlad %[a1], %[t], %[x01], %[a1]\n\t"
                     "sxtb16 %[k1], %[k1], ror #8\n\t"
                     "smlad %[a1], %[k1], %[x23], %[a1]\n\t"
                     "ldrd %[k0], %[k1], [%[w]], #8\n\t"
                     "sxtb16 %[t], %[k0]\n\t"
                     "smlad %[a2], %[t], %[x01], %[a2]\n\t"
                     "sxtb16 %[k0], %[k0], ror #8\n\t"
                     "smlad %[a2], %[k0], %[x23], %[a2]\n\t"
                     "sxtb16 %[t], %[k1]\n\t"
                     "smlad %[a3], %[t], %[x01], %[a3]\n\t"
                     "sxtb16 %[k1], %[k1], ror #8\n\t"
                     "smlad %[a3], %[k1], %[x23], %[a3]\n\t"
                     "cmp %[x], %[end]\n\t"
                     "bne 1b\n\t"
                     : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(x), [w] "+r"(w),
                       [x01] "=&r"(x01), [x23] "=&r"(x23), [k0] "=&r"(k0), [k1] "=&r"(k1), [t] "=&r"(t)
                     : [end] "r"(end)
                     : "cc", "memory");
    s[0] = a0;
    s[1] = a1;
    s[2] = a2;
    s[3] = a3;
#else
    mcf_dot_s16_groups(x, w, 0, groups, s);
#endif
}

/* acc[r] += sum over d < depth of x[d] * (weight d of row r of block `w`), r = 0..3. Every product is
 * at most 2^22 in magnitude, so partial sums of 256 products (at most 2^30) are exact in int32 before they join the
 * 64-bit sums. */
static inline void mcf_dot_s16_block(const int16_t *x, const int8_t *w, int32_t depth, int64_t acc[4])
{
    const int32_t groups = depth >> 2;
    int32_t g = 0, d, r;
    while (g < groups) {
        const int32_t end = MCF_MIN(groups, g + 64);
        int32_t s[4];
        mcf_dot_s16_groups(x, w, g, end, s);
        for (r = 0; r < 4; ++r) {
            acc[r] += s[r];
        }
        g = end;
    }
    for (d = 4 * groups; d < depth; ++d) {
        const int8_t *wg = w + 16 * groups + MCF_DOT_S16_SLOT(d - 4 * groups);
        for (r = 0; r < 4; ++r) {
            acc[r] += (int32_t)x[d] * wg[4 * r];
        }
    }
}
/*
 * Weights already widened to int16 (the 16x8 convolutions, where the generator stores them so):
 * a block of four rows, per pair of inputs (x[2j], x[2j + 1]) one word per row holding its two
 * weights as int16 (low half first), the four rows' words in a row. One SMLAD per pair and row, no
 * sign extension at run time. Sums of `quads` groups of four inputs (x and w 4-byte aligned, the
 * inputs zero-padded to whole groups) for the four rows; exact in int32 for quads <= 64.
 */
static inline void mcf_dot_s16w_quads(const int16_t *x, const uint32_t *w, int32_t quads, int32_t s[4])
{
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
#if MCF_KERNELS_DSP && defined(__GNUC__) && defined(__OPTIMIZE__) && defined(__ARM_FEATURE_DSP) && \
    !defined(MCF_EMULATE_DSP)
    /* 15 instructions per 16 products (post-indexed LDRD for the inputs and the weights) */
    const int16_t *const end = x + 4 * quads;
    uint32_t x01, x23, k0, k1;
    if (quads > 0) {
        __asm__ volatile("1:\n\t"
                         "ldrd %[x01], %[x23], [%[x]], #8\n\t"
                         "ldrd %[k0], %[k1], [%[w]], #8\n\t"
                         "smlad %[a0], %[k0], %[x01], %[a0]\n\t"
                         "smlad %[a1], %[k1], %[x01], %[a1]\n\t"
                         "ldrd %[k0], %[k1], [%[w]], #8\n\t"
                         "smlad %[a2], %[k0], %[x01], %[a2]\n\t"
                         "smlad %[a3], %[k1], %[x01], %[a3]\n\t"
                         "ldrd %[k0], %[k1], [%[w]], #8\n\t"
                         "smlad %[a0], %[k0], %[x23], %[a0]\n\t"
                         "smlad %[a1], %[k1], %[x23], %[a1]\n\t"
                         "ldrd %[k0], %[k1], [%[w]], #8\n\t"
                         "smlad %[a2], %[k0], %[x23], %[a2]\n\t"
                         "smlad %[a3], %[k1], %[x23], %[a3]\n\t"
                         "cmp %[x], %[end]\n\t"
                         "bne 1b\n\t"
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(x), [w] "+r"(w),
                           [x01] "=&r"(x01), [x23] "=&r"(x23), [k0] "=&r"(k0), [k1] "=&r"(k1)
                         : [end] "r"(end)
                         : "cc", "memory");
    }
#else
    int32_t q;
    for (q = 0; q < quads; ++q, x += 4, w += 8) {
#if MCF_KERNELS_DSP
        const uint32_t x01 = mcf_read_u32(x), x23 = mcf_read_u32(x + 2);
        a0 = mcf_smlad(w[4], x23, mcf_smlad(w[0], x01, a0));
        a1 = mcf_smlad(w[5], x23, mcf_smlad(w[1], x01, a1));
        a2 = mcf_smlad(w[6], x23, mcf_smlad(w[2], x01, a2));
        a3 = mcf_smlad(w[7], x23, mcf_smlad(w[3], x01, a3));
#else
        const int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
        a0 += x0 * (int16_t)(w[0] & 0xFFFFu) + x1 * (int16_t)(w[0] >> 16) + x2 * (int16_t)(w[4] & 0xFFFFu) +
              x3 * (int16_t)(w[4] >> 16);
        a1 += x0 * (int16_t)(w[1] & 0xFFFFu) + x1 * (int16_t)(w[1] >> 16) + x2 * (int16_t)(w[5] & 0xFFFFu) +
              x3 * (int16_t)(w[5] >> 16);
        a2 += x0 * (int16_t)(w[2] & 0xFFFFu) + x1 * (int16_t)(w[2] >> 16) + x2 * (int16_t)(w[6] & 0xFFFFu) +
              x3 * (int16_t)(w[6] >> 16);
        a3 += x0 * (int16_t)(w[3] & 0xFFFFu) + x1 * (int16_t)(w[3] >> 16) + x2 * (int16_t)(w[7] & 0xFFFFu) +
              x3 * (int16_t)(w[7] >> 16);
#endif
    }
#endif
    s[0] = a0;
    s[1] = a1;
    s[2] = a2;
    s[3] = a3;
}
#endif /* MCF_KERNELS_FAST */

#endif /* MCF_DOT_S16_H */
