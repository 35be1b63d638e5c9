/* softmax_s16.h - int16 softmax over the last axis (TFLite SOFTMAX, 16x8 quantization). */
#ifndef MCF_SOFTMAX_S16_H
#define MCF_SOFTMAX_S16_H

#include <stdint.h>

/**
 * Parameters computed by mcuforge at compile time. `exp_lut` and `recip_lut` are TFLite Micro's
 * 513-entry interpolated tables (mcuforge.generator.ops.lut16): exp over [-10, 0] and
 * 1 / (1 + x) over [0, 1], both read as lut[256 + (v >> 7)] plus the interpolated step.
 * Output scale 1/32768, zero point 0.
 */
typedef struct {
    int32_t rows;             /**< product of all dimensions but the last */
    int32_t depth;            /**< the last dimension */
    int32_t input_multiplier; /**< Q31: input difference to the exp table's grid */
    int32_t input_shift;      /**< > 0 shifts left */
    const int16_t *exp_lut;
    const int16_t *recip_lut;
} mcf_softmax_s16_params;

/** The output row first holds the exps, then the normalised values: input and output must not
 *  overlap. */
void mcf_softmax_s16(const mcf_softmax_s16_params *p, const int16_t *input, int16_t *output);

#endif /* MCF_SOFTMAX_S16_H */
