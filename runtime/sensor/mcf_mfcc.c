/*
 * mcf_mfcc.c - log-mel / MFCC feature stage (see mcf_mfcc.h for the definition).
 *
 * Every step here has a numpy twin in generator/sensor/features.py (mfcc_frames, log_f32,
 * quantize) that performs the same float32 operations in the same order. Change one, change
 * the other: tests/test_sensor_mfcc.py checks they agree bit for bit.
 */
#include "mcf_mfcc.h"

#include <math.h>
#include <string.h>

#ifndef INFINITY /* C99 <math.h> has it; Zephyr's minimal libc does not */
#define INFINITY __builtin_inff()
#endif

/*
 * No fused multiply-add: every a * b + c here is rounded twice, like its numpy twin, whatever
 * the build's -std/-ffp-contract (GCC's gnu modes contract by default; Zephyr builds in one).
 * Define MCF_MFCC_ALLOW_FP_CONTRACT to let the compiler fuse: about 9 % fewer instructions on a
 * Cortex-M4F, but features then differ from the host reference by float32 rounding (the int8
 * tensor by at most 1 LSB on a few elements; see generator/sensor/FEATURES.md).
 */
#if !defined(MCF_MFCC_ALLOW_FP_CONTRACT)
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#endif

/* ---------------------------------------------------------------------------------------- */
/* Natural logarithm                                                                         */
/* ---------------------------------------------------------------------------------------- */

/*
 * x = 2^e * m with m in (sqrt(1/2), sqrt(2)], f = m - 1 (exact: m is within a factor 2 of 1),
 * s = f / (2 + f), ln(m) = 2 atanh(s) = 2s + (2/3)s^3 + (2/5)s^5 + (2/7)s^7 + (2/9)s^9 + ...
 * |s| <= 0.1716, so the terms after s^9 are below 3e-9 of the result (float32 resolves 6e-8).
 * e * ln2 is split in a 9-bit high part (e * hi is exact for |e| < 2^15) and a low part.
 */
#define MCF_LOG_C3 6.666667e-01f   /* 2/3 */
#define MCF_LOG_C5 4.e-01f         /* 2/5 */
#define MCF_LOG_C7 2.857143e-01f   /* 2/7 */
#define MCF_LOG_C9 2.2222222e-01f  /* 2/9 */
#define MCF_LN2_HI 6.933594e-01f   /* 0.693359375 exactly */
#define MCF_LN2_LO -2.1219444e-04f /* ln 2 - 0.693359375 */
#define MCF_SQRT2_BITS 0x3FB504F3u /* float32 nearest sqrt(2) */

/* A float's bits and back through a union (defined in C99), which no compiler turns into a call to
 * memcpy, even under -ffreestanding -fno-builtin (Zephyr's flags). */
typedef union {
    float f;
    uint32_t u;
} mcf_mfcc_bits;

float mcf_mfcc_log(float x)
{
    mcf_mfcc_bits pun;
    uint32_t bits;
    uint32_t mant;
    int32_t e;
    float m, f, s, z, poly, log_m, ef;

    pun.f = x;
    bits = pun.u;
    e = (int32_t)((bits >> 23) & 0xFFu) - 127;
    mant = (bits & 0x007FFFFFu) | 0x3F800000u; /* m in [1, 2) */
    if (mant > MCF_SQRT2_BITS) {
        mant -= 0x00800000u; /* m / 2 */
        e += 1;
    }
    pun.u = mant;
    m = pun.f;
    f = m - 1.0f;
    s = f / (2.0f + f);
    z = s * s;
    poly = MCF_LOG_C3 + z * (MCF_LOG_C5 + z * (MCF_LOG_C7 + z * MCF_LOG_C9));
    log_m = (s + s) + s * (z * poly);
    ef = (float)e;
    return (ef * MCF_LN2_LO + log_m) + ef * MCF_LN2_HI;
}

/* ---------------------------------------------------------------------------------------- */
/* Real FFT: N real points as an N/2-point complex FFT plus a split step                     */
/* ---------------------------------------------------------------------------------------- */

/*
 * Window the frame and pack x[2i] + j x[2i+1] into z at bit-reversed position bitrev[i]
 * (z holds N/2 complex values as (re, im) pairs); x[i] = (sample[i] * gain) * window[i] for
 * i < frame_length, 0 beyond. SAMPLE(i) reads sample i as a float (exact for int16).
 */
