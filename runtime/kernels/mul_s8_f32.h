/* mul_s8_f32.h - MUL as onnxruntime's QLinearMul computes it (mul_s8_f32.c). */
#ifndef MCF_MUL_S8_F32_H
#define MCF_MUL_S8_F32_H

#include "mul_s8.h"

/*
 * mcf_mul_s8 with onnxruntime's float32 output stage: prod = (a - zp1) * (b - zp2) in int32, then
 *   out = clamp(round_half_even(float32(prod) * scale + float32(output_offset)), act_min, act_max)
 * (the zero point added in float32 before rounding, a separate addition, not a fused one)
 * with `output_multiplier` holding the bits of scale = (scale1 * scale2) / out_scale (float32) and
 * `output_shift` unused (generator/ops/float_requant.py, docs/kernels.md). Broadcasting as mcf_mul_s8.
 */
void mcf_mul_s8_f32(const mcf_mul_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);

#endif /* MCF_MUL_S8_F32_H */
