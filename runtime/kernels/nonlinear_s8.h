/* nonlinear_s8.h - int8 element-wise functions by table lookup (TFLite LOGISTIC, TANH). */
#ifndef MCF_NONLINEAR_S8_H
#define MCF_NONLINEAR_S8_H

#include <stdint.h>

/**
 * Parameters computed by mcuforge at compile time. With int8 input and output, an element-wise
 * function has only 256 possible results, so mcuforge evaluates TFLite Micro's fixed-point
 * computation (input rescaling, saturation at the input range radius, fixed-point
 * logistic/tanh, output rounding) for every input value ahead of time; the kernel looks them up.
 */
typedef struct {
    int32_t size;         /**< number of elements (any shape, contiguous) */
    const int8_t *table;  /**< [256], indexed by (uint8_t)input: table[x & 0xff] = f(x) */
} mcf_lut_params;

/** output[i] = table[(uint8_t)input[i]] for i < size. Input and output may be the same buffer. */
void mcf_lut_s8(const mcf_lut_params *p, const int8_t *input, int8_t *output);

#endif /* MCF_NONLINEAR_S8_H */
