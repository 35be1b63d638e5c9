/* signal_spectrum.c - see signal_spectrum.h. Integer only: no float, no division. */
#include "signal_spectrum.h"

void mcf_signal_window(const mcf_signal_window_params *p, const int16_t *input, const int16_t *window,
                       int16_t *output) {
    const int32_t shift = p->shift;
    for (int32_t f = 0; f < p->frames; ++f) {
        for (int32_t i = 0; i < p->length; ++i) {
            int32_t v = ((int32_t)input[i] * window[i]) >> shift;
            output[i] = (int16_t)(v > 32767 ? 32767 : (v < -32768 ? -32768 : v));
        }
        input += p->length;
        output += p->length;
    }
}

/* Bit length of x (1 for 1, 32 for 0x80000000), and 32 for 0 as TFLite Micro's GCC build gives. */
static int32_t bit_length32(uint32_t x) {
    int32_t n = 0;
    if (x == 0) {
        return 32;
    }
    if (x >> 16) { n += 16; x >>= 16; }
    if (x >> 8) { n += 8; x >>= 8; }
    if (x >> 4) { n += 4; x >>= 4; }
    if (x >> 2) { n += 2; x >>= 2; }
    if (x >> 1) { n += 1; x >>= 1; }
    return n + (int32_t)x;
}

void mcf_signal_fft_auto_scale(const mcf_signal_auto_scale_params *p, const int16_t *input, int16_t *output,
                               int32_t *scale_bits) {
    int16_t max = 0;
    for (int32_t i = 0; i < p->length; ++i) {
        const int16_t v = input[i];
        if (v > max) {
            max = v;
        } else if (-v > max) {
            max = (int16_t)-v; /* -(-32768) wraps to -32768, as in TFLite Micro */
        }
    }
    int32_t bits = 15 - bit_length32((uint32_t)(int32_t)max);
    if (bits < 0) {
        bits = 0;
    }
    for (int32_t i = 0; i < p->length; ++i) {
        output[i] = (int16_t)((int32_t)input[i] * (1 << bits));
    }
    *scale_bits = bits;
}

/* kiss_fft FIXED_POINT 16 arithmetic: products of 15 fractional bits, rounded half up. */
static inline int16_t fx_round(int32_t x) {
    return (int16_t)((x + (1 << 14)) >> 15);
}

/* C_FIXDIV: multiply by 32767 / radix (integer quotient), rounded. */
static inline int16_t fx_div(int16_t x, int32_t k) {
    return fx_round((int32_t)x * k);
}

static void butterfly2(int16_t *f, int32_t m, int32_t fstride, const int16_t *tw) {
    int16_t *g = f + 2 * m;
    for (int32_t k = 0; k < m; ++k) {
        const int16_t ar = fx_div(f[0], 16383), ai = fx_div(f[1], 16383);
        const int16_t br = fx_div(g[0], 16383), bi = fx_div(g[1], 16383);
        const int16_t *w = tw + 2 * k * fstride;
        const int16_t tr = fx_round((int32_t)br * w[0] - (int32_t)bi * w[1]);
        const int16_t ti = fx_round((int32_t)br * w[1] + (int32_t)bi * w[0]);
        g[0] = (int16_t)(ar - tr);
        g[1] = (int16_t)(ai - ti);
        f[0] = (int16_t)(ar + tr);
        f[1] = (int16_t)(ai + ti);
        f += 2;
        g += 2;
    }
}

