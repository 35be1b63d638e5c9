/* arg_minmax_s8.c - portable arg max / arg min along one axis. */
#include "arg_minmax_s8.h"

#include "mcf_common.h"

static MCF_ALWAYS_INLINE void mcf_arg_s8(const mcf_arg_params *p, const int8_t *input, int32_t *output,
                                         int is_max)
{
    const int32_t n = p->axis_size;
    const int32_t inner = p->inner;
    int32_t o, k, i;
    for (o = 0; o < p->outer; ++o) {
        const int8_t *block = input + o * n * inner;
        for (k = 0; k < inner; ++k) {
            const int8_t *q = block + k;
            int32_t best = q[0];
            int32_t index = 0;
            for (i = 1; i < n; ++i) {
                const int32_t v = q[i * inner];
                if (is_max ? v > best : v < best) {
                    best = v;
                    index = i;
                }
            }
            *output++ = index;
        }
    }
}

void mcf_arg_max_s8(const mcf_arg_params *p, const int8_t *input, int32_t *output)
{
    mcf_arg_s8(p, input, output, 1);
}

void mcf_arg_min_s8(const mcf_arg_params *p, const int8_t *input, int32_t *output)
{
    mcf_arg_s8(p, input, output, 0);
}
