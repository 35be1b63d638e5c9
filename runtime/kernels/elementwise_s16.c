/* elementwise_s16.c - int16 ADD / SUB / MUL with broadcasting: one row loop per op over the
 * merged broadcast loops (mcf_bcast_advance).
 *
 * Paths (mcf_dsp.h): the reference loops (MCF_PORTABLE_KERNELS), the portable fast path (rescaling
 * constants made once per call) and, on cores with the DSP extension, a DSP path for the usual
 * 16x8 quantization (zero points 0):
 *
 *   ADD / SUB: each input's rescaling SRDHM((x << 15), m) then a rounding right shift by e >= 1
 *     is, with N = x * m (see mcf_requantize in mcf_common.h for the constants),
 *         floor((floor((N + 2^15) / 2^16) + 2^(e-1) - [x < 0]) / 2^e)
 *     and floor((N + 2^15) / 2^16) is one SMMULR of (x << 16) by m: (a * b + 2^31) >> 32. The
 *     input with the larger scale has multiplier 2^30 and e = 0: its value is exactly x * 2^14.
 *     The sum v (|v| <= 2^30) is rescaled the same way from 2v: SRDHM(v, m) = floor((2v * m +
 *     2^31) / 2^32), one SMMULR, then the rounding shift as above. Both words of a pair of int16
 *     (one load each) give x << 16 with one instruction.
 *   MUL: the two products of a pair of halfwords with SMULBB / SMULTT from one load of each input,
 *     then mcf_requantize's short route with its constants made once.
 *
 * The values are those of the reference loops, bit for bit (tests/test_elementwise_s16_dsp.py,
 * host-emulated and on QEMU through tests/test_kernels_on_device.py's int16 models); other
 * quantizations (non-zero zero points, shifts the identities do not cover) take the fast path.
 */
#include "elementwise_s16.h"

#include "mcf_common.h"
#include "mcf_dsp.h"

