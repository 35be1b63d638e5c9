/* compare_s8.h - int8 comparisons with bool (byte 0 / 1) outputs: EQUAL, NOT_EQUAL, GREATER,
 * GREATER_EQUAL, LESS, LESS_EQUAL; and SELECT_V2 on int8 values (TFLite's operators). */
#ifndef MCF_COMPARE_S8_H
#define MCF_COMPARE_S8_H

#include <stdint.h>

/* The output in row-major order as `ndims` loop dimensions (outermost first), `dims[d]` the
 * extent, `strideK[d]` the element stride of input K (0 where it is broadcast). */

/** Comparison of ((x + offset) << left_shift) scaled by each input's Q31 multiplier and shift
 *  (<= 0), as TFLite Micro does for int8. */
typedef struct {
    int32_t comparison; /**< 0 ==, 1 !=, 2 >, 3 >=, 4 <, 5 <= */
    int32_t left_shift; /**< 8 */
    int32_t input1_offset;
    int32_t input1_multiplier;
    int32_t input1_shift;
    int32_t input2_offset;
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t ndims;
    const int32_t *dims;
    const int32_t *stride1;
    const int32_t *stride2;
} mcf_compare_params;

void mcf_compare_s8(const mcf_compare_params *p, const int8_t *input1, const int8_t *input2,
                    uint8_t *output);

/** SELECT_V2: output = condition ? x : y (stored bytes, no requantization). */
typedef struct {
    int32_t ndims;
    const int32_t *dims;
    const int32_t *stride1; /**< of the condition */
    const int32_t *stride2; /**< of x */
    const int32_t *stride3; /**< of y */
} mcf_select_params;

void mcf_select_s8(const mcf_select_params *p, const uint8_t *condition, const int8_t *x,
                   const int8_t *y, int8_t *output);

#endif /* MCF_COMPARE_S8_H */
