/* fully_connected_s8.c - int8 fully connected layer: the reference loop, and four units at a time. */
#include "fully_connected_s8.h"

#include <stddef.h>

#include "mcf_common.h"
#include "mcf_dsp.h"
#include "mcf_rv32.h"

static void mcf_fully_connected_s8_reference(const mcf_fc_params *p, const int8_t *input,
                                             const int8_t *weights, int8_t *output)
{
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * p->depth;
        int32_t u;
        for (u = 0; u < p->units; ++u) {
            const int8_t *w = weights + u * p->depth;
            const int32_t ch = p->per_channel ? u : 0;
            /* |w * x| <= 128 * 128 = 2^14, so int32 holds a sum over any depth < 2^17. */
            int32_t acc = p->bias[u];
            int32_t d;
            for (d = 0; d < p->depth; ++d) {
                acc += (int32_t)w[d] * (int32_t)x[d];
            }
#if MCF_REQUANT_F32
            acc = mcf_requant_f32(acc, p->multiplier[ch]) + p->output_offset;
#else
            acc = mcf_requantize(acc, p->multiplier[ch], p->shift[ch]) + p->output_offset;
#endif
            output[b * p->units + u] = (int8_t)mcf_clamp(acc, p->act_min, p->act_max);
        }
    }
}

#if MCF_KERNELS_FAST

/* The last 1..3 inputs of a row as one word (zeros above): never reads past the row. */
static inline uint32_t mcf_fc_load_partial(const int8_t *x, int32_t n)
{
    uint32_t v = (uint8_t)x[0];
    if (n > 1) {
        v |= (uint32_t)(uint8_t)x[1] << 8;
    }
    if (n > 2) {
        v |= (uint32_t)(uint8_t)x[2] << 16;
    }
    return v;
}

/*
 * One group of four inputs `xv` against four units' weight words w[0..3] (byte j of w[u] is unit
 * u's weight for input 4g+j). The sums equal the reference loop's: each product |w * x| <= 2^14
 * and int32 addition is exact, in any order.
 */
#if MCF_KERNELS_DSP
#define MCF_FC_GROUP(xv, w)                                                              \
    do {                                                                                 \
        const uint32_t x02_ = mcf_sxtb16(xv), x13_ = mcf_sxtb16_ror8(xv);                \
        a0 = mcf_smlad(mcf_sxtb16((w)[0]), x02_, a0);                                    \
        a0 = mcf_smlad(mcf_sxtb16_ror8((w)[0]), x13_, a0);                               \
        a1 = mcf_smlad(mcf_sxtb16((w)[1]), x02_, a1);                                    \
        a1 = mcf_smlad(mcf_sxtb16_ror8((w)[1]), x13_, a1);                               \
        a2 = mcf_smlad(mcf_sxtb16((w)[2]), x02_, a2);                                    \
        a2 = mcf_smlad(mcf_sxtb16_ror8((w)[2]), x13_, a2);                               \
        a3 = mcf_smlad(mcf_sxtb16((w)[3]), x02_, a3);                                    \
        a3 = mcf_smlad(mcf_sxtb16_ror8((w)[3]), x13_, a3);                               \
    } while (0)
#else
/* acc + the four products of one weight word with x0..x3, one multiply-accumulate each. */
static inline int32_t mcf_fc_dot4(int32_t acc, uint32_t w, int32_t x0, int32_t x1, int32_t x2,
                                  int32_t x3)
{
    acc += (int8_t)(w & 0xFFu) * x0;
    acc += (int8_t)((w >> 8) & 0xFFu) * x1;
    acc += (int8_t)((w >> 16) & 0xFFu) * x2;
    acc += (int8_t)(w >> 24) * x3;
    return acc;
}
#define MCF_FC_GROUP(xv, w)                                                              \
    do {                                                                                 \
        const uint32_t v_ = (xv);                                                        \
        const int32_t x0_ = (int8_t)(v_ & 0xFFu), x1_ = (int8_t)((v_ >> 8) & 0xFFu);     \
        const int32_t x2_ = (int8_t)((v_ >> 16) & 0xFFu), x3_ = (int8_t)(v_ >> 24);      \
        a0 = mcf_fc_dot4(a0, (w)[0], x0_, x1_, x2_, x3_);                                \
        a1 = mcf_fc_dot4(a1, (w)[1], x0_, x1_, x2_, x3_);                                \
        a2 = mcf_fc_dot4(a2, (w)[2], x0_, x1_, x2_, x3_);                                \
        a3 = mcf_fc_dot4(a3, (w)[3], x0_, x1_, x2_, x3_);                                \
    } while (0)
#endif

