/* nonlinear_s16.h - int16 LOGISTIC and TANH (TFLite, 16x8 quantization). */
#ifndef MCF_NONLINEAR_S16_H
#define MCF_NONLINEAR_S16_H

#include <stdint.h>

/**
 * Parameters computed by mcuforge at compile time: each input x becomes
 * v = (x * multiplier + round) >> shift (round = 2^(shift-1), or 0 for shift 0), the input on a
 * grid of 1/4096/3; |v| then indexes `table` (sigmoid(i/24) in Q0.16, 256 entries) with 9 (LOGISTIC)
 * or 8 (TANH) bits of linear interpolation. Zero points 0; output scale 2^-15.
 */
typedef struct {
    int32_t size;
    int32_t multiplier; /**< 1 .. 32767 */
    int32_t shift;      /**< right shift, 0 .. 31 */
    const uint16_t *table;
} mcf_sigmoid_s16_params;

void mcf_logistic_s16(const mcf_sigmoid_s16_params *p, const int16_t *input, int16_t *output);
void mcf_tanh_s16(const mcf_sigmoid_s16_params *p, const int16_t *input, int16_t *output);

#endif /* MCF_NONLINEAR_S16_H */
