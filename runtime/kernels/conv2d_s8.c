/* conv2d_s8.c - int8 2-D convolution: the reference loop, and im2col + a blocked matrix product. */
#include "conv2d_s8.h"

#include "mcf_common.h"
#include "mcf_dsp.h"
#include "mcf_rv32.h"

/* The reference loop: TFLite Micro's, with the interior-pixel bias folding (see the header). */
static void mcf_conv2d_s8_reference(const mcf_conv2d_params *p, const int8_t *input,
                                    const int8_t *filter, int8_t *output)
{
    const int32_t in_row = p->input_w * p->input_c;             /* elements per input row */
    const int32_t tap_step_y = p->dilation_h * in_row;          /* input step between tap rows */
    const int32_t tap_step_x = p->dilation_w * p->input_c;      /* input step between tap columns */
    const int32_t filter_row = p->filter_w * p->filter_c;
    const int32_t filter_size = p->filter_h * filter_row;       /* weights per output channel */
    const int32_t out_per_group = p->output_c / p->groups;
    const int32_t fc = p->filter_c;
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
                int32_t g;
                mcf_tap_range(ix0, p->input_w, p->filter_w, p->dilation_w, &kx_lo, &kx_hi);
                interior = p->fold_interior && ky_lo == 0 && ky_hi == p->filter_h && kx_lo == 0 &&
                           kx_hi == p->filter_w;
                px = iy0 * in_row + ix0 * p->input_c;
                for (g = 0; g < p->groups; ++g) {
                    int32_t oc;
                    for (oc = g * out_per_group; oc < (g + 1) * out_per_group; ++oc) {
                        const int8_t *w_oc = filter + oc * filter_size;
                        const int32_t ch = p->per_channel ? oc : 0;
                        int32_t acc = interior ? p->folded_bias[oc] : p->bias[oc];
                        int32_t ky, kx, i;
                        for (ky = ky_lo; ky < ky_hi; ++ky) {
                            for (kx = kx_lo; kx < kx_hi; ++kx) {
                                const int8_t *x =
                                    in_b + (px + ky * tap_step_y + kx * tap_step_x + g * fc);
                                const int8_t *w = w_oc + (ky * filter_row + kx * fc);
                                if (interior) {
                                    /* |w * x| <= 2^14: the taps' sum fits int32 for filter_size
                                     * < 2^17, and folded_bias + sum equals the unfolded value. */
                                    for (i = 0; i < fc; ++i) {
                                        acc += (int32_t)w[i] * (int32_t)x[i];
                                    }
                                } else {
                                    /* |w * (x + input_offset)| <= 128 * 255 < 2^15: the sum fits
                                     * int32 for filter_size < 2^16 (TFLite Micro's bound too). */
                                    for (i = 0; i < fc; ++i) {
                                        acc += (int32_t)w[i] * ((int32_t)x[i] + input_offset);
                                    }
                                }
                            }
                        }
#if MCF_REQUANT_F32
                        acc = MCF_REQUANT_F32_Q(acc, MCF_KMULT(p, p->per_channel ? p->output_c : 1)[ch], MCF_KSHIFT(p, p->per_channel ? p->output_c : 1)[ch]) + p->output_offset;
#else
                        acc = mcf_requantize(acc, p->multiplier[ch], p->shift[ch]) + p->output_offset;
#endif
                        *output++ = (int8_t)mcf_clamp(acc, p->act_min, p->act_max);
                    }
                }
            }
        }
    }
}

#if MCF_KERNELS_FAST

/* Groups of four values per column: ceil(K / 4) rounded up to even (the DSP loop takes two). */
static inline int32_t mcf_conv2d_groups(int32_t k)
{
    return ((k + 7) >> 3) << 1;
}

#if MCF_KERNELS_DSP
/*
 * The 2x2 block's inner loop: for `x` walking the column words of two pixels ([pixel 0: 2 words]
 * [pixel 1: 2 words] per group, an even number of groups) and `w` the weight words of two channels
 * (channel a, channel b per group), adds to a0/a1 (channel a, pixels 0/1) and b0/b1 (channel b).
 * Per group: SXTB16 widens a weight word into (w0, w2) and (w1, w3), which the column words match,
 * and one SMLAD adds two products. With GCC-compatible compilers, optimizing, the loop is written
 * out in assembly (15 instructions per 16 MACs, two groups per pass, post-indexed LDRD); the
 * intrinsics below compute the same sums.
 */
static inline void mcf_dot_2x2(const uint32_t *x, const uint32_t *x_end, const uint32_t *w,
                               int32_t *acc_a0, int32_t *acc_a1, int32_t *acc_b0, int32_t *acc_b1)
{
    int32_t a0 = *acc_a0, a1 = *acc_a1, b0 = *acc_b0, b1 = *acc_b1;
#if defined(__GNUC__) && defined(__OPTIMIZE__) && defined(__ARM_FEATURE_DSP) && !defined(MCF_EMULATE_DSP)
    uint32_t va, vb, x0, x1, t0, t1;
#define MCF_DOT_2X2_GROUP                              \
    "ldrd %[va], %[vb], [%[w]], #8\n\t"                \
    "ldrd %[x0], %[x1], [%[x]], #8\n\t"                \
    "sxtb16 %[t0], %[va]\n\t"                         \
    "sxtb16 %[va], %[va], ror #8\n\t"                 \
    "smlad %[a0], %[t0], %[x0], %[a0]\n\t"            \
    "smlad %[a0], %[va], %[x1], %[a0]\n\t"            \
    "sxtb16 %[t1], %[vb]\n\t"                         \
    "sxtb16 %[vb], %[vb], ror #8\n\t"                 \
    "smlad %[b0], %[t1], %[x0], %[b0]\n\t"            \
    "smlad %[b0], %[vb], %[x1], %[b0]\n\t"            \
    "ldrd %[x0], %[x1], [%[x]], #8\n\t"                \
    "smlad %[a1], %[t0], %[x0], %[a1]\n\t"            \
    "smlad %[a1], %[va], %[x1], %[a1]\n\t"            \
    "smlad %[b1], %[t1], %[x0], %[b1]\n\t"            \
    "smlad %[b1], %[vb], %[x1], %[b1]\n\t"
    __asm__ volatile("1:\n\t" MCF_DOT_2X2_GROUP MCF_DOT_2X2_GROUP
                     "cmp %[x], %[end]\n\t"
                     "bne 1b\n\t"
                     : [a0] "+r"(a0), [a1] "+r"(a1), [b0] "+r"(b0), [b1] "+r"(b1), [x] "+r"(x),
                       [w] "+r"(w), [va] "=&r"(va), [vb] "=&r"(vb), [x0] "=&r"(x0), [x1] "=&r"(x1),
                       [t0] "=&r"(t0), [t1] "=&r"(t1)
                     : [end] "r"(x_end)
                     : "cc", "memory");
#undef MCF_DOT_2X2_GROUP
#else
    while (x != x_end) {
        const uint32_t va = w[0], vb = w[1];
        const uint32_t wa02 = mcf_sxtb16(va), wa13 = mcf_sxtb16_ror8(va);
        const uint32_t wb02 = mcf_sxtb16(vb), wb13 = mcf_sxtb16_ror8(vb);
        uint32_t x0 = x[0], x1 = x[1];
        a0 = mcf_smlad(wa02, x0, a0);
        a0 = mcf_smlad(wa13, x1, a0);
        b0 = mcf_smlad(wb02, x0, b0);
        b0 = mcf_smlad(wb13, x1, b0);
        x0 = x[2];
        x1 = x[3];
        a1 = mcf_smlad(wa02, x0, a1);
        a1 = mcf_smlad(wa13, x1, a1);
        b1 = mcf_smlad(wb02, x0, b1);
        b1 = mcf_smlad(wb13, x1, b1);
        x += 4;
        w += 2;
    }
#endif
    *acc_a0 = a0;
    *acc_a1 = a1;
    *acc_b0 = b0;
    *acc_b1 = b1;
}
#endif /* MCF_KERNELS_DSP */

/*
 * im2col for a pair of output pixels. K = filter_h * filter_w * filter_c values per pixel, in the
 * filter's (ky, kx, c) order: x + input_offset for taps inside the image, 0 for padding taps
 * (which TFLite Micro skips: a zero adds nothing). |x + input_offset| <= 255 fits int16.
 *
 * Layout in 32-bit words, for each group of four values k = 4g .. 4g+3 (zeros past K):
 *   [pixel 0: (x[4g], x[4g+2]) (x[4g+1], x[4g+3])] [pixel 1: the same]
 * each word holding two int16 (low halfword first). That is the order SXTB16 and SXTB16 ROR #8
 * give when they widen a word of four int8 weights, so one SMLAD pairs two weights with two
 * values. `lane` (0 or 1) selects the pixel.
 */
