/* conv2d_s8_fsum.c - see conv2d_s8_fsum.h. */
#include "conv2d_s8_fsum.h"

#include "mcf_common.h"

/* fma(a, b, c) rounded once to float32. Without the instruction: a * b is exact in double (two
 * 24-bit significands), s = a * b + c rounds once in double and its exact error comes from the
 * two-sum; (float)s is the right answer unless s fell exactly halfway between two floats while the
 * error is not zero, and then the float on the error's side is. */
static MCF_ALWAYS_INLINE float mcf_fsum_fma(float a, float b, float c)
{
#if (defined(__ARM_FEATURE_FMA) && defined(__ARM_FP) && (__ARM_FP & 4)) || defined(__FMA__) || \
    (defined(__riscv_flen) && __riscv_flen >= 32)
    return __builtin_fmaf(a, b, c);
#else
    const double pr = (double)a * (double)b;
    const double s = pr + (double)c;
    const double t = s - pr;
    const double err = (pr - (s - t)) + ((double)c - t);
    const float f = (float)s;
    if (err != 0.0 && (double)f != s) {
        uint32_t bits;
        float g;
        MCF_COPY_FIXED(&bits, &f, sizeof bits);
        bits = ((s > (double)f) == (f >= 0.0f)) ? bits + 1u : bits - 1u; /* the float past f, toward s */
        MCF_COPY_FIXED(&g, &bits, sizeof g);
        if (2.0 * s == (double)f + (double)g) {
            return ((err > 0.0) == (g > f)) ? g : f;
        }
    }
    return f;
#endif
}

/* QuantizeLinear of the float result: y / scale, half to even, offset, clamp. */
static MCF_ALWAYS_INLINE int8_t mcf_fsum_quantize(const mcf_conv2d_fsum_params *p, float y)
{
    int32_t q = mcf_round_f32(y / p->output_scale) + p->output_offset;
    q = q < p->act_min ? p->act_min : q;
    q = q > p->act_max ? p->act_max : q;
    return (int8_t)q;
}

/* The dequantized input value of channel c at (iy, ix) of image `in` (DequantizeLinear), 0.0f in the padding. */
static MCF_ALWAYS_INLINE float mcf_fsum_tap(const mcf_conv2d_fsum_params *p, const int8_t *in, int32_t c,
                                            int32_t iy, int32_t ix)
{
    if ((uint32_t)iy >= (uint32_t)p->input_h || (uint32_t)ix >= (uint32_t)p->input_w) {
        return 0.0f;
    }
    return (float)(in[(iy * p->input_w + ix) * p->input_c + c] + p->input_offset) * p->input_scale;
}

/* DequantizeLinear of every int8 value, indexed by its byte: (float)(x + input_offset) * input_scale. */
static void mcf_fsum_dequant_table(const mcf_conv2d_fsum_params *p, float *table)
{
    int32_t i;
    for (i = 0; i < 256; ++i) {
        table[i] = (float)((int32_t)(int8_t)(uint8_t)i + p->input_offset) * p->input_scale;
    }
}

/* Sequential fused multiply-adds over the taps of N output channels side by side (filter
 * interleaved: tap k of the N channels at w[k * N ..]), each channel's own sum in its own order, in
 * blocks of k_block taps summed apart, each block's sum added to the total (MLAS's SGEMM kernels).
 * The N sums are named variables so that they stay in registers. */
#define MCF_FSUM_FMA8(s, wk, x)                  \
    do {                                         \
        s##0 = mcf_fsum_fma((wk)[0], x, s##0);   \
        s##1 = mcf_fsum_fma((wk)[1], x, s##1);   \
        s##2 = mcf_fsum_fma((wk)[2], x, s##2);   \
        s##3 = mcf_fsum_fma((wk)[3], x, s##3);   \
        s##4 = mcf_fsum_fma((wk)[4], x, s##4);   \
        s##5 = mcf_fsum_fma((wk)[5], x, s##5);   \
        s##6 = mcf_fsum_fma((wk)[6], x, s##6);   \
        s##7 = mcf_fsum_fma((wk)[7], x, s##7);   \
    } while (0)

static void mcf_fsum_dot8(int32_t kb, const float *w, const float *col, int32_t k_count, float *total)
{
    int32_t k0, k, j;
    for (k0 = 0; k0 < k_count; k0 += kb) {
        const int32_t k1 = k0 + kb < k_count ? k0 + kb : k_count;
        const float *wk = w + k0 * 8;
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f, s4 = 0.0f, s5 = 0.0f, s6 = 0.0f, s7 = 0.0f;
        float s[8];
        for (k = k0; k < k1; ++k) {
            const float x = col[k];
            MCF_FSUM_FMA8(s, wk, x);
            wk += 8;
        }
        s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3, s[4] = s4, s[5] = s5, s[6] = s6, s[7] = s7;
        for (j = 0; j < 8; ++j) {
            total[j] = k0 ? total[j] + s[j] : s[j];
        }
    }
}