/* Four units of one row over `groups` whole groups of four inputs (x advances 4, w 16 bytes). */
static inline void mcf_fc_block(const int8_t *x, const uint32_t *w, int32_t groups, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    if (groups > 0) {
#if MCF_KERNELS_DSP && defined(__GNUC__) && defined(__OPTIMIZE__) && defined(__ARM_FEATURE_DSP) && \
    !defined(MCF_EMULATE_DSP)
        /* The same as the intrinsics below, 23 instructions per 16 MACs, post-indexed loads. */
        const int8_t *x_end = x + 4 * groups;
        uint32_t xv, xa, w0, w1, t;
        __asm__ volatile("1:\n\t"
                         "ldr %[xv], [%[x]], #4\n\t"
                         "ldrd %[w0], %[w1], [%[w]], #8\n\t"
                         "sxtb16 %[xa], %[xv]\n\t"
                         "sxtb16 %[xv], %[xv], ror #8\n\t"
                         "sxtb16 %[t], %[w0]\n\t"
                         "sxtb16 %[w0], %[w0], ror #8\n\t"
                         "smlad %[a0], %[t], %[xa], %[a0]\n\t"
                         "smlad %[a0], %[w0], %[xv], %[a0]\n\t"
                         "sxtb16 %[t], %[w1]\n\t"
                         "sxtb16 %[w1], %[w1], ror #8\n\t"
                         "smlad %[a1], %[t], %[xa], %[a1]\n\t"
                         "smlad %[a1], %[w1], %[xv], %[a1]\n\t"
                         "ldrd %[w0], %[w1], [%[w]], #8\n\t"
                         "sxtb16 %[t], %[w0]\n\t"
                         "sxtb16 %[w0], %[w0], ror #8\n\t"
                         "smlad %[a2], %[t], %[xa], %[a2]\n\t"
                         "smlad %[a2], %[w0], %[xv], %[a2]\n\t"
                         "sxtb16 %[t], %[w1]\n\t"
                         "sxtb16 %[w1], %[w1], ror #8\n\t"
                         "smlad %[a3], %[t], %[xa], %[a3]\n\t"
                         "smlad %[a3], %[w1], %[xv], %[a3]\n\t"
                         "cmp %[x], %[end]\n\t"
                         "bne 1b\n\t"
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(x),
                           [w] "+r"(w), [xv] "=&r"(xv), [xa] "=&r"(xa), [w0] "=&r"(w0),
                           [w1] "=&r"(w1), [t] "=&r"(t)
                         : [end] "r"(x_end)
                         : "cc", "memory");
#else
        int32_t g;
        for (g = 0; g < groups; ++g) {
            MCF_FC_GROUP(mcf_read_u32(x), w);
            x += 4;
            w += 4;
        }
#endif
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

#if !MCF_REQUANT_F32
/* mcf_requantize for the rare shifts above -2, kept out of line. */
static MCF_NOINLINE int32_t mcf_fc_requantize_other(int32_t acc, int32_t mult, int32_t shift)
{
    return mcf_requantize(acc, mult, shift);
}
#endif

#if MCF_KERNELS_RV32
/* The fast path on RV32: eight units (two blocks of the layout) per pass, mcf_rv32_fc_8. */
static void mcf_fully_connected_s8_rv32(const mcf_fc_params *p, const int8_t *input, const uint32_t *w,
                                        int8_t *output, int32_t whole)
{
    const int32_t depth = p->depth;
    const int32_t units = p->units;
    const int32_t full = depth >> 2;
    const int32_t rest = depth & 3;
    const int32_t block_words = 4 * ((depth + 3) >> 2);
    const int32_t qstep = p->per_channel ? 1 : 0;
    const int32_t out_offset = p->output_offset;
    const int32_t act_min = p->act_min;
    const int32_t act_max = p->act_max;
    const int full_range = act_min == -128 && act_max == 127;
    int32_t b = 0;
    for (; b < p->batches; ++b) {
        const int8_t *x = input + b * depth;
        int8_t *out = output + b * units;
        const uint32_t *wb = w;
        int32_t u;
        for (u = 0; u < whole; u += 8, wb += 2 * block_words) {
            const int32_t n = MCF_MIN(8, whole - u);
            const int32_t blocks = n > 4 ? 2 : 1; /* a block past the last unit does not exist */
            int32_t acc[8];
            int32_t i;
            for (i = 0; i < 8; ++i) {
                acc[i] = i < n ? p->bias[u + i] : 0;
            }
            if (blocks == 2) {
                mcf_rv32_fc_8(x, full, (const int8_t *)(const void *)wb,
                              (const int8_t *)(const void *)(wb + block_words), acc);
            } else {
                mcf_rv32_fc_4(x, full, (const int8_t *)(const void *)wb, acc);
            }
            for (i = 0; rest && i < blocks; ++i) {
                int32_t a0 = acc[4 * i], a1 = acc[4 * i + 1], a2 = acc[4 * i + 2], a3 = acc[4 * i + 3];
                const uint32_t *wt = wb + i * block_words + 4 * full;
                MCF_FC_GROUP(mcf_fc_load_partial(x + 4 * full, rest), wt);
                acc[4 * i] = a0;
                acc[4 * i + 1] = a1;
                acc[4 * i + 2] = a2;
                acc[4 * i + 3] = a3;
            }
            for (i = 0; i < n; ++i) {
                const int32_t ch = (u + i) * qstep;
#if MCF_REQUANT_F32
                out[u + i] = mcf_clamp8(mcf_requant_f32(acc[i], p->multiplier[ch]) + out_offset, act_min, act_max,
                                        full_range);
#else
                mcf_rv32_out q; /* one call per output: the requantization stays out of line */
                q.mult = p->multiplier + ch;
                q.shift = p->shift + ch;
                q.qstep = 0;
                q.offset = out_offset;
                q.act_min = act_min;
                q.act_max = act_max;
                mcf_rv32_out1(&q, 0, acc[i], out + u + i);
                (void)full_range;
#endif
            }
        }
    }
}
#endif

#if !MCF_REQUANT_F32
/*
 * The last block's n = 1..3 units (`units` % 4) in the short path's layout (fully_connected.py
 * fc_short_layout): per group of four inputs x0..x3, per unit two words of int16 pairs (w0, w2) and
 * (w1, w3), the pairs that SXTB16 makes of the input word; the last group padded with zeros.
 * acc[i] + unit i's sum over the row; `xr`: the row's last `rest` inputs as one word (zeros above).
 */
#if MCF_KERNELS_DSP
#define MCF_FC_WIDE(acc, w, x02, x13) mcf_smlad((w)[1], (x13), mcf_smlad((w)[0], (x02), (acc)))
#else
static inline int32_t mcf_fc_wide_generic(int32_t acc, const uint32_t *w, uint32_t xv)
{
    const int32_t x0 = (int8_t)(xv & 0xFFu), x1 = (int8_t)((xv >> 8) & 0xFFu);
    const int32_t x2 = (int8_t)((xv >> 16) & 0xFFu), x3 = (int8_t)(xv >> 24);
    acc += (int16_t)(w[0] & 0xFFFFu) * x0 + (int16_t)(w[0] >> 16) * x2;
    return acc + (int16_t)(w[1] & 0xFFFFu) * x1 + (int16_t)(w[1] >> 16) * x3;
}
#endif

static MCF_ALWAYS_INLINE void mcf_fc_tail(const int8_t *x, const uint32_t *w, int32_t groups, int32_t rest,
                                          uint32_t xr, int32_t *acc, const int n)
{
    int32_t a0 = acc[0], a1 = n > 1 ? acc[1] : 0, a2 = n > 2 ? acc[2] : 0;
#if MCF_KERNELS_DSP && defined(__GNUC__) && defined(__OPTIMIZE__) && defined(__ARM_FEATURE_DSP) && \
    !defined(MCF_EMULATE_DSP)
    /* Every whole group in one loop: the weights' words of a pass in r0..r3 (LDM, ascending
     * registers), the input a word at a time (a row need not be word aligned), x13 widened first. */
    register uint32_t w0 __asm__("r0");
    register uint32_t w1 __asm__("r1");
    register uint32_t w2 __asm__("r2");
    register uint32_t w3 __asm__("r3");
    uint32_t xa, xb, t;
    if (n == 1 && groups > 1) { /* one unit: four groups per pass (entered at the second pair when
                                   the pairs are odd), 24 instructions per 16 MACs, 22 on a word-aligned row */
        const int8_t *x_end = x + 4 * (groups & ~1);
#define MCF_FC_ONE_PAIR(load)                                                                   \
    load "ldmia %[w]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"                                        \
         "sxtb16 %[t], %[xa], ror #8\n\t"                                                       \
         "sxtb16 %[xa], %[xa]\n\t"                                                              \
         "smlad %[a0], %[w0], %[xa], %[a0]\n\t"                                                 \
         "smlad %[a0], %[w1], %[t], %[a0]\n\t"                                                  \
         "sxtb16 %[t], %[xb], ror #8\n\t"                                                       \
         "sxtb16 %[xb], %[xb]\n\t"                                                              \
         "smlad %[a0], %[w2], %[xb], %[a0]\n\t"                                                 \
         "smlad %[a0], %[w3], %[t], %[a0]\n\t"
#define MCF_FC_ONE_LOOP(load)                                                                   \
    __asm__ volatile("sub %[t], %[end], %[x]\n\t"                                               \
                     "tst %[t], #8\n\t"                                                         \
                     "bne 2f\n\t"                                                               \
                     "1:\n\t" MCF_FC_ONE_PAIR(load) "2:\n\t" MCF_FC_ONE_PAIR(load)              \
                     "cmp %[x], %[end]\n\t"                                                     \
                     "bne 1b\n\t"                                                               \
                     : [a0] "+r"(a0), [x] "+r"(x), [w] "+r"(w), [xa] "=&r"(xa), [xb] "=&r"(xb),  \
                       [t] "=&r"(t), [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2), [w3] "=&r"(w3) \
                     : [end] "r"(x_end)                                                         \
                     : "cc", "memory")
        if (((uintptr_t)x & 3u) == 0) {
            MCF_FC_ONE_LOOP("ldrd %[xa], %[xb], [%[x]], #8\n\t");
        } else {
            MCF_FC_ONE_LOOP("ldr %[xa], [%[x]], #4\n\t"
                            "ldr %[xb], [%[x]], #4\n\t");
        }
#undef MCF_FC_ONE_LOOP
#undef MCF_FC_ONE_PAIR
        groups &= 1;
    } else if (n == 2 && groups > 0) { /* two units: 10 instructions per 8 MACs */
        const int8_t *x_end = x + 4 * groups;
        __asm__ volatile("1:\n\t"
                         "ldr %[xa], [%[x]], #4\n\t"
                         "ldmia %[w]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"
                         "sxtb16 %[t], %[xa], ror #8\n\t"
                         "sxtb16 %[xa], %[xa]\n\t"
                         "smlad %[a0], %[w0], %[xa], %[a0]\n\t"
                         "smlad %[a0], %[w1], %[t], %[a0]\n\t"
                         "smlad %[a1], %[w2], %[xa], %[a1]\n\t"
                         "smlad %[a1], %[w3], %[t], %[a1]\n\t"
                         "cmp %[x], %[end]\n\t"
                         "bne 1b\n\t"
                         : [a0] "+r"(a0), [a1] "+r"(a1), [x] "+r"(x), [w] "+r"(w), [xa] "=&r"(xa), [t] "=&r"(t),
                           [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2), [w3] "=&r"(w3)
                         : [end] "r"(x_end)
                         : "cc", "memory");
        groups = 0;
    } else if (n == 3 && groups > 0) { /* three units: 13 instructions per 12 MACs */
        const int8_t *x_end = x + 4 * groups;
        __asm__ volatile("1:\n\t"
                         "ldr %[xa], [%[x]], #4\n\t"
                         "ldmia %[w]!, {%[w0], %[w1], %[w2]}\n\t"
                         "sxtb16 %[t], %[xa], ror #8\n\t"
                         "sxtb16 %[xa], %[xa]\n\t"
                         "smlad %[a0], %[w0], %[xa], %[a0]\n\t"
                         "smlad %[a0], %[w1], %[t], %[a0]\n\t"
                         "smlad %[a1], %[w2], %[xa], %[a1]\n\t"
                         "ldmia %[w]!, {%[w0], %[w1], %[w2]}\n\t"
                         "smlad %[a1], %[w0], %[t], %[a1]\n\t"
                         "smlad %[a2], %[w1], %[xa], %[a2]\n\t"
                         "smlad %[a2], %[w2], %[t], %[a2]\n\t"
                         "cmp %[x], %[end]\n\t"
                         "bne 1b\n\t"
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [x] "+r"(x), [w] "+r"(w), [xa] "=&r"(xa),
                           [t] "=&r"(t), [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2)
                         : [end] "r"(x_end)
                         : "cc", "memory");
        groups = 0;
    }
#endif
    for (; groups > 0; --groups, x += 4, w += 2 * n) {
        const uint32_t xv = mcf_read_u32(x);
#if MCF_KERNELS_DSP
        const uint32_t x02 = mcf_sxtb16(xv), x13 = mcf_sxtb16_ror8(xv);
        a0 = MCF_FC_WIDE(a0, w, x02, x13);
        if (n > 1) {
            a1 = MCF_FC_WIDE(a1, w + 2, x02, x13);
        }
        if (n > 2) {
            a2 = MCF_FC_WIDE(a2, w + 4, x02, x13);
        }
#else
        a0 = mcf_fc_wide_generic(a0, w, xv);
        if (n > 1) {
            a1 = mcf_fc_wide_generic(a1, w + 2, xv);
        }
        if (n > 2) {
            a2 = mcf_fc_wide_generic(a2, w + 4, xv);
        }
#endif
    }
    if (rest) {
#if MCF_KERNELS_DSP
        const uint32_t x02 = mcf_sxtb16(xr), x13 = mcf_sxtb16_ror8(xr);
        a0 = MCF_FC_WIDE(a0, w, x02, x13);
        if (n > 1) {
            a1 = MCF_FC_WIDE(a1, w + 2, x02, x13);
        }
        if (n > 2) {
            a2 = MCF_FC_WIDE(a2, w + 4, x02, x13);
        }
#else
        a0 = mcf_fc_wide_generic(a0, w, xr);
        if (n > 1) {
            a1 = mcf_fc_wide_generic(a1, w + 2, xr);
        }
        if (n > 2) {
            a2 = mcf_fc_wide_generic(a2, w + 4, xr);
        }
#endif
    }
    acc[0] = a0;
    if (n > 1) {
        acc[1] = a1;
    }
    if (n > 2) {
        acc[2] = a2;
    }
}
#endif

#if !MCF_KERNELS_RV32 && !MCF_REQUANT_F32
/*
 * The output stage from the unit's constants q = {multiplier, 2^(e-1) + output_offset * 2^e, e}
 * (`out_q`, see the header): t = SMMULR(2 * acc, multiplier) is TFLite Micro's saturating rounding
 * doubling high multiply (floor((acc * m + 2^30) / 2^31), m >= 0), and (t + q[1] + [t < 0] * -1) >> e
 * its rounding right shift with the output offset folded in. The compiler gives the constants only
 * where no step can leave int32.
 */
/*
 * One output from its constants m = q[0], r = q[1], e = q[2]. The sign of t is that of acc
 * wherever it matters (m >= 0: t > 0 only for acc > 0 and t < 0 only for acc < 0; for t == 0 both
 * (r - 1) >> e and r >> e are the output offset, e >= 1), so the correction is acc's sign, known
 * before the multiply (on Arm: one SMMLAR adds the high product to r + [acc < 0] * -1).
 */
static MCF_ALWAYS_INLINE int8_t mcf_fc_out3(int32_t acc, int32_t m, int32_t r, int32_t e, int32_t lo, int32_t hi,
                                            const int full)
{
#if MCF_KERNELS_DSP && defined(__GNUC__) && defined(__ARM_FEATURE_DSP) && !defined(MCF_EMULATE_DSP)
    int32_t t; /* r + (acc >> 31) + SMMULR(2 * acc, m), one SMMLAR */
    __asm__("smmlar %0, %1, %2, %3" : "=r"(t) : "r"(acc + acc), "r"(m), "r"(r + (acc >> 31)));
    return mcf_clamp8(t >> e, lo, hi, full);
#else
    const int32_t t = mcf_smmulr(acc + acc, m);
    return mcf_clamp8((t + r + (acc >> 31)) >> e, lo, hi, full);
#endif
}

#if MCF_KERNELS_DSP && defined(__GNUC__) && defined(__OPTIMIZE__) && defined(__ARM_FEATURE_DSP) && \
    !defined(MCF_EMULATE_DSP)
#define MCF_FC_SHORT_ASM 1
/* One group of four inputs (in xv) against the four units' words at [w], 20 instructions. */
#define MCF_FC_ASM_GROUP                                                                      \
    "ldrd %[w0], %[w1], [%[w]], #8\n\t"                                                        \
    "sxtb16 %[xa], %[xv]\n\t"                                                                 \
    "sxtb16 %[xv], %[xv], ror #8\n\t"                                                         \
    "sxtb16 %[t], %[w0]\n\t"                                                                  \
    "sxtb16 %[w0], %[w0], ror #8\n\t"                                                         \
    "smlad %[a0], %[t], %[xa], %[a0]\n\t"                                                     \
    "smlad %[a0], %[w0], %[xv], %[a0]\n\t"                                                    \
    "sxtb16 %[t], %[w1]\n\t"                                                                  \
    "sxtb16 %[w1], %[w1], ror #8\n\t"                                                         \
    "smlad %[a1], %[t], %[xa], %[a1]\n\t"                                                     \
    "smlad %[a1], %[w1], %[xv], %[a1]\n\t"                                                    \
    "ldrd %[w0], %[w1], [%[w]], #8\n\t"                                                       \
    "sxtb16 %[t], %[w0]\n\t"                                                                  \
    "sxtb16 %[w0], %[w0], ror #8\n\t"                                                         \
    "smlad %[a2], %[t], %[xa], %[a2]\n\t"                                                     \
    "smlad %[a2], %[w0], %[xv], %[a2]\n\t"                                                    \
    "sxtb16 %[t], %[w1]\n\t"                                                                  \
    "sxtb16 %[w1], %[w1], ror #8\n\t"                                                         \
    "smlad %[a3], %[t], %[xa], %[a3]\n\t"                                                     \
    "smlad %[a3], %[w1], %[xv], %[a3]\n\t"
/* Output of accumulator a (mcf_fc_out3): per channel, m, r, e = q[0..2] (q in t, r reused as the
 * rounding term); per tensor they stay, t holds the term. 6 instructions with SSAT. */
#define MCF_FC_ASM_OUT(a)                                                                     \
    ".if %c[pc]\n\t"                                                                          \
    "ldmia %[t]!, {%[xa], %[w0], %[w1]}\n\t"                                                     \
    "add %[w0], %[w0], %[" a "], asr #31\n\t"                                                   \
    "add %[" a "], %[" a "], %[" a "]\n\t"                                                    \
    "smmlar %[" a "], %[" a "], %[xa], %[w0]\n\t"                                               \
    ".else\n\t"                                                                               \
    "add %[t], %[w0], %[" a "], asr #31\n\t"                                                   \
    "add %[" a "], %[" a "], %[" a "]\n\t"                                                    \
    "smmlar %[" a "], %[" a "], %[xa], %[t]\n\t"                                               \
    ".endif\n\t"                                                                              \
    "asr %[" a "], %[" a "], %[w1]\n\t"                                                        \
    ".if %c[full]\n\t"                                                                        \
    "ssat %[" a "], #8, %[" a "]\n\t"                                                         \
    ".else\n\t"                                                                               \
    "cmp %[" a "], %[xv]\n\t"                                                                 \
    "it lt\n\t"                                                                               \
    "movlt %[" a "], %[xv]\n\t"                                                               \
    "cmp %[" a "], %[xe]\n\t"                                                                 \
    "it gt\n\t"                                                                               \
    "movgt %[" a "], %[xe]\n\t"                                                               \
    ".endif\n\t"                                                                              \
    "strb %[" a "], [%[x]], #1\n\t"

/*
 * The whole blocks of one row: per block, its four biases, the groups (mcf_fc_block's loop), the
 * partial group, the four outputs. c: {bias, -, x, x + 4 * groups, m or q, r, e, lo, hi, rest, xr,
 * out, out_end} (c[0], c[4] when per channel, c[11] advance), read where they are on the stack: 12
 * registers (a frame pointer may keep one); the accumulators and the per-channel constants in fixed
 * ones, in the order LDM fills them.
 */
static MCF_ALWAYS_INLINE const uint32_t *mcf_fc_short_blocks(int32_t *c, const uint32_t *w, const int pc,
                                                             const int full)
{
    register int32_t a0 __asm__("r0");
    register int32_t a1 __asm__("r1");
    register int32_t a2 __asm__("r2");
    register int32_t a3 __asm__("r3");
    register uint32_t xa __asm__("r4");
    register uint32_t w0 __asm__("r5");
    register uint32_t w1 __asm__("r6");
    uint32_t x, xe, xv, t;
    __asm__ volatile("2:\n\t"
                     "ldr %[t], %[c0]\n\t"
                     "ldmia %[t]!, {%[a0], %[a1], %[a2], %[a3]}\n\t"
                     "str %[t], %[c0]\n\t"
                     "ldrd %[x], %[xe], %[c2]\n\t"
                     "cmp %[x], %[xe]\n\t"
                     "beq 3f\n\t"
                     "1:\n\t"
                     "ldr %[xv], [%[x]], #4\n\t" MCF_FC_ASM_GROUP
                     "cmp %[x], %[xe]\n\t"
                     "bne 1b\n\t"
                     "3:\n\t"
                     "ldrd %[t], %[xv], %[c9]\n\t"
                     "cmp %[t], #0\n\t"
                     "beq 4f\n\t" MCF_FC_ASM_GROUP
                     "4:\n\t"
                     ".if %c[pc]\n\t"
                     "ldr %[t], %[c4]\n\t"
                     ".else\n\t"
                     "ldrd %[xa], %[w0], %[c4]\n\t"
                     "ldr %[w1], %[c6]\n\t"
                     ".endif\n\t"
                     ".if %c[full] == 0\n\t"
                     "ldrd %[xv], %[xe], %[c7]\n\t"
                     ".endif\n\t"
                     "ldr %[x], %[c11]\n\t" MCF_FC_ASM_OUT("a0") MCF_FC_ASM_OUT("a1") MCF_FC_ASM_OUT("a2")
                         MCF_FC_ASM_OUT("a3")
                     ".if %c[pc]\n\t"
                     "str %[t], %[c4]\n\t"
                     ".endif\n\t"
                     "str %[x], %[c11]\n\t"
                     "ldr %[w1], %[c12]\n\t"
                     "cmp %[x], %[w1]\n\t"
                     "bne 2b\n\t"
                     : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [xa] "=&r"(xa),
                       [w0] "=&r"(w0), [w1] "=&r"(w1), [x] "=&r"(x), [xe] "=&r"(xe), [xv] "=&r"(xv),
                       [t] "=&r"(t), [w] "+r"(w), [c0] "+m"(c[0]), [c4] "+m"(c[4]),
                       [c11] "+m"(c[11])
                     : [c2] "m"(c[2]), [c6] "m"(c[6]), [c7] "m"(c[7]), [c9] "m"(c[9]), [c12] "m"(c[12]), [pc] "i"(pc),
                       [full] "i"(full)
                     : "cc", "memory");
    return w;
}
#else
#define MCF_FC_SHORT_ASM 0
#endif

/*
 * One output of the _fewN_wide entry points from the same constants m, r, e (mcf_fc_out3) where 2 * acc
 * or the rounding sum may leave int32 (biases near int32's edge): with P = acc * m and r' = r -
 * [acc < 0], mcf_fc_out3 computes floor((floor((P + 2^30) / 2^31) + r') / 2^e), which equals
 * floor((P + 2^30 + r' * 2^31) / 2^(31 + e)): the high word of a 64-bit multiply-add shifted by
 * e1 = e - 1 (the triple's third value for this entry point).
 */
static MCF_ALWAYS_INLINE int8_t mcf_fc_out_wide(int32_t acc, int32_t m, int32_t r, int32_t e1, int32_t lo, int32_t hi)
{
    const int32_t rs = r + (acc >> 31); /* r' * 2^31 + 2^30 as its two words, then one SMLAL */
    const uint64_t c = ((uint64_t)(uint32_t)(rs >> 1) << 32) | (((uint32_t)rs << 31) | 0x40000000u);
    const int32_t h = (int32_t)(((uint64_t)((int64_t)acc * m) + c) >> 32);
    return mcf_clamp8(h >> e1, lo, hi, 0);
}

/*
 * n = 1..3 units of one row (n a constant in each copy) in the short layout's tail words `w`,
 * outputs included: sums from bias[0..n-1], outputs from the out_q triples at q, `qstep` apart (3,
 * or 0: one triple for all; `full` 2: three apart, by mcf_fc_out_wide, clamped). groups, rest: the
 * row's whole groups of four inputs and the inputs left.
 */
static MCF_ALWAYS_INLINE void mcf_fc_few_n(const int8_t *x, const uint32_t *w, int32_t groups, int32_t rest,
                                           const int32_t *bias, const int32_t *q, int32_t qstep, int8_t *out,
                                           int32_t lo, int32_t hi, const int n, const int full)
{
    const uint32_t xr = rest ? mcf_fc_load_partial(x + 4 * groups, rest) : 0u;
    int32_t acc[3];
    acc[0] = bias[0];
    acc[1] = n > 1 ? bias[1] : 0;
    acc[2] = n > 2 ? bias[2] : 0;
    mcf_fc_tail(x, w, groups, rest, xr, acc, n);
    if (full == 2) { /* _fewN_wide */
        out[0] = mcf_fc_out_wide(acc[0], q[0], q[1], q[2], lo, hi);
        if (n > 1) {
            out[1] = mcf_fc_out_wide(acc[1], q[3], q[4], q[5], lo, hi);
        }
        if (n > 2) {
            out[2] = mcf_fc_out_wide(acc[2], q[6], q[7], q[8], lo, hi);
        }
        return;
    }
    out[0] = mcf_fc_out3(acc[0], q[0], q[1], q[2], lo, hi, full);
    if (n > 1) {
        q += qstep;
        out[1] = mcf_fc_out3(acc[1], q[0], q[1], q[2], lo, hi, full);
    }
    if (n > 2) {
        q += qstep;
        out[2] = mcf_fc_out3(acc[2], q[0], q[1], q[2], lo, hi, full);
    }
}

/*
 * The last block's 1..3 units of one row in the short layout (w: their words), outputs included:
 * one function for both entry points (the outputs clamped to [act_min, act_max] either way).
 */
static MCF_NOINLINE void mcf_fc_short_tail(const mcf_fc_params *p, const int8_t *x, const uint32_t *w, int8_t *out)
{
    const int32_t whole = p->units & ~3;
    const int32_t groups = p->depth >> 2, rest = p->depth & 3;
    const int32_t *bias = p->bias + whole;
    const int32_t qstep = p->per_channel ? 3 : 0;
    const int32_t *q = p->out_q + qstep * whole;
    const int32_t lo = p->act_min, hi = p->act_max;
    switch (p->units & 3) {
    case 1:
        mcf_fc_few_n(x, w, groups, rest, bias, q, qstep, out, lo, hi, 1, 0);
        break;
    case 2:
        mcf_fc_few_n(x, w, groups, rest, bias, q, qstep, out, lo, hi, 2, 0);
        break;
    default:
        mcf_fc_few_n(x, w, groups, rest, bias, q, qstep, out, lo, hi, 3, 0);
        break;
    }
}

#if MCF_FC_SHORT_ASM
/* Two groups of four inputs against their four words at [w] (one unit), 11 instructions. */
#define MCF_FC_ONE_TWO_GROUPS                                                                 \
    "ldr %[xa], [%[x]], #4\n\t"                                                               \
    "ldr %[xb], [%[x]], #4\n\t"                                                               \
    "ldmia %[w]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"                                           \
    "sxtb16 %[t2], %[xa], ror #8\n\t"                                                         \
    "sxtb16 %[xa], %[xa]\n\t"                                                                 \
    "smlad %[a], %[w0], %[xa], %[a]\n\t"                                                      \
    "smlad %[a], %[w1], %[t2], %[a]\n\t"                                                      \
    "sxtb16 %[t2], %[xb], ror #8\n\t"                                                         \
    "sxtb16 %[xb], %[xb]\n\t"                                                                 \
    "smlad %[a], %[w2], %[xb], %[a]\n\t"                                                      \
    "smlad %[a], %[w3], %[t2], %[a]\n\t"
/*
 * The one row of a one-unit layer (batches == 1) in one block, reading depth, bias, out_q and the
 * bounds from p where they are: the sum from the bias, passes of four groups (24 instructions per
 * 16 MACs; x need not be word aligned), the 0..3 groups left straight (two, then one, by the bits
 * of depth & 15), the last 1..3 inputs as one more group (zeros above, as mcf_fc_load_partial), the
 * output as mcf_fc_out3 (SSAT, or clamped to [act_min, act_max]). 73 + 7 instructions on a row of
 * 48 inputs, 38 on one of 8.
 */
static MCF_ALWAYS_INLINE void mcf_fc_one_row(const mcf_fc_params *p, const int8_t *x, const uint32_t *w, int8_t *out,
                                             const int full)
{
    register uint32_t w0 __asm__("r4"); /* LDM's registers, apart from the arguments' r0..r3 */
    register uint32_t w1 __asm__("r5");
    register uint32_t w2 __asm__("r6");
    register uint32_t w3 __asm__("r7");
    register const mcf_fc_params *pr __asm__("r0") = p; /* the arguments where they come */
    register const int8_t *xr __asm__("r1") = x;
    register const uint32_t *wr __asm__("r2") = w;
    register int8_t *outr __asm__("r3") = out;
    uint32_t a, xa, xb, t, t2, e;
    __asm__ volatile("ldr %[t], [%[p], #%c[o_depth]]\n\t"
                     "ldr %[a], [%[p], #%c[o_bias]]\n\t"
                     "bics %[e], %[t], #15\n\t" /* Z: no pass of 16 inputs */
                     "ldr %[a], [%[a]]\n\t"
                     "beq 2f\n\t"
                     "add %[e], %[x], %[e]\n\t"
                     "1:\n\t" MCF_FC_ONE_TWO_GROUPS MCF_FC_ONE_TWO_GROUPS
                     "cmp %[x], %[e]\n\t"
                     "bne 1b\n\t"
                     "2:\n\t"
                     "ands %[t], %[t], #15\n\t"
                     "beq 5f\n\t"
                     "cmp %[t], #4\n\t"
                     "blt 4f\n\t"
                     "lsls %[e], %[t], #29\n\t" /* two groups left: C; one more: N */
                     "bcc 3f\n\t" MCF_FC_ONE_TWO_GROUPS
                     "3:\n\t"
                     "bpl 7f\n\t"
                     "ldr %[xa], [%[x]], #4\n\t"
                     "ldmia %[w]!, {%[w0], %[w1]}\n\t"
                     "sxtb16 %[xb], %[xa], ror #8\n\t"
                     "sxtb16 %[xa], %[xa]\n\t"
                     "smlad %[a], %[w0], %[xa], %[a]\n\t"
                     "smlad %[a], %[w1], %[xb], %[a]\n\t"
                     "7:\n\t"
                     "ands %[t], %[t], #3\n\t"
                     "beq 5f\n\t"
                     "4:\n\t"
                     "ldrb %[xa], [%[x]]\n\t"
                     "cmp %[t], #1\n\t"
                     "beq 6f\n\t"
                     "ldrb %[xb], [%[x], #1]\n\t"
                     "orr %[xa], %[xa], %[xb], lsl #8\n\t"
                     "cmp %[t], #2\n\t"
                     "beq 6f\n\t"
                     "ldrb %[xb], [%[x], #2]\n\t"
                     "orr %[xa], %[xa], %[xb], lsl #16\n\t"
                     "6:\n\t"
                     "ldmia %[w]!, {%[w0], %[w1]}\n\t"
                     "sxtb16 %[xb], %[xa], ror #8\n\t"
                     "sxtb16 %[xa], %[xa]\n\t"
                     "smlad %[a], %[w0], %[xa], %[a]\n\t"
                     "smlad %[a], %[w1], %[xb], %[a]\n\t"
                     "5:\n\t"
                     "ldr %[t], [%[p], #%c[o_q]]\n\t"
                     "ldmia %[t], {%[w0], %[w1], %[w2]}\n\t"
                     "add %[w1], %[w1], %[a], asr #31\n\t"
                     "add %[a], %[a], %[a]\n\t"
                     "smmlar %[a], %[a], %[w0], %[w1]\n\t"
                     "asr %[a], %[a], %[w2]\n\t"
                     ".if %c[full]\n\t"
                     "ssat %[a], #8, %[a]\n\t"
                     ".else\n\t"
                     "ldrd %[w0], %[w1], [%[p], #%c[o_lo]]\n\t"
                     "cmp %[a], %[w0]\n\t"
                     "it lt\n\t"
                     "movlt %[a], %[w0]\n\t"
                     "cmp %[a], %[w1]\n\t"
                     "it gt\n\t"
                     "movgt %[a], %[w1]\n\t"
                     ".endif\n\t"
                     "strb %[a], [%[out]]\n\t"
                     : [a] "=&r"(a), [xa] "=&r"(xa), [xb] "=&r"(xb), [t] "=&r"(t), [t2] "=&r"(t2), [e] "=&r"(e),
                       [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2), [w3] "=&r"(w3), [x] "+r"(xr), [w] "+r"(wr)
                     : [p] "r"(pr), [out] "r"(outr), [o_depth] "i"(offsetof(mcf_fc_params, depth)),
                       [o_bias] "i"(offsetof(mcf_fc_params, bias)), [o_q] "i"(offsetof(mcf_fc_params, out_q)),
                       [o_lo] "i"(offsetof(mcf_fc_params, act_min)), [full] "i"(full)
                     : "cc", "memory");
}
#endif

#if MCF_FC_SHORT_ASM
/* Layers of one unit on more than one row: row by row (mcf_fc_few_n), out of the one-row entry's
 * way so that its own code keeps few registers. */
static MCF_NOINLINE void mcf_fc_few1_rows_full(const mcf_fc_params *p, const int8_t *x, const uint32_t *w, int8_t *out)
{
    const int32_t depth = p->depth;
    int8_t *const out_end = out + p->batches;
    for (; out != out_end; x += depth, ++out) {
        mcf_fc_few_n(x, w, depth >> 2, depth & 3, p->bias, p->out_q, 3, out, p->act_min, p->act_max, 1, 1);
    }
}
static MCF_NOINLINE void mcf_fc_few1_rows_clamp(const mcf_fc_params *p, const int8_t *x, const uint32_t *w,
                                                int8_t *out)
{
    const int32_t depth = p->depth;
    int8_t *const out_end = out + p->batches;
    for (; out != out_end; x += depth, ++out) {
        mcf_fc_few_n(x, w, depth >> 2, depth & 3, p->bias, p->out_q, 3, out, p->act_min, p->act_max, 1, 0);
    }
}
#endif

/* The few path (n = 1..3 units in all, a constant in each entry point; the short layout is then the
 * tail's alone, out_q one triple per unit, per tensor too), row by row. */
static MCF_ALWAYS_INLINE void mcf_fc_few_rows(const mcf_fc_params *p, const int8_t *x, const uint32_t *w,
                                              int8_t *out, const int n, const int full, const int one_row)
{
#if MCF_FC_SHORT_ASM
    if (n == 1 && full != 2) { /* one unit: one row in one block, setup and output included */
        if (one_row || p->batches == 1) { /* one_row: batches == 1 (required), no test */
            mcf_fc_one_row(p, x, w, out, full);
        } else if (full) {
            mcf_fc_few1_rows_full(p, x, w, out);
        } else {
            mcf_fc_few1_rows_clamp(p, x, w, out);
        }
        return;
    }
#endif
    const int32_t depth = p->depth;
    const int32_t groups = depth >> 2, rest = depth & 3;
    const int32_t *bias = p->bias, *q = p->out_q;
    const int32_t lo = p->act_min, hi = p->act_max;
    int8_t *const out_end = out + n * p->batches;
    if (one_row || p->batches == 1) { /* one row (most models): straight code, nothing kept for the next row */
        mcf_fc_few_n(x, w, groups, rest, bias, q, 3, out, lo, hi, n, full);
        return;
    }
    for (; out != out_end; x += depth, out += n) {
        mcf_fc_few_n(x, w, groups, rest, bias, q, 3, out, lo, hi, n, full);
    }
}

/*
 * The whole blocks of four units of one row (mcf_fc_block, the row's partial group as one more
 * group of the same layout), each output from its out_q constants, loaded once per block when they
 * are per tensor; returns the last block's words. `full`: a constant in each entry point.
 */
static MCF_ALWAYS_INLINE const uint32_t *mcf_fc_short_row(const mcf_fc_params *p, const int8_t *x, const uint32_t *wb,
                                                          int8_t *out, const int full)
{
    const int32_t groups = p->depth >> 2;
    const int32_t rest = p->depth & 3;
    const int32_t whole = p->units & ~3;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t *q = p->out_q;
    const uint32_t xr = rest ? mcf_fc_load_partial(x + 4 * groups, rest) : 0u;
#if MCF_FC_SHORT_ASM
    int32_t c[13];
    c[0] = (int32_t)(uintptr_t)p->bias;
    c[2] = (int32_t)(uintptr_t)x;
    c[3] = (int32_t)(uintptr_t)(x + 4 * groups);
    c[4] = p->per_channel ? (int32_t)(uintptr_t)q : q[0];
    c[5] = q[1];
    c[6] = q[2];
    c[7] = lo;
    c[8] = hi;
    c[9] = rest;
    c[10] = (int32_t)xr;
    c[11] = (int32_t)(uintptr_t)out;
    c[12] = (int32_t)(uintptr_t)(out + whole);
    return p->per_channel ? mcf_fc_short_blocks(c, wb, 1, full) : mcf_fc_short_blocks(c, wb, 0, full);
#else
    const int32_t block_words = 4 * ((p->depth + 3) >> 2);
    const int32_t qstep = p->per_channel ? 3 : 0;
    const int32_t *bias = p->bias;
    int8_t *const out_end = out + whole;
    for (; out != out_end; out += 4, bias += 4, wb += block_words) {
        int32_t acc[4];
        acc[0] = bias[0];
        acc[1] = bias[1];
        acc[2] = bias[2];
        acc[3] = bias[3];
        mcf_fc_block(x, wb, groups, acc);
        if (rest) {
            int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
            MCF_FC_GROUP(xr, wb + 4 * groups);
            acc[0] = a0;
            acc[1] = a1;
            acc[2] = a2;
            acc[3] = a3;
        }
        if (qstep) {
            out[0] = mcf_fc_out3(acc[0], q[0], q[1], q[2], lo, hi, full);
            out[1] = mcf_fc_out3(acc[1], q[3], q[4], q[5], lo, hi, full);
            out[2] = mcf_fc_out3(acc[2], q[6], q[7], q[8], lo, hi, full);
            out[3] = mcf_fc_out3(acc[3], q[9], q[10], q[11], lo, hi, full);
            q += 12;
        } else {
            const int32_t m = q[0], r = q[1], e = q[2];
            out[0] = mcf_fc_out3(acc[0], m, r, e, lo, hi, full);
            out[1] = mcf_fc_out3(acc[1], m, r, e, lo, hi, full);
            out[2] = mcf_fc_out3(acc[2], m, r, e, lo, hi, full);
            out[3] = mcf_fc_out3(acc[3], m, r, e, lo, hi, full);
        }
    }
    return wb;
#endif
}

/* The short path: per row, the whole blocks, then (`tail`) the last 1..3 units (mcf_fc_short_tail). */
static MCF_ALWAYS_INLINE void mcf_fc_short(const mcf_fc_params *p, const int8_t *input, const uint32_t *w,
                                           int8_t *output, const int full, const int tail)
{
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * p->depth;
        int8_t *out = output + b * p->units;
        const uint32_t *wt = p->units >= 4 ? mcf_fc_short_row(p, x, w, out, full) : w;
        if (tail && (p->units & 3)) {
            mcf_fc_short_tail(p, x, wt, out + (p->units & ~3));
        }
    }
}
#endif

/*
 * `w`: the weights in blocks of four units (the last block padded with zero units) and, in each,
 * groups of four inputs (the last group padded with zeros): per group, one word per unit.
 */
static void mcf_fully_connected_s8_fast(const mcf_fc_params *p, const int8_t *input,
                                        const uint32_t *w, int8_t *output)
{
    const int32_t depth = p->depth;
    const int32_t units = p->units;
    const int32_t full = depth >> 2;
    const int32_t rest = depth & 3;
    const int32_t block_words = 4 * ((depth + 3) >> 2);
    const int32_t qstep = p->per_channel ? 1 : 0;
    const int32_t out_offset = p->output_offset;
    const int32_t act_min = p->act_min;
    const int32_t act_max = p->act_max;
    const int full_range = act_min == -128 && act_max == 127;
    int32_t b;
#if MCF_KERNELS_RV32
    mcf_fully_connected_s8_rv32(p, input, w, output, units);
    return;
#endif
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * depth;
        int8_t *out = output + b * units;
        const uint32_t *wb = w;
        int32_t u;
        for (u = 0; u < units; u += 4) {
            const int32_t n = MCF_MIN(4, units - u);
            int32_t acc[4];
            int32_t i;
            for (i = 0; i < 4; ++i) {
                acc[i] = i < n ? p->bias[u + i] : 0;
            }
            mcf_fc_block(x, wb, full, acc);
            if (rest) {
                int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
                const uint32_t *wt = wb + 4 * full;
                MCF_FC_GROUP(mcf_fc_load_partial(x + 4 * full, rest), wt);
                acc[0] = a0;
                acc[1] = a1;
                acc[2] = a2;
                acc[3] = a3;
            }
            for (i = 0; i < n; ++i) {
                const int32_t ch = (u + i) * qstep;
#if MCF_REQUANT_F32
                const int32_t v = mcf_requant_f32(acc[i], p->multiplier[ch]);
#else
                const int32_t mult = p->multiplier[ch], shift = p->shift[ch];
                const int32_t v = MCF_LIKELY(shift <= -2) ? mcf_requantize_right(acc[i], mult,
                                                                     (uint32_t)1 << (-shift - 2),
                                                                     -shift - 1)
                                              : mcf_fc_requantize_other(acc[i], mult, shift);
#endif
                out[u + i] = mcf_clamp8(v + out_offset, act_min, act_max, full_range);
            }
            wb += block_words;
        }
    }
}

