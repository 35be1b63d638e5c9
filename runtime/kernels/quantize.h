/* quantize.h - QUANTIZE (float32 -> int8, between int8 and uint8) and DEQUANTIZE (int8, uint8 ->
 * float32). */
#ifndef MCF_QUANTIZE_H
#define MCF_QUANTIZE_H

#include <stdint.h>

/**
 * float32 -> int8: output = clamp(round(input / scale) + zero_point, -128, 127), the division
 * done in float32 and the rounding half away from zero, as TFLite Micro does at run time (this
 * kernel therefore uses float). Quotients beyond +-512 saturate (they clamp to -128 / 127 anyway);
 * NaN maps to the zero point.
 */
typedef struct {
    int32_t size;       /**< number of elements (any layout, unchanged) */
    float scale;        /**< output scale */
    int32_t zero_point; /**< output zero point */
    /* Cores without an FPU (MCF_REQUANT_F32_SOFT; quantize.py, `soft_reciprocal`): R = 2^S / scale
     * rounded, in [2^31, 2^32), and 150 + S - 32, so that an input of significand m and biased
     * exponent e has |input| / scale * 2^32 = (m * R) >> (fx_shift - e) to within 2^9 + 1 units; where
     * that quotient is below 2^9 and its fraction farther than 2^17 + 2^10 units from a half (the
     * float32 division's error included), it decides the rounding. fx_recip 0: not taken. */
    uint32_t fx_recip;
    int32_t fx_shift;
} mcf_quantize_params;

void mcf_quantize_f32_s8(const mcf_quantize_params *p, const float *input, int8_t *output);

/** The same with onnxruntime's rounding (QuantizeLinear): input / scale in float32, rounded half to
 * even (mcf_round_f32), plus the zero point, saturated. For ONNX models (IR option requant=float32). */
void mcf_quantize_f32_s8_rne(const mcf_quantize_params *p, const float *input, int8_t *output);

/**
 * Requantization between 8-bit types (int8 -> int8, uint8 -> int8, int8 -> uint8). The result is
 * a function of one byte, evaluated by mcuforge for all 256 values (TFLite Micro's integer
 * requantization): output byte = table[input byte]. Input and output may be the same buffer.
 */
typedef struct {
    int32_t size;
    const uint8_t *table; /**< [256], indexed by the input byte's bit pattern */
} mcf_requantize_params;

void mcf_requantize_8(const mcf_requantize_params *p, const void *input, void *output);

/**
 * int8 -> float32: output = scale * (input - zero_point). TFLite Micro multiplies in double and
 * rounds to float once; the exact product of a float32 scale and an integer below 2^9 fits in
 * 33 bits, so one float32 multiply rounds the same exact value the same way: identical results.
 */
typedef struct {
    int32_t size;
    float scale;        /**< input scale */
    int32_t zero_point; /**< input zero point */
} mcf_dequantize_params;

void mcf_dequantize_s8_f32(const mcf_dequantize_params *p, const int8_t *input, float *output);

/** uint8 -> float32, the same arithmetic (|input - zero_point| <= 255). */
void mcf_dequantize_u8_f32(const mcf_dequantize_params *p, const uint8_t *input, float *output);

#endif /* MCF_QUANTIZE_H */
