/* transpose_conv_s8.c - portable int8 transposed convolution, gathered per output pixel. */
#include "transpose_conv_s8.h"

#include "mcf_common.h"
#include "mcf_dsp.h"

/* *a0 += sum over k < n of x[k] * w0[k], *a1 the same with w1 (two output channels share each word
 * of x); on the DSP path four at a time (two SMLAD per word pair). The sums are exact in int32 in
 * any order (|x * w| <= 2^14 and the compiler bounds the tap count). */
static inline void mcf_tconv_dot2(const int8_t *x, const int8_t *w0, const int8_t *w1, int32_t n, int32_t *a0,
                                  int32_t *a1)
{
    int32_t s0 = 0, s1 = 0;
#if MCF_KERNELS_DSP
    for (; n >= 4; n -= 4) {
        const uint32_t xv = mcf_read_u32(x);
        const uint32_t xa = mcf_sxtb16(xv), xb = mcf_sxtb16_ror8(xv);
        const uint32_t v0 = mcf_read_u32(w0), v1 = mcf_read_u32(w1);
        s0 = mcf_smlad(mcf_sxtb16(v0), xa, s0);
        s0 = mcf_smlad(mcf_sxtb16_ror8(v0), xb, s0);
        s1 = mcf_smlad(mcf_sxtb16(v1), xa, s1);
        s1 = mcf_smlad(mcf_sxtb16_ror8(v1), xb, s1);
        x += 4;
        w0 += 4;
        w1 += 4;
    }
#endif
    for (; n > 0; --n) {
        const int32_t v = *x++;
        s0 += v * *w0++;
        s1 += v * *w1++;
    }
    *a0 += s0;
    *a1 += s1;
}

static inline int8_t mcf_tconv_out(const mcf_transpose_conv_params *p, int32_t acc, int32_t o)
{
    const int32_t q = p->per_channel ? o : 0;
    acc = mcf_requantize(acc, p->multiplier[q], p->shift[q]) + p->output_offset;
    return (int8_t)mcf_clamp(acc, p->act_min, p->act_max);
}

void mcf_transpose_conv_s8(const mcf_transpose_conv_params *p, const int8_t *input, const int8_t *filter,
                           int8_t *output)
{
    const int32_t ic = p->input_c;
    const int32_t in_row = p->input_w * ic;
    const int32_t filter_row = p->filter_w * ic;
    const int32_t filter_size = p->filter_h * filter_row;
    const int32_t fy_step = p->stride_h * filter_row; /* filter elements back per next input row */
    const int32_t fx_step = p->stride_w * ic;
    const int32_t taps = p->filter_h * p->filter_w;
    const int32_t t_step = p->stride_h * p->filter_w; /* tap_offset entries back per next input row */
    int32_t b, oy, ox, o, ty, tx;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->input_h * in_row;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t *r = p->rows + 3 * oy;
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t *c = p->cols + 3 * ox;
                const int8_t *x0 = image + r[0] * in_row + c[0] * ic;
                const int32_t w0 = r[2] * filter_row + c[2] * ic;
                const int32_t t0 = r[2] * p->filter_w + c[2];
                for (o = 0; o < p->output_c; o += 2) {
                    /* channels o and o + 1 (o itself again, result dropped, for an odd last one) */
                    const int32_t o1 = o + 1 < p->output_c ? o + 1 : o;
                    const int8_t *wa = filter + o * filter_size + w0;
                    const int8_t *wb = filter + o1 * filter_size + w0;
                    const int32_t *ta = p->tap_offset + o * taps + t0;
                    const int32_t *tb = p->tap_offset + o1 * taps + t0;
                    int32_t acc0 = p->bias[o], acc1 = p->bias[o1];
                    for (ty = 0; ty < r[1]; ++ty) {
                        const int8_t *x = x0 + ty * in_row;
                        const int32_t dw = -ty * fy_step;
                        const int32_t dt = -ty * t_step;
                        for (tx = 0; tx < c[1]; ++tx) {
                            mcf_tconv_dot2(x + tx * ic, wa + dw - tx * fx_step, wb + dw - tx * fx_step, ic, &acc0,
                                           &acc1);
                            acc0 += ta[dt - tx * p->stride_w];
                            acc1 += tb[dt - tx * p->stride_w];
                        }
                    }
                    *output++ = mcf_tconv_out(p, acc0, o);
                    if (o1 != o) {
                        *output++ = mcf_tconv_out(p, acc1, o1);
                    }
                }
            }
        }
    }
}
