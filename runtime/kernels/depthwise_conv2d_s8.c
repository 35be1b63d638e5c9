/* depthwise_conv2d_s8.c - int8 depthwise 2-D convolution: the reference loop, and a fast path
 * that computes four channels at a time. */
#include "depthwise_conv2d_s8.h"

#include "mcf_common.h"
#include "mcf_dsp.h"
#include "mcf_rv32.h"

/* The reference loop: TFLite Micro's, with the interior-pixel bias folding (see the header). */
static void mcf_depthwise_conv2d_s8_reference(const mcf_depthwise_conv2d_params *p,
                                              const int8_t *input, const int8_t *filter,
                                              int8_t *output)
{
    const int32_t ic_count = p->input_c;
    const int32_t oc_count = p->output_c;
    const int32_t mult = p->depth_multiplier;
    const int32_t in_row = p->input_w * ic_count;         /* elements per input row */
    const int32_t tap_step_y = p->dilation_h * in_row;    /* input step between tap rows */
    const int32_t tap_step_x = p->dilation_w * ic_count;  /* input step between tap columns */
    const int32_t filter_row = p->filter_w * oc_count;    /* filter step between tap rows */
    const int32_t input_offset = p->input_offset;
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->input_h * in_row;
        int32_t oy;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            int32_t ky_lo, ky_hi;
            int32_t ox;
            mcf_tap_range(iy0, p->input_h, p->filter_h, p->dilation_h, &ky_lo, &ky_hi);
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                int32_t kx_lo, kx_hi;
                int32_t interior;
                int32_t px; /* offset of the window's (0, 0) tap; negative when it lies outside */
                int32_t ic;
                mcf_tap_range(ix0, p->input_w, p->filter_w, p->dilation_w, &kx_lo, &kx_hi);
                interior = p->fold_interior && ky_lo == 0 && ky_hi == p->filter_h && kx_lo == 0 &&
                           kx_hi == p->filter_w;
                px = iy0 * in_row + ix0 * ic_count;
                for (ic = 0; ic < ic_count; ++ic) {
                    int32_t m;
                    for (m = 0; m < mult; ++m) {
                        const int32_t oc = ic * mult + m;
                        const int32_t ch = p->per_channel ? oc : 0;
                        int32_t acc;
                        int32_t ky, kx;
                        if (interior) {
                            /* |w * x| <= 2^14: the taps' sum fits int32 for filter_h * filter_w
                             * < 2^17, and folded_bias + sum equals the unfolded value. */
                            acc = p->folded_bias[oc];
                            for (ky = 0; ky < p->filter_h; ++ky) {
                                const int8_t *x = in_b + (px + ky * tap_step_y + ic);
                                const int8_t *w = filter + (ky * filter_row + oc);
                                for (kx = 0; kx < p->filter_w; ++kx) {
                                    acc += (int32_t)w[kx * oc_count] * (int32_t)x[kx * tap_step_x];
                                }
                            }
                        } else {
                            /* |w * (x + input_offset)| <= 128 * 255 < 2^15: the sum fits int32
                             * for filter_h * filter_w < 2^16 (TFLite Micro's bound too). */
                            acc = p->bias[oc];
                            for (ky = ky_lo; ky < ky_hi; ++ky) {
                                for (kx = kx_lo; kx < kx_hi; ++kx) {
                                    const int32_t xv =
                                        in_b[px + ky * tap_step_y + kx * tap_step_x + ic];
                                    const int32_t wv = filter[ky * filter_row + kx * oc_count + oc];
                                    acc += wv * (xv + input_offset);
                                }
                            }
                        }
#if MCF_REQUANT_F32
                        acc = MCF_REQUANT_F32_Q(acc, MCF_KMULT(p, p->per_channel ? p->output_c : 1)[ch], MCF_KSHIFT(p, p->per_channel ? p->output_c : 1)[ch]) + p->output_offset;
#else
                        acc = mcf_requantize(acc, p->multiplier[ch], p->shift[ch]) + p->output_offset;
#endif
                        output[oc] = (int8_t)mcf_clamp(acc, p->act_min, p->act_max);
                    }
                }
                output += oc_count;
            }
        }
    }
}

#if MCF_KERNELS_FAST

#if !MCF_REQUANT_F32
/* mcf_requantize for the rare shifts above -2, kept out of line. */
static MCF_NOINLINE int32_t mcf_dw_requantize_other(int32_t acc, int32_t mult, int32_t shift)
{
    return mcf_requantize(acc, mult, shift);
}
#endif

static inline int32_t mcf_dw_requantize(int32_t acc, int32_t mult, int32_t shift)
{
#if MCF_REQUANT_F32
    (void)shift;
    return MCF_REQUANT_F32_Q(acc, mult, shift);
#else
    if (MCF_LIKELY(shift <= -2)) {
        return mcf_requantize_right(acc, mult, (uint32_t)1 << (-shift - 2), -shift - 1);
    }
    return mcf_dw_requantize_other(acc, mult, shift);
#endif
}

/* Four channels' inputs as one word; fewer than four (the last group) read only what exists. */
static inline uint32_t mcf_dw_load_partial(const int8_t *x, int32_t n)
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

#if !MCF_KERNELS_DSP
/* Halfword `at` of the weight words, read as bytes (the array is uint32_t). */
static inline int32_t mcf_dw_w16(const uint32_t *w, int32_t at)
{
#if MCF_KERNELS_RV32 /* the words are aligned: one LH */
    return ((const int16_t *)(const void *)w)[at];
#else
    return mcf_read_s16((const uint8_t *)w + 2 * at);
#endif
}
#endif

/* One tap of four channels: inputs `xv` (four int8), weights w[0] = (w0, w2), w[1] = (w1, w3).
 * MCF_DW_TAP_AT(x, w) does the same for the four int8 at address x: with GCC-compatible compilers
 * (optimizing) as one block of assembly, eight instructions, so that the compiler cannot hoist
 * every tap's load to the top and run out of registers (as it does with the intrinsics). */
#if MCF_KERNELS_DSP && defined(__GNUC__) && defined(__OPTIMIZE__) && defined(__ARM_FEATURE_DSP) && \
    !defined(MCF_EMULATE_DSP)
#define MCF_DW_TAP_AT(xaddr, w)                                                              \
    do {                                                                                     \
        uint32_t xv_, t_, w0_, w1_;                                                          \
        __asm__("ldr %[xv], [%[xp]]\n\t"                                                     \
                "ldrd %[w0], %[w1], [%[wp]]\n\t"                                             \
                "sxtab16 %[t], %[off], %[xv]\n\t"                                            \
                "sxtab16 %[xv], %[off], %[xv], ror #8\n\t"                                   \
                "smlabb %[a0], %[t], %[w0], %[a0]\n\t"                                       \
                "smlatt %[a2], %[t], %[w0], %[a2]\n\t"                                       \
                "smlabb %[a1], %[xv], %[w1], %[a1]\n\t"                                      \
                "smlatt %[a3], %[xv], %[w1], %[a3]\n\t"                                      \
                : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [xv] "=&r"(xv_), \
                  [t] "=&r"(t_), [w0] "=&r"(w0_), [w1] "=&r"(w1_)                            \
                : [xp] "r"(xaddr), [wp] "r"(w), [off] "r"(offset2)                           \
                : "memory");                                                                 \
    } while (0)
