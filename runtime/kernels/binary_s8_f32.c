/*
 * binary_s8_f32.c - int8 ADD, SUB and MUL with onnxruntime's float32 arithmetic, broadcasting as
 * the compiler merged it (the innermost loop is a row; the outer ones an odometer, mcf_bcast_advance).
 *
 * onnxruntime walks broadcasts in spans, and its QLinearAdd kernel folds an input that is constant
 * along a span into the additive constant before the loop, so a row where one input stays put
 * computes with different roundings from a row where both move: the row function follows it.
 */
#include "binary_s8_f32.h"

#include "mcf_common.h"

#define MCF_BIN_ADD 0
#define MCF_BIN_SUB 1
#define MCF_BIN_MUL 2
#define MCF_BIN_FLOAT 4 /* or-ed in: the float operator (mcf_float_row) */

/* The raw result (rounded half to even, saturated to the raw type) as clamped int8. */
static int8_t mcf_bin_out(const mcf_binary_f32_params *p, float v)
{
    const int32_t raw = mcf_clamp(mcf_round_f32(v), p->raw_min, p->raw_max);
    return (int8_t)mcf_clamp(raw + p->out_offset, p->act_min, p->act_max);
}

#if MCF_REQUANT_F32_SOFT
/* QLinearAdd's formula for one pair of raw values, rounded (the fixed-point route's rare leftovers). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((cold))
#endif
static MCF_NOINLINE int32_t mcf_bin_add_exact(const mcf_binary_f32_params *p, int32_t va, int32_t vb)
{
    return mcf_round_f32(mcf_fma_small_f32(va, p->ratio1, mcf_fma_small_f32(vb, p->ratio2, p->fixed)));
}
#endif

static void mcf_add_row(const mcf_binary_f32_params *p, const int8_t *a, int32_t s1, const int8_t *b, int32_t s2,
                        int8_t *out, int32_t n)
{
    const int32_t o1 = p->input1_offset, o2 = p->input2_offset;
    const float r1 = p->ratio1, r2 = p->ratio2;
    int32_t i;
    if (s1 == 0) { /* input1 constant along the row: onnxruntime's scalar-A span */
        const float k = mcf_mul_then_add_f32((float)(*a + o1), r1, p->fixed);
        for (i = 0; i < n; ++i) {
            out[i] = mcf_bin_out(p, mcf_fma_small_f32(*b + o2, r2, k));
            b += s2;
        }
    } else if (s2 == 0) {
        const float k = mcf_mul_then_add_f32((float)(*b + o2), r2, p->fixed);
        for (i = 0; i < n; ++i) {
            out[i] = mcf_bin_out(p, mcf_fma_small_f32(*a + o1, r1, k));
            a += s1;
        }
    } else {
#if MCF_REQUANT_F32_SOFT
        /* Without an FPU, where the compiler could: add_s8.c's fixed-point route (mcf_add_row_f32) on
         * the raw values (|a + o1| <= 255: R1 and R2 contribute 127.5 units each, the error stays
         * below 384 of the 512 units' margin), the float32 formula for the outputs it leaves. */
        const int32_t f = p->fx_shift;
        if (f != 0) {
            const int32_t m1 = p->fx_ratio1, m2 = p->fx_ratio2, kk = p->fx_fixed;
            const int32_t raw_min = p->raw_min, raw_max = p->raw_max, offset = p->out_offset;
            const int32_t act_min = p->act_min, act_max = p->act_max;
            const uint32_t near = (uint32_t)1024 << (32 - f);
            for (i = 0; i < n; ++i) {
                const int32_t va = *a + o1, vb = *b + o2;
                const int32_t g = va * m1 + vb * m2 + kk;
                const int32_t v = MCF_LIKELY(((uint32_t)g << (32 - f)) >= near) ? g >> f
                                                                                 : mcf_bin_add_exact(p, va, vb);
                out[i] = (int8_t)mcf_clamp(mcf_clamp(v, raw_min, raw_max) + offset, act_min, act_max);
                a += s1;
                b += s2;
            }
            return;
        }
#endif
        for (i = 0; i < n; ++i) {
            out[i] = mcf_bin_out(p, mcf_fma_small_f32(*a + o1, r1, mcf_fma_small_f32(*b + o2, r2, p->fixed)));
            a += s1;
            b += s2;
        }
    }
}

