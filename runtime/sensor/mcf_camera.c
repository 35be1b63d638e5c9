/* mcf_camera.c - see mcf_camera.h. */
#include "mcf_camera.h"

/* floor(t / 256) for |t| < 2^20, clamped to 0..255 (no right shift of a negative value). */
static uint32_t shift8_clamp(int32_t t)
{
    const int32_t v = (int32_t)((uint32_t)(t + (1L << 20)) >> 8) - 4096;
    return v < 0 ? 0u : (v > 255 ? 255u : (uint32_t)v);
}

static uint32_t bytes_per_pixel(uint32_t format)
{
    switch (format) {
    case MCF_CAMERA_GRAY8: return 1u;
    case MCF_CAMERA_RGB888: return 3u;
    default: return 2u; /* RGB565, YUYV */
    }
}

uint32_t mcf_camera_row_bytes(const mcf_camera_config *cfg)
{
    return (uint32_t)cfg->src_w * bytes_per_pixel(cfg->format);
}

int mcf_camera_check(const mcf_camera_config *cfg)
{
    if (cfg == NULL || cfg->format > MCF_CAMERA_RGB888 || cfg->method > MCF_CAMERA_BILINEAR) {
        return -1;
    }
    if ((cfg->dst_c != 1u && cfg->dst_c != 3u) || cfg->dst_w == 0u || cfg->dst_h == 0u) {
        return -2;
    }
    if (cfg->crop_w < cfg->dst_w || cfg->crop_h < cfg->dst_h ||
        (uint32_t)cfg->crop_x + cfg->crop_w > cfg->src_w || (uint32_t)cfg->crop_y + cfg->crop_h > cfg->src_h) {
        return -3;
    }
    if (cfg->format == MCF_CAMERA_YUYV && (cfg->src_w & 1u) != 0u) {
        return -4;
    }
    if (((cfg->flags & MCF_CAMERA_OUT_F32) != 0u   ? (const void *)cfg->lut_f32
         : (cfg->flags & MCF_CAMERA_OUT_S16) != 0u ? (const void *)cfg->lut_s16
                                                   : (const void *)cfg->lut_s8) == NULL) {
        return -5;
    }
    return 0;
}

/* The 8-bit channel values of pixel x of a source row, in the output's channel order. */
static void convert(const mcf_camera_config *cfg, const uint8_t *row, uint32_t x, uint32_t *v)
{
    uint32_t r;
    uint32_t g;
    uint32_t b;

    switch (cfg->format) {
    case MCF_CAMERA_GRAY8:
        v[0] = row[x];
        if (cfg->dst_c == 3u) {
            v[1] = v[0];
            v[2] = v[0];
        }
        return;
    case MCF_CAMERA_YUYV: {
        const uint8_t *pair = row + 4u * (x >> 1);
        const int32_t y = (int32_t)row[2u * x];
        const int32_t d = (int32_t)pair[1] - 128;
        const int32_t e = (int32_t)pair[3] - 128;
        if ((cfg->flags & MCF_CAMERA_YUV_LIMITED) != 0u) {
            const int32_t c = 298 * (y - 16);
            if (cfg->dst_c == 1u) {
                v[0] = shift8_clamp(c + 128);
                return;
            }
            r = shift8_clamp(c + 409 * e + 128);
            g = shift8_clamp(c - 100 * d - 208 * e + 128);
            b = shift8_clamp(c + 516 * d + 128);
        } else {
            if (cfg->dst_c == 1u) {
                v[0] = (uint32_t)y;
                return;
            }
            r = shift8_clamp(256 * y + 359 * e + 128);
            g = shift8_clamp(256 * y - 88 * d - 183 * e + 128);
            b = shift8_clamp(256 * y + 454 * d + 128);
        }
        break;
    }
    case MCF_CAMERA_RGB888:
        r = row[3u * x];
        g = row[3u * x + 1u];
        b = row[3u * x + 2u];
        break;
    default: { /* RGB565 */
        const uint32_t w = cfg->format == MCF_CAMERA_RGB565LE
                               ? ((uint32_t)row[2u * x] | ((uint32_t)row[2u * x + 1u] << 8))
                               : (((uint32_t)row[2u * x] << 8) | (uint32_t)row[2u * x + 1u]);
        const uint32_t r5 = w >> 11;
        const uint32_t g6 = (w >> 5) & 63u;
        const uint32_t b5 = w & 31u;
        r = (r5 << 3) | (r5 >> 2);
        g = (g6 << 2) | (g6 >> 4);
        b = (b5 << 3) | (b5 >> 2);
        break;
    }
    }
    if (cfg->dst_c == 1u) {
        v[0] = (77u * r + 150u * g + 29u * b + 128u) >> 8;
    } else if ((cfg->flags & MCF_CAMERA_BGR) != 0u) {
        v[0] = b;
        v[1] = g;
        v[2] = r;
    } else {
        v[0] = r;
        v[1] = g;
        v[2] = b;
    }
}

