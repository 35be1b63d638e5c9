/* binary_s16.h - int16 element-wise binary operators with broadcasting (16x8 models): MAXIMUM,
 * MINIMUM and SQUARED_DIFFERENCE (TFLite's operators of those names). */
#ifndef MCF_BINARY_S16_H
#define MCF_BINARY_S16_H

#include <stdint.h>

/*
 * Every parameter struct ends with the broadcast iteration space of add_s8.h: the output in
 * row-major order as `ndims` merged loop dimensions (outermost first), `dims[d]` the extent,
 * `stride1[d]` / `stride2[d]` the element strides of each input (0 where it is broadcast).
 */

/** MAXIMUM / MINIMUM: the larger / smaller stored int16 value (TFLite Micro compares stored
 *  values and does not rescale). */
typedef struct {
    int32_t ndims;
    const int32_t *dims;
    const int32_t *stride1;
    const int32_t *stride2;
} mcf_minmax_s16_params;

void mcf_maximum_s16(const mcf_minmax_s16_params *p, const int16_t *input1, const int16_t *input2,
                     int16_t *output);
void mcf_minimum_s16(const mcf_minmax_s16_params *p, const int16_t *input1, const int16_t *input2,
                     int16_t *output);

/**
 * SQUARED_DIFFERENCE with zero points 0: each input scaled onto twice the larger input scale (Q31
 * multipliers below one, shifts <= 0), the difference squared in int32 and requantized by
 * output_multiplier * 2^output_shift, then saturated to int16: TFLite Micro's arithmetic with a
 * left shift of 0.
 */
typedef struct {
    int32_t input1_multiplier;
    int32_t input1_shift;
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t ndims;
    const int32_t *dims;
    const int32_t *stride1;
    const int32_t *stride2;
} mcf_sqdiff_s16_params;

void mcf_squared_difference_s16(const mcf_sqdiff_s16_params *p, const int16_t *input1,
                                const int16_t *input2, int16_t *output);

#endif /* MCF_BINARY_S16_H */