static MCF_ALWAYS_INLINE void mcf_conv2d_im2col(const mcf_conv2d_params *p, const int8_t *in_b, int32_t iy0,
                                                int32_t ix0, uint32_t *cols, int32_t lane, int16_t *staging)
{
    const int32_t fc = p->filter_c; /* == input_c: the fast path runs for groups == 1 only */
    const int32_t in_row = p->input_w * fc;
    const int32_t k_total = p->filter_h * p->filter_w * fc;
    const int32_t offset = p->input_offset;
    int32_t ky_lo, ky_hi, kx_lo, kx_hi, ky, kx;
    uint32_t *dst = cols + 2 * lane;
    mcf_tap_range(iy0, p->input_h, p->filter_h, p->dilation_h, &ky_lo, &ky_hi);
    mcf_tap_range(ix0, p->input_w, p->filter_w, p->dilation_w, &kx_lo, &kx_hi);
    if ((fc & 3) == 0) {
        /* Every tap is whole groups of four channels: widen them four at a time. */
#if MCF_KERNELS_DSP
        const uint32_t offset2 = mcf_dup16(offset);
#endif
        for (ky = 0; ky < p->filter_h; ++ky) {
            const int32_t row_inside = ky >= ky_lo && ky < ky_hi;
            const int8_t *row = row_inside ? in_b + (iy0 + ky * p->dilation_h) * in_row : in_b;
            for (kx = 0; kx < p->filter_w; ++kx) {
                int32_t c;
                if (row_inside && kx >= kx_lo && kx < kx_hi) {
                    const int8_t *x = row + (ix0 + kx * p->dilation_w) * fc;
                    for (c = 0; c < fc; c += 4) {
#if MCF_KERNELS_DSP
                        const uint32_t v = mcf_read_u32(x + c);
                        dst[0] = mcf_sxtab16(offset2, v);
                        dst[1] = mcf_sxtab16_ror8(offset2, v);
#else
                        const int32_t x0 = x[c] + offset, x1 = x[c + 1] + offset;
                        const int32_t x2 = x[c + 2] + offset, x3 = x[c + 3] + offset;
#if MCF_KERNELS_RV32 /* natural order: the RV32 loop loads each halfword by itself */
                        dst[0] = ((uint32_t)x0 & 0xFFFFu) | ((uint32_t)x1 << 16);
                        dst[1] = ((uint32_t)x2 & 0xFFFFu) | ((uint32_t)x3 << 16);
#else
                        dst[0] = ((uint32_t)x0 & 0xFFFFu) | ((uint32_t)x2 << 16);
                        dst[1] = ((uint32_t)x1 & 0xFFFFu) | ((uint32_t)x3 << 16);
#endif
#endif
                        dst += 4;
                    }
                } else {
                    for (c = 0; c < fc; c += 4) {
                        dst[0] = 0;
                        dst[1] = 0;
                        dst += 4;
                    }
                }
            }
        }
    } else {
        /* Taps do not align with groups of four: assemble the window in natural order first. */
        const int32_t row_len = p->filter_w * fc;
        int16_t *s = staging;
        int32_t k;
        for (ky = 0; ky < p->filter_h; ++ky, s += row_len) {
            const int32_t row_inside = ky >= ky_lo && ky < ky_hi;
            int32_t j;
            if (!row_inside) {
                for (j = 0; j < row_len; ++j) {
                    s[j] = 0;
                }
            } else if (p->dilation_w == 1) {
                /* the taps inside are one contiguous run of the input row */
                const int32_t lead = kx_lo * fc, end = kx_hi * fc;
                const int8_t *x = in_b + (iy0 + ky * p->dilation_h) * in_row + ix0 * fc;
                for (j = 0; j < lead; ++j) {
                    s[j] = 0;
                }
                for (; j < end; ++j) {
                    s[j] = (int16_t)(x[j] + offset);
                }
                for (; j < row_len; ++j) {
                    s[j] = 0;
                }
            } else {
                const int8_t *row = in_b + (iy0 + ky * p->dilation_h) * in_row;
                for (kx = 0; kx < p->filter_w; ++kx) {
                    int32_t c;
                    if (kx >= kx_lo && kx < kx_hi) {
                        const int8_t *x = row + (ix0 + kx * p->dilation_w) * fc;
                        for (c = 0; c < fc; ++c) {
                            s[kx * fc + c] = (int16_t)(x[c] + offset);
                        }
                    } else {
                        for (c = 0; c < fc; ++c) {
                            s[kx * fc + c] = 0;
                        }
                    }
                }
            }
        }
        for (k = 0; k + 4 <= k_total; k += 4) {
#if MCF_KERNELS_RV32
            dst[0] = ((uint32_t)(uint16_t)staging[k]) | ((uint32_t)(uint16_t)staging[k + 1] << 16);
            dst[1] = ((uint32_t)(uint16_t)staging[k + 2]) | ((uint32_t)(uint16_t)staging[k + 3] << 16);
#else
            dst[0] = ((uint32_t)(uint16_t)staging[k]) | ((uint32_t)(uint16_t)staging[k + 2] << 16);
            dst[1] = ((uint32_t)(uint16_t)staging[k + 1]) | ((uint32_t)(uint16_t)staging[k + 3] << 16);
#endif
            dst += 4;
        }
        if (k < k_total) { /* the last, partial group: zeros past K */
            const int32_t n = k_total - k;
            const uint32_t x0 = (uint16_t)staging[k];
            const uint32_t x1 = n > 1 ? (uint16_t)staging[k + 1] : 0u;
            const uint32_t x2 = n > 2 ? (uint16_t)staging[k + 2] : 0u;
#if MCF_KERNELS_RV32
            dst[0] = x0 | (x1 << 16);
            dst[1] = x2;
#else
            dst[0] = x0 | (x2 << 16);
            dst[1] = x1;
#endif
            dst += 4;
        }
    }
    {
        const uint32_t *end = cols + 2 * lane + 4 * mcf_conv2d_groups(k_total);
        while (dst != end) { /* zeros up to the even number of groups */
            dst[0] = 0;
            dst[1] = 0;
            dst += 4;
        }
    }
}

#if MCF_KERNELS_RV32
/* One group: a word of four weights (byte j = weight 4g+j) against both pixels' values, which the
 * RV32 columns hold in natural order (x[0..3]: pixel 0, x[4..7]: pixel 1, int16, aligned). */
static inline void mcf_conv2d_mac4(uint32_t w, const uint32_t *x, int32_t *acc0, int32_t *acc1)
{
    const int16_t *v = (const int16_t *)(const void *)x;
    const int32_t w0 = (int8_t)(w & 0xFFu), w1 = (int8_t)((w >> 8) & 0xFFu);
    const int32_t w2 = (int8_t)((w >> 16) & 0xFFu), w3 = (int8_t)(w >> 24);
    *acc0 += w0 * v[0] + w1 * v[1] + w2 * v[2] + w3 * v[3];
    *acc1 += w0 * v[4] + w1 * v[5] + w2 * v[6] + w3 * v[7];
}
#elif !MCF_KERNELS_DSP
/* Halfword `at` of the column words (read as bytes: the words were stored as uint32_t). */
static inline int32_t mcf_col16(const uint32_t *x, int32_t at)
{
    return mcf_read_s16((const uint8_t *)x + 2 * at);
}

/* One group: a word of four weights (byte j = weight 4g+j) against both pixels' values. */
static inline void mcf_conv2d_mac4(uint32_t w, const uint32_t *x, int32_t *acc0, int32_t *acc1)
{
    const int32_t w0 = (int8_t)(w & 0xFFu), w1 = (int8_t)((w >> 8) & 0xFFu);
    const int32_t w2 = (int8_t)((w >> 16) & 0xFFu), w3 = (int8_t)(w >> 24);
    int32_t a = *acc0, b = *acc1; /* one multiply-accumulate per product */
    a += w0 * mcf_col16(x, 0);
    a += w2 * mcf_col16(x, 1);
    a += w1 * mcf_col16(x, 2);
    a += w3 * mcf_col16(x, 3);
    b += w0 * mcf_col16(x, 4);
    b += w2 * mcf_col16(x, 5);
    b += w1 * mcf_col16(x, 6);
    b += w3 * mcf_col16(x, 7);
    *acc0 = a;
    *acc1 = b;
}
#endif

#if !MCF_REQUANT_F32
/* mcf_requantize for the rare shifts above -2, kept out of line. */
static MCF_NOINLINE int32_t mcf_conv2d_requantize_other(int32_t acc, int32_t mult, int32_t shift)
{
    return mcf_requantize(acc, mult, shift);
}
#endif

/* Output zero point and clamp, held in locals (stores through int8_t pointers may alias *p). */
typedef struct {
    int32_t offset;
    int32_t act_min;
    int32_t act_max;
    int full; /* [act_min, act_max] is all of int8: a constant in the specialized copies below */
} mcf_conv2d_clamp;

/* Requantizes one channel's sums for both pixels and stores them. */
static inline void mcf_conv2d_out2(mcf_conv2d_clamp c, int32_t acc0, int32_t acc1, int32_t mult,
                                   int32_t shift, int8_t *out0, int8_t *out1)
{
    int32_t v0, v1;
#if MCF_REQUANT_F32
    (void)shift;
    v0 = MCF_REQUANT_F32_Q(acc0, mult, shift);
    v1 = MCF_REQUANT_F32_Q(acc1, mult, shift);
#else
    if (MCF_LIKELY(shift <= -2)) {
        const uint32_t round_high = (uint32_t)1 << (-shift - 2);
        v0 = mcf_requantize_right(acc0, mult, round_high, -shift - 1);
        v1 = mcf_requantize_right(acc1, mult, round_high, -shift - 1);
    } else {
        v0 = mcf_conv2d_requantize_other(acc0, mult, shift);
        v1 = mcf_conv2d_requantize_other(acc1, mult, shift);
    }
#endif
    *out0 = mcf_clamp8(v0 + c.offset, c.act_min, c.act_max, c.full);
    *out1 = mcf_clamp8(v1 + c.offset, c.act_min, c.act_max, c.full);
}

/*
 * Every output channel of two pixels from their columns: out0[oc], out1[oc] (out1 may equal out0
 * when both columns hold the same pixel). `w` is the filter in the channel-pair layout built by
 * mcuforge.generator.ops.conv.channel_pair_layout: per pair of channels and group of four values,
 * one word of each channel's four int8 weights (zeros past K); an odd last channel alone.
 *
 * Accumulators start at the unfolded bias; each product is |w * (x + input_offset)| <= 128 * 255
 * < 2^15, so a channel's sum stays within int32 for K < 2^16 (TFLite Micro's bound). They are the
 * reference loop's sums, added in another order.
 */
