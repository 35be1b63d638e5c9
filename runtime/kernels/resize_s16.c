/* resize_s16.c - int16 nearest-neighbour resize: each output pixel a copy of one input pixel's
 * channels, its row and column looked up in the compiler's tables. */
#include "resize_s16.h"

#include "mcf_common.h"

void mcf_resize_nearest_s16(const mcf_resize_s16_params *p, const int16_t *input, int16_t *output)
{
    const int32_t c = p->channels;
    const int32_t bytes = 2 * c;
    const int32_t image = p->input_h * p->input_w * c;
    int32_t b, y, x;
    for (b = 0; b < p->batches; ++b) {
        for (y = 0; y < p->output_h; ++y) {
            const int16_t *row = input + p->rows[y];
            for (x = 0; x < p->output_w; ++x) {
                mcf_copy_s8((int8_t *)output, (const int8_t *)(row + p->cols[x]), bytes);
                output += c;
            }
        }
        input += image;
    }
}