/* The float operator between DequantizeLinear and QuantizeLinear (SUB always; ADD and MUL where
 * onnxruntime does not fuse them), on one pair: dequantized by table, one float32 operation,
 * QuantizeLinear's division, rounding, then the zero point as an integer. */
static MCF_ALWAYS_INLINE int8_t mcf_float_pair(const mcf_binary_f32_params *p, int32_t kind, int8_t a, int8_t b)
{
    const float fa = p->dequant1[(uint8_t)a];
    const float fb = p->dequant2[(uint8_t)b];
    const float v = (kind == MCF_BIN_SUB ? fa - fb : (kind == MCF_BIN_ADD ? fa + fb : fa * fb)) / p->out_scale;
    return (int8_t)mcf_clamp(mcf_clamp(mcf_round_f32(v) + p->out_zero_point, -128, 127), p->act_min, p->act_max);
}

#if MCF_REQUANT_F32_SOFT
#if defined(__GNUC__) || defined(__clang__)
__attribute__((cold))
#endif
static MCF_NOINLINE int8_t mcf_float_one(const mcf_binary_f32_params *p, int32_t kind, int8_t a, int8_t b)
{
    return mcf_float_pair(p, kind, a, b);
}

/* The float operator's output from its fixed-point value t (binary_s8_f32.h: fx_*), or the float32
 * formula where t is within fx_margin of a rounding boundary and the two candidates differ. */
static MCF_ALWAYS_INLINE int8_t mcf_float_screened(const mcf_binary_f32_params *p, int32_t kind, int64_t t,
                                                   int8_t a, int8_t b)
{
    const int32_t f = p->fx_shift, zp = p->out_zero_point;
    const uint32_t frac = (uint32_t)t & ((1u << f) - 1u), margin = p->fx_margin;
    const int32_t q = (int32_t)(t >> f); /* floor */
    const int32_t v = mcf_clamp(mcf_clamp(q + zp, -128, 127), p->act_min, p->act_max);
    if (MCF_LIKELY(frac > margin && frac < (1u << f) - margin)) {
        return (int8_t)v;
    }
    if (v == mcf_clamp(mcf_clamp(q + (frac <= margin ? -1 : 1) + zp, -128, 127), p->act_min, p->act_max)) {
        return (int8_t)v;
    }
    return mcf_float_one(p, kind, a, b);
}
#endif

static void mcf_float_row(const mcf_binary_f32_params *p, int32_t kind, const int8_t *a, int32_t s1, const int8_t *b,
                          int32_t s2, int8_t *out, int32_t n)
{
    int32_t i;
#if MCF_REQUANT_F32_SOFT
    /* Without an FPU, where the compiler could (float_requant.float_row_constants): the exact value
     * in fixed point, the float32 formula only next to a rounding boundary. */
    if (p->fx_shift != 0) {
        const int64_t k = (int64_t)(((uint64_t)(uint32_t)p->fx_fixed_hi << 32) | (uint32_t)p->fx_fixed);
        const int32_t r1 = p->fx_ratio1, r2 = p->fx_ratio2, o1 = p->input1_offset, o2 = p->input2_offset;
        for (i = 0; i < n; ++i) {
            const int64_t t = kind == MCF_BIN_MUL ? (int64_t)(((int32_t)*a + o1) * ((int32_t)*b + o2)) * r1 + k
                                                  : (int64_t)*a * r1 + (int64_t)*b * r2 + k;
            out[i] = mcf_float_screened(p, kind, t, *a, *b);
            a += s1;
            b += s2;
        }
        return;
    }
#endif
    for (i = 0; i < n; ++i) {
        out[i] = mcf_float_pair(p, kind, *a, *b);
        a += s1;
        b += s2;
    }
}

