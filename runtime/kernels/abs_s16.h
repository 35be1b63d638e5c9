/* abs_s16.h - TFLite ABS on int16 tensors with zero points 0 (16x8 models). */
#ifndef MCF_ABS_S16_H
#define MCF_ABS_S16_H

#include <stdint.h>

/**
 * output = saturate16(|x| * multiplier * 2^shift) when `rescale`, else saturate16(|x|) (TFLite
 * Micro rescales only when the input and output scales differ). Multiplier and shift from
 * mcuforge (input_scale / output_scale, in float then double, as TFLite Micro's Prepare).
 */
typedef struct {
    int32_t size;
    int32_t rescale;
    int32_t multiplier;
    int32_t shift;
} mcf_abs_s16_params;

void mcf_abs_s16(const mcf_abs_s16_params *p, const int16_t *input, int16_t *output);

#endif /* MCF_ABS_S16_H */
