/* resize_s8.h - int8 image resizing (TFLite RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR). */
#ifndef MCF_RESIZE_S8_H
#define MCF_RESIZE_S8_H

#include <stdint.h>

/**
 * Input [batches][input_h][input_w][channels], output [batches][output_h][output_w][channels],
 * int8 raw values (no requantization: TFLite Micro copies or interpolates the raw values).
 * The tables, computed by mcuforge (generator/ops/resize.py) with TFLite Micro's arithmetic:
 *  - nearest: rows[y] = source row * input_w * channels, cols[x] = source column * channels;
 *  - bilinear: rows[3y..3y+2] = (lower row * input_w * channels, upper row * input_w * channels,
 *    weight of the upper row in 1/1024), cols[3x..3x+2] the same for columns (times channels).
 * Bilinear: v = sum of the four taps times their weights (1/2^20 units, |v| < 2^30), output
 * (v + 2^19) / 2^20 rounded half away from zero.
 */
typedef struct {
    int32_t batches;
    int32_t input_h;
    int32_t input_w;
    int32_t channels;
    int32_t output_h;
    int32_t output_w;
    const int32_t *rows;
    const int32_t *cols;
} mcf_resize_params;

void mcf_resize_nearest_s8(const mcf_resize_params *p, const int8_t *input, int8_t *output);
void mcf_resize_bilinear_s8(const mcf_resize_params *p, const int8_t *input, int8_t *output);

#endif /* MCF_RESIZE_S8_H */
