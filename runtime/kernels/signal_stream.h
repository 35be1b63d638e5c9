/* signal_stream.h - TFLite Micro's stateful signal operators (SignalFramer, SignalStacker, SignalDelay,
 * SignalOverlapAdd int16). Each keeps its history in its own part of the model's state buffer (zeros
 * after init and reset_state: TFLite Micro's reset state), newest samples last. Sizes and checks come
 * from mcuforge (generator/ops/signal_stream.py); these loops index without bounds checks. */
#ifndef MCF_SIGNAL_STREAM_H
#define MCF_SIGNAL_STREAM_H

#include <stdint.h>

/**
 * Framer: `rows` rows of frames x frame_step samples in, rows x frames x frame_size out. State: rows
 * int32 fill counters (samples held minus base_count), then rows histories of `capacity` int16. A
 * frame is output (the oldest frame_size samples held) once frame_size samples are held; otherwise
 * its output is left as it was and *valid becomes 0.
 */
typedef struct {
    int32_t rows;
    int32_t frames;
    int32_t frame_size;
    int32_t frame_step;
    int32_t capacity;
    int32_t base_count;
    int32_t *state;
} mcf_signal_framer_params;

void mcf_signal_framer(const mcf_signal_framer_params *p, const int16_t *input, int16_t *output, uint8_t *valid);

/**
 * Stacker: one frame of `channels` values in; a history of `history` frames out when full (*valid = 1;
 * then `step` frames are dropped), else the output is left as it was (*valid = 0). The first frame after
 * a reset is held left + 1 times. State: int32 frames held, int32 "first frame seen", then history x
 * channels int16.
 */
typedef struct {
    int32_t channels;
    int32_t left;
    int32_t history;
    int32_t step;
    int32_t *state;
} mcf_signal_stacker_params;

void mcf_signal_stacker(const mcf_signal_stacker_params *p, const int16_t *input, int16_t *output, uint8_t *valid);

/**
 * Delay: each of `rows` rows of frame_size samples comes out `delay` samples later. State: rows x delay
 * int16 (the last delay samples of each row). from_state = min(frame_size, delay), kept = max(delay -
 * frame_size, 0).
 */
typedef struct {
    int32_t rows;
    int32_t frame_size;
    int32_t delay;
    int32_t from_state;
    int32_t kept;
    int16_t *state;
} mcf_signal_delay_params;

void mcf_signal_delay(const mcf_signal_delay_params *p, const int16_t *input, int16_t *output);

/**
 * Overlap-add (int16): each of rows x frames frames of frame_size samples is added (saturating) into its
 * row's buffer of frame_size samples; the buffer's first frame_step samples are output, the rest moves up
 * and the end is zeroed. State: rows x frame_size int16.
 */
typedef struct {
    int32_t rows;
    int32_t frames;
    int32_t frame_size;
    int32_t frame_step;
    int16_t *state;
} mcf_signal_overlap_add_params;

void mcf_signal_overlap_add_s16(const mcf_signal_overlap_add_params *p, const int16_t *input, int16_t *output);

#endif /* MCF_SIGNAL_STREAM_H */
