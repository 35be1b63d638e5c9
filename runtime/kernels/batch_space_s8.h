/* batch_space_s8.h - SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND (int8, NHWC, a 3-D tensor taken as
 * N x H x 1 x C): pixels move between the spatial grid and blocks of the batch, bytes unchanged. */
#ifndef MCF_BATCH_SPACE_S8_H
#define MCF_BATCH_SPACE_S8_H

#include <stdint.h>

/**
 * Batch b' of the many-batch side is (block row sh, block column sw, batch b) with
 * b' = (sh * block_w + sw) * batch + b, as TFLite orders it. Grid pixel (y, x) of the one-batch side
 * at block offset (sh, sw) is pixel (y * block_h + sh - top, x * block_w + sw - left) of the padded
 * (SPACE_TO_BATCH_ND) or cropped (BATCH_TO_SPACE_ND) image.
 */
typedef struct {
    int32_t batch;            /**< batches of the one-batch side (the SPACE_TO_BATCH input, BATCH_TO_SPACE output) */
    int32_t block_h, block_w;
    int32_t in_h, in_w;       /**< the operator's input */
    int32_t out_h, out_w;     /**< the operator's output */
    int32_t depth;            /**< bytes per pixel */
    int32_t top, left;        /**< padding (SPACE_TO_BATCH_ND) or crop (BATCH_TO_SPACE_ND) */
    int32_t pad_value;        /**< the byte written where SPACE_TO_BATCH_ND pads */
} mcf_batch_space_params;

void mcf_space_to_batch_s8(const mcf_batch_space_params *p, const int8_t *input, int8_t *output);
void mcf_batch_to_space_s8(const mcf_batch_space_params *p, const int8_t *input, int8_t *output);

#endif /* MCF_BATCH_SPACE_S8_H */
