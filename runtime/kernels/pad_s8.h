/* pad_s8.h - int8 constant padding (TFLite PAD and PADV2), up to 5-D. */
#ifndef MCF_PAD_S8_H
#define MCF_PAD_S8_H

#include <stdint.h>

#define MCF_PAD_DIMS 5

/**
 * The input shape right-aligned in MCF_PAD_DIMS dimensions (leading dimensions 1), as mcuforge
 * simplified it: an unpadded dimension is folded into the one outside it, so the innermost
 * dimension is one contiguous run of input bytes per row.
 * Output dimension k is left[k] + input[k] + right[k]; block[k] is the number of output
 * elements one step of dimension k covers (product of the output dimensions inside k).
 */
typedef struct {
    int32_t input[MCF_PAD_DIMS];
    int32_t left[MCF_PAD_DIMS];  /**< elements of padding before the data, >= 0 */
    int32_t right[MCF_PAD_DIMS]; /**< elements of padding after the data, >= 0 */
    int32_t block[MCF_PAD_DIMS];
    int32_t pad_value;           /**< int8 value written to the padding */
} mcf_pad_params;

/** Copies the input bytes unchanged into the middle of the output and fills the rest with
 *  pad_value. Layouts: row-major input and output (NHWC for 4-D). */
void mcf_pad_s8(const mcf_pad_params *p, const int8_t *input, int8_t *output);

#endif /* MCF_PAD_S8_H */
