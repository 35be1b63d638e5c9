/* dynamic_update_slice.h - TFLite DYNAMIC_UPDATE_SLICE: the operand with a block overwritten by the
 * update, at start indices read at run time (clamped so the block fits), bytes copied unchanged. */
#ifndef MCF_DYNAMIC_UPDATE_SLICE_H
#define MCF_DYNAMIC_UPDATE_SLICE_H

#include <stdint.h>

#define MCF_DUS_LOOPS 4

/**
 * The output is the operand (`total` bytes) with the update written over it. The update, row-major,
 * is count[0] x ... x count[MCF_DUS_LOOPS - 1] rows of `run` bytes; moving one step in loop k moves
 * the write position by out_step[k] bytes. The block starts at sum_k clamp(starts[k], 0, limit[k]) *
 * start_step[k] bytes for the operand's `rank` axes (limit: operand extent minus update extent).
 * When the update is as large as the operand (`whole`), the output is the update.
 */
typedef struct {
    int32_t whole;
    int32_t total;
    int32_t rank;
    const int32_t *limit;
    const int32_t *start_step;
    int32_t count[MCF_DUS_LOOPS];
    int32_t out_step[MCF_DUS_LOOPS];
    int32_t run;
} mcf_dus_params;

void mcf_dynamic_update_slice(const mcf_dus_params *p, const void *operand, const void *update,
                              const int32_t *starts, void *output);

#endif /* MCF_DYNAMIC_UPDATE_SLICE_H */
