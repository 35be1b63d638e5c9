/* add_s8.c - int8 elementwise ADD / SUB with broadcasting: the reference row loop, and a fast
 * row loop with the three rescalings' constants computed once per call. */
#include "add_s8.h"

#include "mcf_common.h"
#include "mcf_dsp.h"

#if MCF_REQUANT_F32
/*
 * onnxruntime's QLinearAdd (its AVX2 kernel, both inputs full tensors): with r1 = scale1 / out_scale,
 * r2 = scale2 / out_scale and k = out_zp - (r1 * zp1 + r2 * zp2), all float32,
 * out = sat(rne(fma(a, r1, fma(b, r2, k)))) on the raw int8 values a, b. The lowering stores r1, r2
 * and k as float bits in input1_multiplier, input2_multiplier and output_multiplier (add_s8_f32.h).
 * SUB has no integer kernel in onnxruntime: mcf_sub_s8_f32 is never chosen.
 */
#if MCF_REQUANT_F32_SOFT
/* The float32 formula for one pair (the rare outputs the fixed-point route below cannot decide). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((cold))
#endif
static MCF_NOINLINE int32_t mcf_add_f32_exact(const mcf_add_params *p, int32_t a, int32_t b)
{
    const float r1 = mcf_f32_from_bits(p->input1_multiplier);
    const float r2 = mcf_f32_from_bits(p->input2_multiplier);
    const float k = mcf_f32_from_bits(p->output_multiplier);
    return mcf_round_f32(mcf_fma_small_f32(a, r1, mcf_fma_small_f32(b, r2, k)));
}
#endif

static void mcf_add_row_f32(const mcf_add_params *p, const int8_t *a, int32_t s1, const int8_t *b, int32_t s2,
                            int8_t *out, int32_t n)
{
    const float r1 = mcf_f32_from_bits(p->input1_multiplier);
    const float r2 = mcf_f32_from_bits(p->input2_multiplier);
    const float k = mcf_f32_from_bits(p->output_multiplier);
    const int32_t act_min = p->act_min, act_max = p->act_max;
    int32_t i;
#if MCF_REQUANT_F32_SOFT
    /*
     * Without an FPU, where the compiler could (left_shift = F, 12..28; else 0): in fixed point with F
     * fraction bits, g = a * R1 + b * R2 + K' with R1, R2 the scales r1, r2 and K' = k + 1/2 + 512
     * units, each rounded to the unit (input1_shift, input2_shift, output_shift;
     * float_requant.add_soft_constants). g is within 256.5 units of (the float32 result + 1/2 + 512
     * units): 64 each from R1 and R2 (|a|, |b| <= 128), 64 each from the two float32 roundings (every
     * value below 2^(30 - F) in magnitude), 1/2 from K'. Where g's fraction is at least 1024 units,
     * g >> F is then the float32 result rounded half to even (no tie, no rounding boundary between);
     * elsewhere (a share of 2^(10 - F)) the float32 formula decides.
     */
    const int32_t f = p->left_shift;
    if (f != 0) {
        const int32_t m1 = p->input1_shift, m2 = p->input2_shift, kk = p->output_shift;
        const uint32_t near = (uint32_t)1024 << (32 - f);
        for (i = 0; i < n; ++i) {
            const int32_t va = *a, vb = *b;
            const int32_t g = va * m1 + vb * m2 + kk;
            const int32_t v = MCF_LIKELY(((uint32_t)g << (32 - f)) >= near) ? g >> f : mcf_add_f32_exact(p, va, vb);
            out[i] = (int8_t)mcf_clamp(v, act_min, act_max);
            a += s1;
            b += s2;
        }
        return;
    }
#endif
    for (i = 0; i < n; ++i) {
        const float v = mcf_fma_small_f32(*a, r1, mcf_fma_small_f32(*b, r2, k));
        out[i] = (int8_t)mcf_clamp(mcf_round_f32(v), act_min, act_max);
        a += s1;
        b += s2;
    }
}

#elif !MCF_KERNELS_FAST
/* One input value on the common scale: (x - zero point) * 2^left_shift, then scaled below one. */
static inline int32_t mcf_add_scale_input(int32_t x, int32_t offset, int32_t left_shift,
                                          int32_t multiplier, int32_t shift)
{
    /* |x + offset| <= 255, so the shifted value stays below 2^28 for left_shift 20. */
    const int32_t shifted = (x + offset) * ((int32_t)1 << left_shift);
    return mcf_rounding_divide_by_pot(mcf_sat_round_doubling_high_mul(shifted, multiplier), -shift);
}