static MCF_ALWAYS_INLINE void mcf_conv2d_pair_impl(const mcf_conv2d_params *p, const uint32_t *cols,
                                                  const uint32_t *w, int8_t *out0, int8_t *out1, const int full)
{
    const int32_t groups = mcf_conv2d_groups(p->filter_h * p->filter_w * p->filter_c);
    const int32_t oc_count = p->output_c;
    const int32_t qstep = p->per_channel ? 1 : 0;
    const int32_t *mult = MCF_KMULT(p, p->per_channel ? p->output_c : 1);
    const int32_t *shift = MCF_KSHIFT(p, p->per_channel ? p->output_c : 1);
    const int32_t *bias = p->bias;
    mcf_conv2d_clamp c;
    int32_t oc = 0;
    c.offset = p->output_offset;
    c.act_min = p->act_min;
    c.act_max = p->act_max;
    c.full = full;
    for (; oc + 2 <= oc_count; oc += 2) {
        const uint32_t *x = cols;
        const uint32_t *x_end = cols + 4 * groups;
        int32_t a0 = bias[oc], a1 = a0;
        int32_t b0 = bias[oc + 1], b1 = b0;
#if MCF_KERNELS_DSP
        mcf_dot_2x2(x, x_end, w, &a0, &a1, &b0, &b1);
        w += 2 * groups;
#else
        while (x != x_end) {
            mcf_conv2d_mac4(w[0], x, &a0, &a1);
            mcf_conv2d_mac4(w[1], x, &b0, &b1);
            x += 4;
            w += 2;
        }
#endif
        mcf_conv2d_out2(c, a0, a1, mult[oc * qstep], shift[oc * qstep], out0 + oc, out1 + oc);
        mcf_conv2d_out2(c, b0, b1, mult[(oc + 1) * qstep], shift[(oc + 1) * qstep], out0 + oc + 1,
                        out1 + oc + 1);
    }
    if (oc < oc_count) { /* an odd last channel: one word per group */
        const uint32_t *x = cols;
        const uint32_t *x_end = cols + 4 * groups;
        int32_t a0 = bias[oc], a1 = a0;
        while (x != x_end) {
#if MCF_KERNELS_DSP
            const uint32_t va = w[0];
            const uint32_t wa02 = mcf_sxtb16(va), wa13 = mcf_sxtb16_ror8(va);
            a0 = mcf_smlad(wa02, x[0], a0);
            a0 = mcf_smlad(wa13, x[1], a0);
            a1 = mcf_smlad(wa02, x[2], a1);
            a1 = mcf_smlad(wa13, x[3], a1);
#else
            mcf_conv2d_mac4(w[0], x, &a0, &a1);
#endif
            x += 4;
            w += 1;
        }
        mcf_conv2d_out2(c, a0, a1, mult[oc * qstep], shift[oc * qstep], out0 + oc, out1 + oc);
    }
}

static MCF_NOINLINE void mcf_conv2d_pair_full(const mcf_conv2d_params *p, const uint32_t *cols, const uint32_t *w,
                                              int8_t *out0, int8_t *out1)
{
    mcf_conv2d_pair_impl(p, cols, w, out0, out1, 1);
}

static MCF_NOINLINE void mcf_conv2d_pair_clamp(const mcf_conv2d_params *p, const uint32_t *cols, const uint32_t *w,
                                               int8_t *out0, int8_t *out1)
{
    mcf_conv2d_pair_impl(p, cols, w, out0, out1, 0);
}

/*
 * In-place columns for a convolution whose input dies with it (`inplace`, set by the compiler only
 * then): pair i reads input rows from pixel i's first window row on and writes output pixels i and
 * i+1, so the output bytes of the pixels not computed yet (the end of the output) and the input
 * bytes before that first row (`dead`) are free. The columns (and staging) of pair i go to the end
 * of the output while it lies past pixel i+1's output, else to the start of the input. NULL if
 * neither fits (the compiler checks that this never happens).
 */
static uint32_t *mcf_conv2d_inplace_cols(int8_t *input, int8_t *output, int32_t i, int32_t pixels,
                                         int32_t dead, int32_t out_c, int32_t bytes)
{
    int8_t *end = output + (int32_t)pixels * out_c;
    int8_t *tail = end - bytes;
    tail -= (uintptr_t)tail & 3u; /* word-aligned */
    if (tail >= output + (i + 2) * out_c) {
        return (uint32_t *)(void *)tail;
    }
    if (dead >= bytes) {
        return (uint32_t *)(void *)input; /* the arena places tensors 16-byte aligned */
    }
    return 0;
}

/* Whether every pair finds its in-place columns (mcf_conv2d_inplace_cols), checked before any
 * input byte is overwritten (the compiler sets `inplace` only when they do). The output's free
 * end only shrinks and the consumed input only grows from pair to pair, so it is enough to check
 * the first pair the output's end cannot hold. */
static int mcf_conv2d_inplace_ok(const mcf_conv2d_params *p)
{
    const int32_t pixels = p->batches * p->output_h * p->output_w;
    const int32_t bytes = p->inplace;
    const int32_t tail = (pixels * p->output_c - bytes) & ~3;
    int32_t i = tail >= 0 ? tail / p->output_c - 1 : 0; /* the first pair with (i+2)*out_c > tail */
    int32_t b, oy, iy0;
    i = i < 0 ? 0 : (i + 1) & ~1;
    if (i >= pixels) {
        return 1;
    }
    b = i / (p->output_h * p->output_w);
    oy = (i / p->output_w) % p->output_h;
    iy0 = oy * p->stride_h - p->pad_top;
    return b * p->input_h * p->input_w * p->input_c + (iy0 > 0 ? iy0 : 0) * p->input_w * p->input_c >= bytes;
}

/* The pair routine of a convolution: mcf_conv2d_pair_full or mcf_conv2d_pair_clamp. */
typedef void (*mcf_conv2d_pair_fn)(const mcf_conv2d_params *p, const uint32_t *cols, const uint32_t *w,
                                   int8_t *out0, int8_t *out1);

#if MCF_KERNELS_RV32 && !MCF_REQUANT_F32
/*
 * The RV32 route of the im2col path where the folded bias is there and the columns are the
 * operator's own buffer (scratch or stack, not in place): four pixels per pass (mcf_rv32_conv_quad),
 * their windows as raw int8 in the bytes that two pixels' int16 columns take, padding taps and the
 * values past K as -input_offset (the input zero point: w * (x + input_offset) = 0, as TFLite
 * Micro's skipped taps). A pass past the last pixel repeats it (its outputs are written twice,
 * with the same values).
 */
static MCF_NOINLINE void mcf_conv2d_rv32_quads(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter,
                                               int8_t *output, uint32_t *cols)
{
    const int32_t fc = p->filter_c; /* == input_c: the fast path runs for groups == 1 only */
    const int32_t k_total = p->filter_h * p->filter_w * fc;
    const int32_t groups = mcf_conv2d_groups(k_total);
    const int32_t in_row = p->input_w * fc;
    const int32_t in_image = p->input_h * in_row;
    const int32_t pixels = p->batches * p->output_h * p->output_w;
    const int32_t oc_count = p->output_c;
    const int8_t zp = (int8_t)(-p->input_offset);
    const uint32_t pad4 = 0x01010101u * (uint8_t)zp;
    /* whole words of four channels where every tap starts on a word */
    const int32_t words = (fc & 3) == 0 && ((uintptr_t)input & 3u) == 0;
    int32_t b = 0, oy = 0, ox = 0, i;
    mcf_rv32_out o;
    o.mult = p->multiplier;
    o.shift = p->shift;
    o.qstep = p->per_channel ? 1 : 0;
    o.offset = p->output_offset;
    o.act_min = p->act_min;
    o.act_max = p->act_max;
    for (i = 0; i < pixels; i += 4) {
        int8_t *out[4];
        int32_t lane;
        for (lane = 0; lane < 4; ++lane) {
            const int8_t *in_b = input + b * in_image;
            const int32_t iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
            int32_t ky_lo, ky_hi, kx_lo, kx_hi, ky, kx, c, k;
            if (i + lane >= pixels) { /* past the last pixel: repeat it */
                int32_t g;
                for (g = 0; g < groups; ++g) {
                    cols[4 * g + lane] = cols[4 * g + lane - 1];
                }
                out[lane] = out[lane - 1];
                continue;
            }
            out[lane] = output + (i + lane) * oc_count;
            mcf_tap_range(iy0, p->input_h, p->filter_h, p->dilation_h, &ky_lo, &ky_hi);
            mcf_tap_range(ix0, p->input_w, p->filter_w, p->dilation_w, &kx_lo, &kx_hi);
            if (words) {
                uint32_t *dst = cols + lane; /* word 4g + lane of group g */
                for (ky = 0; ky < p->filter_h; ++ky) {
                    const int32_t row_inside = ky >= ky_lo && ky < ky_hi;
                    const int8_t *row = row_inside ? in_b + (iy0 + ky * p->dilation_h) * in_row : in_b;
                    for (kx = 0; kx < p->filter_w; ++kx) {
                        if (row_inside && kx >= kx_lo && kx < kx_hi) {
                            const int8_t *x = row + (ix0 + kx * p->dilation_w) * fc;
                            for (c = 0; c < fc; c += 4, dst += 4) {
                                *dst = mcf_load_u32a(x + c);
                            }
                        } else {
                            for (c = 0; c < fc; c += 4, dst += 4) {
                                *dst = pad4;
                            }
                        }
                    }
                }
                for (k = k_total; k < 4 * groups; k += 4, dst += 4) {
                    *dst = pad4;
                }
            } else {
                int8_t *d = (int8_t *)(void *)cols + 4 * lane; /* the lane's word in the current group */
                int32_t j = 0;                                 /* its next byte */
                for (ky = 0; ky < p->filter_h; ++ky) {
                    const int32_t row_inside = ky >= ky_lo && ky < ky_hi;
                    const int8_t *row = row_inside ? in_b + (iy0 + ky * p->dilation_h) * in_row : in_b;
                    for (kx = 0; kx < p->filter_w; ++kx) {
                        const int32_t inside = row_inside && kx >= kx_lo && kx < kx_hi;
                        const int8_t *x = inside ? row + (ix0 + kx * p->dilation_w) * fc : row;
                        for (c = 0; c < fc; ++c) {
                            d[j] = inside ? x[c] : zp;
                            if (++j == 4) {
                                j = 0;
                                d += 16;
                            }
                        }
                    }
                }
                for (k = k_total; k < 4 * groups; ++k) {
                    d[j] = zp;
                    if (++j == 4) {
                        j = 0;
                        d += 16;
                    }
                }
            }
            if (++ox == p->output_w) {
                ox = 0;
                if (++oy == p->output_h) {
                    oy = 0;
                    ++b;
                }
            }
        }
        mcf_rv32_conv_quad((const int8_t *)(const void *)cols, groups, filter, p->folded_bias, &o, oc_count, out);
    }
}
#endif

