/* fully_connected_s8.h - int8 fully connected layer (TFLite FULLY_CONNECTED). */
#ifndef MCF_FULLY_CONNECTED_S8_H
#define MCF_FULLY_CONNECTED_S8_H

#include <stdint.h>

/**
 * Parameters computed by mcuforge at compile time.
 * `bias` already holds bias[u] - input_zero_point * sum(weights[u][:]), so the kernel only
 * accumulates weights * input. `multiplier`/`shift` have one entry, or one per unit when
 * `per_channel` is set.
 *
 * Fast paths (mcf_dsp.h), when `fast_layout` is set: four units at a time, each input word of four
 * int8 widened once (SXTB16) and used by all four (SMLAD on cores with the DSP extension). In
 * builds with these paths `weights` then points to the weights in the layout they read (uint32
 * words: per block of four units and group of four inputs, one word per unit; see
 * mcuforge.generator.ops.fully_connected.fc_fast_layout) instead of [units][depth].
 */
typedef struct {
    int32_t batches;       /**< rows of the input, each `depth` long */
    int32_t depth;         /**< inner dimension */
    int32_t units;         /**< output features (rows of the weight matrix) */
    int32_t output_offset; /**< output zero point */
    int32_t act_min;       /**< clamp applied after requantization */
    int32_t act_max;
    int32_t per_channel;
    const int32_t *multiplier;
    const int32_t *shift;
    const int32_t *bias;   /**< [units], zero point folded in */
    int32_t fast_layout;   /**< weights are in the fast paths' layout when they are compiled */
    const int32_t *out_q;  /**< or NULL: per unit (one triple when not `per_channel`) {multiplier,
                                2^(e-1) + output_offset * 2^e, e} with e = -shift >= 1, for the short
                                path's output stage on Arm (t = SMMULR(2 * acc, multiplier),
                                (t + q[1] - [t < 0]) >> e, clamped); given only where no step of it
                                can leave int32 (generator/ops/fully_connected.py). With `fast_layout`,
                                set exactly when the weights are in the short path's layout or in
                                the depth-1 layout (_depth1 entry points only: mcf_fully_connected_s8
                                does not take that one). */
} mcf_fc_params;

/** output[b][u] = clamp(requant(bias[u] + sum_d weights[u][d] * input[b][d]) + output_offset).
 *  Layouts: input [batches][depth], weights [units][depth], output [batches][units]. */
void mcf_fully_connected_s8(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                            int8_t *output);

/** The same for `fast_layout` set, without the reference loop linked (generated code calls this:
 *  with -ffunction-sections and --gc-sections the firmware holds the path it uses only). Builds
 *  without the fast paths (-DMCF_PORTABLE_KERNELS) run the reference loop. */
void mcf_fully_connected_s8_fast_path(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                      int8_t *output);

/** The short path, `out_q` and `fast_layout` set, the weights in the layout of
 *  mcuforge.generator.ops.fully_connected.fc_short_layout: whole blocks of four units as the fast
 *  path's, the last 1..3 units (units % 4) per group of four inputs x0..x3 as two words of int16
 *  pairs per unit, (w0, w2) and (w1, w3). _full: act_min == -128 and act_max == 127 (required);
 *  _clamp: any activation range. _blocks_*: units a multiple of 4 (required; the tail's code is not
 *  linked). The generator calls the one the layer needs, so a model links what it uses only. RV32
 *  builds requantize from `multiplier`/`shift` as the fast path; builds without the fast paths run
 *  the reference loop (on [units][depth] weights). _fewN_*: units == N (required, N = 1..3), the
 *  layout's tail alone, one row at a time without the blocks' code, `out_q` one triple per unit (per
 *  tensor too); _fewN_wide: any activation range, `out_q` per unit {multiplier, 2^(e-1) + output_offset * 2^e,
 *  e - 1}, e >= 1, for sums that may come near int32's edge: the output stage in 64 bits. */
void mcf_fully_connected_s8_short_full(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                       int8_t *output);
void mcf_fully_connected_s8_short_clamp(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                        int8_t *output);
void mcf_fully_connected_s8_blocks_full(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                        int8_t *output);
void mcf_fully_connected_s8_blocks_clamp(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                         int8_t *output);
void mcf_fully_connected_s8_few1_full(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                      int8_t *output);
void mcf_fully_connected_s8_few2_full(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                      int8_t *output);
void mcf_fully_connected_s8_few3_full(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                      int8_t *output);
void mcf_fully_connected_s8_few1_clamp(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                       int8_t *output);
void mcf_fully_connected_s8_few2_clamp(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                       int8_t *output);
void mcf_fully_connected_s8_few3_clamp(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                       int8_t *output);
/** _few1row_*: as _few1_*, on one row (batches == 1, required): no test of it. */
void mcf_fully_connected_s8_few1row_full(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                         int8_t *output);
void mcf_fully_connected_s8_few1row_clamp(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                          int8_t *output);
void mcf_fully_connected_s8_few1_wide(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                      int8_t *output);
void mcf_fully_connected_s8_few2_wide(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                      int8_t *output);
void mcf_fully_connected_s8_few3_wide(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                      int8_t *output);

/** Layers of depth 1 (one input per output; any units and rows), `out_q` set, the weights in the
 *  layout of mcuforge.generator.ops.fully_connected.fc_depth1_layout: per unit the int32 pair
 *  {2 * bias, 2 * weight}, bias as `bias` (zero point folded in), so that 2 * acc is one
 *  multiply-add. _depth1_*: `out_q` one triple (per tensor); _depth1pc_*: one per unit. _full:
 *  act_min == -128 and act_max == 127 (required); _clamp: any range. Builds without the fast paths
 *  run the reference loop (on [units][1] weights). */
void mcf_fully_connected_s8_depth1_full(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                        int8_t *output);
void mcf_fully_connected_s8_depth1_clamp(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                         int8_t *output);
void mcf_fully_connected_s8_depth1pc_full(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                          int8_t *output);
void mcf_fully_connected_s8_depth1pc_clamp(const mcf_fc_params *p, const int8_t *input, const int8_t *weights,
                                           int8_t *output);

#endif /* MCF_FULLY_CONNECTED_S8_H */
