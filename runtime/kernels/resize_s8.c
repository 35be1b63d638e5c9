/* resize_s8.c - portable int8 nearest-neighbour and bilinear resizing from precomputed tables. */
#include "resize_s8.h"

#include "mcf_common.h"
#include "mcf_dsp.h"

/* n bytes, a word at a time while four remain. */
static inline void mcf_resize_copy(int8_t *dst, const int8_t *src, int32_t n)
{
    for (; n >= 4; n -= 4) {
        mcf_write_u32(dst, mcf_read_u32(src));
        dst += 4;
        src += 4;
    }
    for (; n > 0; --n) {
        *dst++ = *src++;
    }
}

void mcf_resize_nearest_s8(const mcf_resize_params *p, const int8_t *input, int8_t *output)
{
    const int32_t c = p->channels;
    const int32_t image = p->input_h * p->input_w * c;
    int32_t b, y, x;
    for (b = 0; b < p->batches; ++b) {
        for (y = 0; y < p->output_h; ++y) {
            const int8_t *row = input + p->rows[y];
            for (x = 0; x < p->output_w; ++x) {
                mcf_resize_copy(output, row + p->cols[x], c);
                output += c;
            }
        }
        input += image;
    }
}

/* (v + 2^19) / 2^20 with C division (toward zero) after adding -2^19 for v <= 0: the nudge and
 * truncation become one arithmetic shift, floor((v + 2^19 - [v <= 0]) / 2^20). */
static inline int8_t mcf_resize_round(int32_t v)
{
    return (int8_t)((v + (1 << 19) - (v <= 0 ? 1 : 0)) >> 20);
}

void mcf_resize_bilinear_s8(const mcf_resize_params *p, const int8_t *input, int8_t *output)
{
    const int32_t c = p->channels;
    const int32_t image = p->input_h * p->input_w * c;
    int32_t b, y, x, k;
    for (b = 0; b < p->batches; ++b) {
        for (y = 0; y < p->output_h; ++y) {
            const int8_t *row0 = input + p->rows[3 * y];
            const int8_t *row1 = input + p->rows[3 * y + 1];
            const int32_t wy1 = p->rows[3 * y + 2];
            const int32_t wy0 = (1 << 10) - wy1;
            for (x = 0; x < p->output_w; ++x) {
                const int32_t c0 = p->cols[3 * x];
                const int32_t c1 = p->cols[3 * x + 1];
                const int32_t wx1 = p->cols[3 * x + 2];
                const int32_t wx0 = (1 << 10) - wx1;
                const int8_t *p00 = row0 + c0;
                const int8_t *p10 = row1 + c0;
                const int8_t *p01 = row0 + c1;
                const int8_t *p11 = row1 + c1;
                for (k = 0; k < c; ++k) {
                    const int32_t left = p00[k] * wy0 + p10[k] * wy1;
                    const int32_t right = p01[k] * wy0 + p11[k] * wy1;
                    output[k] = mcf_resize_round(left * wx0 + right * wx1);
                }
                output += c;
            }
        }
        input += image;
    }
}
