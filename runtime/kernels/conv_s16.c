/* conv_s16.c - 16x8 convolutions (CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV): TFLite Micro's
 * loops on the model's filters, and fast paths that reuse the 16x8 dot product of mcf_dot_s16.h. */
#include "conv_s16.h"

#include "mcf_common.h"
#include "mcf_dot_s16.h"

static inline int16_t mcf_conv_s16_out(const mcf_conv_s16_params *p, int64_t acc, int32_t o)
{
    return (int16_t)mcf_clamp(mcf_s16_rescale(acc, p->wide, p->multiplier[o], p->shift[o]), p->act_min,
                              p->act_max);
}

/* ---- CONV_2D ---------------------------------------------------------------------------- */

/* TFLite Micro's loop, grouped convolution included (output channel o of group g reads input
 * channels [g * filter_c, (g + 1) * filter_c)); filter OHWI with filter_c input channels. */
void mcf_conv2d_s16_ref(const mcf_conv_s16_params *p, const int16_t *input, const int8_t *filter, int16_t *output)
{
    const int32_t ic = p->input_c;
    const int32_t fc = p->filter_c;
    const int32_t in_row = p->input_w * ic;
    const int32_t filter_row = p->filter_w * fc;
    const int32_t filter_size = p->filter_h * filter_row;
    const int32_t per_group = p->output_c / (ic / fc);
    int32_t b, oy, ox, o, ky, kx, c, g;
    for (b = 0; b < p->batches; ++b) {
        const int16_t *in_b = input + b * p->input_h * in_row;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            int32_t ky_lo, ky_hi;
            mcf_tap_range(iy0, p->input_h, p->filter_h, p->dilation_h, &ky_lo, &ky_hi);
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                int32_t kx_lo, kx_hi;
                mcf_tap_range(ix0, p->input_w, p->filter_w, p->dilation_w, &kx_lo, &kx_hi);
                for (g = 0, o = 0; o < p->output_c; ++g) {
                    const int32_t o_end = o + per_group;
                    for (; o < o_end; ++o) {
                        const int8_t *w_o = filter + o * filter_size;
                        int64_t acc = p->bias[o];
                        for (ky = ky_lo; ky < ky_hi; ++ky) {
                            const int16_t *row = in_b + (iy0 + ky * p->dilation_h) * in_row + g * fc;
                            for (kx = kx_lo; kx < kx_hi; ++kx) {
                                const int16_t *x = row + (ix0 + kx * p->dilation_w) * ic;
                                const int8_t *w = w_o + ky * filter_row + kx * fc;
                                for (c = 0; c < fc; ++c) {
                                    acc += (int32_t)x[c] * w[c];
                                }
                            }
                        }
                        *output++ = mcf_conv_s16_out(p, acc, o);
                    }
                }
            }
        }
    }
}

#if MCF_KERNELS_FAST
/* n int16 from src to dst, two per word access. (The copy and zero loops stay loops, not library
 * calls, also where they are not inlined.) */
static inline MCF_NO_LIBCALL_LOOPS void mcf_conv_s16_copy(int16_t *dst, const int16_t *src, int32_t n)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint32_t a = mcf_read_u32(src + i), b = mcf_read_u32(src + i + 2);
        mcf_write_u32(dst + i, a);
        mcf_write_u32(dst + i + 2, b);
    }
    for (; i + 2 <= n; i += 2) {
        mcf_write_u32(dst + i, mcf_read_u32(src + i));
    }
    if (i < n) {
        dst[i] = src[i];
    }
}

/* n zeros (int16) at dst, word by word. */
static inline MCF_NO_LIBCALL_LOOPS void mcf_conv_s16_zero(int16_t *dst, int32_t n)
{
    int32_t i = 0;
    for (; i + 2 <= n; i += 2) {
        mcf_write_u32(dst + i, 0u);
    }
    if (i < n) {
        dst[i] = 0;
    }
}

/* The window of the output pixel whose (0, 0) tap is input (iy0, ix0), in the filter's
 * (ky, kx, c) order, with zeros for the taps outside the image. (The copy and zero loops stay loops,
 * not library calls.) */
