/* conv2d_s8_first.c - int8 CONV_2D on 1 to 3 input channels (see conv2d_s8_first.h). */
#include "conv2d_s8_first.h"

#include "mcf_common.h"
#include "mcf_dsp.h"
#include "mcf_rv32.h"

#if MCF_KERNELS_FAST

#if !MCF_KERNELS_RV32
/* The packed halfword operations of the path: the DSP instructions (real or emulated, mcf_dsp.h),
 * or the same arithmetic in plain C on cores without them. */
#if MCF_KERNELS_DSP
#define MCF_FIRST_SXTAB16(a, x) mcf_sxtab16((a), (x))
#define MCF_FIRST_SXTAB16_ROR8(a, x) mcf_sxtab16_ror8((a), (x))
#define MCF_FIRST_PKHBT(a, b) mcf_pkhbt((a), (b))
#define MCF_FIRST_SMLAD(a, b, acc) mcf_smlad((a), (b), (acc))
#else
/* (lo(a) + byte 0 of x, hi(a) + byte 2 of x) as two halfwords: SXTAB16 */
static inline uint32_t mcf_first_sxtab16(uint32_t a, uint32_t x)
{
    const uint32_t lo = (a + (uint32_t)(int32_t)(int8_t)(x & 0xFFu)) & 0xFFFFu;
    const uint32_t hi = (a >> 16) + (uint32_t)(int32_t)(int8_t)((x >> 16) & 0xFFu);
    return lo | (hi << 16);
}
#define MCF_FIRST_SXTAB16(a, x) mcf_first_sxtab16((a), (x))
#define MCF_FIRST_SXTAB16_ROR8(a, x) mcf_first_sxtab16((a), (x) >> 8)
#define MCF_FIRST_PKHBT(a, b) (((a) & 0xFFFFu) | ((b) << 16))
static inline int32_t mcf_first_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    const int32_t lo = (int32_t)(int16_t)(a & 0xFFFFu) * (int32_t)(int16_t)(b & 0xFFFFu);
    const int32_t hi = (int32_t)(int16_t)(a >> 16) * (int32_t)(int16_t)(b >> 16);
    return (int32_t)((uint32_t)acc + (uint32_t)lo + (uint32_t)hi);
}
#define MCF_FIRST_SMLAD(a, b, acc) mcf_first_smlad((a), (b), (acc))
#endif

/*
 * One pixel's column (lane 0 or 1 of a pixel pair: word j of the pixel lies at cols[4 * (j / 2) +
 * 2 * lane + j % 2]) from its window: filter_h runs of row_bytes bytes, `step` bytes apart, each
 * readable up to the next whole word. Full words first (every row), then the bytes left over in
 * each row as single words, two singles per pair, an odd last one beside a zero word:
 *   1 left: the rows' bytes two rows per word (the second row's on top; alone in the last row);
 *   2 left: one word per row; 3 left: two words per row, bytes (0, 2) and (1, -).
 * mcuforge.generator.ops.conv_first.column_slots lists the same order.
 */