/* The inverse FFT's radix-4 butterfly is the forward one with outputs 1 and 3 swapped. */
static void butterfly4(int16_t *f, int32_t m, int32_t fstride, const int16_t *tw, int32_t inverse) {
    for (int32_t k = 0; k < m; ++k) {
        int16_t *f0 = f + 2 * k, *f2 = f0 + 4 * m;
        int16_t *f1 = f0 + (inverse ? 6 : 2) * m, *f3 = f0 + (inverse ? 2 : 6) * m; /* where 1 and 3 go */
        const int16_t *in1 = f0 + 2 * m, *in3 = f0 + 6 * m;
        const int16_t a0r = fx_div(f0[0], 8191), a0i = fx_div(f0[1], 8191);
        const int16_t a1r = fx_div(in1[0], 8191), a1i = fx_div(in1[1], 8191);
        const int16_t a2r = fx_div(f2[0], 8191), a2i = fx_div(f2[1], 8191);
        const int16_t a3r = fx_div(in3[0], 8191), a3i = fx_div(in3[1], 8191);
        const int16_t *w1 = tw + 2 * k * fstride, *w2 = tw + 4 * k * fstride, *w3 = tw + 6 * k * fstride;
        const int16_t s0r = fx_round((int32_t)a1r * w1[0] - (int32_t)a1i * w1[1]);
        const int16_t s0i = fx_round((int32_t)a1r * w1[1] + (int32_t)a1i * w1[0]);
        const int16_t s1r = fx_round((int32_t)a2r * w2[0] - (int32_t)a2i * w2[1]);
        const int16_t s1i = fx_round((int32_t)a2r * w2[1] + (int32_t)a2i * w2[0]);
        const int16_t s2r = fx_round((int32_t)a3r * w3[0] - (int32_t)a3i * w3[1]);
        const int16_t s2i = fx_round((int32_t)a3r * w3[1] + (int32_t)a3i * w3[0]);
        const int16_t s5r = (int16_t)(a0r - s1r), s5i = (int16_t)(a0i - s1i);
        const int16_t b0r = (int16_t)(a0r + s1r), b0i = (int16_t)(a0i + s1i);
        const int16_t s3r = (int16_t)(s0r + s2r), s3i = (int16_t)(s0i + s2i);
        const int16_t s4r = (int16_t)(s0r - s2r), s4i = (int16_t)(s0i - s2i);
        f2[0] = (int16_t)(b0r - s3r);
        f2[1] = (int16_t)(b0i - s3i);
        f0[0] = (int16_t)(b0r + s3r);
        f0[1] = (int16_t)(b0i + s3i);
        f1[0] = (int16_t)(s5r + s4i);
        f1[1] = (int16_t)(s5i - s4r);
        f3[0] = (int16_t)(s5r - s4i);
        f3[1] = (int16_t)(s5i + s4r);
    }
}

/* kiss_fft's stages (radix, m, fstride triples), in place in `out`. */
static void fft_stages_s16(int16_t *out, int32_t num_stages, const int32_t *stages, const int16_t *twiddles,
                           int32_t inverse) {
    for (int32_t s = 0; s < num_stages; ++s) {
        const int32_t radix = stages[3 * s], m = stages[3 * s + 1], fstride = stages[3 * s + 2];
        const int32_t span = 2 * radix * m;
        for (int32_t g = 0; g < fstride; ++g) {
            if (radix == 4) {
                butterfly4(out + g * span, m, fstride, twiddles, inverse);
            } else {
                butterfly2(out + g * span, m, fstride, twiddles);
            }
        }
    }
}

