/* mul_s8.h - int8 elementwise MUL with broadcasting (TFLite MUL). */
#ifndef MCF_MUL_S8_H
#define MCF_MUL_S8_H

#include <stdint.h>

/**
 * Parameters computed by mcuforge at compile time.
 *
 * The product (input1 + input1_offset) * (input2 + input2_offset) is requantized with the Q31
 * `output_multiplier` and `output_shift` (> 0 is a left shift) for the real multiplier
 * input1_scale * input2_scale / output_scale. The broadcast description (`ndims`, `dims`,
 * `stride1`, `stride2`) is the same as for mcf_add_params.
 */
typedef struct {
    int32_t input1_offset;     /**< -input1 zero point, in [-127, 128] */
    int32_t input2_offset;     /**< -input2 zero point */
    int32_t output_multiplier; /**< Q31 */
    int32_t output_shift;      /**< > 0 shifts left */
    int32_t output_offset;     /**< output zero point */
    int32_t act_min;           /**< clamp of the fused activation */
    int32_t act_max;
    int32_t ndims;             /**< 1 .. MCF_BCAST_MAX_DIMS */
    const int32_t *dims;       /**< [ndims] loop extents, outermost first */
    const int32_t *stride1;    /**< [ndims] element strides of input1 (0 = broadcast) */
    const int32_t *stride2;    /**< [ndims] element strides of input2 (0 = broadcast) */
} mcf_mul_params;

/** output = clamp(requant((input1 - zp1) * (input2 - zp2)) + output_offset), any row-major
 *  layout (NHWC for images); inputs may be broadcast against each other as described by `p`. */
void mcf_mul_s8(const mcf_mul_params *p, const int8_t *input1, const int8_t *input2,
                int8_t *output);

#endif /* MCF_MUL_S8_H */
