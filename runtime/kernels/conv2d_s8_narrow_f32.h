/* conv2d_s8_narrow_f32.h - the blocked and depth-8 paths of conv2d_s8_narrow with onnxruntime's
 * float32 output stage (conv2d_s8_narrow_f32.c). */
#ifndef MCF_CONV2D_S8_NARROW_F32_H
#define MCF_CONV2D_S8_NARROW_F32_H

#include "conv2d_s8_narrow.h"

/*
 * mcf_conv2d_s8_narrow_{full,clamp} with the suffix _f32: the same parameters and layout, but each
 * output channel's three output constants are {half its float32 scale's bit pattern, mq, pq}
 * (mcf_requant_f32_pre's constants for that half scale and the doubled sums, which cores without
 * an FPU use) and the output zero point is the params' output_offset.
 */
void mcf_conv2d_s8_narrow_full_f32(const mcf_conv2d_narrow_params *p, const int8_t *input, const int8_t *filter,
                                   int8_t *output);
void mcf_conv2d_s8_narrow_clamp_f32(const mcf_conv2d_narrow_params *p, const int8_t *input, const int8_t *filter,
                                    int8_t *output);

/*
 * mcf_conv2d_s8_narrow_k8_{full,clamp} with the suffix _f32 (the depth-4 path of conv2d_s8_narrow.h
 * has no float32 copy): the same parameters and layout, but each output channel's words 1 and 6
 * hold half its float32 scale's bit pattern (the exponent one lower: the sums are doubled, and
 * float32(2 * acc) * (scale / 2) equals float32(acc) * scale exactly) and the output zero point,
 * words 7 and 8 (nine words a channel, eleven when clamped) mcf_requant_f32_pre's constants for
 * that half scale, which cores without an FPU use. out = clamp(round_half_even(float32(acc) *
 * scale) + output_offset, act_min, act_max), onnxruntime's output stage. Portable builds run the reference loop with the scales'
 * bit patterns in `multiplier`; `shift` is unused. The scales are computed as onnxruntime does
 * (generator/ops/float_requant.py); mcf_requant_f32 (mcf_common.h) is the arithmetic.
 */
void mcf_conv2d_s8_narrow_k8_full_f32(const mcf_conv2d_narrow_params *p, const int8_t *input, const int8_t *filter,
                                      int8_t *output);
void mcf_conv2d_s8_narrow_k8_clamp_f32(const mcf_conv2d_narrow_params *p, const int8_t *input,
                                       const int8_t *filter, int8_t *output);

#endif /* MCF_CONV2D_S8_NARROW_F32_H */
