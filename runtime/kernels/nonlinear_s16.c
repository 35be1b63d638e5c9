/* nonlinear_s16.c - int16 LOGISTIC and TANH by interpolation in a 256-entry sigmoid table. Each
 * input is read before its output is written (they may share memory). */
#include "nonlinear_s16.h"

#include "mcf_common.h"

static inline int32_t mcf_sigmoid_s16_rescale(const mcf_sigmoid_s16_params *p, int32_t x)
{
    const int32_t round = p->shift > 0 ? (int32_t)1 << (p->shift - 1) : 0;
    return (x * p->multiplier + round) >> p->shift; /* |x * multiplier| < 2^30 */
}

void mcf_logistic_s16(const mcf_sigmoid_s16_params *p, const int16_t *input, int16_t *output)
{
    const uint16_t *table = p->table;
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t v = mcf_sigmoid_s16_rescale(p, input[i]);
        const uint32_t a = (uint32_t)(v < 0 ? -v : v);
        const uint32_t k = a >> 9;
        uint32_t r;
        if (k >= 255u) {
            r = (uint32_t)0x7FFF << 10; /* saturated */
        } else {
            const uint32_t lo = table[k];
            r = (lo << 9) + (a & 0x1FFu) * ((uint32_t)table[k + 1] - lo); /* Q0.25 */
        }
        /* sigmoid(-x) = 1 - sigmoid(x); rounded to Q0.15 */
        r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
        output[i] = (int16_t)(r >> 10);
    }
}

void mcf_tanh_s16(const mcf_sigmoid_s16_params *p, const int16_t *input, int16_t *output)
{
    const uint16_t *table = p->table;
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t v = mcf_sigmoid_s16_rescale(p, input[i]);
        const uint32_t a = (uint32_t)(v < 0 ? -v : v);
        const uint32_t k = a >> 8;
        int32_t r;
        if (k >= 255u) {
            r = (int32_t)((uint32_t)0xFFFF << 8); /* saturated */
        } else {
            const uint32_t lo = table[k];
            r = (int32_t)((lo << 8) + (a & 0xFFu) * ((uint32_t)table[k + 1] - lo)); /* Q0.24 */
        }
        /* tanh(x) = 2 sigmoid(2x) - 1, odd; rounded to Q0.15 */
        r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
        output[i] = (int16_t)(r >> 8);
    }
}
