/* logical.h - TFLite LOGICAL_AND, LOGICAL_OR and LOGICAL_NOT on bool tensors (one byte each, 0 or
 * 1), numpy-style broadcasting up to rank 5. */
#ifndef MCF_LOGICAL_H
#define MCF_LOGICAL_H

#include <stdint.h>

#define MCF_LOGICAL_RANK 5

/**
 * output = (a != 0) OP (b != 0), OP: 0 and, 1 or, 2 exclusive or (LOGICAL_NOT is a exclusive-or a
 * constant 1). The output, row-major, is walked as MCF_LOGICAL_RANK nested loops of extents
 * `dims` (outermost first, padded with 1s); `stride_a[d]` / `stride_b[d]` are the element strides
 * of the inputs over them (0 where an input is broadcast).
 */
typedef struct {
    int32_t operation;
    const int32_t *dims;
    const int32_t *stride_a;
    const int32_t *stride_b;
} mcf_logical_params;

void mcf_logical_u8(const mcf_logical_params *p, const uint8_t *a, const uint8_t *b, uint8_t *output);

#endif /* MCF_LOGICAL_H */
