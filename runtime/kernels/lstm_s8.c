/* lstm_s8.c - integer UNIDIRECTIONAL_SEQUENCE_LSTM (see lstm_s8.h). One sequence element at a
 * time: the four gates' pre-activations go to the scratch (4 * units int16), then each unit's
 * cell and hidden value are updated from its own four gate values, so the old hidden state is
 * read only while the gates are computed and can be overwritten afterwards. On cores with the DSP
 * extension (int8) the input row and the hidden state are sign-extended once per element into the
 * rest of the scratch and the gate products take two weights per SMLAD, two units per pass. */
#include "lstm_s8.h"

#include "mcf_common.h"
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

static inline int32_t mcf_lstm_dot_s8(const int8_t *w, const int8_t *x, int32_t n)
{
    int32_t acc = 0;
    int32_t k;
    for (k = 0; k < n; ++k) {
        acc += (int32_t)w[k] * x[k];
    }
    return acc;
}

static inline int64_t mcf_lstm_dot_s16(const int8_t *w, const int16_t *x, int32_t n)
{
    int64_t acc = 0;
    int32_t k;
    for (k = 0; k < n; ++k) {
        acc += (int32_t)w[k] * x[k];
    }
    return acc;
}

/* TFLite Micro's 64-bit rescaling with the 16-bit multiplier and right shift s (see lstm_s8.h). */
static inline int32_t mcf_lstm_rescale64(int64_t acc, int32_t m16, int32_t s)
{
    return (int32_t)((acc * m16 + ((int64_t)1 << (s - 1))) >> s);
}

#if MCF_KERNELS_DSP
/* The whole groups of four of an int8 vector, sign-extended once per sequence element: per group
 * the word (v0, v2) then the word (v1, v3), the lanes SXTB16 gives a word of four weights. */
static void mcf_lstm_widen(const int8_t *v, int32_t n, uint32_t *out)
{
    int32_t k;
    for (k = 0; k + 4 <= n; k += 4) {
        const uint32_t w = mcf_read_u32(v + k);
        out[0] = mcf_sxtb16(w);
        out[1] = mcf_sxtb16_ror8(w);
        out += 2;
    }
}

/* Two rows of int8 weights times one widened vector (SMLAD: two products per instruction). */
static inline void mcf_lstm_dot2(const int8_t *w0, const int8_t *w1, const uint32_t *vw, const int8_t *v,
                                 int32_t n, int32_t *acc0, int32_t *acc1)
{
    int32_t a0 = *acc0;
    int32_t a1 = *acc1;
    int32_t k;
    for (k = 0; k + 4 <= n; k += 4) {
        const uint32_t ve = vw[0];
        const uint32_t vo = vw[1];
        const uint32_t x0 = mcf_read_u32(w0 + k);
        const uint32_t x1 = mcf_read_u32(w1 + k);
        a0 = mcf_smlad(mcf_sxtb16(x0), ve, a0);
        a0 = mcf_smlad(mcf_sxtb16_ror8(x0), vo, a0);
        a1 = mcf_smlad(mcf_sxtb16(x1), ve, a1);
        a1 = mcf_smlad(mcf_sxtb16_ror8(x1), vo, a1);
        vw += 2;
    }
    for (; k < n; ++k) {
        a0 += (int32_t)w0[k] * v[k];
        a1 += (int32_t)w1[k] * v[k];
    }
    *acc0 = a0;
    *acc1 = a1;
}
#endif

static inline int16_t mcf_lstm_gate_s8(const int32_t *rs, int32_t a, int32_t b)
{
    return (int16_t)mcf_lstm_sat16(mcf_lstm_sat16(mcf_requantize(a, rs[0], rs[1]))
                                   + mcf_lstm_sat16(mcf_requantize(b, rs[2], rs[3])));
}

