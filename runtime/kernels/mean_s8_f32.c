/*
 * mean_s8_f32.c - MEAN with onnxruntime's float32 output stage: mean_s8.c compiled a second time
 * with MCF_REQUANT_F32 set, its entry points renamed with the suffix _f32 (mean_s8_f32.h). The TFLite
 * copy in mean_s8.c compiles exactly as without this file. A new entry point in mean_s8.c needs its
 * line here (else two definitions of it get linked).
 */
#define MCF_REQUANT_F32 1

#include "mean_s8_f32.h"

#define mcf_mean_s8 mcf_mean_s8_f32
#define mcf_reduce_max_s8 mcf_reduce_max_s8_f32
#define mcf_reduce_min_s8 mcf_reduce_min_s8_f32

#include "mean_s8.c"
