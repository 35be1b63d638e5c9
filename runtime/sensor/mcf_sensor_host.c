/* mcf_sensor_host.c - see mcf_sensor_host.h; SAMPLES is specified in docs/protocol.md. */
#include "mcf_sensor_host.h"

#include <string.h>

#include "mcf_host.h"
#include "mcf_port.h"
#include "mcf_proto.h"
#include "mcf_sensor.h"
#include "mcf_source.h"

/* SAMPLES payload: flags u8, first u32, then float32 samples (channels interleaved); for a camera
 * pipeline the raw frame bytes, 4 per sample (MCF_SENSOR_CHANNELS is 1). */
#define SAMPLES_HDR 5u
#define SAMPLE_BYTES (4u * (uint32_t)MCF_SENSOR_CHANNELS)
#define FLAG_START 0x01u /* a new stream: empty the ring buffer; first must be 0 */
#define FLAG_END 0x02u   /* the stream ends after this chunk (a live source resumes) */
#define FLAG_ECHO 0x04u  /* send each window's input tensor before running the model */
#define KIND_INPUT 0u

#define IS_LIVE_SOURCE                                                                             \
    (MCF_SENSOR_SOURCE == MCF_SENSOR_SOURCE_ZEPHYR || MCF_SENSOR_SOURCE == MCF_SENSOR_SOURCE_ARDUINO)

static const mcf_model *model;
static mcf_sensor_window_fn window_fn;
static mcf_proto *host_link; /* from mcf_sensor_begin() on; NULL while the link is off */
static int live;             /* the live source started */
#if IS_LIVE_SOURCE
static int announced; /* a live source that failed to start was reported to the host */
#endif
static int streaming;        /* a host stream (SAMPLES) is open: the live source pauses */
static uint32_t live_windows;

/* The last SAMPLES handled, so that a retry (same seq, same samples) is answered again without
 * pushing its samples twice. */
static int have_last;
static uint8_t last_seq;
static uint32_t last_first;
static uint32_t last_count;
static uint32_t last_windows;

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

#if !MCF_SENSOR_CAMERA
static float get_f32(const uint8_t *p)
{
    union {
        uint32_t u;
        float f;
    } pun; /* not memcpy: a library call per value under -ffreestanding -fno-builtin */
    pun.u = get_u32(p); /* little-endian on the wire, whatever the CPU */
    return pun.f;
}
#endif

/** Appends the decimal digits of `v` at `p`; returns the new end (no terminator). */
static char *put_uint(char *p, uint32_t v)
{
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    while (n > 0) {
        *p++ = digits[--n];
    }
    return p;
}

static char *put_text(char *p, const char *s)
{
    while (*s != '\0') {
        *p++ = *s++;
    }
    return p;
}

void mcf_sensor_log(const char *text)
{
    if (host_link != NULL) {
        mcf_proto_log(host_link, MCF_LOG_INFO, text);
    }
}

/* ---- SAMPLES ---------------------------------------------------------------------------------- */

