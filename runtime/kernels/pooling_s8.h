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

/** mcf_maxpool_s8 in two passes, for large windows: per output row, the maximum over the window's
 *  rows of each input byte that some window reads (those columns of the row, every channel) into
 *  scratch, then per output pixel the maximum over the window's columns of that row. Max is exact
 *  in any order, so the results equal mcf_maxpool_s8's; the taps read per output pixel drop from
 *  filter_h * filter_w to about filter_h + filter_w, four channels a word (SSUB8 + SEL) on DSP
 *  cores. */
void mcf_maxpool_s8_rows(const mcf_pool_params *p, const int8_t *input, int8_t *output, void *scratch);

/** The row of column maxima that mcf_maxpool_s8_rows_stack keeps on its stack, in bytes
 *  (generator/ops/pooling.py: ROW_STACK_BYTES). */
#define MCF_POOL_ROW_STACK_BYTES 512

/** mcf_maxpool_s8_rows with its row of column maxima on the stack, for layers whose window columns
 *  of one input row (channels included) take at most MCF_POOL_ROW_STACK_BYTES bytes. */
void mcf_maxpool_s8_rows_stack(const mcf_pool_params *p, const int8_t *input, int8_t *output);

#endif /* MCF_POOLING_S8_H */
