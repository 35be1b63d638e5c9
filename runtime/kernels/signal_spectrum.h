/* signal_spectrum.h - TFLite Micro's signal operators from samples to power spectrum (integer only):
 * SignalWindow, SignalFftAutoScale, SignalRfft and SignalIrfft (int16, int32), SignalEnergy. Tables
 * and checks come from mcuforge (generator/ops/signal_spectrum.py); these loops index without bounds
 * checks. */
#ifndef MCF_SIGNAL_SPECTRUM_H
#define MCF_SIGNAL_SPECTRUM_H

#include <stdint.h>

/** Each of `frames` frames of `length` samples: out = saturate_int16((x * window) >> shift). */
typedef struct {
    int32_t frames;
    int32_t length;
    int32_t shift;
} mcf_signal_window_params;

void mcf_signal_window(const mcf_signal_window_params *p, const int16_t *input, const int16_t *window,
                       int16_t *output);

typedef struct {
    int32_t length;
} mcf_signal_auto_scale_params;

/** out = x * 2^s with s = max(0, 15 - bit length of max|x|) (TFLite Micro's int16 max-abs, whose
 *  -(-32768) wraps, and a bit length of 32 for 0); *scale_bits = s. */
void mcf_signal_fft_auto_scale(const mcf_signal_auto_scale_params *p, const int16_t *input, int16_t *output,
                               int32_t *scale_bits);

/**
 * kiss_fft's fixed-point real FFT (FIXED_POINT 16) of each frame, zero-padded to 2 * half samples:
 * output [frames][half + 1] complex int16 (re, im). `stages` holds num_stages (radix, m, fstride)
 * triples in execution order (radix 2 or 4), `order[j]` the complex input pair gathered into
 * position j, `twiddles` half (re, im) pairs of the complex FFT, `split_twiddles` half / 2 pairs of
 * the real split. The complex FFT runs in place in the output.
 */
typedef struct {
    int32_t frames;
    int32_t frame_length;
    int32_t half;
    int32_t num_stages;
    const int32_t *stages;
    const uint16_t *order;
    const int16_t *twiddles;
    const int16_t *split_twiddles;
} mcf_signal_rfft_params;

void mcf_signal_rfft_s16(const mcf_signal_rfft_params *p, const int16_t *input, int16_t *output);

/** The same for int32 (kiss_fft FIXED_POINT 32: 31 fractional bits, 64-bit products, int32 sums wrap). */
typedef struct {
    int32_t frames;
    int32_t frame_length;
    int32_t half;
    int32_t num_stages;
    const int32_t *stages;
    const uint16_t *order;
    const int32_t *twiddles;
    const int32_t *split_twiddles;
} mcf_signal_rfft_s32_params;

void mcf_signal_rfft_s32(const mcf_signal_rfft_s32_params *p, const int32_t *input, int32_t *output);

/**
 * kiss_fft's fixed-point inverse real FFT (kiss_fftri) of each frame of half + 1 complex bins (input
 * frames input_stride values apart): output [frames][2 * half] samples, the inverse complex FFT's
 * (re, im) pairs. The split writes bin k to position[k] of the first stage; stages and twiddles as
 * for the forward RFFT, built for the inverse direction. int16: FIXED_POINT 16; int32: FIXED_POINT 32
 * (64-bit products).
 */
typedef struct {
    int32_t frames;
    int32_t input_stride;
    int32_t half;
    int32_t num_stages;
    const int32_t *stages;
    const uint16_t *position;
    const int16_t *twiddles;
    const int16_t *split_twiddles;
} mcf_signal_irfft_s16_params;

void mcf_signal_irfft_s16(const mcf_signal_irfft_s16_params *p, const int16_t *input, int16_t *output);

typedef struct {
    int32_t frames;
    int32_t input_stride;
    int32_t half;
    int32_t num_stages;
    const int32_t *stages;
    const uint16_t *position;
    const int32_t *twiddles;
    const int32_t *split_twiddles;
} mcf_signal_irfft_s32_params;

void mcf_signal_irfft_s32(const mcf_signal_irfft_s32_params *p, const int32_t *input, int32_t *output);

/** out[i] = re[i]^2 + im[i]^2 (mod 2^32) for start <= i < end, 0 for the other of `bins` bins. */
typedef struct {
    int32_t bins;
    int32_t start;
    int32_t end;
} mcf_signal_energy_params;

void mcf_signal_energy(const mcf_signal_energy_params *p, const int16_t *input, uint32_t *output);

#endif /* MCF_SIGNAL_SPECTRUM_H */
