/* Host harness for runtime/sensor/mcf_camera.c (tests/test_sensor_camera.py).
 *
 * stdin, repeated until EOF: a case
 *   u16 src_w src_h crop_x crop_y crop_w crop_h dst_w dst_h; u8 dst_c format method flags;
 *   the table (dst_c * 256 int8, or float32 with MCF_CAMERA_OUT_F32);
 *   u32 frames, u32 seed; frames * frame bytes.
 * stdout per case: i32 mcf_camera_check(); then per frame the tensor built row by row
 * (mcf_camera_row), then the tensor built from the byte stream fed in pseudo-random pieces
 * (mcf_camera_feed, pieces crossing rows and frames), then u32 frames completed by the stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcf_camera.h"

static int get(void *p, size_t n)
{
    return fread(p, 1, n, stdin) == n;
}

int main(void)
{
    for (;;) {
        uint16_t g[8];
        uint8_t b[4];
        mcf_camera_config cfg;
        uint32_t frames, seed, row_bytes, frame_bytes, out_bytes, f, done_frames = 0;
        size_t lut_bytes, total, pos = 0;
        int8_t *lut_s8 = NULL;
        float *lut_f32 = NULL;
        uint8_t *data, *rowbuf, *out;
        uint16_t *hbuf;
        mcf_camera_state st;
        int32_t check;

        if (!get(g, sizeof g)) {
            return 0;
        }
        if (!get(b, sizeof b)) {
            return 2;
        }
        memset(&cfg, 0, sizeof cfg);
        cfg.src_w = g[0]; cfg.src_h = g[1]; cfg.crop_x = g[2]; cfg.crop_y = g[3];
        cfg.crop_w = g[4]; cfg.crop_h = g[5]; cfg.dst_w = g[6]; cfg.dst_h = g[7];
        cfg.dst_c = b[0]; cfg.format = b[1]; cfg.method = b[2]; cfg.flags = b[3];
        lut_bytes = (size_t)cfg.dst_c * 256u * ((cfg.flags & MCF_CAMERA_OUT_F32) ? 4u : 1u);
        if (cfg.flags & MCF_CAMERA_OUT_F32) {
            lut_f32 = malloc(lut_bytes);
            if (!get(lut_f32, lut_bytes)) return 2;
            cfg.lut_f32 = lut_f32;
        } else {
            lut_s8 = malloc(lut_bytes);
            if (!get(lut_s8, lut_bytes)) return 2;
            cfg.lut_s8 = lut_s8;
        }
        if (!get(&frames, 4) || !get(&seed, 4)) return 2;
        row_bytes = mcf_camera_row_bytes(&cfg);
        frame_bytes = row_bytes * cfg.src_h;
        out_bytes = (uint32_t)cfg.dst_w * cfg.dst_h * cfg.dst_c * ((cfg.flags & MCF_CAMERA_OUT_F32) ? 4u : 1u);
        total = (size_t)frames * frame_bytes;
        data = malloc(total + 1);
        if (!get(data, total)) return 2;
        check = mcf_camera_check(&cfg);
        fwrite(&check, 4, 1, stdout);
        if (check != 0) {
            free(data); free(lut_s8); free(lut_f32);
            continue;
        }
        rowbuf = malloc(row_bytes);
        out = malloc(out_bytes);
        hbuf = malloc(sizeof(uint16_t) * (mcf_camera_hbuf_elems(cfg.dst_w, cfg.dst_c, cfg.method) + 1u));
        /* row by row */
        mcf_camera_begin(&st, &cfg, hbuf);
        for (f = 0; f < frames; ++f) {
            uint32_t y;
            int last = 0;
            memset(out, 0x5A, out_bytes);
            for (y = 0; y < cfg.src_h; ++y) {
                last = mcf_camera_row(&st, data + (size_t)f * frame_bytes + (size_t)y * row_bytes, out);
                if (last != (y + 1u == cfg.src_h)) return 3;
            }
            fwrite(out, 1, out_bytes, stdout);
        }
        /* byte stream in pieces */
        mcf_camera_begin(&st, &cfg, hbuf);
        memset(out, 0x5A, out_bytes);
        while (pos < total) {
            size_t n, used;
            int done;
            seed = seed * 1103515245u + 12345u;
            n = 1u + (seed >> 8) % (2u * row_bytes + 7u);
            if (n > total - pos) n = total - pos;
            used = mcf_camera_feed(&st, rowbuf, data + pos, n, out, &done);
            if (used == 0 || used > n) return 4;
            pos += used;
            if (done) {
                if (pos % frame_bytes != 0) return 5;
                fwrite(out, 1, out_bytes, stdout);
                memset(out, 0x5A, out_bytes);
                done_frames++;
            } else if (used != n) {
                return 6;
            }
        }
        fwrite(&done_frames, 4, 1, stdout);
        free(data); free(rowbuf); free(out); free(hbuf); free(lut_s8); free(lut_f32);
    }
}