static MCF_ALWAYS_INLINE void mcf_first_columns(const mcf_conv2d_first_params *p, const int8_t *src, int32_t step,
                                                uint32_t off2, uint32_t *d)
{
    const int32_t rows = p->filter_h;
    const int32_t full = p->row_bytes >> 2;
    const int32_t left = p->row_bytes & 3;
    const int8_t *row = src;
    int32_t r;
    for (r = 0; r < rows; ++r, row += step) {
        const int8_t *x = row;
        const int8_t *const x_end = row + 4 * full;
        for (; x != x_end; x += 4, d += 4) {
            const uint32_t v = mcf_read_u32(x);
            d[0] = MCF_FIRST_SXTAB16(off2, v);
            d[1] = MCF_FIRST_SXTAB16_ROR8(off2, v);
        }
    }
    row = src + 4 * full; /* the bytes left over in each row */
    if (left == 1) {      /* two rows per word, two words per pair */
        for (r = 0; r + 4 <= rows; r += 4, row += 4 * step, d += 4) {
            d[0] = MCF_FIRST_PKHBT(MCF_FIRST_SXTAB16(off2, mcf_read_u32(row)),
                                   MCF_FIRST_SXTAB16(off2, mcf_read_u32(row + step)));
            d[1] = MCF_FIRST_PKHBT(MCF_FIRST_SXTAB16(off2, mcf_read_u32(row + 2 * step)),
                                   MCF_FIRST_SXTAB16(off2, mcf_read_u32(row + 3 * step)));
        }
        if (r < rows) { /* 1 to 3 rows left */
            const uint32_t s0 = MCF_FIRST_SXTAB16(off2, mcf_read_u32(row));
            uint32_t w0 = s0, w1 = 0;
            if (r + 1 < rows) {
                w0 = MCF_FIRST_PKHBT(s0, MCF_FIRST_SXTAB16(off2, mcf_read_u32(row + step)));
                if (r + 2 < rows) {
                    w1 = MCF_FIRST_SXTAB16(off2, mcf_read_u32(row + 2 * step));
                }
            }
            d[0] = w0;
            d[1] = w1;
        }
    } else if (left == 2) { /* one word per row, two rows per pair */
        for (r = 0; r < rows; r += 2, row += 2 * step, d += 4) {
            const uint32_t v = mcf_read_u32(row);
            d[0] = MCF_FIRST_PKHBT(MCF_FIRST_SXTAB16(off2, v), MCF_FIRST_SXTAB16_ROR8(off2, v));
            d[1] = 0;
            if (r + 1 < rows) {
                const uint32_t u = mcf_read_u32(row + step);
                d[1] = MCF_FIRST_PKHBT(MCF_FIRST_SXTAB16(off2, u), MCF_FIRST_SXTAB16_ROR8(off2, u));
            }
        }
    } else if (left == 3) { /* a pair per row */
        for (r = 0; r < rows; ++r, row += step, d += 4) {
            const uint32_t v = mcf_read_u32(row);
            d[0] = MCF_FIRST_SXTAB16(off2, v);
            d[1] = MCF_FIRST_SXTAB16_ROR8(off2, v);
        }
    }
}

/* A border window into `win` (filter_h rows of `rw` bytes): the input's bytes where the tap lies
 * inside the image, the input zero point elsewhere (and past row_bytes). */
static MCF_NO_LIBCALL_LOOPS void mcf_first_window_copy(const mcf_conv2d_first_params *p, const int8_t *in_b,
                                                       int32_t iy0, int32_t ix0, int32_t rw, int8_t *win)
{
    const int32_t ic = p->input_c;
    const int32_t in_row = p->input_w * ic;
    const int8_t zp = (int8_t)(-p->input_offset);
    int32_t r, kx, c, j;
    for (r = 0; r < p->filter_h; ++r, win += rw) {
        const int32_t iy = iy0 + r * p->dilation_h;
        const int row_in = (uint32_t)iy < (uint32_t)p->input_h; /* unsigned: negative rows fail */
        const int8_t *x = in_b + iy * in_row + ix0 * ic;
        for (kx = 0, j = 0; kx < p->filter_w; ++kx) {
            const int inside = row_in && (uint32_t)(ix0 + kx) < (uint32_t)p->input_w;
            for (c = 0; c < ic; ++c, ++j) {
                win[j] = inside ? x[j] : zp;
            }
        }
        for (; j < rw; ++j) {
            win[j] = zp;
        }
    }
}

#if defined(__GNUC__) && defined(__OPTIMIZE__) && defined(__ARM_FEATURE_DSP) && !defined(MCF_EMULATE_DSP)
/* One column pair of two pixels (x: p0's two words, then p1's) against two channels (w: a's two
 * words, then b's): 8 SMLAD, 4 LDRD. */