static MCF_NO_LIBCALL_LOOPS void mcf_conv_s16_column(const mcf_conv_s16_params *p, const int16_t *in_b, int32_t iy0, int32_t ix0,
                                int32_t ky_lo, int32_t ky_hi, int16_t *col)
{
    const int32_t ic = p->input_c;
    const int32_t in_row = p->input_w * ic;
    const int32_t filter_row = p->filter_w * ic;
    int32_t kx_lo, kx_hi, ky, kx;
    mcf_tap_range(ix0, p->input_w, p->filter_w, p->dilation_w, &kx_lo, &kx_hi);
    if (p->dilation_w == 1 && kx_lo == 0 && kx_hi == p->filter_w) {
        /* every column of the window inside: each row inside is one run of the input */
        for (ky = 0; ky < p->filter_h; ++ky, col += filter_row) {
            if (ky >= ky_lo && ky < ky_hi) {
                mcf_conv_s16_copy(col, in_b + (iy0 + ky * p->dilation_h) * in_row + ix0 * ic, filter_row);
            } else {
                mcf_conv_s16_zero(col, filter_row);
            }
        }
        return;
    }
    for (ky = 0; ky < p->filter_h; ++ky, col += filter_row) {
        const int16_t *row;
        if (ky < ky_lo || ky >= ky_hi) {
            mcf_conv_s16_zero(col, filter_row);
            continue;
        }
        row = in_b + (iy0 + ky * p->dilation_h) * in_row + ix0 * ic;
        mcf_conv_s16_zero(col, kx_lo * ic);
        if (p->dilation_w == 1) {
            mcf_conv_s16_copy(col + kx_lo * ic, row + kx_lo * ic, (kx_hi - kx_lo) * ic);
        } else {
            for (kx = kx_lo; kx < kx_hi; ++kx) {
                mcf_conv_s16_copy(col + kx * ic, row + kx * p->dilation_w * ic, ic);
            }
        }
        mcf_conv_s16_zero(col + kx_hi * ic, (p->filter_w - kx_hi) * ic);
    }
}

/* The output of a sum of at most 256 products (int32) with 64-bit rescaling folded at compile time:
 * (bias + sum) * m + 2^(s - 1) = folded + sum * m (one SMLAL), then the low word of its shift right by
 * s (8 <= s <= 46), as TFLite Micro's cast to int32 keeps it; with fold_high, both scaled so that s is
 * 32 for every channel, the high word alone. */
static inline int16_t mcf_conv_s16_out_folded(const mcf_conv_s16_params *p, int32_t sum, int32_t o)
{
    const uint64_t v = (uint64_t)(p->folded[o] + (int64_t)sum * p->fold_mult[o]);
    const int32_t s = p->shift[o];
    if (p->fold_high) { /* every shift made 32 at compile time: the high word */
        return (int16_t)mcf_clamp((int32_t)(uint32_t)(v >> 32), p->act_min, p->act_max);
    }
    const uint32_t lo = (uint32_t)v, hi = (uint32_t)(v >> 32);
    const int32_t r = s >= 32 ? (int32_t)hi >> (s - 32) : (int32_t)((lo >> s) | (hi << (32 - s)));
    return (int16_t)mcf_clamp(r, p->act_min, p->act_max);
}

/* out[r] for r < n from the sums of output channels o.. o + n - 1 (mcf_conv_s16_out_folded), in a
 * function of its own: the 64-bit products stay single SMLAL and nothing else competes for registers. */
static MCF_NOINLINE void mcf_conv_s16_finish(const mcf_conv_s16_params *p, const int32_t *sum, int32_t o,
                                             int32_t n, int16_t *out)
{
    const int64_t *f = p->folded + o;
    const int32_t *m = p->fold_mult + o;
    const int32_t lo = p->act_min, hi = p->act_max;
    int32_t r;
    if (p->fold_high) {
        for (r = 0; r < n; ++r) {
            const int64_t v = f[r] + (int64_t)sum[r] * m[r];
            out[r] = (int16_t)mcf_clamp((int32_t)(v >> 32), lo, hi);
        }
    } else {
        for (r = 0; r < n; ++r) {
            out[r] = mcf_conv_s16_out_folded(p, sum[r], o + r);
        }
    }
}

