/*
 * mcf_audio_fifo.h - the hand-over between a microphone's capture context and the main loop.
 *
 * Live microphone sources (mcf_source_zephyr_dmic.c, mcf_source_arduino_pdm.cpp) receive audio
 * in blocks, in a context of their own: a capture thread blocked in dmic_read() (Zephyr), or the
 * PDM interrupt (Arduino). The main loop takes the samples one at a time (mcf_source_poll) and
 * pushes them into the pipeline's ring buffer, which only the main loop touches.
 *
 * Concurrency discipline: single producer, single consumer, one core. The producer (capture
 * context) writes samples, then publishes them by storing `head` with release order; it only
 * reads `tail` (acquire). The consumer (main loop) reads `head` (acquire), then the samples, then
 * stores `tail` (release). Neither side ever writes the other's index, so no lock and no
 * interrupt masking is needed; the indices are free-running uint32_t (wrap-around is harmless,
 * MCF_AUDIO_FIFO_SAMPLES is a power of two). A block that does not fit whole is dropped whole and
 * counted (`dropped_blocks`): the window that would have spanned the gap is still built, from
 * audio that skips the lost block. Static storage, no heap.
 */
#ifndef MCF_AUDIO_FIFO_H
#define MCF_AUDIO_FIFO_H

#include <stdint.h>

#include "mcf_sensor.h" /* mcf_sensor_config.h: MCF_AUDIO_FIFO_SAMPLES */

#ifndef MCF_AUDIO_FIFO_SAMPLES
#error "mcf_sensor_config.h does not size the microphone FIFO (MCF_AUDIO_FIFO_SAMPLES): run `mcuforge update`"
#endif
#if (MCF_AUDIO_FIFO_SAMPLES & (MCF_AUDIO_FIFO_SAMPLES - 1)) != 0
#error "MCF_AUDIO_FIFO_SAMPLES must be a power of two"
#endif

#if defined(__GNUC__) || defined(__clang__)
#define MCF_FIFO_LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define MCF_FIFO_STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#else
#error "mcf_audio_fifo.h needs GCC or Clang atomics (__atomic_load_n / __atomic_store_n)"
#endif

typedef struct {
    int16_t data[MCF_AUDIO_FIFO_SAMPLES];
    uint32_t head;                   /* written by the producer only */
    uint32_t tail;                   /* written by the consumer only */
    uint32_t dropped_blocks;         /* written by the producer only */
} mcf_audio_fifo;

/** Producer: appends `n` samples, all or nothing. @return 1 if appended, 0 if dropped (counted). */
static inline int mcf_audio_fifo_put(mcf_audio_fifo *f, const int16_t *s, uint32_t n)
{
    const uint32_t head = f->head;
    const uint32_t used = head - MCF_FIFO_LOAD_ACQ(&f->tail);
    uint32_t i;

    if (n > (uint32_t)MCF_AUDIO_FIFO_SAMPLES - used) {
        MCF_FIFO_STORE_REL(&f->dropped_blocks, f->dropped_blocks + 1u);
        return 0;
    }
    for (i = 0; i < n; ++i) {
        f->data[(head + i) & ((uint32_t)MCF_AUDIO_FIFO_SAMPLES - 1u)] = s[i];
    }
    MCF_FIFO_STORE_REL(&f->head, head + n);
    return 1;
}

/** Consumer: takes the oldest sample. @return 1 with `*s` set, 0 when the FIFO is empty. */
static inline int mcf_audio_fifo_get(mcf_audio_fifo *f, int16_t *s)
{
    const uint32_t tail = f->tail;

    if (MCF_FIFO_LOAD_ACQ(&f->head) == tail) {
        return 0;
    }
    *s = f->data[tail & ((uint32_t)MCF_AUDIO_FIFO_SAMPLES - 1u)];
    MCF_FIFO_STORE_REL(&f->tail, tail + 1u);
    return 1;
}

/** Consumer, for a source's mcf_source_poll(): the oldest sample as a float once capture has
 * `started`. @return 1 with `sample[0]` set, 0 when there is none. */
static inline int mcf_audio_fifo_poll(mcf_audio_fifo *f, int started, float *sample)
{
    int16_t v;

    if (!started || !mcf_audio_fifo_get(f, &v)) {
        return 0;
    }
    sample[0] = (float)v;
    return 1;
}

/** Either side: blocks dropped because the FIFO was full (the main loop was busy too long). */
static inline uint32_t mcf_audio_fifo_dropped(mcf_audio_fifo *f)
{
    return MCF_FIFO_LOAD_ACQ(&f->dropped_blocks);
}

#endif /* MCF_AUDIO_FIFO_H */
