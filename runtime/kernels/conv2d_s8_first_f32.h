/* conv2d_s8_first_f32.h - CONV_2D on 1 to 3 input channels with onnxruntime's float32 output stage
 * (conv2d_s8_first_f32.c). */
#ifndef MCF_CONV2D_S8_FIRST_F32_H
#define MCF_CONV2D_S8_FIRST_F32_H

#include "conv2d_s8_first.h"

/*
 * The entry points of conv2d_s8_first.h, each with the suffix _f32: the same parameters, column
 * order and weight layout, with `long_out` set (the sums are not doubled) and each channel's three
 * output words {scale bits, mq, pq} (mq, pq: mcf_requant_f32_pre's constants, for cores without an FPU); the output stage is onnxruntime's (CPU provider, MLAS):
 *   out = clamp(round_half_even(float32(acc) * scale) + output_offset, act_min, act_max)
 * The reference loop (portable builds) reads the scales' bit patterns from `multiplier` (one, or
 * one per output channel when `per_channel` is set); `shift` is unused. mcuforge computes the
 * scales as onnxruntime does (generator/ops/float_requant.py); mcf_requant_f32 (mcf_common.h) is the
 * arithmetic.
 */
void mcf_conv2d_s8_first_full_f32(const mcf_conv2d_first_params *p, const int8_t *input, const int8_t *filter,
                                  int8_t *output);
void mcf_conv2d_s8_first_clamp_f32(const mcf_conv2d_first_params *p, const int8_t *input, const int8_t *filter,
                                   int8_t *output);

#endif /* MCF_CONV2D_S8_FIRST_F32_H */
