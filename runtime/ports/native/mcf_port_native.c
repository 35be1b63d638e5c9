/* mcf_port_native.c - mcuforge port for a desktop host (PlatformIO `native`, host tests).
 * Ticks are nanoseconds of the monotonic clock. Compiles to nothing under Arduino or Zephyr, so a
 * PlatformIO library can carry every port.
 *
 * Text is written to stdout. The host protocol (binary frames) is on only when the environment
 * variable MCUFORGE_HOST asks for it, so that a program started in a terminal prints text only:
 *   MCUFORGE_HOST=stdio     the protocol on stdin/stdout (what a host tool piping to the program uses);
 *   MCUFORGE_HOST=tcp:PORT  mcf_port_init() listens on 127.0.0.1:PORT and waits for one connection,
 *                           which then carries everything (text and frames), like a board's UART:
 *                           `mcuforge test --port socket://127.0.0.1:PORT` talks to it.
 * mcf_host.c asks mcf_port_native_host_link() in PlatformIO builds; other builds (host tests)
 * always have the link on.
 *
 * mcf_port_read() does not block: it waits at most 1 ms for a byte when none is buffered (so
 * that a loop() polling an idle link does not spin a host CPU), then returns 0. When the link
 * ends (stdin or the connection closed) nothing can ever arrive again, so it ends the program
 * through mcf_port_exit(0); a read error ends it with status 1. Also with the protocol off, the
 * program ends at the end of stdin: `program < /dev/null` prints its text and exits. */
#if !defined(ARDUINO) && !defined(__ZEPHYR__)
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "mcf_port.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(_WIN32)
#include <fcntl.h>
#include <io.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

int mcf_port_native_host_link(void);

static int host_link;    /* 1: MCUFORGE_HOST asked for the protocol */
static int link_in = 0;  /* file descriptor read */
static FILE *link_out;   /* stream written */
static uint8_t rx_buf[256];
static size_t rx_len;
static size_t rx_pos;

int mcf_port_native_host_link(void)
{
    return host_link;
}

#if !defined(_WIN32)
/* MCUFORGE_HOST=tcp:PORT: one connection on the loopback interface carries the link. */
static void listen_tcp(const char *spec)
{
    struct sockaddr_in addr;
    const int one = 1;
    const long port = strtol(spec, NULL, 10);
    int server;
    int conn;
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "mcuforge: MCUFORGE_HOST=tcp:%s: not a TCP port\n", spec);
        exit(2);
    }
    server = socket(AF_INET, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (server < 0 || bind(server, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(server, 1) != 0) {
        fprintf(stderr, "mcuforge: cannot listen on 127.0.0.1:%ld\n", port);
        exit(2);
    }
    fprintf(stderr, "mcuforge: waiting for the host on 127.0.0.1:%ld\n", port);
    conn = accept(server, NULL, NULL);
    close(server);
    if (conn < 0) {
        exit(1);
    }
    link_in = conn;
    link_out = fdopen(conn, "wb");
}
#endif

void mcf_port_init(void)
{
    const char *mode = getenv("MCUFORGE_HOST");
    link_out = stdout;
#if defined(_WIN32)
    /* Frames are binary: no CR/LF translation, no Ctrl-Z end of file. */
    (void)_setmode(_fileno(stdin), _O_BINARY);
    (void)_setmode(_fileno(stdout), _O_BINARY);
#endif
    host_link = mode != NULL && mode[0] != '\0' && strcmp(mode, "0") != 0 && strcmp(mode, "off") != 0;
#if !defined(_WIN32)
    if (host_link && strncmp(mode, "tcp:", 4) == 0) {
        listen_tcp(mode + 4);
    }
#endif
    setvbuf(link_out, NULL, _IOFBF, 4096);
}

void mcf_port_write(const uint8_t *data, size_t len)
{
    fwrite(data, 1, len, link_out);
    fflush(link_out);
}

/* Refills rx_buf with what is waiting (at most 1 ms wait); 0 when nothing came. */
static int refill(void)
{
#if defined(_WIN32)
    int c = getchar(); /* no poll() on console handles: blocks */
    if (c == EOF) {
        mcf_port_exit(ferror(stdin) ? 1 : 0);
    }
    rx_buf[0] = (uint8_t)c;
    rx_len = 1;
#else
    struct pollfd pfd;
    ssize_t n;
    pfd.fd = link_in;
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (poll(&pfd, 1, 1) <= 0) {
        return 0;
    }
    n = read(link_in, rx_buf, sizeof rx_buf);
    if (n <= 0) {
        mcf_port_exit(n < 0 ? 1 : 0); /* the host link is closed for good */
        return 0;
    }
    rx_len = (size_t)n;
#endif
    rx_pos = 0;
    return 1;
}

int mcf_port_read(uint8_t *byte)
{
    if (rx_pos == rx_len && !refill()) {
        return 0;
    }
    *byte = rx_buf[rx_pos++];
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
    if (link_out != NULL) {
        fflush(link_out);
    }
    exit(status);
}

#else
typedef int mcf_port_native_unused; /* ISO C wants a non-empty translation unit */
#endif
