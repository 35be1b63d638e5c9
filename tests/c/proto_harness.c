/*
 * proto_harness.c - runs the device side of the serial protocol on the host, for tests.
 *
 * Built by tests/test_proto_device_fuzz.py together with runtime/protocol/mcf_proto.c (under
 * AddressSanitizer and UBSan when available). A fake model stands in for generated code:
 *
 *   input 0:  int8  [1, 300]   output 0: int8  [1, 300]   out0[i] = in0[i] + 1 (mod 256)
 *   input 1:  uint8 [7]        output 1: uint8 [7]        out1[i] = in1[i] + 1 (mod 256)
 *
 * and invoke() also sends LOG "invoke <n>" so tests can count real invocations. It also has a
 * per-operator profile of FAKE_OPS operators as generated code with MCF_PROFILE=1 records it: after
 * invocation n, operator i took 7 * i + n ticks, except operator FAKE_ALIAS_OP (0 ticks: an alias);
 * the stamps start near a 32-bit wrap. Before the first invocation the stamps are all 0.
 *
 * Usage:
 *   proto_harness run [SEED] [noticks] [noprofile] < host_bytes > device_bytes
 *       Sends the boot HELLO, then hands stdin to the protocol through mcf_proto_service() in
 *       read() pieces of pseudo-random size (SEED picks them). Exits 3 if a guard byte around a
 *       tensor buffer was touched, 0 otherwise. Device output goes to stdout.
 *   proto_harness selftest
 *       API edge cases (bad init arguments, NULL pointers, a read() that overreports).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcf_proto.h"

#define GUARD 32
#define GUARD_BYTE 0xA5
#define IN0_BYTES 300
#define IN1_BYTES 7

static uint8_t mem_in0[GUARD + IN0_BYTES + GUARD];
static uint8_t mem_in1[GUARD + IN1_BYTES + GUARD];
static uint8_t mem_out0[GUARD + IN0_BYTES + GUARD];
static uint8_t mem_out1[GUARD + IN1_BYTES + GUARD];

static mcf_proto proto;
static unsigned invocations;

#define FAKE_OPS 70
#define FAKE_ALIAS_OP 5
static uint32_t fake_stamps[FAKE_OPS + 1];
static const mcf_profile fake_profile = {FAKE_OPS, fake_stamps};

static void fake_profile_run(void)
{
    uint32_t i;
    fake_stamps[0] = 0xFFFFFF00u + invocations;
    for (i = 0; i < FAKE_OPS; i++) {
        fake_stamps[i + 1] = fake_stamps[i] + ((i == FAKE_ALIAS_OP) ? 0u : 7u * i + invocations);
    }
}

static void fake_invoke(void)
{
    char text[32];
    int i;
    for (i = 0; i < IN0_BYTES; i++) {
        mem_out0[GUARD + i] = (uint8_t)(mem_in0[GUARD + i] + 1u);
    }
    for (i = 0; i < IN1_BYTES; i++) {
        mem_out1[GUARD + i] = (uint8_t)(mem_in1[GUARD + i] + 1u);
    }
    invocations++;
    fake_profile_run();
    (void)snprintf(text, sizeof text, "invoke %u", invocations);
    mcf_proto_log(&proto, MCF_LOG_DEBUG, text);
}

static const mcf_tensor_info fake_inputs[2] = {
    {"in0", mem_in0 + GUARD, IN0_BYTES, MCF_DTYPE_INT8, 2, {1, IN0_BYTES, 0, 0, 0, 0}, 0.25f, -1},
    {"in1", mem_in1 + GUARD, IN1_BYTES, MCF_DTYPE_UINT8, 1, {IN1_BYTES, 0, 0, 0, 0, 0}, 1.0f, 128},
};
static const mcf_tensor_info fake_outputs[2] = {
    {"out0", mem_out0 + GUARD, IN0_BYTES, MCF_DTYPE_INT8, 2, {1, IN0_BYTES, 0, 0, 0, 0}, 0.25f, 0},
    {"out1", mem_out1 + GUARD, IN1_BYTES, MCF_DTYPE_UINT8, 1, {IN1_BYTES, 0, 0, 0, 0, 0}, 0.5f, 3},
};

static const mcf_model fake_model = {
    "fake",
    "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF",
    4096, /* arena_bytes */
    0,    /* io_bytes */
    1234, /* weights_bytes */
    2,
    2,
    fake_inputs,
    fake_outputs,
    fake_invoke,
    &fake_profile,
    0,    /* state_bytes */
    NULL, /* reset_state */
    NULL, /* state */
};

