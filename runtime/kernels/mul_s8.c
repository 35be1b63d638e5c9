/* mul_s8.c - portable int8 elementwise MUL with broadcasting. */
#include "mul_s8.h"

#include "mcf_common.h"

/* n outputs from inputs walked with strides s1 / s2 (0 or the innermost stride). */
static void mcf_mul_row(const mcf_mul_params *p, const int8_t *a, int32_t s1, const int8_t *b,
                        int32_t s2, int8_t *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        /* |x + offset| <= 256 for each factor, so the product fits in 17 bits. */
        const int32_t prod = ((int32_t)*a + p->input1_offset) * ((int32_t)*b + p->input2_offset);
#if MCF_REQUANT_F32
        /* onnxruntime adds the zero point in float, before rounding */
        const int32_t v = mcf_round_f32(mcf_mul_then_add_f32((float)prod, mcf_f32_from_bits(p->output_multiplier),
                                                             (float)p->output_offset));
#else
        const int32_t v = mcf_requantize(prod, p->output_multiplier, p->output_shift) +
                          p->output_offset;
#endif
        out[i] = (int8_t)mcf_clamp(v, p->act_min, p->act_max);
        a += s1;
        b += s2;
    }
}

void mcf_mul_s8(const mcf_mul_params *p, const int8_t *input1, const int8_t *input2,
                int8_t *output)
{
    const int32_t outer = p->ndims - 1;
    const int32_t n = p->dims[outer];
    int32_t idx[MCF_BCAST_MAX_DIMS];
    int32_t rows;
    int32_t off1 = 0;
    int32_t off2 = 0;
    int32_t r;
    rows = mcf_bcast_start(outer, p->dims, idx);
    for (r = 0; r < rows; ++r) {
        mcf_mul_row(p, input1 + off1, p->stride1[outer], input2 + off2, p->stride2[outer], output, n);
        output += n;
        mcf_bcast_advance(outer, p->dims, p->stride1, p->stride2, idx, &off1, &off2);
    }
}
