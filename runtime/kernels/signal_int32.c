/* signal_int32.c - see signal_int32.h. */
#include "signal_int32.h"

#define MCF_I32_LOOP(expr)                                         \
    do {                                                           \
        const int32_t sa = p->a_step, sb = p->b_step;              \
        for (int32_t i = 0; i < p->count; ++i) {                   \
            const int32_t x = *a, y = *b;                          \
            out[i] = (expr);                                       \
            a += sa;                                               \
            b += sb;                                               \
        }                                                          \
    } while (0)

void mcf_i32_add(const mcf_i32_params *p, const int32_t *a, const int32_t *b, int32_t *out) {
    MCF_I32_LOOP((int32_t)((uint32_t)x + (uint32_t)y));
}

void mcf_i32_sub(const mcf_i32_params *p, const int32_t *a, const int32_t *b, int32_t *out) {
    MCF_I32_LOOP((int32_t)((uint32_t)x - (uint32_t)y));
}

void mcf_i32_mul(const mcf_i32_params *p, const int32_t *a, const int32_t *b, int32_t *out) {
    MCF_I32_LOOP((int32_t)((uint32_t)x * (uint32_t)y));
}

void mcf_i32_min(const mcf_i32_params *p, const int32_t *a, const int32_t *b, int32_t *out) {
    MCF_I32_LOOP(x < y ? x : y);
}

void mcf_i32_max(const mcf_i32_params *p, const int32_t *a, const int32_t *b, int32_t *out) {
    MCF_I32_LOOP(x > y ? x : y);
}

void mcf_i32_div_const(const mcf_i32_params *p, const int32_t *a, const int32_t *b, int32_t *out) {
    (void)b;
    for (int32_t i = 0; i < p->count; ++i) {
        const int32_t n = *a;
        const uint32_t mag = n < 0 ? 0u - (uint32_t)n : (uint32_t)n;
        const uint32_t q = (uint32_t)(((uint64_t)mag * p->magic) >> p->shift);
        out[i] = (int32_t)(((n < 0) != (p->negative != 0)) ? 0u - q : q);
        a += p->a_step;
    }
}
