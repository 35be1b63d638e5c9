/* arg_minmax_s8.h - index of the largest / smallest int8 value along one axis (TFLite ARG_MAX, ARG_MIN). */
#ifndef MCF_ARG_MINMAX_S8_H
#define MCF_ARG_MINMAX_S8_H

#include <stdint.h>

/**
 * The input, row-major, seen as [outer][axis_size][inner]; the output is [outer][inner] int32.
 * The first of equal values wins (TFLite Micro's strict comparison).
 */
typedef struct {
    int32_t outer;
    int32_t axis_size; /**< >= 1 */
    int32_t inner;
} mcf_arg_params;

void mcf_arg_max_s8(const mcf_arg_params *p, const int8_t *input, int32_t *output);
void mcf_arg_min_s8(const mcf_arg_params *p, const int8_t *input, int32_t *output);

#endif /* MCF_ARG_MINMAX_S8_H */
