/* lstm_s8.c - integer UNIDIRECTIONAL_SEQUENCE_LSTM (see lstm_s8.h). One sequence element at a
 * time: the four gates' pre-activations go to the scratch (4 * units int16), then each unit's
 * cell and hidden value are updated from its own four gate values, so the old hidden state is
 * read only while the gates are computed and can be overwritten afterwards. Fast builds first
 * copy the input row and the hidden state as int16 into the rest of the scratch; the gate products
 * are then the 16x8 dot products of the fully connected kernels (mcf_dot_s16.h), four units per
 * pass. */
#include "lstm_s8.h"

#include "mcf_common.h"
#include "mcf_dot_s16.h"
#include "mcf_dsp.h"

static inline int32_t mcf_lstm_sat16(int32_t v)
{
    return mcf_clamp(v, -32768, 32767);
}

/* TFLite's int16 logistic for a Q3.12 input (input rescaled by 3, the table's 1/4096/3 grid):
 * linear interpolation between table entries with 9 fraction bits, result in Q0.15. */
static inline int32_t mcf_lstm_sigmoid(const uint16_t *table, int32_t x)
{
    const int32_t v = x * 3;
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t hi = a >> 9;
    uint32_t r;
    if (hi >= 255u) {
        r = 0x7FFFu << 10;
    } else {
        const uint32_t lo = table[hi];
        r = (lo << 9) + (a & 0x1FFu) * ((uint32_t)table[hi + 1] - lo);
    }
    r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
    return (int32_t)(r >> 10);
}

/* TFLite's int16 tanh: v = (x * multiplier + round) >> shift, then the same table read with 8
 * fraction bits as 2 sigmoid(2v) - 1, result in Q0.15. */
static inline int32_t mcf_lstm_tanh(const uint16_t *table, int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
    const int32_t v = (x * multiplier + round) >> shift;
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t hi = a >> 8;
    int32_t r;
    if (hi >= 255u) {
        r = (int32_t)(0xFFFFu << 8);
    } else {
        const uint32_t lo = table[hi];
        r = (int32_t)((lo << 8) + (a & 0xFFu) * ((uint32_t)table[hi + 1] - lo));
    }
    r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    return r >> 8;
}

/* scratch[0..units) <- the new hidden values (before the cast to the hidden type); updates cell. */
static void mcf_lstm_update(const mcf_lstm_params *p, int16_t *cell)
{
    const int32_t n = p->units;
    int16_t *pre = p->scratch;
    int32_t u;
    for (u = 0; u < n; ++u) {
        const int32_t f = mcf_lstm_sigmoid(p->table, pre[u]);
        const int32_t i = mcf_lstm_sigmoid(p->table, pre[n + u]);
        const int32_t g = mcf_lstm_tanh(p->table, pre[2 * n + u], 3, 0);
        const int32_t o = mcf_lstm_sigmoid(p->table, pre[3 * n + u]);
        const int32_t kept = mcf_lstm_sat16(mcf_requantize(f * cell[u], p->forget_multiplier, p->forget_shift));
        const int32_t added = mcf_lstm_sat16(mcf_requantize(i * g, p->update_multiplier, p->update_shift));
        int32_t c = mcf_lstm_sat16(kept + added);
        int32_t t;
        if (p->cell_clip > 0) {
            c = mcf_clamp(c, -p->cell_clip, p->cell_clip);
        }
        cell[u] = (int16_t)c;
        t = mcf_lstm_tanh(p->table, c, p->cell_tanh_multiplier, p->cell_tanh_shift);
        pre[u] = (int16_t)mcf_clamp(mcf_requantize(t * o, p->hidden_multiplier, p->hidden_shift) + p->hidden_offset,
                                    p->hidden_min, p->hidden_max);
    }
}

