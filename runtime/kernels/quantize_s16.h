/* quantize_s16.h - QUANTIZE to and from int16 (float32 -> int16, int8 -> int16, int16 -> int8,
 * int16 -> int16, int32 <-> int16) and DEQUANTIZE int16 -> float32. */
#ifndef MCF_QUANTIZE_S16_H
#define MCF_QUANTIZE_S16_H

#include <stdint.h>

/** float32 -> int16: round(input / scale) + zero_point (float32 division, halves away from zero,
 *  as TFLite Micro's AffineQuantize), clamped to int16. */
typedef struct {
    int32_t size;
    float scale;        /**< output scale */
    int32_t zero_point; /**< output zero point */
} mcf_quantize_s16_params;

void mcf_quantize_f32_s16(const mcf_quantize_s16_params *p, const float *input, int16_t *output);

/** int16 -> int16 or int8: TFLite Micro's Requantize, (x - input_zero_point) times the Q31
 *  `multiplier` and `shift` (> 0 shifts left), plus output_zero_point, clamped to the output type. */
typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t multiplier;
    int32_t shift;
    int32_t output_zero_point;
} mcf_requantize_s16_params;

void mcf_requantize_s16_s16(const mcf_requantize_s16_params *p, const int16_t *input, int16_t *output);
void mcf_requantize_s16_s8(const mcf_requantize_s16_params *p, const int16_t *input, int8_t *output);
/** int32 <-> int16 with the same parameters (the int32 difference wraps as in TFLite Micro). */
void mcf_requantize_s32_s16(const mcf_requantize_s16_params *p, const int32_t *input, int16_t *output);
void mcf_requantize_s16_s32(const mcf_requantize_s16_params *p, const int16_t *input, int32_t *output);

/** int8 -> int16: Requantize of one byte, tabulated by the compiler for all 256 values. */
typedef struct {
    int32_t size;
    const int16_t *table; /**< [256], indexed by the input byte's bit pattern */
} mcf_requantize_s8_s16_params;

void mcf_requantize_s8_s16(const mcf_requantize_s8_s16_params *p, const int8_t *input, int16_t *output);

/** int16 -> float32: scale * (input - zero_point) as one float32 multiply, which equals TFLite's
 *  double product rounded to float (a 17-bit integer times a 24-bit significand is exact in double). */
typedef struct {
    int32_t size;
    float scale;
    int32_t zero_point;
} mcf_dequantize_s16_params;

void mcf_dequantize_s16_f32(const mcf_dequantize_s16_params *p, const int16_t *input, float *output);

#endif /* MCF_QUANTIZE_S16_H */
