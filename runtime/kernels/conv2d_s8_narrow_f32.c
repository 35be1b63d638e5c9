/*
 * conv2d_s8_narrow_f32.c - the blocked and depth-8 paths of conv2d_s8_narrow.c with onnxruntime's
 * float32 output stage: conv2d_s8_narrow.c compiled a second time with MCF_REQUANT_F32 set, which
 * leaves out the depth-4 path and gives the others (the depth-8 loops in C, not the TFLite copy's
 * assembly; the blocks one pixel at a time on RV32) and the reference loop the
 * `#if MCF_REQUANT_F32` output stage; the entry points are renamed with the suffix _f32
 * (conv2d_s8_narrow_f32.h). The TFLite copy in conv2d_s8_narrow.c compiles exactly as without
 * this file.
 */
#define MCF_REQUANT_F32 1

#include "conv2d_s8_narrow_f32.h"

#define mcf_conv2d_s8_narrow_full mcf_conv2d_s8_narrow_full_f32
#define mcf_conv2d_s8_narrow_clamp mcf_conv2d_s8_narrow_clamp_f32
#define mcf_conv2d_s8_narrow_k8_full mcf_conv2d_s8_narrow_k8_full_f32
#define mcf_conv2d_s8_narrow_k8_clamp mcf_conv2d_s8_narrow_k8_clamp_f32

#include "conv2d_s8_narrow.c"