/* The blocked layout of a gate matrix with cols4 columns (a multiple of 4; lstm_s8.h): weight (u, k)
 * at (u >> 2) * 4 * cols4 + (k >> 2) * 16 + (u & 3) * 4 + ((k & 1) << 1 | (k & 3) >> 1), i.e.
 * blocks of four units, per block groups of four columns, per group four bytes per unit in the
 * order w0, w2, w1, w3 (the layout of mcf_dot_s16.h). */

/* TFLite Micro's 64-bit rescaling with the 16-bit multiplier and right shift s (see lstm_s8.h). */
static inline int32_t mcf_lstm_rescale64(int64_t acc, int32_t m16, int32_t s)
{
    return (int32_t)((acc * m16 + ((int64_t)1 << (s - 1))) >> s);
}

/* mcf_requantize, with short routes also for the shifts it leaves to the reference form (gate
 * rescalings are often >= 1): for shift >= 0, TFLite's product x * 2^shift (wrapping) then the
 * rounding doubling high multiply, floor((t * m + 2^30) / 2^31) for m >= 0; for shift -1, the
 * constant of mcf_requantize's step 4 with e = 1, whose result is the high word. */
static inline int32_t mcf_lstm_requantize(int32_t x, int32_t m, int32_t shift)
{
#if !defined(MCF_PORTABLE_KERNELS)
    if (shift >= 0) {
        const int32_t t = (int32_t)((uint32_t)x << shift);
        return (int32_t)(((int64_t)t * m + ((int64_t)1 << 30)) >> 31);
    }
    if (shift == -1) {
        const uint32_t low = x < 0 ? 0x40000000u : 0xC0000000u;
        return (int32_t)(((int64_t)x * m + (int64_t)low) >> 32);
    }
#endif
    return mcf_requantize(x, m, shift);
}

static inline int16_t mcf_lstm_gate_s8(const int32_t *rs, int32_t a, int32_t b)
{
    return (int16_t)mcf_lstm_sat16(mcf_lstm_sat16(mcf_lstm_requantize(a, rs[0], rs[1]))
                                   + mcf_lstm_sat16(mcf_lstm_requantize(b, rs[2], rs[3])));
}

static inline int16_t mcf_lstm_gate_s16(const int32_t *rs, int64_t a, int64_t b)
{
    return (int16_t)mcf_lstm_sat16(mcf_lstm_sat16(mcf_lstm_rescale64(a, rs[0], rs[1]))
                                   + mcf_lstm_sat16(mcf_lstm_rescale64(b, rs[2], rs[3])));
}

#if MCF_KERNELS_FAST
/* The gate products of one sequence element from the input row x and the hidden state h, both as
 * int16 padded with zeros to whole groups of four (x: d4 values, h: n4) at 4-byte boundaries: for
 * each gate, blocks of four units, each block two calls of the 16x8 dot product of mcf_dot_s16.h
 * (two SMLAD per four products on DSP cores). int8 LSTMs sum in int32 as TFLite Micro does
 * (wrapping); int16 ones sum at most 64 groups (256 products, each at most 2^22) in int32 at a time
 * before the 64-bit sums. */
