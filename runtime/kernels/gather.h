/* gather.h - TFLite GATHER: slices of the input picked by int32 positions. */
#ifndef MCF_GATHER_H
#define MCF_GATHER_H

#include <stdint.h>

/**
 * The input is [batches][outer][axis_size][run bytes]; the positions are [batches][coords].
 * For each batch b and outer index o, output slice (b, o, c) is input slice
 * (b, o, positions[b][c]). A position outside [0, axis_size) gives a slice of zeros
 * (TFLite Micro does not check positions at run time; its result is undefined there).
 */
typedef struct {
    int32_t batches;
    int32_t outer;
    int32_t coords;    /**< positions per batch */
    int32_t axis_size; /**< input slices per (batch, outer) */
    int32_t run;       /**< bytes per slice */
} mcf_gather_params;

void mcf_gather(const mcf_gather_params *p, const void *input, const int32_t *positions, void *output);

#endif /* MCF_GATHER_H */