#define MCF_PACK_FRAME(cfg, SAMPLE, gain, z)                                                  \
    do {                                                                                      \
        const uint32_t length_ = (cfg)->frame_length;                                         \
        const uint32_t half_ = (uint32_t)(cfg)->fft_length / 2u;                              \
        const float *w_ = (cfg)->window;                                                      \
        uint32_t i_;                                                                          \
        for (i_ = 0; 2u * i_ + 1u < length_; ++i_) {                                          \
            const uint32_t d_ = 2u * (uint32_t)(cfg)->bitrev[i_];                             \
            (z)[d_] = (SAMPLE(2u * i_) * (gain)) * w_[2u * i_];                               \
            (z)[d_ + 1u] = (SAMPLE(2u * i_ + 1u) * (gain)) * w_[2u * i_ + 1u];                \
        }                                                                                     \
        for (; i_ < half_; ++i_) { /* zero padding; an odd frame_length leaves one sample */  \
            const uint32_t d_ = 2u * (uint32_t)(cfg)->bitrev[i_];                             \
            (z)[d_] = (2u * i_ < length_) ? (SAMPLE(2u * i_) * (gain)) * w_[2u * i_] : 0.0f;  \
            (z)[d_ + 1u] = 0.0f;                                                              \
        }                                                                                     \
    } while (0)

static void pack_s16(const mcf_mfcc_config *cfg, const int16_t *samples, float gain, float *z)
{
#define MCF_SAMPLE_S16(i) ((float)samples[(i)])
    MCF_PACK_FRAME(cfg, MCF_SAMPLE_S16, gain, z);
#undef MCF_SAMPLE_S16
}

static void pack_f32(const mcf_mfcc_config *cfg, const float *samples, float gain, float *z)
{
#define MCF_SAMPLE_F32(i) (samples[(i)])
    MCF_PACK_FRAME(cfg, MCF_SAMPLE_F32, gain, z);
#undef MCF_SAMPLE_F32
}

/*
 * Butterflies on local variables (so that the compiler keeps a group of points in registers):
 * t = W * b with W = wr - i wi; (a, b) <- (a + t, a - t). MCF_BF_1 is W = 1 (t = b), MCF_BF_MI
 * is W = -i (t = (b.im, -b.re)).
 */
#define MCF_BF(ar, ai, br, bi, wr, wi)                  \
    do {                                                \
        const float tr_ = (wr) * (br) + (wi) * (bi);    \
        const float ti_ = (wr) * (bi) - (wi) * (br);    \
        (br) = (ar) - tr_;                              \
        (bi) = (ai) - ti_;                              \
        (ar) = (ar) + tr_;                              \
        (ai) = (ai) + ti_;                              \
    } while (0)

#define MCF_BF_1(ar, ai, br, bi)                        \
    do {                                                \
        const float tr_ = (br), ti_ = (bi);             \
        (br) = (ar) - tr_;                              \
        (bi) = (ai) - ti_;                              \
        (ar) = (ar) + tr_;                              \
        (ai) = (ai) + ti_;                              \
    } while (0)

#define MCF_BF_MI(ar, ai, br, bi)                       \
    do {                                                \
        const float tr_ = (bi), ti_ = -(br);            \
        (br) = (ar) - tr_;                              \
        (bi) = (ai) - ti_;                              \
        (ar) = (ar) + tr_;                              \
        (ai) = (ai) + ti_;                              \
    } while (0)

/* Load / store the four complex points p, p + d, p + 2d, p + 3d (d in complex points). */
#define MCF_LOAD4(p, d)                                                          \
    float x0r = (p)[0], x0i = (p)[1], x1r = (p)[2u * (d)], x1i = (p)[2u * (d) + 1u], \
          x2r = (p)[4u * (d)], x2i = (p)[4u * (d) + 1u], x3r = (p)[6u * (d)],        \
          x3i = (p)[6u * (d) + 1u]
#define MCF_STORE4(p, d)                                  \
    do {                                                  \
        (p)[0] = x0r;                                     \
        (p)[1] = x0i;                                     \
        (p)[2u * (d)] = x1r;                              \
        (p)[2u * (d) + 1u] = x1i;                         \
        (p)[4u * (d)] = x2r;                              \
        (p)[4u * (d) + 1u] = x2i;                         \
        (p)[6u * (d)] = x3r;                              \
        (p)[6u * (d) + 1u] = x3i;                         \
    } while (0)

