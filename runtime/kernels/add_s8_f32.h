/* add_s8_f32.h - ADD as onnxruntime's QLinearAdd computes it (add_s8_f32.c). */
#ifndef MCF_ADD_S8_F32_H
#define MCF_ADD_S8_F32_H

#include "add_s8.h"

/*
 * mcf_add_s8 with onnxruntime's float32 arithmetic (the AVX2 kernel of QLinearAdd, inputs of the
 * same shape): out = clamp(rne(fma(a, r1, fma(b, r2, k))), act_min, act_max) on the raw int8 values,
 * where input1_multiplier, input2_multiplier and output_multiplier hold the bits of the float32
 * r1 = scale1 / out_scale, r2 = scale2 / out_scale and k = out_zp - (r1 * zp1 + r2 * zp2) and the
 * other rescaling fields are unused (generator/ops/float_requant.py, docs/kernels.md).
 * mcf_sub_s8_f32 only keeps the two copies of add_s8.c apart (onnxruntime has no integer Sub).
 */
void mcf_add_s8_f32(const mcf_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);
void mcf_sub_s8_f32(const mcf_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);

#endif /* MCF_ADD_S8_F32_H */
