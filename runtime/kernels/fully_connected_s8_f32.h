/* fully_connected_s8_f32.h - FULLY_CONNECTED with onnxruntime's float32 output stage
 * (fully_connected_s8_f32.c). */
#ifndef MCF_FULLY_CONNECTED_S8_F32_H
#define MCF_FULLY_CONNECTED_S8_F32_H

#include "fully_connected_s8.h"

/*
 * The entry points of fully_connected_s8.h, each with the suffix _f32: the same parameters and
 * paths, but the output stage is onnxruntime's (CPU provider, MLAS) instead of TFLite's fixed-
 * point one:
 *   out = clamp(round_half_even(float32(acc) * scale) + output_offset, act_min, act_max)
 * where `multiplier` holds the float32 scales' bit patterns (one, or one per output channel when
 * `per_channel` is set) and `shift` is unused. mcuforge computes the scales as onnxruntime does
 * (generator/ops/float_requant.py); mcf_requant_f32 (mcf_common.h) is the arithmetic, and
 * docs/kernels.md ("Float32 requantization") the formulas.
 */
void mcf_fully_connected_s8_f32(const mcf_fc_params *p, const int8_t *input,
                                const int8_t *weights, int8_t *output);
void mcf_fully_connected_s8_fast_path_f32(const mcf_fc_params *p, const int8_t *input,
                                          const int8_t *weights, int8_t *output);

#endif /* MCF_FULLY_CONNECTED_S8_F32_H */
