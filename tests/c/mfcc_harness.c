/*
 * Host harness for runtime/sensor/mcf_mfcc.c (tests/test_sensor_mfcc.py).
 *
 * Built with a generated "mcf_mfcc_tables.{c,h}". Reads binary records from stdin until EOF:
 *   clip  N SCALE_BITS ZP : N int16 -> frames*n_out float32, then frames*n_out int8
 *   clipf N               : N float32 -> frames*n_out float32 (mcf_mfcc_clip_f32)
 *   frame                 : float32 gain + frame_length int16 -> n_out float32
 *   log                   : float32 -> mcf_mfcc_log(float32)
 *   quant SCALE_BITS ZP   : float32 -> int8
 * SCALE_BITS is the float32 scale's bit pattern in decimal (no decimal parsing in the way).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcf_mfcc_tables.h"

#define MAX_SAMPLES 48000
#define MAX_OUT 8192

static int16_t samples[MAX_SAMPLES];
static float fsamples[MAX_SAMPLES];
static float feats[MAX_OUT];
static int8_t q8[MAX_OUT];
static float scratch[mcf_mfcc_scratch_bytes(4096) / sizeof(float)];

static float float_from_bits(const char *text)
{
    unsigned long bits = strtoul(text, NULL, 10);
    unsigned int b32 = (unsigned int)bits;
    float f;
    memcpy(&f, &b32, sizeof f);
    return f;
}

static int read_exact(void *dst, size_t n) { return fread(dst, 1, n, stdin) == n; }

int main(int argc, char **argv)
{
    const mcf_mfcc_config *cfg = &mcf_mfcc_tables;
    if (argc < 2) {
        return 2;
    }
    if (strcmp(argv[1], "clip") == 0 && argc == 5) {
        const size_t n = (size_t)strtoul(argv[2], NULL, 10);
        const float scale = float_from_bits(argv[3]);
        const int32_t zp = (int32_t)strtol(argv[4], NULL, 10);
        size_t frames;
        if (n > MAX_SAMPLES || mcf_mfcc_frame_count(cfg, n) * cfg->n_out > MAX_OUT) {
            return 3;
        }
        while (read_exact(samples, n * sizeof(int16_t))) {
            frames = mcf_mfcc_clip(cfg, samples, n, feats, scratch);
            mcf_mfcc_quantize_s8(feats, q8, frames * cfg->n_out, scale, zp);
            fwrite(feats, sizeof(float), frames * cfg->n_out, stdout);
            fwrite(q8, 1, frames * cfg->n_out, stdout);
        }
        return 0;
    }
    if (strcmp(argv[1], "clipf") == 0 && argc == 3) {
        const size_t n = (size_t)strtoul(argv[2], NULL, 10);
        size_t frames;
        if (n > MAX_SAMPLES || mcf_mfcc_frame_count(cfg, n) * cfg->n_out > MAX_OUT) {
            return 3;
        }
        while (read_exact(fsamples, n * sizeof(float))) {
            frames = mcf_mfcc_clip_f32(cfg, fsamples, n, feats, scratch);
            fwrite(feats, sizeof(float), frames * cfg->n_out, stdout);
        }
        return 0;
    }
    if (strcmp(argv[1], "frame") == 0) {
        float gain;
        while (read_exact(&gain, sizeof gain) && read_exact(samples, cfg->frame_length * sizeof(int16_t))) {
            mcf_mfcc_frame_gain(cfg, samples, gain, feats, scratch);
            fwrite(feats, sizeof(float), cfg->n_out, stdout);
        }
        return 0;
    }
    if (strcmp(argv[1], "log") == 0) {
        float x;
        while (read_exact(&x, sizeof x)) {
            const float y = mcf_mfcc_log(x);
            fwrite(&y, sizeof y, 1, stdout);
        }
        return 0;
    }
    if (strcmp(argv[1], "quant") == 0 && argc == 4) {
        const float scale = float_from_bits(argv[2]);
        const int32_t zp = (int32_t)strtol(argv[3], NULL, 10);
        float x;
        int8_t q;
        while (read_exact(&x, sizeof x)) {
            mcf_mfcc_quantize_s8(&x, &q, 1, scale, zp);
            fwrite(&q, 1, 1, stdout);
        }
        return 0;
    }
    return 2;
}
