/* l2norm_s8.c - L2_NORMALIZATION (int8): one inverse square root per row, one requantize per value. */
#include "l2norm_s8.h"

#include "mcf_common.h"
#include "mcf_fixedpoint.h"

/*
 * 1 / sqrt(sum) as multiplier * 2^-shift (shift may be negative here; it is >= 0 on return
 * unless folded into the multiplier). Sums 0 and 1 give INT32_MAX and 0, as in TFLite Micro.
 * The sum is scaled by a power of four into [2^27, 2^29) and read as a Q3 value v; five
 * Newton-Raphson steps x = 3/2 x - v/2 x^3 from x = 1 (all in Q3), then a multiply by sqrt(2)/2.
 */
static void mcf_inv_sqrt(int32_t sum, int32_t *multiplier, int32_t *shift)
{
    int32_t s = 11;
    int32_t pairs, half, x, i;
    if (sum <= 1) {
        *multiplier = INT32_MAX;
        *shift = 0;
        return;
    }
    while (sum >= ((int32_t)1 << 29)) {
        sum >>= 2;
        ++s;
    }
    pairs = (mcf_fp_clz((uint32_t)sum) - 1) / 2 - 1;
    s -= pairs;
    sum = (int32_t)((uint32_t)sum << (2 * pairs));
    half = mcf_rounding_divide_by_pot(sum >> 1, 1);
    x = (int32_t)1 << 28; /* Q3 one */
    for (i = 0; i < 5; ++i) {
        const int32_t x2 = mcf_sat_round_doubling_high_mul(x, x);
        const int32_t x3 = mcf_fp_sat_shift_left(mcf_sat_round_doubling_high_mul(x2, x), 6);
        const int32_t a = mcf_sat_round_doubling_high_mul((1 << 28) + (1 << 27), x);
        const int32_t b = mcf_sat_round_doubling_high_mul(half, x3);
        x = mcf_fp_sat_shift_left(mcf_fp_sub(a, b), 3);
    }
    x = mcf_sat_round_doubling_high_mul(x, 1518500250);
    if (s < 0) {
        x = (int32_t)((uint32_t)x << -s);
        s = 0;
    }
    *multiplier = x;
    *shift = s;
}

void mcf_l2norm_s8(const mcf_l2norm_params *p, const int8_t *input, int8_t *output)
{
    const int32_t depth = p->depth;
    const int32_t offset = p->input_offset;
    int32_t r, k;
    for (r = 0; r < p->rows; ++r) {
        int32_t sum = 0;
        int32_t multiplier, shift;
        for (k = 0; k < depth; ++k) {
            const int32_t v = input[k] + offset;
            sum += v * v;
        }
        mcf_inv_sqrt(sum, &multiplier, &shift);
        /* TFLite Micro's left shift is 7 - shift: the output scale 2^-7 folded in */
        for (k = 0; k < depth; ++k) {
            output[k] = mcf_clamp8(mcf_requantize(input[k] + offset, multiplier, 7 - shift), -128, 127, 1);
        }
        input += depth;
        output += depth;
    }
}