/* The rows [ky_lo, ky_hi) of the window of the output pixel whose (0, 0) tap is input (iy0, ix0),
 * for a window inside the image horizontally, without dilation along it and with an even number of
 * int16 per row (`words` words, 4-byte aligned): copied word by word into col, zeros for the rows
 * outside. (The loops stay loops, not library calls.) */
static MCF_NO_LIBCALL_LOOPS void mcf_conv_s16_rows(const mcf_conv_s16_params *p, const int16_t *in_b, int32_t iy0,
                                                   int32_t ix0, int32_t ky_lo, int32_t ky_hi, int32_t words,
                                                   int16_t *col)
{
    const int32_t in_row = p->input_w * p->input_c;
    int32_t ky, i;
    for (ky = 0; ky < p->filter_h; ++ky, col += 2 * words) {
        if (ky >= ky_lo && ky < ky_hi) {
            const int16_t *src = in_b + (iy0 + ky * p->dilation_h) * in_row + ix0 * p->input_c;
            for (i = 0; i < words; ++i) {
                mcf_write_u32(col + 2 * i, mcf_read_u32(src + 2 * i));
            }
        } else {
            for (i = 0; i < words; ++i) {
                mcf_write_u32(col + 2 * i, 0u);
            }
        }
    }
}

/* Every output channel of one pixel from its window x (k4 values, a multiple of 4, zero-padded, at a
 * 4-byte boundary): blocks of four channels, each block 2 * k4 words of int16 weight pairs
 * (mcf_dot_s16w_quads). Sums of at most 64 groups (256 products) are exact in int32. */
static MCF_ALWAYS_INLINE void mcf_conv_s16_pixel(const mcf_conv_s16_params *p, const int16_t *x,
                                                  const uint32_t *filter, int32_t k4, int16_t *out)
{
    const int32_t quads = k4 >> 2;
    int32_t o, r;
    for (o = 0; o < p->output_c; o += 4, filter += 2 * k4) {
        const int32_t n = MCF_MIN(4, p->output_c - o); /* the last block is padded with zero channels */
        int32_t s[4];
        if (quads <= 64) {
            mcf_dot_s16w_quads(x, filter, quads, s);
            if (p->folded) {
                mcf_conv_s16_finish(p, s, o, n, out + o);
            } else {
                for (r = 0; r < n; ++r) {
                    out[o + r] = mcf_conv_s16_out(p, p->bias[o + r] + s[r], o + r);
                }
            }
        } else {
            int64_t acc[4];
            int32_t q, e;
            mcf_dot_s16w_quads(x, filter, 64, s);
            for (r = 0; r < 4; ++r) {
                acc[r] = s[r];
            }
            for (q = 64; q < quads; q = e) {
                e = MCF_MIN(quads, q + 64);
                mcf_dot_s16w_quads(x + 4 * q, filter + 8 * q, e - q, s);
                for (r = 0; r < 4; ++r) {
                    acc[r] += s[r];
                }
            }
            for (r = 0; r < n; ++r) {
                out[o + r] = mcf_conv_s16_out(p, p->bias[o + r] + acc[r], o + r);
            }
        }
    }
}

