/* binary_s16.c - int16 MAXIMUM, MINIMUM and SQUARED_DIFFERENCE with broadcasting: one walk over
 * the merged loop dimensions the compiler described, specialised for each operator. */
#include "binary_s16.h"

#include "mcf_common.h"

enum { MCF_S16_MAXIMUM, MCF_S16_MINIMUM, MCF_S16_SQDIFF };

/* SQUARED_DIFFERENCE's rescalings, made once per call. */
typedef struct {
    mcf_rescaler in1;
    mcf_rescaler in2;
    int32_t multiplier;
    int32_t shift;
} mcf_sqdiff_s16_ctx;

/* One output element of operator `kind` (a constant wherever this is inlined). */
static MCF_ALWAYS_INLINE int16_t mcf_binary_s16_one(int32_t kind, const mcf_sqdiff_s16_ctx *c, int16_t x,
                                                    int16_t y)
{
    if (kind == MCF_S16_MAXIMUM) {
        return x > y ? x : y;
    }
    if (kind == MCF_S16_MINIMUM) {
        return x < y ? x : y;
    }
    {
        const int32_t d = mcf_rescale(&c->in1, x) - mcf_rescale(&c->in2, y);
        return (int16_t)mcf_clamp(mcf_requantize(d * d, c->multiplier, c->shift), INT16_MIN, INT16_MAX);
    }
}

/* The output row by row (the innermost loop dimension a strided run of both inputs), the outer
 * dimensions stepped by the broadcast odometer of mcf_common.h. */
static MCF_ALWAYS_INLINE void mcf_binary_s16_walk(int32_t kind, const mcf_sqdiff_s16_ctx *c, int32_t ndims,
                                                  const int32_t *dims, const int32_t *stride1,
                                                  const int32_t *stride2, const int16_t *input1,
                                                  const int16_t *input2, int16_t *output)
{
    const int32_t outer = ndims - 1;
    const int32_t n = dims[outer];
    const int32_t s1 = stride1[outer];
    const int32_t s2 = stride2[outer];
    int32_t idx[MCF_BCAST_MAX_DIMS];
    int32_t rows;
    int32_t off1 = 0;
    int32_t off2 = 0;
    int32_t r;
    rows = mcf_bcast_start(outer, dims, idx);
    for (r = 0; r < rows; ++r) {
        const int16_t *a = input1 + off1;
        const int16_t *b = input2 + off2;
        int32_t i;
        for (i = 0; i < n; ++i) {
            output[i] = mcf_binary_s16_one(kind, c, *a, *b);
            a += s1;
            b += s2;
        }
        output += n;
        mcf_bcast_advance(outer, dims, stride1, stride2, idx, &off1, &off2);
    }
}

void mcf_maximum_s16(const mcf_minmax_s16_params *p, const int16_t *input1, const int16_t *input2,
                     int16_t *output)
{
    mcf_binary_s16_walk(MCF_S16_MAXIMUM, 0, p->ndims, p->dims, p->stride1, p->stride2, input1, input2, output);
}

void mcf_minimum_s16(const mcf_minmax_s16_params *p, const int16_t *input1, const int16_t *input2,
                     int16_t *output)
{
    mcf_binary_s16_walk(MCF_S16_MINIMUM, 0, p->ndims, p->dims, p->stride1, p->stride2, input1, input2, output);
}

void mcf_squared_difference_s16(const mcf_sqdiff_s16_params *p, const int16_t *input1,
                                const int16_t *input2, int16_t *output)
{
    mcf_sqdiff_s16_ctx c;
    c.in1 = mcf_rescaler_make(p->input1_multiplier, p->input1_shift);
    c.in2 = mcf_rescaler_make(p->input2_multiplier, p->input2_shift);
    c.multiplier = p->output_multiplier;
    c.shift = p->output_shift;
    mcf_binary_s16_walk(MCF_S16_SQDIFF, &c, p->ndims, p->dims, p->stride1, p->stride2, input1, input2, output);
}
