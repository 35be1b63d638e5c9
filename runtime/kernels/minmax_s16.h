/* minmax_s16.h - TFLite MAXIMUM and MINIMUM on int16 tensors, numpy-style broadcasting. */
#ifndef MCF_MINMAX_S16_H
#define MCF_MINMAX_S16_H

#include <stdint.h>

#define MCF_MINMAX_S16_LOOPS 5

/**
 * The larger / smaller stored int16 value (TFLite Micro compares stored values and does not
 * rescale). The output, row-major, is walked as MCF_MINMAX_S16_LOOPS nested loops of extents
 * `dims` (outermost first, padded with 1s); `stride1[d]` / `stride2[d]` are the inputs' element
 * strides over them (0 where an input is broadcast).
 */
typedef struct {
    const int32_t *dims;
    const int32_t *stride1;
    const int32_t *stride2;
} mcf_minmax_s16_params;

void mcf_maximum_s16(const mcf_minmax_s16_params *p, const int16_t *input1, const int16_t *input2,
                     int16_t *output);
void mcf_minimum_s16(const mcf_minmax_s16_params *p, const int16_t *input1, const int16_t *input2,
                     int16_t *output);

#endif /* MCF_MINMAX_S16_H */