static mcf_model fake_model_without_profile; /* fake_model with profile = NULL */

/* ------------------------------------------------------------------ platform callbacks */

typedef struct {
    const uint8_t *data;
    size_t len;
    size_t pos;
    uint32_t rng;
} input_stream;

static uint32_t next_rand(uint32_t *state)
{
    /* xorshift32: deterministic read() sizes, no libc rand() differences */
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

static void port_write(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    if (fwrite(data, 1, len, stdout) != len) {
        exit(4);
    }
}

static size_t port_read(void *user, uint8_t *buf, size_t cap)
{
    input_stream *in = (input_stream *)user;
    size_t n = 1u + next_rand(&in->rng) % 40u; /* sometimes more than cap: clamp like a driver */
    if (n > cap) {
        n = cap;
    }
    if (n > in->len - in->pos) {
        n = in->len - in->pos;
    }
    memcpy(buf, in->data + in->pos, n);
    in->pos += n;
    return n;
}

static uint64_t tick_now = 0xFFFFFF00u; /* close to a 32-bit wrap on purpose */

static uint64_t port_ticks(void *user)
{
    uint64_t t = tick_now;
    (void)user;
    tick_now = (tick_now + 1000u) & 0xFFFFFFFFu; /* a 32-bit counter */
    return t;
}

static int guards_intact(const uint8_t *mem, size_t bytes)
{
    size_t i;
    for (i = 0; i < GUARD; i++) {
        if (mem[i] != GUARD_BYTE || mem[GUARD + bytes + i] != GUARD_BYTE) {
            return 0;
        }
    }
    return 1;
}

static uint8_t *read_all(FILE *f, size_t *len)
{
    size_t cap = 4096;
    size_t n = 0;
    uint8_t *buf = (uint8_t *)malloc(cap);
    size_t got;
    if (buf == NULL) {
        exit(4);
    }
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *bigger;
            cap *= 2;
            bigger = (uint8_t *)realloc(buf, cap);
            if (bigger == NULL) {
                exit(4);
            }
            buf = bigger;
        }
    }
    *len = n;
    return buf;
}

static int run(uint32_t seed, int ticks, int profile)
{
    static mcf_proto_port port;
    input_stream in;
    uint8_t *host = NULL;
    size_t host_len = 0;
    int ok;

    memset(mem_in0, GUARD_BYTE, sizeof mem_in0);
    memset(mem_in1, GUARD_BYTE, sizeof mem_in1);
    memset(mem_out0, GUARD_BYTE, sizeof mem_out0);
    memset(mem_out1, GUARD_BYTE, sizeof mem_out1);

    host = read_all(stdin, &host_len);
    in.data = host;
    in.len = host_len;
    in.pos = 0;
    in.rng = seed ? seed : 1u;

    port.write = port_write;
    port.read = port_read;
    port.ticks = ticks ? port_ticks : NULL;
    port.user = &in;
    port.tick_unit = MCF_TICK_INSTRUCTIONS;
    port.tick_bits = 32;
    port.tick_hz = 0;
    port.board = "host-harness";
    port.engine = NULL;

    fake_model_without_profile = fake_model;
    fake_model_without_profile.profile = NULL;
    if (mcf_proto_init(&proto, profile ? &fake_model : &fake_model_without_profile, &port) != MCF_PROTO_OK) {
        fprintf(stderr, "mcf_proto_init failed\n");
        return 2;
    }
    mcf_proto_send_hello(&proto);
    while (in.pos < in.len) {
        (void)mcf_proto_service(&proto);
    }
    fflush(stdout);
    free(host);

    ok = guards_intact(mem_in0, IN0_BYTES) && guards_intact(mem_in1, IN1_BYTES) &&
         guards_intact(mem_out0, IN0_BYTES) && guards_intact(mem_out1, IN1_BYTES);
    if (!ok) {
        fprintf(stderr, "guard bytes around a tensor buffer were overwritten\n");
        return 3;
    }
    fprintf(stderr, "frames_ok=%lu frames_bad=%lu frames_runt=%lu invocations=%u\n",
            (unsigned long)proto.stats.frames_ok, (unsigned long)proto.stats.frames_bad,
            (unsigned long)proto.stats.frames_runt, invocations);
    return 0;
}

