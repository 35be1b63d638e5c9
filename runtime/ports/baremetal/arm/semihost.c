/*
 * semihost.c - Arm semihosting calls (BKPT 0xAB on M-profile) and mcf_exit().
 *
 * Semihosting asks the debugger or emulator to do something on the core's behalf:
 * operation number in r0, pointer to its argument block in r1, result back in r0.
 * QEMU serves it when started with `-semihosting-config enable=on,target=native`.
 */
#include "mcf_baremetal.h"

#define SYS_WRITE0 0x04
#define SYS_EXIT 0x18
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

#if MCF_SEMIHOSTING
static uintptr_t semihost_call(uintptr_t op, const void *arg)
{
    register uintptr_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
#endif

void mcf_semihost_puts(const char *s)
{
#if MCF_SEMIHOSTING
    (void)semihost_call(SYS_WRITE0, s);
#else
    (void)s;
#endif
}

void mcf_exit(int status)
{
    mcf_uart_flush();
#if MCF_SEMIHOSTING
    /* SYS_EXIT_EXTENDED carries the status; plain SYS_EXIT (the fallback for hosts without
     * the extension) can only say "success" or "failure". */
    const uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status};
    (void)semihost_call(SYS_EXIT_EXTENDED, block);
    (void)semihost_call(SYS_EXIT, (const void *)(uintptr_t)(status == 0 ? ADP_STOPPED_APPLICATION_EXIT
                                                                         : 0x20023u /* RunTimeError */));
#else
    (void)status;
#endif
    for (;;) {
        __asm__ volatile("cpsid i\n\twfi" ::: "memory");
    }
}
