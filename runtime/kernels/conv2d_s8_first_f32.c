/*
 * conv2d_s8_first_f32.c - CONV_2D on 1 to 3 input channels with onnxruntime's float32 output stage:
 * conv2d_s8_first.c compiled a second time with MCF_REQUANT_F32 set, its entry points renamed with
 * the suffix _f32 (conv2d_s8_first_f32.h). The loops are the same source; only the output stage
 * (the `#if MCF_REQUANT_F32` branches, undoubled sums only) differs, and the TFLite copy in
 * conv2d_s8_first.c compiles exactly as without this file. A new entry point in conv2d_s8_first.c
 * needs its line here.
 */
#define MCF_REQUANT_F32 1

#include "conv2d_s8_first_f32.h"

#define mcf_conv2d_s8_first_full mcf_conv2d_s8_first_full_f32
#define mcf_conv2d_s8_first_clamp mcf_conv2d_s8_first_clamp_f32

#include "conv2d_s8_first.c"
