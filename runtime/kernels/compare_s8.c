/* compare_s8.c - int8 comparisons and SELECT_V2 with broadcasting: an odometer over the loop
 * dimensions the compiler described, one innermost row at a time. */
#include "compare_s8.h"

#include "mcf_common.h"

#define MCF_CMP_MAX_DIMS 5

/* Moves the odometer past one innermost row: returns the element offsets of up to three inputs. */
static void mcf_cmp_next_row(int32_t outer, const int32_t *dims, const int32_t *const *strides,
                             int32_t count, int32_t *idx, int32_t *off)
{
    int32_t d = outer - 1;
    int32_t k;
    while (d >= 0) {
        idx[d] += 1;
        for (k = 0; k < count; ++k) {
            off[k] += strides[k][d];
        }
        if (idx[d] < dims[d]) {
            return;
        }
        for (k = 0; k < count; ++k) {
            off[k] -= strides[k][d] * dims[d];
        }
        idx[d] = 0;
        --d;
    }
}

static int32_t mcf_cmp_rows(int32_t ndims, const int32_t *dims)
{
    int32_t rows = 1;
    int32_t d;
    for (d = 0; d < ndims - 1; ++d) {
        rows *= dims[d];
    }
    return rows;
}

void mcf_compare_s8(const mcf_compare_params *p, const int8_t *input1, const int8_t *input2,
                    uint8_t *output)
{
    const int32_t outer = p->ndims - 1;
    const int32_t n = p->dims[outer];
    const int32_t s1 = p->stride1[outer];
    const int32_t s2 = p->stride2[outer];
    const int32_t *const strides[2] = {p->stride1, p->stride2};
    const int32_t rows = mcf_cmp_rows(p->ndims, p->dims);
    const int32_t scale = (int32_t)1 << p->left_shift;
    int32_t idx[MCF_CMP_MAX_DIMS];
    int32_t off[2] = {0, 0};
    int32_t r;
    int32_t i;
    mcf_zero_i32(idx, MCF_CMP_MAX_DIMS); /* not an initializer: that may become a memset call */
    for (r = 0; r < rows; ++r) {
        const int8_t *a = input1 + off[0];
        const int8_t *b = input2 + off[1];
        for (i = 0; i < n; ++i) {
            const int32_t x = mcf_requantize((*a + p->input1_offset) * scale, p->input1_multiplier,
                                             p->input1_shift);
            const int32_t y = mcf_requantize((*b + p->input2_offset) * scale, p->input2_multiplier,
                                             p->input2_shift);
            int32_t v;
            switch (p->comparison) {
            case 0: v = x == y; break;
            case 1: v = x != y; break;
            case 2: v = x > y; break;
            case 3: v = x >= y; break;
            case 4: v = x < y; break;
            default: v = x <= y; break;
            }
            *output++ = (uint8_t)v;
            a += s1;
            b += s2;
        }
        mcf_cmp_next_row(outer, p->dims, strides, 2, idx, off);
    }
}

void mcf_select_s8(const mcf_select_params *p, const uint8_t *condition, const int8_t *x,
                   const int8_t *y, int8_t *output)
{
    const int32_t outer = p->ndims - 1;
    const int32_t n = p->dims[outer];
    const int32_t sc = p->stride1[outer];
    const int32_t sx = p->stride2[outer];
    const int32_t sy = p->stride3[outer];
    const int32_t *const strides[3] = {p->stride1, p->stride2, p->stride3};
    const int32_t rows = mcf_cmp_rows(p->ndims, p->dims);
    int32_t idx[MCF_CMP_MAX_DIMS];
    int32_t off[3] = {0, 0, 0};
    int32_t r;
    int32_t i;
    mcf_zero_i32(idx, MCF_CMP_MAX_DIMS); /* not an initializer: that may become a memset call */
    for (r = 0; r < rows; ++r) {
        const uint8_t *c = condition + off[0];
        const int8_t *a = x + off[1];
        const int8_t *b = y + off[2];
        for (i = 0; i < n; ++i) {
            *output++ = *c ? *a : *b;
            c += sc;
            a += sx;
            b += sy;
        }
        mcf_cmp_next_row(outer, p->dims, strides, 3, idx, off);
    }
}
