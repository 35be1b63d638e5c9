/* add_n_s8.h - ADD_N (int8): the sum of 2 to 8 tensors of one shape and one quantization. */
#ifndef MCF_ADD_N_S8_H
#define MCF_ADD_N_S8_H

#include <stdint.h>

#define MCF_ADD_N_MAX 8

/**
 * TFLite Micro's int8 ADD_N: each input value q becomes scaled[q & 0xFF] (its offset value shifted
 * left by 20 and halved with rounding, computed by mcuforge for all 256 bytes); the sum starts at
 * `start` (the scaled value of the byte 0, which TFLite Micro's loop adds once more), is
 * requantized by (multiplier, shift), offset and clamped to int8.
 */
typedef struct {
    int32_t count;      /**< elements per tensor */
    int32_t num_inputs;
    const int32_t *scaled; /**< 256 entries */
    int32_t start;
    int32_t multiplier;
    int32_t shift;      /**< <= 0 */
    int32_t output_offset;
} mcf_add_n_params;

void mcf_add_n_s8_2(const mcf_add_n_params *p, const int8_t *a, const int8_t *b, int8_t *out);
void mcf_add_n_s8_3(const mcf_add_n_params *p, const int8_t *a, const int8_t *b, const int8_t *c, int8_t *out);
void mcf_add_n_s8_4(const mcf_add_n_params *p, const int8_t *a, const int8_t *b, const int8_t *c,
                    const int8_t *d, int8_t *out);
void mcf_add_n_s8_5(const mcf_add_n_params *p, const int8_t *a, const int8_t *b, const int8_t *c,
                    const int8_t *d, const int8_t *e, int8_t *out);
void mcf_add_n_s8_6(const mcf_add_n_params *p, const int8_t *a, const int8_t *b, const int8_t *c,
                    const int8_t *d, const int8_t *e, const int8_t *f, int8_t *out);
void mcf_add_n_s8_7(const mcf_add_n_params *p, const int8_t *a, const int8_t *b, const int8_t *c,
                    const int8_t *d, const int8_t *e, const int8_t *f, const int8_t *g, int8_t *out);
void mcf_add_n_s8_8(const mcf_add_n_params *p, const int8_t *a, const int8_t *b, const int8_t *c,
                    const int8_t *d, const int8_t *e, const int8_t *f, const int8_t *g, const int8_t *h,
                    int8_t *out);

#endif /* MCF_ADD_N_S8_H */
