/* prelu_s8_f32.h - int8 PRelu with per-channel float32 slopes, as onnxruntime computes it. */
#ifndef MCF_PRELU_S8_F32_H
#define MCF_PRELU_S8_F32_H

#include <stdint.h>

/**
 * Computed by mcuforge at compile time (generator/ops/prelu_f32.py). The tensor is walked as
 * [outer][channels][inner]; onnxruntime runs DequantizeLinear, PRelu and QuantizeLinear in float32:
 * x = dequant[byte], y = x > 0 ? x : x * slope[c], output = rne(y / out_scale) + zero point.
 */
typedef struct {
    int32_t outer;
    int32_t channels;
    int32_t inner;
    float out_scale;
    int32_t out_zero_point;
    const float *dequant; /**< [256] input_scale * (x - input_zero_point), indexed by the byte of x */
    const float *slope;   /**< [channels] float32 slopes */
} mcf_prelu_f32_params;

void mcf_prelu_s8_f32(const mcf_prelu_f32_params *p, const int8_t *input, int8_t *output);

#endif /* MCF_PRELU_S8_F32_H */
