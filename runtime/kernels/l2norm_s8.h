/* l2norm_s8.h - TFLite L2_NORMALIZATION (int8): each row divided by its Euclidean length. */
#ifndef MCF_L2NORM_S8_H
#define MCF_L2NORM_S8_H

#include <stdint.h>

/**
 * The input is [rows][depth]. For each row, the squared offset values (q - zero point) are summed,
 * the sum's inverse square root is computed in fixed point (TFLite Micro's Newton-Raphson
 * procedure, bit for bit) as a Q31 multiplier and a shift, and every offset value is requantized
 * by it to the output scale 1/128 (zero point 0), clamped to int8.
 */
typedef struct {
    int32_t rows;
    int32_t depth;
    int32_t input_offset; /**< minus the input zero point */
} mcf_l2norm_params;

void mcf_l2norm_s8(const mcf_l2norm_params *p, const int8_t *input, int8_t *output);

#endif /* MCF_L2NORM_S8_H */
