/*
 * fully_connected_s8_f32.c - FULLY_CONNECTED with onnxruntime's float32 output stage:
 * fully_connected_s8.c compiled a second time with MCF_REQUANT_F32 set, its entry points renamed
 * with the suffix _f32 (fully_connected_s8_f32.h). The kernel's loops are the same source; only
 * the requantization (the `#if MCF_REQUANT_F32` branches) differs, and the TFLite copy in
 * fully_connected_s8.c compiles exactly as without this file. A new entry point in
 * fully_connected_s8.c needs its line here (else two definitions of it get linked).
 */
#define MCF_REQUANT_F32 1

#include "fully_connected_s8_f32.h"

#define mcf_fully_connected_s8 mcf_fully_connected_s8_f32
#define mcf_fully_connected_s8_fast_path mcf_fully_connected_s8_fast_path_f32

#include "fully_connected_s8.c"
