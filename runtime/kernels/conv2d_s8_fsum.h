/* conv2d_s8_fsum.h - CONV_2D / DEPTHWISE_CONV_2D computed the way onnxruntime computes a
 * convolution it leaves unfused: DequantizeLinear, a float32 Conv (MLAS), QuantizeLinear.
 *
 * onnxruntime (CPU provider, x86-64) fuses DequantizeLinear -> Conv -> QuantizeLinear into an
 * integer QLinearConv only when the Conv's input and output are both uint8 after its int8 -> uint8
 * pass; an int8 tensor read by more than one node keeps int8, and the Conv next to it then runs in
 * float (generator/ops/conv_fsum.py). The float Conv's sums are reproduced here operation by
 * operation, so the int8 results are the same bit for bit:
 *
 *  - each input value is dequantized as DequantizeLinear does: (float)(x + input_offset) * input_scale,
 *    0.0f for padding taps; the weights come dequantized (float32) from the compiler;
 *  - taps are taken in im2col order: input channel of the group, then filter row, then column;
 *  - _gemm (MLAS's SGEMM kernels): one fused multiply-add per tap, sum = fma(w, x, sum) from 0;
 *  - _m1 (one output channel per group, e.g. depthwise: MLAS's M = 1 kernel): the taps in groups of
 *    four, ((w0 x0 + w1 x1) + w2 x2) + w3 x3 with every product rounded to float32, each group's
 *    sum added to the total; a last pair, then a last single tap the same way;
 *  - _n1 (a single output pixel, several output channels per group: MLAS's M = 1 kernel on the
 *    transposed product): eight lane sums, tap k added (product rounded, then added) to lane k mod 8,
 *    then the lanes reduced as that kernel reduces them for a block of four output channels, of two,
 *    or a single one (the channels of a group go in blocks of four, then two, then one);
 *  - _gemm and _m1: taps split into blocks of `k_block` (MLAS's K stride; `k_block_tail` from output
 *    pixel `tail_start` on, where onnxruntime's last thread takes fewer pixels) summed apart, each block's sum
 *    added to the total;
 *  - then the bias is added;
 *  - then QuantizeLinear: divided by the output scale, rounded half to even, plus the output
 *    offset, clamped to [act_min, act_max].
 *
 * fma is VFMA.F32 where the core has a single-precision fused multiply-add (Cortex-M4F, M7, M33;
 * RISC-V F). On cores without an FPU (Cortex-M0/M3, RV32 without F: MCF_REQUANT_F32_SOFT) the
 * fused multiply-adds, the rounded products and sums and the DequantizeLinear products are
 * computed in integers, exactly as IEEE rounds them (one 32 x 32 -> 64 multiply, CLZ, sticky
 * bits, half to even; tests/test_fsum_soft_fma.py compares them with the host's float32 on
 * millions of operands), with libgcc's soft-float or the double route below for subnormal,
 * infinite and NaN operands and results outside the normal range; elsewhere (a host without
 * FMA) fma is computed exactly in double precision (the product is exact there, the sum's error
 * is found with a two-sum). No heap; _gemm, _dw and _n1 need `scratch` (see there).
 *
 * On little-endian cores with VFMA.F32 and the DSP extension (Cortex-M4F, M7, M33 with both),
 * _gemm's blocks of eight output channels run in one assembly routine: the same instructions in
 * the same order (the first tap's VMUL.F32 stands for its fused multiply-add onto zero, which can
 * differ only in the sign of a zero sum and so in no int8 result), then the bias, the division by
 * the output scale, VCVTR and the int8 clamp on four values a word; the 1x1 and inner 3x3 columns
 * are filled in assembly too.
 */
#ifndef MCF_CONV2D_S8_FSUM_H
#define MCF_CONV2D_S8_FSUM_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t input_h;
    int32_t input_w;
    int32_t input_c;
    int32_t output_h;
    int32_t output_w;
    int32_t output_c;
    int32_t filter_h;
    int32_t filter_w;
    int32_t group_c;      /**< input channels per group */
    int32_t group_m;      /**< output channels per group (1 for _m1) */
    int32_t stride_h;
    int32_t stride_w;
    int32_t dilation_h;
    int32_t dilation_w;
    int32_t pad_top;
    int32_t pad_left;
    int32_t k_block;      /**< taps per block (>= group_c * filter_h * filter_w: one block) */
    int32_t k_block_tail; /**< taps per block from output pixel tail_start on (onnxruntime's last thread) */
    int32_t tail_start;
    int32_t input_offset; /**< minus the input zero point */
    float input_scale;
    float output_scale;
    int32_t output_offset;
    int32_t act_min;
    int32_t act_max;
    const float *bias;    /**< float32 bias of every output channel */
    const float *weight_scale; /**< _dw: each channel's weight scale (its filter stays int8) */
    float *scratch;       /**< _gemm: 256 + 2 K floats (dequantization table, column, two pixels' integer
                               columns); _n1: K; _dw: see there */
    /* _gemm without an FPU (MCF_FSUM_INT), which reads these instead of its float32 filter argument: */
    const int8_t *filter_s8;  /**< the int8 filter, taps in im2col order: each group's output channels in
                                   blocks of four with their taps interleaved ([K][4]), then one by one ([K]) */
    const int32_t *screen;    /**< six words per output channel (see mcf_conv2d_s8_fsum_gemm), or 0: no screening */
    uint32_t screen_margin;   /**< the margin's constant part, in 2^-32 output steps */
} mcf_conv2d_fsum_params;