/* Three taps of one filter row: inputs at x, x + step, x + 2 * step; weights w[0..5]. */
#define MCF_DW_ASM_TAP(xload, woff)                            \
    xload "\n\t"                                               \
    "ldrd %[w0], %[w1], [%[wp], #" woff "]\n\t"                \
    "sxtab16 %[t], %[off], %[xv]\n\t"                          \
    "sxtab16 %[xv], %[off], %[xv], ror #8\n\t"                 \
    "smlabb %[a0], %[t], %[w0], %[a0]\n\t"                     \
    "smlatt %[a2], %[t], %[w0], %[a2]\n\t"                     \
    "smlabb %[a1], %[xv], %[w1], %[a1]\n\t"                    \
    "smlatt %[a3], %[xv], %[w1], %[a3]\n\t"
#define MCF_DW_ROW3_AT(xaddr, step, w)                                                       \
    do {                                                                                     \
        uint32_t xv_, t_, w0_, w1_;                                                          \
        __asm__(MCF_DW_ASM_TAP("ldr %[xv], [%[xp]]", "0")                                    \
                MCF_DW_ASM_TAP("ldr %[xv], [%[xp], %[sx]]", "8")                             \
                MCF_DW_ASM_TAP("ldr %[xv], [%[xp], %[sx], lsl #1]", "16")                    \
                : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [xv] "=&r"(xv_), \
                  [t] "=&r"(t_), [w0] "=&r"(w0_), [w1] "=&r"(w1_)                            \
                : [xp] "r"(xaddr), [sx] "r"(step), [wp] "r"(w), [off] "r"(offset2)           \
                : "memory");                                                                 \
    } while (0)
#elif MCF_KERNELS_RV32 /* four LB, four LH: no word to unpack */
#define MCF_DW_TAP_AT(xaddr, w) MCF_RV32_DW_TAP((xaddr), (w), offset)
#define MCF_DW_ROW3_AT(xaddr, step, w) MCF_RV32_DW_ROW3((xaddr), (step), (w), offset)
#else
#define MCF_DW_TAP_AT(xaddr, w) MCF_DW_TAP(mcf_read_u32(xaddr), w)
#define MCF_DW_ROW3_AT(xaddr, step, w)                    \
    do {                                                  \
        MCF_DW_TAP_AT((xaddr), (w));                      \
        MCF_DW_TAP_AT((xaddr) + (step), (w) + 2);         \
        MCF_DW_TAP_AT((xaddr) + 2 * (step), (w) + 4);     \
    } while (0)
#endif
#if MCF_KERNELS_DSP
#define MCF_DW_TAP(xv, w)                                       \
    do {                                                        \
        const uint32_t x02_ = mcf_sxtab16(offset2, (xv));       \
        const uint32_t x13_ = mcf_sxtab16_ror8(offset2, (xv));  \
        const uint32_t w02_ = (w)[0], w13_ = (w)[1];            \
        a0 = mcf_smlabb(x02_, w02_, a0);                        \
        a2 = mcf_smlatt(x02_, w02_, a2);                        \
        a1 = mcf_smlabb(x13_, w13_, a1);                        \
        a3 = mcf_smlatt(x13_, w13_, a3);                        \
    } while (0)
#else
#define MCF_DW_TAP(xv, w)                                                       \
    do {                                                                        \
        const uint32_t v_ = (xv);                                               \
        a0 += ((int8_t)(v_ & 0xFFu) + offset) * mcf_dw_w16((w), 0);             \
        a2 += ((int8_t)((v_ >> 16) & 0xFFu) + offset) * mcf_dw_w16((w), 1);     \
        a1 += ((int8_t)((v_ >> 8) & 0xFFu) + offset) * mcf_dw_w16((w), 2);      \
        a3 += ((int8_t)(v_ >> 24) + offset) * mcf_dw_w16((w), 3);               \
    } while (0)
#endif

/* What the per-pixel routine needs besides pointers, so that it can stay out of line. */
typedef struct {
    int32_t channels;
    int32_t taps;       /* filter_h * filter_w */
    int32_t filter_w;
    int32_t step_x;     /* input bytes between tap columns */
    int32_t step_y;     /* input bytes between tap rows */
    int32_t offset;     /* input offset */
    int32_t out_offset;
    int32_t act_min;
    int32_t act_max;
    int32_t qstep;      /* 1 per channel, 0 per tensor */
    const int32_t *bias;
    const int32_t *multiplier;
    const int32_t *shift;
    const int8_t *x_end; /* one past the input: a partial group reads whole words where they fit */
} mcf_dw_ctx;

/* Output zero point and clamp, in locals (stores through int8_t pointers may alias the context). */
typedef struct {
    int32_t offset;
    int32_t act_min;
    int32_t act_max;
} mcf_dw_clamp;

static inline int8_t mcf_dw_out(mcf_dw_clamp c, int32_t acc, int32_t mult, int32_t shift, int full)
{
    return mcf_clamp8(mcf_dw_requantize(acc, mult, shift) + c.offset, c.act_min, c.act_max, full);
}

/* The taps of one group of four channels read as words (a0..a3, x, w, rows, cols: the caller's). */
#define MCF_DW_WORD_TAPS()                                      \
    do {                                                        \
        if (rows == 3 && cols == 3 && filter_w == 3) {          \
            const int8_t *r_ = x;                               \
            MCF_DW_ROW3_AT(r_, step_x, w);                      \
            r_ += step_y;                                       \
            MCF_DW_ROW3_AT(r_, step_x, w + 6);                  \
            r_ += step_y;                                       \
            MCF_DW_ROW3_AT(r_, step_x, w + 12);                 \
        } else {                                                \
            const int8_t *r_ = x;                               \
            const uint32_t *wr_ = w;                            \
            int32_t ky_, kx_;                                   \
            for (ky_ = 0; ky_ < rows; ++ky_) {                  \
                const int8_t *xp_ = r_;                         \
                const uint32_t *wp_ = wr_;                      \
                for (kx_ = 0; kx_ < cols; ++kx_) {              \
                    MCF_DW_TAP_AT(xp_, wp_);                    \
                    xp_ += step_x;                              \
                    wp_ += 2;                                   \
                }                                               \
                r_ += step_y;                                   \
                wr_ += 2 * filter_w;                            \
            }                                                   \
        }                                                       \
    } while (0)

/*
 * Every channel of one output pixel. `x` is the first tap inside the image (channel 0), `w` its
 * weights in group 0; rows x cols taps are inside. A full 3x3 window takes an unrolled route.
 * `full`: the activation range is all of int8 (specialized below).
 */