typedef mcf_camera_stepper stepper;

static void step_init(stepper *st, uint32_t size, uint32_t dst, uint32_t unit)
{
    const uint32_t half = size * unit; /* (2i + 1) * size * unit at i = 0 */
    st->den = 2u * dst;
    st->q = half / st->den;
    st->r = half % st->den;
    st->dq = (2u * half) / st->den;
    st->dr = (2u * half) % st->den;
}

static void step_next(stepper *st)
{
    st->q += st->dq;
    st->r += st->dr;
    if (st->r >= st->den) {
        st->r -= st->den;
        st->q += 1u;
    }
}

/* Bilinear position of a stepper value in 1/256 pixel, clamped: 0 .. (size - 1) * 256. */
static uint32_t bilinear_pos(uint32_t q, uint32_t size)
{
    const uint32_t hi = (size - 1u) * 256u;
    const uint32_t p = q < 128u ? 0u : q - 128u;
    return p > hi ? hi : p;
}

/* Source rows and weight of output row s->out_row (from the row stepper s->ys). */
static void map_row(mcf_camera_state *s)
{
    const mcf_camera_config *cfg = s->cfg;
    if (cfg->method == MCF_CAMERA_NEAREST) {
        s->y0 = s->ys.q;
        s->y1 = s->ys.q;
        s->fy = 0u;
    } else {
        const uint32_t p = bilinear_pos(s->ys.q, cfg->crop_h);
        s->y0 = p >> 8;
        s->fy = p & 255u;
        s->y1 = s->y0 + 1u < cfg->crop_h ? s->y0 + 1u : s->y0;
    }
}

void mcf_camera_begin(mcf_camera_state *s, const mcf_camera_config *cfg, uint16_t *hbuf)
{
    s->cfg = cfg;
    s->hbuf = hbuf;
    s->row = 0;
    s->out_row = 0;
    s->fill = 0;
    step_init(&s->ys, cfg->crop_h, cfg->dst_h, cfg->method == MCF_CAMERA_BILINEAR ? 256u : 1u);
    map_row(s);
}

static void store(const mcf_camera_config *cfg, void *out, uint32_t index, uint32_t c, uint32_t v)
{
    if ((cfg->flags & MCF_CAMERA_OUT_F32) != 0u) {
        ((float *)out)[index] = cfg->lut_f32[c * 256u + v];
    } else if ((cfg->flags & MCF_CAMERA_OUT_S16) != 0u) {
        ((int16_t *)out)[index] = cfg->lut_s16[c * 256u + v];
    } else {
        ((int8_t *)out)[index] = cfg->lut_s8[c * 256u + v];
    }
}

/* Nearest: output row s->out_row straight from source row `row`. */
static void emit_nearest(const mcf_camera_state *s, const uint8_t *row, void *out)
{
    const mcf_camera_config *cfg = s->cfg;
    const uint32_t nc = cfg->dst_c;
    uint32_t index = s->out_row * (uint32_t)cfg->dst_w * nc;
    stepper xs;
    uint32_t i;
    step_init(&xs, cfg->crop_w, cfg->dst_w, 1u);
    for (i = 0; i < cfg->dst_w; ++i) {
        uint32_t v[3];
        uint32_t c;
        convert(cfg, row, cfg->crop_x + xs.q, v);
        for (c = 0; c < nc; ++c) {
            store(cfg, out, index++, c, v[c]);
        }
        step_next(&xs);
    }
}

