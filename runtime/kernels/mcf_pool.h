/* mcf_pool.h - the parameters the int8 and the int16 pooling kernels share (pooling_s8.h,
 * pooling_s16.h). */
#ifndef MCF_POOL_H
#define MCF_POOL_H

#include <stdint.h>

/**
 * Pooling geometry and clamp, computed by mcuforge at compile time (generator/ops/pooling.py).
 * Input and output share one quantization (TFLite requires it), so no rescaling happens: pooling
 * works on the raw values.
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
    int32_t pad_top;  /**< leading padding rows (SAME); padded taps are skipped, not zeros */
    int32_t pad_left; /**< leading padding columns */
    int32_t act_min;  /**< fused activation clamp, within the range of the tensors' type */
    int32_t act_max;
} mcf_pool_params;

#endif /* MCF_POOL_H */
