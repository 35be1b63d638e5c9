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

/* A port may keep the host link off at run time. PlatformIO's native env (PLATFORMIO defined,
 * neither Arduino nor Zephyr) uses runtime/ports/native, which turns the link on only when the
 * MCUFORGE_HOST environment variable asks for it, so that the program prints text otherwise. */
#if defined(PLATFORMIO) && !defined(ARDUINO) && !defined(__ZEPHYR__)
#define MCF_HOST_SWITCHABLE 1
int mcf_port_native_host_link(void); /* runtime/ports/native/mcf_port_native.c */
#endif

static int host_link_on(void)
{
#if defined(MCF_HOST_SWITCHABLE)
    return mcf_port_native_host_link();
#else
    return 1;
#endif
}

#define MCF_HOST_NOT_STARTED 2 /* beside the mcf_host_status values */

/* The one host link of the program (mcf_host.h: one thread calls begin, then poll). */
static struct {
    mcf_proto proto;
    mcf_proto_port port;
    const mcf_host_hooks *hooks;
    int state; /* an mcf_host_status, or MCF_HOST_NOT_STARTED */
} host = {.state = MCF_HOST_NOT_STARTED};

mcf_host_status mcf_host_begin(const mcf_model *model, const char *board_id, const mcf_host_hooks *hooks)
{
    static const uint8_t delimiter = 0u;
    mcf_proto_port *port = &host.port;

    host.hooks = hooks;
    if (!host_link_on()) {
        host.state = MCF_HOST_OFF;
        return MCF_HOST_OFF;
    }
    port->write = host_write;
    port->read = host_read;
    port->ticks = host_ticks;
    port->user = (void *)hooks; /* only host_message uses it */
    port->on_message = (hooks != NULL && hooks->on_message != NULL) ? host_message : NULL;
    port->tick_unit = tick_unit_of(mcf_port_tick_unit());
    port->tick_bits = 64;
    port->tick_hz = 0;
    port->board = board_id;
    port->engine = NULL;

    if (mcf_proto_init(&host.proto, model, port) != MCF_PROTO_OK) {
        host_text("mcuforge: host protocol cannot serve this model (too many inputs, or no model)\r\n");
        host.state = MCF_HOST_REFUSED;
        return MCF_HOST_REFUSED;
    }
    /* Ends whatever text came before as a (rejected) frame of its own, so HELLO arrives clean. */
    mcf_port_write(&delimiter, 1);
    mcf_proto_send_hello(&host.proto);
    host.state = MCF_HOST_OK;
    return MCF_HOST_OK;
}

size_t mcf_host_poll(void)
{
    size_t handled;
    if (host.state == MCF_HOST_OFF) {
        uint8_t byte;
        while (mcf_port_read(&byte)) { /* drained, so that a port notices its link closing */
        }
        return 0;
    }
    if (host.state != MCF_HOST_OK) {
        return 0;
    }
    handled = mcf_proto_service(&host.proto);
    if (host.hooks != NULL && host.hooks->poll != NULL) {
        host.hooks->poll(&host.proto);
    }
    return handled;
}

mcf_proto *mcf_host_proto(void)
{
    return host.state == MCF_HOST_OK ? &host.proto : NULL;
}

void mcf_host_serve(const mcf_model *model, const char *board_id)
{
    mcf_host_serve_with(model, board_id, NULL);
}

void mcf_host_serve_with(const mcf_model *model, const char *board_id, const mcf_host_hooks *hooks)
{
    switch (mcf_host_begin(model, board_id, hooks)) {
    case MCF_HOST_OK:
        break;
    case MCF_HOST_OFF:
        mcf_port_exit(0);
        break;
    default:
        mcf_port_exit(3);
        break;
    }
    for (;;) {
        (void)mcf_host_poll();
    }
}
