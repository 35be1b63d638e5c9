/* elementwise_s16.c - int16 ADD / SUB / MUL with broadcasting: one row loop per op over the
 * merged broadcast loops (mcf_bcast_advance). */
#include "elementwise_s16.h"

#include "mcf_common.h"
#include "mcf_dsp.h"

/* The rescalings of ADD / SUB; the fast build uses mcf_rescale with constants made once per call,
 * which gives mcf_requantize's values for shifts <= 0 (mcf_common.h). */
typedef struct {
#if MCF_KERNELS_FAST
    mcf_rescaler in1, in2, out;
#endif
    const mcf_add_s16_params *p;
} mcf_add_s16_ctx;

static inline int32_t mcf_add_s16_in1(const mcf_add_s16_ctx *c, int32_t v)
{
#if MCF_KERNELS_FAST
    return mcf_rescale(&c->in1, v);
#else
    return mcf_requantize(v, c->p->input1_multiplier, c->p->input1_shift);
#endif
}

static inline int32_t mcf_add_s16_in2(const mcf_add_s16_ctx *c, int32_t v)
{
#if MCF_KERNELS_FAST
    return mcf_rescale(&c->in2, v);
#else
    return mcf_requantize(v, c->p->input2_multiplier, c->p->input2_shift);
#endif
}

static inline int32_t mcf_add_s16_out(const mcf_add_s16_ctx *c, int32_t v)
{
#if MCF_KERNELS_FAST
    return mcf_rescale(&c->out, v);
#else
    return mcf_requantize(v, c->p->output_multiplier, c->p->output_shift);
#endif
}

static void mcf_add_s16_row(const mcf_add_s16_ctx *c, int32_t subtract, const int16_t *a,
                            int32_t s1, const int16_t *b, int32_t s2, int16_t *out, int32_t n)
{
    const mcf_add_s16_params *p = c->p;
    const int32_t left = p->left_shift;
    int32_t i;
    for (i = 0; i < n; ++i) {
        /* |x + offset| < 2^16 and the shift is 15: the shifted value fits in int32 */
        const int32_t va = mcf_add_s16_in1(c, (int32_t)((uint32_t)(*a + p->input1_offset) << left));
        const int32_t vb = mcf_add_s16_in2(c, (int32_t)((uint32_t)(*b + p->input2_offset) << left));
        const int32_t v = mcf_add_s16_out(c, subtract ? va - vb : va + vb) + p->output_offset;
        out[i] = (int16_t)mcf_clamp(v, p->act_min, p->act_max);
        a += s1;
        b += s2;
    }
}

static void mcf_add_sub_s16(const mcf_add_s16_params *p, int32_t subtract, const int16_t *input1,
                            const int16_t *input2, int16_t *output)
{
    const int32_t outer = p->ndims - 1;
    const int32_t n = p->dims[outer];
    int32_t idx[MCF_BCAST_MAX_DIMS];
    int32_t rows = 1;
    int32_t off1 = 0;
    int32_t off2 = 0;
    int32_t d;
    int32_t r;
    mcf_add_s16_ctx c;
    c.p = p;
#if MCF_KERNELS_FAST
    c.in1 = mcf_rescaler_make(p->input1_multiplier, p->input1_shift);
    c.in2 = mcf_rescaler_make(p->input2_multiplier, p->input2_shift);
    c.out = mcf_rescaler_make(p->output_multiplier, p->output_shift);
#endif
    mcf_zero_i32(idx, MCF_BCAST_MAX_DIMS);
    for (d = 0; d < outer; ++d) {
        rows *= p->dims[d];
    }
    for (r = 0; r < rows; ++r) {
        mcf_add_s16_row(&c, subtract, input1 + off1, p->stride1[outer], input2 + off2,
                        p->stride2[outer], output, n);
        output += n;
        mcf_bcast_advance(outer, p->dims, p->stride1, p->stride2, idx, &off1, &off2);
    }
}

void mcf_add_s16(const mcf_add_s16_params *p, const int16_t *input1, const int16_t *input2,
                 int16_t *output)
{
    mcf_add_sub_s16(p, 0, input1, input2, output);
}

void mcf_sub_s16(const mcf_add_s16_params *p, const int16_t *input1, const int16_t *input2,
                 int16_t *output)
{
    mcf_add_sub_s16(p, 1, input1, input2, output);
}

void mcf_mul_s16(const mcf_mul_s16_params *p, const int16_t *input1, const int16_t *input2,
                 int16_t *output)
{
    const int32_t outer = p->ndims - 1;
    const int32_t n = p->dims[outer];
    const int32_t s1 = p->stride1[outer];
    const int32_t s2 = p->stride2[outer];
    int32_t idx[MCF_BCAST_MAX_DIMS];
    int32_t rows = 1;
    int32_t off1 = 0;
    int32_t off2 = 0;
    int32_t d;
    int32_t r;
    mcf_zero_i32(idx, MCF_BCAST_MAX_DIMS);
    for (d = 0; d < outer; ++d) {
        rows *= p->dims[d];
    }
    for (r = 0; r < rows; ++r) {
        const int16_t *a = input1 + off1;
        const int16_t *b = input2 + off2;
        int32_t i;
        for (i = 0; i < n; ++i) {
            /* |x1 * x2| <= 2^30: fits in int32 */
            const int32_t v = mcf_requantize((int32_t)*a * *b, p->output_multiplier, p->output_shift);
            output[i] = (int16_t)mcf_clamp(v, p->act_min, p->act_max);
            a += s1;
            b += s2;
        }
        output += n;
        mcf_bcast_advance(outer, p->dims, p->stride1, p->stride2, idx, &off1, &off2);
    }
}