/* Inlined into each entry point with a constant `pair`: a direct call per pixel pair. */
static MCF_ALWAYS_INLINE void mcf_conv2d_s8_fast(const mcf_conv2d_params *p, const int8_t *input,
                                                 const int8_t *filter, int8_t *output, mcf_conv2d_pair_fn pair,
                                                 uint32_t *columns)
{
    const int32_t k_total = p->filter_h * p->filter_w * p->filter_c;
    const int32_t in_image = p->input_h * p->input_w * p->input_c;
    const int32_t oc_count = p->output_c;
    uint32_t *cols = columns; /* the scratch, a stack buffer, or (in place) found per pair below */
    const int32_t groups = mcf_conv2d_groups(k_total);
    int16_t *staging = cols != 0 ? (int16_t *)(void *)(cols + 4 * groups) : 0;
    const int32_t pixels = p->batches * p->output_h * p->output_w;
    int32_t b = 0, oy = 0, ox = 0; /* position of the next pixel to load */
    int32_t i;
#if MCF_KERNELS_RV32 && !MCF_REQUANT_F32
    /* Four pixels per pass with int8 columns (mcf_conv2d_rv32_quads) in the operator's own buffer, or
     * for in-place columns in one on the stack; without the folded bias (it would leave int32) or
     * for larger in-place windows, the reference loop: the int16 pair route is not linked on RV32. */
    if (p->fold_interior && p->folded_bias != 0) {
        if (cols != 0 && !p->inplace) {
            mcf_conv2d_rv32_quads(p, input, filter, output, cols);
            return;
        }
        if (k_total <= MCF_CONV2D_STACK_MAX_K) {
            uint32_t stack_cols[4 * (((MCF_CONV2D_STACK_MAX_K + 7) >> 3) << 1)]; /* 4 * mcf_conv2d_groups(K) */
            mcf_conv2d_rv32_quads(p, input, filter, output, stack_cols);
            return;
        }
    }
    (void)pair;
    (void)staging;
    mcf_conv2d_s8_reference(p, input, filter, output);
    return;
#endif
    for (i = 0; i < pixels; i += 2) {
        int8_t *out0 = output + i * oc_count;
        int8_t *out1 = out0;
        int32_t lane;
        if (p->inplace) {
            /* the input's bytes are dead after this operator: writing the consumed ones is allowed */
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            const int32_t dead = b * in_image + (iy0 > 0 ? iy0 : 0) * p->input_w * p->input_c;
            cols = mcf_conv2d_inplace_cols((int8_t *)(uintptr_t)input, output, i, pixels, dead, oc_count,
                                           p->inplace);
            if (cols == 0) { /* not reached: mcf_conv2d_inplace_ok() was checked first */
                return;
            }
            staging = (int16_t *)(void *)(cols + 4 * groups);
        }
        for (lane = 0; lane < 2; ++lane) {
            if (lane == 1 && i + 1 >= pixels) {
                /* An odd last pixel: copy its column into the second lane, write it once. */
                int32_t g;
                for (g = 0; g < groups; ++g) {
                    cols[4 * g + 2] = cols[4 * g];
                    cols[4 * g + 3] = cols[4 * g + 1];
                }
                break;
            }
            if (lane == 1) {
                out1 = out0 + oc_count;
            }
            mcf_conv2d_im2col(p, input + b * in_image, oy * p->stride_h - p->pad_top,
                              ox * p->stride_w - p->pad_left, cols, lane, staging);
            if (++ox == p->output_w) {
                ox = 0;
                if (++oy == p->output_h) {
                    oy = 0;
                    ++b;
                }
            }
        }
        pair(p, cols, (const uint32_t *)(const void *)filter, out0, out1);
    }
}

/*
 * The direct path: no scratch. Four output channels (pairs p and p+1 of the channel-pair layout)
 * of one pixel per pass; the window is read where it lies, one run of whole groups of four input
 * channels per filter row (filter_c % 4 == 0, dilation_w == 1: the taps of a row are contiguous,
 * in the filter's order). A window fully inside the image starts from the folded bias and adds
 * w * x; one that crosses the border starts from the bias and adds w * (x + input_offset) over
 * the taps inside (TFLite Micro skips the others) - the reference loop's two forms.
 */
#if MCF_KERNELS_DSP
/* a0..a3 (locals of the caller) += a run of `groups` groups at x (no offset) against pair words
 * wa (channels 0, 1) and wb (channels 2, 3). 22 instructions per 16 MACs in assembly. */
#if defined(__GNUC__) && defined(__OPTIMIZE__) && defined(__ARM_FEATURE_DSP) && !defined(MCF_EMULATE_DSP)
#define MCF_DOT_4X1_PAIR(ptr, acc_a, acc_b)             \
    "ldrd %[w0], %[w1], [%[" ptr "]], #8\n\t"           \
    "sxtb16 %[t], %[w0]\n\t"                            \
    "sxtb16 %[w0], %[w0], ror #8\n\t"                   \
    "smlad %[" acc_a "], %[t], %[xa], %[" acc_a "]\n\t" \
    "smlad %[" acc_a "], %[w0], %[xv], %[" acc_a "]\n\t" \
    "sxtb16 %[t], %[w1]\n\t"                            \
    "sxtb16 %[w1], %[w1], ror #8\n\t"                   \
    "smlad %[" acc_b "], %[t], %[xa], %[" acc_b "]\n\t" \
    "smlad %[" acc_b "], %[w1], %[xv], %[" acc_b "]\n\t"
#define MCF_DOT_4X1(x_, groups_, wa_, wb_)                                                          \
    do {                                                                                            \
        const int8_t *xp_ = (x_);                                                                   \
        const int8_t *x_end_ = xp_ + 4 * (groups_);                                                 \
        const uint32_t *wa_p_ = (wa_), *wb_p_ = (wb_);                                              \
        uint32_t xv_, xa_, w0_, w1_, t_;                                                            \
        if (xp_ != x_end_) {                                                                        \
            __asm__ volatile("1:\n\t"                                                               \
                             "ldr %[xv], [%[x]], #4\n\t"                                            \
                             "sxtb16 %[xa], %[xv]\n\t"                                              \
                             "sxtb16 %[xv], %[xv], ror #8\n\t"                                      \
                             MCF_DOT_4X1_PAIR("wa", "a0", "a1")                                     \
                             MCF_DOT_4X1_PAIR("wb", "a2", "a3")                                     \
                             "cmp %[x], %[end]\n\t"                                                 \
                             "bne 1b\n\t"                                                           \
                             : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),          \
                               [x] "+r"(xp_), [wa] "+r"(wa_p_), [wb] "+r"(wb_p_), [xv] "=&r"(xv_),  \
                               [xa] "=&r"(xa_), [w0] "=&r"(w0_), [w1] "=&r"(w1_), [t] "=&r"(t_)     \
                             : [end] "r"(x_end_)                                                    \
                             : "cc", "memory");                                                     \
        }                                                                                           \
    } while (0)
#else
#define MCF_DOT_4X1(x_, groups_, wa_, wb_)                                  \
    do {                                                                    \
        const int8_t *xp_ = (x_);                                           \
        const uint32_t *wa_p_ = (wa_), *wb_p_ = (wb_);                      \
        int32_t g_;                                                         \
        for (g_ = 0; g_ < (groups_); ++g_) {                                \
            const uint32_t xv_ = mcf_read_u32(xp_ + 4 * g_);                \
            const uint32_t x02_ = mcf_sxtb16(xv_), x13_ = mcf_sxtb16_ror8(xv_); \
            a0 = mcf_smlad(mcf_sxtb16(wa_p_[2 * g_]), x02_, a0);            \
            a0 = mcf_smlad(mcf_sxtb16_ror8(wa_p_[2 * g_]), x13_, a0);       \
            a1 = mcf_smlad(mcf_sxtb16(wa_p_[2 * g_ + 1]), x02_, a1);        \
            a1 = mcf_smlad(mcf_sxtb16_ror8(wa_p_[2 * g_ + 1]), x13_, a1);   \
            a2 = mcf_smlad(mcf_sxtb16(wb_p_[2 * g_]), x02_, a2);            \
            a2 = mcf_smlad(mcf_sxtb16_ror8(wb_p_[2 * g_]), x13_, a2);       \
            a3 = mcf_smlad(mcf_sxtb16(wb_p_[2 * g_ + 1]), x02_, a3);        \
            a3 = mcf_smlad(mcf_sxtb16_ror8(wb_p_[2 * g_ + 1]), x13_, a3);   \
        }                                                                   \
    } while (0)
#endif
#endif

/* acc[0..n-1] += a run of `groups` groups at x, (x + offset) with `offset` (0 for interior
 * windows), against channels: `w[c]` is channel c's first word and `step` the words between two
 * groups of a channel (2 in a pair, 1 for an odd last channel alone). Portable; the DSP build
 * uses it only for border windows and the last one to three channels. */
static void mcf_dot_run(const int8_t *x, int32_t groups, const uint32_t *const *w, int32_t n, int32_t step,
                        int32_t offset, int32_t *acc)
{
    int32_t g, c;
    for (g = 0; g < groups; ++g) {
        const int32_t x0 = x[4 * g] + offset, x1 = x[4 * g + 1] + offset;
        const int32_t x2 = x[4 * g + 2] + offset, x3 = x[4 * g + 3] + offset;
        for (c = 0; c < n; ++c) {
            const uint32_t v = w[c][g * step];
            int32_t a = acc[c];
            a += (int8_t)(v & 0xFFu) * x0;
            a += (int8_t)((v >> 8) & 0xFFu) * x1;
            a += (int8_t)((v >> 16) & 0xFFu) * x2;
            a += (int8_t)(v >> 24) * x3;
            acc[c] = a;
        }
    }
}

/* One output: requantized (the short route for shifts of 2 or more), offset and clamped. */
static inline int8_t mcf_conv2d_out1(mcf_conv2d_clamp c, int32_t acc, int32_t mult, int32_t shift)
{
#if MCF_REQUANT_F32
    const int32_t v = MCF_REQUANT_F32_Q(acc, mult, shift);
    (void)shift;
#else
    const int32_t v = MCF_LIKELY(shift <= -2) ? mcf_requantize_right(acc, mult, (uint32_t)1 << (-shift - 2), -shift - 1)
                                  : mcf_conv2d_requantize_other(acc, mult, shift);
#endif
    return mcf_clamp8(v + c.offset, c.act_min, c.act_max, c.full);
}

/* Requantizes and stores n (1..4) channels' sums; mult/shift hold the first channel's entry and
 * step by qstep (0 per tensor, 1 per channel). */
static inline void mcf_conv2d_out_n(mcf_conv2d_clamp c, const int32_t *acc, int32_t n, const int32_t *mult,
                                    const int32_t *shift, int32_t qstep, int8_t *out)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
#if MCF_REQUANT_F32
        const int32_t v = MCF_REQUANT_F32_Q(acc[i], mult[i * qstep], shift[i * qstep]);
        (void)shift;