static void mcf_conv2d_s16_columns(const mcf_conv_s16_params *p, const int16_t *input, const uint32_t *filter,
                                   int16_t *output, int16_t *col)
{
    const int32_t ic = p->input_c;
    const int32_t in_row = p->input_w * ic;
    const int32_t k = p->filter_h * p->filter_w * ic;
    const int32_t k4 = (k + 3) & ~3; /* the column padded with zeros to whole groups: no remainder loop */
    /* A window of one row, without dilation, whole groups of four, is one run of the input when it
     * lies inside (read in place at a 4-byte boundary). */
    const int32_t run = p->filter_h == 1 && p->dilation_w == 1 && (k & 3) == 0;
    /* Windows inside horizontally are gathered row by row, word by word, when the rows are whole
     * words at 4-byte boundaries (an even channel count). */
    const int32_t words = p->dilation_w == 1 && (ic & 1) == 0 && ((uintptr_t)input & 3u) == 0 ?
                          (p->filter_w * ic) >> 1 : 0;
    int32_t b, oy, ox;
    mcf_conv_s16_zero(col + k, k4 - k);
    for (b = 0; b < p->batches; ++b) {
        const int16_t *in_b = input + b * p->input_h * in_row;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            int32_t ky_lo, ky_hi;
            mcf_tap_range(iy0, p->input_h, p->filter_h, p->dilation_h, &ky_lo, &ky_hi);
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                const int16_t *direct = in_b + iy0 * in_row + ix0 * ic;
                if (run && ky_hi > ky_lo && ix0 >= 0 && ix0 + p->filter_w <= p->input_w &&
                    ((uintptr_t)direct & 3u) == 0) {
                    mcf_conv_s16_pixel(p, direct, filter, k4, output);
                } else {
                    if (words && ix0 >= 0 && ix0 + p->filter_w <= p->input_w) {
                        mcf_conv_s16_rows(p, in_b, iy0, ix0, ky_lo, ky_hi, words, col);
                    } else {
                        mcf_conv_s16_column(p, in_b, iy0, ix0, ky_lo, ky_hi, col);
                    }
                    mcf_conv_s16_pixel(p, col, filter, k4, output);
                }
                output += p->output_c;
            }
        }
    }
}

static MCF_NOINLINE void mcf_conv2d_s16_stack(const mcf_conv_s16_params *p, const int16_t *input,
                                              const int8_t *filter, int16_t *output)
{
    uint32_t col[MCF_CONV_S16_STACK_MAX_K / 2]; /* words: 4-byte aligned */
    mcf_conv2d_s16_columns(p, input, (const uint32_t *)(const void *)filter, output, (int16_t *)col);
}
#endif /* MCF_KERNELS_FAST */

void mcf_conv2d_s16(const mcf_conv_s16_params *p, const int16_t *input, const int8_t *filter, int16_t *output)
{
#if MCF_KERNELS_FAST
    if (p->scratch) {
        mcf_conv2d_s16_columns(p, input, (const uint32_t *)(const void *)filter, output, p->scratch);
    } else {
        mcf_conv2d_s16_stack(p, input, filter, output);
    }
#else
    mcf_conv2d_s16_ref(p, input, filter, output);
#endif
}

/* ---- DEPTHWISE_CONV_2D ------------------------------------------------------------------ */

#if MCF_KERNELS_FAST
/* One output pixel of a depthwise convolution with depth multiplier 1, channels [c0, input_c), two
 * per pass. The filter holds, per tap, one word per channel pair: (w[c], w[c + 1]) as two int16 (a
 * zero channel after an odd last one). On DSP cores SMLABB and SMLATT take both channels of an
 * input word. A window row's products (|x * w| <= 2^22, filter_w <= 256) sum exactly in int32. */
static void mcf_dw_s16_pairs(const mcf_conv_s16_params *p, const int16_t *px, int32_t ky_lo, int32_t ky_hi,
                             int32_t kx_lo, int32_t kx_hi, const int8_t *filter, int32_t c0, int16_t *out)
{
    const int32_t ic = p->input_c;
    const int32_t in_row = p->input_w * ic;
    const int32_t step = p->dilation_w * ic;     /* input values between window columns */
    const int32_t tap_bytes = 4 * ((ic + 1) >> 1); /* filter bytes per tap */
    int32_t c, ky, kx;
    for (c = c0; c < ic; c += 2) {
        const int32_t two = c + 1 < ic;
        const int8_t *w_c = filter + 2 * c;
        int64_t acc0 = p->bias[c], acc1 = two ? p->bias[c + 1] : 0;
        for (ky = ky_lo; ky < ky_hi; ++ky) {
            const int16_t *x = px + ky * p->dilation_h * in_row + c;
            const int8_t *w = w_c + ky * p->filter_w * tap_bytes;
            int32_t s0 = 0, s1 = 0;
            if (two) {
                for (kx = kx_lo; kx < kx_hi; ++kx) {
                    const uint32_t xv = mcf_read_u32(x + kx * step), wv = mcf_read_u32(w + kx * tap_bytes);
#if MCF_KERNELS_DSP
                    s0 = mcf_smlabb(xv, wv, s0);
                    s1 = mcf_smlatt(xv, wv, s1);
#else
                    s0 += (int32_t)(int16_t)(xv & 0xFFFFu) * (int16_t)(wv & 0xFFFFu);
                    s1 += (int32_t)(int16_t)(xv >> 16) * (int16_t)(wv >> 16);
#endif
                }
            } else {
                for (kx = kx_lo; kx < kx_hi; ++kx) {
                    s0 += (int32_t)x[kx * step] * mcf_read_s16(w + kx * tap_bytes);
                }
            }
            acc0 += s0;
            acc1 += s1;
        }
        out[c] = mcf_conv_s16_out(p, acc0, c);
        if (two) {
            out[c + 1] = mcf_conv_s16_out(p, acc1, c + 1);
        }
    }
}

