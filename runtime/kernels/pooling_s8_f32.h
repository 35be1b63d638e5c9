/* pooling_s8_f32.h - int8 average pooling as onnxruntime's QLinearAveragePool computes it. */
#ifndef MCF_POOLING_S8_F32_H
#define MCF_POOLING_S8_F32_H

#include <stdint.h>

/**
 * Geometry, scales and clamp, computed by mcuforge at compile time (generator/ops/pooling_f32.py).
 * onnxruntime (CPU provider) dequantizes every input value to float32, sums a window's values in
 * float32 row by row, divides the sum by the float32 count, divides that by the output scale, adds
 * the zero point in float32 and rounds half to even. Input and output scales may differ.
 */
typedef struct {
    int32_t batches;
    int32_t input_h;
    int32_t input_w;
    int32_t channels;
    int32_t output_h;
    int32_t output_w;
    int32_t stride_h;
    int32_t stride_w;
    int32_t filter_h;
    int32_t filter_w;
    int32_t pad_top;       /**< leading padding rows; padding taps add nothing */
    int32_t pad_left;      /**< leading padding columns */
    int32_t count;         /**< divisor of every window (count_include_pad); 0: the taps inside the input */
    float output_scale;    /**< the output's float32 scale */
    float zero_point;      /**< the output zero point of the ONNX model (uint8 or int8), as float */
    int32_t offset;        /**< added after rounding: -128 where the model's activations are uint8 */
    int32_t act_min;       /**< clamp of the int8 result, within [-128, 127] */
    int32_t act_max;
    const float *dequant;  /**< [256]: input_scale * (x - input_zero_point), indexed by the byte of x */
    /* The fixed-point route of cores without an FPU (pooling_s8_f32.c; generator/ops/pooling_f32.py,
     * soft_constants), where every window lies inside the input: fx_shift = F (0: not taken), the
     * window's byte sum T gives g = (T - fx_base) * fx_mult + fx_add (64 bits) */
    int32_t fx_shift;
    int32_t fx_base;       /**< window taps * input zero point */
    int32_t fx_mult;       /**< input_scale / (taps * output_scale), times 2^F, rounded */
    int32_t fx_add_lo;     /**< (raw output zero point + 1/2) * 2^F, rounded: low word */
    int32_t fx_add_hi;     /**< high word */
    int32_t fx_near;       /**< fraction (units of 2^-F) within which of a rounding point the float32
                                sum decides */
} mcf_avgpool_f32_params;

/** Average pooling over NHWC int8 tensors (layouts as mcf_avgpool_s8), onnxruntime's arithmetic:
 *  every window holds at least one input tap (checked at compile time). */
void mcf_avgpool_s8_f32(const mcf_avgpool_f32_params *p, const int8_t *input, int8_t *output);

#endif /* MCF_POOLING_S8_F32_H */
