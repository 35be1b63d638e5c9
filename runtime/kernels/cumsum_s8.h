/* cumsum_s8.h - int8 running sum along one axis (TFLite CUMSUM), forward or reversed, inclusive or
 * exclusive, requantized the way TFLite Micro's int8 kernel does. */
#ifndef MCF_CUMSUM_S8_H
#define MCF_CUMSUM_S8_H

#include <stdint.h>

/**
 * The tensor, row-major, seen as [outer][depth][inner]; each of the outer * inner columns is summed
 * along depth, starting at element `first` of the column and moving by `step` elements (`inner`,
 * or `-inner` when reversed). Every value enters the int32 sum as (x + input_offset) * input_factor
 * (TFLite Micro's (x - zp) << 20 halved by its exact 0.5 multiplier); the sum starts at `initial`
 * (TFLite Micro starts it from the scaled offset, not from 0) and wraps modulo 2^32. An output is the
 * sum after its own value (before it when exclusive), times output_multiplier * 2^output_shift
 * (shift <= 0), plus output_offset, saturated to int8.
 */
typedef struct {
    int32_t outer;
    int32_t depth; /**< >= 1 */
    int32_t inner;
    int32_t first; /**< 0, or (depth - 1) * inner when reversed */
    int32_t step;  /**< inner, or -inner when reversed */
    int32_t exclusive; /**< 1: an output holds the sum of the values before it */
    int32_t input_offset;
    int32_t input_factor;
    int32_t initial;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t output_offset;
} mcf_cumsum_params;

void mcf_cumsum_s8(const mcf_cumsum_params *p, const int8_t *input, int8_t *output);

#endif /* MCF_CUMSUM_S8_H */