#define MCF_FIRST_PAIR                           \
    "ldrd %[x0], %[x1], [%[x]], #8\n\t"          \
    "ldrd %[w0], %[w1], [%[w]], #8\n\t"          \
    "smlad %[a0], %[w0], %[x0], %[a0]\n\t"       \
    "smlad %[a0], %[w1], %[x1], %[a0]\n\t"       \
    "ldrd %[y0], %[y1], [%[x]], #8\n\t"          \
    "smlad %[a1], %[w0], %[y0], %[a1]\n\t"       \
    "smlad %[a1], %[w1], %[y1], %[a1]\n\t"       \
    "ldrd %[w0], %[w1], [%[w]], #8\n\t"          \
    "smlad %[b0], %[w0], %[x0], %[b0]\n\t"       \
    "smlad %[b0], %[w1], %[x1], %[b0]\n\t"       \
    "smlad %[b1], %[w0], %[y0], %[b1]\n\t"       \
    "smlad %[b1], %[w1], %[y1], %[b1]\n\t"
#define MCF_FIRST_OPERANDS                                                                          \
    : [a0] "+r"(a0), [a1] "+r"(a1), [b0] "+r"(b0), [b1] "+r"(b1), [x] "+r"(x), [w] "+r"(w),        \
      [x0] "=&r"(x0), [x1] "=&r"(x1), [y0] "=&r"(y0), [y1] "=&r"(y1), [w0] "=&r"(w0), [w1] "=&r"(w1)
#endif

/* Sums of two pixels (columns `cols`, `pairs` column pairs) times two channels (weights `w`). */
static MCF_ALWAYS_INLINE void mcf_first_dot(const uint32_t *cols, int32_t pairs, const uint32_t *w, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], b0 = acc[2], b1 = acc[3];
    const uint32_t *x = cols;
#if defined(__GNUC__) && defined(__OPTIMIZE__) && defined(__ARM_FEATURE_DSP) && !defined(MCF_EMULATE_DSP)
    const uint32_t *const x_end = cols + 4 * pairs;
    uint32_t x0, x1, y0, y1, w0, w1;
    if (pairs & 1) {
        __asm__ volatile(MCF_FIRST_PAIR MCF_FIRST_OPERANDS : : "memory");
    }
    if (x != x_end) { /* two column pairs per pass */
        __asm__ volatile("1:\n\t" MCF_FIRST_PAIR MCF_FIRST_PAIR "cmp %[x], %[end]\n\t"
                                                                "bne 1b\n\t" MCF_FIRST_OPERANDS
                         : [end] "r"(x_end)
                         : "cc", "memory");
    }
#else
    int32_t k;
    for (k = 0; k < pairs; ++k, x += 4, w += 4) {
        a0 = MCF_FIRST_SMLAD(w[0], x[0], a0);
        a0 = MCF_FIRST_SMLAD(w[1], x[1], a0);
        a1 = MCF_FIRST_SMLAD(w[0], x[2], a1);
        a1 = MCF_FIRST_SMLAD(w[1], x[3], a1);
        b0 = MCF_FIRST_SMLAD(w[2], x[0], b0);
        b0 = MCF_FIRST_SMLAD(w[3], x[1], b0);
        b1 = MCF_FIRST_SMLAD(w[2], x[2], b1);
        b1 = MCF_FIRST_SMLAD(w[3], x[3], b1);
    }
#endif
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = b0;
    acc[3] = b1;
}

/* One output from a doubled sum and its channel's {multiplier, round, e}. */
static MCF_ALWAYS_INLINE int8_t mcf_first_out(int32_t acc2, const uint32_t *q, int32_t lo, int32_t hi, const int full)
{
    const int32_t t = mcf_smmulr(acc2, (int32_t)q[0]);
    return mcf_clamp8((t + (int32_t)q[1] + (t >> 31)) >> (int32_t)q[2], lo, hi, full);
}

/* The same from an undoubled sum and the channel's {multiplier, shift, 0} (`long_out`). */
static MCF_ALWAYS_INLINE int8_t mcf_first_out_long(int32_t acc, const uint32_t *q, int32_t offset, int32_t lo,
                                                   int32_t hi)
{
    return (int8_t)mcf_clamp(mcf_requantize(acc, (int32_t)q[0], (int32_t)q[1]) + offset, lo, hi);
}