/** Any grouping; filter: float32, each group's output channels in blocks of eight, then four, then
 *  one, a block's taps interleaved ([K][block]), taps in im2col order.
 *
 *  Without an FPU (MCF_FSUM_INT; `filter` is then 0 and weight_scale, filter_s8, screen are read)
 *  most outputs are decided in integers. Per output pixel and group: the column of integer taps
 *  X = x + input_offset (0 for padding) and A = sum |X|; per channel c the exact sum acc = sum X * W
 *  (int8 weights; two pixels by four channels a pass), then the screen, in units of 2^-32 output steps:
 *      t = acc * (uint32_t)screen[6c] + (screen[6c + 3] : screen[6c + 2])   (a 64-bit bias)
 *  approximates (V + 1/2) * 2^32, V = (acc * input_scale * weight_scale + bias) / output_scale, the
 *  value the float Conv would give without rounding errors, and
 *      margin = ceil(W * screen[6c + 1] / 2^8) + A * screen[6c + 5] + screen_margin
 *  bounds |t - (r + 1/2) * 2^32| for the r = QuantizeLinear's quotient the float arithmetic gives
 *  (generator/ops/conv_fsum.py, `screen_constants`): each rounding of the float sum errs by at most
 *  2^-24 of the value rounded, which is within 2^-23 or so of the exact integer partial sum I
 *  there, so the sum P of |I| over the roundings (the K blocks' partial sums from zero, then the
 *  running total after each block) bounds them all; P <= max|W| * W with W = sum_k |X_k| c_k, c_k
 *  the roundings that hold tap k (at most (K - k) + blocks - 1: the kernel takes
 *  W = (K + blocks - 1) * A - sum_k k |X_k| per pixel); the A term covers the dequantizations and
 *  the fixed-point constants, screen_margin the bias addition and the division (words 1 and 5 hold
 *  the largest of the channel's block of four, so that one margin per pixel serves the block). Where t is
 *  more than `margin` from every integer multiple of 2^32, r rounds to floor(t / 2^32) whatever the
 *  float sums did; where the two candidates clamp to the same activation bound, that bound. What
 *  that leaves is screened again with P itself: ceil(P * screen[6c + 4] / 2^8) + A * screen[6c + 5]
 *  + screen_margin.
 *  Only the rest (near a rounding boundary: about 0.1 % of outputs in real models) is computed as
 *  above, float32 operation by float32 operation, from the int8 weights dequantized per channel
 *  (float32(w * weight_scale), DequantizeLinear's rounding) and the column dequantized. */
void mcf_conv2d_s8_fsum_gemm(const mcf_conv2d_fsum_params *p, const int8_t *input, const float *filter,
                             int8_t *output);
/** One output channel per group (group_m == 1), filter [output_c][K], taps in im2col order; no scratch. */
void mcf_conv2d_s8_fsum_m1(const mcf_conv2d_fsum_params *p, const int8_t *input, const float *filter,
                           int8_t *output);
/** Depthwise, multiplier 1 (group_c == group_m == 1), one block (k_block >= taps), at most
 *  MCF_FSUM_DW_MAX_TAPS taps: _m1's sums, one channel at a time. The filter is the int8 one
 *  ([filter_h][filter_w][output_c]), dequantized per channel as DequantizeLinear does,
 *  float32(w * weight_scale[c]); each input row of the channel is dequantized once into a ring of
 *  padded rows, or, where all rows = (output_h - 1) * stride_h + span padded rows of width floats
 *  number at most MCF_FSUM_DW_PLANE_MAX floats, into that plane, zeroed once (its padding) and
 *  written inside per channel. scratch: 256 + taps + that plane or span * width floats,
 *  span = (filter_h - 1) * dilation_h + 1, width = (output_w - 1) * stride_w + (filter_w - 1) * dilation_w + 1.
 *  Without an FPU (MCF_FSUM_INT) _gemm's first screen decides most outputs from each window's exact
 *  integer sum, sum |X W| bounded by the largest |x + input_offset| times sum |W| (the screen's
 *  second word is then the channel's whole margin); what it leaves is screened again with the
 *  window's own S = sum |X W| (ceil(S * screen[6c + 4] / 2^8) + screen_margin), the rest go through
 *  _m1's float32 operations one output at a time. The sums run one channel at a time over its input
 *  rows as int16 X (0 for padding) in the same scratch (the channel's int16 weights in its first
 *  taps halfwords, the rows from float 256 + taps); images under 4 columns or 16 pixels take the
 *  taps inside each window pixel by pixel and read no scratch. */
#define MCF_FSUM_DW_MAX_TAPS 64
#define MCF_FSUM_DW_PLANE_MAX 256
void mcf_conv2d_s8_fsum_dw(const mcf_conv2d_fsum_params *p, const int8_t *input, const int8_t *filter,
                           int8_t *output);
/** One output pixel (output_h == output_w == 1), filter [output_c][K] as _m1's. */
void mcf_conv2d_s8_fsum_n1(const mcf_conv2d_fsum_params *p, const int8_t *input, const float *filter,
                           int8_t *output);

#endif /* MCF_CONV2D_S8_FSUM_H */
