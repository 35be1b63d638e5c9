/* strided_copy.h - one N-D strided byte copy for the layout operators (TRANSPOSE, SLICE,
 * STRIDED_SLICE, BROADCAST_TO, DEPTH_TO_SPACE, SPACE_TO_DEPTH). */
#ifndef MCF_STRIDED_COPY_H
#define MCF_STRIDED_COPY_H

#include <stdint.h>

#define MCF_COPY_LOOPS 6

/**
 * MCF_COPY_LOOPS nested loops (outermost first) of count[k] iterations; each copies a run of `run`
 * bytes, then moves the read offset by in_step[k] and the write offset by out_step[k] bytes (any
 * sign; an input step of 0 repeats the same bytes). The first run is read at input + start and
 * written at output + 0. mcuforge computes these from the operator's index map: every output byte
 * is written once; a dimension contiguous in both tensors is folded into `run`, and the longest
 * remaining dimension is the innermost loop (so NCHW -> NHWC reads whole channel planes).
 * Unused outer loops have count 1 and steps 0.
 */
typedef struct {
    int32_t count[MCF_COPY_LOOPS];
    int32_t in_step[MCF_COPY_LOOPS];
    int32_t out_step[MCF_COPY_LOOPS];
    int32_t start; /**< byte offset of the first run in the input */
    int32_t run;   /**< bytes per run, >= 1 */
} mcf_strided_copy_params;

void mcf_strided_copy(const mcf_strided_copy_params *p, const void *input, void *output);

#endif /* MCF_STRIDED_COPY_H */