#else
        const int32_t m = mult[i * qstep], sh = shift[i * qstep];
        const int32_t v = MCF_LIKELY(sh <= -2) ? mcf_requantize_right(acc[i], m, (uint32_t)1 << (-sh - 2), -sh - 1)
                                   : mcf_conv2d_requantize_other(acc[i], m, sh);
#endif
        out[i] = mcf_clamp8(v + c.offset, c.act_min, c.act_max, c.full);
    }
}

/* What one pixel of the direct path needs besides its window. */
typedef struct {
    int32_t oc_count;
    int32_t groups_k;   /* words per channel in the layout: groups of four values of K (even) */
    int32_t qstep;
    const int32_t *multiplier;
    const int32_t *shift;
    mcf_conv2d_clamp clamp;
    const uint32_t *w;
} mcf_conv2d_direct_ctx;

/*
 * Every output channel of one pixel whose window inside the image is `rows` runs of `run` groups:
 * run r at input x[r], starting at group g0[r] of K. `start` is the folded bias (interior window,
 * `offset` 0) or the bias (border window, `offset` = input_offset).
 */
static MCF_ALWAYS_INLINE void mcf_conv2d_direct_pixel_impl(const mcf_conv2d_direct_ctx *k,
                                                          const int8_t *const *x, const int32_t *g0,
                                                          int32_t rows, int32_t run, const int32_t *start,
                                                          int32_t offset, int8_t *out, const int full)
{
    const int32_t oc_count = k->oc_count;
    const int32_t groups_k = k->groups_k;
    const int32_t qstep = k->qstep;
    mcf_conv2d_clamp clamp = k->clamp;
    const uint32_t *pair0 = k->w;
    int32_t oc, r;
    clamp.full = full;
    const int32_t *mult = k->multiplier, *shift = k->shift;
    for (oc = 0; oc + 4 <= oc_count; oc += 4, pair0 += 4 * groups_k, mult += 4 * qstep, shift += 4 * qstep) {
        int32_t a0 = start[oc], a1 = start[oc + 1], a2 = start[oc + 2], a3 = start[oc + 3];
        for (r = 0; r < rows; ++r) {
#if MCF_KERNELS_DSP
            if (offset == 0) {
                MCF_DOT_4X1(x[r], run, pair0 + 2 * g0[r], pair0 + 2 * groups_k + 2 * g0[r]);
                continue;
            }
#endif
            {
                const uint32_t *wg[4];
                int32_t acc[4];
                acc[0] = a0;
                acc[1] = a1;
                acc[2] = a2;
                acc[3] = a3;
                wg[0] = pair0 + 2 * g0[r];
                wg[1] = wg[0] + 1;
                wg[2] = wg[0] + 2 * groups_k;
                wg[3] = wg[2] + 1;
                mcf_dot_run(x[r], run, wg, 4, 2, offset, acc);
                a0 = acc[0];
                a1 = acc[1];
                a2 = acc[2];
                a3 = acc[3];
            }
        }
        out[oc] = mcf_conv2d_out1(clamp, a0, mult[0], shift[0]);
        out[oc + 1] = mcf_conv2d_out1(clamp, a1, mult[qstep], shift[qstep]);
        out[oc + 2] = mcf_conv2d_out1(clamp, a2, mult[2 * qstep], shift[2 * qstep]);
        out[oc + 3] = mcf_conv2d_out1(clamp, a3, mult[3 * qstep], shift[3 * qstep]);
    }
    if (oc < oc_count) { /* 1..3 channels: a pair, and an odd last channel alone (one word a group) */
        const int32_t n = oc_count - oc;
        int32_t acc[4];
        int32_t i;
        for (i = 0; i < 4; ++i) { /* element by element: an initializer may become a memset call */
            acc[i] = i < n ? start[oc + i] : 0;
        }
        for (r = 0; r < rows; ++r) {
            const uint32_t *wg[2];
            if (n >= 2) {
                wg[0] = pair0 + 2 * g0[r];
                wg[1] = wg[0] + 1;
                mcf_dot_run(x[r], run, wg, 2, 2, offset, acc);
            }
            if (n != 2) {
                wg[0] = pair0 + (n == 3 ? 2 * groups_k : 0) + g0[r];
                mcf_dot_run(x[r], run, wg, 1, 1, offset, acc + n - 1);
            }
        }
        mcf_conv2d_out_n(clamp, acc, n, k->multiplier + oc * qstep, k->shift + oc * qstep, qstep, out + oc);
    }
}

static MCF_NOINLINE void mcf_conv2d_direct_pixel_full(const mcf_conv2d_direct_ctx *k, const int8_t *const *x,
                                                      const int32_t *g0, int32_t rows, int32_t run,
                                                      const int32_t *start, int32_t offset, int8_t *out)
{
    mcf_conv2d_direct_pixel_impl(k, x, g0, rows, run, start, offset, out, 1);
}

static MCF_NOINLINE void mcf_conv2d_direct_pixel_clamp(const mcf_conv2d_direct_ctx *k, const int8_t *const *x,
                                                       const int32_t *g0, int32_t rows, int32_t run,
                                                       const int32_t *start, int32_t offset, int8_t *out)
{
    mcf_conv2d_direct_pixel_impl(k, x, g0, rows, run, start, offset, out, 0);
}

#define MCF_CONV2D_DIRECT_MAX_ROWS 16 /* filter rows the direct path handles (taller: reference) */

/* The pixel routine of the direct path: mcf_conv2d_direct_pixel_full or _clamp. */
typedef void (*mcf_conv2d_pixel_fn)(const mcf_conv2d_direct_ctx *k, const int8_t *const *x, const int32_t *g0,
                                    int32_t rows, int32_t run, const int32_t *start, int32_t offset, int8_t *out);

/* Inlined into each entry point with a constant `pixel`. */
static MCF_ALWAYS_INLINE void mcf_conv2d_s8_direct(const mcf_conv2d_params *p, const int8_t *input,
                                                   const uint32_t *w, int8_t *output, mcf_conv2d_pixel_fn pixel)
{
    const int32_t fc = p->filter_c;
    const int32_t in_row = p->input_w * fc;
    const int32_t row_groups = p->filter_w * fc / 4; /* groups per filter row */
    mcf_conv2d_direct_ctx k;
    int32_t b;
    k.oc_count = p->output_c;
    k.groups_k = mcf_conv2d_groups(p->filter_h * p->filter_w * fc);
    k.qstep = p->per_channel ? 1 : 0;
    k.multiplier = MCF_KMULT(p, p->per_channel ? p->output_c : 1);
    k.shift = MCF_KSHIFT(p, p->per_channel ? p->output_c : 1);
    k.clamp.offset = p->output_offset;
    k.clamp.act_min = p->act_min;
    k.clamp.act_max = p->act_max;
    k.clamp.full = 0; /* set by the pixel routine */
    k.w = w;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->input_h * in_row;
        int32_t oy;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            int32_t ky_lo, ky_hi, ox;
            mcf_tap_range(iy0, p->input_h, p->filter_h, p->dilation_h, &ky_lo, &ky_hi);
            for (ox = 0; ox < p->output_w; ++ox, output += k.oc_count) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                const int8_t *x[MCF_CONV2D_DIRECT_MAX_ROWS];
                int32_t g0[MCF_CONV2D_DIRECT_MAX_ROWS];
                int32_t kx_lo, kx_hi, interior, run, rows, ky;
                mcf_tap_range(ix0, p->input_w, p->filter_w, p->dilation_w, &kx_lo, &kx_hi);
                interior = p->fold_interior && ky_lo == 0 && ky_hi == p->filter_h && kx_lo == 0 &&
                           kx_hi == p->filter_w;
                run = (kx_hi - kx_lo) * fc / 4; /* groups per row inside the image */
                rows = run > 0 ? ky_hi - ky_lo : 0;
                for (ky = 0; ky < rows; ++ky) {
                    x[ky] = in_b + (iy0 + (ky_lo + ky) * p->dilation_h) * in_row + (ix0 + kx_lo) * fc;
                    g0[ky] = (ky_lo + ky) * row_groups + kx_lo * fc / 4;
                }
                pixel(&k, x, g0, rows, run, interior ? p->folded_bias : p->bias, interior ? 0 : p->input_offset,
                      output);
            }
        }
    }
}

/* Whether the im2col path has its columns: scratch, or in-place columns that fit. */
static int mcf_conv2d_has_columns(const mcf_conv2d_params *p)
{
    return p->scratch != 0 || (p->inplace > 0 && mcf_conv2d_inplace_ok(p));
}

/* Whether the direct path handles this convolution (see the header). */
static int mcf_conv2d_direct_ok(const mcf_conv2d_params *p)
{
    return p->fast_layout && p->groups == 1 && (p->filter_c & 3) == 0 && p->dilation_w == 1 &&
           p->filter_h <= MCF_CONV2D_DIRECT_MAX_ROWS;
}

/* Whether the stack path handles this convolution: its columns fit MCF_CONV2D_STACK_MAX_K. */
static int mcf_conv2d_stack_ok(const mcf_conv2d_params *p)
{
    return p->fast_layout && p->groups == 1 &&
           p->filter_h * p->filter_w * p->filter_c <= MCF_CONV2D_STACK_MAX_K;
}

/* The im2col path with its columns on the stack (small windows: few input channels). */
static MCF_ALWAYS_INLINE void mcf_conv2d_s8_stack(const mcf_conv2d_params *p, const int8_t *input,
                                                  const int8_t *filter, int8_t *output, mcf_conv2d_pair_fn pair)
{
    uint32_t cols[MCF_CONV2D_SCRATCH_BYTES(MCF_CONV2D_STACK_MAX_K, 1) / 4];
    if (mcf_conv2d_stack_ok(p)) { /* the compiler chooses this path only then */
        mcf_conv2d_s8_fast(p, input, filter, output, pair, cols);
    }
}

