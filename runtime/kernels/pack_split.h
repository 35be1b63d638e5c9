/* pack_split.h - PACK, SPLIT, SPLIT_V and UNPACK: a tensor cut into, or joined from, parts. */
#ifndef MCF_PACK_SPLIT_H
#define MCF_PACK_SPLIT_H

#include <stdint.h>

#define MCF_PARTS_MAX 16

/**
 * The whole tensor is `outer` repetitions of: part 0's size[0] bytes, part 1's size[1] bytes, ...
 * Each part is contiguous on its own (repetition r of part k starts at r * size[k]).
 * PACK joins the parts into the whole; SPLIT, SPLIT_V and UNPACK cut the whole into the parts.
 */
typedef struct {
    int32_t outer;               /**< repetitions */
    int32_t num_parts;           /**< 1 .. MCF_PARTS_MAX */
    int32_t size[MCF_PARTS_MAX]; /**< bytes of part k per repetition; unused: 0 */
} mcf_parts_params;

/** Writes the whole tensor `output` from parts[0 .. num_parts-1]. */
void mcf_join_parts(const mcf_parts_params *p, const uint8_t *const *parts, uint8_t *output);
/** Writes parts[0 .. num_parts-1] from the whole tensor `input`. */
void mcf_cut_parts(const mcf_parts_params *p, const uint8_t *input, uint8_t *const *parts);

/* Fixed-arity entry points, so generated code passes each part as its own argument. */
void mcf_join1(const mcf_parts_params *p, const void *in0, void *output);
void mcf_cut1(const mcf_parts_params *p, const void *input, void *out0);
void mcf_join2(const mcf_parts_params *p, const void *in0, const void *in1, void *output);
void mcf_cut2(const mcf_parts_params *p, const void *input, void *out0, void *out1);
void mcf_join3(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, void *output);
void mcf_cut3(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2);
void mcf_join4(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
               void *output);
void mcf_cut4(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3);
void mcf_join5(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
               const void *in4, void *output);
void mcf_cut5(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                void *out4);
void mcf_join6(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
               const void *in4, const void *in5, void *output);
void mcf_cut6(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                void *out4, void *out5);
void mcf_join7(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
               const void *in4, const void *in5, const void *in6, void *output);
void mcf_cut7(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                void *out4, void *out5, void *out6);
void mcf_join8(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
               const void *in4, const void *in5, const void *in6, const void *in7, void *output);
void mcf_cut8(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                void *out4, void *out5, void *out6, void *out7);
void mcf_join9(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
               const void *in4, const void *in5, const void *in6, const void *in7, const void *in8,
               void *output);
void mcf_cut9(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                void *out4, void *out5, void *out6, void *out7, void *out8);
void mcf_join10(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
                const void *in4, const void *in5, const void *in6, const void *in7, const void *in8,
                const void *in9, void *output);
void mcf_cut10(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                 void *out4, void *out5, void *out6, void *out7, void *out8, void *out9);
void mcf_join11(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
                const void *in4, const void *in5, const void *in6, const void *in7, const void *in8,
                const void *in9, const void *in10, void *output);
void mcf_cut11(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                 void *out4, void *out5, void *out6, void *out7, void *out8, void *out9, void *out10);
void mcf_join12(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
                const void *in4, const void *in5, const void *in6, const void *in7, const void *in8,
                const void *in9, const void *in10, const void *in11, void *output);
void mcf_cut12(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                 void *out4, void *out5, void *out6, void *out7, void *out8, void *out9, void *out10,
                 void *out11);
void mcf_join13(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
                const void *in4, const void *in5, const void *in6, const void *in7, const void *in8,
                const void *in9, const void *in10, const void *in11, const void *in12, void *output);
void mcf_cut13(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                 void *out4, void *out5, void *out6, void *out7, void *out8, void *out9, void *out10,
                 void *out11, void *out12);
void mcf_join14(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
                const void *in4, const void *in5, const void *in6, const void *in7, const void *in8,
                const void *in9, const void *in10, const void *in11, const void *in12, const void *in13,
                void *output);
void mcf_cut14(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                 void *out4, void *out5, void *out6, void *out7, void *out8, void *out9, void *out10,
                 void *out11, void *out12, void *out13);
void mcf_join15(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
                const void *in4, const void *in5, const void *in6, const void *in7, const void *in8,
                const void *in9, const void *in10, const void *in11, const void *in12, const void *in13,
                const void *in14, void *output);
void mcf_cut15(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                 void *out4, void *out5, void *out6, void *out7, void *out8, void *out9, void *out10,
                 void *out11, void *out12, void *out13, void *out14);
void mcf_join16(const mcf_parts_params *p, const void *in0, const void *in1, const void *in2, const void *in3,
                const void *in4, const void *in5, const void *in6, const void *in7, const void *in8,
                const void *in9, const void *in10, const void *in11, const void *in12, const void *in13,
                const void *in14, const void *in15, void *output);
void mcf_cut16(const mcf_parts_params *p, const void *input, void *out0, void *out1, void *out2, void *out3,
                 void *out4, void *out5, void *out6, void *out7, void *out8, void *out9, void *out10,
                 void *out11, void *out12, void *out13, void *out14, void *out15);

#endif /* MCF_PACK_SPLIT_H */
