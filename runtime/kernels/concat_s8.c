/* concat_s8.c - portable int8 concatenation: a sequence of byte copies. */
#include "concat_s8.h"

#include "mcf_common.h"

void mcf_concat_s8(const mcf_concat_params *p, const int8_t *const *inputs, int8_t *output)
{
    int32_t k;
    for (k = 0; k < p->outer; ++k) {
        int32_t i;
        for (i = 0; i < p->num_inputs; ++i) {
            const int32_t n = p->size[i];
            mcf_copy_s8(output, inputs[i] + k * n, n);
            output += n;
        }
    }
}

void mcf_concat1_s8(const mcf_concat_params *p, const int8_t *in0, int8_t *output)
{
    const int8_t *const in[1] = {in0};
    mcf_concat_s8(p, in, output);
}

void mcf_concat2_s8(const mcf_concat_params *p, const int8_t *in0, const int8_t *in1, int8_t *output)
{
    const int8_t *const in[2] = {in0, in1};
    mcf_concat_s8(p, in, output);
}

void mcf_concat3_s8(const mcf_concat_params *p, const int8_t *in0, const int8_t *in1, const int8_t *in2,
                    int8_t *output)
{
    const int8_t *const in[3] = {in0, in1, in2};
    mcf_concat_s8(p, in, output);
}

void mcf_concat4_s8(const mcf_concat_params *p, const int8_t *in0, const int8_t *in1, const int8_t *in2,
                    const int8_t *in3, int8_t *output)
{
    const int8_t *const in[4] = {in0, in1, in2, in3};
    mcf_concat_s8(p, in, output);
}

void mcf_concat5_s8(const mcf_concat_params *p, const int8_t *in0, const int8_t *in1, const int8_t *in2,
                    const int8_t *in3, const int8_t *in4, int8_t *output)
{
    const int8_t *const in[5] = {in0, in1, in2, in3, in4};
    mcf_concat_s8(p, in, output);
}

void mcf_concat6_s8(const mcf_concat_params *p, const int8_t *in0, const int8_t *in1, const int8_t *in2,
                    const int8_t *in3, const int8_t *in4, const int8_t *in5, int8_t *output)
{
    const int8_t *const in[6] = {in0, in1, in2, in3, in4, in5};
    mcf_concat_s8(p, in, output);
}

void mcf_concat7_s8(const mcf_concat_params *p, const int8_t *in0, const int8_t *in1, const int8_t *in2,
                    const int8_t *in3, const int8_t *in4, const int8_t *in5, const int8_t *in6,
                    int8_t *output)
{
    const int8_t *const in[7] = {in0, in1, in2, in3, in4, in5, in6};
    mcf_concat_s8(p, in, output);
}

void mcf_concat8_s8(const mcf_concat_params *p, const int8_t *in0, const int8_t *in1, const int8_t *in2,
                    const int8_t *in3, const int8_t *in4, const int8_t *in5, const int8_t *in6,
                    const int8_t *in7, int8_t *output)
{
    const int8_t *const in[8] = {in0, in1, in2, in3, in4, in5, in6, in7};
    mcf_concat_s8(p, in, output);
}

void mcf_concat9_s8(const mcf_concat_params *p, const int8_t *in0, const int8_t *in1, const int8_t *in2,
                    const int8_t *in3, const int8_t *in4, const int8_t *in5, const int8_t *in6,
                    const int8_t *in7, const int8_t *in8, int8_t *output)
{
    const int8_t *const in[9] = {in0, in1, in2, in3, in4, in5, in6, in7, in8};
    mcf_concat_s8(p, in, output);
}

void mcf_concat10_s8(const mcf_concat_params *p, const int8_t *in0, const int8_t *in1, const int8_t *in2,
                     const int8_t *in3, const int8_t *in4, const int8_t *in5, const int8_t *in6,
                     const int8_t *in7, const int8_t *in8, const int8_t *in9, int8_t *output)
{
    const int8_t *const in[10] = {in0, in1, in2, in3, in4, in5, in6, in7, in8, in9};
    mcf_concat_s8(p, in, output);
}