#if MCF_KERNELS_RV32 && !MCF_REQUANT_F32
/* The short path's layout on RV32: whole blocks as the fast path, then the last block's 1..3 units
 * (mcf_fc_tail), requantized as the fast path does. */
static void mcf_fc_short_rv32(const mcf_fc_params *p, const int8_t *input, const uint32_t *w, int8_t *output)
{
    const int32_t depth = p->depth;
    const int32_t units = p->units;
    const int32_t groups = depth >> 2;
    const int32_t rest = depth & 3;
    const int32_t whole = units & ~3;
    const uint32_t *wt = w + (whole >> 2) * 4 * ((depth + 3) >> 2);
    const int32_t qstep = p->per_channel ? 1 : 0;
    int32_t b;
    if (whole > 0) {
        mcf_fully_connected_s8_rv32(p, input, w, output, whole);
    }
    for (b = 0; units != whole && b < p->batches; ++b) {
        const int8_t *x = input + b * depth;
        const uint32_t xr = rest ? mcf_fc_load_partial(x + 4 * groups, rest) : 0u;
        const int32_t n = units - whole;
        int32_t acc[3];
        int32_t i;
        acc[0] = p->bias[whole];
        acc[1] = n > 1 ? p->bias[whole + 1] : 0;
        acc[2] = n > 2 ? p->bias[whole + 2] : 0;
        if (n == 1) {
            mcf_fc_tail(x, wt, groups, rest, xr, acc, 1);
        } else if (n == 2) {
            mcf_fc_tail(x, wt, groups, rest, xr, acc, 2);
        } else {
            mcf_fc_tail(x, wt, groups, rest, xr, acc, 3);
        }
        for (i = 0; i < n; ++i) {
            mcf_rv32_out q;
            q.mult = p->multiplier + (whole + i) * qstep;
            q.shift = p->shift + (whole + i) * qstep;
            q.qstep = 0;
            q.offset = p->output_offset;
            q.act_min = p->act_min;
            q.act_max = p->act_max;
            mcf_rv32_out1(&q, 0, acc[i], output + b * units + whole + i);
        }
    }
}
#endif