static void on_samples(mcf_proto *proto, uint8_t seq, const uint8_t *pl, size_t n)
{
    char text[48];
    uint8_t flags;
    uint32_t first;
    uint32_t count;
    uint32_t windows;
    uint32_t i;

    if (n < SAMPLES_HDR || (n - SAMPLES_HDR) % SAMPLE_BYTES != 0u) {
        mcf_proto_send_error(proto, seq, MCF_MSG_SAMPLES, MCF_PROTO_E_BAD_LENGTH,
                             "SAMPLES: 5 bytes, then whole samples of CHANNELS float32");
        return;
    }
    flags = pl[0];
    first = get_u32(pl + 1);
    count = (uint32_t)((n - SAMPLES_HDR) / SAMPLE_BYTES);
    if (have_last && seq == last_seq && first == last_first && count == last_count) {
        /* A retry: its samples are in already. Same answer; the last window's RESULT stream comes
         * again from the outputs kept in memory (the input echo cannot: invoke reused it). */
        mcf_proto_send_ack(proto, seq, MCF_MSG_SAMPLES, last_windows);
        if (last_windows > 0u) {
            (void)mcf_proto_resend_result(proto, seq);
        }
        return;
    }
    if ((flags & FLAG_START) != 0u) {
        if (first != 0u) {
            mcf_proto_send_error(proto, seq, MCF_MSG_SAMPLES, MCF_PROTO_E_BAD_RANGE,
                                 "SAMPLES: START needs first = 0");
            return;
        }
        mcf_sensor_reset();
        streaming = 1;
    } else if (!streaming) {
        mcf_proto_send_error(proto, seq, MCF_MSG_SAMPLES, MCF_PROTO_E_BAD_STATE,
                             "SAMPLES: no stream open (START first)");
        return;
    }
    if (first != mcf_sensor_count()) {
        char *p = put_text(text, "SAMPLES: expected first = ");
        *put_uint(p, mcf_sensor_count()) = '\0';
        mcf_proto_send_error(proto, seq, MCF_MSG_SAMPLES, MCF_PROTO_E_GAP, text);
        return;
    }
    windows = mcf_sensor_windows_after(count);
    mcf_proto_send_ack(proto, seq, MCF_MSG_SAMPLES, windows);
#if MCF_SENSOR_CAMERA
    {
        const uint8_t *src = pl + SAMPLES_HDR;
        size_t left = n - SAMPLES_HDR;
        (void)i;
        while (left > 0u) {
            int done = 0;
            const size_t used = mcf_sensor_camera_feed(src, left, model->inputs[MCF_SENSOR_INPUT_INDEX].data, &done);
            src += used;
            left -= used;
            if (done) {
                if ((flags & FLAG_ECHO) != 0u) {
                    (void)mcf_proto_send_tensor(proto, KIND_INPUT, (uint8_t)MCF_SENSOR_INPUT_INDEX);
                }
                mcf_proto_run(proto, seq);
            }
        }
    }
#else
    for (i = 0; i < count; ++i) {
        float sample[MCF_SENSOR_CHANNELS];
        const uint8_t *src = pl + SAMPLES_HDR + i * SAMPLE_BYTES;
        uint32_t c;
        for (c = 0; c < (uint32_t)MCF_SENSOR_CHANNELS; ++c) {
            sample[c] = get_f32(src + 4u * c);
        }
        if (mcf_sensor_push(sample)) {
            mcf_sensor_build(model->inputs[MCF_SENSOR_INPUT_INDEX].data);
            if ((flags & FLAG_ECHO) != 0u) {
                (void)mcf_proto_send_tensor(proto, KIND_INPUT, (uint8_t)MCF_SENSOR_INPUT_INDEX);
            }
            mcf_proto_run(proto, seq);
        }
    }
#endif
    have_last = 1;
    last_seq = seq;
    last_first = first;
    last_count = count;
    last_windows = windows;
    if ((flags & FLAG_END) != 0u) {
        streaming = 0;
        mcf_sensor_reset(); /* the live source starts a fresh window */
    }
}

static int on_message(mcf_proto *proto, uint8_t type, uint8_t seq, const uint8_t *payload, size_t len)
{
    host_link = proto;
    if (type != MCF_MSG_SAMPLES) {
        return 0;
    }
    on_samples(proto, seq, payload, len);
    return 1;
}

/* ---- live source ------------------------------------------------------------------------------ */

static void report_window(const mcf_model *m, uint32_t window)
{
    const mcf_tensor_info *out = &m->outputs[0];
    const unsigned long lost = mcf_source_overruns(); /* samples/blocks the live source dropped */
    char text[80];
    char *p;
    uint32_t n;
    uint32_t i;
    uint32_t best = 0;

    if (m->num_outputs == 0u) {
        return;
    }
    n = out->bytes / ((out->dtype == MCF_DTYPE_INT8 || out->dtype == MCF_DTYPE_UINT8) ? 1u
                      : (out->dtype == MCF_DTYPE_INT16) ? 2u : 4u);
    for (i = 1; i < n; ++i) {
        int better;
        switch (out->dtype) {
        case MCF_DTYPE_INT8: better = ((const int8_t *)out->data)[i] > ((const int8_t *)out->data)[best]; break;
        case MCF_DTYPE_UINT8: better = ((const uint8_t *)out->data)[i] > ((const uint8_t *)out->data)[best]; break;
        case MCF_DTYPE_INT16: better = ((const int16_t *)out->data)[i] > ((const int16_t *)out->data)[best]; break;
        case MCF_DTYPE_INT32: better = ((const int32_t *)out->data)[i] > ((const int32_t *)out->data)[best]; break;
        default: better = ((const float *)out->data)[i] > ((const float *)out->data)[best]; break;
        }
        if (better) {
            best = i;
        }
    }
    p = put_text(text, "window ");
    p = put_uint(p, window);
    p = put_text(p, ": top ");
    p = put_uint(p, best);
    if (lost != 0u) { /* e.g. "window 7: top 2, source overruns 3" (the count since start) */
        p = put_text(p, ", source overruns ");
        p = put_uint(p, (uint32_t)lost);
    }
    *p = '\0';
    mcf_sensor_log(text);
}

static int host_loading(const mcf_proto *proto)
{
    return proto != NULL && mcf_proto_loading(proto);
}

/* A live window is built in the input: run it and report it. With MCF_SENSOR_LIVE_ECHO defined
 * to 1 (a debugging build), its input tensor goes to the host as TENSOR_CHUNK frames before
 * invoke() and its outputs after, unsolicited, so that a host can check live glue too. */
