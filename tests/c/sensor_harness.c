/*
 * sensor_harness.c - runs runtime/sensor/mcf_sensor.c on the host, for tests/test_sensor_glue.py.
 *
 * Built with a generated mcf_sensor_config.h on the include path. Reads records from stdin:
 *   u32 n, then n samples of MCF_SENSOR_CHANNELS float32   (n = 0xFFFFFFFF: mcf_sensor_reset())
 * and answers each chunk on stdout with
 *   u32 windows predicted by mcf_sensor_windows_after(n), u32 windows completed while pushing,
 *   then the input tensor mcf_sensor_build() wrote for each completed window.
 * All integers and floats little-endian (the host's).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mcf_sensor.h"

#if MCF_SENSOR_INPUT_INT8
static int8_t tensor[MCF_SENSOR_INPUT_ELEMS];
#elif MCF_SENSOR_INPUT_INT16
static int16_t tensor[MCF_SENSOR_INPUT_ELEMS];
#else
static float tensor[MCF_SENSOR_INPUT_ELEMS];
#endif
static unsigned char out[1u << 20];

int main(void)
{
    uint32_t n;
    while (fread(&n, sizeof n, 1, stdin) == 1) {
        uint32_t predicted;
        uint32_t done = 0;
        size_t used = 0;
        uint32_t i;
        if (n == 0xFFFFFFFFu) {
            mcf_sensor_reset();
            continue;
        }
        predicted = mcf_sensor_windows_after(n);
        for (i = 0; i < n; ++i) {
            float sample[MCF_SENSOR_CHANNELS];
            if (fread(sample, sizeof sample, 1, stdin) != 1) {
                return 2;
            }
            if (mcf_sensor_push(sample)) {
                memset(tensor, 0x5A, sizeof tensor); /* every byte must be written by build */
                mcf_sensor_build(tensor);
                if (used + sizeof tensor > sizeof out) {
                    return 3;
                }
                memcpy(out + used, tensor, sizeof tensor);
                used += sizeof tensor;
                done++;
            }
        }
        fwrite(&predicted, sizeof predicted, 1, stdout);
        fwrite(&done, sizeof done, 1, stdout);
        fwrite(out, 1, used, stdout);
    }
    return 0;
}