#endif /* MCF_KERNELS_FAST */

void mcf_fully_connected_s8(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                            int8_t *output)
{
#if MCF_KERNELS_FAST
#if !MCF_REQUANT_F32
    if (p->fast_layout && p->out_q != 0) { /* the short path's layout */
        if (p->act_min == -128 && p->act_max == 127) {
            mcf_fully_connected_s8_short_full(p, input, weights, output);
        } else {
            mcf_fully_connected_s8_short_clamp(p, input, weights, output);
        }
        return;
    }
#endif
    if (p->fast_layout) {
        mcf_fully_connected_s8_fast_path(p, input, weights, output);
        return;
    }
#endif
    mcf_fully_connected_s8_reference(p, input, weights, output);
}

/* The fast path alone (see the header); the reference loop in builds without it. */
void mcf_fully_connected_s8_fast_path(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                      int8_t *output)
{
#if MCF_KERNELS_FAST
    mcf_fully_connected_s8_fast(p, input, (const uint32_t *)(const void *)weights, output);
#else
    mcf_fully_connected_s8_reference(p, input, weights, output);
#endif
}

#if !MCF_REQUANT_F32
/* The short path (see the header): one entry point per activation range and per whether units % 4
 * leaves a tail, so that a model links what its layers use. */
#if MCF_KERNELS_RV32
#define MCF_FC_SHORT_ENTRY(name, full, tail)                                                   \
    void name(const mcf_fc_params *p, const int8_t *input, const int8_t *weights, int8_t *output) \
    {                                                                                          \
        (void)(full);                                                                          \
        (void)(tail);                                                                          \
        mcf_fc_short_rv32(p, input, (const uint32_t *)(const void *)weights, output);          \
    }
