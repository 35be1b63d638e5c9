/* mcf_port_native.c - mcuforge port for a desktop host (PlatformIO `native`, host tests).
 * The host link is stdin/stdout (binary); ticks are nanoseconds of the monotonic clock. Compiles
 * to nothing under Arduino or Zephyr, so a PlatformIO library can carry every port.
 *
 * mcf_port_read() blocks until a byte arrives. When stdin ends (the host closed the pipe, or the
 * program was started with `< /dev/null`), nothing can ever arrive again, so it ends the program
 * through mcf_port_exit(0) instead of returning 0 forever: mcf_host_serve() never returns and
 * would otherwise poll a closed link at full CPU. A read error ends it with status 1. */
#if !defined(ARDUINO) && !defined(__ZEPHYR__)
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "mcf_port.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(_WIN32)
#include <fcntl.h>
#include <io.h>
#endif

void mcf_port_init(void)
{
#if defined(_WIN32)
    /* Frames are binary: no CR/LF translation, no Ctrl-Z end of file. */
    (void)_setmode(_fileno(stdin), _O_BINARY);
    (void)_setmode(_fileno(stdout), _O_BINARY);
#endif
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
        mcf_port_exit(ferror(stdin) ? 1 : 0); /* the host link is closed for good */
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
