/* batch_space_s8.c - see batch_space_s8.h. Loops only: every index is a product and a sum. */
#include "batch_space_s8.h"

static void mcf_bs_copy(int8_t *dst, const int8_t *src, int32_t n)
{
    int32_t k;
    for (k = 0; k < n; ++k) {
        dst[k] = src[k];
    }
}

void mcf_space_to_batch_s8(const mcf_batch_space_params *p, const int8_t *input, int8_t *output)
{
    const int32_t depth = p->depth;
    const int32_t row = p->in_w * depth;
    const int8_t pad = (int8_t)p->pad_value;
    int8_t *out = output;
    int32_t sh, sw, b, oy, ox, k;
    for (sh = 0; sh < p->block_h; ++sh) {
        for (sw = 0; sw < p->block_w; ++sw) {
            for (b = 0; b < p->batch; ++b) {
                const int8_t *image = input + b * p->in_h * row;
                for (oy = 0; oy < p->out_h; ++oy) {
                    const int32_t iy = oy * p->block_h + sh - p->top;
                    const int row_in = iy >= 0 && iy < p->in_h;
                    for (ox = 0; ox < p->out_w; ++ox) {
                        const int32_t ix = ox * p->block_w + sw - p->left;
                        if (row_in && ix >= 0 && ix < p->in_w) {
                            mcf_bs_copy(out, image + iy * row + ix * depth, depth);
                        } else {
                            for (k = 0; k < depth; ++k) {
                                out[k] = pad;
                            }
                        }
                        out += depth;
                    }
                }
            }
        }
    }
}

void mcf_batch_to_space_s8(const mcf_batch_space_params *p, const int8_t *input, int8_t *output)
{
    const int32_t depth = p->depth;
    const int32_t row = p->out_w * depth;
    const int8_t *in = input;
    int32_t sh, sw, b, iy, ix;
    for (sh = 0; sh < p->block_h; ++sh) {
        for (sw = 0; sw < p->block_w; ++sw) {
            for (b = 0; b < p->batch; ++b) {
                int8_t *image = output + b * p->out_h * row;
                for (iy = 0; iy < p->in_h; ++iy) {
                    const int32_t oy = iy * p->block_h + sh - p->top;
                    if (oy < 0 || oy >= p->out_h) {
                        in += p->in_w * depth;
                        continue;
                    }
                    for (ix = 0; ix < p->in_w; ++ix) {
                        const int32_t ox = ix * p->block_w + sw - p->left;
                        if (ox >= 0 && ox < p->out_w) {
                            mcf_bs_copy(image + oy * row + ox * depth, in, depth);
                        }
                        in += depth;
                    }
                }
            }
        }
    }
}
