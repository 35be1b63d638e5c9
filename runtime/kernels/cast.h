/* cast.h - TFLite CAST between the integer types: each value converted as C converts it. */
#ifndef MCF_CAST_H
#define MCF_CAST_H

#include <stdint.h>

/** Element types, coded by their byte size, negated (signed): int8 -1, int16 -2, int32 -4 (the
 *  integer types TFLite Micro's CAST converts). A narrower output keeps the low bits (two's complement). */
typedef struct {
    int32_t count; /**< elements */
    int32_t from;
    int32_t to;
} mcf_cast_params;

void mcf_cast(const mcf_cast_params *p, const void *input, void *output);

#endif /* MCF_CAST_H */
