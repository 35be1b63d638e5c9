/* mcf_host.c - see mcf_host.h. */
#include "mcf_host.h"

#include <string.h>

#include "mcf_app.h"
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

/* The protocol times invoke() with the same counter the per-operator profile reads: mcf_app_ticks()
 * (mcf_app.c), re-based under emulators so that instruction counts repeat exactly. */
static uint64_t host_ticks(void *user)
{
    (void)user;
    return mcf_app_ticks();
}

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
