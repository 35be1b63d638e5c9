/* logical.c - bool AND / OR / exclusive or with broadcasting: five nested loops, the innermost
 * one a run of bytes. */
#include "logical.h"

static uint8_t mcf_logical_one(int32_t operation, uint8_t a, uint8_t b)
{
    const uint8_t x = (uint8_t)(a != 0u);
    const uint8_t y = (uint8_t)(b != 0u);
    if (operation == 0) {
        return (uint8_t)(x & y);
    }
    return operation == 1 ? (uint8_t)(x | y) : (uint8_t)(x ^ y);
}

void mcf_logical_u8(const mcf_logical_params *p, const uint8_t *a, const uint8_t *b, uint8_t *output)
{
    const int32_t *n = p->dims;
    const int32_t *sa = p->stride_a;
    const int32_t *sb = p->stride_b;
    int32_t i0, i1, i2, i3, i4;
    for (i0 = 0; i0 < n[0]; ++i0) {
        for (i1 = 0; i1 < n[1]; ++i1) {
            for (i2 = 0; i2 < n[2]; ++i2) {
                for (i3 = 0; i3 < n[3]; ++i3) {
                    const uint8_t *x = a + i0 * sa[0] + i1 * sa[1] + i2 * sa[2] + i3 * sa[3];
                    const uint8_t *y = b + i0 * sb[0] + i1 * sb[1] + i2 * sb[2] + i3 * sb[3];
                    for (i4 = 0; i4 < n[4]; ++i4) {
                        *output++ = mcf_logical_one(p->operation, *x, *y);
                        x += sa[4];
                        y += sb[4];
                    }
                }
            }
        }
    }
}