static void mcf_fsum_dot4(int32_t kb, const float *w, const float *col, int32_t k_count, float *total)
{
    int32_t k0, k, j;
    for (k0 = 0; k0 < k_count; k0 += kb) {
        const int32_t k1 = k0 + kb < k_count ? k0 + kb : k_count;
        const float *wk = w + k0 * 4;
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
        float s[4];
        for (k = k0; k < k1; ++k) {
            const float x = col[k];
            s0 = mcf_fsum_fma(wk[0], x, s0);
            s1 = mcf_fsum_fma(wk[1], x, s1);
            s2 = mcf_fsum_fma(wk[2], x, s2);
            s3 = mcf_fsum_fma(wk[3], x, s3);
            wk += 4;
        }
        s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3;
        for (j = 0; j < 4; ++j) {
            total[j] = k0 ? total[j] + s[j] : s[j];
        }
    }
}

static void mcf_fsum_dot1(int32_t kb, const float *w, const float *col, int32_t k_count, float *total)
{
    int32_t k0, k;
    for (k0 = 0; k0 < k_count; k0 += kb) {
        const int32_t k1 = k0 + kb < k_count ? k0 + kb : k_count;
        float s0 = 0.0f;
        for (k = k0; k < k1; ++k) {
            s0 = mcf_fsum_fma(w[k], col[k], s0);
        }
        total[0] = k0 ? total[0] + s0 : s0;
    }
}

void mcf_conv2d_s8_fsum_gemm(const mcf_conv2d_fsum_params *p, const int8_t *input, const float *filter,
                             int8_t *output)
{
    const int32_t k_count = p->group_c * p->filter_h * p->filter_w;
    const int32_t groups = p->output_c / p->group_m;
    const int32_t image = p->input_h * p->input_w * p->input_c;
    const float *filter_start = filter;
    float *table = p->scratch;
    float *col = p->scratch + 256;
    float totals[8];
    int32_t b, oy, ox, g, m, k, c, ky, kx, n, j;
    mcf_fsum_dequant_table(p, table);
    for (b = 0; b < p->batches; ++b) {
        const uint8_t *in = (const uint8_t *)input + b * image;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                const int32_t kb = oy * p->output_w + ox >= p->tail_start ? p->k_block_tail : p->k_block;
                for (g = 0; g < groups; ++g) {
                    /* this pixel's column of the group: taps in im2col order */
                    k = 0;
                    for (c = g * p->group_c; c < (g + 1) * p->group_c; ++c) {
                        for (ky = 0; ky < p->filter_h; ++ky) {
                            const int32_t iy = y0 + ky * p->dilation_h;
                            const int32_t row_ok = (uint32_t)iy < (uint32_t)p->input_h;
                            const int32_t row = iy * p->input_w * p->input_c + c; /* read only inside */
                            for (kx = 0; kx < p->filter_w; ++kx) {
                                const int32_t ix = x0 + kx * p->dilation_w;
                                col[k++] = (row_ok && (uint32_t)ix < (uint32_t)p->input_w) ? table[in[row + ix * p->input_c]]
                                                                                            : 0.0f;
                            }
                        }
                    }
                    /* output channels in blocks of eight, then four, then one (the filter's layout) */
                    for (m = g * p->group_m; m < (g + 1) * p->group_m; m += n) {
                        const int32_t left = (g + 1) * p->group_m - m;
                        n = left >= 8 ? 8 : (left >= 4 ? 4 : 1);
                        if (n == 8) {
                            mcf_fsum_dot8(kb, filter, col, k_count, totals);
                        } else if (n == 4) {
                            mcf_fsum_dot4(kb, filter, col, k_count, totals);
                        } else {
                            mcf_fsum_dot1(kb, filter, col, k_count, totals);
                        }
                        filter += n * k_count;
                        for (j = 0; j < n; ++j) {
                            output[m + j] = mcf_fsum_quantize(p, totals[j] + p->bias[m + j]);
                        }
                    }
                }
                filter = filter_start;
                output += p->output_c;
            }
        }
    }
}

/* One product rounded to float32 on its own, never fused into the addition that follows (GCC
 * contracts across statements in GNU C mode): an empty asm statement makes the rounded product an
 * opaque register value where the FPU's register class can be named, volatile storage elsewhere.
 * Without an FPU there is no fused instruction to contract into. */