/*
 * The one-input-channel path (filter_c == input_c == 1, a 3x3 filter without dilation, `c1_out`
 * set; see the header). A window is its nine values x + input_offset as int16 (0 for taps outside
 * the image), gathered for a run of output pixels into a stack buffer;
 * then each output channel walks the run two pixels at a time, one word of two doubled weights
 * against one word of each pixel's window per SMLAD. Per output channel the filter holds four words
 * {2 * bias, 2 * bias, act_min, act_max}, then five weight words
 * (mcuforge.generator.ops.conv.one_channel_layout), taps in the order (0,0) (0,1) | (1,0) (1,1) |
 * (2,0) (2,1) | (0,2) (1,2) | (2,0) (2,2), the first tap of the last word with weight 0: an interior
 * window is then three row words widened with SXTAB16 and one PKHTB. (Larger windows with many
 * channels, as kws's 10x4 first layer, were slower this way than on the im2col path; not taken.)
 * The doubled sum starts from 2 * bias, so the output stage is t = SMMULR(2 * acc, multiplier),
 * which is TFLite Micro's saturating rounding doubling high multiply exactly (floor((acc * m +
 * 2^30) / 2^31) for m >= 0), then (t + 2^(e-1) + output_offset * 2^e - [t < 0]) >> e, its rounding
 * right shift by e with the output offset folded in. The compiler takes this path only when no
 * step can overflow int32 (generator/ops/conv.py, one_channel_constants).
 */
#if !MCF_REQUANT_F32
#define MCF_CONV2D_C1_BUF 384 /* window values on the stack (768 bytes) */

/* acc + w.lo * x.lo + w.hi * x.hi (signed halfwords): SMLAD where the core has it. */
static inline int32_t mcf_conv2d_c1_mac(uint32_t w, uint32_t x, int32_t acc)
{
#if MCF_KERNELS_DSP
    return mcf_smlad(w, x, acc);
#else
    const int32_t wl = (int16_t)(w & 0xFFFFu), wh = (int16_t)(w >> 16);
    const int32_t xl = (int16_t)(x & 0xFFFFu), xh = (int16_t)(x >> 16);
    return acc + wl * xl + wh * xh;
#endif
}

#if defined(__GNUC__) && defined(__OPTIMIZE__) && defined(__ARM_FEATURE_DSP) && !defined(MCF_EMULATE_DSP)
#define MCF_CONV2D_C1_ASM 1
/* One output of the 3x3 loop below: t = SMMULR(acc, mult), (t + round + [t < 0]) >> e, clamped. */
#define MCF_C1_OUT_FULL(acc, v, store)                       \
    "smmulr %[" acc "], %[" acc "], %[mult]\n\t"             \
    "add %[" v "], %[round], %[" acc "]\n\t"                 \
    "add %[" v "], %[" v "], %[" acc "], asr #31\n\t"        \
    "asr %[" v "], %[" v "], %[e]\n\t"                       \
    "ssat %[" v "], #8, %[" v "]\n\t" store
#define MCF_C1_OUT_CLAMP(acc, v, store)                      \
    "smmulr %[" acc "], %[" acc "], %[mult]\n\t"             \
    "add %[" v "], %[round], %[" acc "]\n\t"                 \
    "add %[" v "], %[" v "], %[" acc "], asr #31\n\t"        \
    "asr %[" v "], %[" v "], %[e]\n\t"                       \
    "cmp %[" v "], %[x0]\n\t"                                \
    "it lt\n\t"                                              \
    "movlt %[" v "], %[x0]\n\t"                              \
    "cmp %[" v "], %[x1]\n\t"                                \
    "it gt\n\t"                                              \
    "movgt %[" v "], %[x1]\n\t" store
/*
 * Pairs of pixels of a 3x3 run, one channel: x walks the windows (five words each, 40 bytes a
 * pair) to x_end, wp is the channel's block ({2 * bias, 2 * bias, act_min, act_max}, five weight
 * words), out the first pixel's output (the next one `step` bytes on). 36 instructions per pair
 * with the whole int8 range, 46 clamped.
 */
#define MCF_C1_3X3_LOOP(OUT)                                                                       \
    __asm__ volatile("1:\n\t"                                                                      \
                     "ldrd %[a0], %[a1], [%[wp]]\n\t"                                              \
                     "ldrd %[w0], %[w1], [%[wp], #16]\n\t"                                         \
                     "ldrd %[x0], %[x1], [%[x]]\n\t"                                               \
                     "smlad %[a0], %[w0], %[x0], %[a0]\n\t"                                        \
                     "smlad %[a0], %[w1], %[x1], %[a0]\n\t"                                        \
                     "ldrd %[x0], %[x1], [%[x], #20]\n\t"                                          \
                     "smlad %[a1], %[w0], %[x0], %[a1]\n\t"                                        \
                     "smlad %[a1], %[w1], %[x1], %[a1]\n\t"                                        \
                     "ldrd %[w0], %[w1], [%[wp], #24]\n\t"                                         \
                     "ldrd %[x0], %[x1], [%[x], #8]\n\t"                                           \
                     "smlad %[a0], %[w0], %[x0], %[a0]\n\t"                                        \
                     "smlad %[a0], %[w1], %[x1], %[a0]\n\t"                                        \
                     "ldrd %[x0], %[x1], [%[x], #28]\n\t"                                          \
                     "smlad %[a1], %[w0], %[x0], %[a1]\n\t"                                        \
                     "smlad %[a1], %[w1], %[x1], %[a1]\n\t"                                        \
                     "ldr %[w0], [%[wp], #32]\n\t"                                                 \
                     "ldr %[x0], [%[x], #16]\n\t"                                                  \
                     "ldr %[x1], [%[x], #36]\n\t"                                                  \
                     "smlad %[a0], %[w0], %[x0], %[a0]\n\t"                                        \
                     "smlad %[a1], %[w0], %[x1], %[a1]\n\t"                                        \
                     "add %[x], %[x], #40\n\t"                                                     \
                     OUT                                                                           \
                     "add %[out], %[out], %[step], lsl #1\n\t"                                     \
                     "cmp %[x], %[x_end]\n\t"                                                      \
                     "bne 1b\n\t"                                                                  \
                     : [a0] "=&r"(a0_), [a1] "=&r"(a1_), [w0] "=&r"(w0_), [w1] "=&r"(w1_),         \
                       [x0] "=&r"(x0_), [x1] "=&r"(x1_), [x] "+r"(x_), [out] "+r"(out_)            \
                     : [x_end] "r"(x_end_), [wp] "r"(wp_), [step] "r"(step_), [mult] "r"(mult_),   \
                       [round] "r"(round_), [e] "r"(e_)                                            \
                     : "cc", "memory")
#define MCF_C1_STORES "strb %[w0], [%[out]]\n\t" "strb %[w1], [%[out], %[step]]\n\t"
#else
#define MCF_CONV2D_C1_ASM 0
#endif

/* One output of the path from the doubled sum (round = 2^(e-1) + output_offset * 2^e). */
static inline int8_t mcf_conv2d_c1_out(int32_t acc2, int32_t mult, int32_t round, int32_t e, mcf_conv2d_clamp c)
{
    const int32_t t = mcf_smmulr(acc2, mult);
    return mcf_clamp8((t + round + (t >> 31)) >> e, c.act_min, c.act_max, c.full);
}

/* 3x3 windows (dilation 1): the five words of the pixel at (iy0, ix0) into d (layout above). */
static MCF_ALWAYS_INLINE void mcf_conv2d_c1_window3(const mcf_conv2d_params *p, const int8_t *in_b, int32_t iy0,
                                                    int32_t ix0, uint32_t *d)
{
    const int32_t in_w = p->input_w;
    const int32_t off = p->input_offset;
    /* Inside the image, and the fourth byte each row word reads lies inside the input too (unsigned
     * compares: a negative origin fails them). */
    if ((uint32_t)iy0 <= (uint32_t)(p->input_h - 3) && (uint32_t)ix0 <= (uint32_t)(in_w - 3) &&
        (ix0 + 3 < in_w || iy0 + 3 < p->input_h)) {
        const int8_t *row = in_b + iy0 * in_w + ix0;
#if MCF_KERNELS_DSP
        const uint32_t off2 = mcf_dup16(off);
        const uint32_t r0 = mcf_read_u32(row), r1 = mcf_read_u32(row + in_w), r2 = mcf_read_u32(row + 2 * in_w);
        const uint32_t lo0 = mcf_sxtab16(off2, r0), lo1 = mcf_sxtab16(off2, r1), lo2 = mcf_sxtab16(off2, r2);
        d[0] = mcf_pkhbt(lo0, mcf_sxtab16_ror8(off2, r0)); /* (x0, x1) of row 0 */
        d[1] = mcf_pkhbt(lo1, mcf_sxtab16_ror8(off2, r1));
        d[2] = mcf_pkhbt(lo2, mcf_sxtab16_ror8(off2, r2));
        d[3] = mcf_pkhtb(lo1, lo0); /* (x2 of row 0, x2 of row 1) */
        d[4] = lo2;                 /* (x0, x2) of row 2: x0 meets a zero weight */
#else
        int32_t r;
        for (r = 0; r < 3; ++r, row += in_w) {
            const uint32_t x0 = (uint16_t)(row[0] + off), x1 = (uint16_t)(row[1] + off);
            const uint32_t x2 = (uint16_t)(row[2] + off);
            d[r] = x0 | (x1 << 16);
            if (r < 2) {
                d[3] = r == 0 ? x2 : d[3] | (x2 << 16);
            } else {
                d[4] = x2 << 16;
            }
        }
#endif
    } else { /* a border window: each tap checked (unsigned compares: negative coordinates fail) */
        int16_t t[9];
        int32_t ky, kx;
        for (ky = 0; ky < 3; ++ky) {
            const int8_t *row = in_b + (iy0 + ky) * in_w;
            const int row_in = (uint32_t)(iy0 + ky) < (uint32_t)p->input_h;
            for (kx = 0; kx < 3; ++kx) {
                const int32_t ix = ix0 + kx;
                t[3 * ky + kx] = row_in && (uint32_t)ix < (uint32_t)in_w ? (int16_t)(row[ix] + off) : (int16_t)0;
            }
        }
        d[0] = (uint16_t)t[0] | ((uint32_t)(uint16_t)t[1] << 16);
        d[1] = (uint16_t)t[3] | ((uint32_t)(uint16_t)t[4] << 16);
        d[2] = (uint16_t)t[6] | ((uint32_t)(uint16_t)t[7] << 16);
        d[3] = (uint16_t)t[2] | ((uint32_t)(uint16_t)t[5] << 16);
        d[4] = (uint32_t)(uint16_t)t[8] << 16;
    }
}

