/* dim_gather_s8.h - an output whose every dimension reads the input through its own index table
 * (MIRROR_PAD: the mirrored coordinate of each padded position). */
#ifndef MCF_DIM_GATHER_S8_H
#define MCF_DIM_GATHER_S8_H

#include <stdint.h>

#define MCF_DIM_GATHER_DIMS 5

/**
 * output[o0, ..., o4] = input[table0[o0] + ... + table4[o4]], output row-major in count[]; table d
 * is offsets + start[d], count[d] byte offsets into the input (the input coordinate times its
 * stride, computed by mcuforge). Unused leading dimensions have count 1 and a table holding 0.
 */
typedef struct {
    int32_t count[MCF_DIM_GATHER_DIMS];
    int32_t start[MCF_DIM_GATHER_DIMS];
    const int32_t *offsets;
} mcf_dim_gather_params;

void mcf_dim_gather_s8(const mcf_dim_gather_params *p, const int8_t *input, int8_t *output);

#endif /* MCF_DIM_GATHER_S8_H */
