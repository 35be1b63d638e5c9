/* nonlinear_s8.c - int8 element-wise function through a 256-entry table. */
#include "nonlinear_s8.h"

void mcf_lut_s8(const mcf_lut_params *p, const int8_t *input, int8_t *output)
{
    const int8_t *table = p->table;
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        output[i] = table[(uint8_t)input[i]];
    }
}
