/* signal_filterbank.h - TFLite Micro's signal operators from power spectrum to features (integer
 * only): SignalFilterBank, SignalFilterBankSquareRoot, SignalFilterBankSpectralSubtraction,
 * SignalPCAN, SignalFilterBankLog. Tables and range checks come from mcuforge
 * (generator/ops/signal_filterbank.py). */
#ifndef MCF_SIGNAL_FILTERBANK_H
#define MCF_SIGNAL_FILTERBANK_H

#include <stdint.h>

/**
 * bands: channels + 1 triples (first spectrum bin, first weight, width). Band b adds bin * weight
 * to its channel and bin * unweight to the next one; band 0 only feeds channel 0 through its
 * unweights (it is TFLite Micro's scratch channel), band b >= 1 produces output[b - 1].
 */
typedef struct {
    int32_t channels;
    const int32_t *bands;
    const int16_t *weights;
    const int16_t *unweights;
} mcf_signal_filter_bank_params;

void mcf_signal_filter_bank(const mcf_signal_filter_bank_params *p, const uint32_t *spectrum, uint64_t *output);

typedef struct {
    int32_t channels;
} mcf_signal_channels_params;

/** out = isqrt(x) >> *scale_bits (TFLite Micro's rounding bitwise square root). */
void mcf_signal_filter_bank_sqrt(const mcf_signal_channels_params *p, const uint64_t *input,
                                 const int32_t *scale_bits, uint32_t *output);

typedef struct {
    int32_t channels;
    uint32_t smoothing;
    uint32_t one_minus_smoothing;
    uint32_t alternate_smoothing;
    uint32_t alternate_one_minus_smoothing;
    uint32_t min_signal_remaining;
    int32_t smoothing_bits;
    int32_t subtraction_bits;
    int32_t clamping;
} mcf_signal_spectral_subtraction_params;

/** noise (the operator's state, updated in place) follows the input; out = input - noise, at least
 *  input * min_signal_remaining. Even channels use smoothing, odd ones the alternate pair. */
void mcf_signal_spectral_subtraction(const mcf_signal_spectral_subtraction_params *p, const uint32_t *input,
                                     uint32_t *output, uint32_t *noise);

typedef struct {
    int32_t channels;
    int32_t snr_shift;
    const int16_t *gain_lut; /* at least 125 entries (checked by mcuforge) */
} mcf_signal_pcan_params;

void mcf_signal_pcan(const mcf_signal_pcan_params *p, const uint32_t *input, const uint32_t *noise,
                     uint32_t *output);

typedef struct {
    int32_t channels;
    int32_t correction_bits;
    uint32_t output_scale;
    const uint16_t *table; /* 130 entries: log2(1 + i / 128) - i / 128 in 1/65536 */
} mcf_signal_log_params;

void mcf_signal_filter_bank_log(const mcf_signal_log_params *p, const uint32_t *input, int16_t *output);

#endif /* MCF_SIGNAL_FILTERBANK_H */
