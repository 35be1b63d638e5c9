/*
 * mcf_mfcc.h - log-mel / MFCC audio features for keyword-spotting models (float32, C99).
 *
 * What one frame goes through (mcf_mfcc_frame_gain):
 *   x[i]  = ((float)samples[i] * gain) * window[i],  i < frame_length; 0 up to fft_length
 *   X     = real FFT of x (fft_length points; own radix-2 code, no library)
 *   S[k]  = |X[k]|  (or |X[k]|^2 with MCF_MFCC_POWER), only for bins bin_lo..bin_hi
 *   E[m]  = sum_j mel_weights[..j] * S[mel_start[m] + j],  j < mel_length[m]
 *   L[m]  = ln(E[m] + log_offset)              (mcf_mfcc_log, own polynomial)
 *   out   = dct * L  (n_out x n_mels), or L itself when dct == NULL (log-mel output)
 *
 * All constants (window, FFT bit reversal and twiddles, sparse mel filterbank, DCT matrix)
 * are computed ahead of time by mcuforge (generator/sensor/features.py, emit_c_tables) and
 * reach this code through an mcf_mfcc_config; nothing is computed from trigonometry here.
 * The numpy twin (features.mfcc) performs the same operations in the same order, so host and
 * device agree bit for bit. mcf_mfcc.c turns floating-point contraction off for itself (GCC,
 * Clang); on other compilers build it without fused multiply-add, or accept results that move
 * by float32 rounding (MCF_MFCC_ALLOW_FP_CONTRACT opts into that on GCC/Clang too).
 *
 * No dynamic allocation, no static state: every function is reentrant given its own scratch.
 * Only sqrtf() is taken from the C library (a single instruction on FPU-equipped cores).
 */
#ifndef MCF_MFCC_H
#define MCF_MFCC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Gain used where a clip's peak is 0 (or absent): 1/32768, int16 full scale. */
#define MCF_MFCC_DEFAULT_GAIN (1.0f / 32768.0f)

/** Flag bits of mcf_mfcc_config.flags. */
#define MCF_MFCC_POWER 1u          /**< S[k] = |X[k]|^2 instead of |X[k]| */
#define MCF_MFCC_PEAK_NORMALIZE 2u /**< mcf_mfcc_clip scales by 1/max(clip), not by gain */

/**
 * Bytes of scratch mcf_mfcc_frame / mcf_mfcc_clip need for an FFT of `fft_length` points:
 * fft_length floats for the complex half-length FFT buffer (later reused for the mel
 * energies, so n_mels <= fft_length is required) and fft_length/2 + 1 floats of spectrum.
 * The buffer must be aligned for float. 3076 bytes for fft_length 512.
 */
#define mcf_mfcc_scratch_bytes(fft_length) \
    (sizeof(float) * ((size_t)(fft_length) + (size_t)(fft_length) / 2u + 1u))

/** A feature front end: sizes plus pointers to generated constant tables. */
typedef struct {
    uint16_t fft_length;   /**< N: power of two, 8..4096 */
    uint16_t frame_length; /**< L <= N samples per frame */
    uint16_t frame_step;   /**< samples between frame starts (mcf_mfcc_clip) */
    uint16_t n_mels;       /**< mel bands, <= N */
    uint16_t n_out;        /**< features per frame: DCT rows, or n_mels when dct == NULL */
    uint16_t bin_lo;       /**< first spectrum bin the filterbank reads */
    uint16_t bin_hi;       /**< last one (< bin_lo: none) */
    uint16_t flags;        /**< MCF_MFCC_POWER | MCF_MFCC_PEAK_NORMALIZE */
    float gain;            /**< sample scale without peak normalisation (1/32768) */
    float log_offset;      /**< added before the log (1e-6) */
    const float *window;        /**< [L] */
    const uint16_t *bitrev;     /**< [N/2] position of packed pair i in the complex FFT */
    const float *fft_twiddle;   /**< [N/4][2] cos, sin of 2 pi j / (N/2) */
    const float *rfft_twiddle;  /**< [bin_hi - bin_lo + 1][2] cos, sin of 2 pi k / N */
    const uint16_t *mel_start;  /**< [n_mels] first bin of band m */
    const uint16_t *mel_length; /**< [n_mels] bins in band m (may be 0) */
    const float *mel_weights;   /**< [sum mel_length] band after band */
    const float *dct;           /**< [n_out][n_mels] row-major, or NULL for log-mel output */
} mcf_mfcc_config;

