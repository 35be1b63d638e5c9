/*
 * mfcc_bench.c - runtime/sensor/mcf_mfcc.c on a bare-metal Cortex-M under QEMU.
 *
 * Built by tests/test_sensor_mfcc.py with a generated "mcf_mfcc_tables.{c,h}" and a generated
 * "mfcc_bench_input.h" (one int16 clip: MFCC_BENCH_SAMPLES samples in mfcc_bench_clip, plus
 * MFCC_BENCH_SCALE / MFCC_BENCH_ZERO_POINT). Prints key=value lines on the UART:
 *   instr_clip   instructions for mcf_mfcc_clip() on the whole clip (peak gain included)
 *   instr_frame  instructions for one mcf_mfcc_frame_gain() call (the clip's middle frame)
 *   instr_quant  instructions for mcf_mfcc_quantize_s8() on the clip's features
 *   frames       frames computed
 *   f            every feature's float32 bit pattern, 8 hex digits each
 *   q            every quantized int8, 2 hex digits each
 * then exits through semihosting with status 0. Instruction counts need QEMU -icount shift=0
 * (40 instructions per SysTick tick, resolution one tick).
 */
#include <stdint.h>
#include <string.h>

#include "mcf_baremetal.h"
#include "mcf_mfcc_tables.h"
#include "mfcc_bench_input.h"

#define N_FEATURES (MCF_MFCC_TABLES_FRAMES_PER_CLIP * MCF_MFCC_TABLES_N_OUT)

static float scratch[MCF_MFCC_TABLES_SCRATCH_BYTES / sizeof(float)];
static float features[N_FEATURES];
static int8_t quantized[N_FEATURES];

int main(void)
{
    const mcf_mfcc_config *cfg = &mcf_mfcc_tables;
    const size_t middle = (MCF_MFCC_TABLES_FRAMES_PER_CLIP / 2) * MCF_MFCC_TABLES_FRAME_STEP;
    uint64_t t0, t1, t2, t3;
    size_t frames, i;
    float one[MCF_MFCC_TABLES_N_OUT];
    float gain;

    mcf_uart_init(MCF_UART_BAUD);
    mcf_ticks_init();

    t0 = mcf_instructions();
    frames = mcf_mfcc_clip(cfg, mfcc_bench_clip, MFCC_BENCH_SAMPLES, features, scratch);
    t1 = mcf_instructions();
    mcf_mfcc_quantize_s8(features, quantized, frames * cfg->n_out, MFCC_BENCH_SCALE, MFCC_BENCH_ZERO_POINT);
    t2 = mcf_instructions();
    gain = mcf_mfcc_peak_gain(mfcc_bench_clip, MFCC_BENCH_SAMPLES);
    t3 = mcf_instructions();
    mcf_mfcc_frame_gain(cfg, mfcc_bench_clip + middle, gain, one, scratch);
    t3 = mcf_instructions() - t3;

    mcf_printf("frames=%u\r\n", (unsigned)frames);
    mcf_printf("instr_clip=%llu\r\n", (unsigned long long)(t1 - t0));
    mcf_printf("instr_quant=%llu\r\n", (unsigned long long)(t2 - t1));
    mcf_printf("instr_frame=%llu\r\n", (unsigned long long)t3);
    mcf_console_puts("f=");
    for (i = 0; i < frames * cfg->n_out; ++i) {
        uint32_t bits;
        memcpy(&bits, &features[i], sizeof bits);
        mcf_console_put_hex(bits, 8);
    }
    mcf_console_puts("\r\nq=");
    for (i = 0; i < frames * cfg->n_out; ++i) {
        mcf_console_put_hex((uint8_t)quantized[i], 2);
    }
    mcf_console_puts("\r\nmfcc-bench: done\r\n");
    mcf_exit(0);
}