#if MCF_REQUANT_F32
/* The float32 copy (conv2d_s8_first_f32.c): an undoubled sum and the channel's {scale bits, mq, pq},
 * onnxruntime's output stage (mq, pq: mcf_requant_f32_pre's constants, on cores without an FPU). */
static MCF_ALWAYS_INLINE int8_t mcf_first_out_f32(int32_t acc, const uint32_t *q, int32_t offset, int32_t lo,
                                                  int32_t hi, const int full)
{
#if MCF_REQUANT_F32_SOFT
    return mcf_clamp8(mcf_requant_f32_pre(acc, (int32_t)q[1], (int32_t)q[2]) + offset, lo, hi, full);
#else
    return mcf_clamp8(mcf_requant_f32(acc, (int32_t)q[0]) + offset, lo, hi, full);
#endif
}
#endif

static MCF_ALWAYS_INLINE void mcf_conv2d_s8_first_fast(const mcf_conv2d_first_params *p, const int8_t *input,
                                                       const uint32_t *filter, int8_t *output, const int full)
{
    uint32_t cols[4 * MCF_CONV2D_FIRST_MAX_PAIRS];
    uint32_t win_words[MCF_CONV2D_FIRST_MAX_WINDOW / 4];
    int8_t *const win = (int8_t *)(void *)win_words;
    const int32_t ic = p->input_c;
    const int32_t in_row = p->input_w * ic;
    const int32_t in_image = p->input_h * in_row;
    const int32_t rw = (p->row_bytes + 3) & ~3;
    const int32_t row_step = p->dilation_h * in_row;
    const int32_t last_row = (p->filter_h - 1) * p->dilation_h;
    const int32_t pixels = p->batches * p->output_h * p->output_w;
    const int32_t oc_count = p->output_c;
    const int32_t pairs = p->pairs;
    const int32_t block = 8 + 4 * pairs; /* filter words per channel pair */
    const int32_t lo = p->act_min, hi = p->act_max;
#if MCF_REQUANT_F32
    const int32_t offset = p->output_offset; /* a local: the output stores may alias *p */
#endif
    const uint32_t off2 = ((uint32_t)p->input_offset & 0xFFFFu) | ((uint32_t)p->input_offset << 16);
    int32_t b = 0, oy = 0, ox = 0, i;
    if (pairs > MCF_CONV2D_FIRST_MAX_PAIRS || p->filter_h * rw > MCF_CONV2D_FIRST_MAX_WINDOW) {
        return; /* not reached: the compiler chooses this path only when the buffers hold them */
    }
    for (i = 0; i < pixels; i += 2) {
        int8_t *out0 = output + i * oc_count;
        int8_t *out1 = out0 + oc_count;
        int32_t lane, cp;
        const uint32_t *w = filter;
        for (lane = 0; lane < 2; ++lane) {
            const int8_t *in_b = input + b * in_image;
            const int32_t iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
            if (lane == 1 && i + 1 >= pixels) { /* an odd last pixel: both lanes hold it, written once */
                int32_t k;
                for (k = 0; k < pairs; ++k) {
                    cols[4 * k + 2] = cols[4 * k];
                    cols[4 * k + 3] = cols[4 * k + 1];
                }
                out1 = out0;
                break;
            }
            /* inside the image, and the last row's last word read inside the input */
            if (iy0 >= 0 && ix0 >= 0 && iy0 + last_row < p->input_h && ix0 + p->filter_w <= p->input_w &&
                (iy0 + last_row) * in_row + ix0 * ic + rw <= in_image) {
                mcf_first_columns(p, in_b + iy0 * in_row + ix0 * ic, row_step, off2, cols + 2 * lane);
            } else {
                mcf_first_window_copy(p, in_b, iy0, ix0, rw, win);
                mcf_first_columns(p, win, rw, off2, cols + 2 * lane);
            }
            if (++ox == p->output_w) {
                ox = 0;
                if (++oy == p->output_h) {
                    oy = 0;
                    ++b;
                }
            }
        }
#if MCF_REQUANT_F32
        for (cp = 0; cp < oc_count; cp += 2, w += block) { /* undoubled sums only (long_out) */
            int32_t acc[4];
            acc[0] = acc[1] = (int32_t)w[0];
            acc[2] = acc[3] = (int32_t)w[1];
            mcf_first_dot(cols, pairs, w + 8, acc);
            out0[cp] = mcf_first_out_f32(acc[0], w + 2, offset, lo, hi, full);
            out1[cp] = mcf_first_out_f32(acc[1], w + 2, offset, lo, hi, full);
            out0[cp + 1] = mcf_first_out_f32(acc[2], w + 5, offset, lo, hi, full);
            out1[cp + 1] = mcf_first_out_f32(acc[3], w + 5, offset, lo, hi, full);
        }
#else
        if (!p->long_out) {
            for (cp = 0; cp < oc_count; cp += 2, w += block) {
                int32_t acc[4];
                acc[0] = acc[1] = (int32_t)w[0];
                acc[2] = acc[3] = (int32_t)w[1];
                mcf_first_dot(cols, pairs, w + 8, acc);
                out0[cp] = mcf_first_out(acc[0], w + 2, lo, hi, full);
                out1[cp] = mcf_first_out(acc[1], w + 2, lo, hi, full);
                out0[cp + 1] = mcf_first_out(acc[2], w + 5, lo, hi, full);
                out1[cp + 1] = mcf_first_out(acc[3], w + 5, lo, hi, full);
            }
        } else {
            for (cp = 0; cp < oc_count; cp += 2, w += block) {
                int32_t acc[4];
                acc[0] = acc[1] = (int32_t)w[0];
                acc[2] = acc[3] = (int32_t)w[1];
                mcf_first_dot(cols, pairs, w + 8, acc);
                out0[cp] = mcf_first_out_long(acc[0], w + 2, p->output_offset, lo, hi);
                out1[cp] = mcf_first_out_long(acc[1], w + 2, p->output_offset, lo, hi);
                out0[cp + 1] = mcf_first_out_long(acc[2], w + 5, p->output_offset, lo, hi);
                out1[cp + 1] = mcf_first_out_long(acc[3], w + 5, p->output_offset, lo, hi);
            }
        }
#endif
    }
}

