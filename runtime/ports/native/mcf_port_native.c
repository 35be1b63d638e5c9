/* mcf_port_native.c - mcuforge port for a desktop host (PlatformIO `native`, host tests).
 * The host link is stdin/stdout; ticks are nanoseconds of the monotonic clock. Compiles to
 * nothing under Arduino or Zephyr, so a PlatformIO library can carry every port. */
#if !defined(ARDUINO) && !defined(__ZEPHYR__)
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "mcf_port.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void mcf_port_init(void)
{
    setvbuf(stdout, NULL, _IOFBF, 4096);
}

void mcf_port_write(const uint8_t *data, size_t len)
{
    fwrite(data, 1, len, stdout);
    fflush(stdout);
}

int mcf_port_read(uint8_t *byte)
{
    int c = getchar();
    if (c == EOF) {
        return 0;
    }
    *byte = (uint8_t)c;
    return 1;
}

uint64_t mcf_port_ticks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *mcf_port_tick_unit(void)
{
    return "ns";
}

void mcf_port_exit(int status)
{
    fflush(stdout);
    exit(status);
}

#else
typedef int mcf_port_native_unused; /* ISO C wants a non-empty translation unit */
#endif
