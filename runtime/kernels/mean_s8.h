/* mean_s8.h - int8 reductions over any set of axes (TFLite MEAN, SUM, REDUCE_MAX, REDUCE_MIN). */
#ifndef MCF_MEAN_S8_H
#define MCF_MEAN_S8_H

#include <stdint.h>

#define MCF_MEAN_MAX_GROUPS 4

/**
 * The input is described by mcuforge as groups of adjacent dimensions: "kept" groups (they index
 * the output, in row-major order) and "reduced" groups (they are summed over). Each group is a
 * count and an input stride in elements; unused groups have count 1 and stride 0. For the usual
 * global average over H and W of an NHWC tensor the kept groups are N and C and the reduced
 * group is H*W with stride C.
 *
 * output = clamp(requant(acc_init + sum of the inputs of the group, multiplier, shift)
 *                + output_offset, -128, 127)
 * where acc_init = -input_zero_point * count and, for MEAN, multiplier/shift fold in 1/count
 * exactly as TFLite Micro does (so the division rounding is the requantization's). SUM is the same
 * computation with the plain input/output scale ratio.
 */
typedef struct {
    int32_t kept_count[MCF_MEAN_MAX_GROUPS];
    int32_t kept_stride[MCF_MEAN_MAX_GROUPS];
    int32_t reduced_count[MCF_MEAN_MAX_GROUPS];
    int32_t reduced_stride[MCF_MEAN_MAX_GROUPS];
    int32_t acc_init;      /**< -input_zero_point * (elements averaged per output) */
    int32_t multiplier;    /**< Q31, input_scale / output_scale / count */
    int32_t shift;         /**< > 0 left, < 0 right, >= -31 */
    int32_t output_offset; /**< output zero point */
} mcf_mean_params;

/** Layouts: input and output row-major (NHWC for 4-D); output holds one value per combination of
 *  the kept groups. */
void mcf_mean_s8(const mcf_mean_params *p, const int8_t *input, int8_t *output);

/** The groups of a maximum or minimum (same meaning as in mcf_mean_params). */
typedef struct {
    int32_t kept_count[MCF_MEAN_MAX_GROUPS];
    int32_t kept_stride[MCF_MEAN_MAX_GROUPS];
    int32_t reduced_count[MCF_MEAN_MAX_GROUPS];
    int32_t reduced_stride[MCF_MEAN_MAX_GROUPS];
} mcf_reduce_params;

/** output = the largest (smallest) raw input of each group; input and output share one
 *  quantization (the compiler checked it). */
void mcf_reduce_max_s8(const mcf_reduce_params *p, const int8_t *input, int8_t *output);
void mcf_reduce_min_s8(const mcf_reduce_params *p, const int8_t *input, int8_t *output);

#endif /* MCF_MEAN_S8_H */