static MCF_NO_LIBCALL_LOOPS void mcf_lstm_gates_fast(const mcf_lstm_params *p, const int16_t *x, const int16_t *h, int32_t wide)
{
    const int32_t n = p->units;
    const int32_t d4 = (p->input_size + 3) & ~3;
    const int32_t n4 = (n + 3) & ~3;
    int32_t g, u, k;
    for (g = 0; g < 4; ++g) {
        const int8_t *w = (const int8_t *)(const void *)p->weights + g * n4 * d4;
        const int8_t *r = (const int8_t *)(const void *)p->weights + 4 * n4 * d4 + g * n4 * n4;
        const int32_t *rs = p->rescale + 4 * g;
        int16_t *gate = p->scratch + g * n;
        for (u = 0; u < n; u += 4, w += 4 * d4, r += 4 * n4) {
            const int32_t m = MCF_MIN(4, n - u);
            int32_t a[4], b[4];
            if (!wide) {
                const int32_t *bi = p->bias32 + g * n + u;
                const int32_t *br = p->bias32 + (4 + g) * n + u;
                mcf_dot_s16_groups_aligned(x, w, d4 >> 2, a);
                mcf_dot_s16_groups_aligned(h, r, n4 >> 2, b);
                for (k = 0; k < m; ++k) {
                    gate[u + k] = mcf_lstm_gate_s8(rs, (int32_t)((uint32_t)bi[k] + (uint32_t)a[k]),
                                                   (int32_t)((uint32_t)br[k] + (uint32_t)b[k]));
                }
            } else {
                const int64_t *bi = p->bias64 + g * n + u;
                const int64_t *br = p->bias64 + (4 + g) * n + u;
                int64_t sa[4], sb[4];
                int32_t q, e;
                if ((d4 >> 2) <= 64 && (n4 >> 2) <= 64) { /* each sum exact in int32: one call each */
                    mcf_dot_s16_groups_aligned(x, w, d4 >> 2, a);
                    mcf_dot_s16_groups_aligned(h, r, n4 >> 2, b);
                    for (k = 0; k < m; ++k) {
                        gate[u + k] = mcf_lstm_gate_s16(rs, bi[k] + a[k], br[k] + b[k]);
                    }
                    continue;
                }
                for (k = 0; k < 4; ++k) {
                    sa[k] = 0;
                    sb[k] = 0;
                }
                for (q = 0; q < (d4 >> 2); q = e) {
                    e = MCF_MIN(d4 >> 2, q + 64);
                    mcf_dot_s16_groups_aligned(x + 4 * q, w + 16 * q, e - q, a);
                    for (k = 0; k < 4; ++k) {
                        sa[k] += a[k];
                    }
                }
                for (q = 0; q < (n4 >> 2); q = e) {
                    e = MCF_MIN(n4 >> 2, q + 64);
                    mcf_dot_s16_groups_aligned(h + 4 * q, r + 16 * q, e - q, b);
                    for (k = 0; k < 4; ++k) {
                        sb[k] += b[k];
                    }
                }
                for (k = 0; k < m; ++k) {
                    gate[u + k] = mcf_lstm_gate_s16(rs, bi[k] + sa[k], br[k] + sb[k]);
                }
            }
        }
    }
}

/* n int8 values as int16 at dst, zeros up to n4 (a multiple of 4, dst 4-byte aligned). */
static MCF_NO_LIBCALL_LOOPS void mcf_lstm_widen_s8(const int8_t *v, int32_t n, int32_t n4, int16_t *dst)
{
    int32_t k = 0;
    for (; k < n; ++k) {
        dst[k] = v[k];
    }
    for (; k < n4; ++k) {
        dst[k] = 0;
    }
}

static MCF_NO_LIBCALL_LOOPS void mcf_lstm_widen_s16(const int16_t *v, int32_t n, int32_t n4, int16_t *dst)
{
    int32_t k = 0;
    for (; k < n; ++k) {
        dst[k] = v[k];
    }
    for (; k < n4; ++k) {
        dst[k] = 0;
    }
}
#else
/* The products of four units (block `wb` of a blocked matrix, the layout above) with
 * v[0..cols) added to acc[0..4): one pass over the block's bytes in storage order, four
 * accumulators, the group's four values loaded once. The last group, if partial, takes zeros for
 * the values past cols (v has no padding; the padded weights are zero anyway). */