/*
 * In-place radix-2 decimation-in-time FFT of n >= 4 complex points (input in bit-reversed
 * order), forward: stage `size` combines points j and j + size/2 of each block of `size` with
 * W^j = cos(2 pi j / size) - i sin(2 pi j / size) = tw[j * n / size] (tw[2k] = cos,
 * tw[2k + 1] = sin of 2 pi k / n, k < n/2).
 *
 * Two consecutive stages (size s, then 2s) are done in one pass over memory: the points
 * p, p + s/2, p + s, p + 3s/2 only meet each other in those two stages, so each group of four
 * is loaded once, put through its four butterflies and stored. The arithmetic is exactly that
 * of the plain stage-by-stage algorithm (features.mfcc_frames computes it that way); the
 * butterflies with W = 1 or W = -i skip their multiplications, which gives the same numbers
 * (up to the sign of zeros, which no later step can see).
 */
static void fft_radix2(float *z, uint32_t n, const float *tw)
{
    uint32_t size, start, j;

    /* Stages 2 and 4: W = 1, then W = 1 and -i. Points 0, 1, 2, 3 of each block of 4. */
    for (start = 0; start < n; start += 4u) {
        float *p = z + 2u * start;
        MCF_LOAD4(p, 1u);
        MCF_BF_1(x0r, x0i, x1r, x1i);
        MCF_BF_1(x2r, x2i, x3r, x3i);
        MCF_BF_1(x0r, x0i, x2r, x2i);
        MCF_BF_MI(x1r, x1i, x3r, x3i);
        MCF_STORE4(p, 1u);
    }
    for (size = 8u; size <= n; size <<= 2) {
        const uint32_t hs = size >> 1;
        if (2u * size > n) { /* one stage left: plain radix-2 */
            const uint32_t step = n / size;
            for (j = 0; j < hs; ++j) {
                const float wr = tw[2u * j * step], wi = tw[2u * j * step + 1u];
                for (start = j; start < n; start += size) {
                    float *a = z + 2u * start;
                    float *b = a + 2u * hs;
                    float ar = a[0], ai = a[1], br = b[0], bi = b[1];
                    if (j == 0u) {
                        MCF_BF_1(ar, ai, br, bi);
                    } else {
                        MCF_BF(ar, ai, br, bi, wr, wi);
                    }
                    a[0] = ar;
                    a[1] = ai;
                    b[0] = br;
                    b[1] = bi;
                }
            }
            break;
        }
        {
            /* Stage s: (x0, x1) and (x2, x3) with W_s^j; stage 2s: (x0, x2) with W_2s^j and
             * (x1, x3) with W_2s^(j + s/2). */
            const uint32_t step1 = n / size;
            const uint32_t step2 = step1 >> 1;
            const uint32_t block = 2u * size;
            for (start = 0; start < n; start += block) { /* j = 0: W = 1, 1, 1, -i */
                float *p = z + 2u * start;
                MCF_LOAD4(p, hs);
                MCF_BF_1(x0r, x0i, x1r, x1i);
                MCF_BF_1(x2r, x2i, x3r, x3i);
                MCF_BF_1(x0r, x0i, x2r, x2i);
                MCF_BF_MI(x1r, x1i, x3r, x3i);
                MCF_STORE4(p, hs);
            }
            for (j = 1u; j < hs; ++j) {
                const float w1r = tw[2u * j * step1], w1i = tw[2u * j * step1 + 1u];
                const float w2r = tw[2u * j * step2], w2i = tw[2u * j * step2 + 1u];
                const float w3r = tw[2u * (j + hs) * step2], w3i = tw[2u * (j + hs) * step2 + 1u];
                for (start = j; start < n; start += block) {
                    float *p = z + 2u * start;
                    MCF_LOAD4(p, hs);
                    MCF_BF(x0r, x0i, x1r, x1i, w1r, w1i);
                    MCF_BF(x2r, x2i, x3r, x3i, w1r, w1i);
                    MCF_BF(x0r, x0i, x2r, x2i, w2r, w2i);
                    MCF_BF(x1r, x1i, x3r, x3i, w3r, w3i);
                    MCF_STORE4(p, hs);
                }
            }
        }
    }
}

/*
 * Spectrum bins bin_lo..bin_hi of the N-point real FFT from the N/2-point complex FFT Z:
 *   2 X[k] = (Z[k] + conj Z[M-k]) + W_N^k * (-i) (Z[k] - conj Z[M-k]),  M = N/2, Z[M] = Z[0]
 * with W_N^k = c - i s. S[k] = |X[k]| = sqrt(|2X|^2) / 2, or |X[k]|^2 = |2X|^2 / 4.
 */