#elif MCF_KERNELS_FAST
#define MCF_FC_SHORT_ENTRY(name, full, tail)                                                   \
    void name(const mcf_fc_params *p, const int8_t *input, const int8_t *weights, int8_t *output) \
    {                                                                                          \
        if ((tail) >= 2) {                                                                     \
            mcf_fc_few_rows(p, input, (const uint32_t *)(const void *)weights, output, (tail) > 4 ? 1 : (tail) - 1, \
                            full, (tail) > 4);                                                 \
        } else {                                                                               \
            mcf_fc_short(p, input, (const uint32_t *)(const void *)weights, output, full, tail); \
        }                                                                                      \
    }
#else
#define MCF_FC_SHORT_ENTRY(name, full, tail)                                                   \
    void name(const mcf_fc_params *p, const int8_t *input, const int8_t *weights, int8_t *output) \
    {                                                                                          \
        (void)(full);                                                                          \
        (void)(tail);                                                                          \
        mcf_fully_connected_s8_reference(p, input, weights, output);                           \
    }
#endif
MCF_FC_SHORT_ENTRY(mcf_fully_connected_s8_short_full, 1, 1)
MCF_FC_SHORT_ENTRY(mcf_fully_connected_s8_short_clamp, 0, 1)
MCF_FC_SHORT_ENTRY(mcf_fully_connected_s8_blocks_full, 1, 0)
MCF_FC_SHORT_ENTRY(mcf_fully_connected_s8_blocks_clamp, 0, 0)
/* tail 2..4: the few path on tail - 1 units; 5: on one unit and one row */
MCF_FC_SHORT_ENTRY(mcf_fully_connected_s8_few1_full, 1, 2)
MCF_FC_SHORT_ENTRY(mcf_fully_connected_s8_few2_full, 1, 3)
MCF_FC_SHORT_ENTRY(mcf_fully_connected_s8_few3_full, 1, 4)
MCF_FC_SHORT_ENTRY(mcf_fully_connected_s8_few1_clamp, 0, 2)
MCF_FC_SHORT_ENTRY(mcf_fully_connected_s8_few2_clamp, 0, 3)
MCF_FC_SHORT_ENTRY(mcf_fully_connected_s8_few3_clamp, 0, 4)
/* tail 5: one unit on one row */
MCF_FC_SHORT_ENTRY(mcf_fully_connected_s8_few1row_full, 1, 5)
MCF_FC_SHORT_ENTRY(mcf_fully_connected_s8_few1row_clamp, 0, 5)
MCF_FC_SHORT_ENTRY(mcf_fully_connected_s8_few1_wide, 2, 2)
MCF_FC_SHORT_ENTRY(mcf_fully_connected_s8_few2_wide, 2, 3)
MCF_FC_SHORT_ENTRY(mcf_fully_connected_s8_few3_wide, 2, 4)
#endif