static MCF_NOINLINE MCF_NO_LIBCALL_LOOPS void mcf_conv2d_s8_first_fast_full(const mcf_conv2d_first_params *p,
                                                                            const int8_t *input, const int8_t *filter,
                                                                            int8_t *output)
{
    mcf_conv2d_s8_first_fast(p, input, (const uint32_t *)(const void *)filter, output, 1);
}

static MCF_NOINLINE MCF_NO_LIBCALL_LOOPS void mcf_conv2d_s8_first_fast_clamp(const mcf_conv2d_first_params *p,
                                                                             const int8_t *input, const int8_t *filter,
                                                                             int8_t *output)
{
    mcf_conv2d_s8_first_fast(p, input, (const uint32_t *)(const void *)filter, output, 0);
}

#else /* MCF_KERNELS_RV32 */

/*
 * RV32 (no packed arithmetic, mcf_rv32.h): four pixels per pass against four output channels (two
 * channel pairs of the layout), each value of a column loaded once per pass with LH, each weight
 * halfword once per pass. A column holds the values x + input_offset as int16 in the layout's order
 * (the slots of mcuforge.generator.ops.conv_first.column_slots; a slot of weight 0 holds 0); per
 * column pair 16 values: pixel 0's four, then pixel 1's, 2's, 3's. Only the window's own bytes are
 * read.
 */
