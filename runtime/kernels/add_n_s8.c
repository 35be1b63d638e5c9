/* add_n_s8.c - see add_n_s8.h. */
#include "add_n_s8.h"

#include "mcf_common.h"

static void mcf_add_n_core(const mcf_add_n_params *p, const int8_t *const *in, int8_t *out)
{
    const int32_t *scaled = p->scaled;
    int32_t i, j;
    for (i = 0; i < p->count; ++i) {
        int32_t acc = p->start;
        for (j = 0; j < p->num_inputs; ++j) {
            acc += scaled[(uint8_t)in[j][i]];
        }
        out[i] = (int8_t)mcf_clamp(mcf_requantize(acc, p->multiplier, p->shift) + p->output_offset, -128, 127);
    }
}

void mcf_add_n_s8_2(const mcf_add_n_params *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    const int8_t *const in[2] = {a, b};
    mcf_add_n_core(p, in, out);
}

void mcf_add_n_s8_3(const mcf_add_n_params *p, const int8_t *a, const int8_t *b, const int8_t *c, int8_t *out)
{
    const int8_t *const in[3] = {a, b, c};
    mcf_add_n_core(p, in, out);
}

void mcf_add_n_s8_4(const mcf_add_n_params *p, const int8_t *a, const int8_t *b, const int8_t *c,
                    const int8_t *d, int8_t *out)
{
    const int8_t *const in[4] = {a, b, c, d};
    mcf_add_n_core(p, in, out);
}

void mcf_add_n_s8_5(const mcf_add_n_params *p, const int8_t *a, const int8_t *b, const int8_t *c,
                    const int8_t *d, const int8_t *e, int8_t *out)
{
    const int8_t *const in[5] = {a, b, c, d, e};
    mcf_add_n_core(p, in, out);
}

void mcf_add_n_s8_6(const mcf_add_n_params *p, const int8_t *a, const int8_t *b, const int8_t *c,
                    const int8_t *d, const int8_t *e, const int8_t *f, int8_t *out)
{
    const int8_t *const in[6] = {a, b, c, d, e, f};
    mcf_add_n_core(p, in, out);
}

void mcf_add_n_s8_7(const mcf_add_n_params *p, const int8_t *a, const int8_t *b, const int8_t *c,
                    const int8_t *d, const int8_t *e, const int8_t *f, const int8_t *g, int8_t *out)
{
    const int8_t *const in[7] = {a, b, c, d, e, f, g};
    mcf_add_n_core(p, in, out);
}

void mcf_add_n_s8_8(const mcf_add_n_params *p, const int8_t *a, const int8_t *b, const int8_t *c,
                    const int8_t *d, const int8_t *e, const int8_t *f, const int8_t *g, const int8_t *h,
                    int8_t *out)
{
    const int8_t *const in[8] = {a, b, c, d, e, f, g, h};
    mcf_add_n_core(p, in, out);
}
