/* log_softmax_s8_f32.h - int8 LogSoftmax over any axis, in float32 as onnxruntime computes it. */
#ifndef MCF_LOG_SOFTMAX_S8_F32_H
#define MCF_LOG_SOFTMAX_S8_F32_H

#include <stdint.h>

/**
 * Computed by mcuforge at compile time (generator/ops/log_softmax_f32.py). The tensor is walked as
 * [outer][depth][inner], the reduction running over `depth`. onnxruntime dequantizes, computes
 * x - max - ln(sum(exp(x - max))) in float32 and quantizes (a division by the output scale, rounding
 * half to even); here exp comes from a table of the 256 possible differences max - x.
 */
typedef struct {
    int32_t outer;
    int32_t depth;
    int32_t inner;
    float out_scale;
    int32_t out_zero_point;
    const float *dequant; /**< [256] input_scale * (x - input_zero_point), indexed by the byte of x */
    const float *exp_neg; /**< [256] exp(-input_scale * d) for d = max - x in 0..255 */
} mcf_log_softmax_f32_params;

void mcf_log_softmax_s8_f32(const mcf_log_softmax_f32_params *p, const int8_t *input, int8_t *output);

/** The same with a float32 output (a LogSoftmax the quantizer left unquantized at a graph output);
 *  out_scale and out_zero_point are unused. */
void mcf_log_softmax_s8_to_f32(const mcf_log_softmax_f32_params *p, const int8_t *input, float *output);

#endif /* MCF_LOG_SOFTMAX_S8_F32_H */