/**
 * Features of one frame of `cfg->frame_length` int16 samples scaled by `cfg->gain`.
 * @param[out] out_coeffs  cfg->n_out floats
 * @param[in,out] scratch  mcf_mfcc_scratch_bytes(cfg->fft_length) bytes, float-aligned
 */
void mcf_mfcc_frame(const mcf_mfcc_config *cfg, const int16_t *frame_samples, float *out_coeffs,
                    float *scratch);

/** As mcf_mfcc_frame, with the sample scale given (e.g. mcf_mfcc_peak_gain of the clip). */
void mcf_mfcc_frame_gain(const mcf_mfcc_config *cfg, const int16_t *frame_samples, float gain,
                         float *out_coeffs, float *scratch);

/**
 * As mcf_mfcc_frame_gain for float samples (for example a sensor pipeline's window). The
 * float path and the int16 path give identical results for int16-valued floats.
 */
void mcf_mfcc_frame_f32(const mcf_mfcc_config *cfg, const float *frame_samples, float gain,
                        float *out_coeffs, float *scratch);

/**
 * 1.0f / max(samples) (the signed maximum, as the MLPerf Tiny reference divides by
 * tf.reduce_max), or MCF_MFCC_DEFAULT_GAIN when that maximum is 0 (where the reference would
 * divide by 0).
 */
float mcf_mfcc_peak_gain(const int16_t *samples, size_t n_samples);

/** mcf_mfcc_peak_gain for float samples (NaNs are skipped; none left or max 0: 1/32768). */
float mcf_mfcc_peak_gain_f32(const float *samples, size_t n_samples);

/** Frames that fit in n_samples without end padding: 0, or 1 + (n - L) / step. */
size_t mcf_mfcc_frame_count(const mcf_mfcc_config *cfg, size_t n_samples);

/**
 * Features of a whole clip, frame after frame: out[f * n_out + i]. The gain is
 * mcf_mfcc_peak_gain(clip) with MCF_MFCC_PEAK_NORMALIZE, else cfg->gain.
 * @param[out] out  mcf_mfcc_frame_count(cfg, n_samples) * cfg->n_out floats
 * @return the number of frames written
 */
size_t mcf_mfcc_clip(const mcf_mfcc_config *cfg, const int16_t *clip, size_t n_samples, float *out,
                     float *scratch);

/**
 * mcf_mfcc_clip for float samples. With MCF_MFCC_PEAK_NORMALIZE the samples' unit does not
 * matter (the clip is divided by its maximum); without it, cfg->gain expects int16 units.
 */
size_t mcf_mfcc_clip_f32(const mcf_mfcc_config *cfg, const float *clip, size_t n_samples, float *out,
                         float *scratch);

/**
 * mcf_mfcc_clip for a clip held in a ring buffer of `n_samples` int16 samples whose oldest is at
 * `start`: sample i of the clip is ring[(start + i) mod n_samples]. No copy of the clip is made;
 * each frame is converted to float as it is packed. Same results as mcf_mfcc_clip on the
 * unrolled clip (the peak, a maximum, does not depend on the order).
 */
size_t mcf_mfcc_clip_ring_s16(const mcf_mfcc_config *cfg, const int16_t *ring, size_t n_samples, size_t start,
                              float *out, float *scratch);

/**
 * int8 quantization as TFLite's QUANTIZE does it: clamp(round(x / scale) + zero_point) with
 * halves rounded away from zero and float32 division; NaN gives -128. `in` and `out` may not
 * overlap.
 */
void mcf_mfcc_quantize_s8(const float *in, int8_t *out, size_t n, float scale, int32_t zero_point);

/** The same for an int16 input (16x8 models): saturated to -32768..32767; NaN gives -32768. */
void mcf_mfcc_quantize_s16(const float *in, int16_t *out, size_t n, float scale, int32_t zero_point);

/**
 * Natural logarithm used by the feature stage, about 1 ulp; valid for normal, positive,
 * finite x (the feature stage only passes energies + log_offset > 0).
 */
float mcf_mfcc_log(float x);

#ifdef __cplusplus
}
#endif

#endif /* MCF_MFCC_H */
