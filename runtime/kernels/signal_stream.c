/* signal_stream.c - see signal_stream.h. Integer only: no float, no division. */
#include "signal_stream.h"

/* h[0 .. n - by) = h[by .. n): the history moves up by `by` samples (ascending: safe in place). */
static void move_up(int16_t *h, int32_t n, int32_t by) {
    for (int32_t i = 0; i + by < n; ++i) {
        h[i] = h[i + by];
    }
}

static void copy16(int16_t *dst, const int16_t *src, int32_t n) {
    for (int32_t i = 0; i < n; ++i) {
        dst[i] = src[i];
    }
}

void mcf_signal_framer(const mcf_signal_framer_params *p, const int16_t *input, int16_t *output, uint8_t *valid) {
    const int32_t cap = p->capacity, size = p->frame_size, step = p->frame_step;
    int16_t *hist = (int16_t *)(void *)(p->state + p->rows);
    uint8_t ok = 1;
    for (int32_t r = 0; r < p->rows; ++r) {
        int32_t held = p->state[r] + p->base_count;
        for (int32_t f = 0; f < p->frames; ++f) {
            move_up(hist, cap, step);
            copy16(hist + cap - step, input, step);
            held += step;
            if (held >= size) {
                copy16(output, hist + cap - held, size);
                held -= step;
            } else {
                ok = 0; /* not enough samples yet: this frame's output stays as it was */
            }
            input += step;
            output += size;
        }
        p->state[r] = held - p->base_count;
        hist += cap;
    }
    *valid = ok;
}

void mcf_signal_stacker(const mcf_signal_stacker_params *p, const int16_t *input, int16_t *output, uint8_t *valid) {
    const int32_t c = p->channels, total = p->history * c;
    int32_t *held = p->state, *started = p->state + 1;
    int16_t *hist = (int16_t *)(void *)(p->state + 2);
    if (*started) {
        move_up(hist, total, c);
        copy16(hist + total - c, input, c);
        *held += 1;
    } else {
        /* The first frame after a reset, held left + 1 times (the history is all zeros before it). */
        for (int32_t k = 0; k <= p->left; ++k) {
            copy16(hist + total - (k + 1) * c, input, c);
        }
        *held = p->left + 1;
        *started = 1;
    }
    if (*held >= p->history) {
        copy16(output, hist, total);
        *held -= p->step;
        *valid = 1;
    } else {
        *valid = 0;
    }
}

void mcf_signal_delay(const mcf_signal_delay_params *p, const int16_t *input, int16_t *output) {
    const int32_t n = p->frame_size, d = p->delay, from = p->from_state, kept = p->kept;
    int16_t *h = p->state;
    for (int32_t r = 0; r < p->rows; ++r) {
        /* The row delayed: history then input; the new history is the last d of the two together. */
        copy16(output, h, from);
        copy16(output + from, input, n - from);
        move_up(h, d, n); /* only when d > n: the first `kept` samples stay, moved up */
        copy16(h + kept, input + n - (d - kept), d - kept);
        input += n;
        output += n;
        h += d;
    }
}

void mcf_signal_overlap_add_s16(const mcf_signal_overlap_add_params *p, const int16_t *input, int16_t *output) {
    const int32_t n = p->frame_size, step = p->frame_step;
    int16_t *buf = p->state;
    for (int32_t r = 0; r < p->rows; ++r) {
        for (int32_t f = 0; f < p->frames; ++f) {
            for (int32_t i = 0; i < n; ++i) {
                const int32_t v = (int32_t)input[i] + buf[i];
                buf[i] = (int16_t)(v > 32767 ? 32767 : (v < -32768 ? -32768 : v));
            }
            copy16(output, buf, step);
            move_up(buf, n, step);
            for (int32_t i = n - step; i < n; ++i) {
                buf[i] = 0;
            }
            input += n;
            output += step;
        }
        buf += n;
    }
}