static MCF_ALWAYS_INLINE void mcf_dw_pixel_impl(const mcf_dw_ctx *k, const int8_t *x, const uint32_t *w,
                                                int32_t rows, int32_t cols, int8_t *out, const int full)
{
    const int32_t channels = k->channels;
    const int32_t whole = channels & ~3; /* channels in whole groups of four */
    const int32_t step_x = k->step_x;
    const int32_t step_y = k->step_y;
    const int32_t group_words = 2 * k->taps;
    const int32_t offset = k->offset;
    const int32_t qstep = k->qstep;
    const int32_t filter_w = k->filter_w;
    const int32_t *mult = k->multiplier;
    const int32_t *shift = k->shift;
    const int32_t *bias = k->bias;
    mcf_dw_clamp clamp;
#if MCF_KERNELS_DSP
    const uint32_t offset2 = mcf_dup16(offset);
#endif
    int32_t c;
    clamp.offset = k->out_offset;
    clamp.act_min = k->act_min;
    clamp.act_max = k->act_max;
    for (c = 0; c < whole; c += 4) {
        int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
        MCF_DW_WORD_TAPS();
        out[0] = mcf_dw_out(clamp, a0, mult[0], shift[0], full);
        out[1] = mcf_dw_out(clamp, a1, mult[qstep], shift[qstep], full);
        out[2] = mcf_dw_out(clamp, a2, mult[2 * qstep], shift[2 * qstep], full);
        out[3] = mcf_dw_out(clamp, a3, mult[3 * qstep], shift[3 * qstep], full);
        x += 4;
        w += group_words;
        out += 4;
        bias += 4;
        mult += 4 * qstep;
        shift += 4 * qstep;
    }
    if (c < channels) { /* the last 1..3 channels (their padded weights are 0) */
        {
            const int32_t n = channels - c;
            int32_t a0 = bias[0], a1, a2, a3 = 0;
            /* bytes from the group's first tap to the end of its last tap's word */
            const int32_t span = rows > 0 && cols > 0 ? (rows - 1) * step_y + (cols - 1) * step_x + 4 : 0;
            a1 = n > 1 ? bias[1] : 0;
            a2 = n > 2 ? bias[2] : 0;
            if (k->x_end - x >= span) {
                /* Whole words where the last one lies inside the input: the lanes past the
                 * channels read the next pixel's bytes, against zero weights, and are not stored. */
                MCF_DW_WORD_TAPS();
            } else { /* at the input's end: read only the channels */
                const int8_t *r = x;
                const uint32_t *wr = w;
                int32_t ky, kx;
                for (ky = 0; ky < rows; ++ky) {
                    const int8_t *xp = r;
                    const uint32_t *wp = wr;
                    for (kx = 0; kx < cols; ++kx) {
                        MCF_DW_TAP(mcf_dw_load_partial(xp, n), wp);
                        xp += step_x;
                        wp += 2;
                    }
                    r += step_y;
                    wr += 2 * filter_w;
                }
            }
            out[0] = mcf_dw_out(clamp, a0, mult[0], shift[0], full);
            if (n > 1) {
                out[1] = mcf_dw_out(clamp, a1, mult[qstep], shift[qstep], full);
            }
            if (n > 2) {
                out[2] = mcf_dw_out(clamp, a2, mult[2 * qstep], shift[2 * qstep], full);
            }
            (void)a3;
        }
    }
}

static MCF_NOINLINE void mcf_dw_pixel_full(const mcf_dw_ctx *k, const int8_t *x, const uint32_t *w,
                                           int32_t rows, int32_t cols, int8_t *out)
{
    mcf_dw_pixel_impl(k, x, w, rows, cols, out, 1);
}

static MCF_NOINLINE void mcf_dw_pixel_clamp(const mcf_dw_ctx *k, const int8_t *x, const uint32_t *w,
                                            int32_t rows, int32_t cols, int8_t *out)
{
    mcf_dw_pixel_impl(k, x, w, rows, cols, out, 0);
}

/*
 * Depth multiplier 2 or more. Per output pixel and input channel, the window is gathered once as
 * int16 taps (t = ky * filter_w + kx), x + input_offset inside the image and 0 outside (TFLite
 * Micro skips those taps: a zero adds nothing), read back as words j of two taps (2j, 2j+1, low
 * halfword first); each of the channel's output channels is then one dot product over those words,
 * four (or two, or one) output channels per pass, one SMLAD per word and channel on cores with the
 * DSP extension. `w` holds, per input channel, for each group of four of its output channels and
 * each word j, the weight words (w[2j][o], w[2j+1][o]) of o, o+1, o+2, o+3; then a pair the same
 * way and a last single channel (one word per j) when the multiplier leaves them; zeros past the
 * last tap
 * (mcuforge.generator.ops.conv.depthwise_tap_pair_layout). Accumulators start at the unfolded bias:
 * the reference's sums, in another order.
 */
#if !MCF_KERNELS_DSP
/* The two int16 halves of a word, without implementation-defined conversions. */
static inline int32_t mcf_dwm_lo(uint32_t v)
{
    return (int32_t)(v & 0x7FFFu) - (int32_t)(v & 0x8000u);
}

static inline int32_t mcf_dwm_hi(uint32_t v)
{
    return mcf_dwm_lo(v >> 16);
}
#endif

/* acc + the products of the halves of x and w (SMLAD). */
static inline int32_t mcf_dwm_mac2(uint32_t x, uint32_t w, int32_t acc)
{
#if MCF_KERNELS_DSP
    return mcf_smlad(x, w, acc);
#else
    return acc + mcf_dwm_lo(x) * mcf_dwm_lo(w) + mcf_dwm_hi(x) * mcf_dwm_hi(w);
#endif
}

/* The taps of one input channel's window as int16, x + input_offset inside the image and 0 outside,
 * then a 0 (an odd last pair); `at` is the offset of its (0, 0) tap from in_b (negative or past the
 * image when it lies outside); the taps of rows [ky_lo, ky_hi) and columns [kx_lo, kx_hi) are inside. */
static MCF_ALWAYS_INLINE void mcf_dwm_gather(const mcf_depthwise_conv2d_params *p, const int8_t *in_b, int32_t at,
                                             int32_t step_x, int32_t step_y, int32_t ky_lo, int32_t ky_hi,
                                             int32_t kx_lo, int32_t kx_hi, int16_t *s)
{
    const int32_t fh = p->filter_h, fw = p->filter_w, offset = p->input_offset;
    int32_t ky, kx;
    if (ky_lo == 0 && ky_hi == fh && kx_lo == 0 && kx_hi == fw) { /* every tap inside */
        const int8_t *row = in_b + at;
        for (ky = 0; ky < fh; ++ky, row += step_y) {
            const int8_t *x = row;
            for (kx = 0; kx < fw; ++kx, x += step_x) {
                *s++ = (int16_t)(*x + offset);
            }
        }
    } else {
        for (ky = 0; ky < fh; ++ky) {
            const int32_t row_inside = ky >= ky_lo && ky < ky_hi;
            for (kx = 0; kx < fw; ++kx) {
                *s++ = (int16_t)(row_inside && kx >= kx_lo && kx < kx_hi
                                     ? in_b[at + ky * step_y + kx * step_x] + offset
                                     : 0);
            }
        }
    }
    *s = 0;
}