#if MCF_REQUANT_F32_SOFT
/* QLinearMul's formula for one product, rounded (the fixed-point route's rare leftovers). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((cold))
#endif
static MCF_NOINLINE int32_t mcf_bin_mul_exact(const mcf_binary_f32_params *p, int32_t prod)
{
    return mcf_round_f32(mcf_mul_then_add_f32((float)prod, p->ratio1, p->fixed));
}
#endif

static void mcf_mul_row(const mcf_binary_f32_params *p, const int8_t *a, int32_t s1, const int8_t *b, int32_t s2,
                        int8_t *out, int32_t n)
{
    int32_t i;
#if MCF_REQUANT_F32_SOFT
    /* Without an FPU, where the compiler could (0 < ratio < 1/2; float_requant.mul_soft_constants):
     * g = prod * M + (zp + 1/2 + 2^-14) * 2^32 in 64 bits, M = ratio * 2^32 rounded. Where the
     * result is not saturated (|prod * ratio| and |the sum| below 512), M's rounding (2^-17 with
     * |prod| <= 65025) and float32's two roundings (2^-16 + 2^-17) move the sum by less than 2^-14,
     * so g's high word is the rounded result whenever its low word is at least 2^-13 (no tie and no
     * boundary within reach); elsewhere the float32 formula decides. Saturated results saturate alike. */
    if (p->fx_shift == 32) {
        const int32_t m = p->fx_ratio1, o1 = p->input1_offset, o2 = p->input2_offset;
        const int64_t k = (int64_t)((uint64_t)(uint32_t)p->fx_fixed << 32) + 0x80040000;
        const int32_t raw_min = p->raw_min, raw_max = p->raw_max, offset = p->out_offset;
        const int32_t act_min = p->act_min, act_max = p->act_max;
        for (i = 0; i < n; ++i) {
            const int32_t prod = ((int32_t)*a + o1) * ((int32_t)*b + o2);
            const int64_t g = (int64_t)prod * m + k;
            const int32_t v = MCF_LIKELY((uint32_t)g >= 0x80000u) ? (int32_t)(g >> 32) : mcf_bin_mul_exact(p, prod);
            out[i] = (int8_t)mcf_clamp(mcf_clamp(v, raw_min, raw_max) + offset, act_min, act_max);
            a += s1;
            b += s2;
        }
        return;
    }
#endif
    for (i = 0; i < n; ++i) {
        /* |x - zero point| <= 255 for each factor: the product is exact in int32 and in float32 */
        const int32_t prod = ((int32_t)*a + p->input1_offset) * ((int32_t)*b + p->input2_offset);
        out[i] = mcf_bin_out(p, mcf_mul_then_add_f32((float)prod, p->ratio1, p->fixed));
        a += s1;
        b += s2;
    }
}

static void mcf_binary_f32(const mcf_binary_f32_params *p, int32_t kind, const int8_t *input1,
                           const int8_t *input2, int8_t *output)
{
    const int32_t outer = p->ndims - 1;
    const int32_t n = p->dims[outer];
    const int32_t s1 = p->stride1[outer];
    const int32_t s2 = p->stride2[outer];
    int32_t idx[MCF_BCAST_MAX_DIMS];
    int32_t rows;
    int32_t off1 = 0;
    int32_t off2 = 0;
    int32_t r;
    rows = mcf_bcast_start(outer, p->dims, idx);
    for (r = 0; r < rows; ++r) {
        if (kind & MCF_BIN_FLOAT) {
            mcf_float_row(p, kind & 3, input1 + off1, s1, input2 + off2, s2, output, n);
        } else if (kind == MCF_BIN_ADD) {
            mcf_add_row(p, input1 + off1, s1, input2 + off2, s2, output, n);
        } else {
            mcf_mul_row(p, input1 + off1, s1, input2 + off2, s2, output, n);
        }
        output += n;
        mcf_bcast_advance(outer, p->dims, p->stride1, p->stride2, idx, &off1, &off2);
    }
}

void mcf_add_s8_f32_ort(const mcf_binary_f32_params *p, const int8_t *input1, const int8_t *input2,
                        int8_t *output)
{
    mcf_binary_f32(p, MCF_BIN_ADD, input1, input2, output);
}

void mcf_sub_s8_f32_ort(const mcf_binary_f32_params *p, const int8_t *input1, const int8_t *input2,
                        int8_t *output)
{
    mcf_binary_f32(p, MCF_BIN_SUB | MCF_BIN_FLOAT, input1, input2, output);
}

void mcf_add_s8_f32_dq(const mcf_binary_f32_params *p, const int8_t *input1, const int8_t *input2,
                       int8_t *output)
{
    mcf_binary_f32(p, MCF_BIN_ADD | MCF_BIN_FLOAT, input1, input2, output);
}

void mcf_mul_s8_f32_dq(const mcf_binary_f32_params *p, const int8_t *input1, const int8_t *input2,
                       int8_t *output)
{
    mcf_binary_f32(p, MCF_BIN_MUL | MCF_BIN_FLOAT, input1, input2, output);
}

void mcf_mul_s8_f32_ort(const mcf_binary_f32_params *p, const int8_t *input1, const int8_t *input2,
                        int8_t *output)
{
    mcf_binary_f32(p, MCF_BIN_MUL, input1, input2, output);
}
