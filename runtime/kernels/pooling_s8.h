/* pooling_s8.h - int8 average and max pooling (TFLite AVERAGE_POOL_2D, MAX_POOL_2D). */
#ifndef MCF_POOLING_S8_H
#define MCF_POOLING_S8_H

#include <stdint.h>

#include "mcf_pool.h" /* mcf_pool_params */

/** Average of the window's taps that lie inside the input, rounded to nearest with halves away
 *  from zero, then clamped. Layouts: input [batches][input_h][input_w][channels], output
 *  [batches][output_h][output_w][channels] (NHWC). Every window must hold at least one input tap
 *  (checked at compile time). */
void mcf_avgpool_s8(const mcf_pool_params *p, const int8_t *input, int8_t *output);

/** Maximum of the window's taps inside the input (-128 for an empty window), then clamped.
 *  Same layouts as mcf_avgpool_s8. */
void mcf_maxpool_s8(const mcf_pool_params *p, const int8_t *input, int8_t *output);

#endif /* MCF_POOLING_S8_H */
