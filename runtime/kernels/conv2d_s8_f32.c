/*
 * conv2d_s8_f32.c - CONV_2D with onnxruntime's float32 output stage: conv2d_s8.c compiled a second
 * time with MCF_REQUANT_F32 set, its entry points renamed with the suffix _f32 (conv2d_s8_f32.h).
 * The kernel's loops are the same source; only the requantization (the `#if MCF_REQUANT_F32`
 * branches) differs, and the TFLite copy in conv2d_s8.c compiles exactly as without this file. A
 * new entry point in conv2d_s8.c needs its line here (else two definitions of it get linked).
 */
#define MCF_REQUANT_F32 1

#include "conv2d_s8_f32.h"

#define mcf_conv2d_s8 mcf_conv2d_s8_f32
#define mcf_conv2d_s8_ref mcf_conv2d_s8_ref_f32
#define mcf_conv2d_s8_im2col_full mcf_conv2d_s8_im2col_full_f32
#define mcf_conv2d_s8_im2col_clamp mcf_conv2d_s8_im2col_clamp_f32
#define mcf_conv2d_s8_direct_full mcf_conv2d_s8_direct_full_f32
#define mcf_conv2d_s8_direct_clamp mcf_conv2d_s8_direct_clamp_f32
#define mcf_conv2d_s8_stack_full mcf_conv2d_s8_stack_full_f32
#define mcf_conv2d_s8_stack_clamp mcf_conv2d_s8_stack_clamp_f32
#define mcf_conv2d_s8_c1_full mcf_conv2d_s8_c1_full_f32
#define mcf_conv2d_s8_c1_clamp mcf_conv2d_s8_c1_clamp_f32
#define mcf_conv2d_s8_pointwise_full mcf_conv2d_s8_pointwise_full_f32
#define mcf_conv2d_s8_pointwise_clamp mcf_conv2d_s8_pointwise_clamp_f32

#include "conv2d_s8.c"