/* ------------------------------------------------------------------ selftest */

static size_t liar_read(void *user, uint8_t *buf, size_t cap)
{
    size_t *calls = (size_t *)user;
    memset(buf, 0, cap);
    return (*calls)++ == 0u ? cap * 4u : 0u; /* overreports once */
}

static void sink_write(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    (void)data;
    (void)len;
}

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "selftest failed at line %d: %s\n", __LINE__, #cond);     \
            return 1;                                                                 \
        }                                                                             \
    } while (0)

static int selftest(void)
{
    static mcf_proto ctx;
    static mcf_proto_port port;
    mcf_model bad;
    mcf_tensor_info no_data[1];
    size_t calls = 0;
    uint8_t zero = 0;

    port.write = sink_write;
    CHECK(mcf_proto_init(NULL, &fake_model, &port) == MCF_PROTO_ERR_ARG);
    CHECK(mcf_proto_init(&ctx, NULL, &port) == MCF_PROTO_ERR_ARG);
    CHECK(mcf_proto_init(&ctx, &fake_model, NULL) == MCF_PROTO_ERR_ARG);

    bad = fake_model;
    bad.invoke = NULL;
    CHECK(mcf_proto_init(&ctx, &bad, &port) == MCF_PROTO_ERR_MODEL);

    bad = fake_model;
    bad.num_inputs = MCF_PROTO_MAX_INPUTS + 1;
    CHECK(mcf_proto_init(&ctx, &bad, &port) == MCF_PROTO_ERR_TOO_MANY_INPUTS);

    bad = fake_model;
    no_data[0] = fake_inputs[0];
    no_data[0].data = NULL;
    bad.num_inputs = 1;
    bad.inputs = no_data;
    CHECK(mcf_proto_init(&ctx, &bad, &port) == MCF_PROTO_ERR_MODEL);

    bad = fake_model;
    bad.outputs = NULL;
    CHECK(mcf_proto_init(&ctx, &bad, &port) == MCF_PROTO_ERR_MODEL);

    {
        port.write = NULL;
        CHECK(mcf_proto_init(&ctx, &fake_model, &port) == MCF_PROTO_ERR_ARG);
        port.write = sink_write;
    }

    /* NULL-safe entry points */
    CHECK(mcf_proto_feed(NULL, &zero, 1) == 0u);
    CHECK(mcf_proto_service(NULL) == 0u);
    mcf_proto_send_hello(NULL);
    mcf_proto_log(NULL, MCF_LOG_INFO, "x");

    CHECK(mcf_proto_init(&ctx, &fake_model, &port) == MCF_PROTO_OK);
    CHECK(mcf_proto_feed(&ctx, NULL, 5) == 0u);
    CHECK(mcf_proto_service(&ctx) == 0u); /* no read callback */
    mcf_proto_log(&ctx, MCF_LOG_INFO, NULL);

    port.read = liar_read;
    port.user = &calls;
    CHECK(mcf_proto_service(&ctx) == 0u); /* all zeros: empty frames, nothing handled */
    CHECK(ctx.stats.frames_ok == 0u && ctx.stats.frames_bad == 0u);

    fprintf(stderr, "selftest ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "selftest") == 0) {
        return selftest();
    }
    if (argc >= 2 && strcmp(argv[1], "run") == 0) {
        uint32_t seed = (argc >= 3) ? (uint32_t)strtoul(argv[2], NULL, 10) : 1u;
        int ticks = 1;
        int profile = 1;
        int i;
        for (i = 3; i < argc; i++) {
            ticks = ticks && strcmp(argv[i], "noticks") != 0;
            profile = profile && strcmp(argv[i], "noprofile") != 0;
        }
        return run(seed, ticks, profile);
    }
    fprintf(stderr, "usage: %s run [SEED] [noticks] [noprofile] | selftest\n", argv[0]);
    return 2;
}
