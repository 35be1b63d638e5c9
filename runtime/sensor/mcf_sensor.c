/* mcf_sensor.c - see mcf_sensor.h. */
#include "mcf_sensor.h"

#if MCF_SENSOR_FEATURE
#include MCF_SENSOR_FEATURE_INCLUDE
#endif

#define W ((uint32_t)MCF_SENSOR_WINDOW)
#define C ((uint32_t)MCF_SENSOR_CHANNELS)

/* The ring: slot k holds one sample (C floats); `head` is the slot the next sample goes to, so
 * once the ring is full it is also the oldest sample. Audio pipelines whose feature stage reads
 * int16 in place (MCF_SENSOR_RING_S16: one channel, no scaling) keep int16 samples instead. */
#if MCF_SENSOR_RING_S16
static int16_t mcf_sensor_ring[MCF_SENSOR_WINDOW * MCF_SENSOR_CHANNELS] MCF_SENSOR_ATTR;
#else
static float mcf_sensor_ring[MCF_SENSOR_WINDOW * MCF_SENSOR_CHANNELS] MCF_SENSOR_ATTR;
#endif
static uint32_t head;   /* next slot, 0..W-1 */
static uint32_t filled; /* samples held, 0..W */
static uint32_t since;  /* samples since the last completed window, 0..HOP-1 (once full) */
static uint32_t count;  /* samples pushed since reset */

#if !MCF_SENSOR_RING_S16 /* the int16 ring goes to the feature stage unscaled */
static const float offset[MCF_SENSOR_CHANNELS] = MCF_SENSOR_OFFSET;
static const float scale[MCF_SENSOR_CHANNELS] = MCF_SENSOR_SCALE;
#endif
#if MCF_SENSOR_CLIP
static const float clip_lo[MCF_SENSOR_CHANNELS] = MCF_SENSOR_CLIP_LO;
static const float clip_hi[MCF_SENSOR_CHANNELS] = MCF_SENSOR_CLIP_HI;
#endif

#if MCF_SENSOR_FEATURE && !MCF_SENSOR_RING_S16
static float stage_in[MCF_SENSOR_WINDOW * MCF_SENSOR_CHANNELS] MCF_SENSOR_ATTR;
#endif
#if MCF_SENSOR_FEATURE
static float stage_out[MCF_SENSOR_FEATURE_OUT_ELEMS] MCF_SENSOR_ATTR;
#endif

#if MCF_SENSOR_RING_S16
/* float sample -> int16: round half away from zero, saturate, NaN -> 0 (reference.py to_int16). */
static int16_t to_s16(float v)
{
    int32_t t;
    float frac;
    if (!(v == v)) {
        return 0;
    }
    if (v >= 32767.0f) {
        return 32767;
    }
    if (v <= -32768.0f) {
        return -32768;
    }
    t = (int32_t)v;
    frac = v - (float)t;
    if (frac >= 0.5f) {
        t += 1;
    } else if (frac <= -0.5f) {
        t -= 1;
    }
    return (int16_t)t;
}
#endif

void mcf_sensor_reset(void)
{
    head = 0;
    filled = 0;
    since = 0;
    count = 0;
}

int mcf_sensor_push(const float *sample)
{
    uint32_t c;
#if MCF_SENSOR_RING_S16
    int16_t *slot = &mcf_sensor_ring[head * C];
    for (c = 0; c < C; ++c) {
        slot[c] = to_s16(sample[c]);
    }
#else
    float *slot = &mcf_sensor_ring[head * C];
    for (c = 0; c < C; ++c) {
        slot[c] = sample[c];
    }
#endif
    head = (head + 1u == W) ? 0u : head + 1u;
    count++;
    if (filled < W) {
        filled++;
        since = 0;
        return filled == W;
    }
    since++;
    if (since == (uint32_t)MCF_SENSOR_HOP) {
        since = 0;
        return 1;
    }
    return 0;
}

uint32_t mcf_sensor_windows_after(uint32_t n)
{
    if (filled < W) {
        const uint32_t need = W - filled;
        if (n < need) {
            return 0;
        }
        return 1u + (n - need) / (uint32_t)MCF_SENSOR_HOP;
    }
    return (uint32_t)(((uint64_t)since + n) / (uint64_t)MCF_SENSOR_HOP);
}

uint32_t mcf_sensor_count(void)
{
    return count;
}

