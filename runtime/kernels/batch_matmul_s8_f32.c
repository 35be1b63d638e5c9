/*
 * batch_matmul_s8_f32.c - BATCH_MATMUL with onnxruntime's float32 output stage: batch_matmul_s8.c
 * compiled a second time with MCF_REQUANT_F32 set, its entry point renamed mcf_batch_matmul_s8_f32
 * (batch_matmul_s8_f32.h). The TFLite copy in batch_matmul_s8.c compiles exactly as without this file.
 */
#define MCF_REQUANT_F32 1

#include "batch_matmul_s8_f32.h"

#define mcf_batch_matmul_s8 mcf_batch_matmul_s8_f32

#include "batch_matmul_s8.c"
