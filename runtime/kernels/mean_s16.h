/* mean_s16.h - int16 MEAN and SUM over any set of axes (TFLite MEAN, SUM with int16 data). */
#ifndef MCF_MEAN_S16_H
#define MCF_MEAN_S16_H

#include <stdint.h>

#define MCF_MEAN_S16_MAX_GROUPS 4

/** Same meaning as mcf_mean_params (mean_s8.h): kept and reduced dimension groups (counts and
 *  element strides, right-aligned), the sum's start value -input_zero_point * count, and the
 *  requantization (1/count folded in for MEAN). The output is clamped to int16. */
typedef struct {
    int32_t kept_count[MCF_MEAN_S16_MAX_GROUPS];
    int32_t kept_stride[MCF_MEAN_S16_MAX_GROUPS];
    int32_t reduced_count[MCF_MEAN_S16_MAX_GROUPS];
    int32_t reduced_stride[MCF_MEAN_S16_MAX_GROUPS];
    int32_t acc_init;
    int32_t multiplier;
    int32_t shift;
    int32_t output_offset;
} mcf_mean_s16_params;

void mcf_mean_s16(const mcf_mean_s16_params *p, const int16_t *input, int16_t *output);

#endif /* MCF_MEAN_S16_H */