static void mcf_first_columns_rv32(const mcf_conv2d_first_params *p, const int8_t *src, int32_t step, int32_t off,
                                   int16_t *d)
{
    const int32_t rows = p->filter_h;
    const int32_t full = p->row_bytes >> 2;
    const int32_t left = p->row_bytes & 3;
    const int8_t *row = src;
    int32_t r;
    for (r = 0; r < rows; ++r, row += step) {
        const int8_t *x = row;
        const int8_t *const x_end = row + 4 * full;
        for (; x != x_end; x += 4, d += 16) { /* a whole word: bytes (0, 2), then (1, 3) */
            d[0] = (int16_t)(x[0] + off);
            d[1] = (int16_t)(x[2] + off);
            d[2] = (int16_t)(x[1] + off);
            d[3] = (int16_t)(x[3] + off);
        }
    }
    row = src + 4 * full; /* the bytes left over in each row */
    if (left == 1) {      /* four rows' bytes per pair */
        for (r = 0; r + 4 <= rows; r += 4, row += 4 * step, d += 16) {
            d[0] = (int16_t)(row[0] + off);
            d[1] = (int16_t)(row[step] + off);
            d[2] = (int16_t)(row[2 * step] + off);
            d[3] = (int16_t)(row[3 * step] + off);
        }
        if (r < rows) { /* 1 to 3 rows left */
            d[0] = (int16_t)(row[0] + off);
            d[1] = (int16_t)(r + 1 < rows ? row[step] + off : 0);
            d[2] = (int16_t)(r + 2 < rows ? row[2 * step] + off : 0);
            d[3] = 0;
        }
    } else if (left == 2) { /* two rows per pair */
        for (r = 0; r < rows; r += 2, row += 2 * step, d += 16) {
            d[0] = (int16_t)(row[0] + off);
            d[1] = (int16_t)(row[1] + off);
            d[2] = (int16_t)(r + 1 < rows ? row[step] + off : 0);
            d[3] = (int16_t)(r + 1 < rows ? row[step + 1] + off : 0);
        }
    } else if (left == 3) { /* a pair per row: bytes (0, 2), then (1, -) */
        for (r = 0; r < rows; ++r, row += step, d += 16) {
            d[0] = (int16_t)(row[0] + off);
            d[1] = (int16_t)(row[2] + off);
            d[2] = (int16_t)(row[1] + off);
            d[3] = 0;
        }
    }
}

/* A border window into `win` as mcf_first_window_copy, by runs: per row the input bytes of the taps
 * inside the image ([lo, hi) of the row's run), the input zero point before, after and in rows
 * outside. */
static MCF_NO_LIBCALL_LOOPS void mcf_first_window_rv32(const mcf_conv2d_first_params *p, const int8_t *in_b,
                                                       int32_t iy0, int32_t ix0, int32_t rw, int8_t *win)
{
    const int32_t ic = p->input_c;
    const int32_t in_row = p->input_w * ic;
    const int8_t zp = (int8_t)(-p->input_offset);
    const int32_t hi_tap = p->input_w - ix0 < p->filter_w ? p->input_w - ix0 : p->filter_w;
    int32_t lo = ix0 < 0 ? -ix0 * ic : 0;
    int32_t hi = hi_tap > 0 ? hi_tap * ic : 0;
    int32_t r, j;
    if (hi < lo) { /* no tap of a row inside (explicit padding wider than the filter) */
        lo = hi = 0;
    }
    for (r = 0; r < p->filter_h; ++r, win += rw) {
        const int32_t iy = iy0 + r * p->dilation_h;
        const int8_t *const x = in_b + iy * in_row + ix0 * ic;
        j = 0;
        if ((uint32_t)iy < (uint32_t)p->input_h) { /* unsigned: negative rows fail */
            for (; j < lo; ++j) {
                win[j] = zp;
            }
            for (; j < hi; ++j) {
                win[j] = x[j];
            }
        }
        for (; j < rw; ++j) {
            win[j] = zp;
        }
    }
}

