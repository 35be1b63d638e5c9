/*
 * camera_bench.c - the camera glue (mcf_sensor_camera.c + mcf_camera.c) on a bare-metal Cortex-M
 * under QEMU. Built by tests/test_sensor_camera.py with a generated mcf_sensor_config.h and a
 * generated "camera_bench_frame.h" (one raw frame, camera_bench_frame[MCF_CAMERA_FRAME_BYTES]).
 * Prints key=value lines on the UART:
 *   instr_frame   instructions for mcf_sensor_camera_frame() (a whole frame in memory: live source)
 *   instr_stream  instructions for the same frame fed as a byte stream in 248-byte pieces
 *                 (mcf_sensor_camera_feed, as SAMPLES delivers it; row copies included)
 *   t             the input tensor built from the frame, 2 hex digits per int8
 *   same          1 when the stream built the same tensor
 * then exits through semihosting with status 0. Needs QEMU -icount shift=0.
 */
#include <stdint.h>
#include <string.h>

#include "mcf_baremetal.h"
#include "mcf_sensor.h"

#include "camera_bench_frame.h"

static int8_t tensor[MCF_SENSOR_INPUT_ELEMS];
static int8_t streamed[MCF_SENSOR_INPUT_ELEMS];

int main(void)
{
    uint64_t t0, t1, t2;
    size_t pos = 0;
    uint32_t i;
    int done = 0;

    mcf_uart_init(MCF_UART_BAUD);
    mcf_ticks_init();
    mcf_sensor_reset();

    t0 = mcf_instructions();
    mcf_sensor_camera_frame(camera_bench_frame, MCF_CAMERA_ROW_BYTES, tensor);
    t1 = mcf_instructions();
    mcf_sensor_reset();
    while (pos < MCF_CAMERA_FRAME_BYTES) {
        size_t n = MCF_CAMERA_FRAME_BYTES - pos < 248u ? MCF_CAMERA_FRAME_BYTES - pos : 248u;
        pos += mcf_sensor_camera_feed(camera_bench_frame + pos, n, streamed, &done);
    }
    t2 = mcf_instructions();

    mcf_printf("instr_frame=%llu\r\n", (unsigned long long)(t1 - t0));
    mcf_printf("instr_stream=%llu\r\n", (unsigned long long)(t2 - t1));
    mcf_printf("same=%d\r\n", done && memcmp(tensor, streamed, sizeof tensor) == 0);
    mcf_console_puts("t=");
    for (i = 0; i < MCF_SENSOR_INPUT_ELEMS; ++i) {
        mcf_console_put_hex((uint8_t)tensor[i], 2);
    }
    mcf_console_puts("\r\ncamera-bench: done\r\n");
    mcf_exit(0);
}