static void mcf_lstm_block_dot_s8(const int8_t *wb, const int8_t *v, int32_t cols, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t q;
    int32_t v0, v1, v2, v3;
    for (q = cols >> 2; q > 0; --q, wb += 16, v += 4) {
        v0 = v[0];
        v1 = v[1];
        v2 = v[2];
        v3 = v[3];
        a0 += wb[0] * v0 + wb[1] * v2 + wb[2] * v1 + wb[3] * v3;
        a1 += wb[4] * v0 + wb[5] * v2 + wb[6] * v1 + wb[7] * v3;
        a2 += wb[8] * v0 + wb[9] * v2 + wb[10] * v1 + wb[11] * v3;
        a3 += wb[12] * v0 + wb[13] * v2 + wb[14] * v1 + wb[15] * v3;
    }
    q = cols & 3;
    if (q != 0) {
        v0 = v[0];
        v1 = q > 1 ? v[1] : 0;
        v2 = q > 2 ? v[2] : 0;
        a0 += wb[0] * v0 + wb[1] * v2 + wb[2] * v1;
        a1 += wb[4] * v0 + wb[5] * v2 + wb[6] * v1;
        a2 += wb[8] * v0 + wb[9] * v2 + wb[10] * v1;
        a3 += wb[12] * v0 + wb[13] * v2 + wb[14] * v1;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

static void mcf_lstm_gates_s8(const mcf_lstm_params *p, const int8_t *x, const int8_t *h)
{
    const int32_t n = p->units;
    const int32_t d = p->input_size;
    const int32_t d4 = (d + 3) & ~3;
    const int32_t n4 = (n + 3) & ~3;
    int32_t g, u, r;
    for (g = 0; g < 4; ++g) {
        const int8_t *w = (const int8_t *)(const void *)p->weights + g * n4 * d4;
        const int8_t *rw = (const int8_t *)(const void *)p->weights + 4 * n4 * d4 + g * n4 * n4;
        for (u = 0; u < n; u += 4) {
            const int32_t m = MCF_MIN(4, n - u);
            int32_t a[4], b[4];
            for (r = 0; r < 4; ++r) {
                a[r] = r < m ? p->bias32[g * n + u + r] : 0;
                b[r] = r < m ? p->bias32[(4 + g) * n + u + r] : 0;
            }
            mcf_lstm_block_dot_s8(w + u * d4, x, d, a);
            mcf_lstm_block_dot_s8(rw + u * n4, h, n, b);
            for (r = 0; r < m; ++r) {
                p->scratch[g * n + u + r] = mcf_lstm_gate_s8(p->rescale + 4 * g, a[r], b[r]);
            }
        }
    }
}

/* mcf_lstm_block_dot_s8 for int16 values and 64-bit sums (a group's four products, each at most
 * 2^22 in magnitude, are exact in int32). */
static void mcf_lstm_block_dot_s16(const int8_t *wb, const int16_t *v, int32_t cols, int64_t *acc)
{
    int64_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t q;
    int32_t v0, v1, v2, v3;
    for (q = cols >> 2; q > 0; --q, wb += 16, v += 4) {
        v0 = v[0];
        v1 = v[1];
        v2 = v[2];
        v3 = v[3];
        a0 += wb[0] * v0 + wb[1] * v2 + wb[2] * v1 + wb[3] * v3;
        a1 += wb[4] * v0 + wb[5] * v2 + wb[6] * v1 + wb[7] * v3;
        a2 += wb[8] * v0 + wb[9] * v2 + wb[10] * v1 + wb[11] * v3;
        a3 += wb[12] * v0 + wb[13] * v2 + wb[14] * v1 + wb[15] * v3;
    }
    q = cols & 3;
    if (q != 0) {
        v0 = v[0];
        v1 = q > 1 ? v[1] : 0;
        v2 = q > 2 ? v[2] : 0;
        a0 += wb[0] * v0 + wb[1] * v2 + wb[2] * v1;
        a1 += wb[4] * v0 + wb[5] * v2 + wb[6] * v1;
        a2 += wb[8] * v0 + wb[9] * v2 + wb[10] * v1;
        a3 += wb[12] * v0 + wb[13] * v2 + wb[14] * v1;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

static void mcf_lstm_gates_s16(const mcf_lstm_params *p, const int16_t *x, const int16_t *h)
{
    const int32_t n = p->units;
    const int32_t d = p->input_size;
    const int32_t d4 = (d + 3) & ~3;
    const int32_t n4 = (n + 3) & ~3;
    int32_t g, u, r;
    for (g = 0; g < 4; ++g) {
        const int8_t *w = (const int8_t *)(const void *)p->weights + g * n4 * d4;
        const int8_t *rw = (const int8_t *)(const void *)p->weights + 4 * n4 * d4 + g * n4 * n4;
        for (u = 0; u < n; u += 4) {
            const int32_t m = MCF_MIN(4, n - u);
            int64_t a[4], b[4];
            for (r = 0; r < 4; ++r) {
                a[r] = r < m ? p->bias64[g * n + u + r] : 0;
                b[r] = r < m ? p->bias64[(4 + g) * n + u + r] : 0;
            }
            mcf_lstm_block_dot_s16(w + u * d4, x, d, a);
            mcf_lstm_block_dot_s16(rw + u * n4, h, n, b);
            for (r = 0; r < m; ++r) {
                p->scratch[g * n + u + r] = mcf_lstm_gate_s16(p->rescale + 4 * g, a[r], b[r]);
            }
        }
    }
}
#endif

MCF_NO_LIBCALL_LOOPS void mcf_lstm_s8(const mcf_lstm_params *p, const int8_t *input, int8_t *hidden, int16_t *cell, int8_t *output)
{
    const int32_t n = p->units;
#if MCF_KERNELS_FAST
    const int32_t d4 = (p->input_size + 3) & ~3;
    const int32_t n4 = (n + 3) & ~3;
    int16_t *xw = p->scratch + 4 * n; /* 4-byte aligned: the scratch is */
    int16_t *hw = xw + d4;
#endif
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        int8_t *h = hidden + b * n;
        int16_t *c = cell + b * n;
        int32_t t;
        for (t = 0; t < p->steps; ++t) {
            int8_t *out = output + b * p->output_batch + t * p->output_step;
            int32_t u;
#if MCF_KERNELS_FAST
            mcf_lstm_widen_s8(input + b * p->input_batch + t * p->input_step, p->input_size, d4, xw);
            mcf_lstm_widen_s8(h, n, n4, hw);
            mcf_lstm_gates_fast(p, xw, hw, 0);
#else
            mcf_lstm_gates_s8(p, input + b * p->input_batch + t * p->input_step, h);
#endif
            mcf_lstm_update(p, c);
            for (u = 0; u < n; ++u) {
                h[u] = (int8_t)p->scratch[u];
                out[u] = h[u];
            }
        }
    }
}

MCF_NO_LIBCALL_LOOPS void mcf_lstm_s16(const mcf_lstm_params *p, const int16_t *input, int16_t *hidden, int16_t *cell, int16_t *output)
{
    const int32_t n = p->units;
#if MCF_KERNELS_FAST
    const int32_t d4 = (p->input_size + 3) & ~3;
    const int32_t n4 = (n + 3) & ~3;
    int16_t *xw = p->scratch + 4 * n; /* 4-byte aligned: the scratch is */
    int16_t *hw = xw + d4;
#endif
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        int16_t *h = hidden + b * n;
        int16_t *c = cell + b * n;
        int32_t t;
        for (t = 0; t < p->steps; ++t) {
            int16_t *out = output + b * p->output_batch + t * p->output_step;
            int32_t u;
#if MCF_KERNELS_FAST
            mcf_lstm_widen_s16(input + b * p->input_batch + t * p->input_step, p->input_size, d4, xw);
            mcf_lstm_widen_s16(h, n, n4, hw);
            mcf_lstm_gates_fast(p, xw, hw, 1);
#else
            mcf_lstm_gates_s16(p, input + b * p->input_batch + t * p->input_step, h);
#endif
            mcf_lstm_update(p, c);
            for (u = 0; u < n; ++u) {
                h[u] = p->scratch[u];
                out[u] = h[u];
            }
        }
    }
}
