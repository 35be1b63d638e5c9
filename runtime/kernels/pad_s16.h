/* pad_s16.h - int16 constant padding (TFLite PAD and PADV2 with int16 data), up to 5-D. */
#ifndef MCF_PAD_S16_H
#define MCF_PAD_S16_H

#include <stdint.h>

#define MCF_PAD_S16_DIMS 5

/** Same layout as mcf_pad_params (pad_s8.h), counted in int16 elements: the shape simplified by
 *  the compiler, right-aligned in five dimensions; block[k] is the output elements per step of
 *  dimension k. */
typedef struct {
    int32_t input[MCF_PAD_S16_DIMS];
    int32_t left[MCF_PAD_S16_DIMS];
    int32_t right[MCF_PAD_S16_DIMS];
    int32_t block[MCF_PAD_S16_DIMS];
    int32_t pad_value; /**< int16 value written to the padding */
} mcf_pad_s16_params;

/** Copies the input values unchanged into the middle of the output and fills the rest with
 *  pad_value. */
void mcf_pad_s16(const mcf_pad_s16_params *p, const int16_t *input, int16_t *output);

#endif /* MCF_PAD_S16_H */
