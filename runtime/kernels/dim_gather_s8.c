/* dim_gather_s8.c - see dim_gather_s8.h. */
#include "dim_gather_s8.h"

void mcf_dim_gather_s8(const mcf_dim_gather_params *p, const int8_t *input, int8_t *output)
{
    const int32_t *t0 = p->offsets + p->start[0];
    const int32_t *t1 = p->offsets + p->start[1];
    const int32_t *t2 = p->offsets + p->start[2];
    const int32_t *t3 = p->offsets + p->start[3];
    const int32_t *t4 = p->offsets + p->start[4];
    int8_t *out = output;
    int32_t a, b, c, d, e;
    for (a = 0; a < p->count[0]; ++a) {
        const int8_t *ia = input + t0[a];
        for (b = 0; b < p->count[1]; ++b) {
            const int8_t *ib = ia + t1[b];
            for (c = 0; c < p->count[2]; ++c) {
                const int8_t *ic = ib + t2[c];
                for (d = 0; d < p->count[3]; ++d) {
                    const int8_t *id = ic + t3[d];
                    for (e = 0; e < p->count[4]; ++e) {
                        *out++ = id[t4[e]];
                    }
                }
            }
        }
    }
}