static MCF_ALWAYS_INLINE void mcf_dwm_impl(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                           const uint32_t *filter, int8_t *output, const int full)
{
    const int32_t in_c = p->input_c;
    const int32_t m = p->depth_multiplier;
    const int32_t words = (p->filter_h * p->filter_w + 1) >> 1;
    const int32_t in_row = p->input_w * in_c;
    const int32_t step_x = p->dilation_w * in_c;
    const int32_t step_y = p->dilation_h * in_row;
    const int32_t qstep = p->per_channel ? 1 : 0;
    int16_t taps[MCF_DW_MULT_MAX_TAPS + 2];
    mcf_dw_clamp clamp;
    int32_t b;
    clamp.offset = p->output_offset;
    clamp.act_min = p->act_min;
    clamp.act_max = p->act_max;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->input_h * in_row;
        int32_t oy;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            int32_t ky_lo, ky_hi, ox;
            mcf_tap_range(iy0, p->input_h, p->filter_h, p->dilation_h, &ky_lo, &ky_hi);
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                const uint32_t *w = filter;
                const int32_t *bias = p->bias;
                const int32_t *mult = MCF_KMULT(p, p->per_channel ? p->output_c : 1), *shift = MCF_KSHIFT(p, p->per_channel ? p->output_c : 1);
                int32_t kx_lo, kx_hi, ic;
                mcf_tap_range(ix0, p->input_w, p->filter_w, p->dilation_w, &kx_lo, &kx_hi);
                for (ic = 0; ic < in_c; ++ic) {
                    int32_t o = 0;
                    mcf_dwm_gather(p, in_b, iy0 * in_row + ix0 * in_c + ic, step_x, step_y, ky_lo, ky_hi, kx_lo,
                                   kx_hi, taps);
                    for (; o + 4 <= m; o += 4) { /* four output channels a pass */
                        int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3], j;
                        for (j = 0; j < words; ++j) {
                            const uint32_t xv = mcf_read_u32(taps + 2 * j);
                            a0 = mcf_dwm_mac2(xv, w[0], a0);
                            a1 = mcf_dwm_mac2(xv, w[1], a1);
                            a2 = mcf_dwm_mac2(xv, w[2], a2);
                            a3 = mcf_dwm_mac2(xv, w[3], a3);
                            w += 4;
                        }
                        output[0] = mcf_dw_out(clamp, a0, mult[0], shift[0], full);
                        output[1] = mcf_dw_out(clamp, a1, mult[qstep], shift[qstep], full);
                        output[2] = mcf_dw_out(clamp, a2, mult[2 * qstep], shift[2 * qstep], full);
                        output[3] = mcf_dw_out(clamp, a3, mult[3 * qstep], shift[3 * qstep], full);
                        output += 4;
                        bias += 4;
                        mult += 4 * qstep;
                        shift += 4 * qstep;
                    }
                    if (o + 2 <= m) {
                        int32_t a0 = bias[0], a1 = bias[1], j;
                        for (j = 0; j < words; ++j) {
                            const uint32_t xv = mcf_read_u32(taps + 2 * j);
                            a0 = mcf_dwm_mac2(xv, w[0], a0);
                            a1 = mcf_dwm_mac2(xv, w[1], a1);
                            w += 2;
                        }
                        output[0] = mcf_dw_out(clamp, a0, mult[0], shift[0], full);
                        output[1] = mcf_dw_out(clamp, a1, mult[qstep], shift[qstep], full);
                        output += 2;
                        bias += 2;
                        mult += 2 * qstep;
                        shift += 2 * qstep;
                        o += 2;
                    }
                    if (o < m) { /* an odd multiplier: the channel's last output alone */
                        int32_t a0 = bias[0], j;
                        for (j = 0; j < words; ++j) {
                            a0 = mcf_dwm_mac2(mcf_read_u32(taps + 2 * j), w[j], a0);
                        }
                        w += words;
                        output[0] = mcf_dw_out(clamp, a0, mult[0], shift[0], full);
                        output += 1;
                        bias += 1;
                        mult += qstep;
                        shift += qstep;
                    }
                }
            }
        }
    }
}

/*
 * Depth multiplier 1. `w` holds, for each group of four channels c = 4g .. 4g+3 (the last one
 * padded with zero weights) and each tap t = ky * filter_w + kx, two words of int16 weights:
 * (w[t][c], w[t][c+2]) and (w[t][c+1], w[t][c+3]) - the order SXTAB16 / SXTAB16 ROR #8 widen
 * four input bytes into. Taps outside the image are skipped, as in the reference; accumulators
 * start at the unfolded bias and add w * (x + input_offset), |each| < 2^15: the reference's sums.
 */
typedef void (*mcf_dw_pixel_fn)(const mcf_dw_ctx *k, const int8_t *x, const uint32_t *w, int32_t rows,
                                int32_t cols, int8_t *out);

#if !MCF_KERNELS_RV32
/*
 * `count` output pixels of one row whose 3x3 windows lie wholly inside the image, every channel,
 * for channel counts that are not a multiple of four (depth multiplier 1): the groups of four
 * channels of mcf_dw_pixel_impl without its per-pixel call and window clipping, the last group's
 * whole words read without a bounds test (the caller checked that the last pixel's lie inside the
 * input; the lanes past the channels meet zero weights, start from 0 and are not stored).
 * `channels` is a constant where specialized (mcf_dw_small_row). `x`: the first pixel's window
 * (0, 0) tap, channel 0; x_step: input bytes between neighbouring pixels' windows.
 */
/* Values the groups of mcf_dw_small_run share, in locals. */
typedef struct {
    int32_t step_x;
    int32_t step_y;
    int32_t qstep;
    int32_t offset;
#if MCF_KERNELS_DSP
    uint32_t offset2;
#endif
    mcf_dw_clamp clamp;
} mcf_dw_small;

/* One group of n (1..4) channels: x, w, out, bias, mult, shift at the group's first channel. */
static MCF_ALWAYS_INLINE void mcf_dw_small_group(const mcf_dw_small *s, const int8_t *x, const uint32_t *w,
                                                 int8_t *out, const int32_t *bias, const int32_t *mult,
                                                 const int32_t *shift, const int32_t n, const int full)
{
    const int32_t step_x = s->step_x;
    const int32_t qstep = s->qstep;
    const int32_t offset = s->offset;
#if MCF_KERNELS_DSP
    const uint32_t offset2 = s->offset2;
#endif
    int32_t a0 = bias[0];
    int32_t a1 = n > 1 ? bias[1] : 0;
    int32_t a2 = n > 2 ? bias[2] : 0;
    int32_t a3 = n > 3 ? bias[3] : 0;
    (void)offset;
    MCF_DW_ROW3_AT(x, step_x, w);
    MCF_DW_ROW3_AT(x + s->step_y, step_x, w + 6);
    MCF_DW_ROW3_AT(x + 2 * s->step_y, step_x, w + 12);
    out[0] = mcf_dw_out(s->clamp, a0, mult[0], shift[0], full);
    if (n > 1) {
        out[1] = mcf_dw_out(s->clamp, a1, mult[qstep], shift[qstep], full);
    }
    if (n > 2) {
        out[2] = mcf_dw_out(s->clamp, a2, mult[2 * qstep], shift[2 * qstep], full);
    }
    if (n > 3) {
        out[3] = mcf_dw_out(s->clamp, a3, mult[3 * qstep], shift[3 * qstep], full);
    }
}

static MCF_ALWAYS_INLINE void mcf_dw_small_run(const mcf_dw_ctx *k, const int8_t *x, int32_t x_step,
                                               const uint32_t *w, int8_t *out, int32_t count, const int full,
                                               const int32_t channels)
{
    const int32_t *const mult = k->multiplier;
    const int32_t *const shift = k->shift;
    const int32_t *const bias = k->bias;
    const int32_t q4 = 4 * k->qstep;
    mcf_dw_small s;
    s.step_x = k->step_x;
    s.step_y = k->step_y;
    s.qstep = k->qstep;
    s.offset = k->offset;
#if MCF_KERNELS_DSP
    s.offset2 = mcf_dup16(k->offset);
#endif
    s.clamp.offset = k->out_offset;
    s.clamp.act_min = k->act_min;
    s.clamp.act_max = k->act_max;
    for (; count > 0; --count) {
        if (channels == 3) {
            mcf_dw_small_group(&s, x, w, out, bias, mult, shift, 3, full);
        } else if (channels == 6) { /* a group of four, then one of two */
            mcf_dw_small_group(&s, x, w, out, bias, mult, shift, 4, full);
            mcf_dw_small_group(&s, x + 4, w + 18, out + 4, bias + 4, mult + q4, shift + q4, 2, full);
        } else {
            int32_t c;
            for (c = 0; c < channels; c += 4) {
                const int32_t n = channels - c;
                const int32_t g = c >> 2;
                mcf_dw_small_group(&s, x + c, w + 18 * g, out + c, bias + c, mult + g * q4, shift + g * q4,
                                   n < 4 ? n : 4, full);
            }
        }
        x += x_step;
        out += channels;
    }
}