static void mcf_lstm_gates_s8(const mcf_lstm_params *p, const int8_t *x, const int8_t *h)
{
    const int32_t n = p->units;
    const int32_t d = p->input_size;
    int32_t g;
#if MCF_KERNELS_DSP
    uint32_t *xw = (uint32_t *)(void *)(p->scratch + 4 * n);
    uint32_t *hw = xw + 2 * (d / 4);
    mcf_lstm_widen(x, d, xw);
    mcf_lstm_widen(h, n, hw);
#endif
    for (g = 0; g < 4; ++g) {
        const int8_t *w = p->weights + g * n * d;
        const int8_t *r = p->weights + 4 * n * d + g * n * n;
        const int32_t *rs = p->rescale + 4 * g;
        const int32_t *bi = p->bias32 + g * n;
        const int32_t *br = p->bias32 + (4 + g) * n;
        int32_t u = 0;
#if MCF_KERNELS_DSP
        for (; u + 2 <= n; u += 2) {
            int32_t a0 = bi[u];
            int32_t a1 = bi[u + 1];
            int32_t b0 = br[u];
            int32_t b1 = br[u + 1];
            mcf_lstm_dot2(w + u * d, w + (u + 1) * d, xw, x, d, &a0, &a1);
            mcf_lstm_dot2(r + u * n, r + (u + 1) * n, hw, h, n, &b0, &b1);
            p->scratch[g * n + u] = mcf_lstm_gate_s8(rs, a0, b0);
            p->scratch[g * n + u + 1] = mcf_lstm_gate_s8(rs, a1, b1);
        }
#endif
        for (; u < n; ++u) {
            p->scratch[g * n + u] = mcf_lstm_gate_s8(rs, bi[u] + mcf_lstm_dot_s8(w + u * d, x, d),
                                                     br[u] + mcf_lstm_dot_s8(r + u * n, h, n));
        }
    }
}

static void mcf_lstm_gates_s16(const mcf_lstm_params *p, const int16_t *x, const int16_t *h)
{
    const int32_t n = p->units;
    const int32_t d = p->input_size;
    int32_t g;
    for (g = 0; g < 4; ++g) {
        const int8_t *w = p->weights + g * n * d;
        const int8_t *r = p->weights + 4 * n * d + g * n * n;
        const int32_t *rs = p->rescale + 4 * g;
        const int64_t *bi = p->bias64 + g * n;
        const int64_t *br = p->bias64 + (4 + g) * n;
        int32_t u;
        for (u = 0; u < n; ++u) {
            const int32_t a = mcf_lstm_sat16(mcf_lstm_rescale64(bi[u] + mcf_lstm_dot_s16(w + u * d, x, d), rs[0], rs[1]));
            const int32_t b = mcf_lstm_sat16(mcf_lstm_rescale64(br[u] + mcf_lstm_dot_s16(r + u * n, h, n), rs[2], rs[3]));
            p->scratch[g * n + u] = (int16_t)mcf_lstm_sat16(a + b);
        }
    }
}

void mcf_lstm_s8(const mcf_lstm_params *p, const int8_t *input, int8_t *hidden, int16_t *cell, int8_t *output)
{
    const int32_t n = p->units;
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        int8_t *h = hidden + b * n;
        int16_t *c = cell + b * n;
        int32_t t;
        for (t = 0; t < p->steps; ++t) {
            int8_t *out = output + b * p->output_batch + t * p->output_step;
            int32_t u;
            mcf_lstm_gates_s8(p, input + b * p->input_batch + t * p->input_step, h);
            mcf_lstm_update(p, c);
            for (u = 0; u < n; ++u) {
                h[u] = (int8_t)p->scratch[u];
                out[u] = h[u];
            }
        }
    }
}

void mcf_lstm_s16(const mcf_lstm_params *p, const int16_t *input, int16_t *hidden, int16_t *cell, int16_t *output)
{
    const int32_t n = p->units;
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        int16_t *h = hidden + b * n;
        int16_t *c = cell + b * n;
        int32_t t;
        for (t = 0; t < p->steps; ++t) {
            int16_t *out = output + b * p->output_batch + t * p->output_step;
            int32_t u;
            mcf_lstm_gates_s16(p, input + b * p->input_batch + t * p->input_step, h);
            mcf_lstm_update(p, c);
            for (u = 0; u < n; ++u) {
                h[u] = p->scratch[u];
                out[u] = h[u];
            }
        }
    }
}
