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

#include "mcf_dsp.h"

#if MCF_KERNELS_RV32

/* GCC's scheduling before register allocation (-fschedule-insns, on at -O2 for RISC-V) moves the
 * loads of an unrolled block to its top and then spills the accumulators (64 stores and 64 loads
 * per pass of mcf_rv32_conv_2x4, nine taps' operands of a 3x3 depthwise window): the kernel files
 * that include this header are compiled without it on RV32. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-schedule-insns")
#endif

/*
 * CONV_2D, im2col path: four channels (two pairs of the channel-pair layout: wa = channels 0 and 1,
 * wb = channels 2 and 3, each 8 bytes per group of four values of K) of two pixels, whose columns
 * [x, x_end) hold per group the pixels' four int16 values in natural order (pixel 0, then pixel 1).
 * acc[c] (pixel 0) and acc[4 + c] (pixel 1) start at bias[c]. Per value of K: two LH, four LB and
 * eight MUL + ADD; two groups per pass (their number is even): 2.8 instructions per MAC.
 */
static inline void mcf_rv32_conv_2x4(const int16_t *x, const int16_t *x_end, const int8_t *wa,
                                     const int8_t *wb, const int32_t *bias, int32_t *acc)
{
    int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
    int32_t b0 = a0, b1 = a1, b2 = a2, b3 = a3;
#define MCF_RV32_CONV_K(xo, wo)                 \
    do {                                        \
        const int32_t p_ = x[(xo)];             \
        const int32_t q_ = x[(xo) + 4];         \
        int32_t w_ = wa[(wo)];                  \
        a0 += w_ * p_;                          \
        b0 += w_ * q_;                          \
        w_ = wa[(wo) + 4];                      \
        a1 += w_ * p_;                          \
        b1 += w_ * q_;                          \
        w_ = wb[(wo)];                          \
        a2 += w_ * p_;                          \
        b2 += w_ * q_;                          \
        w_ = wb[(wo) + 4];                      \
        a3 += w_ * p_;                          \
        b3 += w_ * q_;                          \
    } while (0)
    while (x != x_end) {
        MCF_RV32_CONV_K(0, 0);
        MCF_RV32_CONV_K(1, 1);
        MCF_RV32_CONV_K(2, 2);
        MCF_RV32_CONV_K(3, 3);
        MCF_RV32_CONV_K(8, 8);
        MCF_RV32_CONV_K(9, 9);
        MCF_RV32_CONV_K(10, 10);
        MCF_RV32_CONV_K(11, 11);
        x += 16;
        wa += 16;
        wb += 16;
    }
#undef MCF_RV32_CONV_K
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    acc[4] = b0;
    acc[5] = b1;
    acc[6] = b2;
    acc[7] = b3;
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

#endif /* MCF_KERNELS_RV32 */

#endif /* MCF_RV32_H */
