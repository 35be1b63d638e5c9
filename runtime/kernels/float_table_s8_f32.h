/* float_table_s8_f32.h - int8 -> float32 through a 256-entry table (float_table_s8_f32.c). */
#ifndef MCF_FLOAT_TABLE_S8_F32_H
#define MCF_FLOAT_TABLE_S8_F32_H

#include <stdint.h>

typedef struct {
    int32_t size;
    const float *table; /**< [256] the float32 result for every input byte */
} mcf_float_table_params;

/** output[i] = table[byte of input[i]]: a DequantizeLinear followed by element-wise float operators
 *  that end a model unquantized, each entry computed at compile time as onnxruntime computes it. */
void mcf_float_table_s8_f32(const mcf_float_table_params *p, const int8_t *input, float *output);

#endif /* MCF_FLOAT_TABLE_S8_F32_H */
