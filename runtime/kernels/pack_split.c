/* pack_split.c - joining and cutting parts: runs copied word by word. */
#include "pack_split.h"

#include "mcf_dsp.h"

/* Copies n bytes from src to dst, four at a time while it can. */
static void mcf_copy_bytes(uint8_t *dst, const uint8_t *src, int32_t n)
{
    int32_t k;
    for (k = n >> 2; k > 0; --k) {
        mcf_write_u32(dst, mcf_read_u32(src));
        dst += 4;
        src += 4;
    }
    for (k = n & 3; k > 0; --k) {
        *dst++ = *src++;
    }
}

void mcf_join_parts(const mcf_parts_params *p, const uint8_t *const *parts, uint8_t *output)
{
    int32_t r;
    for (r = 0; r < p->outer; ++r) {
        int32_t k;
        for (k = 0; k < p->num_parts; ++k) {
            const int32_t n = p->size[k];
            mcf_copy_bytes(output, parts[k] + r * n, n);
            output += n;
        }
    }
}

void mcf_cut_parts(const mcf_parts_params *p, const uint8_t *input, uint8_t *const *parts)
{
    int32_t r;
    for (r = 0; r < p->outer; ++r) {
        int32_t k;
        for (k = 0; k < p->num_parts; ++k) {
            const int32_t n = p->size[k];
            mcf_copy_bytes(parts[k] + r * n, input, n);
            input += n;
        }
    }
}

void mcf_join1(const mcf_parts_params *p, const void *in0, void *output)
{
    const uint8_t *const parts[1] = {(const uint8_t *)in0};
    mcf_join_parts(p, parts, (uint8_t *)output);
}

void mcf_cut1(const mcf_parts_params *p, const void *input, void *out0)
{
    uint8_t *const parts[1] = {(uint8_t *)out0};
    mcf_cut_parts(p, (const uint8_t *)input, parts);
}

void mcf_join2(const mcf_parts_params *p, const void *in0, const void *in1, void *output)
{
    const uint8_t *const parts[2] = {(const uint8_t *)in0, (const uint8_t *)in1};
    mcf_join_parts(p, parts, (uint8_t *)output);
}

void mcf_cut2(const mcf_parts_params *p, const void *input, void *out0, void *out1)
{
    uint8_t *const parts[2] = {(uint8_t *)out0, (uint8_t *)out1};
    mcf_cut_parts(p, (const uint8_t *)input, parts);
}

void mcf_join3(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, void *output)
{
    const uint8_t *const parts[3] = {(const uint8_t *)in0, (const uint8_t *)in1, (const uint8_t *)in2};
    mcf_join_parts(p, parts, (uint8_t *)output);
}

void mcf_cut3(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2)
{
    uint8_t *const parts[3] = {(uint8_t *)out0, (uint8_t *)out1, (uint8_t *)out2};
    mcf_cut_parts(p, (const uint8_t *)input, parts);
}

void mcf_join4(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
               void *output)
{
    const uint8_t *const parts[4] = {(const uint8_t *)in0, (const uint8_t *)in1, (const uint8_t *)in2,
                                     (const uint8_t *)in3};
    mcf_join_parts(p, parts, (uint8_t *)output);
}

void mcf_cut4(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3)
{
    uint8_t *const parts[4] = {(uint8_t *)out0, (uint8_t *)out1, (uint8_t *)out2, (uint8_t *)out3};
    mcf_cut_parts(p, (const uint8_t *)input, parts);
}

void mcf_join5(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
               const void *in4, void *output)
{
    const uint8_t *const parts[5] = {(const uint8_t *)in0, (const uint8_t *)in1, (const uint8_t *)in2,
                                     (const uint8_t *)in3, (const uint8_t *)in4};
    mcf_join_parts(p, parts, (uint8_t *)output);
}

void mcf_cut5(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                void *out4)
{
    uint8_t *const parts[5] = {(uint8_t *)out0, (uint8_t *)out1, (uint8_t *)out2, (uint8_t *)out3,
                               (uint8_t *)out4};
    mcf_cut_parts(p, (const uint8_t *)input, parts);
}

void mcf_join6(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
               const void *in4, const void *in5, void *output)
{
    const uint8_t *const parts[6] = {(const uint8_t *)in0, (const uint8_t *)in1, (const uint8_t *)in2,
                                     (const uint8_t *)in3, (const uint8_t *)in4, (const uint8_t *)in5};
    mcf_join_parts(p, parts, (uint8_t *)output);
}

