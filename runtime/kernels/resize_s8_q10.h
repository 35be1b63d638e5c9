/* resize_s8_q10.h - onnxruntime's uint8 / int8 linear Resize on NHWC data: weights in 1/1024. */
#ifndef MCF_RESIZE_S8_Q10_H
#define MCF_RESIZE_S8_Q10_H

#include <stdint.h>

/**
 * Input [batches][input_h][input_w][channels], output [batches][output_h][output_w][channels],
 * int8 raw values. onnxruntime's integer bilinear kernel (the one it runs on channels-last data,
 * after a QLinearConv): each output is (w11*v11 + w21*v21 + w12*v12 + w22*v22) / 2^20 rounded toward
 * zero, with w11 = dx2*dy2, w21 = dx1*dy2, w12 = dx2*dy1, w22 = dx1*dy1 and the d* weights in 1/1024.
 * uint8 tensors (stored as int8, the value minus 128) are interpolated as uint8: `offset` is 128
 * for those, 0 for int8. Tables computed by mcuforge (generator/ops/resize_ort.py):
 *  - rows[4y .. 4y+3]: the two source rows of output row y (times input_w * channels), dy1, dy2;
 *  - cols[4x .. 4x+3]: the two source columns (times channels), dx1, dx2.
 * dy1 + dy2 = dx1 + dx2 = 1024, so no sum leaves int32 (|sum| <= 255 * 2^20).
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
} mcf_resize_bilinear_q10_params;

void mcf_resize_bilinear_q10_s8(const mcf_resize_bilinear_q10_params *p, const int8_t *input, int8_t *output);

#endif /* MCF_RESIZE_S8_Q10_H */
