/* concat_s8.h - int8 concatenation along any axis (TFLite CONCATENATION). */
#ifndef MCF_CONCAT_S8_H
#define MCF_CONCAT_S8_H

#include <stdint.h>

#define MCF_CONCAT_MAX_INPUTS 10 /* TFLite Micro's limit too */

/**
 * A row-major tensor concatenated along `axis` is, for each of the `outer` combinations of the
 * dimensions before the axis, input 0's slice, then input 1's slice, ...; slice i is
 * size[i] = dims_i[axis] * (product of the dimensions after the axis) bytes.
 * The inputs and the output share one quantization, so bytes are copied unchanged.
 */
typedef struct {
    int32_t outer;                        /**< product of the dimensions before the axis */
    int32_t num_inputs;                   /**< 1 .. MCF_CONCAT_MAX_INPUTS */
    int32_t size[MCF_CONCAT_MAX_INPUTS];  /**< bytes of input i per outer step; unused: 0 */
} mcf_concat_params;

/** Concatenates inputs[0 .. num_inputs-1] into output. */
void mcf_concat_s8(const mcf_concat_params *p, const int8_t *const *inputs, int8_t *output);

/* Fixed-arity entry points, so generated code can pass each input tensor as its own argument. */
void mcf_concat1_s8(const mcf_concat_params *p, const int8_t *in0, int8_t *output);
void mcf_concat2_s8(const mcf_concat_params *p, const int8_t *in0, const int8_t *in1, int8_t *output);
void mcf_concat3_s8(const mcf_concat_params *p, const int8_t *in0, const int8_t *in1, const int8_t *in2,
                    int8_t *output);
void mcf_concat4_s8(const mcf_concat_params *p, const int8_t *in0, const int8_t *in1, const int8_t *in2,
                    const int8_t *in3, int8_t *output);
void mcf_concat5_s8(const mcf_concat_params *p, const int8_t *in0, const int8_t *in1, const int8_t *in2,
                    const int8_t *in3, const int8_t *in4, int8_t *output);
void mcf_concat6_s8(const mcf_concat_params *p, const int8_t *in0, const int8_t *in1, const int8_t *in2,
                    const int8_t *in3, const int8_t *in4, const int8_t *in5, int8_t *output);
void mcf_concat7_s8(const mcf_concat_params *p, const int8_t *in0, const int8_t *in1, const int8_t *in2,
                    const int8_t *in3, const int8_t *in4, const int8_t *in5, const int8_t *in6,
                    int8_t *output);
void mcf_concat8_s8(const mcf_concat_params *p, const int8_t *in0, const int8_t *in1, const int8_t *in2,
                    const int8_t *in3, const int8_t *in4, const int8_t *in5, const int8_t *in6,
                    const int8_t *in7, int8_t *output);
void mcf_concat9_s8(const mcf_concat_params *p, const int8_t *in0, const int8_t *in1, const int8_t *in2,
                    const int8_t *in3, const int8_t *in4, const int8_t *in5, const int8_t *in6,
                    const int8_t *in7, const int8_t *in8, int8_t *output);
void mcf_concat10_s8(const mcf_concat_params *p, const int8_t *in0, const int8_t *in1, const int8_t *in2,
                     const int8_t *in3, const int8_t *in4, const int8_t *in5, const int8_t *in6,
                     const int8_t *in7, const int8_t *in8, const int8_t *in9, int8_t *output);

#endif /* MCF_CONCAT_S8_H */
