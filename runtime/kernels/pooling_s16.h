/* pooling_s16.h - int16 average and max pooling over NHWC tensors (TFLite AVERAGE_POOL_2D,
 * MAX_POOL_2D with 16x8 quantization). */
#ifndef MCF_POOLING_S16_H
#define MCF_POOLING_S16_H

#include <stdint.h>

/** Same geometry as mcf_pool_params (pooling_s8.h); the clamp lies within int16. Input and
 *  output share one quantization, so pooling works on the raw values. */
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
    int32_t pad_top;  /**< leading padding rows (SAME); padded taps are skipped, not zeros */
    int32_t pad_left; /**< leading padding columns */
    int32_t act_min;  /**< fused activation clamp, within [-32768, 32767] */
    int32_t act_max;
} mcf_pool_s16_params;

/** Mean of the window's taps inside the input, halves rounded away from zero. */
void mcf_avgpool_s16(const mcf_pool_s16_params *p, const int16_t *input, int16_t *output);

void mcf_maxpool_s16(const mcf_pool_s16_params *p, const int16_t *input, int16_t *output);

#endif /* MCF_POOLING_S16_H */