void mcf_cut6(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                void *out4, void *out5)
{
    uint8_t *const parts[6] = {(uint8_t *)out0, (uint8_t *)out1, (uint8_t *)out2, (uint8_t *)out3,
                               (uint8_t *)out4, (uint8_t *)out5};
    mcf_cut_parts(p, (const uint8_t *)input, parts);
}

void mcf_join7(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
               const void *in4, const void *in5, const void *in6, void *output)
{
    const uint8_t *const parts[7] = {(const uint8_t *)in0, (const uint8_t *)in1, (const uint8_t *)in2,
                                     (const uint8_t *)in3, (const uint8_t *)in4, (const uint8_t *)in5,
                                     (const uint8_t *)in6};
    mcf_join_parts(p, parts, (uint8_t *)output);
}

void mcf_cut7(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                void *out4, void *out5, void *out6)
{
    uint8_t *const parts[7] = {(uint8_t *)out0, (uint8_t *)out1, (uint8_t *)out2, (uint8_t *)out3,
                               (uint8_t *)out4, (uint8_t *)out5, (uint8_t *)out6};
    mcf_cut_parts(p, (const uint8_t *)input, parts);
}

void mcf_join8(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
               const void *in4, const void *in5, const void *in6, const void *in7, void *output)
{
    const uint8_t *const parts[8] = {(const uint8_t *)in0, (const uint8_t *)in1, (const uint8_t *)in2,
                                     (const uint8_t *)in3, (const uint8_t *)in4, (const uint8_t *)in5,
                                     (const uint8_t *)in6, (const uint8_t *)in7};
    mcf_join_parts(p, parts, (uint8_t *)output);
}

void mcf_cut8(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                void *out4, void *out5, void *out6, void *out7)
{
    uint8_t *const parts[8] = {(uint8_t *)out0, (uint8_t *)out1, (uint8_t *)out2, (uint8_t *)out3,
                               (uint8_t *)out4, (uint8_t *)out5, (uint8_t *)out6, (uint8_t *)out7};
    mcf_cut_parts(p, (const uint8_t *)input, parts);
}

void mcf_join9(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
               const void *in4, const void *in5, const void *in6, const void *in7, const void *in8,
               void *output)
{
    const uint8_t *const parts[9] = {(const uint8_t *)in0, (const uint8_t *)in1, (const uint8_t *)in2,
                                     (const uint8_t *)in3, (const uint8_t *)in4, (const uint8_t *)in5,
                                     (const uint8_t *)in6, (const uint8_t *)in7, (const uint8_t *)in8};
    mcf_join_parts(p, parts, (uint8_t *)output);
}

void mcf_cut9(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                void *out4, void *out5, void *out6, void *out7, void *out8)
{
    uint8_t *const parts[9] = {(uint8_t *)out0, (uint8_t *)out1, (uint8_t *)out2, (uint8_t *)out3,
                               (uint8_t *)out4, (uint8_t *)out5, (uint8_t *)out6, (uint8_t *)out7,
                               (uint8_t *)out8};
    mcf_cut_parts(p, (const uint8_t *)input, parts);
}

void mcf_join10(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
                const void *in4, const void *in5, const void *in6, const void *in7, const void *in8,
                const void *in9, void *output)
{
    const uint8_t *const parts[10] = {(const uint8_t *)in0, (const uint8_t *)in1, (const uint8_t *)in2,
                                      (const uint8_t *)in3, (const uint8_t *)in4, (const uint8_t *)in5,
                                      (const uint8_t *)in6, (const uint8_t *)in7, (const uint8_t *)in8,
                                      (const uint8_t *)in9};
    mcf_join_parts(p, parts, (uint8_t *)output);
}

void mcf_cut10(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                 void *out4, void *out5, void *out6, void *out7, void *out8, void *out9)
{
    uint8_t *const parts[10] = {(uint8_t *)out0, (uint8_t *)out1, (uint8_t *)out2, (uint8_t *)out3,
                                (uint8_t *)out4, (uint8_t *)out5, (uint8_t *)out6, (uint8_t *)out7,
                                (uint8_t *)out8, (uint8_t *)out9};
    mcf_cut_parts(p, (const uint8_t *)input, parts);
}

