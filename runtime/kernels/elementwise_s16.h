/* elementwise_s16.h - int16 elementwise ADD, SUB and MUL with broadcasting (TFLite ADD, SUB, MUL
 * with 16x8 quantization). */
#ifndef MCF_ELEMENTWISE_S16_H
#define MCF_ELEMENTWISE_S16_H

#include <stdint.h>

/**
 * ADD / SUB parameters computed by mcuforge at compile time, as for int8 (add_s8.h) with a
 * headroom shift of 15: (x + input_offset) * 2^15 is multiplied by a Q31 multiplier below one and
 * shifted right (`input*_shift` <= 0); the two are added (or subtracted) and the result rescaled
 * with `output_multiplier`/`output_shift` (<= 0).
 *
 * The iteration space is the output in row-major order, `ndims` loop dimensions (outermost first):
 * `dims[d]` the extent, `stride1[d]`/`stride2[d]` the element strides of each input, 0 where that
 * input is broadcast.
 */
typedef struct {
    int32_t input1_offset;     /**< -input1 zero point */
    int32_t input2_offset;     /**< -input2 zero point */
    int32_t left_shift;        /**< 15 for int16 */
    int32_t input1_multiplier; /**< Q31, below one */
    int32_t input1_shift;      /**< <= 0, right shift */
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_multiplier;
    int32_t output_shift;      /**< <= 0 */
    int32_t output_offset;     /**< output zero point */
    int32_t act_min;           /**< clamp of the fused activation, within int16 */
    int32_t act_max;
    int32_t ndims;             /**< 1 .. MCF_BCAST_MAX_DIMS */
    const int32_t *dims;
    const int32_t *stride1;
    const int32_t *stride2;
} mcf_add_s16_params;

/**
 * MUL parameters: the product x1 * x2 (zero points 0, as TFLite Micro requires for int16) is
 * requantized with the Q31 `output_multiplier` and `output_shift` (> 0 is a left shift).
 */
typedef struct {
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t act_min;
    int32_t act_max;
    int32_t ndims;
    const int32_t *dims;
    const int32_t *stride1;
    const int32_t *stride2;
} mcf_mul_s16_params;

void mcf_add_s16(const mcf_add_s16_params *p, const int16_t *input1, const int16_t *input2,
                 int16_t *output);
void mcf_sub_s16(const mcf_add_s16_params *p, const int16_t *input1, const int16_t *input2,
                 int16_t *output);
void mcf_mul_s16(const mcf_mul_s16_params *p, const int16_t *input1, const int16_t *input2,
                 int16_t *output);

#endif /* MCF_ELEMENTWISE_S16_H */
