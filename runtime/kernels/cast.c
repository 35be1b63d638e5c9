/* cast.c - integer CAST: one loop per pair of types, chosen once per call. */
#include "cast.h"

/* Two's complement narrowing, written without implementation-defined conversions. */
static int8_t mcf_low8(int32_t v)
{
    const int32_t b = v & 0xFF;
    return (int8_t)(b >= 0x80 ? b - 0x100 : b);
}

static int16_t mcf_low16(int32_t v)
{
    const int32_t h = v & 0xFFFF;
    return (int16_t)(h >= 0x8000 ? h - 0x10000 : h);
}

#define MCF_CAST_LOOP(FROM_T, TO_T, CONVERT)                  \
    do {                                                      \
        const FROM_T *in = (const FROM_T *)input;             \
        TO_T *out = (TO_T *)output;                           \
        int32_t i;                                            \
        for (i = 0; i < p->count; ++i) {                      \
            out[i] = CONVERT((int32_t)in[i]);                 \
        }                                                     \
    } while (0)

#define MCF_AS_S8(v) mcf_low8(v)
#define MCF_AS_S16(v) mcf_low16(v)
#define MCF_AS_S32(v) (v)

/* The input read as FROM_T, written with each of the output types. */
#define MCF_CAST_FROM(FROM_T)                                                     \
    switch (p->to) {                                                              \
    case -1: MCF_CAST_LOOP(FROM_T, int8_t, MCF_AS_S8); break;                     \
    case -2: MCF_CAST_LOOP(FROM_T, int16_t, MCF_AS_S16); break;                   \
    default: MCF_CAST_LOOP(FROM_T, int32_t, MCF_AS_S32); break;                   \
    }

void mcf_cast(const mcf_cast_params *p, const void *input, void *output)
{
    switch (p->from) {
    case -1: MCF_CAST_FROM(int8_t); break;
    case -2: MCF_CAST_FROM(int16_t); break;
    default: MCF_CAST_FROM(int32_t); break;
    }
}