void mcf_join11(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
                const void *in4, const void *in5, const void *in6, const void *in7, const void *in8,
                const void *in9, const void *in10, void *output)
{
    const uint8_t *const parts[11] = {(const uint8_t *)in0, (const uint8_t *)in1, (const uint8_t *)in2,
                                      (const uint8_t *)in3, (const uint8_t *)in4, (const uint8_t *)in5,
                                      (const uint8_t *)in6, (const uint8_t *)in7, (const uint8_t *)in8,
                                      (const uint8_t *)in9, (const uint8_t *)in10};
    mcf_join_parts(p, parts, (uint8_t *)output);
}

void mcf_cut11(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                 void *out4, void *out5, void *out6, void *out7, void *out8, void *out9, void *out10)
{
    uint8_t *const parts[11] = {(uint8_t *)out0, (uint8_t *)out1, (uint8_t *)out2, (uint8_t *)out3,
                                (uint8_t *)out4, (uint8_t *)out5, (uint8_t *)out6, (uint8_t *)out7,
                                (uint8_t *)out8, (uint8_t *)out9, (uint8_t *)out10};
    mcf_cut_parts(p, (const uint8_t *)input, parts);
}

void mcf_join12(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
                const void *in4, const void *in5, const void *in6, const void *in7, const void *in8,
                const void *in9, const void *in10, const void *in11, void *output)
{
    const uint8_t *const parts[12] = {(const uint8_t *)in0, (const uint8_t *)in1, (const uint8_t *)in2,
                                      (const uint8_t *)in3, (const uint8_t *)in4, (const uint8_t *)in5,
                                      (const uint8_t *)in6, (const uint8_t *)in7, (const uint8_t *)in8,
                                      (const uint8_t *)in9, (const uint8_t *)in10, (const uint8_t *)in11};
    mcf_join_parts(p, parts, (uint8_t *)output);
}

void mcf_cut12(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                 void *out4, void *out5, void *out6, void *out7, void *out8, void *out9, void *out10,
                 void *out11)
{
    uint8_t *const parts[12] = {(uint8_t *)out0, (uint8_t *)out1, (uint8_t *)out2, (uint8_t *)out3,
                                (uint8_t *)out4, (uint8_t *)out5, (uint8_t *)out6, (uint8_t *)out7,
                                (uint8_t *)out8, (uint8_t *)out9, (uint8_t *)out10, (uint8_t *)out11};
    mcf_cut_parts(p, (const uint8_t *)input, parts);
}

void mcf_join13(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
                const void *in4, const void *in5, const void *in6, const void *in7, const void *in8,
                const void *in9, const void *in10, const void *in11, const void *in12, void *output)
{
    const uint8_t *const parts[13] = {(const uint8_t *)in0, (const uint8_t *)in1, (const uint8_t *)in2,
                                      (const uint8_t *)in3, (const uint8_t *)in4, (const uint8_t *)in5,
                                      (const uint8_t *)in6, (const uint8_t *)in7, (const uint8_t *)in8,
                                      (const uint8_t *)in9, (const uint8_t *)in10, (const uint8_t *)in11,
                                      (const uint8_t *)in12};
    mcf_join_parts(p, parts, (uint8_t *)output);
}

void mcf_cut13(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                 void *out4, void *out5, void *out6, void *out7, void *out8, void *out9, void *out10,
                 void *out11, void *out12)
{
    uint8_t *const parts[13] = {(uint8_t *)out0, (uint8_t *)out1, (uint8_t *)out2, (uint8_t *)out3,
                                (uint8_t *)out4, (uint8_t *)out5, (uint8_t *)out6, (uint8_t *)out7,
                                (uint8_t *)out8, (uint8_t *)out9, (uint8_t *)out10, (uint8_t *)out11,
                                (uint8_t *)out12};
    mcf_cut_parts(p, (const uint8_t *)input, parts);
}

