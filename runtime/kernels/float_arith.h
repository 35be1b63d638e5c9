/* float_arith.h - the float32 tail some integer models end with: CAST of an integer tensor to
 * float32, then ADD / SUB / MUL on float32 (e.g. a scale applied to int16 features). TFLite Micro
 * computes these in float32 with its fused activation's clamp; so do these loops (no contraction:
 * one operation per element, then the clamp). Each operand is the output's shape, one value, or the
 * output's trailing dimensions (repeated over the leading ones). */
#ifndef MCF_FLOAT_ARITH_H
#define MCF_FLOAT_ARITH_H

#include <stdint.h>

typedef struct {
    int32_t count;
    int32_t a_period; /**< operand a repeats every a_period outputs (its size) */
    int32_t b_period;
    float act_min; /**< the fused activation's range; -FLT_MAX..FLT_MAX without one */
    float act_max;
} mcf_f32_binary_params;

void mcf_f32_add(const mcf_f32_binary_params *p, const float *a, const float *b, float *out);
void mcf_f32_sub(const mcf_f32_binary_params *p, const float *a, const float *b, float *out);
void mcf_f32_mul(const mcf_f32_binary_params *p, const float *a, const float *b, float *out);

/** Integer element types by their byte size, negated (signed): int8 -1, int16 -2, int32 -4. */
typedef struct {
    int32_t count;
    int32_t from;
} mcf_cast_f32_params;

/** Each integer value converted to float32 as C converts it (int32: round to nearest even). */
void mcf_cast_to_f32(const mcf_cast_f32_params *p, const void *input, float *output);

typedef struct {
    int32_t rows;
    int32_t depth; /**< values per row (the last dimension) */
} mcf_f32_rows_params;

/** LOG_SOFTMAX of each row as TFLite's float32 reference computes it: the row's maximum m, the float32
 *  sum s of expf(x - m) in order, then x - m - logf(s). Bit-identical to TFLite Micro where both use
 *  the same expf and logf (the same C library). */
void mcf_f32_log_softmax(const mcf_f32_rows_params *p, const float *input, float *output);

typedef struct {
    int32_t rows;
    int32_t depth;
    float beta;
} mcf_f32_softmax_params;

/** SOFTMAX of each row as TFLite's float32 reference: e = expf((x - max) * beta), summed in order
 *  in float32, then each e divided by the sum (a division, as TFLite Micro: a reciprocal would
 *  round differently). Bit-identical to TFLite Micro where both use the same expf. */
void mcf_f32_softmax(const mcf_f32_softmax_params *p, const float *input, float *output);

#endif /* MCF_FLOAT_ARITH_H */