static MCF_ALWAYS_INLINE float mcf_fsum_product(float w, float x)
{
#if defined(__GNUC__) && defined(__arm__) && defined(__ARM_FP) && (__ARM_FP & 4)
    float pr = w * x;
    __asm__("" : "+t"(pr));
    return pr;
#elif defined(__GNUC__) && defined(__x86_64__)
    float pr = w * x;
    __asm__("" : "+x"(pr));
    return pr;
#elif defined(__GNUC__) && defined(__riscv_flen)
    float pr = w * x;
    __asm__("" : "+f"(pr));
    return pr;
#else
    volatile float pr = w * x;
    return pr;
#endif
}

void mcf_conv2d_s8_fsum_m1(const mcf_conv2d_fsum_params *p, const int8_t *input, const float *filter,
                           int8_t *output)
{
    const int32_t k_count = p->group_c * p->filter_h * p->filter_w;
    const int32_t image = p->input_h * p->input_w * p->input_c;
    int32_t b, oy, ox, m, c, ky, kx;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * image;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                const int32_t kb = oy * p->output_w + ox >= p->tail_start ? p->k_block_tail : p->k_block;
                for (m = 0; m < p->output_c; ++m) {
                    const float *w = filter + m * k_count;
                    float total = 0.0f, part = 0.0f;
                    int32_t k = 0, block_left = 0, group_left = 0, started = 0;
                    for (c = m * p->group_c; c < (m + 1) * p->group_c; ++c) {
                        for (ky = 0; ky < p->filter_h; ++ky) {
                            for (kx = 0; kx < p->filter_w; ++kx) {
                                const float x = mcf_fsum_tap(p, in, c, y0 + ky * p->dilation_h, x0 + kx * p->dilation_w);
                                const float pr = mcf_fsum_product(w[k], x);
                                if (block_left == 0) { /* a block starts: its taps */
                                    block_left = k_count - k < kb ? k_count - k : kb;
                                }
                                if (group_left == 0) { /* a group starts: four taps, else two, else one */
                                    group_left = block_left >= 4 ? 4 : (block_left >= 2 ? 2 : 1);
                                    part = pr;
                                } else {
                                    part = part + pr;
                                }
                                ++k;
                                --block_left;
                                if (--group_left == 0) {
                                    total = started ? part + total : part;
                                    started = 1;
                                }
                            }
                        }
                    }
                    output[m] = mcf_fsum_quantize(p, total + p->bias[m]);
                }
                output += p->output_c;
            }
        }
    }
}

/* Eight lane sums of one row reduced as MLAS's M = 1 transposed kernel reduces a row of a block of
 * four rows (`rows` 4), of two (2) or a single row (1). */
static MCF_ALWAYS_INLINE float mcf_fsum_lanes(const float *a, int32_t rows)
{
    if (rows == 4) {
        return (((a[0] + a[1]) + a[2]) + a[3]) + (((a[4] + a[5]) + a[6]) + a[7]);
    }
    if (rows == 2) {
        return ((a[0] + a[2]) + (a[4] + a[6])) + ((a[1] + a[3]) + (a[5] + a[7]));
    }
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

void mcf_conv2d_s8_fsum_n1(const mcf_conv2d_fsum_params *p, const int8_t *input, const float *filter,
                           int8_t *output)
{
    const int32_t k_count = p->group_c * p->filter_h * p->filter_w;
    const int32_t groups = p->output_c / p->group_m;
    const int32_t rows4 = p->group_m & ~3;
    const int32_t image = p->input_h * p->input_w * p->input_c;
    float *col = p->scratch;
    int32_t b, g, m, k, c, ky, kx;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * image;
        const int32_t y0 = -p->pad_top;
        const int32_t x0 = -p->pad_left;
        for (g = 0; g < groups; ++g) {
            k = 0;
            for (c = g * p->group_c; c < (g + 1) * p->group_c; ++c) {
                for (ky = 0; ky < p->filter_h; ++ky) {
                    for (kx = 0; kx < p->filter_w; ++kx) {
                        col[k++] = mcf_fsum_tap(p, in, c, y0 + ky * p->dilation_h, x0 + kx * p->dilation_w);
                    }
                }
            }
            for (m = 0; m < p->group_m; ++m) {
                const float *w = filter + (g * p->group_m + m) * k_count;
                /* tap k goes to lane k % 8; eight named sums (an initialised array becomes a memset call
                   on some cores, and this file must not call the C library) */
                float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f, s4 = 0.0f, s5 = 0.0f, s6 = 0.0f, s7 = 0.0f;
                float lanes[8];
                for (k = 0; k + 8 <= k_count; k += 8) {
                    s0 = s0 + mcf_fsum_product(w[k], col[k]);
                    s1 = s1 + mcf_fsum_product(w[k + 1], col[k + 1]);
                    s2 = s2 + mcf_fsum_product(w[k + 2], col[k + 2]);
                    s3 = s3 + mcf_fsum_product(w[k + 3], col[k + 3]);
                    s4 = s4 + mcf_fsum_product(w[k + 4], col[k + 4]);
                    s5 = s5 + mcf_fsum_product(w[k + 5], col[k + 5]);
                    s6 = s6 + mcf_fsum_product(w[k + 6], col[k + 6]);
                    s7 = s7 + mcf_fsum_product(w[k + 7], col[k + 7]);
                }
                if (k < k_count) s0 = s0 + mcf_fsum_product(w[k], col[k]);
                if (k + 1 < k_count) s1 = s1 + mcf_fsum_product(w[k + 1], col[k + 1]);
                if (k + 2 < k_count) s2 = s2 + mcf_fsum_product(w[k + 2], col[k + 2]);
                if (k + 3 < k_count) s3 = s3 + mcf_fsum_product(w[k + 3], col[k + 3]);
                if (k + 4 < k_count) s4 = s4 + mcf_fsum_product(w[k + 4], col[k + 4]);
                if (k + 5 < k_count) s5 = s5 + mcf_fsum_product(w[k + 5], col[k + 5]);
                if (k + 6 < k_count) s6 = s6 + mcf_fsum_product(w[k + 6], col[k + 6]);
                lanes[0] = s0; lanes[1] = s1; lanes[2] = s2; lanes[3] = s3;
                lanes[4] = s4; lanes[5] = s5; lanes[6] = s6; lanes[7] = s7;
                output[g * p->group_m + m] = mcf_fsum_quantize(
                    p, mcf_fsum_lanes(lanes, m < rows4 ? 4 : (m < rows4 + 2 && p->group_m - rows4 >= 2 ? 2 : 1)) +
                           p->bias[g * p->group_m + m]);
            }
        }
        output += p->output_c;
    }
}

