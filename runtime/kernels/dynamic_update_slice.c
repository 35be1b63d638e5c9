/* dynamic_update_slice.c - copy the operand, then the update's rows at the clamped start. */
#include "dynamic_update_slice.h"

#include "mcf_common.h"

void mcf_dynamic_update_slice(const mcf_dus_params *p, const void *operand, const void *update,
                              const int32_t *starts, void *output)
{
    const int8_t *src = (const int8_t *)operand;
    const int8_t *u = (const int8_t *)update;
    int8_t *dst = (int8_t *)output;
    int32_t offset = 0;
    int32_t k, i0, i1, i2, i3;
    if (p->whole) {
        mcf_copy_s8(dst, u, p->total);
        return;
    }
    if (dst != src) {
        mcf_copy_s8(dst, src, p->total);
    }
    for (k = 0; k < p->rank; ++k) {
        offset += mcf_clamp(starts[k], 0, p->limit[k]) * p->start_step[k];
    }
    dst += offset;
    for (i0 = 0; i0 < p->count[0]; ++i0) {
        for (i1 = 0; i1 < p->count[1]; ++i1) {
            for (i2 = 0; i2 < p->count[2]; ++i2) {
                int8_t *row = dst + i0 * p->out_step[0] + i1 * p->out_step[1] + i2 * p->out_step[2];
                for (i3 = 0; i3 < p->count[3]; ++i3) {
                    mcf_copy_s8(row, u, p->run);
                    row += p->out_step[3];
                    u += p->run;
                }
            }
        }
    }
}
