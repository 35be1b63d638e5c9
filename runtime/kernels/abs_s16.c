/* abs_s16.c - int16 ABS, one requantization per element when the scales differ. */
#include "abs_s16.h"

#include "mcf_common.h"

void mcf_abs_s16(const mcf_abs_s16_params *p, const int16_t *input, int16_t *output)
{
    int32_t i;
    if (!p->rescale) {
        for (i = 0; i < p->size; ++i) {
            const int32_t v = input[i];
            output[i] = (int16_t)(v < 0 ? MCF_MIN(-v, INT16_MAX) : v);
        }
        return;
    }
    for (i = 0; i < p->size; ++i) {
        const int32_t v = input[i];
        const int32_t y = mcf_requantize(v < 0 ? -v : v, p->multiplier, p->shift);
        output[i] = (int16_t)mcf_clamp(y, INT16_MIN, INT16_MAX);
    }
}
