/* fully_connected_s8.c - int8 fully connected layer: the reference loop, and four units at a time. */
#include "fully_connected_s8.h"

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
                                        int8_t *output)
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
        for (u = 0; u < units; u += 8, wb += 2 * block_words) {
            const int32_t n = MCF_MIN(8, units - u);
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

#if !MCF_KERNELS_RV32 && !MCF_REQUANT_F32
/*
 * The output stage from the unit's constants q = {multiplier, 2^(e-1) + output_offset * 2^e, e}
 * (`out_q`, see the header): t = SMMULR(2 * acc, multiplier) is TFLite Micro's saturating rounding
 * doubling high multiply (floor((acc * m + 2^30) / 2^31), m >= 0), and (t + q[1] + [t < 0] * -1) >> e
 * its rounding right shift with the output offset folded in. The compiler gives the constants only
 * where no step can leave int32.
 */
static inline int32_t mcf_fc_smmulr(int32_t a, int32_t b)
{
#if defined(__GNUC__) && defined(__ARM_FEATURE_DSP) && !defined(MCF_EMULATE_DSP)
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return (int32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32);
#endif
}

static MCF_ALWAYS_INLINE int8_t mcf_fc_out_q(int32_t acc, const int32_t *q, int32_t lo, int32_t hi, const int full)
{
    const int32_t t = mcf_fc_smmulr(acc + acc, q[0]);
    return mcf_clamp8((t + q[1] + (t >> 31)) >> q[2], lo, hi, full);
}

/* acc + unit i's sum over `groups` groups of a block (its word of group g at w[4g]). */
static inline int32_t mcf_fc_dot1(const int8_t *x, const uint32_t *w, int32_t groups, int32_t acc)
{
#if MCF_KERNELS_DSP && defined(__GNUC__) && defined(__OPTIMIZE__) && defined(__ARM_FEATURE_DSP) && \
    !defined(MCF_EMULATE_DSP)
    if (groups & 1) { /* an odd group first, then two per pass */
        const uint32_t xv = mcf_read_u32(x), wv = w[0];
        acc = mcf_smlad(mcf_sxtb16(wv), mcf_sxtb16(xv), acc);
        acc = mcf_smlad(mcf_sxtb16_ror8(wv), mcf_sxtb16_ror8(xv), acc);
        x += 4;
        w += 4;
    }
    if (groups > 1) {
        const int8_t *x_end = x + 4 * (groups & ~1);
        uint32_t xv, xa, wv, t;
        __asm__ volatile("1:\n\t"
                         "ldr %[xv], [%[x]], #4\n\t"
                         "ldr %[wv], [%[w]], #16\n\t"
                         "sxtb16 %[xa], %[xv]\n\t"
                         "sxtb16 %[xv], %[xv], ror #8\n\t"
                         "sxtb16 %[t], %[wv]\n\t"
                         "sxtb16 %[wv], %[wv], ror #8\n\t"
                         "smlad %[a], %[t], %[xa], %[a]\n\t"
                         "smlad %[a], %[wv], %[xv], %[a]\n\t"
                         "ldr %[xv], [%[x]], #4\n\t"
                         "ldr %[wv], [%[w]], #16\n\t"
                         "sxtb16 %[xa], %[xv]\n\t"
                         "sxtb16 %[xv], %[xv], ror #8\n\t"
                         "sxtb16 %[t], %[wv]\n\t"
                         "sxtb16 %[wv], %[wv], ror #8\n\t"
                         "smlad %[a], %[t], %[xa], %[a]\n\t"
                         "smlad %[a], %[wv], %[xv], %[a]\n\t"
                         "cmp %[x], %[end]\n\t"
                         "bne 1b\n\t"
                         : [a] "+r"(acc), [x] "+r"(x), [w] "+r"(w), [xv] "=&r"(xv), [xa] "=&r"(xa),
                           [wv] "=&r"(wv), [t] "=&r"(t)
                         : [end] "r"(x_end)
                         : "cc", "memory");
    }
#else
    int32_t g;
    for (g = 0; g < groups; ++g, x += 4, w += 4) {
#if MCF_KERNELS_DSP
        const uint32_t xv = mcf_read_u32(x);
        acc = mcf_smlad(mcf_sxtb16(w[0]), mcf_sxtb16(xv), acc);
        acc = mcf_smlad(mcf_sxtb16_ror8(w[0]), mcf_sxtb16_ror8(xv), acc);
#else
        acc = mcf_fc_dot4(acc, w[0], x[0], x[1], x[2], x[3]);
#endif
    }
#endif
    return acc;
}

/* The last 1..3 inputs (`rest`) of a row against unit i's padded word `w`. */
static inline int32_t mcf_fc_dot_rest(const int8_t *x, int32_t rest, uint32_t w, int32_t acc)
{
    int32_t j;
    for (j = 0; j < rest; ++j) {
        acc += (int8_t)((w >> (8 * j)) & 0xFFu) * (int32_t)x[j];
    }
    return acc;
}

/*
 * The fast path with the output constants: whole blocks of four units as before (mcf_fc_block),
 * the last 1..3 units one by one over their own words only (no zero units computed), and each
 * output in a few instructions (mcf_fc_out_q). `full`: a constant in each copy.
 */
static MCF_ALWAYS_INLINE void mcf_fully_connected_s8_q(const mcf_fc_params *p, const int8_t *input, const uint32_t *w,
                                                       int8_t *output, const int full)
{
    const int32_t depth = p->depth;
    const int32_t units = p->units;
    const int32_t groups = depth >> 2;
    const int32_t rest = depth & 3;
    const int32_t block_words = 4 * ((depth + 3) >> 2);
    const int32_t qstep = p->per_channel ? 3 : 0;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t whole = units & ~3;
    const int32_t *bias = p->bias;
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * depth;
        const int8_t *x_rest = x + 4 * groups;
        int8_t *out = output + b * units;
        const uint32_t *wb = w;
        const int32_t *q = p->out_q;
        int32_t u;
        for (u = 0; u < whole; u += 4, wb += block_words, q += 4 * qstep) {
            int32_t acc[4];
            acc[0] = bias[u];
            acc[1] = bias[u + 1];
            acc[2] = bias[u + 2];
            acc[3] = bias[u + 3];
            mcf_fc_block(x, wb, groups, acc);
            if (rest) {
                const uint32_t *wt = wb + 4 * groups;
                acc[0] = mcf_fc_dot_rest(x_rest, rest, wt[0], acc[0]);
                acc[1] = mcf_fc_dot_rest(x_rest, rest, wt[1], acc[1]);
                acc[2] = mcf_fc_dot_rest(x_rest, rest, wt[2], acc[2]);
                acc[3] = mcf_fc_dot_rest(x_rest, rest, wt[3], acc[3]);
            }
            out[u] = mcf_fc_out_q(acc[0], q, lo, hi, full);
            out[u + 1] = mcf_fc_out_q(acc[1], q + qstep, lo, hi, full);
            out[u + 2] = mcf_fc_out_q(acc[2], q + 2 * qstep, lo, hi, full);
            out[u + 3] = mcf_fc_out_q(acc[3], q + 3 * qstep, lo, hi, full);
        }
        for (; u < units; ++u, ++wb, q += qstep) { /* the last block's units, each alone */
            int32_t acc = mcf_fc_dot1(x, wb, groups, bias[u]);
            if (rest) {
                acc = mcf_fc_dot_rest(x_rest, rest, wb[4 * groups], acc);
            }
            out[u] = mcf_fc_out_q(acc, q, lo, hi, full);
        }
    }
}