void mcf_join14(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
                const void *in4, const void *in5, const void *in6, const void *in7, const void *in8,
                const void *in9, const void *in10, const void *in11, const void *in12, const void *in13,
                void *output)
{
    const uint8_t *const parts[14] = {(const uint8_t *)in0, (const uint8_t *)in1, (const uint8_t *)in2,
                                      (const uint8_t *)in3, (const uint8_t *)in4, (const uint8_t *)in5,
                                      (const uint8_t *)in6, (const uint8_t *)in7, (const uint8_t *)in8,
                                      (const uint8_t *)in9, (const uint8_t *)in10, (const uint8_t *)in11,
                                      (const uint8_t *)in12, (const uint8_t *)in13};
    mcf_join_parts(p, parts, (uint8_t *)output);
}

void mcf_cut14(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                 void *out4, void *out5, void *out6, void *out7, void *out8, void *out9, void *out10,
                 void *out11, void *out12, void *out13)
{
    uint8_t *const parts[14] = {(uint8_t *)out0, (uint8_t *)out1, (uint8_t *)out2, (uint8_t *)out3,
                                (uint8_t *)out4, (uint8_t *)out5, (uint8_t *)out6, (uint8_t *)out7,
                                (uint8_t *)out8, (uint8_t *)out9, (uint8_t *)out10, (uint8_t *)out11,
                                (uint8_t *)out12, (uint8_t *)out13};
    mcf_cut_parts(p, (const uint8_t *)input, parts);
}

void mcf_join15(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
                const void *in4, const void *in5, const void *in6, const void *in7, const void *in8,
                const void *in9, const void *in10, const void *in11, const void *in12, const void *in13,
                const void *in14, void *output)
{
    const uint8_t *const parts[15] = {(const uint8_t *)in0, (const uint8_t *)in1, (const uint8_t *)in2,
                                      (const uint8_t *)in3, (const uint8_t *)in4, (const uint8_t *)in5,
                                      (const uint8_t *)in6, (const uint8_t *)in7, (const uint8_t *)in8,
                                      (const uint8_t *)in9, (const uint8_t *)in10, (const uint8_t *)in11,
                                      (const uint8_t *)in12, (const uint8_t *)in13, (const uint8_t *)in14};
    mcf_join_parts(p, parts, (uint8_t *)output);
}

void mcf_cut15(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                 void *out4, void *out5, void *out6, void *out7, void *out8, void *out9, void *out10,
                 void *out11, void *out12, void *out13, void *out14)
{
    uint8_t *const parts[15] = {(uint8_t *)out0, (uint8_t *)out1, (uint8_t *)out2, (uint8_t *)out3,
                                (uint8_t *)out4, (uint8_t *)out5, (uint8_t *)out6, (uint8_t *)out7,
                                (uint8_t *)out8, (uint8_t *)out9, (uint8_t *)out10, (uint8_t *)out11,
                                (uint8_t *)out12, (uint8_t *)out13, (uint8_t *)out14};
    mcf_cut_parts(p, (const uint8_t *)input, parts);
}

void mcf_join16(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
                const void *in4, const void *in5, const void *in6, const void *in7, const void *in8,
                const void *in9, const void *in10, const void *in11, const void *in12, const void *in13,
                const void *in14, const void *in15, void *output)
{
    const uint8_t *const parts[16] = {(const uint8_t *)in0, (const uint8_t *)in1, (const uint8_t *)in2,
                                      (const uint8_t *)in3, (const uint8_t *)in4, (const uint8_t *)in5,
                                      (const uint8_t *)in6, (const uint8_t *)in7, (const uint8_t *)in8,
                                      (const uint8_t *)in9, (const uint8_t *)in10, (const uint8_t *)in11,
                                      (const uint8_t *)in12, (const uint8_t *)in13, (const uint8_t *)in14,
                                      (const uint8_t *)in15};
    mcf_join_parts(p, parts, (uint8_t *)output);
}

void mcf_cut16(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                 void *out4, void *out5, void *out6, void *out7, void *out8, void *out9, void *out10,
                 void *out11, void *out12, void *out13, void *out14, void *out15)
{
    uint8_t *const parts[16] = {(uint8_t *)out0, (uint8_t *)out1, (uint8_t *)out2, (uint8_t *)out3,
                                (uint8_t *)out4, (uint8_t *)out5, (uint8_t *)out6, (uint8_t *)out7,
                                (uint8_t *)out8, (uint8_t *)out9, (uint8_t *)out10, (uint8_t *)out11,
                                (uint8_t *)out12, (uint8_t *)out13, (uint8_t *)out14, (uint8_t *)out15};
    mcf_cut_parts(p, (const uint8_t *)input, parts);
}
