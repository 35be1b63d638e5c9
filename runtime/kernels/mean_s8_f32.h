/* mean_s8_f32.h - MEAN as onnxruntime's QLinearGlobalAveragePool computes it (mean_s8_f32.c). */
#ifndef MCF_MEAN_S8_F32_H
#define MCF_MEAN_S8_F32_H

#include "mean_s8.h"

/*
 * mcf_mean_s8 with onnxruntime's float32 output stage: acc = acc_init + the sum of the group (the
 * int32 sum of x - input_zero_point), then
 *   output = clamp(round_half_even(float32(acc) * scale) + output_offset, -128, 127)
 * with `multiplier` holding the bits of scale = input_scale / (output_scale * float32(count)) and
 * `shift` unused (generator/ops/float_requant.py, docs/kernels.md). The reductions to a maximum or a
 * minimum have no output stage; their _f32 names only keep the two copies apart.
 */
void mcf_mean_s8_f32(const mcf_mean_params *p, const int8_t *input, int8_t *output);
void mcf_reduce_max_s8_f32(const mcf_reduce_params *p, const int8_t *input, int8_t *output);
void mcf_reduce_min_s8_f32(const mcf_reduce_params *p, const int8_t *input, int8_t *output);

#endif /* MCF_MEAN_S8_F32_H */