void mcf_conv2d_s8_fsum_dw(const mcf_conv2d_fsum_params *p, const int8_t *input, const float *filter,
                           int8_t *output)
{
    const int32_t taps = p->filter_h * p->filter_w;
    const int32_t ch = p->output_c;
    const int32_t image = p->input_h * p->input_w * ch;
    float *table = p->scratch;
    float *total = p->scratch + 256;
    int32_t off[MCF_FSUM_DW_MAX_TAPS];
    int32_t b, oy, ox, ky, kx, c;
    mcf_fsum_dequant_table(p, table);
    for (b = 0; b < p->batches; ++b) {
        const uint8_t *in = (const uint8_t *)input + b * image;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                int32_t t = 0, k0, started = 0;
                for (ky = 0; ky < p->filter_h; ++ky) {
                    const int32_t iy = y0 + ky * p->dilation_h;
                    for (kx = 0; kx < p->filter_w; ++kx) {
                        const int32_t ix = x0 + kx * p->dilation_w;
                        off[t++] = ((uint32_t)iy < (uint32_t)p->input_h && (uint32_t)ix < (uint32_t)p->input_w)
                                       ? (iy * p->input_w + ix) * ch : -1;
                    }
                }
                /* groups of four taps, then two, then one; a padding tap adds an exact zero, so it is
                 * left out (a group of padding only adds nothing) */
                for (k0 = 0; k0 < taps;) {
                    const int32_t n = taps - k0 >= 4 ? 4 : (taps - k0 >= 2 ? 2 : 1);
                    int32_t kk[4], oo[4], v = 0, j;
                    for (j = k0; j < k0 + n; ++j) {
                        if (off[j] >= 0) {
                            kk[v] = j;
                            oo[v++] = off[j];
                        }
                    }
                    k0 += n;
                    if (v == 0) {
                        continue;
                    }
                    for (c = 0; c < ch; ++c) {
                        const float *w = filter + c * taps;
                        float s = mcf_fsum_product(w[kk[0]], table[in[oo[0] + c]]);
                        if (v == 4) {
                            s = s + mcf_fsum_product(w[kk[1]], table[in[oo[1] + c]]);
                            s = s + mcf_fsum_product(w[kk[2]], table[in[oo[2] + c]]);
                            s = s + mcf_fsum_product(w[kk[3]], table[in[oo[3] + c]]);
                        } else {
                            for (j = 1; j < v; ++j) {
                                s = s + mcf_fsum_product(w[kk[j]], table[in[oo[j] + c]]);
                            }
                        }
                        total[c] = started ? s + total[c] : s;
                    }
                    started = 1;
                }
                for (c = 0; c < ch; ++c) {
                    output[c] = mcf_fsum_quantize(p, (started ? total[c] : 0.0f) + p->bias[c]);
                }
                output += ch;
            }
        }
    }
}
