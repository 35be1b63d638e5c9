/* signal_int32.h - plain int32 arithmetic (TFLite ADD, SUB, MUL, DIV, MINIMUM, MAXIMUM on unquantized
 * int32 tensors), as the audio preprocessor uses after its signal operators. Each operand is the
 * output's shape (step 1) or one value (step 0). Sums and products wrap modulo 2^32. */
#ifndef MCF_SIGNAL_INT32_H
#define MCF_SIGNAL_INT32_H

#include <stdint.h>

typedef struct {
    int32_t count;
    int32_t a_step;
    int32_t b_step;
    uint32_t magic;   /* DIV: reciprocal of |divisor| (generator/ops/signal_int32.py) */
    int32_t shift;    /* DIV: trunc(|n| / |d|) = (|n| * magic) >> shift */
    int32_t negative; /* DIV: the divisor is negative */
} mcf_i32_params;

void mcf_i32_add(const mcf_i32_params *p, const int32_t *a, const int32_t *b, int32_t *out);
void mcf_i32_sub(const mcf_i32_params *p, const int32_t *a, const int32_t *b, int32_t *out);
void mcf_i32_mul(const mcf_i32_params *p, const int32_t *a, const int32_t *b, int32_t *out);
void mcf_i32_min(const mcf_i32_params *p, const int32_t *a, const int32_t *b, int32_t *out);
void mcf_i32_max(const mcf_i32_params *p, const int32_t *a, const int32_t *b, int32_t *out);
/** out = a / divisor truncated toward zero; b (the constant divisor) is not read. */
void mcf_i32_div_const(const mcf_i32_params *p, const int32_t *a, const int32_t *b, int32_t *out);

#endif /* MCF_SIGNAL_INT32_H */
