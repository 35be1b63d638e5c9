/* resize_s16.h - TFLite RESIZE_NEAREST_NEIGHBOR on int16 NHWC tensors (16x8 models): stored values
 * copied, no requantization, as TFLite Micro does. */
#ifndef MCF_RESIZE_S16_H
#define MCF_RESIZE_S16_H

#include <stdint.h>

/**
 * Input [batches][input_h][input_w][channels], output [batches][output_h][output_w][channels].
 * rows[y] = source row * input_w * channels and cols[x] = source column * channels (elements),
 * computed by mcuforge (generator/ops/resize.py) with TFLite Micro's arithmetic.
 */
typedef struct {
    int32_t batches;
    int32_t input_h;
    int32_t input_w;
    int32_t channels;
    int32_t output_h;
    int32_t output_w;
    const int32_t *rows;
    const int32_t *cols;
} mcf_resize_s16_params;

void mcf_resize_nearest_s16(const mcf_resize_s16_params *p, const int16_t *input, int16_t *output);

#endif /* MCF_RESIZE_S16_H */