/* The same with the rescaling folded (`folded`, at most 256 taps: a channel's whole sum is exact in
 * int32), eight then four channels per pass: per tap and four channels two input words and two
 * filter words feed two SMLABB and two SMLATT. Returns the first channel left for mcf_dw_s16_pairs
 * (input_c rounded down to 4). */
static int32_t mcf_dw_s16_quads(const mcf_conv_s16_params *p, const int16_t *px, int32_t ky_lo, int32_t ky_hi,
                                int32_t kx_lo, int32_t kx_hi, const uint32_t *filter, int16_t *out)
{
    const int32_t ic = p->input_c;
    const int32_t row_step = p->dilation_h * p->input_w * ic;
    const int32_t col_step = p->dilation_w * ic;
    const int32_t tap_words = (ic + 1) >> 1;
    const int32_t row_words = p->filter_w * tap_words;
    const int32_t n_kx = kx_hi - kx_lo;
    const int16_t *x0 = px + ky_lo * row_step + kx_lo * col_step;
    const uint32_t *w0 = filter + ky_lo * row_words + kx_lo * tap_words;
    int32_t c, ky, kx;
    for (c = 0; c + 8 <= ic; c += 8, x0 += 8, w0 += 4) {
        int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        const int16_t *xr = x0;
        const uint32_t *wr = w0;
        for (ky = ky_lo; ky < ky_hi; ++ky, xr += row_step, wr += row_words) {
            const int16_t *x = xr;
            const uint32_t *w = wr;
            const int16_t *const x_end = xr + n_kx * col_step;
            for (; x != x_end; x += col_step, w += tap_words) {
                uint32_t xa = mcf_read_u32(x), xb = mcf_read_u32(x + 2);
                uint32_t wa = w[0], wb = w[1];
#if MCF_KERNELS_DSP
                s0 = mcf_smlabb(xa, wa, s0);
                s1 = mcf_smlatt(xa, wa, s1);
                s2 = mcf_smlabb(xb, wb, s2);
                s3 = mcf_smlatt(xb, wb, s3);
                xa = mcf_read_u32(x + 4);
                xb = mcf_read_u32(x + 6);
                wa = w[2];
                wb = w[3];
                s4 = mcf_smlabb(xa, wa, s4);
                s5 = mcf_smlatt(xa, wa, s5);
                s6 = mcf_smlabb(xb, wb, s6);
                s7 = mcf_smlatt(xb, wb, s7);
#else
                s0 += (int32_t)(int16_t)(xa & 0xFFFFu) * (int16_t)(wa & 0xFFFFu);
                s1 += (int32_t)(int16_t)(xa >> 16) * (int16_t)(wa >> 16);
                s2 += (int32_t)(int16_t)(xb & 0xFFFFu) * (int16_t)(wb & 0xFFFFu);
                s3 += (int32_t)(int16_t)(xb >> 16) * (int16_t)(wb >> 16);
                xa = mcf_read_u32(x + 4);
                xb = mcf_read_u32(x + 6);
                wa = w[2];
                wb = w[3];
                s4 += (int32_t)(int16_t)(xa & 0xFFFFu) * (int16_t)(wa & 0xFFFFu);
                s5 += (int32_t)(int16_t)(xa >> 16) * (int16_t)(wa >> 16);
                s6 += (int32_t)(int16_t)(xb & 0xFFFFu) * (int16_t)(wb & 0xFFFFu);
                s7 += (int32_t)(int16_t)(xb >> 16) * (int16_t)(wb >> 16);
#endif
            }
        }
        {
            int32_t sums[8];
            sums[0] = s0;
            sums[1] = s1;
            sums[2] = s2;
            sums[3] = s3;
            sums[4] = s4;
            sums[5] = s5;
            sums[6] = s6;
            sums[7] = s7;
            mcf_conv_s16_finish(p, sums, c, 8, out + c);
        }
    }
    for (; c + 4 <= ic; c += 4, x0 += 4, w0 += 2) {
        int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        const int16_t *xr = x0;
        const uint32_t *wr = w0;
        for (ky = ky_lo; ky < ky_hi; ++ky, xr += row_step, wr += row_words) {
            const int16_t *x = xr;
            const uint32_t *w = wr;
            for (kx = 0; kx < n_kx; ++kx, x += col_step, w += tap_words) {
                const uint32_t x01 = mcf_read_u32(x), x23 = mcf_read_u32(x + 2);
                const uint32_t w01 = w[0], w23 = w[1];
#if MCF_KERNELS_DSP
                s0 = mcf_smlabb(x01, w01, s0);
                s1 = mcf_smlatt(x01, w01, s1);
                s2 = mcf_smlabb(x23, w23, s2);
                s3 = mcf_smlatt(x23, w23, s3);
#else
                s0 += (int32_t)(int16_t)(x01 & 0xFFFFu) * (int16_t)(w01 & 0xFFFFu);
                s1 += (int32_t)(int16_t)(x01 >> 16) * (int16_t)(w01 >> 16);
                s2 += (int32_t)(int16_t)(x23 & 0xFFFFu) * (int16_t)(w23 & 0xFFFFu);
                s3 += (int32_t)(int16_t)(x23 >> 16) * (int16_t)(w23 >> 16);
#endif
            }
        }
        {
            int32_t sums[4];
            sums[0] = s0;
            sums[1] = s1;
            sums[2] = s2;
            sums[3] = s3;
            mcf_conv_s16_finish(p, sums, c, 4, out + c);
        }
    }
    return c;
}
#endif

