/* svdf_s8.c - SVDF with int8 input/output and int16 or int8 state (see svdf_s8.h). No scratch:
 * each unit's time-filter sums are accumulated straight into its output value. */
#include "svdf_s8.h"

#include "mcf_common.h"

/* sum_i w[i] * x[i] over int8 vectors */
static inline int32_t mcf_svdf_dot_s8(const int8_t *w, const int8_t *x, int32_t n)
{
    int32_t acc = 0;
    int32_t i;
    for (i = 0; i < n; ++i) {
        acc += (int32_t)w[i] * x[i];
    }
    return acc;
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
        for (f = 0; f + 1 < per_batch; ++f) {
            s[f] = s[f + 1];
        }
        for (f = 0; f < p->filters; ++f) {
            s[f * memory + memory - 1] = (int16_t)(uint16_t)(uint32_t)(
                p->state_offset + mcf_svdf_feature(p, x, weights_feature, f, -32768, 32767));
        }
        for (u = 0; u < units; ++u) {
            /* products below 2^30; the sum wraps in 32 bits as TFLite Micro's int32 one does */
            uint32_t acc = (uint32_t)p->unit_bias[u];
            const int16_t *sv = s + u * p->rank * memory;
            const int16_t *wt = weights_time + u * p->rank * memory;
            int32_t j;
            for (j = 0; j < p->rank * memory; ++j) {
                acc += (uint32_t)((int32_t)wt[j] * sv[j]);
            }
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
        for (f = 0; f + 1 < per_batch; ++f) {
            s[f] = s[f + 1];
        }
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