#if !MCF_REQUANT_F32
/*
 * Layers of one input per output (depth 1, any units and rows): `weights` is the layout of
 * mcuforge.generator.ops.fully_connected.fc_depth1_layout, per unit the int32 pair {2 * bias,
 * 2 * weight} (bias with the input zero point folded in), so that the doubled sum 2 * acc of the
 * output stage is one multiply-add of the row's input; the output as mcf_fc_out3 from `out_q` (one
 * triple, or one per unit with _depth1pc_*), whose conditions keep 2 * acc in int32.
 */
#if MCF_KERNELS_FAST
#if MCF_KERNELS_DSP && defined(__GNUC__) && defined(__OPTIMIZE__) && defined(__ARM_FEATURE_DSP) && \
    !defined(MCF_EMULATE_DSP)
#define MCF_FC_D1_ASM 1
/* One output from the pair in b, w (b: 2 * bias, then the output; w: scratch): 2 * acc = b + w * x,
 * t = SMMLAR(2 * acc, m, r + [acc < 0] * -1), t >> e, saturated (SSAT) or clamped to [lo, hi]. */
#define MCF_FC_D1_OUT(b, w, m, r, e, sat)                                                        \
    "mla %[" b "], %[" w "], %[x], %[" b "]\n\t"                                                 \
    "add %[" w "], %[" r "], %[" b "], asr #31\n\t"                                               \
    "smmlar %[" b "], %[" b "], %[" m "], %[" w "]\n\t"                                          \
    "asr %[" b "], %[" b "], %[" e "]\n\t" sat(b) "strb %[" b "], [%[out]], #1\n\t"