static void spectrum(const mcf_mfcc_config *cfg, const float *z, float *spec)
{
    const uint32_t half = (uint32_t)cfg->fft_length / 2u;
    const uint32_t mask = half - 1u;
    const float *tw = cfg->rfft_twiddle;
    const int power = (cfg->flags & MCF_MFCC_POWER) != 0u;
    uint32_t k;

    for (k = cfg->bin_lo; k <= cfg->bin_hi; ++k, tw += 2) {
        const uint32_t ia = 2u * (k & mask);
        const uint32_t ib = 2u * ((half - k) & mask);
        const float ar = z[ia], ai = z[ia + 1u], br = z[ib], bi = z[ib + 1u];
        const float c = tw[0], s = tw[1];
        const float sum_re = ar + br;
        const float dif_re = br - ar;
        const float sum_im = ai - bi;
        const float dif_im = ai + bi;
        const float xr = (sum_re + c * dif_im) + s * dif_re;
        const float xi = (sum_im + c * dif_re) - s * dif_im;
        const float p = xr * xr + xi * xi;
        spec[k] = power ? p * 0.25f : sqrtf(p) * 0.5f;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Frames and clips                                                                          */
/* ---------------------------------------------------------------------------------------- */

/* FFT, spectrum, mel, log and DCT of the frame packed in scratch. */
static void features_of_packed(const mcf_mfcc_config *cfg, float *out_coeffs, float *scratch)
{
    float *z = scratch;                      /* [N]: N/2 complex, later the mel energies */
    float *spec = scratch + cfg->fft_length; /* [N/2 + 1] */
    const float *w = cfg->mel_weights;
    const uint32_t n_mels = cfg->n_mels;
    uint32_t m, j, k;

    fft_radix2(z, (uint32_t)cfg->fft_length / 2u, cfg->fft_twiddle);
    spectrum(cfg, z, spec);

    /* Mel energies (into z, free now), then their logarithm. */
    for (m = 0; m < n_mels; ++m) {
        const float *s = spec + cfg->mel_start[m];
        const uint32_t len = cfg->mel_length[m];
        float acc = 0.0f;
        for (j = 0; j < len; ++j) {
            acc = acc + w[j] * s[j];
        }
        w += len;
        z[m] = mcf_mfcc_log(acc + cfg->log_offset);
    }

    if (cfg->dct == NULL) {
        memcpy(out_coeffs, z, n_mels * sizeof(float));
        return;
    }
    for (k = 0; k < cfg->n_out; ++k) {
        const float *row = cfg->dct + (size_t)k * n_mels;
        float acc = 0.0f;
        for (m = 0; m < n_mels; ++m) {
            acc = acc + row[m] * z[m];
        }
        out_coeffs[k] = acc;
    }
}

void mcf_mfcc_frame_gain(const mcf_mfcc_config *cfg, const int16_t *frame_samples, float gain,
                         float *out_coeffs, float *scratch)
{
    pack_s16(cfg, frame_samples, gain, scratch);
    features_of_packed(cfg, out_coeffs, scratch);
}

void mcf_mfcc_frame(const mcf_mfcc_config *cfg, const int16_t *frame_samples, float *out_coeffs,
                    float *scratch)
{
    mcf_mfcc_frame_gain(cfg, frame_samples, cfg->gain, out_coeffs, scratch);
}

void mcf_mfcc_frame_f32(const mcf_mfcc_config *cfg, const float *frame_samples, float gain,
                        float *out_coeffs, float *scratch)
{
    pack_f32(cfg, frame_samples, gain, scratch);
    features_of_packed(cfg, out_coeffs, scratch);
}

float mcf_mfcc_peak_gain(const int16_t *samples, size_t n_samples)
{
    int32_t peak = -32768;
    size_t i;

    for (i = 0; i < n_samples; ++i) {
        if (samples[i] > peak) {
            peak = samples[i];
        }
    }
    if (n_samples == 0u || peak == 0) {
        return MCF_MFCC_DEFAULT_GAIN;
    }
    return 1.0f / (float)peak;
}

float mcf_mfcc_peak_gain_f32(const float *samples, size_t n_samples)
{
    float peak = -INFINITY;
    size_t i;

    for (i = 0; i < n_samples; ++i) {
        if (samples[i] > peak) { /* NaN never is */
            peak = samples[i];
        }
    }
    if (peak == 0.0f || peak == -INFINITY) {
        return MCF_MFCC_DEFAULT_GAIN;
    }
    return 1.0f / peak;
}

size_t mcf_mfcc_frame_count(const mcf_mfcc_config *cfg, size_t n_samples)
{
    if (n_samples < cfg->frame_length) {
        return 0u;
    }
    return 1u + (n_samples - cfg->frame_length) / cfg->frame_step;
}

size_t mcf_mfcc_clip(const mcf_mfcc_config *cfg, const int16_t *clip, size_t n_samples, float *out,
                     float *scratch)
{
    const size_t frames = mcf_mfcc_frame_count(cfg, n_samples);
    const float gain =
        (cfg->flags & MCF_MFCC_PEAK_NORMALIZE) != 0u ? mcf_mfcc_peak_gain(clip, n_samples) : cfg->gain;
    size_t f;

    for (f = 0; f < frames; ++f) {
        mcf_mfcc_frame_gain(cfg, clip + f * cfg->frame_step, gain, out + f * cfg->n_out, scratch);
    }
    return frames;
}

size_t mcf_mfcc_clip_f32(const mcf_mfcc_config *cfg, const float *clip, size_t n_samples, float *out,
                         float *scratch)
{
    const size_t frames = mcf_mfcc_frame_count(cfg, n_samples);
    const float gain =
        (cfg->flags & MCF_MFCC_PEAK_NORMALIZE) != 0u ? mcf_mfcc_peak_gain_f32(clip, n_samples) : cfg->gain;
    size_t f;

    for (f = 0; f < frames; ++f) {
        mcf_mfcc_frame_f32(cfg, clip + f * cfg->frame_step, gain, out + f * cfg->n_out, scratch);
    }
    return frames;
}

size_t mcf_mfcc_clip_ring_s16(const mcf_mfcc_config *cfg, const int16_t *ring, size_t n_samples, size_t start,
                              float *out, float *scratch)
{
    const size_t frames = mcf_mfcc_frame_count(cfg, n_samples);
    const float gain =
        (cfg->flags & MCF_MFCC_PEAK_NORMALIZE) != 0u ? mcf_mfcc_peak_gain(ring, n_samples) : cfg->gain;
    size_t f;

    for (f = 0; f < frames; ++f) {
        size_t first = start + f * cfg->frame_step; /* < 2 n_samples */
        if (first >= n_samples) {
            first -= n_samples;
        }
        if (first + cfg->frame_length <= n_samples) { /* the frame does not wrap */
            pack_s16(cfg, ring + first, gain, scratch);
        } else {
#define MCF_SAMPLE_RING(i) ((float)ring[first + (i) < n_samples ? first + (i) : first + (i) - n_samples])
            MCF_PACK_FRAME(cfg, MCF_SAMPLE_RING, gain, scratch);
#undef MCF_SAMPLE_RING
        }
        features_of_packed(cfg, out + f * cfg->n_out, scratch);
    }
    return frames;
}

/* ---------------------------------------------------------------------------------------- */
/* Quantization                                                                              */
/* ---------------------------------------------------------------------------------------- */

/* round(x / scale) + zero_point, unclamped: halves away from zero, float32 division, |x / scale|
 * held below 1e6 (NaN counts as -1e6). */
static int32_t mfcc_quantize_one(float x, float scale, int32_t zero_point)
{
    float v = x / scale;
    int32_t q;
    float frac;
    if (!(v > -1e6f)) { /* also NaN */
        v = -1e6f;
    }
    if (!(v < 1e6f)) {
        v = 1e6f;
    }
    q = (int32_t)v; /* truncates toward zero; |v| < 2^24 so v - q is exact */
    frac = v - (float)q;
    if (frac >= 0.5f) {
        q += 1;
    } else if (frac <= -0.5f) {
        q -= 1;
    }
    return q + zero_point;
}

void mcf_mfcc_quantize_s16(const float *in, int16_t *out, size_t n, float scale, int32_t zero_point)
{
    size_t i;
    for (i = 0; i < n; ++i) {
        const int32_t q = mfcc_quantize_one(in[i], scale, zero_point);
        out[i] = (int16_t)(q < -32768 ? -32768 : (q > 32767 ? 32767 : q));
    }
}

void mcf_mfcc_quantize_s8(const float *in, int8_t *out, size_t n, float scale, int32_t zero_point)
{
    size_t i;
    for (i = 0; i < n; ++i) {
        const int32_t q = mfcc_quantize_one(in[i], scale, zero_point);
        out[i] = (int8_t)(q < -128 ? -128 : (q > 127 ? 127 : q));
    }
}