void mcf_signal_rfft_s16(const mcf_signal_rfft_params *p, const int16_t *input, int16_t *output) {
    const int32_t half = p->half, len = p->frame_length;
    for (int32_t fr = 0; fr < p->frames; ++fr) {
        int16_t *out = output + fr * 2 * (half + 1);
        /* Gather the (even, odd) sample pairs in the first stage's order; past the frame: zeros. */
        for (int32_t j = 0; j < half; ++j) {
            const int32_t e = 2 * (int32_t)p->order[j];
            out[2 * j] = e < len ? input[e] : 0;
            out[2 * j + 1] = e + 1 < len ? input[e + 1] : 0;
        }
        fft_stages_s16(out, p->num_stages, p->stages, p->twiddles, 0);
        /* Split into the spectrum of the real frame (in place: bins k and half - k together). */
        {
            const int16_t dr = fx_div(out[0], 16383), di = fx_div(out[1], 16383);
            out[0] = (int16_t)(dr + di);
            out[1] = 0;
            out[2 * half] = (int16_t)(dr - di);
            out[2 * half + 1] = 0;
        }
        for (int32_t k = 1; k <= half / 2; ++k) {
            int16_t *a = out + 2 * k, *b = out + 2 * (half - k);
            const int16_t pr = fx_div(a[0], 16383), pi = fx_div(a[1], 16383);
            const int16_t nr = fx_div(b[0], 16383), ni = fx_div((int16_t)-b[1], 16383);
            const int16_t f1r = (int16_t)(pr + nr), f1i = (int16_t)(pi + ni);
            const int16_t f2r = (int16_t)(pr - nr), f2i = (int16_t)(pi - ni);
            const int16_t *w = p->split_twiddles + 2 * (k - 1);
            const int16_t tr = fx_round((int32_t)f2r * w[0] - (int32_t)f2i * w[1]);
            const int16_t ti = fx_round((int32_t)f2r * w[1] + (int32_t)f2i * w[0]);
            a[0] = (int16_t)((f1r + tr) >> 1);
            a[1] = (int16_t)((f1i + ti) >> 1);
            b[0] = (int16_t)((f1r - tr) >> 1);
            b[1] = (int16_t)((ti - f1i) >> 1);
        }
        input += len;
    }
}

void mcf_signal_irfft_s16(const mcf_signal_irfft_s16_params *p, const int16_t *input, int16_t *output) {
    const int32_t half = p->half;
    const uint16_t *pos = p->position;
    for (int32_t fr = 0; fr < p->frames; ++fr) {
        int16_t *out = output + fr * 2 * half;
        /* Split the half + 1 bins of the real signal's spectrum into `half` complex bins, each written
         * where the first stage reads it. */
        {
            const int16_t sr = (int16_t)(input[0] + input[2 * half]), si = (int16_t)(input[0] - input[2 * half]);
            out[2 * pos[0]] = fx_div(sr, 16383);
            out[2 * pos[0] + 1] = fx_div(si, 16383);
        }
        for (int32_t k = 1; k <= half / 2; ++k) {
            const int16_t *a = input + 2 * k, *b = input + 2 * (half - k);
            const int16_t fr_ = fx_div(a[0], 16383), fi = fx_div(a[1], 16383);
            const int16_t nr = fx_div(b[0], 16383), ni = fx_div((int16_t)-b[1], 16383);
            const int16_t er = (int16_t)(fr_ + nr), ei = (int16_t)(fi + ni);
            const int16_t dr = (int16_t)(fr_ - nr), di = (int16_t)(fi - ni);
            const int16_t *w = p->split_twiddles + 2 * (k - 1);
            const int16_t or_ = fx_round((int32_t)dr * w[0] - (int32_t)di * w[1]);
            const int16_t oi = fx_round((int32_t)dr * w[1] + (int32_t)di * w[0]);
            int16_t *lo = out + 2 * pos[k], *hi = out + 2 * pos[half - k];
            lo[0] = (int16_t)(er + or_);
            lo[1] = (int16_t)(ei + oi);
            hi[0] = (int16_t)(er - or_); /* k = half / 2: the same bin, this write wins (as in kiss_fft) */
            hi[1] = (int16_t)-(int16_t)(ei - oi);
        }
        fft_stages_s16(out, p->num_stages, p->stages, p->twiddles, 1);
        input += p->input_stride;
    }
}

/* FIXED_POINT 32: 31 fractional bits, 64-bit products, rounded half up; int32 sums wrap. */
static inline int32_t fx32_round(int64_t x) {
    return (int32_t)((x + (1 << 30)) >> 31);
}

static inline int32_t fx32_div(int32_t x, int64_t k) {
    return fx32_round((int64_t)x * k);
}

