/* conv2d_s8_narrow.c - CONV_2D on contiguous windows: each output pixel a fully connected layer. */
#include "conv2d_s8_narrow.h"

#include "mcf_common.h"
#include "mcf_dsp.h"
#include "mcf_rv32.h"

#if !MCF_KERNELS_FAST
/* The reference loop (portable builds): filter [output_c][depth], windows inside the image. */
static void mcf_conv2d_narrow_reference(const mcf_conv2d_narrow_params *p, const int8_t *input,
                                        const int8_t *filter, int8_t *output)
{
    const int32_t depth = p->depth;
    int32_t b, oy, ox;
    for (b = 0; b < p->batches; ++b) {
        for (oy = 0; oy < p->rows; ++oy) {
            for (ox = 0; ox < p->cols; ++ox) {
                const int8_t *x = input + b * p->batch_step + oy * p->row_step + ox * p->col_step;
                int32_t o;
                for (o = 0; o < p->output_c; ++o) {
                    const int8_t *w = filter + o * depth;
                    const int32_t ch = p->per_channel ? o : 0;
                    /* |w * (x + input_offset)| <= 128 * 255 < 2^15: int32 holds depth < 2^16 of them */
                    int32_t acc = p->bias[o];
                    int32_t k;
                    for (k = 0; k < depth; ++k) {
                        acc += (int32_t)w[k] * ((int32_t)x[k] + p->input_offset);
                    }
#if MCF_REQUANT_F32
                    acc = mcf_requant_f32(acc, p->multiplier[ch]) + p->output_offset;
#else
                    acc = mcf_requantize(acc, p->multiplier[ch], p->shift[ch]) + p->output_offset;
#endif
                    *output++ = (int8_t)mcf_clamp(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}

#else

/* A raster walk over the output pixels' input runs, two pixels at a time (the pair paths). */
typedef struct {
    const int8_t *x;     /* the current pixel's run */
    const int8_t *row;   /* the first run of its row */
    const int8_t *image; /* the first run of its batch */
    int32_t ox, oy;
} mcf_narrow_walk;

/* *x0: the current pixel; *x1: the next one (x0 again when `left`, the pixels from the current
 * one on, is 1); the walk then stands on the pixel after the pair, where there is one. */
static MCF_ALWAYS_INLINE void mcf_narrow_walk_pair(const mcf_conv2d_narrow_params *p, mcf_narrow_walk *wk,
                                                   int32_t left, const int8_t **x0, const int8_t **x1)
{
    int32_t lane;
    *x0 = wk->x;
    *x1 = wk->x;
    for (lane = 0; lane < 2 && lane + 1 < left; ++lane) {
        if (++wk->ox < p->cols) {
            wk->x += p->col_step;
        } else {
            wk->ox = 0;
            if (++wk->oy < p->rows) {
                wk->row += p->row_step;
            } else {
                wk->oy = 0;
                wk->image += p->batch_step;
                wk->row = wk->image;
            }
            wk->x = wk->row;
        }
        if (lane == 0) {
            *x1 = wk->x;
        }
    }
}

/* One output from a doubled sum and its constants q = {multiplier, round, e} (see the header); the
 * float32 copy: q = {half the scale's bits, mq, pq} and the output zero point `offset`. */
static MCF_ALWAYS_INLINE int8_t mcf_narrow_out(int32_t sum2, const uint32_t *q, int32_t offset, int32_t lo,
                                               int32_t hi, const int full)
{
#if MCF_REQUANT_F32 && MCF_REQUANT_F32_SOFT
    return mcf_clamp8(mcf_requant_f32_pre(sum2, (int32_t)q[1], (int32_t)q[2]) + offset, lo, hi, full);
#elif MCF_REQUANT_F32
    return mcf_clamp8(mcf_requant_f32(sum2, (int32_t)q[0]) + offset, lo, hi, full);
#else
    const int32_t t = mcf_smmulr(sum2, (int32_t)q[0]);
    (void)offset;
    return mcf_clamp8((t + (int32_t)q[1] + (t >> 31)) >> (int32_t)q[2], lo, hi, full);
#endif
}

/* acc + the four products of weight word w (byte j: weight of input j) with the inputs in xv. */
static inline int32_t mcf_narrow_mac4(uint32_t w, uint32_t xv, int32_t acc)
{
#if MCF_KERNELS_DSP
    acc = mcf_smlad(mcf_sxtb16(w), mcf_sxtb16(xv), acc);
    return mcf_smlad(mcf_sxtb16_ror8(w), mcf_sxtb16_ror8(xv), acc);
#else
    acc += (int8_t)(w & 0xFFu) * (int8_t)(xv & 0xFFu);
    acc += (int8_t)((w >> 8) & 0xFFu) * (int8_t)((xv >> 8) & 0xFFu);
    acc += (int8_t)((w >> 16) & 0xFFu) * (int8_t)((xv >> 16) & 0xFFu);
    return acc + (int8_t)(w >> 24) * (int8_t)(xv >> 24);
#endif
}

#if MCF_KERNELS_DSP && defined(__GNUC__) && defined(__OPTIMIZE__) && defined(__ARM_FEATURE_DSP) && \
    !defined(MCF_EMULATE_DSP)
#define MCF_NARROW_ASM 1
/* a += the products of one group's weight word w with the group's inputs (xa: bytes 0, 2 widened,
 * xv: bytes 1, 3), t a temporary. */
#define MCF_NARROW_MAC(a, w)                       \
    "sxtb16 %[t], %[" w "]\n\t"                    \
    "sxtb16 %[" w "], %[" w "], ror #8\n\t"        \
    "smlad %[" a "], %[t], %[xa], %[" a "]\n\t"    \
    "smlad %[" a "], %[" w "], %[xv], %[" a "]\n\t"
#define MCF_NARROW_X "ldr %[xv], [%[x]], #4\n\t" "sxtb16 %[xa], %[xv]\n\t" "sxtb16 %[xv], %[xv], ror #8\n\t"
#else
#define MCF_NARROW_ASM 0
#endif

/*
 * Channels c0 .. c0 + n - 1 (n = 4, 2 or 1) of one pixel: the block at w (n biases, groups of n
 * words, n output constants), the pixel's run at x. Returns the next block.
 */
static MCF_ALWAYS_INLINE const uint32_t *mcf_narrow_block(const int8_t *x, int32_t depth, const uint32_t *w,
                                                         const int32_t n, int8_t *out, int32_t offset, int32_t lo,
                                                         int32_t hi, const int full)
{
    const int8_t *x_end = x + (depth & ~3); /* whole groups; a partial last one at depth - 4 */
    int32_t a0 = (int32_t)w[0];
    int32_t a1 = n > 1 ? (int32_t)w[1] : 0;
    int32_t a2 = n > 2 ? (int32_t)w[2] : 0;
    int32_t a3 = n > 3 ? (int32_t)w[3] : 0;
    const uint32_t *q;
    w += n;
#if MCF_NARROW_ASM
    {
        uint32_t xv, xa, w0, w1, t;
        if (n == 4) { /* 23 instructions per 16 MACs */
            __asm__ volatile("1:\n\t" MCF_NARROW_X
                             "ldrd %[w0], %[w1], [%[w]], #8\n\t" MCF_NARROW_MAC("a0", "w0") MCF_NARROW_MAC("a1", "w1")
                             "ldrd %[w0], %[w1], [%[w]], #8\n\t" MCF_NARROW_MAC("a2", "w0") MCF_NARROW_MAC("a3", "w1")
                             "cmp %[x], %[end]\n\t"
                             "bne 1b\n\t"
                             : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(x), [w] "+r"(w),
                               [xv] "=&r"(xv), [xa] "=&r"(xa), [w0] "=&r"(w0), [w1] "=&r"(w1), [t] "=&r"(t)
                             : [end] "r"(x_end)
                             : "cc", "memory");
        } else if (n == 2) { /* 14 instructions per 8 MACs */
            __asm__ volatile("1:\n\t" MCF_NARROW_X
                             "ldrd %[w0], %[w1], [%[w]], #8\n\t" MCF_NARROW_MAC("a0", "w0") MCF_NARROW_MAC("a1", "w1")
                             "cmp %[x], %[end]\n\t"
                             "bne 1b\n\t"
                             : [a0] "+r"(a0), [a1] "+r"(a1), [x] "+r"(x), [w] "+r"(w), [xv] "=&r"(xv),
                               [xa] "=&r"(xa), [w0] "=&r"(w0), [w1] "=&r"(w1), [t] "=&r"(t)
                             : [end] "r"(x_end)
                             : "cc", "memory");
        } else { /* one channel: two groups per pass where there are two, 17 instructions per 8 MACs */
            if (((x_end - x) & 4) != 0) {
                a0 = mcf_narrow_mac4(w[0], mcf_read_u32(x), a0);
                x += 4;
                w += 1;
            }
            if (x != x_end) {
                __asm__ volatile("1:\n\t" MCF_NARROW_X
                                 "ldrd %[w0], %[w1], [%[w]], #8\n\t" MCF_NARROW_MAC("a0", "w0")
                                 MCF_NARROW_X MCF_NARROW_MAC("a0", "w1")
                                 "cmp %[x], %[end]\n\t"
                                 "bne 1b\n\t"
                                 : [a0] "+r"(a0), [x] "+r"(x), [w] "+r"(w), [xv] "=&r"(xv), [xa] "=&r"(xa),
                                   [w0] "=&r"(w0), [w1] "=&r"(w1), [t] "=&r"(t)
                                 : [end] "r"(x_end)
                                 : "cc", "memory");
            }
        }
    }
#elif MCF_KERNELS_RV32 /* bytes loaded one by one (LB): no shifts to take words apart */
    for (; x != x_end; x += 4, w += n) {
        const int8_t *wb = (const int8_t *)(const void *)w;
        const int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
        a0 += wb[0] * x0 + wb[1] * x1 + wb[2] * x2 + wb[3] * x3;
        if (n > 1) {
            a1 += wb[4] * x0 + wb[5] * x1 + wb[6] * x2 + wb[7] * x3;
        }
        if (n > 2) {
            a2 += wb[8] * x0 + wb[9] * x1 + wb[10] * x2 + wb[11] * x3;
            a3 += wb[12] * x0 + wb[13] * x1 + wb[14] * x2 + wb[15] * x3;
        }
    }
#else
    for (; x != x_end; x += 4, w += n) {
        const uint32_t xv = mcf_read_u32(x);
        a0 = mcf_narrow_mac4(w[0], xv, a0);
        if (n > 1) {
            a1 = mcf_narrow_mac4(w[1], xv, a1);
        }
        if (n > 2) {
            a2 = mcf_narrow_mac4(w[2], xv, a2);
            a3 = mcf_narrow_mac4(w[3], xv, a3);
        }
    }
#endif
    if (depth & 3) { /* the last group, read at depth - 4 (its bytes read before have weight 0) */
        const uint32_t xv = mcf_read_u32(x_end + (depth & 3) - 4);
        a0 = mcf_narrow_mac4(w[0], xv, a0);
        if (n > 1) {
            a1 = mcf_narrow_mac4(w[1], xv, a1);
        }
        if (n > 2) {
            a2 = mcf_narrow_mac4(w[2], xv, a2);
            a3 = mcf_narrow_mac4(w[3], xv, a3);
        }
        w += n;
    }
    q = w;
    out[0] = mcf_narrow_out(a0 + a0, q, offset, lo, hi, full);
    if (n > 1) {
        out[1] = mcf_narrow_out(a1 + a1, q + 3, offset, lo, hi, full);
    }
    if (n > 2) {
        out[2] = mcf_narrow_out(a2 + a2, q + 6, offset, lo, hi, full);
        out[3] = mcf_narrow_out(a3 + a3, q + 9, offset, lo, hi, full);
    }
    return w + 3 * n;
}

/* Every output channel of the pixel whose run starts at x. */
static MCF_ALWAYS_INLINE void mcf_narrow_pixel(const int8_t *x, int32_t depth, int32_t oc, const uint32_t *w,
                                               int8_t *out, int32_t offset, int32_t lo, int32_t hi, const int full)
{
    int32_t c = 0;
    for (; c + 4 <= oc; c += 4) {
        w = mcf_narrow_block(x, depth, w, 4, out + c, offset, lo, hi, full);
    }
    if (oc - c >= 2) {
        w = mcf_narrow_block(x, depth, w, 2, out + c, offset, lo, hi, full);
        c += 2;
    }
    if (c < oc) {
        (void)mcf_narrow_block(x, depth, w, 1, out + c, offset, lo, hi, full);
    }
}

#if MCF_KERNELS_RV32 && !MCF_REQUANT_F32 /* (the float32 copy: one pixel at a time) */
/*
 * RV32 (mcf_rv32.h): the blocks of two pixels at once, x and y, each input byte of both loaded once
 * (LB) for the block's channels and each weight byte once for both pixels: per input 2 + n loads,
 * 2n MUL + ADD. Returns the next block.
 */
static MCF_ALWAYS_INLINE const uint32_t *mcf_narrow_block2_rv32(const int8_t *x, const int8_t *y, int32_t depth,
                                                               const uint32_t *w, const int32_t n, int8_t *ox,
                                                               int8_t *oy, int32_t lo, int32_t hi)
{
    int32_t a0 = (int32_t)w[0], a1 = n > 1 ? (int32_t)w[1] : 0, a2 = n > 2 ? (int32_t)w[2] : 0;
    int32_t a3 = n > 3 ? (int32_t)w[3] : 0;
    int32_t b0 = a0, b1 = a1, b2 = a2, b3 = a3;
    const int8_t *wb = (const int8_t *)(const void *)(w + n);
    const int32_t groups = (depth + 3) >> 2; /* a partial last group read at depth - 4 */
    int32_t g;
    for (g = 0; g < groups; ++g, wb += 4 * n) {
        const int32_t at = g + 1 < groups || (depth & 3) == 0 ? 4 * g : depth - 4;
        const int8_t *const xg = x + at, *const yg = y + at;
#define MCF_NARROW_RV32_INPUT(j)           \
    {                                      \
        const int32_t xv = xg[j], yv = yg[j]; \
        int32_t t = wb[j];                 \
        a0 += t * xv;                      \
        b0 += t * yv;                      \
        if (n > 1) {                       \
            t = wb[4 + (j)];               \
            a1 += t * xv;                  \
            b1 += t * yv;                  \
        }                                  \
        if (n > 2) {                       \
            t = wb[8 + (j)];               \
            a2 += t * xv;                  \
            b2 += t * yv;                  \
            t = wb[12 + (j)];              \
            a3 += t * xv;                  \
            b3 += t * yv;                  \
        }                                  \
    }
        MCF_NARROW_RV32_INPUT(0)
        MCF_NARROW_RV32_INPUT(1)
        MCF_NARROW_RV32_INPUT(2)
        MCF_NARROW_RV32_INPUT(3)
#undef MCF_NARROW_RV32_INPUT
    }
    {
        const uint32_t *q = (const uint32_t *)(const void *)wb;
        /* the constants read before the first store (an int8 store may alias the words) */
        const int32_t m0 = (int32_t)q[0], r0 = (int32_t)q[1], e0 = (int32_t)q[2];
        const int32_t m1 = n > 1 ? (int32_t)q[3] : 0, r1 = n > 1 ? (int32_t)q[4] : 0, e1 = n > 1 ? (int32_t)q[5] : 0;
        const int32_t m2 = n > 2 ? (int32_t)q[6] : 0, r2 = n > 2 ? (int32_t)q[7] : 0, e2 = n > 2 ? (int32_t)q[8] : 0;
        const int32_t m3 = n > 2 ? (int32_t)q[9] : 0, r3 = n > 2 ? (int32_t)q[10] : 0, e3 = n > 2 ? (int32_t)q[11] : 0;
        ox[0] = mcf_rv32_c1_out(a0 + a0, m0, r0, e0, lo, hi);
        oy[0] = mcf_rv32_c1_out(b0 + b0, m0, r0, e0, lo, hi);
        if (n > 1) {
            ox[1] = mcf_rv32_c1_out(a1 + a1, m1, r1, e1, lo, hi);
            oy[1] = mcf_rv32_c1_out(b1 + b1, m1, r1, e1, lo, hi);
        }
        if (n > 2) {
            ox[2] = mcf_rv32_c1_out(a2 + a2, m2, r2, e2, lo, hi);
            oy[2] = mcf_rv32_c1_out(b2 + b2, m2, r2, e2, lo, hi);
            ox[3] = mcf_rv32_c1_out(a3 + a3, m3, r3, e3, lo, hi);
            oy[3] = mcf_rv32_c1_out(b3 + b3, m3, r3, e3, lo, hi);
        }
        return q + 3 * n;
    }
}

/* Every output pixel in pairs (raster order; an odd last pixel on the one-pixel blocks). */
static MCF_ALWAYS_INLINE void mcf_narrow_pairs_rv32(const mcf_conv2d_narrow_params *p, const int8_t *input,
                                                   const uint32_t *w, int8_t *output, const int full)
{
    const int32_t depth = p->depth, oc = p->output_c;
    const int32_t lo = full ? -128 : p->act_min, hi = full ? 127 : p->act_max;
    const int32_t pixels = p->batches * p->rows * p->cols;
    mcf_narrow_walk walk = {input, input, input, 0, 0};
    int32_t i;
    for (i = 0; i < pixels; i += 2, output += 2 * oc) {
        const int8_t *x0, *x1;
        mcf_narrow_walk_pair(p, &walk, pixels - i, &x0, &x1);
        if (i + 1 < pixels) {
            const uint32_t *wp = w;
            int32_t c = 0;
            for (; c + 4 <= oc; c += 4) {
                wp = mcf_narrow_block2_rv32(x0, x1, depth, wp, 4, output + c, output + oc + c, lo, hi);
            }
            if (oc - c >= 2) {
                wp = mcf_narrow_block2_rv32(x0, x1, depth, wp, 2, output + c, output + oc + c, lo, hi);
                c += 2;
            }
            if (c < oc) {
                (void)mcf_narrow_block2_rv32(x0, x1, depth, wp, 1, output + c, output + oc + c, lo, hi);
            }
        } else {
            mcf_narrow_pixel(x0, depth, oc, w, output, p->output_offset, p->act_min, p->act_max, full);
        }
    }
}
#endif

static MCF_ALWAYS_INLINE void mcf_conv2d_narrow_fast(const mcf_conv2d_narrow_params *p, const int8_t *input,
                                                     const uint32_t *w, int8_t *output, const int full)
{
    const int32_t depth = p->depth, oc = p->output_c;
    const int32_t lo = p->act_min, hi = p->act_max;
    int32_t b, oy, ox;
    if (depth < 4) {
        return; /* not reached: the compiler chooses this path for runs of 4 bytes or more */
    }
#if MCF_KERNELS_RV32 && !MCF_REQUANT_F32
    if (p->batches * p->rows * p->cols > 1) {
        mcf_narrow_pairs_rv32(p, input, w, output, full);
        return;
    }
#endif
    for (b = 0; b < p->batches; ++b) {
        for (oy = 0; oy < p->rows; ++oy) {
            const int8_t *x = input + b * p->batch_step + oy * p->row_step;
            for (ox = 0; ox < p->cols; ++ox, x += p->col_step, output += oc) {
                mcf_narrow_pixel(x, depth, oc, w, output, p->output_offset, lo, hi, full);
            }
        }
    }
}

static MCF_NOINLINE void mcf_conv2d_narrow_fast_full(const mcf_conv2d_narrow_params *p, const int8_t *input,
                                                     const int8_t *filter, int8_t *output)
{
    mcf_conv2d_narrow_fast(p, input, (const uint32_t *)(const void *)filter, output, 1);
}

static MCF_NOINLINE void mcf_conv2d_narrow_fast_clamp(const mcf_conv2d_narrow_params *p, const int8_t *input,
                                                      const int8_t *filter, int8_t *output)
{
    mcf_conv2d_narrow_fast(p, input, (const uint32_t *)(const void *)filter, output, 0);
}

/*
 * Depth 8 (a 1x1 filter on 8 channels): the pixel's eight inputs widened once into four words,
 * then per output channel its eight words (see the header; ten when clamped: act_min, act_max
 * follow): four SMLAD on doubled weights from the doubled bias, the output stage. 16 instructions
 * per channel with the whole int8 range, 22 clamped.
 */
static inline uint32_t mcf_narrow_widen(uint32_t v, int odd)
{
#if MCF_KERNELS_DSP
    return odd ? mcf_sxtb16_ror8(v) : mcf_sxtb16(v);
#else
    const int32_t lo = (int8_t)((v >> (odd ? 8 : 0)) & 0xFFu), hi = (int8_t)((v >> (odd ? 24 : 16)) & 0xFFu);
    return ((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16);
#endif
}

static inline int32_t mcf_narrow_dot16(uint32_t w, uint32_t x, int32_t acc)
{
#if MCF_KERNELS_DSP
    return mcf_smlad(w, x, acc);
#else
    return acc + (int16_t)(w & 0xFFFFu) * (int16_t)(x & 0xFFFFu) + (int16_t)(w >> 16) * (int16_t)(x >> 16);
#endif
}

static MCF_ALWAYS_INLINE void mcf_conv2d_narrow_k8(const mcf_conv2d_narrow_params *p, const int8_t *input,
                                                   const uint32_t *w, int8_t *output, const int full)
{
    const int32_t oc = p->output_c;
    const int32_t lo = p->act_min, hi = p->act_max;
#if MCF_REQUANT_F32 /* a ninth word: mcf_requant_f32_pre's constants in words 7 and 8 */
    const int32_t words = full ? 9 : 11;
#else
    const int32_t words = full ? 8 : 10; /* per output channel: act_min, act_max follow when clamped */
#endif
    const uint32_t *w_end = w + words * oc;
    int32_t b, oy, ox;
    if (p->depth != 8 || oc < 1) {
        return; /* not reached: the compiler chooses this path for depth 8 only */
    }
    for (b = 0; b < p->batches; ++b) {
        for (oy = 0; oy < p->rows; ++oy) {
            const int8_t *xp = input + b * p->batch_step + oy * p->row_step;
            for (ox = 0; ox < p->cols; ++ox, xp += p->col_step, output += oc) {
                const uint32_t v0 = mcf_read_u32(xp), v1 = mcf_read_u32(xp + 4);
                const uint32_t x0 = mcf_narrow_widen(v0, 0), x1 = mcf_narrow_widen(v0, 1);
                const uint32_t x2 = mcf_narrow_widen(v1, 0), x3 = mcf_narrow_widen(v1, 1);
                const uint32_t *wp = w;
                int8_t *op = output;
#if MCF_NARROW_ASM && !MCF_REQUANT_F32 /* (the TFLite copy's layout: eight words a channel) */
                if (full) {
                    int32_t acc, m;
                    uint32_t w0, w1;
                    __asm__ volatile("1:\n\t"
                                     "ldrd %[acc], %[m], [%[wp]], #8\n\t"
                                     "ldrd %[w0], %[w1], [%[wp]], #8\n\t"
                                     "smlad %[acc], %[w0], %[x0], %[acc]\n\t"
                                     "smlad %[acc], %[w1], %[x1], %[acc]\n\t"
                                     "ldrd %[w0], %[w1], [%[wp]], #8\n\t"
                                     "smlad %[acc], %[w0], %[x2], %[acc]\n\t"
                                     "smlad %[acc], %[w1], %[x3], %[acc]\n\t"
                                     "ldrd %[w0], %[w1], [%[wp]], #8\n\t"
                                     "smmulr %[acc], %[acc], %[m]\n\t"
                                     "add %[w0], %[w0], %[acc]\n\t"
                                     "add %[w0], %[w0], %[acc], asr #31\n\t"
                                     "asr %[w0], %[w0], %[w1]\n\t"
                                     "ssat %[w0], #8, %[w0]\n\t"
                                     "strb %[w0], [%[op]], #1\n\t"
                                     "cmp %[wp], %[end]\n\t"
                                     "bne 1b\n\t"
                                     : [wp] "+r"(wp), [op] "+r"(op), [acc] "=&r"(acc), [m] "=&r"(m), [w0] "=&r"(w0),
                                       [w1] "=&r"(w1)
                                     : [x0] "r"(x0), [x1] "r"(x1), [x2] "r"(x2), [x3] "r"(x3), [end] "r"(w_end)
                                     : "cc", "memory");
                    continue;
                } else {
                    int32_t acc, m;
                    uint32_t w0, w1;
                    __asm__ volatile("1:\n\t"
                                     "ldrd %[acc], %[m], [%[wp]], #8\n\t"
                                     "ldrd %[w0], %[w1], [%[wp]], #8\n\t"
                                     "smlad %[acc], %[w0], %[x0], %[acc]\n\t"
                                     "smlad %[acc], %[w1], %[x1], %[acc]\n\t"
                                     "ldrd %[w0], %[w1], [%[wp]], #8\n\t"
                                     "smlad %[acc], %[w0], %[x2], %[acc]\n\t"
                                     "smlad %[acc], %[w1], %[x3], %[acc]\n\t"
                                     "ldrd %[w0], %[w1], [%[wp]], #8\n\t"
                                     "smmulr %[acc], %[acc], %[m]\n\t"
                                     "add %[w0], %[w0], %[acc]\n\t"
                                     "add %[w0], %[w0], %[acc], asr #31\n\t"
                                     "asr %[w0], %[w0], %[w1]\n\t"
                                     "ldrd %[m], %[w1], [%[wp]], #8\n\t" /* act_min, act_max */
                                     "cmp %[w0], %[m]\n\t"
                                     "it lt\n\t"
                                     "movlt %[w0], %[m]\n\t"
                                     "cmp %[w0], %[w1]\n\t"
                                     "it gt\n\t"
                                     "movgt %[w0], %[w1]\n\t"
                                     "strb %[w0], [%[op]], #1\n\t"
                                     "cmp %[wp], %[end]\n\t"
                                     "bne 1b\n\t"
                                     : [wp] "+r"(wp), [op] "+r"(op), [acc] "=&r"(acc), [m] "=&r"(m), [w0] "=&r"(w0),
                                       [w1] "=&r"(w1)
                                     : [x0] "r"(x0), [x1] "r"(x1), [x2] "r"(x2), [x3] "r"(x3), [end] "r"(w_end)
                                     : "cc", "memory");
                    continue;
                }
#endif
                for (; wp != w_end; wp += words) {
                    int32_t acc = (int32_t)wp[0];
                    acc = mcf_narrow_dot16(wp[2], x0, acc);
                    acc = mcf_narrow_dot16(wp[3], x1, acc);
                    acc = mcf_narrow_dot16(wp[4], x2, acc);
                    acc = mcf_narrow_dot16(wp[5], x3, acc);
                    {
#if MCF_REQUANT_F32 && MCF_REQUANT_F32_SOFT /* {mq, pq} of the doubled sum, then output_offset */
                        *op++ = mcf_clamp8(mcf_requant_f32_pre(acc, (int32_t)wp[7], (int32_t)wp[8]) + (int32_t)wp[6], lo,
                                           hi, full);
#elif MCF_REQUANT_F32 /* {half the scale's bits, output_offset} for the doubled sum */
                        *op++ = mcf_clamp8(mcf_requant_f32(acc, (int32_t)wp[1]) + (int32_t)wp[6], lo, hi, full);
#else
                        const int32_t t = mcf_smmulr(acc, (int32_t)wp[1]);
                        *op++ = mcf_clamp8((t + (int32_t)wp[6] + (t >> 31)) >> (int32_t)wp[7], lo, hi, full);
#endif
                    }
                }
            }
        }
    }
}

#if MCF_KERNELS_RV32
/*
 * Depth 8 on RV32 (mcf_rv32.h): two pixels per pass, their sixteen inputs loaded once (LB) and kept
 * in registers; per output channel its eight doubled weights (LH, from the same words the DSP path
 * reads as pairs), sixteen MUL + ADD from the doubled bias, two outputs through the short stage.
 * An odd last pixel runs as a pair with itself (its outputs written twice, the same values).
 */
static MCF_ALWAYS_INLINE void mcf_conv2d_narrow_k8_rv32(const mcf_conv2d_narrow_params *p, const int8_t *input,
                                                        const uint32_t *w, int8_t *output, const int full)
{
    const int32_t oc = p->output_c;
    const int32_t lo = full ? -128 : p->act_min, hi = full ? 127 : p->act_max;
    const int32_t words = full ? 8 : 10; /* per output channel: act_min, act_max follow when clamped */
    const uint32_t *const w_end = w + words * oc;
    const int32_t pixels = p->batches * p->rows * p->cols;
    const int8_t *px[2];
    int32_t b = 0, oy = 0, ox = 0, i;
    if (p->depth != 8 || oc < 1) {
        return; /* not reached: the compiler chooses this path for depth 8 only */
    }
    for (i = 0; i < pixels; i += 2) {
        int32_t lane;
        for (lane = 0; lane < 2; ++lane) {
            if (i + lane >= pixels) {
                px[1] = px[0];
                break;
            }
            px[lane] = input + b * p->batch_step + oy * p->row_step + ox * p->col_step;
            if (++ox == p->cols) {
                ox = 0;
                if (++oy == p->rows) {
                    oy = 0;
                    ++b;
                }
            }
        }
        {
            const int8_t *const x = px[0], *const y = px[1];
            const int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3], x4 = x[4], x5 = x[5], x6 = x[6], x7 = x[7];
            const int32_t y0 = y[0], y1 = y[1], y2 = y[2], y3 = y[3], y4 = y[4], y5 = y[5], y6 = y[6], y7 = y[7];
            int8_t *o0 = output + i * oc;
            int8_t *o1 = i + 1 < pixels ? o0 + oc : o0;
            const uint32_t *wp;
            for (wp = w; wp != w_end; wp += words, ++o0, ++o1) {
                /* halfwords 4..11: w0, w2, w1, w3, w4, w6, w5, w7 */
                const int16_t *h = (const int16_t *)(const void *)wp;
                int32_t a = (int32_t)wp[0], c = a, t;
                t = h[4];
                a += t * x0;
                c += t * y0;
                t = h[6];
                a += t * x1;
                c += t * y1;
                t = h[5];
                a += t * x2;
                c += t * y2;
                t = h[7];
                a += t * x3;
                c += t * y3;
                t = h[8];
                a += t * x4;
                c += t * y4;
                t = h[10];
                a += t * x5;
                c += t * y5;
                t = h[9];
                a += t * x6;
                c += t * y6;
                t = h[11];
                a += t * x7;
                c += t * y7;
                {
                    /* read before the first store: an int8 store may alias the words */
#if MCF_REQUANT_F32 /* {half the scale's bits, output_offset} for the doubled sums */
                    const int32_t m = (int32_t)wp[1], offset = (int32_t)wp[6];
                    *o0 = (int8_t)mcf_clamp(mcf_requant_f32(a, m) + offset, lo, hi);
                    *o1 = (int8_t)mcf_clamp(mcf_requant_f32(c, m) + offset, lo, hi);
#else
                    const int32_t m = (int32_t)wp[1], round = (int32_t)wp[6], e = (int32_t)wp[7];
                    *o0 = mcf_rv32_c1_out(a, m, round, e, lo, hi);
                    *o1 = mcf_rv32_c1_out(c, m, round, e, lo, hi);
#endif
                }
            }
        }
    }
}
#endif

static MCF_NOINLINE void mcf_conv2d_narrow_k8_full_impl(const mcf_conv2d_narrow_params *p, const int8_t *input,
                                                        const int8_t *filter, int8_t *output)
{
#if MCF_KERNELS_RV32
    mcf_conv2d_narrow_k8_rv32(p, input, (const uint32_t *)(const void *)filter, output, 1);
#else
    mcf_conv2d_narrow_k8(p, input, (const uint32_t *)(const void *)filter, output, 1);
#endif
}

static MCF_NOINLINE void mcf_conv2d_narrow_k8_clamp_impl(const mcf_conv2d_narrow_params *p, const int8_t *input,
                                                         const int8_t *filter, int8_t *output)
{
#if MCF_KERNELS_RV32
    mcf_conv2d_narrow_k8_rv32(p, input, (const uint32_t *)(const void *)filter, output, 0);
#else
    mcf_conv2d_narrow_k8(p, input, (const uint32_t *)(const void *)filter, output, 0);
#endif
}

#if !MCF_REQUANT_F32
/*
 * Depth 4 (a 1x1 filter on 4 channels): two pixels per pass, both pixels' four inputs widened once
 * into two words each; per output channel its six words (eight clamped, see the header): two SMLAD
 * per pixel on the doubled weights from the doubled bias, then t = SMMULR(sum, m) + round + [sum < 0]
 * (the sum's sign stands for t's: they differ only where t is 0, and there (round - 1) >> e and
 * round >> e agree, e >= 1), >> e, saturated or clamped. 20 instructions per channel of a pixel pair
 * with the whole int8 range, 27 clamped (both pixels clamped at once as halfwords).
 */
#if MCF_NARROW_ASM
#define MCF_NARROW_K4_LOOP                                                                        \
    "1:\n\t"                                                                                      \
    "ldrd %[a0], %[m], [%[w]], #8\n\t"                                                            \
    "ldrd %[w0], %[w1], [%[w]], #8\n\t"                                                           \
    "smlad %[a1], %[w0], %[xa1], %[a0]\n\t"                                                       \
    "smlad %[a0], %[w0], %[xa0], %[a0]\n\t"                                                       \
    "smlad %[a1], %[w1], %[xb1], %[a1]\n\t"                                                       \
    "smlad %[a0], %[w1], %[xb0], %[a0]\n\t"                                                       \
    "ldr %[w0], [%[w]], #4\n\t"                                                                   \
    "add %[w1], %[w0], %[a0], asr #31\n\t"                                                        \
    "smmlar %[w1], %[a0], %[m], %[w1]\n\t"                                                        \
    "add %[w0], %[w0], %[a1], asr #31\n\t"                                                        \
    "smmlar %[a1], %[a1], %[m], %[w0]\n\t"                                                        \
    "ldr %[m], [%[w]], #4\n\t"                                                                    \
    "asr %[w1], %[w1], %[m]\n\t"                                                                  \
    "asr %[a1], %[a1], %[m]\n\t"                                                                  \
    "ssat %[w1], #8, %[w1]\n\t"                                                                   \
    "ssat %[a1], #8, %[a1]\n\t"                                                                   \
    ".if %c[full] == 0\n\t"                                                                       \
    "pkhbt %[w1], %[w1], %[a1], lsl #16\n\t"                                                      \
    "ldrd %[w0], %[a0], [%[w]], #8\n\t" /* act_min, act_max in both halfwords */                  \
    "ssub16 %[a1], %[w1], %[w0]\n\t"                                                              \
    "sel %[w1], %[w1], %[w0]\n\t"                                                                 \
    "ssub16 %[a1], %[a0], %[w1]\n\t"                                                              \
    "sel %[w1], %[w1], %[a0]\n\t"                                                                 \
    "lsr %[a1], %[w1], #16\n\t"                                                                   \
    ".endif\n\t"                                                                                  \
    "strb %[a1], [%[o], %[step]]\n\t"                                                             \
    "strb %[w1], [%[o]], #1\n\t"                                                                  \
    "tst %[m], #256\n\t"                                                                          \
    "beq 1b\n\t"
#endif

/* Every output channel of two pixels (inputs widened: xa* bytes 0, 2, xb* bytes 1, 3): pixel 0's at
 * o, pixel 1's at o + step (step 0: an odd last pixel paired with itself). */
static MCF_ALWAYS_INLINE void mcf_narrow_k4_pair(uint32_t xa0, uint32_t xb0, uint32_t xa1, uint32_t xb1,
                                                 const uint32_t *w, int8_t *o, int32_t step, int32_t lo,
                                                 int32_t hi, const int full)
{
#if MCF_NARROW_ASM
    int32_t a0, a1, m;
    uint32_t w0, w1;
    (void)lo;
    (void)hi;
    __asm__ volatile(MCF_NARROW_K4_LOOP
                     : [w] "+r"(w), [o] "+r"(o), [a0] "=&r"(a0), [a1] "=&r"(a1), [m] "=&r"(m), [w0] "=&r"(w0),
                       [w1] "=&r"(w1)
                     : [xa0] "r"(xa0), [xb0] "r"(xb0), [xa1] "r"(xa1), [xb1] "r"(xb1), [step] "r"(step),
                       [full] "i"(full)
                     : "cc", "memory");
#else
    const int32_t words = full ? 6 : 8;
    for (;; w += words) {
        const int32_t b2 = (int32_t)w[0], m = (int32_t)w[1], round = (int32_t)w[4];
        const uint32_t e = w[5];
        int32_t a = mcf_narrow_dot16(w[3], xb0, mcf_narrow_dot16(w[2], xa0, b2));
        int32_t c = mcf_narrow_dot16(w[3], xb1, mcf_narrow_dot16(w[2], xa1, b2));
        a = (mcf_smmulr(a, m) + round + (a >> 31)) >> (int32_t)(e & 31u);
        c = (mcf_smmulr(c, m) + round + (c >> 31)) >> (int32_t)(e & 31u);
        o[step] = mcf_clamp8(c, lo, hi, full);
        *o++ = mcf_clamp8(a, lo, hi, full);
        if ((e & 0x100u) != 0) {
            break;
        }
    }
#endif
}

#if MCF_KERNELS_RV32
/* RV32 (mcf_rv32.h): the pair's eight inputs loaded once (LB); per output channel its four doubled
 * weights (LH, from the words the DSP path reads as pairs), eight MUL + ADD from the doubled bias. */
static MCF_ALWAYS_INLINE void mcf_narrow_k4_pair_rv32(const int8_t *x, const int8_t *y, const uint32_t *w,
                                                      int8_t *o, int32_t step, int32_t lo, int32_t hi,
                                                      const int full)
{
    const int32_t words = full ? 6 : 8;
    const int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
    const int32_t y0 = y[0], y1 = y[1], y2 = y[2], y3 = y[3];
    for (;; w += words, ++o) {
        /* halfwords 4..7: w0, w2, w1, w3 */
        const int16_t *h = (const int16_t *)(const void *)w;
        const int32_t m = (int32_t)w[1], round = (int32_t)w[4];
        const uint32_t e = w[5];
        int32_t a = (int32_t)w[0], c = a, t;
        t = h[4];
        a += t * x0;
        c += t * y0;
        t = h[6];
        a += t * x1;
        c += t * y1;
        t = h[5];
        a += t * x2;
        c += t * y2;
        t = h[7];
        a += t * x3;
        c += t * y3;
        o[step] = mcf_rv32_c1_out(c, m, round, (int32_t)(e & 31u), lo, hi);
        o[0] = mcf_rv32_c1_out(a, m, round, (int32_t)(e & 31u), lo, hi);
        if ((e & 0x100u) != 0) {
            break;
        }
    }
}
#define MCF_NARROW_K4_PAIR(x, y, w, o, step, lo, hi, full) mcf_narrow_k4_pair_rv32(x, y, w, o, step, lo, hi, full)
#else
#define MCF_NARROW_K4_PAIR(x, y, w, o, step, lo, hi, full)                                                       \
    do {                                                                                                         \
        const uint32_t v0_ = mcf_read_u32(x), v1_ = mcf_read_u32(y);                                           \
        mcf_narrow_k4_pair(mcf_narrow_widen(v0_, 0), mcf_narrow_widen(v0_, 1), mcf_narrow_widen(v1_, 0),       \
                           mcf_narrow_widen(v1_, 1), w, o, step, lo, hi, full);                                \
    } while (0)
#endif

static MCF_ALWAYS_INLINE void mcf_conv2d_narrow_k4(const mcf_conv2d_narrow_params *p, const int8_t *input,
                                                   const uint32_t *w, int8_t *output, const int full)
{
    const int32_t oc = p->output_c;
    const int32_t lo = full ? -128 : p->act_min, hi = full ? 127 : p->act_max;
    const int32_t pixels = p->batches * p->rows * p->cols;
    /* the pixels' runs one after the other (stride 1): no walk over rows and batches */
    const int dense = p->col_step == 4 && p->row_step == 4 * p->cols && p->batch_step == p->rows * p->row_step;
    mcf_narrow_walk walk = {input, input, input, 0, 0};
    int32_t i;
    if (p->depth != 4 || oc < 1 || pixels < 1) {
        return; /* not reached: the compiler chooses this path for depth 4 only */
    }
    if (dense) {
        const int8_t *const x_last = input + 4 * (pixels - 1);
        const int8_t *x = input;
        for (; x < x_last; x += 8, output += 2 * oc) {
            MCF_NARROW_K4_PAIR(x, x + 4, w, output, oc, lo, hi, full);
        }
        if (x == x_last) { /* an odd last pixel, paired with itself */
            MCF_NARROW_K4_PAIR(x, x, w, output, 0, lo, hi, full);
        }
        return;
    }
    for (i = 0; i < pixels; i += 2, output += 2 * oc) {
        const int8_t *x0, *x1;
        mcf_narrow_walk_pair(p, &walk, pixels - i, &x0, &x1);
        MCF_NARROW_K4_PAIR(x0, x1, w, output, i + 1 < pixels ? oc : 0, lo, hi, full);
    }
}

static MCF_NOINLINE void mcf_conv2d_narrow_k4_full_impl(const mcf_conv2d_narrow_params *p, const int8_t *input,
                                                        const int8_t *filter, int8_t *output)
{
    mcf_conv2d_narrow_k4(p, input, (const uint32_t *)(const void *)filter, output, 1);
}

static MCF_NOINLINE void mcf_conv2d_narrow_k4_clamp_impl(const mcf_conv2d_narrow_params *p, const int8_t *input,
                                                         const int8_t *filter, int8_t *output)
{
    mcf_conv2d_narrow_k4(p, input, (const uint32_t *)(const void *)filter, output, 0);
}
#endif /* !MCF_REQUANT_F32 */
#endif /* MCF_KERNELS_FAST */

/* An entry point: the fast loop `impl`, or the reference loop in portable builds. */
#if MCF_KERNELS_FAST
#define MCF_NARROW_ENTRY(name, impl)                                                                         \
    void name(const mcf_conv2d_narrow_params *p, const int8_t *input, const int8_t *filter, int8_t *output)  \
    {                                                                                                        \
        impl(p, input, filter, output);                                                                      \
    }
#else
#define MCF_NARROW_ENTRY(name, impl)                                                                         \
    void name(const mcf_conv2d_narrow_params *p, const int8_t *input, const int8_t *filter, int8_t *output)  \
    {                                                                                                        \
        mcf_conv2d_narrow_reference(p, input, filter, output);                                               \
    }
#endif

MCF_NARROW_ENTRY(mcf_conv2d_s8_narrow_full, mcf_conv2d_narrow_fast_full)

MCF_NARROW_ENTRY(mcf_conv2d_s8_narrow_clamp, mcf_conv2d_narrow_fast_clamp)

MCF_NARROW_ENTRY(mcf_conv2d_s8_narrow_k8_full, mcf_conv2d_narrow_k8_full_impl)

MCF_NARROW_ENTRY(mcf_conv2d_s8_narrow_k8_clamp, mcf_conv2d_narrow_k8_clamp_impl)

#if !MCF_REQUANT_F32
MCF_NARROW_ENTRY(mcf_conv2d_s8_narrow_k4_full, mcf_conv2d_narrow_k4_full_impl)

MCF_NARROW_ENTRY(mcf_conv2d_s8_narrow_k4_clamp, mcf_conv2d_narrow_k4_clamp_impl)
#endif /* !MCF_REQUANT_F32 */
