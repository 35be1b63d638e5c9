/*
 * syscalls_newlib.c - the system calls newlib(-nano) needs once a firmware uses stdio or
 * malloc. The port itself uses no libc function beyond memcpy/memset and never pulls these
 * in; they live in the port library so a firmware that does call printf/malloc links and
 * sends its output to the UART (the linker only takes this object when something needs it).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "mcf_baremetal.h"

#undef errno
extern int errno;

extern char __mcf_heap_start[];
extern char __mcf_heap_end[];

int _write(int fd, const char *buf, int len);
int _read(int fd, char *buf, int len);
void *_sbrk(ptrdiff_t incr);
int _close(int fd);
int _lseek(int fd, int offset, int whence);
int _fstat(int fd, struct stat *st);
int _isatty(int fd);
int _getpid(void);
int _kill(int pid, int sig);
void _exit(int status);

int _write(int fd, const char *buf, int len)
{
    (void)fd;
    mcf_uart_write(buf, (size_t)len);
    return len;
}

int _read(int fd, char *buf, int len)
{
    (void)fd;
    /* Blocks until at least one byte is there, then returns what is already waiting. */
    size_t got = mcf_uart_read(buf, 1, MCF_WAIT_FOREVER);
    if (len > 1) {
        got += mcf_uart_read(buf + 1, (size_t)len - 1u, 0);
    }
    return (int)got;
}

void *_sbrk(ptrdiff_t incr)
{
    static char *brk = __mcf_heap_start;
    if (incr > __mcf_heap_end - brk || incr < __mcf_heap_start - brk) {
        errno = ENOMEM;
        return (void *)-1;
    }
    char *prev = brk;
    brk += incr;
    return prev;
}

int _close(int fd)
{
    (void)fd;
    return -1;
}

int _lseek(int fd, int offset, int whence)
{
    (void)fd;
    (void)offset;
    (void)whence;
    return 0;
}

int _fstat(int fd, struct stat *st)
{
    (void)fd;
    st->st_mode = S_IFCHR;
    return 0;
}

int _isatty(int fd)
{
    (void)fd;
    return 1;
}

int _getpid(void)
{
    return 1;
}

int _kill(int pid, int sig)
{
    (void)pid;
    (void)sig;
    errno = EINVAL;
    return -1;
}

void _exit(int status)
{
    mcf_exit(status);
}