void mcf_depthwise_conv2d_s16(const mcf_conv_s16_params *p, const int16_t *input, const int8_t *filter,
                              int16_t *output)
{
    const int32_t ic = p->input_c;
    const int32_t in_row = p->input_w * ic;
    const int32_t mult = p->depth_multiplier;
    int32_t b, oy, ox, c, m, ky, kx;
#if MCF_KERNELS_FAST
    const int32_t taps = p->filter_h * p->filter_w;
#endif
    for (b = 0; b < p->batches; ++b) {
        const int16_t *in_b = input + b * p->input_h * in_row;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            int32_t ky_lo, ky_hi;
            mcf_tap_range(iy0, p->input_h, p->filter_h, p->dilation_h, &ky_lo, &ky_hi);
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                const int16_t *px = in_b + iy0 * in_row + ix0 * ic; /* the window's (0, 0) tap */
                int32_t kx_lo, kx_hi;
                mcf_tap_range(ix0, p->input_w, p->filter_w, p->dilation_w, &kx_lo, &kx_hi);
#if MCF_KERNELS_FAST
                if (mult == 1) {
                    const int32_t c0 = p->folded ? mcf_dw_s16_quads(p, px, ky_lo, ky_hi, kx_lo, kx_hi,
                                                                    (const uint32_t *)(const void *)filter, output)
                                                 : 0;
                    mcf_dw_s16_pairs(p, px, ky_lo, ky_hi, kx_lo, kx_hi, filter, c0, output);
                    output += ic;
                    continue;
                }
#endif
                for (c = 0; c < ic; ++c) {
                    for (m = 0; m < mult; ++m) {
                        const int32_t o = c * mult + m;
                        int64_t acc = p->bias[o];
#if MCF_KERNELS_FAST
                        /* depth multiplier > 1: filter [output_c][taps], one channel's taps in a
                         * row; a window row's products sum exactly in int32 (see above) */
                        const int8_t *w_o = filter + o * taps;
                        for (ky = ky_lo; ky < ky_hi; ++ky) {
                            const int16_t *x = px + ky * p->dilation_h * in_row + c;
                            const int8_t *w = w_o + ky * p->filter_w;
                            const int32_t step = p->dilation_w * ic;
                            int32_t s = 0;
                            for (kx = kx_lo; kx < kx_hi; ++kx) {
                                s += (int32_t)x[kx * step] * w[kx];
                            }
                            acc += s;
                        }
#else
                        for (ky = ky_lo; ky < ky_hi; ++ky) {
                            for (kx = kx_lo; kx < kx_hi; ++kx) {
                                const int16_t *x = px + ky * p->dilation_h * in_row + kx * p->dilation_w * ic;
                                acc += (int32_t)x[c] * filter[(ky * p->filter_w + kx) * p->output_c + o];
                            }
                        }
#endif
                        *output++ = mcf_conv_s16_out(p, acc, o);
                    }
                }
            }
        }
    }
}