static MCF_NOINLINE void mcf_fully_connected_s8_q_full(const mcf_fc_params *p, const int8_t *input,
                                                       const uint32_t *w, int8_t *output)
{
    mcf_fully_connected_s8_q(p, input, w, output, 1);
}

static MCF_NOINLINE void mcf_fully_connected_s8_q_clamp(const mcf_fc_params *p, const int8_t *input,
                                                        const uint32_t *w, int8_t *output)
{
    mcf_fully_connected_s8_q(p, input, w, output, 0);
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
    mcf_fully_connected_s8_rv32(p, input, w, output);
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

#endif /* MCF_KERNELS_FAST */

void mcf_fully_connected_s8(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                            int8_t *output)
{
#if MCF_KERNELS_FAST
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
#if !MCF_KERNELS_RV32 && !MCF_REQUANT_F32
    if (p->out_q != 0) { /* the short output stage (checked before the other path's set-up) */
        /* direct calls, not a pointer: the stack bound follows the call graph (stack_usage.py) */
        if (p->act_min == -128 && p->act_max == 127) {
            mcf_fully_connected_s8_q_full(p, input, (const uint32_t *)(const void *)weights, output);
        } else {
            mcf_fully_connected_s8_q_clamp(p, input, (const uint32_t *)(const void *)weights, output);
        }
        return;
    }
#endif
    mcf_fully_connected_s8_fast(p, input, (const uint32_t *)(const void *)weights, output);
#else
    mcf_fully_connected_s8_reference(p, input, weights, output);
#endif
}