static inline int8_t mcf_add_finish(const mcf_add_params *p, int32_t raw)
{
    const int32_t out =
        mcf_rounding_divide_by_pot(mcf_sat_round_doubling_high_mul(raw, p->output_multiplier),
                                   -p->output_shift) +
        p->output_offset;
    return (int8_t)mcf_clamp(out, p->act_min, p->act_max);
}

/* n outputs from inputs walked with strides s1 / s2 (0 or the innermost stride). */
static void mcf_add_row(const mcf_add_params *p, int32_t subtract, const int8_t *a, int32_t s1,
                        const int8_t *b, int32_t s2, int8_t *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t va = mcf_add_scale_input(*a, p->input1_offset, p->left_shift,
                                               p->input1_multiplier, p->input1_shift);
        const int32_t vb = mcf_add_scale_input(*b, p->input2_offset, p->left_shift,
                                               p->input2_multiplier, p->input2_shift);
        /* each scaled value is below 2^27 in magnitude (multiplier <= 1/2), so no overflow */
        out[i] = mcf_add_finish(p, subtract ? va - vb : va + vb);
        a += s1;
        b += s2;
    }
}

#else
/* The same values as the reference row (TFLite Micro's arithmetic, in the portable build): each
 * rescaling is mcf_requantize with a shift <= 0, here mcf_rescale with constants made once. */
typedef struct {
    mcf_rescaler in1, in2, out;
    int32_t offset1, offset2, out_offset, act_min, act_max, left_shift;
} mcf_add_fast;

static void mcf_add_row_fast(const mcf_add_fast *f, int32_t subtract, const int8_t *a, int32_t s1,
                             const int8_t *b, int32_t s2, int8_t *out, int32_t n)
{
    const mcf_rescaler in1 = f->in1, in2 = f->in2, rout = f->out;
    const int32_t offset1 = f->offset1, offset2 = f->offset2, left = f->left_shift;
    const int32_t out_offset = f->out_offset, act_min = f->act_min, act_max = f->act_max;
    int32_t i;
    for (i = 0; i < n; ++i) {
        /* |x + offset| <= 255, so the shifted values stay below 2^28 for left_shift 20 */
        const int32_t va = mcf_rescale(&in1, (*a + offset1) * ((int32_t)1 << left));
        const int32_t vb = mcf_rescale(&in2, (*b + offset2) * ((int32_t)1 << left));
        const int32_t v = mcf_rescale(&rout, subtract ? va - vb : va + vb) + out_offset;
        out[i] = (int8_t)mcf_clamp(v, act_min, act_max);
        a += s1;
        b += s2;
    }
}
#endif

static void mcf_add_sub_s8(const mcf_add_params *p, int32_t subtract, const int8_t *input1,
                           const int8_t *input2, int8_t *output)
{
    const int32_t outer = p->ndims - 1;
    const int32_t n = p->dims[outer];
    int32_t idx[MCF_BCAST_MAX_DIMS];
    int32_t rows;
    int32_t off1 = 0;
    int32_t off2 = 0;
    int32_t r;
    rows = mcf_bcast_start(outer, p->dims, idx);
#if MCF_KERNELS_FAST && !MCF_REQUANT_F32
    mcf_add_fast f;
    f.in1 = mcf_rescaler_make(p->input1_multiplier, p->input1_shift);
    f.in2 = mcf_rescaler_make(p->input2_multiplier, p->input2_shift);
    f.out = mcf_rescaler_make(p->output_multiplier, p->output_shift);
    f.offset1 = p->input1_offset;
    f.offset2 = p->input2_offset;
    f.out_offset = p->output_offset;
    f.act_min = p->act_min;
    f.act_max = p->act_max;
    f.left_shift = p->left_shift;
#endif
    for (r = 0; r < rows; ++r) {
#if MCF_REQUANT_F32
        (void)subtract;
        mcf_add_row_f32(p, input1 + off1, p->stride1[outer], input2 + off2, p->stride2[outer], output, n);
#elif MCF_KERNELS_FAST
        mcf_add_row_fast(&f, subtract, input1 + off1, p->stride1[outer], input2 + off2,
                         p->stride2[outer], output, n);
#else
        mcf_add_row(p, subtract, input1 + off1, p->stride1[outer], input2 + off2, p->stride2[outer],
                    output, n);
#endif
        output += n;
        mcf_bcast_advance(outer, p->dims, p->stride1, p->stride2, idx, &off1, &off2);
    }
}

void mcf_add_s8(const mcf_add_params *p, const int8_t *input1, const int8_t *input2,
                int8_t *output)
{
    mcf_add_sub_s8(p, 0, input1, input2, output);
}

void mcf_sub_s8(const mcf_add_params *p, const int8_t *input1, const int8_t *input2,
                int8_t *output)
{
    mcf_add_sub_s8(p, 1, input1, input2, output);
}
