/* float_table_s8_f32.c - int8 -> float32 through a table computed at compile time. */
#include "float_table_s8_f32.h"

void mcf_float_table_s8_f32(const mcf_float_table_params *p, const int8_t *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        output[i] = p->table[(uint8_t)input[i]];
    }
}