/* Bilinear, horizontal pass of one source row into h (dst_w * dst_c values, 256 * 255 at most). */
static void horizontal(const mcf_camera_config *cfg, const uint8_t *row, uint16_t *h)
{
    const uint32_t nc = cfg->dst_c;
    stepper xs;
    uint32_t i;
    step_init(&xs, cfg->crop_w, cfg->dst_w, 256u);
    for (i = 0; i < cfg->dst_w; ++i) {
        const uint32_t p = bilinear_pos(xs.q, cfg->crop_w);
        const uint32_t x0 = p >> 8;
        const uint32_t fx = p & 255u;
        uint32_t a[3];
        uint32_t c;
        convert(cfg, row, cfg->crop_x + x0, a);
        if (fx == 0u) {
            for (c = 0; c < nc; ++c) {
                *h++ = (uint16_t)(a[c] << 8);
            }
        } else { /* fx > 0 only where x0 + 1 < crop_w */
            uint32_t b[3];
            convert(cfg, row, cfg->crop_x + x0 + 1u, b);
            for (c = 0; c < nc; ++c) {
                *h++ = (uint16_t)(a[c] * (256u - fx) + b[c] * fx);
            }
        }
        step_next(&xs);
    }
}

static void emit_bilinear(const mcf_camera_state *s, void *out)
{
    const mcf_camera_config *cfg = s->cfg;
    const uint32_t nc = cfg->dst_c;
    const uint32_t n = (uint32_t)cfg->dst_w * nc;
    const uint16_t *h0 = s->hbuf + (s->y0 & 1u) * n;
    const uint16_t *h1 = s->hbuf + (s->y1 & 1u) * n;
    const uint32_t fy = s->fy;
    const uint32_t gy = 256u - fy;
    uint32_t i;
    uint32_t c;
    /* one pass per channel: the table row and the output type are fixed inside the loop */
    for (c = 0; c < nc; ++c) {
        if ((cfg->flags & MCF_CAMERA_OUT_F32) != 0u) {
            const float *lut = cfg->lut_f32 + c * 256u;
            float *dst = (float *)out + s->out_row * n;
            for (i = c; i < n; i += nc) {
                dst[i] = lut[((uint32_t)h0[i] * gy + (uint32_t)h1[i] * fy + 32768u) >> 16];
            }
        } else if ((cfg->flags & MCF_CAMERA_OUT_S16) != 0u) {
            const int16_t *lut = cfg->lut_s16 + c * 256u;
            int16_t *dst = (int16_t *)out + s->out_row * n;
            for (i = c; i < n; i += nc) {
                dst[i] = lut[((uint32_t)h0[i] * gy + (uint32_t)h1[i] * fy + 32768u) >> 16];
            }
        } else {
            const int8_t *lut = cfg->lut_s8 + c * 256u;
            int8_t *dst = (int8_t *)out + s->out_row * n;
            for (i = c; i < n; i += nc) {
                dst[i] = lut[((uint32_t)h0[i] * gy + (uint32_t)h1[i] * fy + 32768u) >> 16];
            }
        }
    }
}

int mcf_camera_row(mcf_camera_state *s, const uint8_t *row, void *out)
{
    const mcf_camera_config *cfg = s->cfg;
    const uint32_t y = s->row++;

    if (y >= cfg->crop_y && s->out_row < cfg->dst_h) {
        const uint32_t yc = y - cfg->crop_y;
        if (cfg->method == MCF_CAMERA_BILINEAR && (yc == s->y0 || yc == s->y1)) {
            horizontal(cfg, row, s->hbuf + (yc & 1u) * (uint32_t)cfg->dst_w * cfg->dst_c);
        }
        while (s->out_row < cfg->dst_h && yc == s->y1) {
            if (cfg->method == MCF_CAMERA_BILINEAR) {
                emit_bilinear(s, out);
            } else {
                emit_nearest(s, row, out);
            }
            s->out_row++;
            step_next(&s->ys);
            if (s->out_row < cfg->dst_h) {
                map_row(s);
            }
        }
    }
    if (s->row >= cfg->src_h) {
        mcf_camera_begin(s, cfg, s->hbuf);
        return 1;
    }
    return 0;
}

size_t mcf_camera_feed(mcf_camera_state *s, uint8_t *rowbuf, const uint8_t *data, size_t n, void *out,
                       int *frame_done)
{
    const uint32_t row_bytes = mcf_camera_row_bytes(s->cfg);
    size_t used = 0;
    *frame_done = 0;
    while (used < n) {
        size_t take = (size_t)(row_bytes - s->fill);
        size_t k;
        if (take > n - used) {
            take = n - used;
        }
        for (k = 0; k < take; ++k) {
            rowbuf[s->fill + k] = data[used + k];
        }
        s->fill += (uint32_t)take;
        used += take;
        if (s->fill == row_bytes) {
            s->fill = 0;
            if (mcf_camera_row(s, rowbuf, out)) {
                *frame_done = 1;
                break;
            }
        }
    }
    return used;
}