/* mcf_dw_small_run with the channel counts of first layers (3, 6) as constants. */
static MCF_ALWAYS_INLINE void mcf_dw_small_row(const mcf_dw_ctx *k, const int8_t *x, int32_t x_step,
                                               const uint32_t *w, int8_t *out, int32_t count, const int full)
{
    if (k->channels == 3) {
        mcf_dw_small_run(k, x, x_step, w, out, count, full, 3);
    } else if (k->channels == 6) {
        mcf_dw_small_run(k, x, x_step, w, out, count, full, 6);
    } else {
        mcf_dw_small_run(k, x, x_step, w, out, count, full, k->channels);
    }
}
#endif

#if MCF_KERNELS_RV32
/*
 * Channels c0 .. c1-1 of a depth-multiplier-1 layer on RV32, for what mcf_rv32_dw3 does not take
 * (other windows, strides, dilations and overlaps, shifts above -2): output pixels in raster order,
 * the taps inside the image, acc = bias + sum of w * (x + offset) (the reference's form).
 */
static MCF_RV32_SMALL void mcf_dw_rv32_any(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                        const uint32_t *w, int8_t *output, int32_t c0, int32_t c1)
{
    const int32_t channels = p->output_c, in_row = p->input_w * channels;
    const int32_t taps = p->filter_h * p->filter_w, qstep = p->per_channel ? 1 : 0;
    int32_t b, oy, ox, c, ky, kx;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->input_h * in_row;
        for (oy = 0; oy < p->output_h; ++oy) {
            for (ox = 0; ox < p->output_w; ++ox, output += channels) {
                for (c = c0; c < c1; ++c) {
                    /* channel c is lane j of its group; the layout holds lanes in the order 0, 2, 1, 3 */
                    const int32_t j = c & 3;
                    const int16_t *wl = (const int16_t *)(const void *)(w + 2 * taps * (c >> 2)) +
                                        (((j & 1) << 1) | (j >> 1));
                    int32_t acc = p->bias[c];
                    for (ky = 0; ky < p->filter_h; ++ky) {
                        const int32_t iy = oy * p->stride_h - p->pad_top + ky * p->dilation_h;
                        for (kx = 0; kx < p->filter_w; ++kx, wl += 4) {
                            const int32_t ix = ox * p->stride_w - p->pad_left + kx * p->dilation_w;
                            if ((uint32_t)iy < (uint32_t)p->input_h && (uint32_t)ix < (uint32_t)p->input_w) {
                                acc += ((int32_t)in_b[iy * in_row + ix * channels + c] + p->input_offset) * *wl;
                            }
                        }
                    }
                    output[c] = mcf_rv32_out1v(p->multiplier[c * qstep], p->shift[c * qstep],
                                               2 * p->output_offset + 1, p->act_min, p->act_max, acc);
                }
            }
        }
    }
}

/*
 * A 3x3 filter (dilation 1) on RV32: channel by channel, the window sliding along the output's
 * rows or columns (mcf_rv32_dw3) at stride 1 or 2, at most one padding tap across. An output over
 * its own input (the planner's overlap, generator/overlap.py) is safe in raster order of output
 * pixels: channel by channel along x keeps that order within each channel, and an output a whole
 * number of pixels before its input overwrites input bytes of the same channel only. Other layers:
 * mcf_dw_rv32_any.
 */
static MCF_RV32_SMALL void mcf_dw_rv32(const mcf_depthwise_conv2d_params *p, const int8_t *input, const uint32_t *w,
                                      int8_t *output)
{
    const int32_t in_c = p->input_c, in_row = p->input_w * in_c, out_row = p->output_w * in_c;
    const int32_t in_img = p->input_h * in_row, out_img = p->output_h * out_row;
    /* per axis (y, x): inputs, outputs, leading padding, stride, input and output steps */
    const int32_t axis[2][6] = {{p->input_h, p->output_h, p->pad_top, p->stride_h, in_row, out_row},
                                {p->input_w, p->output_w, p->pad_left, p->stride_w, in_c, in_c}};
    const uintptr_t in0 = (uintptr_t)input, out0 = (uintptr_t)output;
    int32_t ok[2], a, i, n, c;
    mcf_rv32_dw3_args k;
    if (p->filter_h != 3 || p->filter_w != 3 || p->dilation_h != 1 || p->dilation_w != 1 || !p->fold_interior) {
        mcf_dw_rv32_any(p, input, w, output, 0, p->output_c);
        return;
    }
    for (a = 0; a < 2; ++a) {
        /* along a: stride 1 or 2, at most one output past those whose window lies inside, its last
         * column the one padding column; across: at most one padding lane, one inside per line */
        const int32_t *l = axis[a], *b = axis[1 - a];
        const int32_t s2 = l[3] == 2, last_in = (l[0] + l[2] - 3) >> s2;
        ok[a] = (l[3] == 1 || s2) && (uint32_t)l[2] <= 1u && l[0] >= 2 &&
                (l[1] <= last_in + 1 || (l[1] == last_in + 2 && (l[1] - 1) * l[3] - l[2] + 2 == l[0])) &&
                (uint32_t)b[2] <= 1u && (b[1] - 1) * b[3] - b[2] < b[0];
    }
    a = ok[0] && (!ok[1] || p->output_h >= p->output_w) ? 0 : 1; /* along the longer axis */
    if (out0 < in0 + (uintptr_t)(p->batches * in_img) && in0 < out0 + (uintptr_t)(p->batches * out_img)) {
        ok[1] = ok[1] && out0 <= in0 && (in0 - out0) % (uintptr_t)in_c == 0;
        ok[0] = 0;
        a = 1;
    }
    if (!ok[a]) {
        mcf_dw_rv32_any(p, input, w, output, 0, p->output_c);
        return;
    }
    for (i = 0; i < 6; ++i) {
        k.a[i] = axis[a][i];
        k.b[i] = axis[1 - a][i];
    }
    k.channels = p->output_c;
    k.ta = a == 0 ? 3 : 1;
    k.tb = 4 - k.ta;
    k.offset = p->input_offset;
    k.folded_bias = p->folded_bias;
    k.o.mult = p->multiplier;
    k.o.shift = p->shift;
    k.o.qstep = p->per_channel ? 1 : 0;
    k.o.offset = p->output_offset;
    k.o.act_min = p->act_min;
    k.o.act_max = p->act_max;
    for (n = 0; n < p->batches; ++n) {
        mcf_rv32_dw3(&k, input + n * in_img, w, output + n * out_img);
    }
    for (c = 0; c < k.channels; ++c) { /* the channels it skipped */
        if (p->shift[c * k.o.qstep] > -2) {
            mcf_dw_rv32_any(p, input, w, output, c, c + 1);
        }
    }
}
#endif

/* Inlined into each entry point with a constant `pixel`: a direct call per output pixel. `small`
 * (a constant): a 3x3 filter whose windows inside the image take mcf_dw_small_pixel with `full`. */
