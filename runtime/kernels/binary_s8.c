/* binary_s8.c - int8 MAXIMUM, MINIMUM, PRELU, SQUARED_DIFFERENCE and DIV with broadcasting: one
 * row function per operator, walked over the merged loop dimensions the compiler described. */
#include "binary_s8.h"

#include "mcf_common.h"
#include "mcf_dsp.h"

/* n outputs of one innermost row; `a` and `b` advance by s1 / s2 (0 when broadcast). */
typedef void (*mcf_binary_row)(const void *p, const int8_t *a, int32_t s1, const int8_t *b,
                               int32_t s2, int8_t *out, int32_t n);

static void mcf_binary_walk(const void *p, mcf_binary_row row, int32_t ndims, const int32_t *dims,
                            const int32_t *stride1, const int32_t *stride2, const int8_t *input1,
                            const int8_t *input2, int8_t *output)
{
    const int32_t outer = ndims - 1;
    const int32_t n = dims[outer];
    int32_t idx[MCF_BCAST_MAX_DIMS];
    int32_t rows;
    int32_t off1 = 0;
    int32_t off2 = 0;
    int32_t r;
    rows = mcf_bcast_start(outer, dims, idx);
    for (r = 0; r < rows; ++r) {
        row(p, input1 + off1, stride1[outer], input2 + off2, stride2[outer], output, n);
        output += n;
        mcf_bcast_advance(outer, dims, stride1, stride2, idx, &off1, &off2);
    }
}

/* ---- MAXIMUM / MINIMUM ------------------------------------------------------------------ */

#if MCF_KERNELS_DSP
/* Rows whose inputs are both contiguous, or one of them a single value: four lanes per word.
 * Word i of the output is written after word i of the inputs is read (in place is safe).
 * Returns the number of elements done (a multiple of 4). */
static int32_t mcf_minmax_row4(int32_t want_max, const int8_t *a, int32_t s1, const int8_t *b,
                               int32_t s2, int8_t *out, int32_t n)
{
    const uint32_t a_splat = (uint32_t)(uint8_t)*a * 0x01010101u;
    const uint32_t b_splat = (uint32_t)(uint8_t)*b * 0x01010101u;
    const int32_t words = n >> 2;
    int32_t w;
    if ((s1 != 0 && s1 != 1) || (s2 != 0 && s2 != 1) || (s1 == 0 && s2 == 0)) {
        return 0;
    }
    for (w = 0; w < words; ++w) {
        const uint32_t x = s1 ? mcf_read_u32(a + 4 * w) : a_splat;
        const uint32_t y = s2 ? mcf_read_u32(b + 4 * w) : b_splat;
        mcf_write_u32(out + 4 * w, want_max ? mcf_max4_s8(x, y) : mcf_min4_s8(x, y));
    }
    return words << 2;
}
#endif

static void mcf_maximum_row(const void *p, const int8_t *a, int32_t s1, const int8_t *b, int32_t s2,
                            int8_t *out, int32_t n)
{
    int32_t i = 0;
    (void)p;
#if MCF_KERNELS_DSP
    i = mcf_minmax_row4(1, a, s1, b, s2, out, n);
    a += i * s1;
    b += i * s2;
#endif
    for (; i < n; ++i) {
        out[i] = *a > *b ? *a : *b;
        a += s1;
        b += s2;
    }
}

static void mcf_minimum_row(const void *p, const int8_t *a, int32_t s1, const int8_t *b, int32_t s2,
                            int8_t *out, int32_t n)
{
    int32_t i = 0;
    (void)p;
#if MCF_KERNELS_DSP
    i = mcf_minmax_row4(0, a, s1, b, s2, out, n);
    a += i * s1;
    b += i * s2;
#endif
    for (; i < n; ++i) {
        out[i] = *a < *b ? *a : *b;
        a += s1;
        b += s2;
    }
}

void mcf_maximum_s8(const mcf_minmax_params *p, const int8_t *input1, const int8_t *input2,
                    int8_t *output)
{
    mcf_binary_walk(p, mcf_maximum_row, p->ndims, p->dims, p->stride1, p->stride2, input1, input2,
                    output);
}

void mcf_minimum_s8(const mcf_minmax_params *p, const int8_t *input1, const int8_t *input2,
                    int8_t *output)
{
    mcf_binary_walk(p, mcf_minimum_row, p->ndims, p->dims, p->stride1, p->stride2, input1, input2,
                    output);
}

/* ---- PRELU ------------------------------------------------------------------------------ */

static void mcf_prelu_row(const void *params, const int8_t *a, int32_t s1, const int8_t *b,
                          int32_t s2, int8_t *out, int32_t n)
{
    const mcf_prelu_params *p = (const mcf_prelu_params *)params;
    const int32_t in_off = p->input_offset;
    const int32_t alpha_off = p->alpha_offset;
    const int32_t out_off = p->output_offset;
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t v = (int32_t)*a + in_off;
        /* |v| <= 255 and |alpha + alpha_offset| <= 255: the product fits easily */
        const int32_t y = v >= 0 ? mcf_requantize(v, p->multiplier_pos, p->shift_pos)
                                 : mcf_requantize(v * ((int32_t)*b + alpha_off), p->multiplier_neg,
                                                  p->shift_neg);
        out[i] = (int8_t)mcf_clamp(y + out_off, -128, 127);
        a += s1;
        b += s2;
    }
}