/* ---- TRANSPOSE_CONV --------------------------------------------------------------------- */

void mcf_transpose_conv_s16(const mcf_conv_s16_params *p, const int16_t *input, const int8_t *filter,
                            int16_t *output)
{
    const int32_t ic = p->input_c;
    const int32_t oc = p->output_c;
    const int32_t in_row = p->input_w * ic;
    const int32_t taps = p->filter_h * p->filter_w;
    int32_t b, oy, ox, o, ty, tx;
#if MCF_KERNELS_FAST
    const int32_t block = MCF_DOT_S16_BLOCK_BYTES(ic);
    /* whole groups of at most 256 products (exact in int32) per tap, every pixel's channels at a
     * 4-byte boundary (the filter is emitted as words): the word-pair loop */
    const int32_t words = (ic & 3) == 0 && ic <= 256 && ((uintptr_t)input & 3u) == 0;
    int32_t r;
#else
    int32_t c;
#endif
    for (b = 0; b < p->batches; ++b) {
        const int16_t *image = input + b * p->input_h * in_row;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t *rw = p->rows + 3 * oy;
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t *cl = p->cols + 3 * ox;
                const int16_t *x0 = image + rw[0] * in_row + cl[0] * ic;
                const int32_t t0 = rw[2] * p->filter_w + cl[2]; /* tap of the first input pixel */
                const int32_t t_step = p->stride_h * p->filter_w;
#if MCF_KERNELS_FAST
                /* filter: per block of four channels, per tap, one mcf_dot_s16_block */
                for (o = 0; o < oc; o += 4) {
                    const int32_t n = MCF_MIN(4, oc - o);
                    const int8_t *w_blk = filter + (o >> 2) * taps * block;
                    int64_t acc[4];
                    for (r = 0; r < 4; ++r) {
                        acc[r] = r < n ? p->bias[o + r] : 0;
                    }
                    for (ty = 0; ty < rw[1]; ++ty) {
                        for (tx = 0; tx < cl[1]; ++tx) {
                            const int32_t t = t0 - ty * t_step - tx * p->stride_w;
                            if (words) {
                                int32_t s[4];
                                mcf_dot_s16_groups_aligned(x0 + ty * in_row + tx * ic, w_blk + t * block, ic >> 2, s);
                                for (r = 0; r < 4; ++r) {
                                    acc[r] += s[r];
                                }
                            } else {
                                mcf_dot_s16_block(x0 + ty * in_row + tx * ic, w_blk + t * block, ic, acc);
                            }
                        }
                    }
                    for (r = 0; r < n; ++r) {
                        *output++ = mcf_conv_s16_out(p, acc[r], o + r);
                    }
                }
#else
                for (o = 0; o < oc; ++o) {
                    int64_t acc = p->bias[o];
                    for (ty = 0; ty < rw[1]; ++ty) {
                        for (tx = 0; tx < cl[1]; ++tx) {
                            const int16_t *x = x0 + ty * in_row + tx * ic;
                            const int8_t *w = filter + (o * taps + t0 - ty * t_step - tx * p->stride_w) * ic;
                            for (c = 0; c < ic; ++c) {
                                acc += (int32_t)x[c] * w[c];
                            }
                        }
                    }
                    *output++ = mcf_conv_s16_out(p, acc, o);
                }
#endif
            }
        }
    }
}
