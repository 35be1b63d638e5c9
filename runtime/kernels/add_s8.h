/* add_s8.h - int8 elementwise ADD and SUB with broadcasting (TFLite ADD, SUB). */
#ifndef MCF_ADD_S8_H
#define MCF_ADD_S8_H

#include <stdint.h>

/**
 * Parameters computed by mcuforge at compile time.
 *
 * Each input is brought to a common scale: (x + input_offset) * 2^left_shift is multiplied by a
 * Q31 multiplier below one and shifted right (`input*_shift` <= 0); the two are added (or
 * subtracted) and the result is requantized with `output_multiplier`/`output_shift` (<= 0).
 *
 * The iteration space is the output in row-major order, described by `ndims` loop dimensions
 * (outermost first, at least one): `dims[d]` is the extent, `stride1[d]`/`stride2[d]` the element
 * strides of each input along it, 0 where that input is broadcast. The compiler merges runs of
 * dimensions that broadcast alike, so two inputs of the same shape give one loop of stride 1.
 */
typedef struct {
    int32_t input1_offset;     /**< -input1 zero point, in [-127, 128] */
    int32_t input2_offset;     /**< -input2 zero point */
    int32_t left_shift;        /**< 20 for int8 */
    int32_t input1_multiplier; /**< Q31, below one */
    int32_t input1_shift;      /**< <= 0, right shift */
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_multiplier;
    int32_t output_shift;      /**< <= 0 */
    int32_t output_offset;     /**< output zero point */
    int32_t act_min;           /**< clamp of the fused activation */
    int32_t act_max;
    int32_t ndims;             /**< 1 .. MCF_BCAST_MAX_DIMS */
    const int32_t *dims;       /**< [ndims] loop extents, outermost first */
    const int32_t *stride1;    /**< [ndims] element strides of input1 (0 = broadcast) */
    const int32_t *stride2;    /**< [ndims] element strides of input2 (0 = broadcast) */
} mcf_add_params;

/** output = clamp(requant(scale1(input1) + scale2(input2)) + output_offset), int8 NHWC or any
 *  row-major layout; inputs may be broadcast against each other as described by `p`. */
void mcf_add_s8(const mcf_add_params *p, const int8_t *input1, const int8_t *input2,
                int8_t *output);

/** Same as mcf_add_s8 with the scaled input2 subtracted from the scaled input1. */
void mcf_sub_s8(const mcf_add_params *p, const int8_t *input1, const int8_t *input2,
                int8_t *output);

#endif /* MCF_ADD_S8_H */