#define MCF_FC_D1_SSAT(b) "ssat %[" b "], #8, %[" b "]\n\t"
#define MCF_FC_D1_CLAMP(b)                                                                        \
    "cmp %[" b "], %[lo]\n\t"                                                                    \
    "it lt\n\t"                                                                                   \
    "movlt %[" b "], %[lo]\n\t"                                                                  \
    "cmp %[" b "], %[hi]\n\t"                                                                    \
    "it gt\n\t"                                                                                   \
    "movgt %[" b "], %[hi]\n\t"
/* Per tensor, full range: four units per pass (two LDMs of two pairs each) while n (the units) lasts,
 * then by the low bits of n - 4 * passes (those of n): two, then one (LSLS #31: bit 1 in C, bit 0 in
 * N; nothing between sets the flags); clamped: one unit per pass. */
#define MCF_FC_D1_FULL_ROW                                                                        \
    "subs %[n], %[n], #4\n\t"                                                                     \
    "blt 2f\n\t"                                                                                  \
    "1:\n\t"                                                                                      \
    "ldmia %[k]!, {%[b0], %[w0], %[b1], %[w1]}\n\t" MCF_FC_D1_OUT("b0", "w0", "m", "r", "e", MCF_FC_D1_SSAT) \
        MCF_FC_D1_OUT("b1", "w1", "m", "r", "e", MCF_FC_D1_SSAT)                                   \
    "ldmia %[k]!, {%[b0], %[w0], %[b1], %[w1]}\n\t" MCF_FC_D1_OUT("b0", "w0", "m", "r", "e", MCF_FC_D1_SSAT) \
        MCF_FC_D1_OUT("b1", "w1", "m", "r", "e", MCF_FC_D1_SSAT)                                   \
    "subs %[n], %[n], #4\n\t"                                                                     \
    "bge 1b\n\t"                                                                                  \
    "2:\n\t"                                                                                      \
    "lsls %[n], %[n], #31\n\t"                                                                    \
    "bcc 3f\n\t"                                                                                  \
    "ldmia %[k]!, {%[b0], %[w0], %[b1], %[w1]}\n\t" MCF_FC_D1_OUT("b0", "w0", "m", "r", "e", MCF_FC_D1_SSAT) \
        MCF_FC_D1_OUT("b1", "w1", "m", "r", "e", MCF_FC_D1_SSAT)                                   \
    "3:\n\t"                                                                                      \
    "bpl 4f\n\t"                                                                                  \
    "ldmia %[k]!, {%[b0], %[w0]}\n\t" MCF_FC_D1_OUT("b0", "w0", "m", "r", "e", MCF_FC_D1_SSAT)    \
    "4:\n\t"
#define MCF_FC_D1_ONE(sat) "ldmia %[k]!, {%[b0], %[w0]}\n\t" MCF_FC_D1_OUT("b0", "w0", "m", "r", "e", sat)
/* Per channel: one unit per pass, its pair and its triple by one LDM each. */
#define MCF_FC_D1_PC(sat)                                                                         \
    "1:\n\t"                                                                                      \
    "ldmia %[k]!, {%[b0], %[w0]}\n\t"                                                             \
    "ldmia %[q]!, {%[b1], %[w1], %[e1]}\n\t" MCF_FC_D1_OUT("b0", "w0", "b1", "w1", "e1", sat)        \
    "cmp %[out], %[end]\n\t"                                                                      \
    "bne 1b\n\t"
#define MCF_FC_D1_REGS                                                                            \
    register int32_t b0 __asm__("r4");                                                            \
    register int32_t w0 __asm__("r5");                                                            \
    register int32_t b1 __asm__("r6");                                                            \
    register int32_t w1 __asm__("r7")
#define MCF_FC_D1_ASM_OUT [b0] "=&r"(b0), [w0] "=&r"(w0), [b1] "=&r"(b1), [w1] "=&r"(w1), [k] "+r"(k), [out] "+r"(out)