static MCF_NOINLINE MCF_NO_LIBCALL_LOOPS void mcf_conv2d_s8_first_rv32(const mcf_conv2d_first_params *p,
                                                                       const int8_t *input, const uint32_t *filter,
                                                                       int8_t *output)
{
    int16_t cols[16 * MCF_CONV2D_FIRST_MAX_PAIRS];
    uint32_t win_words[MCF_CONV2D_FIRST_MAX_WINDOW / 4];
    int8_t *const win = (int8_t *)(void *)win_words;
    const int32_t ic = p->input_c;
    const int32_t in_row = p->input_w * ic;
    const int32_t in_image = p->input_h * in_row;
    const int32_t rw = (p->row_bytes + 3) & ~3;
    const int32_t row_step = p->dilation_h * in_row;
    const int32_t last_row = (p->filter_h - 1) * p->dilation_h;
    const int32_t pixels = p->batches * p->output_h * p->output_w;
    const int32_t oc_count = p->output_c;
    const int32_t pairs = p->pairs;
    const int32_t block = 8 + 4 * pairs; /* filter words per channel pair */
    const int32_t lo = p->act_min, hi = p->act_max;
    int32_t b = 0, oy = 0, ox = 0, i;
    if (pairs > MCF_CONV2D_FIRST_MAX_PAIRS || p->filter_h * rw > MCF_CONV2D_FIRST_MAX_WINDOW) {
        return; /* not reached: the compiler chooses this path only when the buffers hold them */
    }
    for (i = 0; i < pixels; i += 4) {
        int8_t *out[4];
        const uint32_t *wa = filter;
        int32_t lane, cp;
        for (lane = 0; lane < 4; ++lane) {
            const int8_t *in_b = input + b * in_image;
            const int32_t iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
            if (i + lane >= pixels) { /* past the last pixel: repeat it (its outputs written again) */
                int16_t *d = cols + 4 * lane;
                int32_t k;
                for (k = 0; k < pairs; ++k, d += 16) {
                    d[0] = d[-4];
                    d[1] = d[-3];
                    d[2] = d[-2];
                    d[3] = d[-1];
                }
                out[lane] = out[lane - 1];
                continue;
            }
            out[lane] = output + (i + lane) * oc_count;
            if (iy0 >= 0 && ix0 >= 0 && iy0 + last_row < p->input_h && ix0 + p->filter_w <= p->input_w) {
                mcf_first_columns_rv32(p, in_b + iy0 * in_row + ix0 * ic, row_step, p->input_offset, cols + 4 * lane);
            } else {
                mcf_first_window_rv32(p, in_b, iy0, ix0, rw, win);
                mcf_first_columns_rv32(p, win, rw, p->input_offset, cols + 4 * lane);
            }
            if (++ox == p->output_w) {
                ox = 0;
                if (++oy == p->output_h) {
                    oy = 0;
                    ++b;
                }
            }
        }
        for (cp = 0; cp < oc_count; cp += 4, wa += 2 * block) {
            /* channels cp, cp + 1 (pair wa) and cp + 2, cp + 3 (pair wb); a last pair alone runs twice */
            const uint32_t *const wb = cp + 2 < oc_count ? wa + block : wa;
            const int32_t n = cp + 2 < oc_count ? 4 : 2;
            int32_t acc[16], c;
            mcf_rv32_first_quad(cols, pairs, wa, wb, acc);
            if (!MCF_REQUANT_F32 && !p->long_out) { /* doubled sums and {multiplier, round, e} */
                int8_t *const o0 = out[0] + cp, *const o1 = out[1] + cp, *const o2 = out[2] + cp;
                int8_t *const o3 = out[3] + cp;
                for (c = 0; c < n; ++c) {
                    const uint32_t *q = (c < 2 ? wa : wb) + 2 + 3 * (c & 1);
                    const int32_t m = (int32_t)q[0], round = (int32_t)q[1], e = (int32_t)q[2];
                    o0[c] = mcf_rv32_c1_out(acc[4 * c], m, round, e, lo, hi);
                    o1[c] = mcf_rv32_c1_out(acc[4 * c + 1], m, round, e, lo, hi);
                    o2[c] = mcf_rv32_c1_out(acc[4 * c + 2], m, round, e, lo, hi);
                    o3[c] = mcf_rv32_c1_out(acc[4 * c + 3], m, round, e, lo, hi);
                }
            } else { /* {multiplier, shift, 0}: mcf_requantize (float32 copy: {scale bits, mq, pq}) */
                for (c = 0; c < 4 * n; ++c) {
                    const uint32_t *q = (c < 8 ? wa : wb) + 2 + 3 * ((c >> 2) & 1);
#if MCF_REQUANT_F32
                    const int32_t v = mcf_requant_f32(acc[c], (int32_t)q[0]);
#else
                    const int32_t v = mcf_requantize(acc[c], (int32_t)q[0], (int32_t)q[1]);
#endif
                    out[c & 3][cp + (c >> 2)] = (int8_t)mcf_clamp(v + p->output_offset, lo, hi);
                }
            }
        }
    }
}
#endif /* MCF_KERNELS_RV32 */