#if MCF_KERNELS_DSP
#if defined(__ARM_FEATURE_DSP) && !defined(MCF_EMULATE_DSP)
/* (a * b + 2^31) >> 32, the high word of the product rounded (SMMULR, DSP extension). */
static inline int32_t mcf_s16_smmulr(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* v saturated to int16 (SSAT). */
static inline int32_t mcf_s16_sat(int32_t v)
{
    return __ssat(v, 16);
}

/* Products of the low and of the high halfwords (SMULBB, SMULTT). */
static inline int32_t mcf_s16_mul_lo(uint32_t a, uint32_t b)
{
    int32_t r;
    __asm__("smulbb %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

static inline int32_t mcf_s16_mul_hi(uint32_t a, uint32_t b)
{
    int32_t r;
    __asm__("smultt %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
#else /* MCF_EMULATE_DSP: the same instructions in C */
static inline int32_t mcf_s16_smmulr(int32_t a, int32_t b)
{
    const int64_t p = (int64_t)a * b + (int64_t)0x80000000;
    return (int32_t)(p >> 32); /* |p| < 2^63: the high word fits */
}

static inline int32_t mcf_s16_sat(int32_t v)
{
    return mcf_clamp(v, -32768, 32767);
}

static inline int32_t mcf_s16_mul_lo(uint32_t a, uint32_t b)
{
    return (int32_t)(int16_t)(uint16_t)(a & 0xFFFFu) * (int32_t)(int16_t)(uint16_t)(b & 0xFFFFu);
}

static inline int32_t mcf_s16_mul_hi(uint32_t a, uint32_t b)
{
    return (int32_t)(int16_t)(uint16_t)(a >> 16) * (int32_t)(int16_t)(uint16_t)(b >> 16);
}
#endif

/* x << 16 of the low and of the high halfword of a word (the SMMULR operand). */
static inline int32_t mcf_s16_lo16(uint32_t w)
{
    return (int32_t)(w << 16);
}

static inline int32_t mcf_s16_hi16(uint32_t w)
{
    return (int32_t)(w & 0xFFFF0000u);
}

/* One rescaling by SMMULR: multiplier m >= 0, e >= 1, round = 2^(e-1). */
typedef struct {
    int32_t m;
    int32_t round;
    int32_t e;
} mcf_s16_smm;

/* 2 x the rescaled input x (given as x << 16): exact (x * 2^15) or SMMULR then rounding shift. */
static MCF_ALWAYS_INLINE int32_t mcf_s16_in2x(const mcf_s16_smm *r, int32_t exact, int32_t xh)
{
    if (exact) {
        return xh >> 1;
    }
    return (int32_t)((uint32_t)((mcf_s16_smmulr(xh, r->m) + r->round + (xh >> 31)) >> r->e) << 1);
}

typedef struct {
    mcf_s16_smm other; /* the input whose multiplier is not 2^30 (when not exact) */
    mcf_s16_smm out;
    int32_t offset, lo, hi;
    int32_t full; /* the activation's range is all of int16: saturation alone (SSAT) */
} mcf_add_s16_dsp;

/* The output: v2 = 2v, rescaled, plus the zero point, clamped. */
static MCF_ALWAYS_INLINE int32_t mcf_s16_out(const mcf_add_s16_dsp *k, int32_t v2)
{
    const int32_t v = mcf_s16_sat(((mcf_s16_smmulr(v2, k->out.m) + k->out.round + (v2 >> 31)) >> k->out.e) +
                                  k->offset);
    return k->full ? v : mcf_clamp(v, k->lo, k->hi);
}

/* mode 0: d + o, 1: d - o, 2: o - d, with d the input of multiplier 2^30 and e = 0 (exact) and o
 * the other (exact too when the scales are equal). Values computed doubled (2v fits: |v| <= 2^30).
 * Rows: both contiguous (pairs), or one input a single value along the row (its rescaling made
 * once); the caller leaves other strides to the fast path. */
static MCF_ALWAYS_INLINE void mcf_add_s16_row_dsp(const mcf_add_s16_dsp *k, int32_t mode, int32_t o_exact,
                                                  const int16_t *d, int32_t sd, const int16_t *o, int32_t so,
                                                  int16_t *out, int32_t n)
{
    int32_t i = 0;
    if (sd == 1 && so == 1) {
        for (; i + 2 <= n; i += 2) {
            const uint32_t wd = mcf_read_u32(d + i);
            const uint32_t wo = mcf_read_u32(o + i);
            const int32_t d0 = mcf_s16_lo16(wd) >> 1;
            const int32_t d1 = mcf_s16_hi16(wd) >> 1;
            const int32_t o0 = mcf_s16_in2x(&k->other, o_exact, mcf_s16_lo16(wo));
            const int32_t o1 = mcf_s16_in2x(&k->other, o_exact, mcf_s16_hi16(wo));
            const int32_t v0 = mode == 0 ? d0 + o0 : (mode == 1 ? d0 - o0 : o0 - d0);
            const int32_t v1 = mode == 0 ? d1 + o1 : (mode == 1 ? d1 - o1 : o1 - d1);
            out[i] = (int16_t)mcf_s16_out(k, v0);
            out[i + 1] = (int16_t)mcf_s16_out(k, v1);
        }
        if (i < n) { /* the last element of an odd row */
            const int32_t dv = (int32_t)((uint32_t)d[i] << 16) >> 1;
            const int32_t ov = mcf_s16_in2x(&k->other, o_exact, (int32_t)((uint32_t)o[i] << 16));
            const int32_t v = mode == 0 ? dv + ov : (mode == 1 ? dv - ov : ov - dv);
            out[i] = (int16_t)mcf_s16_out(k, v);
        }
    } else if (so == 0) { /* the other input is one value along the row */
        const int32_t oc = mcf_s16_in2x(&k->other, o_exact, (int32_t)((uint32_t)*o << 16));
        for (; i < n; ++i) {
            const int32_t dv = (int32_t)((uint32_t)*d << 16) >> 1;
            const int32_t v = mode == 0 ? dv + oc : (mode == 1 ? dv - oc : oc - dv);
            out[i] = (int16_t)mcf_s16_out(k, v);
            d += sd;
        }
    } else if (sd == 0) { /* the exact input is one value along the row */
        const int32_t dc = (int32_t)((uint32_t)*d << 16) >> 1;
        for (; i < n; ++i) {
            const int32_t ov = mcf_s16_in2x(&k->other, o_exact, (int32_t)((uint32_t)*o << 16));
            const int32_t v = mode == 0 ? dc + ov : (mode == 1 ? dc - ov : ov - dc);
            out[i] = (int16_t)mcf_s16_out(k, v);
            o += so;
        }
    }
}

/* One loop per combination (mode and exactness constants inside); ADD's and SUB's apart, so that
 * a model with only one of them links only its loops. */
static void mcf_add_s16_row_dsp_add(const mcf_add_s16_dsp *k, int32_t mode, int32_t o_exact, const int16_t *d,
                                    int32_t sd, const int16_t *o, int32_t so, int16_t *out, int32_t n)
{
    (void)mode;
    if (o_exact) {
        mcf_add_s16_row_dsp(k, 0, 1, d, sd, o, so, out, n);
    } else {
        mcf_add_s16_row_dsp(k, 0, 0, d, sd, o, so, out, n);
    }
}

static void mcf_add_s16_row_dsp_sub(const mcf_add_s16_dsp *k, int32_t mode, int32_t o_exact, const int16_t *d,
                                    int32_t sd, const int16_t *o, int32_t so, int16_t *out, int32_t n)
{
    if (o_exact) {
        if (mode == 1) {
            mcf_add_s16_row_dsp(k, 1, 1, d, sd, o, so, out, n);
        } else {
            mcf_add_s16_row_dsp(k, 2, 1, d, sd, o, so, out, n);
        }
    } else if (mode == 1) {
        mcf_add_s16_row_dsp(k, 1, 0, d, sd, o, so, out, n);
    } else {
        mcf_add_s16_row_dsp(k, 2, 0, d, sd, o, so, out, n);
    }
}

/* The multiplier / shift pair as SMMULR constants: 1 if it is the exact 2^30, 2^0; 0 if e >= 1
 * (filled into r); -1 if neither (the DSP path does not apply). */
static int32_t mcf_s16_smm_make(int32_t multiplier, int32_t shift, mcf_s16_smm *r)
{
    r->m = multiplier;
    r->e = 1;
    r->round = 1;
    if (multiplier == (int32_t)0x40000000 && shift == 0) {
        return 1;
    }
    if (shift > -1 || shift < -31 || multiplier < 0) {
        return -1;
    }
    r->e = -shift;
    r->round = (int32_t)((uint32_t)1 << (r->e - 1));
    return 0;
}

/* The DSP path of ADD / SUB over all rows; 0 when the quantization is not one it covers. Inlined
 * into mcf_add_s16 and mcf_sub_s16, where `subtract` is a constant. */
static MCF_ALWAYS_INLINE int32_t mcf_add_sub_s16_dsp(const mcf_add_s16_params *p, int32_t subtract,
                                                     const int16_t *input1, const int16_t *input2, int16_t *output)
{
    const int32_t outer = p->ndims - 1;
    const int32_t n = p->dims[outer];
    mcf_add_s16_dsp k;
    mcf_s16_smm r1;
    mcf_s16_smm r2;
    int32_t kind1;
    int32_t kind2;
    int32_t first_exact;
    int32_t o_exact;
    int32_t mode;
    int32_t idx[MCF_BCAST_MAX_DIMS];
    int32_t rows;
    int32_t off1 = 0;
    int32_t off2 = 0;
    int32_t r;
    if (p->input1_offset != 0 || p->input2_offset != 0 || p->left_shift != 15) {
        return 0;
    }
    kind1 = mcf_s16_smm_make(p->input1_multiplier, p->input1_shift, &r1);
    kind2 = mcf_s16_smm_make(p->input2_multiplier, p->input2_shift, &r2);
    if (kind1 < 0 || kind2 < 0 || (kind1 == 0 && kind2 == 0) ||
        mcf_s16_smm_make(p->output_multiplier, p->output_shift, &k.out) != 0) {
        return 0;
    }
    if (!((p->stride1[outer] == 1 && p->stride2[outer] == 1) || p->stride1[outer] == 0 ||
          p->stride2[outer] == 0)) {
        return 0; /* strided rows: the fast path */
    }
    first_exact = kind1 == 1; /* input1 is d; else input2 is d and input1 the other */
    o_exact = first_exact ? kind2 : kind1;
    k.other = first_exact ? r2 : r1;
    mode = !subtract ? 0 : (first_exact ? 1 : 2);
    k.offset = p->output_offset;
    k.lo = p->act_min;
    k.hi = p->act_max;
    k.full = p->act_min <= -32768 && p->act_max >= 32767;
    rows = mcf_bcast_start(outer, p->dims, idx);
    for (r = 0; r < rows; ++r) {
        const int16_t *dp = first_exact ? input1 + off1 : input2 + off2;
        const int16_t *op = first_exact ? input2 + off2 : input1 + off1;
        const int32_t sd = first_exact ? p->stride1[outer] : p->stride2[outer];
        const int32_t so = first_exact ? p->stride2[outer] : p->stride1[outer];
        if (subtract) {
            mcf_add_s16_row_dsp_sub(&k, mode, o_exact, dp, sd, op, so, output, n);
        } else {
            mcf_add_s16_row_dsp_add(&k, mode, o_exact, dp, sd, op, so, output, n);
        }
        output += n;
        mcf_bcast_advance(outer, p->dims, p->stride1, p->stride2, idx, &off1, &off2);
    }
    return 1;
}

/* MUL's requantization of one product (mcf_requantize_right: shift <= -2) and the clamp; lo > hi
 * stands for the whole int16 range (saturation alone). */
static MCF_ALWAYS_INLINE int32_t mcf_mul_s16_out(int32_t v, int32_t m, uint32_t round_high, int32_t rshift,
                                                 int32_t lo, int32_t hi)
{
    const int32_t q = mcf_s16_sat(mcf_requantize_right(v, m, round_high, rshift));
    return lo > hi ? q : mcf_clamp(q, lo, hi);
}

/* The DSP path of MUL over all rows; 0 when the output shift is not <= -2. */
static int32_t mcf_mul_s16_dsp(const mcf_mul_s16_params *p, const int16_t *input1, const int16_t *input2,
                               int16_t *output)
{
    const int32_t outer = p->ndims - 1;
    const int32_t n = p->dims[outer];
    const int32_t s1 = p->stride1[outer];
    const int32_t s2 = p->stride2[outer];
    const int32_t m = p->output_multiplier;
    const int32_t full = p->act_min <= -32768 && p->act_max >= 32767;
    const int32_t lo = full ? 1 : p->act_min;
    const int32_t hi = full ? 0 : p->act_max;
    uint32_t round_high;
    int32_t rshift;
    int32_t idx[MCF_BCAST_MAX_DIMS];
    int32_t rows;
    int32_t off1 = 0;
    int32_t off2 = 0;
    int32_t r;
    if (p->output_shift > -2 || p->output_shift < -31) {
        return 0;
    }
    round_high = (uint32_t)1 << (-p->output_shift - 2);
    rshift = -p->output_shift - 1;
    rows = mcf_bcast_start(outer, p->dims, idx);
    for (r = 0; r < rows; ++r) {
        const int16_t *a = input1 + off1;
        const int16_t *b = input2 + off2;
        int32_t i = 0;
        if (s1 == 1 && s2 == 1) {
            for (; i + 2 <= n; i += 2) {
                const uint32_t wa = mcf_read_u32(a + i);
                const uint32_t wb = mcf_read_u32(b + i);
                output[i] = (int16_t)mcf_mul_s16_out(mcf_s16_mul_lo(wa, wb), m, round_high, rshift, lo, hi);
                output[i + 1] = (int16_t)mcf_mul_s16_out(mcf_s16_mul_hi(wa, wb), m, round_high, rshift, lo, hi);
            }
        } else if (s2 == 0) { /* one factor along the row */
            const int32_t bv = *b;
            for (; i < n; ++i) {
                output[i] = (int16_t)mcf_mul_s16_out(a[(int32_t)i * s1] * bv, m, round_high, rshift, lo, hi);
            }
        } else if (s1 == 0) {
            const int32_t av = *a;
            for (; i < n; ++i) {
                output[i] = (int16_t)mcf_mul_s16_out(av * b[(int32_t)i * s2], m, round_high, rshift, lo, hi);
            }
        }
        for (; i < n; ++i) {
            output[i] = (int16_t)mcf_mul_s16_out((int32_t)a[i * s1] * b[i * s2], m, round_high, rshift, lo, hi);
        }
        output += n;
        mcf_bcast_advance(outer, p->dims, p->stride1, p->stride2, idx, &off1, &off2);
    }
    return 1;
}
#endif /* MCF_KERNELS_DSP */

/* The rescalings of ADD / SUB; the fast build uses mcf_rescale with constants made once per call,
 * which gives mcf_requantize's values for shifts <= 0 (mcf_common.h). */
typedef struct {
#if MCF_KERNELS_FAST
    mcf_rescaler in1, in2, out;
#endif
    const mcf_add_s16_params *p;
} mcf_add_s16_ctx;

static inline int32_t mcf_add_s16_in1(const mcf_add_s16_ctx *c, int32_t v)
{
#if MCF_KERNELS_FAST
    return mcf_rescale(&c->in1, v);
#else
    return mcf_requantize(v, c->p->input1_multiplier, c->p->input1_shift);
#endif
}

static inline int32_t mcf_add_s16_in2(const mcf_add_s16_ctx *c, int32_t v)
{
#if MCF_KERNELS_FAST
    return mcf_rescale(&c->in2, v);
#else
    return mcf_requantize(v, c->p->input2_multiplier, c->p->input2_shift);
#endif
}

static inline int32_t mcf_add_s16_out(const mcf_add_s16_ctx *c, int32_t v)
{
#if MCF_KERNELS_FAST
    return mcf_rescale(&c->out, v);
#else
    return mcf_requantize(v, c->p->output_multiplier, c->p->output_shift);
#endif
}

static void mcf_add_s16_row(const mcf_add_s16_ctx *c, int32_t subtract, const int16_t *a,
                            int32_t s1, const int16_t *b, int32_t s2, int16_t *out, int32_t n)
{
    const mcf_add_s16_params *p = c->p;
    const int32_t left = p->left_shift;
    int32_t i;
    for (i = 0; i < n; ++i) {
        /* |x + offset| < 2^16 and the shift is 15: the shifted value fits in int32 */
        const int32_t va = mcf_add_s16_in1(c, (int32_t)((uint32_t)(*a + p->input1_offset) << left));
        const int32_t vb = mcf_add_s16_in2(c, (int32_t)((uint32_t)(*b + p->input2_offset) << left));
        const int32_t v = mcf_add_s16_out(c, subtract ? va - vb : va + vb) + p->output_offset;
        out[i] = (int16_t)mcf_clamp(v, p->act_min, p->act_max);
        a += s1;
        b += s2;
    }
}

static void mcf_add_sub_s16(const mcf_add_s16_params *p, int32_t subtract, const int16_t *input1,
                            const int16_t *input2, int16_t *output)
{
    const int32_t outer = p->ndims - 1;
    const int32_t n = p->dims[outer];
    int32_t idx[MCF_BCAST_MAX_DIMS];
    int32_t rows;
    int32_t off1 = 0;
    int32_t off2 = 0;
    int32_t r;
    mcf_add_s16_ctx c;
    c.p = p;
#if MCF_KERNELS_FAST
    c.in1 = mcf_rescaler_make(p->input1_multiplier, p->input1_shift);
    c.in2 = mcf_rescaler_make(p->input2_multiplier, p->input2_shift);
    c.out = mcf_rescaler_make(p->output_multiplier, p->output_shift);
#endif
    rows = mcf_bcast_start(outer, p->dims, idx);
    for (r = 0; r < rows; ++r) {
        mcf_add_s16_row(&c, subtract, input1 + off1, p->stride1[outer], input2 + off2,
                        p->stride2[outer], output, n);
        output += n;
        mcf_bcast_advance(outer, p->dims, p->stride1, p->stride2, idx, &off1, &off2);
    }
}

void mcf_add_s16(const mcf_add_s16_params *p, const int16_t *input1, const int16_t *input2,
                 int16_t *output)
{
#if MCF_KERNELS_DSP
    if (mcf_add_sub_s16_dsp(p, 0, input1, input2, output)) {
        return;
    }
#endif
    mcf_add_sub_s16(p, 0, input1, input2, output);
}

void mcf_sub_s16(const mcf_add_s16_params *p, const int16_t *input1, const int16_t *input2,
                 int16_t *output)
{
#if MCF_KERNELS_DSP
    if (mcf_add_sub_s16_dsp(p, 1, input1, input2, output)) {
        return;
    }
#endif
    mcf_add_sub_s16(p, 1, input1, input2, output);
}

void mcf_mul_s16(const mcf_mul_s16_params *p, const int16_t *input1, const int16_t *input2,
                 int16_t *output)
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
#if MCF_KERNELS_DSP
    if (mcf_mul_s16_dsp(p, input1, input2, output)) {
        return;
    }
#endif
    rows = mcf_bcast_start(outer, p->dims, idx);
    for (r = 0; r < rows; ++r) {
        const int16_t *a = input1 + off1;
        const int16_t *b = input2 + off2;
        int32_t i;
        for (i = 0; i < n; ++i) {
            /* |x1 * x2| <= 2^30: fits in int32 */
            const int32_t v = mcf_requantize((int32_t)*a * *b, p->output_multiplier, p->output_shift);
            output[i] = (int16_t)mcf_clamp(v, p->act_min, p->act_max);
            a += s1;
            b += s2;
        }
        output += n;
        mcf_bcast_advance(outer, p->dims, p->stride1, p->stride2, idx, &off1, &off2);
    }
}
