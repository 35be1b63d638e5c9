/* batch_matmul_s8_f32.h - BATCH_MATMUL as onnxruntime's QLinearMatMul computes it (batch_matmul_s8_f32.c). */
#ifndef MCF_BATCH_MATMUL_S8_F32_H
#define MCF_BATCH_MATMUL_S8_F32_H

#include "batch_matmul_s8.h"

/*
 * mcf_batch_matmul_s8 with onnxruntime's float32 output stage:
 *   out = clamp(round_half_even(float32(acc) * scale) + output_offset, -128, 127)
 * with `multiplier` holding the bits of scale = (lhs_scale * rhs_scale) / out_scale (float32) and
 * `shift` unused (generator/ops/float_requant.py, docs/kernels.md).
 */
void mcf_batch_matmul_s8_f32(const mcf_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs,
                             int8_t *output);

#endif /* MCF_BATCH_MATMUL_S8_F32_H */
