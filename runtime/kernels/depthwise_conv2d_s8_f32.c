/*
 * depthwise_conv2d_s8_f32.c - DEPTHWISE_CONV_2D with onnxruntime's float32 output stage:
 * depthwise_conv2d_s8.c compiled a second time with MCF_REQUANT_F32 set, its entry points renamed
 * with the suffix _f32 (depthwise_conv2d_s8_f32.h). The kernel's loops are the same source; only
 * the requantization (the `#if MCF_REQUANT_F32` branches) differs, and the TFLite copy in
 * depthwise_conv2d_s8.c compiles exactly as without this file. A new entry point in
 * depthwise_conv2d_s8.c needs its line here (else two definitions of it get linked).
 */
#define MCF_REQUANT_F32 1

#include "depthwise_conv2d_s8_f32.h"

#define mcf_depthwise_conv2d_s8 mcf_depthwise_conv2d_s8_f32
#define mcf_depthwise_conv2d_s8_ref mcf_depthwise_conv2d_s8_ref_f32
#define mcf_depthwise_conv2d_s8_fast_full mcf_depthwise_conv2d_s8_fast_full_f32
#define mcf_depthwise_conv2d_s8_fast_clamp mcf_depthwise_conv2d_s8_fast_clamp_f32
#define mcf_depthwise_conv2d_s8_mult_full mcf_depthwise_conv2d_s8_mult_full_f32
#define mcf_depthwise_conv2d_s8_mult_clamp mcf_depthwise_conv2d_s8_mult_clamp_f32
#define mcf_depthwise_conv2d_s8_small_full mcf_depthwise_conv2d_s8_small_full_f32
#define mcf_depthwise_conv2d_s8_small_clamp mcf_depthwise_conv2d_s8_small_clamp_f32
#define mcf_depthwise_conv2d_s8_line_full mcf_depthwise_conv2d_s8_line_full_f32
#define mcf_depthwise_conv2d_s8_line_clamp mcf_depthwise_conv2d_s8_line_clamp_f32

#include "depthwise_conv2d_s8.c"