/* One row of a per-tensor layer: x its input, out its first output. */
static MCF_ALWAYS_INLINE void mcf_fc_depth1_row(const int32_t *k, int32_t x, int8_t *out, int32_t units,
                                                const int32_t *q, int32_t lo, int32_t hi, const int full)
{
    MCF_FC_D1_REGS;
    const int32_t m = q[0], r = q[1], e = q[2];
    if (full) {
        int32_t n = units;
        __asm__ volatile(MCF_FC_D1_FULL_ROW
                         : [b0] "=&r"(b0), [w0] "=&r"(w0), [b1] "=&r"(b1), [w1] "=&r"(w1), [k] "+r"(k),
                           [out] "+r"(out), [n] "+r"(n)
                         : [x] "r"(x), [m] "r"(m), [r] "r"(r), [e] "r"(e)
                         : "cc", "memory");
    } else { /* clamped: two more registers, one unit per pass */
        int8_t *const last = out + units;
        __asm__ volatile("1:\n\t" MCF_FC_D1_ONE(MCF_FC_D1_CLAMP) "cmp %[out], %[last]\n\t"
                                                                  "bne 1b\n\t"
                         : [b0] "=&r"(b0), [w0] "=&r"(w0), [k] "+r"(k), [out] "+r"(out)
                         : [x] "r"(x), [m] "r"(m), [r] "r"(r), [e] "r"(e), [last] "r"(last), [lo] "r"(lo),
                           [hi] "r"(hi)
                         : "cc", "memory");
    }
}

/* The one row of a per-tensor full-range layer (batches == 1) in one block, reading units and out_q
 * from p where they are (the arguments where they come: no moves); 7 instructions around the row. */
static MCF_ALWAYS_INLINE void mcf_fc_depth1_one_row(const mcf_fc_params *p, const int8_t *x, const int32_t *k,
                                                    int8_t *out)
{
    MCF_FC_D1_REGS;
    register const mcf_fc_params *pr __asm__("r0") = p;
    register const int8_t *xr __asm__("r1") = x;
    register const int32_t *kr __asm__("r2") = k;
    register int8_t *outr __asm__("r3") = out;
    int32_t n, m, r, e;
    __asm__ volatile("ldr %[e], [%[p], #%c[o_q]]\n\t"
                     "ldr %[n], [%[p], #%c[o_units]]\n\t"
                     "ldrsb %[x], [%[x]]\n\t"
                     "ldrd %[m], %[r], [%[e]]\n\t"
                     "ldr %[e], [%[e], #8]\n\t" MCF_FC_D1_FULL_ROW
                     : [b0] "=&r"(b0), [w0] "=&r"(w0), [b1] "=&r"(b1), [w1] "=&r"(w1), [k] "+r"(kr),
                       [out] "+r"(outr), [x] "+r"(xr), [n] "=&r"(n), [m] "=&r"(m), [r] "=&r"(r), [e] "=&r"(e)
                     : [p] "r"(pr), [o_q] "i"(offsetof(mcf_fc_params, out_q)),
                       [o_units] "i"(offsetof(mcf_fc_params, units))
                     : "cc", "memory");
}

/* One row of a per-channel layer (units >= 1). */
static MCF_ALWAYS_INLINE void mcf_fc_depth1_row_pc(const int32_t *k, int32_t x, int8_t *out, int32_t units,
                                                   const int32_t *q, int32_t lo, int32_t hi, const int full)
{
    MCF_FC_D1_REGS;
    register int32_t e1 __asm__("r8");
    int8_t *const end = out + units;
    if (full) {
        __asm__ volatile(MCF_FC_D1_PC(MCF_FC_D1_SSAT)
                         : MCF_FC_D1_ASM_OUT, [e1] "=&r"(e1), [q] "+r"(q)
                         : [x] "r"(x), [end] "r"(end)
                         : "cc", "memory");
    } else {
        __asm__ volatile(MCF_FC_D1_PC(MCF_FC_D1_CLAMP)
                         : MCF_FC_D1_ASM_OUT, [e1] "=&r"(e1), [q] "+r"(q)
                         : [x] "r"(x), [end] "r"(end), [lo] "r"(lo), [hi] "r"(hi)
                         : "cc", "memory");
    }
}
#else
#define MCF_FC_D1_ASM 0
/* The same in C (cores without the DSP extension, RV32, host builds): bit for bit mcf_fc_out3. */
static MCF_ALWAYS_INLINE void mcf_fc_depth1_c(const int32_t *k, int32_t x, int8_t *out, int32_t units,
                                              const int32_t *q, int32_t lo, int32_t hi, const int pc,
                                              const int full)
{
    int32_t u;
    for (u = 0; u < units; ++u, k += 2) {
        const int32_t a2 = k[0] + k[1] * x; /* 2 * acc, in int32 by out_q's conditions */
        const int32_t *c = pc ? q + 3 * u : q;
        out[u] = mcf_clamp8((mcf_smmulr(a2, c[0]) + c[1] + (a2 >> 31)) >> c[2], lo, hi, full);
    }
}
#endif

#if MCF_FC_D1_ASM
/* The clamped and per-channel rows out of line: their blocks take 11 registers, which a row loop
 * around them would not leave free (-Os). */
static MCF_NOINLINE void mcf_fc_depth1_row_clamp(const int32_t *k, int32_t x, int8_t *out, int32_t units,
                                                 const int32_t *q, int32_t lo, int32_t hi)
{
    mcf_fc_depth1_row(k, x, out, units, q, lo, hi, 0);
}
static MCF_NOINLINE void mcf_fc_depth1_row_pc_full(const int32_t *k, int32_t x, int8_t *out, int32_t units,
                                                   const int32_t *q, int32_t lo, int32_t hi)
{
    mcf_fc_depth1_row_pc(k, x, out, units, q, lo, hi, 1);
}
static MCF_NOINLINE void mcf_fc_depth1_row_pc_clamp(const int32_t *k, int32_t x, int8_t *out, int32_t units,
                                                    const int32_t *q, int32_t lo, int32_t hi)
{
    mcf_fc_depth1_row_pc(k, x, out, units, q, lo, hi, 0);
}
#endif

/* Row by row (pc, full: constants in each entry point). */
static MCF_ALWAYS_INLINE void mcf_fc_depth1_rows(const mcf_fc_params *p, const int8_t *input, const int32_t *k,
                                                 int8_t *output, const int pc, const int full)
{
    const int32_t units = p->units;
    const int32_t *const q = p->out_q;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int8_t *const input_end = input + p->batches;
    for (; input != input_end; ++input, output += units) {
#if MCF_FC_D1_ASM
        if (pc) {
            (full ? mcf_fc_depth1_row_pc_full : mcf_fc_depth1_row_pc_clamp)(k, *input, output, units, q, lo, hi);
        } else if (full) {
            mcf_fc_depth1_row(k, *input, output, units, q, lo, hi, 1);
        } else {
            mcf_fc_depth1_row_clamp(k, *input, output, units, q, lo, hi);
        }
#else
        mcf_fc_depth1_c(k, *input, output, units, q, lo, hi, pc, full);
#endif
    }
}

#if MCF_FC_D1_ASM
/* A per-tensor full-range layer of several rows, out of the one-row entry's way. */
static MCF_NOINLINE void mcf_fc_depth1_rows_full(const mcf_fc_params *p, const int8_t *input, const int32_t *k,
                                                 int8_t *output)
{
    mcf_fc_depth1_rows(p, input, k, output, 0, 1);
}
#endif

static MCF_ALWAYS_INLINE void mcf_fc_depth1(const mcf_fc_params *p, const int8_t *input, const int32_t *k,
                                            int8_t *output, const int pc, const int full)
{
#if MCF_FC_D1_ASM
    if (!pc && full) { /* one row (most models) in one block */
        if (p->batches == 1) {
            mcf_fc_depth1_one_row(p, input, k, output);
        } else {
            mcf_fc_depth1_rows_full(p, input, k, output);
        }
        return;
    }
#endif
    mcf_fc_depth1_rows(p, input, k, output, pc, full);
}
#endif /* MCF_KERNELS_FAST */

#if MCF_KERNELS_FAST
#define MCF_FC_DEPTH1_ENTRY(name, pc, full)                                                      \
    void name(const mcf_fc_params *p, const int8_t *input, const int8_t *weights, int8_t *output) \
    {                                                                                          \
        mcf_fc_depth1(p, input, (const int32_t *)(const void *)weights, output, pc, full);      \
    }
#else
#define MCF_FC_DEPTH1_ENTRY(name, pc, full)                                                      \
    void name(const mcf_fc_params *p, const int8_t *input, const int8_t *weights, int8_t *output) \
    {                                                                                          \
        (void)(pc);                                                                            \
        (void)(full);                                                                          \
        mcf_fully_connected_s8_reference(p, input, weights, output);                           \
    }
#endif
MCF_FC_DEPTH1_ENTRY(mcf_fully_connected_s8_depth1_full, 0, 1)
MCF_FC_DEPTH1_ENTRY(mcf_fully_connected_s8_depth1_clamp, 0, 0)
MCF_FC_DEPTH1_ENTRY(mcf_fully_connected_s8_depth1pc_full, 1, 1)
MCF_FC_DEPTH1_ENTRY(mcf_fully_connected_s8_depth1pc_clamp, 1, 0)
#endif /* !MCF_REQUANT_F32 */