void mcf_prelu_s8(const mcf_prelu_params *p, const int8_t *input, const int8_t *alpha,
                  int8_t *output)
{
    mcf_binary_walk(p, mcf_prelu_row, p->ndims, p->dims, p->stride1, p->stride2, input, alpha,
                    output);
}

/* ---- SQUARED_DIFFERENCE ----------------------------------------------------------------- */

static void mcf_squared_difference_row(const void *params, const int8_t *a, int32_t s1,
                                       const int8_t *b, int32_t s2, int8_t *out, int32_t n)
{
    const mcf_squared_difference_params *p = (const mcf_squared_difference_params *)params;
    const int32_t left = p->left_shift;
    int32_t i;
    for (i = 0; i < n; ++i) {
        /* |x + offset| <= 255, shifted by 7: below 2^15; scaled by a multiplier <= 1/2 */
        const int32_t va = mcf_requantize(((int32_t)*a + p->input1_offset) * ((int32_t)1 << left),
                                          p->input1_multiplier, p->input1_shift);
        const int32_t vb = mcf_requantize(((int32_t)*b + p->input2_offset) * ((int32_t)1 << left),
                                          p->input2_multiplier, p->input2_shift);
        const int32_t diff = va - vb; /* |diff| < 2^15: its square fits */
        const int32_t y =
            mcf_requantize(diff * diff, p->output_multiplier, p->output_shift) + p->output_offset;
        out[i] = (int8_t)mcf_clamp(y, p->act_min, p->act_max);
        a += s1;
        b += s2;
    }
}

void mcf_squared_difference_s8(const mcf_squared_difference_params *p, const int8_t *input1,
                               const int8_t *input2, int8_t *output)
{
    mcf_binary_walk(p, mcf_squared_difference_row, p->ndims, p->dims, p->stride1, p->stride2, input1,
                    input2, output);
}

/* ---- DIV -------------------------------------------------------------------------------- */

/* Number of bits below the sign bit that equal it (31 for 0 and -1). */
static inline int32_t mcf_leading_sign_bits(int32_t x)
{
    uint32_t u = x < 0 ? ~(uint32_t)x : (uint32_t)x;
    int32_t n = 0;
    if (u == 0u) {
        return 31;
    }
#if defined(__GNUC__)
    n = (int32_t)__builtin_clz(u);
#else
    while ((u & 0x80000000u) == 0u) {
        u <<= 1;
        ++n;
    }
#endif
    return n - 1;
}

/* Rounding right shift by e. For 0 <= e <= 31 it is mcf_rounding_divide_by_pot. TFLite Micro's
 * DIV can ask for shifts outside that range (undefined in C++); the interpreter it is checked
 * against (x86-64) then computes the rounding mask as the low 32 bits of (2^(e mod 64) - 1) in
 * 64 bits and shifts by e mod 32. The same is done here, explicitly, so results match. */
static inline int32_t mcf_div_shift(int32_t x, int32_t e)
{
    uint32_t mask;
    int32_t threshold;
    if (MCF_LIKELY((uint32_t)e <= 31u)) {
        return mcf_rounding_divide_by_pot(x, e);
    }
    mask = (uint32_t)(((uint64_t)1 << ((uint32_t)e & 63u)) - 1u);
    threshold = ((int32_t)mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> ((uint32_t)e & 31u)) + (((int32_t)((uint32_t)x & mask)) > threshold ? 1 : 0);
}

static void mcf_div_row(const void *params, const int8_t *a, int32_t s1, const int8_t *b, int32_t s2,
                        int8_t *out, int32_t n)
{
    const mcf_div_params *p = (const mcf_div_params *)params;
    int32_t i;
    for (i = 0; i < n; ++i) {
        const uint8_t k = (uint8_t)*b;
        const int32_t v = (int32_t)*a + p->input1_offset;
        const int32_t v1 = p->negate[k] ? -v : v;
        const int32_t headroom = mcf_leading_sign_bits(v1); /* v1 << headroom keeps its sign */
        const int32_t quotient =
            mcf_sat_round_doubling_high_mul((int32_t)((uint32_t)v1 << headroom), p->reciprocal[k]);
        const int32_t y =
            mcf_div_shift(mcf_sat_round_doubling_high_mul(quotient, p->output_multiplier),
                          headroom + p->exponent[k]) +
            p->output_offset;
        out[i] = (int8_t)mcf_clamp(y, p->act_min, p->act_max);
        a += s1;
        b += s2;
    }
}

void mcf_div_s8(const mcf_div_params *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    mcf_binary_walk(p, mcf_div_row, p->ndims, p->dims, p->stride1, p->stride2, input1, input2,
                    output);
}