static MCF_ALWAYS_INLINE void mcf_depthwise_conv2d_s8_fast(const mcf_depthwise_conv2d_params *p,
                                                           const int8_t *input, const uint32_t *w, int8_t *output,
                                                           mcf_dw_pixel_fn pixel, const int small, const int full)
{
    const int32_t in_c = p->input_c;
    const int32_t channels = p->output_c; /* input_c * depth multiplier */
    const int32_t in_row = p->input_w * in_c;
    mcf_dw_ctx k;
    int32_t small_span, x_step, ox_lo, ox_hi;
    int32_t b;
#if MCF_KERNELS_RV32
    /* RV32: channel by channel (3x3 windows sliding) or the small generic loop, no pixel routine */
    mcf_dw_rv32(p, input, w, output);
    (void)pixel;
    (void)small;
    (void)full;
    return;
#endif
    k.channels = channels;
    k.taps = p->filter_h * p->filter_w;
    k.filter_w = p->filter_w;
    k.step_x = p->dilation_w * in_c;
    k.step_y = p->dilation_h * in_row;
    k.offset = p->input_offset;
    k.out_offset = p->output_offset;
    k.act_min = p->act_min;
    k.act_max = p->act_max;
    k.qstep = p->per_channel ? 1 : 0;
    k.bias = p->bias;
    k.multiplier = MCF_KMULT(p, p->per_channel ? p->output_c : 1);
    k.shift = MCF_KSHIFT(p, p->per_channel ? p->output_c : 1);
    k.x_end = input + p->batches * p->input_h * in_row;
    /* bytes from a full window's first tap to the end of its last group's last word */
    small_span = 2 * k.step_y + 2 * k.step_x + 4 * ((channels + 3) >> 2);
    x_step = p->stride_w * in_c;
    /* `small`: output columns [ox_lo, ox_hi) have their windows' columns inside the image */
    ox_lo = 0;
    ox_hi = 0;
    if (small) {
        const int32_t last = p->input_w - 1 - 2 * p->dilation_w + p->pad_left; /* of the (0, 0) tap */
        ox_lo = (p->pad_left + p->stride_w - 1) / p->stride_w;
        ox_hi = last >= 0 ? last / p->stride_w + 1 : 0;
        if (ox_hi > p->output_w) {
            ox_hi = p->output_w;
        }
    }
    (void)full;
    (void)small_span;
    (void)x_step;
    (void)ox_lo; /* RV32 builds take the pixel path for these layers too */
    (void)ox_hi;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->input_h * in_row;
        int32_t oy;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            int32_t ky_lo, ky_hi;
            int32_t ox;
            mcf_tap_range(iy0, p->input_h, p->filter_h, p->dilation_h, &ky_lo, &ky_hi);
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                int32_t kx_lo, kx_hi, rows, cols;
                const int8_t *x_first = in_b; /* the first tap inside the image, channel 0 */
                mcf_tap_range(ix0, p->input_w, p->filter_w, p->dilation_w, &kx_lo, &kx_hi);
                rows = ky_hi - ky_lo;
                cols = kx_hi - kx_lo;
                if (rows > 0 && cols > 0) {
                    x_first = in_b + (iy0 + ky_lo * p->dilation_h) * in_row +
                              (ix0 + kx_lo * p->dilation_w) * in_c;
                }
#if !MCF_KERNELS_RV32
                if (small && ox == ox_lo && ox_hi > ox_lo && ky_lo == 0 && ky_hi == 3) {
                    /* the row's pixels whose windows lie inside the image, when the last one's
                     * words do too */
                    const int32_t n = ox_hi - ox_lo;
                    const int8_t *x0 = in_b + iy0 * in_row + ix0 * in_c;
                    if (k.x_end - (x0 + (n - 1) * x_step) >= small_span) {
                        mcf_dw_small_row(&k, x0, x_step, w, output, n, full);
                        output += n * channels;
                        ox = ox_hi - 1;
                        continue;
                    }
                }
#endif
                pixel(&k, x_first, w + 2 * (ky_lo * p->filter_w + kx_lo), rows, cols, output);
                output += channels;
            }
        }
    }
}

#if !MCF_KERNELS_RV32 && !MCF_REQUANT_F32
#define MCF_DW_LINE 1
/*
 * Depth multiplier 1 and a window of one column or one row (filter_w == 1 or filter_h == 1): the
 * line path. The taps of an output pixel that lie inside the image are `step` input bytes apart
 * (the window's axis times its dilation), their weights consecutive in the fast layout (tap
 * t = ky * filter_w + kx). Per group of four channels: the accumulators start at the unfolded bias,
 * each tap adds w * (x + input_offset) as in the pixel path (MCF_DW_TAP_AT, two taps a pass, no
 * window clipping per row), then each channel's short output stage from its constants
 * q = {multiplier, 2^(e-1) + output_offset * 2^e, e}, e = -shift >= 1 (`line_q`): t = SMMULR(2 * acc,
 * multiplier) is TFLite Micro's saturating rounding doubling high multiply (multiplier >= 0),
 * (t + q[1] + (t >> 31)) >> e its rounding right shift with the output offset added; the compiler
 * gives the constants only where no step leaves int32 (generator/ops/depthwise_line.py). The last
 * 1..3 channels are summed one by one (no word read past the channels). Pixels in raster order,
 * channels in order: the pixel path's order, for outputs over their own input.
 */
static MCF_ALWAYS_INLINE int8_t mcf_dwl_out(int32_t acc, const int32_t *q, int32_t lo, int32_t hi, const int full)
{
    const int32_t t = mcf_smmulr(acc + acc, q[0]);
    return mcf_clamp8((t + q[1] + (t >> 31)) >> q[2], lo, hi, full);
}

/* The n taps of one group of four channels into a0..a3: inputs from x, `step` bytes apart; weights
 * from w, two words a tap. With GCC-compatible compilers (optimizing, the DSP extension) one block of
 * assembly, two taps a pass (19 instructions), so that the loop keeps its 13 values in registers. */
#if MCF_KERNELS_DSP && defined(__GNUC__) && defined(__OPTIMIZE__) && defined(__ARM_FEATURE_DSP) && \
    !defined(MCF_EMULATE_DSP)
#define MCF_DWL_ASM_TAP(xload)                                 \
    xload "\n\t"                                               \
    "ldrd %[w0], %[w1], [%[wp]], #8\n\t"                       \
    "sxtab16 %[t], %[off], %[xv]\n\t"                          \
    "sxtab16 %[xv], %[off], %[xv], ror #8\n\t"                 \
    "smlabb %[a0], %[t], %[w0], %[a0]\n\t"                     \
    "smlatt %[a2], %[t], %[w0], %[a2]\n\t"                     \
    "smlabb %[a1], %[xv], %[w1], %[a1]\n\t"                    \
    "smlatt %[a3], %[xv], %[w1], %[a3]\n\t"
#define MCF_DWL_TAPS(x, w, n)                                                                      \
    do {                                                                                           \
        const int8_t *xp_ = (x);                                                                   \
        const uint32_t *wp_ = (w);                                                                 \
        int32_t n_ = (n);                                                                          \
        uint32_t xv_, t_, w0_, w1_;                                                                \
        __asm__ volatile("subs %[n], %[n], #2\n\t"                                                 \
                         "blt 2f\n"                                                                \
                         "1:\n\t" MCF_DWL_ASM_TAP("ldr %[xv], [%[xp]]")                            \
                         MCF_DWL_ASM_TAP("ldr %[xv], [%[xp], %[st]]")                              \
                         "add %[xp], %[xp], %[st], lsl #1\n\t"                                     \
                         "subs %[n], %[n], #2\n\t"                                                 \
                         "bge 1b\n"                                                                \
                         "2:\n\t"                                                                  \
                         "tst %[n], #1\n\t"                                                        \
                         "beq 3f\n\t" MCF_DWL_ASM_TAP("ldr %[xv], [%[xp]]")                        \
                         "3:\n"                                                                    \
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [xp] "+r"(xp_), \
                           [wp] "+r"(wp_), [n] "+r"(n_), [xv] "=&r"(xv_), [t] "=&r"(t_), [w0] "=&r"(w0_), \
                           [w1] "=&r"(w1_)                                                         \
                         : [st] "r"(step), [off] "r"(offset2)                                      \
                         : "cc", "memory");                                                        \
    } while (0)
