/* fsum_soft_fma.c - conv2d_s8_fsum's integer float32 operations (the route of cores without an
 * FPU) against the host's IEEE single precision, bit for bit.
 *
 * Built on the host with -DMCF_REQUANT_F32_SOFT=1 (and without -mfma), which selects the integer
 * route; the kernel source is included so that its static functions can be called. References:
 * fmaf() of the C library (glibc's is exact), float * and + (SSE on x86-64, one rounding each).
 *
 *     fsum_soft_fma OP COUNT SEED    OP: fma | fma_exact | mul | add | deq (DequantizeLinear of an int)
 *
 * Prints "checked N differing D" and the first differing operands; exit 1 if any differ. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv2d_s8_fsum.c"

#if !MCF_FSUM_INT
#error "build with -DMCF_REQUANT_F32_SOFT=1 and without a hardware fma (the integer route)"
#endif

static uint64_t rng_state;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32);
}

static float from_bits(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static uint32_t to_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

/* A significand: uniform, or with only a few high bits (exact products and sums, ties), or near all
 * ones (carries into the next binade), or the smallest. */
static uint32_t significand(void)
{
    const uint32_t kind = rnd() % 8u;
    uint32_t m = rnd() & 0x7FFFFFu;
    if (kind == 0u) {
        m &= ~((1u << (rnd() % 24u)) - 1u); /* trailing zeros */
    } else if (kind == 1u) {
        m = 0x7FFFFFu - (rnd() % 4u);
    } else if (kind == 2u) {
        m = rnd() % 4u;
    } else if (kind == 3u) {
        m &= 0x7F0000u; /* few bits: exact products */
    }
    return m;
}

static float make(uint32_t sign, int32_t e, uint32_t m)
{
    return from_bits((sign << 31) | ((uint32_t)e << 23) | m);
}

/* An exponent: mostly within `spread` of `centre`, sometimes anything (zero: zero or subnormal,
 * 255: infinity or NaN). */
static int32_t exponent(int32_t centre, int32_t spread)
{
    const uint32_t kind = rnd() % 64u;
    int32_t e;
    if (kind == 0u) {
        return (int32_t)(rnd() % 256u);
    }
    if (kind == 1u) {
        return (int32_t)(rnd() % 4u); /* zero, subnormal, the smallest normals */
    }
    if (kind == 2u) {
        return 251 + (int32_t)(rnd() % 5u); /* the largest, infinity, NaN */
    }
    e = centre + (int32_t)(rnd() % (uint32_t)(2 * spread + 1)) - spread;
    return e < 1 ? 1 : (e > 254 ? 254 : e);
}

static float operand(int32_t centre, int32_t spread)
{
    if (rnd() % 32u == 0u) {
        return make(rnd() & 1u, 0, 0); /* a zero of either sign */
    }
    return make(rnd() & 1u, exponent(centre, spread), significand());
}

static int same(float got, float want)
{
    return to_bits(got) == to_bits(want) || (isnan(got) && isnan(want));
}

static long differing;

static void report(const char *op, float a, float b, float c, float got, float want)
{
    if (++differing <= 10) {
        printf("%s(%a, %a, %a) = %a (%08x), want %a (%08x)\n", op, (double)a, (double)b, (double)c, (double)got,
               (unsigned)to_bits(got), (double)want, (unsigned)to_bits(want));
    }
}

/* The inverse of odd m modulo 2^24. */
static uint32_t inverse24(uint32_t m)
{
    uint32_t x = m; /* Newton's iteration: correct bits double each step */
    int i;
    for (i = 0; i < 5; ++i) {
        x *= 2u - m * x;
    }
    return x & 0xFFFFFFu;
}

/* Ties the sticky bit decides: c (or the product) so far below the other that some of its bits are
 * shifted out, while the bits kept put the sum exactly halfway between two floats. `below` 0: c's
 * significand q shifted by 38 + k (the product's significands p = a * b chosen by their low bits so
 * that p << 14 plus or minus q >> k is a tie at bit 37); 1: p shifted by 14 + k below c, p close
 * above odd * 2^(37 + k) (found by search), so that it is a tie at bit 37 of c << 38 plus or minus
 * p >> k. Returns 0 where the search found nothing. */
