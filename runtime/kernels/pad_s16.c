/* pad_s16.c - int16 constant padding: rows of input copied as bytes, borders filled. */
#include "pad_s16.h"

#include "mcf_common.h"

/* Writes n copies of v at *out and advances *out. */
static MCF_NO_LIBCALL_LOOPS void mcf_pad_fill_s16(int16_t **out, int32_t n, int16_t v)
{
    int16_t *o = *out;
    int32_t i;
    for (i = 0; i < n; ++i) {
        o[i] = v;
    }
    *out = o + n;
}

void mcf_pad_s16(const mcf_pad_s16_params *p, const int16_t *input, int16_t *output)
{
    const int32_t *in = p->input;
    const int32_t *l = p->left;
    const int32_t *r = p->right;
    const int32_t *blk = p->block;
    const int16_t v = (int16_t)p->pad_value;
    const int16_t *src = input;
    int16_t *dst = output;
    int32_t i0, i1, i2, i3;

    mcf_pad_fill_s16(&dst, l[0] * blk[0], v);
    for (i0 = 0; i0 < in[0]; ++i0) {
        mcf_pad_fill_s16(&dst, l[1] * blk[1], v);
        for (i1 = 0; i1 < in[1]; ++i1) {
            mcf_pad_fill_s16(&dst, l[2] * blk[2], v);
            for (i2 = 0; i2 < in[2]; ++i2) {
                mcf_pad_fill_s16(&dst, l[3] * blk[3], v);
                for (i3 = 0; i3 < in[3]; ++i3) {
                    mcf_pad_fill_s16(&dst, l[4], v);
                    mcf_copy_s8((int8_t *)dst, (const int8_t *)src, 2 * in[4]);
                    dst += in[4];
                    src += in[4];
                    mcf_pad_fill_s16(&dst, r[4], v);
                }
                mcf_pad_fill_s16(&dst, r[3] * blk[3], v);
            }
            mcf_pad_fill_s16(&dst, r[2] * blk[2], v);
        }
        mcf_pad_fill_s16(&dst, r[1] * blk[1], v);
    }
    mcf_pad_fill_s16(&dst, r[0] * blk[0], v);
}
