/* binary_s8_f32.h - int8 ADD, SUB and MUL as onnxruntime computes them (binary_s8_f32.c). */
#ifndef MCF_BINARY_S8_F32_H
#define MCF_BINARY_S8_F32_H

#include <stdint.h>

/**
 * Constants computed by mcuforge at compile time (generator/ops/binary_f32.py). "Raw" values are the
 * bytes onnxruntime's kernel reads: the int8 value plus `input*_offset` (128 where onnxruntime runs
 * the tensor as uint8, as it does with every int8 QDQ model on x86), zero points likewise.
 */
typedef struct {
    int32_t input1_offset; /**< ADD: int8 -> raw value; MUL: minus input1's zero point */
    int32_t input2_offset;
    float ratio1;          /**< ADD: scale1 / out_scale; MUL: (scale1 * scale2) / out_scale */
    float ratio2;          /**< ADD: scale2 / out_scale */
    float fixed;           /**< ADD: raw out zp - (ratio1 * raw zp1 + ratio2 * raw zp2); MUL: raw out zp */
    float out_scale;       /**< SUB, _dq: the output scale (a division) */
    int32_t out_zero_point;/**< SUB, _dq: the output zero point */
    int32_t out_offset;    /**< raw result -> int8 (-128 where the raw type is uint8) */
    int32_t raw_min;       /**< saturation bounds of the raw type (0, 255 or -128, 127) */
    int32_t raw_max;
    int32_t act_min;       /**< clamp of the int8 result (fused activation), within [-128, 127] */
    int32_t act_max;
    const float *dequant1; /**< SUB, _dq: [256] scale1 * (x - zp1) indexed by the byte of x */
    const float *dequant2;
    int32_t ndims;         /**< 1 .. MCF_BCAST_MAX_DIMS */
    const int32_t *dims;   /**< [ndims] loop extents, outermost first */
    const int32_t *stride1;/**< [ndims] element strides of input1 (0 = broadcast) */
    const int32_t *stride2;
    /* ADD's fixed-point route on cores without an FPU (rows where both inputs move; binary_s8_f32.c,
     * float_requant.add_soft_constants): fraction bits F (0: not taken), ratio1, ratio2 and
     * fixed + 1/2 + 512 units as integers of 2^-F. MUL's (float_requant.mul_soft_constants): 32 (0: not
     * taken), ratio1 * 2^32 rounded, and the raw output zero point in fx_fixed.
     * The float operator's (SUB, _dq; float_requant.float_row_constants): F <= 31 (0: not taken),
     * ADD / SUB: x * fx_ratio1 + y * fx_ratio2 + fx_fixed_hi:fx_fixed on the int8 bytes, MUL:
     * (x - zp1) * (y - zp2) * fx_ratio1 + fx_fixed_hi:fx_fixed (zp: minus input*_offset), in units
     * of 2^-F output steps, the value before rounding plus 1/2; fx_margin bounds the float32
     * arithmetic's distance from it there */
    int32_t fx_shift;
    int32_t fx_ratio1;
    int32_t fx_ratio2;
    int32_t fx_fixed;
    int32_t fx_fixed_hi;
    uint32_t fx_margin;
} mcf_binary_f32_params;

/** QLinearAdd (its AVX2 kernel): per innermost row, both inputs varying:
 *  rne(fma(a, r1, fma(b, r2, fixed))); one input constant along the row (broadcast):
 *  rne(fma(v, r_v, fixed + s * r_s)), the scalar s folded in first with two roundings. */
void mcf_add_s8_f32_ort(const mcf_binary_f32_params *p, const int8_t *input1, const int8_t *input2,
                        int8_t *output);

/** Sub between DequantizeLinear and QuantizeLinear: rne((deq1(a) - deq2(b)) / out_scale) + zp. */
void mcf_sub_s8_f32_ort(const mcf_binary_f32_params *p, const int8_t *input1, const int8_t *input2,
                        int8_t *output);

/** ADD and MUL that onnxruntime leaves unfused (a DequantizeLinear feeding it is shared): float32
 *  between DequantizeLinear and QuantizeLinear, as mcf_sub_s8_f32_ort. */
void mcf_add_s8_f32_dq(const mcf_binary_f32_params *p, const int8_t *input1, const int8_t *input2,
                       int8_t *output);
void mcf_mul_s8_f32_dq(const mcf_binary_f32_params *p, const int8_t *input1, const int8_t *input2,
                       int8_t *output);

/** QLinearMul (SSE2): rne(float32((a - zp1) * (b - zp2)) * ratio1 + fixed), two roundings. */
void mcf_mul_s8_f32_ort(const mcf_binary_f32_params *p, const int8_t *input1, const int8_t *input2,
                        int8_t *output);

#endif /* MCF_BINARY_S8_F32_H */