static inline int32_t add32(int32_t a, int32_t b) {
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t sub32(int32_t a, int32_t b) {
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

/* (ar + i ai) * (w[0] + i w[1]), each part rounded. */
static inline void cmul32(int32_t *re, int32_t *im, int32_t ar, int32_t ai, const int32_t *w) {
    *re = fx32_round((int64_t)ar * w[0] - (int64_t)ai * w[1]);
    *im = fx32_round((int64_t)ar * w[1] + (int64_t)ai * w[0]);
}

static void butterfly2_s32(int32_t *f, int32_t m, int32_t fstride, const int32_t *tw) {
    int32_t *g = f + 2 * m;
    for (int32_t k = 0; k < m; ++k) {
        const int32_t ar = fx32_div(f[0], 1073741823), ai = fx32_div(f[1], 1073741823);
        const int32_t br = fx32_div(g[0], 1073741823), bi = fx32_div(g[1], 1073741823);
        int32_t tr, ti;
        cmul32(&tr, &ti, br, bi, tw + 2 * k * fstride);
        g[0] = sub32(ar, tr);
        g[1] = sub32(ai, ti);
        f[0] = add32(ar, tr);
        f[1] = add32(ai, ti);
        f += 2;
        g += 2;
    }
}

static void butterfly4_s32(int32_t *f, int32_t m, int32_t fstride, const int32_t *tw, int32_t inverse) {
    for (int32_t k = 0; k < m; ++k) {
        int32_t *f0 = f + 2 * k, *f2 = f0 + 4 * m;
        int32_t *f1 = f0 + (inverse ? 6 : 2) * m, *f3 = f0 + (inverse ? 2 : 6) * m;
        const int32_t *in1 = f0 + 2 * m, *in3 = f0 + 6 * m;
        const int32_t a0r = fx32_div(f0[0], 536870911), a0i = fx32_div(f0[1], 536870911);
        const int32_t a1r = fx32_div(in1[0], 536870911), a1i = fx32_div(in1[1], 536870911);
        const int32_t a2r = fx32_div(f2[0], 536870911), a2i = fx32_div(f2[1], 536870911);
        const int32_t a3r = fx32_div(in3[0], 536870911), a3i = fx32_div(in3[1], 536870911);
        int32_t s0r, s0i, s1r, s1i, s2r, s2i;
        cmul32(&s0r, &s0i, a1r, a1i, tw + 2 * k * fstride);
        cmul32(&s1r, &s1i, a2r, a2i, tw + 4 * k * fstride);
        cmul32(&s2r, &s2i, a3r, a3i, tw + 6 * k * fstride);
        const int32_t s5r = sub32(a0r, s1r), s5i = sub32(a0i, s1i);
        const int32_t b0r = add32(a0r, s1r), b0i = add32(a0i, s1i);
        const int32_t s3r = add32(s0r, s2r), s3i = add32(s0i, s2i);
        const int32_t s4r = sub32(s0r, s2r), s4i = sub32(s0i, s2i);
        f2[0] = sub32(b0r, s3r);
        f2[1] = sub32(b0i, s3i);
        f0[0] = add32(b0r, s3r);
        f0[1] = add32(b0i, s3i);
        f1[0] = add32(s5r, s4i);
        f1[1] = sub32(s5i, s4r);
        f3[0] = sub32(s5r, s4i);
        f3[1] = add32(s5i, s4r);
    }
}

static void fft_stages_s32(int32_t *out, int32_t num_stages, const int32_t *stages, const int32_t *twiddles,
                           int32_t inverse) {
    for (int32_t s = 0; s < num_stages; ++s) {
        const int32_t radix = stages[3 * s], m = stages[3 * s + 1], fstride = stages[3 * s + 2];
        const int32_t span = 2 * radix * m;
        for (int32_t g = 0; g < fstride; ++g) {
            if (radix == 4) {
                butterfly4_s32(out + g * span, m, fstride, twiddles, inverse);
            } else {
                butterfly2_s32(out + g * span, m, fstride, twiddles);
            }
        }
    }
}

void mcf_signal_rfft_s32(const mcf_signal_rfft_s32_params *p, const int32_t *input, int32_t *output) {
    const int32_t half = p->half, len = p->frame_length;
    for (int32_t fr = 0; fr < p->frames; ++fr) {
        int32_t *out = output + fr * 2 * (half + 1);
        for (int32_t j = 0; j < half; ++j) {
            const int32_t e = 2 * (int32_t)p->order[j];
            out[2 * j] = e < len ? input[e] : 0;
            out[2 * j + 1] = e + 1 < len ? input[e + 1] : 0;
        }
        fft_stages_s32(out, p->num_stages, p->stages, p->twiddles, 0);
        {
            const int32_t dr = fx32_div(out[0], 1073741823), di = fx32_div(out[1], 1073741823);
            out[0] = add32(dr, di);
            out[1] = 0;
            out[2 * half] = sub32(dr, di);
            out[2 * half + 1] = 0;
        }
        for (int32_t k = 1; k <= half / 2; ++k) {
            int32_t *a = out + 2 * k, *b = out + 2 * (half - k);
            const int32_t pr = fx32_div(a[0], 1073741823), pi = fx32_div(a[1], 1073741823);
            const int32_t nr = fx32_div(b[0], 1073741823), ni = fx32_div(sub32(0, b[1]), 1073741823);
            const int32_t f1r = add32(pr, nr), f1i = add32(pi, ni);
            int32_t tr, ti;
            cmul32(&tr, &ti, sub32(pr, nr), sub32(pi, ni), p->split_twiddles + 2 * (k - 1));
            a[0] = add32(f1r, tr) >> 1;
            a[1] = add32(f1i, ti) >> 1;
            b[0] = sub32(f1r, tr) >> 1;
            b[1] = sub32(ti, f1i) >> 1;
        }
        input += len;
    }
}

void mcf_signal_irfft_s32(const mcf_signal_irfft_s32_params *p, const int32_t *input, int32_t *output) {
    const int32_t half = p->half;
    const uint16_t *pos = p->position;
    for (int32_t fr = 0; fr < p->frames; ++fr) {
        int32_t *out = output + fr * 2 * half;
        out[2 * pos[0]] = fx32_div(add32(input[0], input[2 * half]), 1073741823);
        out[2 * pos[0] + 1] = fx32_div(sub32(input[0], input[2 * half]), 1073741823);
        for (int32_t k = 1; k <= half / 2; ++k) {
            const int32_t *a = input + 2 * k, *b = input + 2 * (half - k);
            const int32_t fr_ = fx32_div(a[0], 1073741823), fi = fx32_div(a[1], 1073741823);
            const int32_t nr = fx32_div(b[0], 1073741823), ni = fx32_div(sub32(0, b[1]), 1073741823);
            const int32_t er = add32(fr_, nr), ei = add32(fi, ni);
            int32_t or_, oi;
            cmul32(&or_, &oi, sub32(fr_, nr), sub32(fi, ni), p->split_twiddles + 2 * (k - 1));
            int32_t *lo = out + 2 * pos[k], *hi = out + 2 * pos[half - k];
            lo[0] = add32(er, or_);
            lo[1] = add32(ei, oi);
            hi[0] = sub32(er, or_);
            hi[1] = sub32(0, sub32(ei, oi));
        }
        fft_stages_s32(out, p->num_stages, p->stages, p->twiddles, 1);
        input += p->input_stride;
    }
}

void mcf_signal_energy(const mcf_signal_energy_params *p, const int16_t *input, uint32_t *output) {
    for (int32_t i = 0; i < p->start; ++i) {
        output[i] = 0;
    }
    for (int32_t i = p->start; i < p->end; ++i) {
        const int32_t re = input[2 * i], im = input[2 * i + 1];
        output[i] = (uint32_t)(re * re) + (uint32_t)(im * im);
    }
    for (int32_t i = p->end; i < p->bins; ++i) {
        output[i] = 0;
    }
}
