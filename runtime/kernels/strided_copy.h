/* strided_copy.h - one N-D strided byte copy for the layout operators (TRANSPOSE, SLICE,
 * STRIDED_SLICE, BROADCAST_TO, DEPTH_TO_SPACE, SPACE_TO_DEPTH). */
#ifndef MCF_STRIDED_COPY_H
#define MCF_STRIDED_COPY_H

#include <stdint.h>

#define MCF_COPY_LOOPS 6

/**
 * The output is written in order, one run of `run` bytes after another: MCF_COPY_LOOPS nested
 * loops (outermost first) of count[k] iterations; each iteration of loop k moves the read
 * pointer by step[k] bytes (any sign; 0 repeats the same input bytes). The first run is read at
 * input + start. mcuforge computes these from the operator's index map: the output is always
 * contiguous, and a dimension contiguous in both tensors is folded into `run`.
 * Unused outer loops have count 1 and step 0.
 */
typedef struct {
    int32_t count[MCF_COPY_LOOPS];
    int32_t step[MCF_COPY_LOOPS];
    int32_t start; /**< byte offset of the first run in the input */
    int32_t run;   /**< bytes per run, >= 1 */
} mcf_strided_copy_params;

void mcf_strided_copy(const mcf_strided_copy_params *p, const void *input, void *output);

#endif /* MCF_STRIDED_COPY_H */
