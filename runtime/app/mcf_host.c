/* mcf_host.c - see mcf_host.h. */
#include "mcf_host.h"

#include <string.h>

#include "mcf_port.h"
#include "mcf_proto.h"

static void host_write(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    mcf_port_write(data, len);
}

/* Copies what is waiting, but stops after a 0x00 (the end of a frame): the protocol then
 * handles that frame before more is read. This also keeps a port whose mcf_port_read() blocks
 * (the native port reads stdin) from waiting for bytes the host will only send after it got
 * the answer to the frame already received. */
static size_t host_read(void *user, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    (void)user;
    while (n < cap && mcf_port_read(&buf[n])) {
        if (buf[n++] == 0u) {
            break;
        }
    }
    return n;
}

/*
 * Emulated instruction counts are exact only if the tick grid does not depend on when the host's
 * bytes arrived. Under QEMU `-icount`, the bare-metal port counts SysTick ticks of 40
 * instructions; the phase of that grid relative to the start of invoke() depends on the
 * instruction at which the guest noticed the host's INFER_RUN, which depends on host timing. So
 * two runs of the same input could differ by one tick (40 instructions). Writing SYST_CVR
 * restarts SysTick's period at the current instruction (QEMU re-bases its timer there, hardware
 * clears the counter), so re-basing at each reading makes the difference between two readings a
 * function of the code executed between them alone. The jump this causes in mcf_port_ticks() is
 * added to `offset`, so the values returned here keep increasing.
 *
 * Done only on M-profile cores, and only when the port reports "instructions" (the bare-metal
 * port under an emulator): an RTOS that owns SysTick (Zephyr) reports "cycles" and is left alone.
 * Build with -DMCF_HOST_REBASE_SYSTICK=0 to turn it off.
 */
#ifndef MCF_HOST_REBASE_SYSTICK
#if defined(__ARM_ARCH_PROFILE) && (__ARM_ARCH_PROFILE == 'M')
#define MCF_HOST_REBASE_SYSTICK 1
#else
#define MCF_HOST_REBASE_SYSTICK 0
#endif
#endif

#if MCF_HOST_REBASE_SYSTICK
#define MCF_HOST_SYST_CVR (*(volatile uint32_t *)0xE000E018u)

static int rebase_ticks;
static uint64_t ticks_offset;

static uint64_t host_ticks(void *user)
{
    uint64_t before;
    uint64_t after;
    (void)user;
    if (!rebase_ticks) {
        return mcf_port_ticks();
    }
    before = mcf_port_ticks();
    MCF_HOST_SYST_CVR = 0u;
    after = mcf_port_ticks();
    ticks_offset += before - after;
    return after + ticks_offset;
}
#else
static uint64_t host_ticks(void *user)
{
    (void)user;
    return mcf_port_ticks();
}
#endif

static int same(const char *a, const char *b)
{
    return a != NULL && strcmp(a, b) == 0;
}

static mcf_proto_tick_unit tick_unit_of(const char *unit)
{
    if (same(unit, "cycles")) {
        return MCF_TICK_CYCLES;
    }
    if (same(unit, "instructions")) {
        return MCF_TICK_INSTRUCTIONS;
    }
    if (same(unit, "us")) {
        return MCF_TICK_MICROSECONDS;
    }
    if (same(unit, "ns")) {
        return MCF_TICK_NANOSECONDS;
    }
    return MCF_TICK_RAW;
}

static void host_text(const char *text)
{
    mcf_port_write((const uint8_t *)text, strlen(text));
}

static int host_message(void *user, mcf_proto *ctx, uint8_t type, uint8_t seq, const uint8_t *payload,
                        size_t len)
{
    const mcf_host_hooks *hooks = (const mcf_host_hooks *)user;
    return hooks->on_message(ctx, type, seq, payload, len);
}

void mcf_host_serve(const mcf_model *model, const char *board_id)
{
    mcf_host_serve_with(model, board_id, NULL);
}

void mcf_host_serve_with(const mcf_model *model, const char *board_id, const mcf_host_hooks *hooks)
{
    static mcf_proto proto;
    static mcf_proto_port port;
    static const uint8_t delimiter = 0u;

    port.write = host_write;
    port.read = host_read;
    port.ticks = host_ticks;
    port.user = (void *)hooks; /* only host_message uses it */
    port.on_message = (hooks != NULL && hooks->on_message != NULL) ? host_message : NULL;
    port.tick_unit = tick_unit_of(mcf_port_tick_unit());
#if MCF_HOST_REBASE_SYSTICK
    rebase_ticks = port.tick_unit == MCF_TICK_INSTRUCTIONS;
#endif
    port.tick_bits = 64;
    port.tick_hz = 0;
    port.board = board_id;
    port.engine = NULL;

    if (mcf_proto_init(&proto, model, &port) != MCF_PROTO_OK) {
        host_text("mcuforge: host protocol cannot serve this model (too many inputs, or no model)\r\n");
        mcf_port_exit(3);
        for (;;) {
        }
    }
    /* Ends whatever text came before as a (rejected) frame of its own, so HELLO arrives clean. */
    mcf_port_write(&delimiter, 1);
    mcf_proto_send_hello(&proto);
    for (;;) {
        (void)mcf_proto_service(&proto);
        if (hooks != NULL && hooks->poll != NULL) {
            hooks->poll(&proto);
        }
    }
}
