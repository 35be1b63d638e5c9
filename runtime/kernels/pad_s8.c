/* pad_s8.c - portable int8 constant padding. */
#include "pad_s8.h"

#include "mcf_common.h"

/* Writes n copies of v at *out and advances *out. */
static void mcf_pad_fill(int8_t **out, int32_t n, int8_t v)
{
    mcf_fill_s8(*out, v, n);
    *out += n;
}

void mcf_pad_s8(const mcf_pad_params *p, const int8_t *input, int8_t *output)
{
    const int32_t *in = p->input;
    const int32_t *l = p->left;
    const int32_t *r = p->right;
    const int32_t *blk = p->block;
    const int8_t v = (int8_t)p->pad_value;
    const int8_t *src = input;
    int8_t *dst = output;
    int32_t i0, i1, i2, i3;

    mcf_pad_fill(&dst, l[0] * blk[0], v);
    for (i0 = 0; i0 < in[0]; ++i0) {
        mcf_pad_fill(&dst, l[1] * blk[1], v);
        for (i1 = 0; i1 < in[1]; ++i1) {
            mcf_pad_fill(&dst, l[2] * blk[2], v);
            for (i2 = 0; i2 < in[2]; ++i2) {
                mcf_pad_fill(&dst, l[3] * blk[3], v);
                for (i3 = 0; i3 < in[3]; ++i3) {
                    mcf_pad_fill(&dst, l[4], v);
                    mcf_copy_s8(dst, src, in[4]);
                    dst += in[4];
                    src += in[4];
                    mcf_pad_fill(&dst, r[4], v);
                }
                mcf_pad_fill(&dst, r[3] * blk[3], v);
            }
            mcf_pad_fill(&dst, r[2] * blk[2], v);
        }
        mcf_pad_fill(&dst, r[1] * blk[1], v);
    }
    mcf_pad_fill(&dst, r[0] * blk[0], v);
}
