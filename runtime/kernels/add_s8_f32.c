/*
 * add_s8_f32.c - ADD with onnxruntime's float32 arithmetic: add_s8.c compiled a second time with
 * MCF_REQUANT_F32 set, its entry points renamed with the suffix _f32 (add_s8_f32.h). The TFLite copy
 * in add_s8.c compiles exactly as without this file.
 */
#define MCF_REQUANT_F32 1

#include "add_s8_f32.h"

#define mcf_add_s8 mcf_add_s8_f32
#define mcf_sub_s8 mcf_sub_s8_f32

#include "add_s8.c"
