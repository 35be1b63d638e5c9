/* signal_filterbank.c - see signal_filterbank.h. Integer only: no float, no division. */
#include "signal_filterbank.h"

void mcf_signal_filter_bank(const mcf_signal_filter_bank_params *p, const uint32_t *spectrum, uint64_t *output) {
    uint64_t current = 0;
    for (int32_t b = 0; b <= p->channels; ++b) {
        const int32_t *band = p->bands + 3 * b;
        const uint32_t *x = spectrum + band[0];
        const int16_t *w = p->weights + band[1];
        const int16_t *u = p->unweights + band[1];
        uint64_t next = 0;
        for (int32_t j = 0; j < band[2]; ++j) {
            /* int16 weights widen to uint64 with their sign (modulo 2^64), as in TFLite Micro */
            current += (uint64_t)(int64_t)w[j] * x[j];
            next += (uint64_t)(int64_t)u[j] * x[j];
        }
        if (b > 0) {
            output[b - 1] = current;
        }
        current = next;
    }
}

/* Bit length of x, 32 for 0 (TFLite Micro's GCC build). */
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

static uint32_t isqrt32(uint32_t num) {
    if (num == 0) {
        return 0;
    }
    uint32_t res = 0;
    const int32_t top = (32 - bit_length32(num)) | 1;
    uint32_t bit = 1u << (31 - top);
    for (int32_t it = (31 - top) / 2 + 1; it > 0; --it) {
        if (num >= res + bit) {
            num -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    if (num > res && res != 0xFFFFu) {
        ++res;
    }
    return res;
}

static uint32_t isqrt64(uint64_t num) {
    const uint32_t hi = (uint32_t)(num >> 32);
    if (hi == 0) {
        return isqrt32((uint32_t)num);
    }
    uint64_t res = 0;
    const int32_t top = (64 - (32 + bit_length32(hi))) | 1;
    uint64_t bit = (uint64_t)1 << (63 - top);
    for (int32_t it = (63 - top) / 2 + 1; it > 0; --it) {
        if (num >= res + bit) {
            num -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    if (num > res && res != 0xFFFFFFFFu) {
        ++res;
    }
    return (uint32_t)res;
}

void mcf_signal_filter_bank_sqrt(const mcf_signal_channels_params *p, const uint64_t *input,
                                 const int32_t *scale_bits, uint32_t *output) {
    const int32_t shift = *scale_bits;
    for (int32_t i = 0; i < p->channels; ++i) {
        output[i] = isqrt64(input[i]) >> shift;
    }
}

void mcf_signal_spectral_subtraction(const mcf_signal_spectral_subtraction_params *p, const uint32_t *input,
                                     uint32_t *output, uint32_t *noise) {
    const int32_t sbits = p->smoothing_bits, bits = p->subtraction_bits;
    for (int32_t i = 0; i < p->channels; ++i) {
        const int odd = i & 1;
        const uint32_t smoothing = odd ? p->alternate_smoothing : p->smoothing;
        const uint32_t keep = odd ? p->alternate_one_minus_smoothing : p->one_minus_smoothing;
        const uint32_t scaled = input[i] << sbits;
        uint32_t estimate = (uint32_t)(((uint64_t)scaled * smoothing + (uint64_t)noise[i] * keep) >> bits);
        noise[i] = estimate;
        if (estimate > scaled) {
            estimate = scaled;
            if (p->clamping) {
                noise[i] = estimate;
            }
        }
        const uint32_t floor = (uint32_t)(((uint64_t)input[i] * p->min_signal_remaining) >> bits);
        const uint32_t left = (scaled - estimate) >> sbits;
        output[i] = left > floor ? left : floor;
    }
}

/* The gain at noise level x: a quadratic in the 10-bit fraction below x's leading bit. */
static int16_t pcan_gain(uint32_t x, const int16_t *lut) {
    if (x <= 2) {
        return lut[x];
    }
    const int32_t interval = bit_length32(x);
    const int16_t *c = lut + 4 * interval - 6;
    const int32_t frac = (int32_t)(int16_t)(((interval < 11) ? (x << (11 - interval)) : (x >> (interval - 11))) & 0x3FF);
    int32_t r = ((int32_t)c[2] * frac) >> 5;
    r += (int32_t)((uint32_t)c[1] << 5);
    r = (int32_t)((uint32_t)r * (uint32_t)frac);
    r = (r + (1 << 14)) >> 15;
    r += c[0];
    return (int16_t)r;
}

void mcf_signal_pcan(const mcf_signal_pcan_params *p, const uint32_t *input, const uint32_t *noise,
                     uint32_t *output) {
    for (int32_t i = 0; i < p->channels; ++i) {
        const uint32_t gain = (uint32_t)(int32_t)pcan_gain(noise[i], p->gain_lut);
        const uint32_t snr = (uint32_t)(((uint64_t)input[i] * gain) >> p->snr_shift);
        /* shrink: snr^2 / 4 below 2, snr - 1 above (12 fractional bits in, 6 out) */
        output[i] = snr < (2u << 12) ? (snr * snr) >> 20 : (snr >> 6) - (1u << 6);
    }
}

static uint32_t log_scaled(uint32_t x, uint32_t scale, const uint16_t *table) {
    const uint32_t integer = (uint32_t)bit_length32(x) - 1;
    int32_t frac = (int32_t)(x - ((uint32_t)1 << integer));
    if (integer < 16) {
        frac <<= 16 - integer;
    } else {
        frac >>= integer - 16;
    }
    const uint32_t seg = (uint32_t)frac >> 9;
    const int32_t c0 = table[seg], c1 = table[seg + 1];
    const int32_t rel = ((c1 - c0) * (frac - (int32_t)(seg << 9))) >> 16;
    const uint32_t log2 = (integer << 16) + (uint32_t)(frac + c0 + rel);
    const uint32_t loge = (uint32_t)(((uint64_t)45426 * log2 + 32768u) >> 16); /* 45426 = 2^16 ln 2 */
    return (scale * loge + 32768u) >> 16;
}

void mcf_signal_filter_bank_log(const mcf_signal_log_params *p, const uint32_t *input, int16_t *output) {
    for (int32_t i = 0; i < p->channels; ++i) {
        const uint32_t x = input[i] << p->correction_bits;
        if (x > 1) {
            const uint32_t v = log_scaled(x, p->output_scale, p->table);
            output[i] = (int16_t)(v < 32767u ? v : 32767u);
        } else {
            output[i] = 0;
        }
    }
}