/* Inlined into each entry point: `full` is a constant. */
static MCF_ALWAYS_INLINE void mcf_conv2d_s8_c1(const mcf_conv2d_params *p, const int8_t *input, const uint32_t *w,
                                               int8_t *output, const int full)
{
    uint32_t buf[MCF_CONV2D_C1_BUF / 2];
    const int32_t words = 5; /* per window and per channel */
    const int32_t chunk = MCF_CONV2D_C1_BUF / (2 * words);
    const int32_t pixels = p->batches * p->output_h * p->output_w;
    const int32_t oc_count = p->output_c;
    const int32_t in_image = p->input_h * p->input_w;
    mcf_conv2d_clamp c;
    const int8_t *in_b = input;
    int32_t oy = 0, ox = 0, iy0 = -p->pad_top, ix0 = -p->pad_left, done, n;
    c.offset = 0; /* in the rounding constants */
    c.act_min = p->act_min;
    c.act_max = p->act_max;
    c.full = full;
    for (done = 0; done < pixels; done += n) {
        int32_t i, oc;
        n = pixels - done < chunk ? pixels - done : chunk;
        for (i = 0; i < n; ++i) {
            mcf_conv2d_c1_window3(p, in_b, iy0, ix0, buf + 5 * i);
            ix0 += p->stride_w;
            if (++ox == p->output_w) {
                ox = 0;
                ix0 = -p->pad_left;
                iy0 += p->stride_h;
                if (++oy == p->output_h) {
                    oy = 0;
                    iy0 = -p->pad_top;
                    in_b += in_image;
                }
            }
        }
#if MCF_KERNELS_RV32 /* every channel of the run in one call: four channels of two pixels per pass (mcf_rv32.h) */
        mcf_rv32_conv_c1((const int16_t *)(const void *)buf, n, words, w, p->c1_out, oc_count, p->act_min, p->act_max,
                         output + done * oc_count);
        continue;
#endif
        for (oc = 0; oc < oc_count; ++oc) {
            const uint32_t *blk = w + oc * (4 + words);
            const uint32_t *w_oc = blk + 4;
            const int32_t *k = p->c1_out + 3 * oc;
            const int32_t bias2 = (int32_t)blk[0], mult = k[0], round = k[1], e = k[2];
            const uint32_t *x = buf;
            int8_t *out = output + done * oc_count + oc;
            i = 0;
#if MCF_CONV2D_C1_ASM
            if (n >= 2) {
                const uint32_t *x_ = x;
                const uint32_t *const x_end_ = x + 10 * (n >> 1);
                const uint32_t *const wp_ = blk;
                int8_t *out_ = out;
                const int32_t step_ = oc_count, mult_ = mult, round_ = round, e_ = e;
                int32_t a0_, a1_;
                uint32_t w0_, w1_, x0_, x1_;
                if (full) {
                    MCF_C1_3X3_LOOP(MCF_C1_OUT_FULL("a0", "w0", "") MCF_C1_OUT_FULL("a1", "w1", "") MCF_C1_STORES);
                } else {
                    MCF_C1_3X3_LOOP("ldrd %[x0], %[x1], [%[wp], #8]\n\t" MCF_C1_OUT_CLAMP("a0", "w0", "")
                                        MCF_C1_OUT_CLAMP("a1", "w1", "") MCF_C1_STORES);
                }
                (void)a0_;
                (void)a1_;
                (void)w0_;
                (void)w1_;
                (void)x0_;
                (void)x1_;
                i = n & ~1;
                x = x_;
                out = out_;
            }
#endif
            for (; i + 2 <= n; i += 2, x += 2 * words, out += 2 * oc_count) {
                int32_t a0 = bias2, a1 = bias2;
                {
                    const uint32_t w0 = w_oc[0], w1 = w_oc[1], w2 = w_oc[2], w3 = w_oc[3], w4 = w_oc[4];
                    a0 = mcf_conv2d_c1_mac(w0, x[0], a0);
                    a0 = mcf_conv2d_c1_mac(w1, x[1], a0);
                    a0 = mcf_conv2d_c1_mac(w2, x[2], a0);
                    a0 = mcf_conv2d_c1_mac(w3, x[3], a0);
                    a0 = mcf_conv2d_c1_mac(w4, x[4], a0);
                    a1 = mcf_conv2d_c1_mac(w0, x[5], a1);
                    a1 = mcf_conv2d_c1_mac(w1, x[6], a1);
                    a1 = mcf_conv2d_c1_mac(w2, x[7], a1);
                    a1 = mcf_conv2d_c1_mac(w3, x[8], a1);
                    a1 = mcf_conv2d_c1_mac(w4, x[9], a1);
                }
                out[0] = mcf_conv2d_c1_out(a0, mult, round, e, c);
                out[oc_count] = mcf_conv2d_c1_out(a1, mult, round, e, c);
            }
            if (i < n) { /* an odd last pixel */
                int32_t a0 = bias2, j;
                for (j = 0; j < words; ++j) {
                    a0 = mcf_conv2d_c1_mac(w_oc[j], x[j], a0);
                }
                out[0] = mcf_conv2d_c1_out(a0, mult, round, e, c);
            }
        }
    }
}

/* The path of one activation range. */
static MCF_ALWAYS_INLINE void mcf_conv2d_s8_c1_any(const mcf_conv2d_params *p, const int8_t *input,
                                                   const int8_t *filter, int8_t *output, const int full)
{
    if (p->c1_out == 0 || p->filter_h != 3 || p->filter_w != 3 || p->dilation_h != 1 || p->dilation_w != 1) {
        return; /* not reached: the compiler chooses this path only for these filters, with its constants */
    }
    mcf_conv2d_s8_c1(p, input, (const uint32_t *)(const void *)filter, output, full);
}

static MCF_NOINLINE void mcf_conv2d_s8_c1_full_impl(const mcf_conv2d_params *p, const int8_t *input,
                                                    const int8_t *filter, int8_t *output)
{
    mcf_conv2d_s8_c1_any(p, input, filter, output, 1);
}

static MCF_NOINLINE void mcf_conv2d_s8_c1_clamp_impl(const mcf_conv2d_params *p, const int8_t *input,
                                                     const int8_t *filter, int8_t *output)
{
    mcf_conv2d_s8_c1_any(p, input, filter, output, 0);
}

#if MCF_KERNELS_DSP
/*
 * The pointwise path (a 1x1 filter, each output pixel on the input pixel of the same index, input_c
 * a multiple of 4 and at most MCF_CONV2D_STACK_MAX_K, the folded bias, `pw_out` set; see the header):
 * four output channels of one pixel per pass (MCF_DOT_4X1, the direct path's loop, on the pixel's
 * channels where they lie), each output from the channel's constants {multiplier, 2^(e-1) +
 * output_offset * 2^e, e}: t = SMMULR(2 * acc, multiplier) (TFLite Micro's saturating rounding
 * doubling high multiply), (t + q[1] - [t < 0]) >> e, clamped (the compiler gives the constants only
 * where no step can leave int32: generator/ops/conv.py, short_output_constants).
 */
static MCF_ALWAYS_INLINE int8_t mcf_conv2d_pw_out(int32_t acc, const int32_t *q, int32_t lo, int32_t hi,
                                                  const int full)
{
    const int32_t t = mcf_smmulr(acc + acc, q[0]);
    return mcf_clamp8((t + q[1] + (t >> 31)) >> q[2], lo, hi, full);
}

/*
 * Eight input channels (two groups of four): two pixels per pass, each channel pair's four weight
 * words widened once for both, the pixels' words widened once for every channel (a pass of 2 x 2
 * outputs: 16 SMLAD). An odd last channel alone; an odd last pixel on the four-channel loop.
 */
static MCF_ALWAYS_INLINE void mcf_conv2d_pw8_two(const mcf_conv2d_params *p, const int8_t *x, const uint32_t *w,
                                                 int8_t *out, const int full)
{
    const int32_t oc = p->output_c;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t *fb = p->folded_bias;
    const int32_t *q = p->pw_out;
    const uint32_t u0 = mcf_read_u32(x), u1 = mcf_read_u32(x + 4), v0 = mcf_read_u32(x + 8), v1 = mcf_read_u32(x + 12);
    const uint32_t u0e = mcf_sxtb16(u0), u0o = mcf_sxtb16_ror8(u0), u1e = mcf_sxtb16(u1), u1o = mcf_sxtb16_ror8(u1);
    const uint32_t v0e = mcf_sxtb16(v0), v0o = mcf_sxtb16_ror8(v0), v1e = mcf_sxtb16(v1), v1o = mcf_sxtb16_ror8(v1);
    int32_t c;
    for (c = 0; c + 2 <= oc; c += 2, w += 4, q += 6) { /* pair words: a g0, b g0, a g1, b g1 */
        int32_t a0 = fb[c], a1 = a0, b0 = fb[c + 1], b1 = b0;
        uint32_t t;
        t = mcf_sxtb16(w[0]);
        a0 = mcf_smlad(t, u0e, a0);
        a1 = mcf_smlad(t, v0e, a1);
        t = mcf_sxtb16_ror8(w[0]);
        a0 = mcf_smlad(t, u0o, a0);
        a1 = mcf_smlad(t, v0o, a1);
        t = mcf_sxtb16(w[2]);
        a0 = mcf_smlad(t, u1e, a0);
        a1 = mcf_smlad(t, v1e, a1);
        t = mcf_sxtb16_ror8(w[2]);
        a0 = mcf_smlad(t, u1o, a0);
        a1 = mcf_smlad(t, v1o, a1);
        t = mcf_sxtb16(w[1]);
        b0 = mcf_smlad(t, u0e, b0);
        b1 = mcf_smlad(t, v0e, b1);
        t = mcf_sxtb16_ror8(w[1]);
        b0 = mcf_smlad(t, u0o, b0);
        b1 = mcf_smlad(t, v0o, b1);
        t = mcf_sxtb16(w[3]);
        b0 = mcf_smlad(t, u1e, b0);
        b1 = mcf_smlad(t, v1e, b1);
        t = mcf_sxtb16_ror8(w[3]);
        b0 = mcf_smlad(t, u1o, b0);
        b1 = mcf_smlad(t, v1o, b1);
        out[c] = mcf_conv2d_pw_out(a0, q, lo, hi, full);
        out[c + 1] = mcf_conv2d_pw_out(b0, q + 3, lo, hi, full);
        out[oc + c] = mcf_conv2d_pw_out(a1, q, lo, hi, full);
        out[oc + c + 1] = mcf_conv2d_pw_out(b1, q + 3, lo, hi, full);
    }
    if (c < oc) { /* an odd last channel: one word a group */
        int32_t a0 = fb[c], a1 = a0;
        uint32_t t;
        t = mcf_sxtb16(w[0]);
        a0 = mcf_smlad(t, u0e, a0);
        a1 = mcf_smlad(t, v0e, a1);
        t = mcf_sxtb16_ror8(w[0]);
        a0 = mcf_smlad(t, u0o, a0);
        a1 = mcf_smlad(t, v0o, a1);
        t = mcf_sxtb16(w[1]);
        a0 = mcf_smlad(t, u1e, a0);
        a1 = mcf_smlad(t, v1e, a1);
        t = mcf_sxtb16_ror8(w[1]);
        a0 = mcf_smlad(t, u1o, a0);
        a1 = mcf_smlad(t, v1o, a1);
        out[c] = mcf_conv2d_pw_out(a0, q, lo, hi, full);
        out[oc + c] = mcf_conv2d_pw_out(a1, q, lo, hi, full);
    }
}