#if MCF_SENSOR_INPUT_INT8 || MCF_SENSOR_INPUT_INT16
/* Round half away from zero for |v| <= 2^17, without libm (as runtime/kernels/quantize.c and
 * quantize_s16.c): below 2^23 the fraction of a float32 is exact. */
static int32_t round_half_away(float v)
{
    int32_t t = (int32_t)v;          /* truncates toward zero */
    const float frac = v - (float)t; /* exact: the fraction bits of v */
    if (frac >= 0.5f) {
        t += 1;
    } else if (frac <= -0.5f) {
        t -= 1;
    }
    return t;
}
#endif

#if MCF_SENSOR_INPUT_INT8 || MCF_SENSOR_INPUT_INT16
#if MCF_SENSOR_INPUT_INT16 /* 16x8 models: the input is int16 */
typedef int16_t mcf_sensor_q;
#define Q_MIN (-32768)
#define Q_MAX 32767
#define Q_BOUND 131072.0f /* beyond every int16 value plus any zero point: saturates anyway */
#else
typedef int8_t mcf_sensor_q;
#define Q_MIN (-128)
#define Q_MAX 127
#define Q_BOUND 512.0f /* beyond +-512 the result clamps anyway */
#endif
/* TFLite QUANTIZE float32 -> int8 / int16: clamp(round(y / scale) + zero_point), the division in
 * float32, rounding half away from zero, saturation to the input's type. */
static mcf_sensor_q quantize(float y)
{
    float q = y / MCF_SENSOR_QSCALE;
    int32_t v;
    if (q != q) { /* NaN */
        q = 0.0f;
    } else if (q > Q_BOUND) {
        q = Q_BOUND;
    } else if (q < -Q_BOUND) {
        q = -Q_BOUND;
    }
    v = round_half_away(q) + (int32_t)MCF_SENSOR_QZERO;
    if (v < Q_MIN) {
        v = Q_MIN;
    } else if (v > Q_MAX) {
        v = Q_MAX;
    }
    return (mcf_sensor_q)v;
}
#define MCF_SENSOR_STORE(dst, i, y) (((mcf_sensor_q *)(dst))[(i)] = quantize(y))
#else
#define MCF_SENSOR_STORE(dst, i, y) (((float *)(dst))[(i)] = (y))
#endif

#if MCF_SENSOR_RING_S16
/* The feature stage reads the int16 ring in place, oldest sample first (no scaling: identity). */
void mcf_sensor_build(void *input)
{
    uint32_t i;
    MCF_SENSOR_FEATURE_RUN_RING_S16(mcf_sensor_ring, (filled < W) ? 0u : head, stage_out);
    for (i = 0; i < (uint32_t)MCF_SENSOR_FEATURE_OUT_ELEMS; ++i) {
        MCF_SENSOR_STORE(input, i, stage_out[i]);
    }
}
#else
void mcf_sensor_build(void *input)
{
    uint32_t slot = (filled < W) ? 0u : head; /* oldest sample */
    uint32_t t;
#if MCF_SENSOR_FEATURE
    void *const dst = stage_in;
#endif
    for (t = 0; t < W; ++t) {
        const float *s = &mcf_sensor_ring[slot * C];
        uint32_t c;
        for (c = 0; c < C; ++c) {
            float y = s[c] - offset[c];
            y = y * scale[c];
#if MCF_SENSOR_CLIP
            if (y < clip_lo[c]) {
                y = clip_lo[c];
            } else if (y > clip_hi[c]) {
                y = clip_hi[c];
            }
#endif
#if MCF_SENSOR_LAYOUT == MCF_SENSOR_TIME_MAJOR
#define MCF_SENSOR_POS (t * C + c)
#else
#define MCF_SENSOR_POS (c * W + t)
#endif
#if MCF_SENSOR_FEATURE
            ((float *)dst)[MCF_SENSOR_POS] = y;
#else
            MCF_SENSOR_STORE(input, MCF_SENSOR_POS, y);
#endif
#undef MCF_SENSOR_POS
        }
        slot = (slot + 1u == W) ? 0u : slot + 1u;
    }
#if MCF_SENSOR_FEATURE
    {
        uint32_t i;
        MCF_SENSOR_FEATURE_RUN(stage_in, stage_out);
        for (i = 0; i < (uint32_t)MCF_SENSOR_FEATURE_OUT_ELEMS; ++i) {
            MCF_SENSOR_STORE(input, i, stage_out[i]);
        }
    }
#endif
}
#endif /* MCF_SENSOR_RING_S16 */
