/* squared_difference_s16.h - TFLite SQUARED_DIFFERENCE on int16 tensors with zero points 0 (16x8
 * models), numpy-style broadcasting. */
#ifndef MCF_SQUARED_DIFFERENCE_S16_H
#define MCF_SQUARED_DIFFERENCE_S16_H

#include <stdint.h>

#define MCF_SQDIFF_S16_LOOPS 5

/**
 * Each input scaled onto twice the larger input scale (Q31 multipliers below one, shifts <= 0),
 * the difference squared in int32 and requantized by output_multiplier * 2^output_shift, then
 * saturated to int16: TFLite Micro's arithmetic with a left shift of 0. The output, row-major, is
 * walked as MCF_SQDIFF_S16_LOOPS nested loops of extents `dims` (outermost first, padded with 1s);
 * `stride1[d]` / `stride2[d]` are the inputs' element strides (0 where an input is broadcast).
 */
typedef struct {
    int32_t input1_multiplier;
    int32_t input1_shift;
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_multiplier;
    int32_t output_shift;
    const int32_t *dims;
    const int32_t *stride1;
    const int32_t *stride2;
} mcf_sqdiff_s16_params;

void mcf_squared_difference_s16(const mcf_sqdiff_s16_params *p, const int16_t *input1,
                                const int16_t *input2, int16_t *output);

#endif /* MCF_SQUARED_DIFFERENCE_S16_H */