static int sticky_tie(int below, float *a, float *b, float *c)
{
    const uint32_t sub = rnd() & 1u, sa = rnd() & 1u, sb = rnd() & 1u;
    const int32_t ea = 120 + (int32_t)(rnd() % 20u), eb = 120 + (int32_t)(rnd() % 20u);
    uint32_t ma, mb, mc;
    int32_t k, ec;
    if (!below) {
        uint64_t mp;
        uint32_t j;
        k = 1 + (int32_t)(rnd() % 9u);
        j = (1u << (9 - k)) + rnd() % (1u << (9 - k)); /* q >> k = j * 2^14 */
        mb = (rnd() & 0x7FFFFFu) | 0x800001u;
        ma = ((sub ? 0x800000u + j : 0x800000u - j) * inverse24(mb)) & 0xFFFFFFu;
        mp = (uint64_t)ma * mb;
        if (ma < 0x800000u || mp < ((uint64_t)1 << 47)) {
            return 0;
        }
        mc = (j << (14 + k)) | (rnd() % (1u << k));
        ec = ea + eb - 164 - k;
    } else {
        const int32_t kk = 1 + (int32_t)(rnd() % 10u);
        uint64_t t;
        int tries;
        t = (uint64_t)((rnd() % (1u << (10 - kk))) | 1u) << (37 + kk);
        if (t < ((uint64_t)1 << 46)) {
            return 0;
        }
        for (tries = 0;; ++tries) {
            uint64_t rem;
            if (tries == 100000) {
                return 0;
            }
            ma = (rnd() & 0x7FFFFFu) | 0x800000u;
            mb = (uint32_t)((t + ma - 1u) / ma);
            if (mb < 0x800000u || mb > 0xFFFFFFu) {
                continue;
            }
            rem = (uint64_t)ma * mb - t;
            if (rem < ((uint64_t)1 << kk)) {
                break;
            }
        }
        k = kk;
        mc = (rnd() & 0x7FFFFFu) | 0x800000u;
        ec = ea + eb - 126 + 14 + k;
    }
    *a = make(sa, ea, ma & 0x7FFFFFu);
    *b = make(sb, eb, mb & 0x7FFFFFu);
    *c = make((sa ^ sb) ^ sub, ec, mc & 0x7FFFFFu);
    return 1;
}

/* Triples in the kernel's ranges (weights around 2^-7, inputs around 2^-3, sums of any size near
 * the products), and edge cases: c = -a * b rounded (cancellation, often to zero or to the product's
 * rounding error), c = the product rounded plus a few ulps (ties), wide exponent gaps, results near
 * the subnormal range and near overflow. */
static void triple(float *a, float *b, float *c)
{
    const uint32_t kind = rnd() % 8u;
    int32_t ea = 120, eb = 124, spread = 12;
    if (kind == 6u) { /* near the bottom */
        ea = 40, eb = 40 + (int32_t)(rnd() % 60u), spread = 30;
    } else if (kind == 7u) { /* near the top */
        ea = 190, eb = 190, spread = 30;
    }
    if (rnd() % 256u == 0u && sticky_tie((int)(rnd() & 1u), a, b, c)) {
        return;
    }
    *a = operand(ea, spread);
    *b = operand(eb, spread);
    if (rnd() % 4u == 0u) { /* a product half an ulp of c (times an odd h): an exact tie, or just off it */
        const int32_t ec = 60 + (int32_t)(rnd() % 140u), ka = (int32_t)(rnd() % 40u) - 20;
        const float h = (float)(2u * (rnd() % 8u) + 1u);
        uint32_t mc = significand();
        if (rnd() % 4u == 0u) {
            mc = 0x7FFFFFu; /* a carry into the next binade */
        }
        *c = make(rnd() & 1u, ec, mc);
        *a = ldexpf((rnd() & 1u) ? -h : h, ka);
        *b = ldexpf(1.0f, ec - 151 - ka); /* a * b = h * 2^(ec - 151): half an ulp of c, times h */
        if (rnd() % 2u == 0u) { /* just off the tie */
            *b = from_bits(to_bits(*b) + ((rnd() & 1u) ? 1u : 0xFFFFFFFFu));
        }
        if (rnd() % 2u == 0u) {
            const float t = *a;
            *a = *b, *b = t;
        }
        return;
    }
    if (rnd() % 4u == 0u) { /* a product exactly halfway between two floats, c zero or far below */
        *a = make(rnd() & 1u, exponent(ea, spread), significand() | 1u);
        *b = make(rnd() & 1u, exponent(eb, spread), 0x400000u);
        *c = (rnd() % 2u) ? make(rnd() & 1u, 0, 0)
                          : operand(ea + eb - 127 - 24 - 14 - (int32_t)(rnd() % 40u), 1);
        return;
    }
    switch (rnd() % 6u) {
    case 0: { /* cancellation: minus the rounded product, a few ulps off */
        uint32_t pb = to_bits(*a * *b) ^ 0x80000000u;
        pb += (rnd() % 5u) - 2u;
        *c = from_bits(pb);
        break;
    }
    case 1: /* wide gaps: c far above or below the product */
        *c = operand(ea + eb - 127 + (int32_t)(rnd() % 161u) - 80, 2);
        break;
    case 2: /* c of the product's size (sign either) */
        *c = operand(ea + eb - 127, 3);
        break;
    default:
        *c = operand(ea + eb - 127, 30);
        break;
    }
}