#else
#define MCF_DWL_TAPS(x, w, n)                       \
    do {                                            \
        const int8_t *xp_ = (x);                    \
        const uint32_t *wp_ = (w);                  \
        for (t = (n); t >= 2; t -= 2) {             \
            MCF_DW_TAP_AT(xp_, wp_);                \
            MCF_DW_TAP_AT(xp_ + step, wp_ + 2);     \
            xp_ += 2 * step;                        \
            wp_ += 4;                               \
        }                                           \
        if (t > 0) {                                \
            MCF_DW_TAP_AT(xp_, wp_);                \
        }                                           \
    } while (0)
#endif

/* What every pixel of the line path shares. */
typedef struct {
    int32_t channels;
    int32_t group_words; /* 2 * taps: weight words per group of four channels */
    int32_t step;        /* input bytes between neighbouring taps */
    int32_t offset;      /* input offset */
    int32_t act_min;
    int32_t act_max;
    const int32_t *q;    /* line_q: biases and output constants */
} mcf_dwl_ctx;

/* The four channels' outputs of a group from a0..a3 and their constants q[0..11] (q advances past
 * them): with GCC-compatible compilers on cores with the DSP extension, eight instructions a channel
 * (SMMLAR adds the rounding constant; the sign of 2 * acc stands for that of t: they differ only
 * where t is 0, and there (q[1] - 1) >> e = q[1] >> e for these constants). */
#if MCF_KERNELS_DSP && defined(__GNUC__) && defined(__OPTIMIZE__) && defined(__ARM_FEATURE_DSP) && \
    !defined(MCF_EMULATE_DSP)
#define MCF_DWL_ASM_OUT(a, at)                              \
    "lsls %[" a "], %[" a "], #1\n\t"                       \
    "ldrd %[m], %[r], [%[q]], #8\n\t"                       \
    "ldr %[e], [%[q]], #4\n\t"                              \
    "smmlar %[r], %[" a "], %[m], %[r]\n\t"                 \
    "add %[r], %[r], %[" a "], asr #31\n\t"                 \
    "asr %[r], %[r], %[e]\n\t"                              \
    "ssat %[r], #8, %[r]\n\t"                               \
    "strb %[r], [%[o], #" at "]\n\t"
#define MCF_DWL_OUT4(q, out)                                                                        \
    do {                                                                                            \
        int32_t m_, r_, e_;                                                                         \
        __asm__ volatile(MCF_DWL_ASM_OUT("a0", "0") MCF_DWL_ASM_OUT("a1", "1") MCF_DWL_ASM_OUT("a2", "2") \
                         MCF_DWL_ASM_OUT("a3", "3")                                                 \
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [q] "+r"(q),  \
                           [m] "=&r"(m_), [r] "=&r"(r_), [e] "=&r"(e_)                              \
                         : [o] "r"(out)                                                             \
                         : "memory");                                                               \
    } while (0)
#else
#define MCF_DWL_OUT4(q, out)                     \
    do {                                         \
        (out)[0] = mcf_dwl_out(a0, (q), lo, hi, 1);   \
        (out)[1] = mcf_dwl_out(a1, (q) + 3, lo, hi, 1); \
        (out)[2] = mcf_dwl_out(a2, (q) + 6, lo, hi, 1); \
        (out)[3] = mcf_dwl_out(a3, (q) + 9, lo, hi, 1); \
        (q) += 12;                               \
    } while (0)
#endif

/* Every channel of one output pixel (see mcf_dwl_run_full). */
static MCF_ALWAYS_INLINE void mcf_dwl_pixel(const mcf_dwl_ctx *k, const int8_t *x, const uint32_t *w, int32_t n,
                                          int8_t *out)
{
    const int32_t channels = k->channels;
    const int32_t step = k->step;
    const int32_t group_words = k->group_words;
    const int32_t lo = -128, hi = 127;
    const int32_t offset = k->offset;
    const int32_t *q = k->q;
    int8_t *const whole_end = out + (channels & ~3);
    int8_t *const end = out + channels;
#if MCF_KERNELS_DSP
    const uint32_t offset2 = mcf_dup16(offset);
#endif
    int32_t t;
    (void)lo;
    (void)hi;
    while (out != whole_end) {
        int32_t a0 = q[0], a1 = q[1], a2 = q[2], a3 = q[3];
        q += 4;
        MCF_DWL_TAPS(x, w, n);
        MCF_DWL_OUT4(q, out);
        x += 4;
        w += group_words;
        out += 4;
    }
    for (; out != end; ++out) { /* lane j of the last group: halfword ((j & 1) << 1) | (j >> 1) of a tap */
        const int32_t j = (int32_t)(out - whole_end);
        const uint8_t *wl = (const uint8_t *)(const void *)w + 2 * (((j & 1) << 1) | (j >> 1));
        const int8_t *xp = x;
        int32_t acc = q[0];
        for (t = 0; t < n; ++t) {
            acc += ((int32_t)*xp + offset) * mcf_read_s16(wl);
            xp += step;
            wl += 8;
        }
        out[0] = mcf_dwl_out(acc, q + 1, lo, hi, 1);
        ++x;
        q += 4;
    }
}

/* Every channel of `count` output pixels (consecutive in the output), results over all of int8: `n`
 * taps from x (channel 0 of the first tap inside the image; the next pixel's x_step bytes on), their
 * weights from w (group 0, that tap). q holds per group of four channels their four biases, then
 * {multiplier, rounding + output offset, e} per channel; per last channel its bias and its three. */
static MCF_NOINLINE void mcf_dwl_run_full(const mcf_dwl_ctx *k, const int8_t *x0, int32_t x_step, const uint32_t *w0,
                                          int32_t n, int8_t *out, int32_t count)
{
    for (; count > 0; --count, x0 += x_step) {
        mcf_dwl_pixel(k, x0, w0, n, out);
        out += k->channels;
    }
}

/* The clamped copy clamps the int8 results of the full one (the same values: act_min and act_max lie in
 * int8), leaving the taps' loop its registers. */
static MCF_NOINLINE void mcf_dwl_run_clamp(const mcf_dwl_ctx *k, const int8_t *x0, int32_t x_step,
                                           const uint32_t *w0, int32_t n, int8_t *out, int32_t count)
{
    const int32_t lo = k->act_min, hi = k->act_max;
    int8_t *const end = out + count * k->channels;
    mcf_dwl_run_full(k, x0, x_step, w0, n, out, count);
    for (; out != end; ++out) {
        *out = (int8_t)mcf_clamp(*out, lo, hi);
    }
}

/* The run on the copy `full` names (a constant where inlined): direct calls, so that the stack bound's
 * call graph sees them. */
static MCF_ALWAYS_INLINE void mcf_dwl_run(const mcf_dwl_ctx *k, const int8_t *x0, int32_t x_step, const uint32_t *w0,
                                          int32_t n, int8_t *out, int32_t count, const int full)
{
    if (full) {
        mcf_dwl_run_full(k, x0, x_step, w0, n, out, count);
    } else {
        mcf_dwl_run_clamp(k, x0, x_step, w0, n, out, count);
    }
}

/* A layer that is one line (a window along y over one input column, or along x over one input row,
 * nothing to pad across): output positions lo .. hi-1 have their whole window inside and run as one
 * sequence; the others are clipped one by one. */
