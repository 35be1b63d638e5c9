/* resize_s8_f32.h - onnxruntime's linear Resize of quantized data in float32 (truncated, or quantized). */
#ifndef MCF_RESIZE_S8_F32_H
#define MCF_RESIZE_S8_F32_H

#include <stdint.h>

/**
 * Input [batches][input_h][input_w][channels], output [batches][output_h][output_w][channels],
 * int8 raw values. onnxruntime's Resize kernel for 8-bit tensors (mode linear, NCHW) interpolates
 * the stored values in float32 and truncates toward zero; uint8 tensors (stored here as int8, the
 * value minus 128) are interpolated as uint8: `offset` is 128 for those and 0 for int8 ones.
 * Tables computed by mcuforge (generator/ops/resize_ort.py) as onnxruntime computes them:
 *  - rows[2y], rows[2y+1]: the two source rows of output row y (times input_w * channels);
 *    row_weights[2y], row_weights[2y+1]: onnxruntime's dy1 (weight of the second row) and dy2;
 *  - cols[2x], cols[2x+1], col_weights[2x], col_weights[2x+1] the same for columns (times channels).
 * Per output pixel the four float32 weights are dx2*dy2, dx1*dy2, dx2*dy1, dx1*dy1, and each value
 * is ((w11*v11 + w21*v21) + w12*v12) + w22*v22, every product and sum rounded to float32 (never fused).
 */
typedef struct {
    int32_t batches;
    int32_t input_h;
    int32_t input_w;
    int32_t channels;
    int32_t output_h;
    int32_t output_w;
    int32_t offset;
    const int32_t *rows;
    const int32_t *cols;
    const float *row_weights;
    const float *col_weights;
    /* mcf_resize_bilinear_dq_q_s8 only (below) */
    float input_scale;
    int32_t input_zero_point;
    const float *thresholds;
} mcf_resize_bilinear_f32_params;

void mcf_resize_bilinear_trunc_s8(const mcf_resize_bilinear_f32_params *p, const int8_t *input, int8_t *output);

/**
 * DequantizeLinear -> linear Resize -> QuantizeLinear as onnxruntime runs it (float32 between the
 * two): the same tables and float32 sum as above on the dequantized values,
 * (float)(v - input_zero_point) * input_scale (offset unused), then QuantizeLinear without a
 * division: the result is -128 plus the number of thresholds[0..254] it reaches (ascending, the
 * smallest float32 that QuantizeLinear takes to each level -127..127; computed by mcuforge).
 */
void mcf_resize_bilinear_dq_q_s8(const mcf_resize_bilinear_f32_params *p, const int8_t *input, int8_t *output);

#endif /* MCF_RESIZE_S8_F32_H */
