/* svdf_s8.c - SVDF with int8 input/output and int16 or int8 state (see svdf_s8.h). No scratch:
 * each unit's time-filter sums are accumulated straight into its output value. */
#include "svdf_s8.h"

#include "mcf_common.h"
#include "mcf_dsp.h"

/* sum_i w[i] * x[i] over int8 vectors (DSP: four bytes of each per word, two products per SMLAD) */
static inline int32_t mcf_svdf_dot_s8(const int8_t *w, const int8_t *x, int32_t n)
{
    int32_t acc = 0;
    int32_t i = 0;
#if MCF_KERNELS_DSP
    for (; i + 4 <= n; i += 4) {
        const uint32_t a = mcf_read_u32(w + i);
        const uint32_t b = mcf_read_u32(x + i);
        acc = mcf_smlad(mcf_sxtb16(a), mcf_sxtb16(b), acc);
        acc = mcf_smlad(mcf_sxtb16_ror8(a), mcf_sxtb16_ror8(b), acc);
    }
#endif
    for (; i < n; ++i) {
        acc += (int32_t)w[i] * x[i];
    }
    return acc;
}

/* acc + sum_i w[i] * s[i] over int16 vectors, wrapping in 32 bits (DSP: two products per SMLAD) */
static inline uint32_t mcf_svdf_dot_s16(uint32_t acc, const int16_t *w, const int16_t *s, int32_t n)
{
    int32_t i = 0;
#if MCF_KERNELS_DSP
    for (; i + 2 <= n; i += 2) {
        acc = (uint32_t)mcf_smlad(mcf_read_u32(w + i), mcf_read_u32(s + i), (int32_t)acc);
    }
#endif
    for (; i < n; ++i) {
        acc += (uint32_t)((int32_t)w[i] * s[i]);
    }
    return acc;
}

/* Every element moves one place towards the start (the oldest value of each filter drops out). */
static MCF_NO_LIBCALL_LOOPS void mcf_svdf_shift(uint8_t *state, int32_t bytes, int32_t step)
{
    int32_t i = 0;
#if MCF_KERNELS_FAST && MCF_UNALIGNED_WORDS
    for (; i + 4 <= bytes - step; i += 4) {
        mcf_write_u32(state + i, mcf_read_u32(state + i + step));
    }
#endif
    for (; i < bytes - step; ++i) {
        state[i] = state[i + step];
    }
}

/* The feature value of filter f, clamped to the state type's range [lo, hi] (before the zero point). */
static inline int32_t mcf_svdf_feature(const mcf_svdf_params *p, const int8_t *x, const int8_t *wf, int32_t f,
                                       int32_t lo, int32_t hi)
{
    const int32_t acc = p->feature_bias[f] + mcf_svdf_dot_s8(wf + f * p->input_size, x, p->input_size);
    return mcf_clamp(mcf_requantize(acc, p->feature_multiplier, p->feature_shift), lo, hi);
}

static inline int8_t mcf_svdf_output(const mcf_svdf_params *p, int32_t acc)
{
    return (int8_t)mcf_clamp(mcf_requantize(acc, p->output_multiplier, p->output_shift) + p->output_offset,
                             -128, 127);
}

void mcf_svdf_s8_s16(const mcf_svdf_params *p, const int8_t *input, const int8_t *weights_feature,
                     const int16_t *weights_time, int16_t *state, int8_t *output)
{
    const int32_t memory = p->memory;
    const int32_t per_batch = p->filters * memory;
    const int32_t units = p->filters / p->rank;
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        int16_t *s = state + b * per_batch;
        const int8_t *x = input + b * p->input_size;
        int32_t f;
        int32_t u;
        /* every filter's memory moves one step older (the newest slot is rewritten below) */
        mcf_svdf_shift((uint8_t *)s, per_batch * 2, 2);
        for (f = 0; f < p->filters; ++f) {
            s[f * memory + memory - 1] = (int16_t)(uint16_t)(uint32_t)(
                p->state_offset + mcf_svdf_feature(p, x, weights_feature, f, -32768, 32767));
        }
        for (u = 0; u < units; ++u) {
            /* products below 2^30; the sum wraps in 32 bits as TFLite Micro's int32 one does */
            const uint32_t acc = mcf_svdf_dot_s16((uint32_t)p->unit_bias[u], weights_time + u * p->rank * memory,
                                                  s + u * p->rank * memory, p->rank * memory);
            output[b * units + u] = mcf_svdf_output(p, (int32_t)acc);
        }
    }
}

void mcf_svdf_s8_s8(const mcf_svdf_params *p, const int8_t *input, const int8_t *weights_feature,
                    const int8_t *weights_time, int8_t *state, int8_t *output)
{
    const int32_t memory = p->memory;
    const int32_t per_batch = p->filters * memory;
    const int32_t units = p->filters / p->rank;
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        int8_t *s = state + b * per_batch;
        const int8_t *x = input + b * p->input_size;
        int32_t f;
        int32_t u;
        mcf_svdf_shift((uint8_t *)s, per_batch, 1);
        for (f = 0; f < p->filters; ++f) {
            /* the zero point is added after the clamp and the sum wraps into int8, as in TFLite Micro */
            s[f * memory + memory - 1] =
                (int8_t)(uint8_t)(uint32_t)(p->state_offset + mcf_svdf_feature(p, x, weights_feature, f, -128, 127));
        }
        for (u = 0; u < units; ++u) {
            output[b * units + u] =
                mcf_svdf_output(p, p->unit_bias[u] + mcf_svdf_dot_s8(weights_time + u * p->rank * memory,
                                                                     s + u * p->rank * memory, p->rank * memory));
        }
    }
}
