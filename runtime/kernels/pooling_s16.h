/* pooling_s16.h - int16 average and max pooling over NHWC tensors (TFLite AVERAGE_POOL_2D,
 * MAX_POOL_2D with 16x8 quantization). */
#ifndef MCF_POOLING_S16_H
#define MCF_POOLING_S16_H

#include <stdint.h>

#include "mcf_pool.h" /* mcf_pool_params: the clamp within int16 */

/** Mean of the window's taps inside the input, halves rounded away from zero. */
void mcf_avgpool_s16(const mcf_pool_params *p, const int16_t *input, int16_t *output);

void mcf_maxpool_s16(const mcf_pool_params *p, const int16_t *input, int16_t *output);

#endif /* MCF_POOLING_S16_H */