static void run_live(mcf_proto *proto)
{
#if defined(MCF_SENSOR_LIVE_ECHO) && MCF_SENSOR_LIVE_ECHO
    if (proto != NULL) {
        (void)mcf_proto_send_tensor(proto, KIND_INPUT, (uint8_t)MCF_SENSOR_INPUT_INDEX);
    }
#endif
    model->invoke();
#if defined(MCF_SENSOR_LIVE_ECHO) && MCF_SENSOR_LIVE_ECHO
    if (proto != NULL) {
        (void)mcf_proto_send_tensor(proto, 1u, 0u);
    }
#else
    (void)proto;
#endif
    live_windows++;
    if (window_fn != NULL) {
        window_fn(model, live_windows);
    } else {
        report_window(model, live_windows);
    }
}

/* Reads what the live source has due: samples until a window completes (built and run, unless
 * the host is loading inputs of its own) or none is due, at most a window's worth; a camera, one
 * frame. `proto` is NULL while the host link is off. Returns 1 when a live window ran. */
static int poll_live(mcf_proto *proto)
{
#if !MCF_SENSOR_CAMERA
    float sample[MCF_SENSOR_CHANNELS];
    uint32_t n;
#endif

#if IS_LIVE_SOURCE
    if (!announced && !live && proto != NULL) {
        char text[64];
        char *p = put_text(text, "sensor glue: no live samples (");
        p = put_text(p, mcf_source_name());
        *put_text(p, " did not start); host-fed samples only") = '\0';
        announced = 1;
        mcf_proto_log(proto, MCF_LOG_WARNING, text);
    }
#endif
    if (!live || streaming) {
        return 0;
    }
#if MCF_SENSOR_CAMERA
    /* a frame is built straight into the input: never while the host is loading inputs */
    if (host_loading(proto) || !mcf_source_poll_frame(model->inputs[MCF_SENSOR_INPUT_INDEX].data)) {
        return 0;
    }
    run_live(proto);
    return 1;
#else
    for (n = 0; n < (uint32_t)MCF_SENSOR_WINDOW && mcf_source_poll(sample); ++n) {
        if (mcf_sensor_push(sample) && !host_loading(proto)) {
            mcf_sensor_build(model->inputs[MCF_SENSOR_INPUT_INDEX].data);
            run_live(proto);
            return 1;
        }
    }
    return 0;
#endif
}

/* ---- entry point ------------------------------------------------------------------------------- */

static int input_matches(const mcf_model *m)
{
    const mcf_tensor_info *t;
    if (m == NULL || m->num_inputs <= MCF_SENSOR_INPUT_INDEX) {
        return 0;
    }
    t = &m->inputs[MCF_SENSOR_INPUT_INDEX];
#if MCF_SENSOR_INPUT_INT8
    return t->dtype == MCF_DTYPE_INT8 && t->bytes == (uint32_t)MCF_SENSOR_INPUT_ELEMS;
#elif MCF_SENSOR_INPUT_INT16
    return t->dtype == MCF_DTYPE_INT16 && t->bytes == 2u * (uint32_t)MCF_SENSOR_INPUT_ELEMS;
#else
    return t->dtype == MCF_DTYPE_FLOAT32 && t->bytes == 4u * (uint32_t)MCF_SENSOR_INPUT_ELEMS;
#endif
}

/* The state of this module: mcf_sensor_begin() not called (or refused), or serving. */
static int started;

mcf_host_status mcf_sensor_begin(const mcf_model *m, const char *board_id, mcf_sensor_window_fn on_window)
{
    static const mcf_host_hooks hooks = {on_message, NULL}; /* the live source: mcf_sensor_poll() */
    static const char refused[] =
        "mcuforge: the sensor glue does not fit this model's input (regenerate with `mcuforge update`)\r\n";
    mcf_host_status status;

    started = 0;
    if (!input_matches(m)) {
        mcf_port_write((const uint8_t *)refused, sizeof refused - 1u);
        return MCF_HOST_REFUSED;
    }
    model = m;
    window_fn = on_window;
    mcf_sensor_reset();
    live = (mcf_source_init() == 0);
    status = mcf_host_begin(m, board_id, &hooks);
    host_link = mcf_host_proto();
    started = (status != MCF_HOST_REFUSED);
    return status;
}

int mcf_sensor_poll(void)
{
    if (!started) {
        return 0;
    }
    (void)mcf_host_poll(); /* SAMPLES windows run and are answered in here */
    return poll_live(mcf_host_proto());
}

void mcf_sensor_serve(const mcf_model *m, const char *board_id, mcf_sensor_window_fn on_window)
{
    switch (mcf_sensor_begin(m, board_id, on_window)) {
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
        (void)mcf_sensor_poll();
    }
}
