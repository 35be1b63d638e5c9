/*
 * mul_s8_f32.c - MUL with onnxruntime's float32 output stage: mul_s8.c compiled a second time with
 * MCF_REQUANT_F32 set, its entry point renamed mcf_mul_s8_f32 (mul_s8_f32.h). The TFLite copy in
 * mul_s8.c compiles exactly as without this file.
 */
#define MCF_REQUANT_F32 1

#include "mul_s8_f32.h"

#define mcf_mul_s8 mcf_mul_s8_f32

#include "mul_s8.c"