static MCF_ALWAYS_INLINE int mcf_dwl_line(const mcf_depthwise_conv2d_params *p, const mcf_dwl_ctx *k, const int8_t *input,
                                          const uint32_t *w, int8_t *output, const int full)
{
    const int32_t col = p->filter_w == 1; /* the window runs along y */
    const int32_t size = col ? p->input_h : p->input_w, outs = col ? p->output_h : p->output_w;
    const int32_t stride = col ? p->stride_h : p->stride_w, dilation = col ? p->dilation_h : p->dilation_w;
    const int32_t pad = col ? p->pad_top : p->pad_left, taps = col ? p->filter_h : p->filter_w;
    const int32_t pos = p->input_c; /* input bytes per position along the line */
    const int32_t last = size - 1 - (taps - 1) * dilation + pad; /* the last interior window's o * stride */
    int32_t lo, hi, b, o;
    if (col ? (p->input_w != 1 || p->output_w != 1 || p->pad_left != 0)
            : (p->input_h != 1 || p->output_h != 1 || p->pad_top != 0)) {
        return 0;
    }
    lo = (pad + stride - 1) / stride;
    hi = last >= 0 ? last / stride + 1 : 0;
    lo = lo < outs ? lo : outs;
    hi = hi < lo ? lo : (hi > outs ? outs : hi);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * size * pos;
        for (o = 0; o < outs; ++o) {
            int32_t t_lo, t_hi, count = 1;
            const int32_t i0 = o * stride - pad;
            const int8_t *x = in_b;
            if (o == lo && hi > lo) { /* the interior sequence */
                t_lo = 0;
                t_hi = taps;
                count = hi - lo;
            } else {
                mcf_tap_range(i0, size, taps, dilation, &t_lo, &t_hi);
            }
            if (t_hi > t_lo) {
                x = in_b + (i0 + t_lo * dilation) * pos;
            }
            mcf_dwl_run(k, x, stride * pos, w + 2 * t_lo, t_hi - t_lo, output, count, full);
            output += count * k->channels;
            o += count - 1;
        }
    }
    return 1;
}

static MCF_ALWAYS_INLINE void mcf_dwl_impl(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                           const uint32_t *w, int8_t *output, const int full)
{
    const int32_t in_c = p->input_c;
    const int32_t in_row = p->input_w * in_c;
    mcf_dwl_ctx k;
    int32_t b;
    k.channels = p->output_c;
    k.group_words = 2 * p->filter_h * p->filter_w;
    k.step = p->filter_w == 1 ? p->dilation_h * in_row : p->dilation_w * in_c;
    k.offset = p->input_offset;
    k.act_min = p->act_min;
    k.act_max = p->act_max;
    k.q = p->line_q;
    if (mcf_dwl_line(p, &k, input, w, output, full)) {
        return;
    }
    /* a window along a line of an image: pixel by pixel */
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->input_h * in_row;
        int32_t oy;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            int32_t ky_lo, ky_hi, ox;
            mcf_tap_range(iy0, p->input_h, p->filter_h, p->dilation_h, &ky_lo, &ky_hi);
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                int32_t kx_lo, kx_hi, n;
                const int8_t *x = in_b;
                mcf_tap_range(ix0, p->input_w, p->filter_w, p->dilation_w, &kx_lo, &kx_hi);
                n = (ky_hi - ky_lo) * (kx_hi - kx_lo); /* one of the two is 0 or 1 */
                if (n > 0) {
                    x = in_b + (iy0 + ky_lo * p->dilation_h) * in_row + (ix0 + kx_lo * p->dilation_w) * in_c;
                }
                mcf_dwl_run(&k, x, 0, w + 2 * (ky_lo * p->filter_w + kx_lo), n, output, 1, full);
                output += k.channels;
            }
        }
    }
}
#endif

#endif /* MCF_KERNELS_FAST */

void mcf_depthwise_conv2d_s8(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                             const int8_t *filter, int8_t *output)
{
#if MCF_KERNELS_FAST
    if (p->fast_layout && p->depth_multiplier == 1) {
        const int full = p->act_min == -128 && p->act_max == 127;
        (full ? mcf_depthwise_conv2d_s8_fast_full : mcf_depthwise_conv2d_s8_fast_clamp)(p, input, filter, output);
        return;
    }
    if (p->fast_layout && p->depth_multiplier >= 2 && p->filter_h * p->filter_w <= MCF_DW_MULT_MAX_TAPS) {
        const int full = p->act_min == -128 && p->act_max == 127;
        (full ? mcf_depthwise_conv2d_s8_mult_full : mcf_depthwise_conv2d_s8_mult_clamp)(p, input, filter, output);
        return;
    }
#endif
    mcf_depthwise_conv2d_s8_reference(p, input, filter, output);
}

/* The entry points of one path each (see the header). */
void mcf_depthwise_conv2d_s8_ref(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                 const int8_t *filter, int8_t *output)
{
    mcf_depthwise_conv2d_s8_reference(p, input, filter, output);
}

#if MCF_KERNELS_FAST
#define MCF_DW_FAST(pixel) \
    mcf_depthwise_conv2d_s8_fast(p, input, (const uint32_t *)(const void *)filter, output, pixel, 0, 0)
#define MCF_DW_SMALL(pixel, full)                                                                       \
    do {                                                                                                \
        if (p->filter_h == 3 && p->filter_w == 3 && p->depth_multiplier == 1) {                          \
            mcf_depthwise_conv2d_s8_fast(p, input, (const uint32_t *)(const void *)filter, output, pixel, 1, \
                                         full);                                                         \
        } else {                                                                                        \
            MCF_DW_FAST(pixel);                                                                         \
        }                                                                                               \
    } while (0)
#else
#define MCF_DW_FAST(pixel) mcf_depthwise_conv2d_s8_reference(p, input, filter, output)
#define MCF_DW_SMALL(pixel, full) mcf_depthwise_conv2d_s8_reference(p, input, filter, output)
#endif

void mcf_depthwise_conv2d_s8_fast_full(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                       const int8_t *filter, int8_t *output)
{
    MCF_DW_FAST(mcf_dw_pixel_full);
}

void mcf_depthwise_conv2d_s8_fast_clamp(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                        const int8_t *filter, int8_t *output)
{
    MCF_DW_FAST(mcf_dw_pixel_clamp);
}

void mcf_depthwise_conv2d_s8_small_full(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                        const int8_t *filter, int8_t *output)
{
    MCF_DW_SMALL(mcf_dw_pixel_full, 1);
}

void mcf_depthwise_conv2d_s8_small_clamp(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                         const int8_t *filter, int8_t *output)
{
    MCF_DW_SMALL(mcf_dw_pixel_clamp, 0);
}

void mcf_depthwise_conv2d_s8_mult_full(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                       const int8_t *filter, int8_t *output)
{
#if MCF_KERNELS_FAST
    mcf_dwm_impl(p, input, (const uint32_t *)(const void *)filter, output, 1);
#else
    mcf_depthwise_conv2d_s8_reference(p, input, filter, output);
#endif
}

void mcf_depthwise_conv2d_s8_mult_clamp(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                        const int8_t *filter, int8_t *output)
{
#if MCF_KERNELS_FAST
    mcf_dwm_impl(p, input, (const uint32_t *)(const void *)filter, output, 0);
#else
    mcf_depthwise_conv2d_s8_reference(p, input, filter, output);
#endif
}

/* The line path where it is compiled (Arm and host builds with the fast paths, TFLite's output
 * stage), else the pixel path: the same filter layout. */
void mcf_depthwise_conv2d_s8_line_full(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                       const int8_t *filter, int8_t *output)
{
#if MCF_KERNELS_FAST && defined(MCF_DW_LINE)
    mcf_dwl_impl(p, input, (const uint32_t *)(const void *)filter, output, 1);
#else
    MCF_DW_FAST(mcf_dw_pixel_full);
#endif
}

void mcf_depthwise_conv2d_s8_line_clamp(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                        const int8_t *filter, int8_t *output)
{
#if MCF_KERNELS_FAST && defined(MCF_DW_LINE)
    mcf_dwl_impl(p, input, (const uint32_t *)(const void *)filter, output, 0);
#else
    MCF_DW_FAST(mcf_dw_pixel_clamp);
#endif
}