static MCF_ALWAYS_INLINE void mcf_conv2d_s8_pw(const mcf_conv2d_params *p, const int8_t *input, const uint32_t *w,
                                               int8_t *output, const int full)
{
    const int32_t ic = p->input_c;
    const int32_t oc = p->output_c;
    const int32_t run = ic >> 2;                      /* groups of four input channels */
    const int32_t groups_k = mcf_conv2d_groups(ic);   /* words per channel in the layout */
    const int32_t pixels = p->batches * p->output_h * p->output_w;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t *fb = p->folded_bias;
    int32_t i = 0;
    if (ic == 8) {
        for (; i + 2 <= pixels; i += 2, input += 16, output += 2 * oc) {
            mcf_conv2d_pw8_two(p, input, w, output, full);
        }
    }
    for (; i < pixels; ++i, input += ic, output += oc) {
        const uint32_t *pair0 = w;
        const int32_t *q = p->pw_out;
        int32_t c;
        for (c = 0; c + 4 <= oc; c += 4, pair0 += 4 * groups_k, q += 12) {
            int32_t a0 = fb[c], a1 = fb[c + 1], a2 = fb[c + 2], a3 = fb[c + 3];
            int8_t y0, y1, y2, y3;
            MCF_DOT_4X1(input, run, pair0, pair0 + 2 * groups_k);
            y0 = mcf_conv2d_pw_out(a0, q, lo, hi, full); /* all four before the stores (they may alias q) */
            y1 = mcf_conv2d_pw_out(a1, q + 3, lo, hi, full);
            y2 = mcf_conv2d_pw_out(a2, q + 6, lo, hi, full);
            y3 = mcf_conv2d_pw_out(a3, q + 9, lo, hi, full);
            output[c] = y0;
            output[c + 1] = y1;
            output[c + 2] = y2;
            output[c + 3] = y3;
        }
        if (c < oc) { /* 1..3 channels: a pair, and an odd last channel alone (one word a group) */
            const int32_t n = oc - c;
            const uint32_t *wg[2];
            int32_t acc[4];
            int32_t k;
            for (k = 0; k < 4; ++k) { /* element by element: an initializer may become a memset call */
                acc[k] = k < n ? fb[c + k] : 0;
            }
            if (n >= 2) {
                wg[0] = pair0;
                wg[1] = pair0 + 1;
                mcf_dot_run(input, run, wg, 2, 2, 0, acc);
            }
            if (n != 2) {
                wg[0] = pair0 + (n == 3 ? 2 * groups_k : 0);
                mcf_dot_run(input, run, wg, 1, 1, 0, acc + n - 1);
            }
            for (k = 0; k < n; ++k) {
                output[c + k] = mcf_conv2d_pw_out(acc[k], q + 3 * k, lo, hi, full);
            }
        }
    }
}

/* Whether the pointwise path handles this convolution (the compiler chooses it only then). */
static int mcf_conv2d_pw_ok(const mcf_conv2d_params *p)
{
    return p->pw_out != 0 && p->fold_interior && p->groups == 1 && p->filter_h == 1 && p->filter_w == 1 &&
           (p->input_c & 3) == 0 && p->output_h == p->input_h && p->output_w == p->input_w &&
           p->pad_top == 0 && p->pad_left == 0;
}

static MCF_NOINLINE void mcf_conv2d_s8_pw_full_impl(const mcf_conv2d_params *p, const int8_t *input,
                                                    const int8_t *filter, int8_t *output)
{
    mcf_conv2d_s8_pw(p, input, (const uint32_t *)(const void *)filter, output, 1);
}

static MCF_NOINLINE void mcf_conv2d_s8_pw_clamp_impl(const mcf_conv2d_params *p, const int8_t *input,
                                                     const int8_t *filter, int8_t *output)
{
    mcf_conv2d_s8_pw(p, input, (const uint32_t *)(const void *)filter, output, 0);
}
#endif /* MCF_KERNELS_DSP */
#endif /* !MCF_REQUANT_F32 */

#endif /* MCF_KERNELS_FAST */

void mcf_conv2d_s8(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter,
                   int8_t *output)
{
#if MCF_KERNELS_FAST
    const int full = p->act_min == -128 && p->act_max == 127;
#if !MCF_REQUANT_F32
    if (p->c1_out != 0) {
        (full ? mcf_conv2d_s8_c1_full_impl : mcf_conv2d_s8_c1_clamp_impl)(p, input, filter, output);
        return;
    }
#endif
    if (mcf_conv2d_has_columns(p) && p->groups == 1) {
        (full ? mcf_conv2d_s8_im2col_full : mcf_conv2d_s8_im2col_clamp)(p, input, filter, output);
        return;
    }
    if (mcf_conv2d_direct_ok(p)) {
        (full ? mcf_conv2d_s8_direct_full : mcf_conv2d_s8_direct_clamp)(p, input, filter, output);
        return;
    }
    if (mcf_conv2d_stack_ok(p)) {
        (full ? mcf_conv2d_s8_stack_full : mcf_conv2d_s8_stack_clamp)(p, input, filter, output);
        return;
    }
#endif
    mcf_conv2d_s8_reference(p, input, filter, output);
}

/*
 * The entry points of one path each (see the header). Builds without the fast paths run the
 * reference loop in all of them (the filter argument is then the model's own, OHWI).
 */
void mcf_conv2d_s8_ref(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter, int8_t *output)
{
    mcf_conv2d_s8_reference(p, input, filter, output);
}

#if MCF_KERNELS_FAST
/* Columns missing (in place, the check failed): the compiler makes sure this does not happen
 * (generator.ops.conv.inplace_columns_fit); nothing is written then. */
#define MCF_CONV2D_IM2COL(pair)                                  \
    do {                                                         \
        if (mcf_conv2d_has_columns(p)) {                         \
            mcf_conv2d_s8_fast(p, input, filter, output, pair,   \
                               (uint32_t *)(void *)p->scratch);  \
        }                                                        \
    } while (0)
#define MCF_CONV2D_DIRECT(pixel) \
    mcf_conv2d_s8_direct(p, input, (const uint32_t *)(const void *)filter, output, pixel)
#define MCF_CONV2D_STACK(pair) mcf_conv2d_s8_stack(p, input, filter, output, pair)
#else
#define MCF_CONV2D_STACK(pair) mcf_conv2d_s8_reference(p, input, filter, output)
#define MCF_CONV2D_IM2COL(pair) mcf_conv2d_s8_reference(p, input, filter, output)
#define MCF_CONV2D_DIRECT(pixel) mcf_conv2d_s8_reference(p, input, filter, output)
#endif

void mcf_conv2d_s8_im2col_full(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter,
                               int8_t *output)
{
    MCF_CONV2D_IM2COL(mcf_conv2d_pair_full);
}

void mcf_conv2d_s8_im2col_clamp(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter,
                                int8_t *output)
{
    MCF_CONV2D_IM2COL(mcf_conv2d_pair_clamp);
}

void mcf_conv2d_s8_direct_full(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter,
                               int8_t *output)
{
    MCF_CONV2D_DIRECT(mcf_conv2d_direct_pixel_full);
}

void mcf_conv2d_s8_direct_clamp(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter,
                                int8_t *output)
{
    MCF_CONV2D_DIRECT(mcf_conv2d_direct_pixel_clamp);
}

void mcf_conv2d_s8_stack_full(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter,
                              int8_t *output)
{
    MCF_CONV2D_STACK(mcf_conv2d_pair_full);
}

void mcf_conv2d_s8_stack_clamp(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter,
                               int8_t *output)
{
    MCF_CONV2D_STACK(mcf_conv2d_pair_clamp);
}

void mcf_conv2d_s8_c1_full(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter, int8_t *output)
{
#if MCF_KERNELS_FAST && !MCF_REQUANT_F32
    mcf_conv2d_s8_c1_full_impl(p, input, filter, output);
#else
    mcf_conv2d_s8_reference(p, input, filter, output);
#endif
}

void mcf_conv2d_s8_c1_clamp(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter, int8_t *output)
{
#if MCF_KERNELS_FAST && !MCF_REQUANT_F32
    mcf_conv2d_s8_c1_clamp_impl(p, input, filter, output);
#else
    mcf_conv2d_s8_reference(p, input, filter, output);
#endif
}

/* The pointwise path with the DSP extension; in other builds the stack path (its conditions hold: the
 * compiler chooses this entry point for input_c <= MCF_CONV2D_STACK_MAX_K only), there RV32's own. */
void mcf_conv2d_s8_pointwise_full(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter,
                                  int8_t *output)
{
#if MCF_KERNELS_DSP && !MCF_REQUANT_F32
    if (mcf_conv2d_pw_ok(p)) {
        mcf_conv2d_s8_pw_full_impl(p, input, filter, output);
        return;
    }
#endif
    MCF_CONV2D_STACK(mcf_conv2d_pair_full);
}

void mcf_conv2d_s8_pointwise_clamp(const mcf_conv2d_params *p, const int8_t *input, const int8_t *filter,
                                   int8_t *output)
{
#if MCF_KERNELS_DSP && !MCF_REQUANT_F32
    if (mcf_conv2d_pw_ok(p)) {
        mcf_conv2d_s8_pw_clamp_impl(p, input, filter, output);
        return;
    }
#endif
    MCF_CONV2D_STACK(mcf_conv2d_pair_clamp);
}