/* Two addends whose sum is a tie at bit 7 of the larger one's aligned significand, or just off it,
 * once the smaller one is shifted right by d > 7 (bits shifted out: the sticky bit decides). */
static void add_tie(float *x, float *y)
{
    const uint32_t mx = (rnd() & 0x7FFFFFu) | 0x800000u;
    const int32_t k = 1 + (int32_t)(rnd() % 15u), ex = 30 + (int32_t)(rnd() % 190u);
    const uint32_t t = ((mx << 7) & 0x80u) ? 0u : 0x80u; /* the bits of y >> k at 7..0 that make a tie */
    uint32_t my = ((rnd() << (8 + k)) | (t << k) | (rnd() % 3u == 0u ? 0u : rnd() % (1u << k))) & 0xFFFFFFu;
    my |= 0x800000u;
    *x = make(rnd() & 1u, ex, mx & 0x7FFFFFu);
    *y = make(rnd() & 1u, ex - k - 7, my & 0x7FFFFFu);
    if (rnd() & 1u) {
        const float u = *x;
        *x = *y, *y = u;
    }
}

/* float * and + with one rounding each (no contraction into an fma: none is compiled in) */
static float host_mul(float a, float b)
{
    volatile float r = a * b;
    return r;
}

static float host_add(float a, float b)
{
    volatile float r = a + b;
    return r;
}

int main(int argc, char **argv)
{
    long count, i;
    const char *op;
    if (argc != 4) {
        fprintf(stderr, "usage: fsum_soft_fma fma|fma_exact|mul|add|deq COUNT SEED\n");
        return 2;
    }
    op = argv[1];
    count = atol(argv[2]);
    rng_state = 0x9E3779B97F4A7C15ull ^ (uint64_t)atoll(argv[3]) * 0x2545F4914F6CDD1Dull;
    for (i = 0; i < count; ++i) {
        float a, b, c, got, want;
        triple(&a, &b, &c);
        if (strcmp(op, "fma") == 0) {
            got = mcf_fsum_fma(a, b, c);
            want = fmaf(a, b, c);
        } else if (strcmp(op, "fma_exact") == 0) { /* the exact route alone (the fast one's fallback) */
            got = mcf_fsum_fma_exact(a, b, c);
            want = fmaf(a, b, c);
        } else if (strcmp(op, "mul") == 0) {
            got = mcf_fsum_mul(a, b);
            want = host_mul(a, b);
        } else if (strcmp(op, "add") == 0) { /* a rounded product and c; two operands; ties */
            const uint32_t kind = rnd() % 4u;
            if (kind == 0u) {
                a = host_mul(a, b);
            } else if (kind == 1u) {
                add_tie(&a, &c);
            } else if (kind == 2u) {
                c = b;
            }
            b = 0.0f;
            got = mcf_fsum_add(a, c);
            want = host_add(a, c);
        } else if (strcmp(op, "deq") == 0) { /* DequantizeLinear: (float)(x - zero point) * scale */
            const int32_t v = (int32_t)(rnd() % 511u) - 255;
            c = 0.0f;
            a = (float)v;
            got = mcf_fsum_dequant(v, b);
            want = host_mul((float)v, b);
        } else {
            fprintf(stderr, "unknown operation %s\n", op);
            return 2;
        }
        if (!same(got, want)) {
            report(op, a, b, c, got, want);
        }
    }
    printf("checked %ld differing %ld\n", count, differing);
    return differing != 0;
}
