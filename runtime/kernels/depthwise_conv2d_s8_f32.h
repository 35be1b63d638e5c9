/* depthwise_conv2d_s8_f32.h - DEPTHWISE_CONV_2D with onnxruntime's float32 output stage
 * (depthwise_conv2d_s8_f32.c). */
#ifndef MCF_DEPTHWISE_CONV2D_S8_F32_H
#define MCF_DEPTHWISE_CONV2D_S8_F32_H

#include "depthwise_conv2d_s8.h"

/*
 * The entry points of depthwise_conv2d_s8.h, each with the suffix _f32: the same parameters and
 * paths, but the output stage is onnxruntime's (CPU provider, MLAS) instead of TFLite's fixed-
 * point one:
 *   out = clamp(round_half_even(float32(acc) * scale) + output_offset, act_min, act_max)
 * where `multiplier` holds the float32 scales' bit patterns (one, or one per output channel when
 * `per_channel` is set) and `shift` is unused. mcuforge computes the scales as onnxruntime does
 * (generator/ops/float_requant.py); mcf_requant_f32 (mcf_common.h) is the arithmetic, and
 * docs/kernels.md ("Float32 requantization") the formulas.
 */
void mcf_depthwise_conv2d_s8_f32(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                 const int8_t *filter, int8_t *output);
void mcf_depthwise_conv2d_s8_ref_f32(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                     const int8_t *filter, int8_t *output);
void mcf_depthwise_conv2d_s8_fast_full_f32(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                           const int8_t *filter, int8_t *output);
void mcf_depthwise_conv2d_s8_fast_clamp_f32(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                            const int8_t *filter, int8_t *output);
void mcf_depthwise_conv2d_s8_mult_full_f32(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                           const int8_t *filter, int8_t *output);
void mcf_depthwise_conv2d_s8_mult_clamp_f32(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                            const int8_t *filter, int8_t *output);
void mcf_depthwise_conv2d_s8_small_full_f32(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                            const int8_t *filter, int8_t *output);
void mcf_depthwise_conv2d_s8_small_clamp_f32(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                             const int8_t *filter, int8_t *output);

void mcf_depthwise_conv2d_s8_line_full_f32(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                           const int8_t *filter, int8_t *output);
void mcf_depthwise_conv2d_s8_line_clamp_f32(const mcf_depthwise_conv2d_params *p, const int8_t *input,
                                            const int8_t *filter, int8_t *output);

#endif /* MCF_DEPTHWISE_CONV2D_S8_F32_H */