#else /* portable builds: TFLite Micro's loop on the OHWI filter */

static MCF_NO_LIBCALL_LOOPS void mcf_conv2d_s8_first_reference(const mcf_conv2d_first_params *p, const int8_t *input,
                                          const int8_t *filter, int8_t *output)
{
    const int32_t ic = p->input_c;
    const int32_t in_row = p->input_w * ic;
    const int32_t k_size = p->filter_h * p->row_bytes;
    int32_t b, oy, ox, oc, ky, kx, c;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->input_h * in_row;
        for (oy = 0; oy < p->output_h; ++oy) {
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
                for (oc = 0; oc < p->output_c; ++oc) {
                    const int8_t *w = filter + oc * k_size;
                    const int32_t q = p->per_channel ? oc : 0;
                    int32_t acc = p->bias[oc];
                    for (ky = 0; ky < p->filter_h; ++ky) {
                        const int32_t iy = iy0 + ky * p->dilation_h;
                        for (kx = 0; kx < p->filter_w; ++kx) {
                            const int32_t ix = ix0 + kx;
                            if (iy >= 0 && iy < p->input_h && ix >= 0 && ix < p->input_w) {
                                const int8_t *x = in_b + iy * in_row + ix * ic;
                                const int8_t *wk = w + ky * p->row_bytes + kx * ic;
                                for (c = 0; c < ic; ++c) {
                                    acc += (int32_t)wk[c] * ((int32_t)x[c] + p->input_offset);
                                }
                            }
                        }
                    }
#if MCF_REQUANT_F32
                    acc = mcf_requant_f32(acc, p->multiplier[q]) + p->output_offset;
#else
                    acc = mcf_requantize(acc, p->multiplier[q], p->shift[q]) + p->output_offset;
#endif
                    *output++ = (int8_t)mcf_clamp(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}
#endif /* MCF_KERNELS_FAST */

void mcf_conv2d_s8_first_full(const mcf_conv2d_first_params *p, const int8_t *input, const int8_t *filter,
                              int8_t *output)
{
#if MCF_KERNELS_RV32
    mcf_conv2d_s8_first_rv32(p, input, (const uint32_t *)(const void *)filter, output);
#elif MCF_KERNELS_FAST
    mcf_conv2d_s8_first_fast_full(p, input, filter, output);
#else
    mcf_conv2d_s8_first_reference(p, input, filter, output);
#endif
}

void mcf_conv2d_s8_first_clamp(const mcf_conv2d_first_params *p, const int8_t *input, const int8_t *filter,
                               int8_t *output)
{
#if MCF_KERNELS_RV32
    mcf_conv2d_s8_first_rv32(p, input, (const uint32_t *)(const void *)filter, output);
#elif MCF_KERNELS_FAST
    mcf_conv2d_s8_first_fast_clamp(p, input, filter, output);
#else
    mcf_conv2d_s8_first_reference(p, input, filter, output);
#endif
}
