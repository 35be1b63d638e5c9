/*
 * mcf_proto.c - device side of the mcuforge serial protocol (see mcf_proto.h, docs/protocol.md).
 *
 * Receive path: bytes -> streaming COBS decode into rx_buf -> CRC check -> handle_frame().
 * Transmit path: payload built in tx_buf -> CRC appended -> COBS encoded block by block straight
 * into port->write (no second buffer).
 *
 * Safety argument for "no out-of-bounds write whatever arrives": the only writes driven by
 * received data are (1) rx_put(), which checks rx_len against sizeof rx_buf before storing, and
 * (2) the memcpy of an INPUT_CHUNK, done only after index < num_inputs and
 * offset <= bytes && n <= bytes - offset (no overflow possible in that form). Everything sent is
 * built in tx_buf through tx_space()-bounded helpers.
 */
#include "mcf_proto.h"

#include <string.h>

/* C99 stand-in for static_assert: the float encoding below copies 4 bytes. */
typedef char mcf_proto_float_is_32_bits[(sizeof(float) == 4) ? 1 : -1];

enum { STATE_IDLE = 0, STATE_LOADING = 1 };
enum { HELLO_FLAG_BOOT = 0x01, HELLO_FLAG_PROFILE = 0x02 };
enum { BEGIN_FLAG_INPUTS_PRESET = 0x01, BEGIN_FLAG_RESET_STATE = 0x02 };
enum { KIND_INPUT = 0, KIND_OUTPUT = 1, KIND_STATE = 2 };

/* Offsets inside a frame: [type][seq][payload...][crc lo][crc hi]. */
#define HDR 2u
#define TX_PAYLOAD(ctx) ((ctx)->tx_buf + HDR)
#define RX_CAP (MCF_PROTO_MAX_PAYLOAD + MCF_PROTO_FRAME_OVERHEAD)

/* Payload sizes of fixed-layout messages. */
#define LEN_INFER_BEGIN 1u
#define LEN_CHUNK_HDR 5u       /* index u8, offset u32 */
#define LEN_READ_TENSOR 10u    /* kind, index, offset u32, length u32 */
#define LEN_ACK 6u
#define LEN_NACK 3u
#define LEN_RESULT 12u
#define LEN_TCHUNK_HDR 6u      /* kind, index, offset u32 */
#define LEN_RESULT_END 7u
#define LEN_HELLO_FIXED 56u
#define LEN_PROFILE_REQ 4u     /* first u16, count u16 */
#define LEN_PROFILE_HDR 6u     /* req_seq, tick_unit, num_ops u16, first u16 */
#define LEN_TINFO_FIXED 16u

/* ---------------------------------------------------------------- little helpers */

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    put_u16(p, (uint16_t)(v & 0xFFFFu));
    put_u16(p + 2, (uint16_t)(v >> 16));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    put_u32(p, (uint32_t)(v & 0xFFFFFFFFu));
    put_u32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/** CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor. Bitwise: a table
 *  would cost 512 bytes of flash to save time the UART never gives back. */
static uint16_t crc16(const uint8_t *p, size_t n)
{
    uint16_t crc = 0xFFFFu;
    while (n-- > 0u) {
        unsigned bit;
        crc = (uint16_t)(crc ^ ((uint16_t)*p++ << 8));
        for (bit = 0; bit < 8u; bit++) {
            crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
        }
    }
    return crc;
}

/** Copies at most `max` bytes of NUL-terminated `s` (NULL = "") after a length byte at `p`.
 *  @return bytes used (1 + copied). `max` must be <= 255. */
static size_t put_str(uint8_t *p, const char *s, size_t max)
{
    size_t n = 0;
    if (s != NULL) {
        while (n < max && s[n] != '\0') {
            n++;
        }
        memcpy(p + 1, s, n);
    }
    p[0] = (uint8_t)n;
    return 1u + n;
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/** 32 raw bytes from the model's hex digest; zeros when it is missing or malformed. */
static void put_sha256(uint8_t *p, const char *hex)
{
    size_t i;
    memset(p, 0, 32);
    if (hex == NULL) {
        return;
    }
    for (i = 0; i < 32u; i++) {
        int hi = hex_val(hex[2u * i]);
        int lo = (hi < 0) ? -1 : hex_val(hex[2u * i + 1u]); /* never reads past the NUL */
        if (lo < 0) {
            memset(p, 0, 32);
            return;
        }
        p[i] = (uint8_t)((hi << 4) | lo);
    }
}

/* ---------------------------------------------------------------- transmit */

/** Appends the CRC to tx_buf[0 .. HDR+len) and writes the COBS-encoded frame plus 0x00. */
static void send_frame(mcf_proto *ctx, uint8_t type, size_t len)
{
    const mcf_proto_port *port = ctx->port;
    uint8_t *buf = ctx->tx_buf;
    size_t total = HDR + len + 2u;
    size_t pos = 0;
    uint16_t crc;
    static const uint8_t delimiter = 0u;

    buf[0] = type;
    buf[1] = ctx->tx_seq++;
    crc = crc16(buf, HDR + len);
    put_u16(buf + HDR + len, crc);

    /* Each block: a code byte (run length + 1) then up to 254 non-zero bytes. A block of 254
     * carries no implied zero; any shorter block ends at a zero (or at the end of the frame). */
    for (;;) {
        size_t run = 0;
        uint8_t code;
        while (pos + run < total && buf[pos + run] != 0u && run < 254u) {
            run++;
        }
        code = (uint8_t)(run + 1u);
        port->write(port->user, &code, 1);
        if (run > 0u) {
            port->write(port->user, buf + pos, run);
        }
        pos += run;
        if (pos >= total) {
            break;
        }
        if (run < 254u) {
            pos++; /* skip the zero this block stood for; a zero at the very end leaves one
                    * more (empty) block to emit, which the next pass does */
        }
    }
    port->write(port->user, &delimiter, 1);
}

static void send_ack(mcf_proto *ctx, uint8_t seq, uint8_t type, uint32_t value)
{
    uint8_t *p = TX_PAYLOAD(ctx);
    p[0] = seq;
    p[1] = type;
    put_u32(p + 2, value);
    send_frame(ctx, MCF_MSG_ACK, LEN_ACK);
}

static void send_nack(mcf_proto *ctx, mcf_proto_nack_reason reason)
{
    uint8_t *p = TX_PAYLOAD(ctx);
    p[0] = (uint8_t)reason;
    p[1] = ctx->have_last_seq;
    p[2] = ctx->last_seq;
    ctx->stats.frames_bad++;
    send_frame(ctx, MCF_MSG_NACK, LEN_NACK);
}

static void send_error(mcf_proto *ctx, uint8_t seq, uint8_t type, mcf_proto_error_code code,
                       const char *text)
{
    uint8_t *p = TX_PAYLOAD(ctx);
    size_t n = 0;
    p[0] = seq;
    p[1] = type;
    put_u16(p + 2, (uint16_t)code);
    while (text[n] != '\0' && n < MCF_PROTO_MAX_PAYLOAD - 4u) {
        n++;
    }
    memcpy(p + 4, text, n);
    send_frame(ctx, MCF_MSG_ERROR, 4u + n);
}

/** Sends tensor bytes [offset, offset+length) as TENSOR_CHUNK frames. @return frames sent. */
static uint16_t send_tensor(mcf_proto *ctx, uint8_t kind, uint8_t index, const mcf_tensor_info *t,
                            uint32_t offset, uint32_t length)
{
    const uint32_t step = MCF_PROTO_MAX_PAYLOAD - LEN_TCHUNK_HDR;
    const uint8_t *src = (const uint8_t *)t->data;
    uint8_t *p = TX_PAYLOAD(ctx);
    uint16_t frames = 0;
    uint32_t end = offset + length; /* callers checked offset + length <= t->bytes */

    while (offset < end) {
        uint32_t n = (end - offset < step) ? end - offset : step;
        p[0] = kind;
        p[1] = index;
        put_u32(p + 2, offset);
        memcpy(p + LEN_TCHUNK_HDR, src + offset, n);
        send_frame(ctx, MCF_MSG_TENSOR_CHUNK, LEN_TCHUNK_HDR + n);
        offset += n;
        frames++;
    }
    return frames;
}

static void send_tensor_info(mcf_proto *ctx, uint8_t kind, uint8_t index, const mcf_tensor_info *t)
{
    uint8_t *p = TX_PAYLOAD(ctx);
    uint8_t rank = (t->rank > MCF_MAX_RANK) ? (uint8_t)MCF_MAX_RANK : t->rank;
    uint32_t scale_bits;
    size_t len = LEN_TINFO_FIXED;
    size_t room;
    uint8_t i;

    memcpy(&scale_bits, &t->scale, sizeof scale_bits);
    p[0] = kind;
    p[1] = index;
    p[2] = (uint8_t)t->dtype;
    p[3] = rank;
    put_u32(p + 4, t->bytes);
    put_u32(p + 8, scale_bits);
    put_u32(p + 12, (uint32_t)t->zero_point);
    for (i = 0; i < rank; i++) {
        put_u32(p + len, (uint32_t)t->dims[i]);
        len += 4u;
    }
    room = MCF_PROTO_MAX_PAYLOAD - len - 1u;
    len += put_str(p + len, t->name, room < 255u ? room : 255u);
    send_frame(ctx, MCF_MSG_TENSOR_INFO, len);
}

static void send_hello(mcf_proto *ctx, uint8_t flags, uint8_t req_seq)
{
    const mcf_model *m = ctx->model;
    const mcf_proto_port *port = ctx->port;
    uint8_t *p = TX_PAYLOAD(ctx);
    size_t len = LEN_HELLO_FIXED;
    /* Three strings share what is left; each gets at most a third so none starves the others. */
    const size_t share = (MCF_PROTO_MAX_PAYLOAD - LEN_HELLO_FIXED) / 3u - 1u;
    const size_t str_max = share < 255u ? share : 255u;
    uint8_t i;

    p[0] = MCF_PROTO_VERSION;
    p[1] = (uint8_t)(flags | ((m->profile != NULL) ? HELLO_FLAG_PROFILE : 0u));
    p[2] = req_seq;
    put_u16(p + 3, (uint16_t)MCF_PROTO_MAX_PAYLOAD);
    p[5] = m->num_inputs;
    p[6] = m->num_outputs;
    p[7] = (uint8_t)((port->ticks != NULL) ? port->tick_unit : MCF_TICK_NONE);
    put_u32(p + 8, (port->ticks != NULL) ? port->tick_hz : 0u);
    put_u32(p + 12, m->arena_bytes);
    put_u32(p + 16, m->io_bytes);
    put_u32(p + 20, m->weights_bytes);
    put_sha256(p + 24, m->sha256);
    len += put_str(p + len, (port->engine != NULL) ? port->engine : MCF_PROTO_ENGINE, str_max);
    len += put_str(p + len, port->board, str_max);
    len += put_str(p + len, m->name, str_max);
    send_frame(ctx, MCF_MSG_HELLO, len);

    for (i = 0; i < m->num_inputs; i++) {
        send_tensor_info(ctx, KIND_INPUT, i, &m->inputs[i]);
    }
    for (i = 0; i < m->num_outputs; i++) {
        send_tensor_info(ctx, KIND_OUTPUT, i, &m->outputs[i]);
    }
}

/** RESULT, every output as TENSOR_CHUNKs, RESULT_END; from the last run's cached numbers. */
static void send_result(mcf_proto *ctx, uint8_t req_seq)
{
    const mcf_model *m = ctx->model;
    uint8_t *p = TX_PAYLOAD(ctx);
    uint16_t frames = 0;
    uint32_t bytes = 0;
    uint8_t i;

    p[0] = req_seq;
    p[1] = 0; /* status: invoke() cannot fail today; reserved for engines that can */
    p[2] = (uint8_t)((ctx->port->ticks != NULL) ? ctx->port->tick_unit : MCF_TICK_NONE);
    p[3] = m->num_outputs;
    put_u64(p + 4, ctx->run_elapsed);
    send_frame(ctx, MCF_MSG_RESULT, LEN_RESULT);

    for (i = 0; i < m->num_outputs; i++) {
        frames = (uint16_t)(frames + send_tensor(ctx, KIND_OUTPUT, i, &m->outputs[i], 0,
                                                 m->outputs[i].bytes));
        bytes += m->outputs[i].bytes;
    }
    p[0] = req_seq;
    put_u16(p + 1, frames);
    put_u32(p + 3, bytes);
    send_frame(ctx, MCF_MSG_RESULT_END, LEN_RESULT_END);
}

/* ---------------------------------------------------------------- request handlers */

static void on_infer_begin(mcf_proto *ctx, uint8_t seq, const uint8_t *pl, size_t n)
{
    if (n != LEN_INFER_BEGIN) {
        send_error(ctx, seq, MCF_MSG_INFER_BEGIN, MCF_PROTO_E_BAD_LENGTH, "INFER_BEGIN needs 1 byte");
        return;
    }
    memset(ctx->input_mark, 0, sizeof ctx->input_mark);
    ctx->begin_flags = pl[0];
    if ((pl[0] & BEGIN_FLAG_RESET_STATE) != 0u && ctx->model->reset_state != NULL) {
        ctx->model->reset_state(); /* a new stream: idempotent, so a resent INFER_BEGIN is harmless */
    }
    ctx->state = STATE_LOADING;
    ctx->run_valid = 0;
    send_ack(ctx, seq, MCF_MSG_INFER_BEGIN, 0);
}

static void on_input_chunk(mcf_proto *ctx, uint8_t seq, const uint8_t *pl, size_t n)
{
    const mcf_model *m = ctx->model;
    const mcf_tensor_info *t;
    uint32_t offset;
    uint32_t count;
    uint32_t *mark;

    if (n < LEN_CHUNK_HDR) {
        send_error(ctx, seq, MCF_MSG_INPUT_CHUNK, MCF_PROTO_E_BAD_LENGTH, "INPUT_CHUNK too short");
        return;
    }
    if (ctx->state != STATE_LOADING) {
        send_error(ctx, seq, MCF_MSG_INPUT_CHUNK, MCF_PROTO_E_BAD_STATE, "no INFER_BEGIN");
        return;
    }
    if (pl[0] >= m->num_inputs) {
        send_error(ctx, seq, MCF_MSG_INPUT_CHUNK, MCF_PROTO_E_BAD_INDEX, "no such input");
        return;
    }
    t = &m->inputs[pl[0]];
    mark = &ctx->input_mark[pl[0]];
    offset = get_u32(pl + 1);
    count = (uint32_t)(n - LEN_CHUNK_HDR);
    if (offset > t->bytes || count > t->bytes - offset) {
        send_error(ctx, seq, MCF_MSG_INPUT_CHUNK, MCF_PROTO_E_BAD_RANGE, "chunk beyond input");
        return;
    }
    if (offset > *mark) {
        send_error(ctx, seq, MCF_MSG_INPUT_CHUNK, MCF_PROTO_E_GAP, "chunk leaves a gap");
        return;
    }
    memcpy((uint8_t *)t->data + offset, pl + LEN_CHUNK_HDR, count);
    if (offset + count > *mark) {
        *mark = offset + count;
    }
    send_ack(ctx, seq, MCF_MSG_INPUT_CHUNK, *mark);
}

/** Timed invoke(), then the RESULT stream answering `seq`; the outputs stay cached for replays. */
static void run_and_report(mcf_proto *ctx, uint8_t seq)
{
    const mcf_model *m = ctx->model;
    const mcf_proto_port *port = ctx->port;

    if (port->ticks != NULL) {
        uint64_t t0 = port->ticks(port->user);
        uint64_t dt;
        m->invoke();
        dt = port->ticks(port->user) - t0;
        if (port->tick_bits > 0u && port->tick_bits < 64u) {
            dt &= ((uint64_t)1 << port->tick_bits) - 1u;
        }
        ctx->run_elapsed = dt;
    } else {
        m->invoke();
        ctx->run_elapsed = 0;
    }
    ctx->state = STATE_IDLE;
    ctx->run_valid = 1;
    ctx->run_seq = seq;
    send_result(ctx, seq);
}

static void on_infer_run(mcf_proto *ctx, uint8_t seq, size_t n)
{
    const mcf_model *m = ctx->model;
    uint8_t i;

    if (n != 0u) {
        send_error(ctx, seq, MCF_MSG_INFER_RUN, MCF_PROTO_E_BAD_LENGTH, "INFER_RUN has no payload");
        return;
    }
    if (ctx->state != STATE_LOADING) {
        if (ctx->run_valid && seq == ctx->run_seq) {
            /* A retry of the run we just did (its replies were lost): resend, do not invoke
             * again, the inputs may have been overwritten by the arena. */
            send_ack(ctx, seq, MCF_MSG_INFER_RUN, 1);
            send_result(ctx, seq);
        } else {
            send_error(ctx, seq, MCF_MSG_INFER_RUN, MCF_PROTO_E_BAD_STATE, "no INFER_BEGIN");
        }
        return;
    }
    if ((ctx->begin_flags & BEGIN_FLAG_INPUTS_PRESET) == 0u) {
        for (i = 0; i < m->num_inputs; i++) {
            if (ctx->input_mark[i] != m->inputs[i].bytes) {
                send_error(ctx, seq, MCF_MSG_INFER_RUN, MCF_PROTO_E_INPUT_INCOMPLETE,
                           "input not fully written");
                return;
            }
        }
    }
    send_ack(ctx, seq, MCF_MSG_INFER_RUN, 0);
    run_and_report(ctx, seq);
}

static void on_read_tensor(mcf_proto *ctx, uint8_t seq, const uint8_t *pl, size_t n)
{
    const mcf_model *m = ctx->model;
    const mcf_tensor_info *t;
    mcf_tensor_info state; /* kind 2: a stateful model's state buffer, as one byte tensor */
    uint32_t offset;
    uint32_t length;

    if (n != LEN_READ_TENSOR) {
        send_error(ctx, seq, MCF_MSG_READ_TENSOR, MCF_PROTO_E_BAD_LENGTH, "READ_TENSOR needs 10 bytes");
        return;
    }
    if (pl[0] == KIND_INPUT) {
        t = (pl[1] < m->num_inputs) ? &m->inputs[pl[1]] : NULL;
    } else if (pl[0] == KIND_OUTPUT) {
        t = (pl[1] < m->num_outputs) ? &m->outputs[pl[1]] : NULL;
    } else if (pl[0] == KIND_STATE) {
        memset(&state, 0, sizeof state);
        state.data = m->state;
        state.bytes = m->state_bytes;
        state.dtype = MCF_DTYPE_UINT8;
        t = (pl[1] == 0u && m->state != NULL && m->state_bytes > 0u) ? &state : NULL;
    } else {
        send_error(ctx, seq, MCF_MSG_READ_TENSOR, MCF_PROTO_E_BAD_KIND, "kind must be 0, 1 or 2");
        return;
    }
    if (t == NULL) {
        send_error(ctx, seq, MCF_MSG_READ_TENSOR, MCF_PROTO_E_BAD_INDEX, "no such tensor");
        return;
    }
    offset = get_u32(pl + 2);
    length = get_u32(pl + 6);
    if (offset > t->bytes) {
        send_error(ctx, seq, MCF_MSG_READ_TENSOR, MCF_PROTO_E_BAD_RANGE, "offset beyond tensor");
        return;
    }
    if (length == 0u) {
        length = t->bytes - offset; /* 0 = up to the end */
    } else if (length > t->bytes - offset) {
        send_error(ctx, seq, MCF_MSG_READ_TENSOR, MCF_PROTO_E_BAD_RANGE, "length beyond tensor");
        return;
    }
    (void)send_tensor(ctx, pl[0], pl[1], t, offset, length);
    send_ack(ctx, seq, MCF_MSG_READ_TENSOR, length);
}

/** PROFILE frames with the ticks each operator took in the last invoke() (stamp differences,
 *  mod 2^32), operators [first, first + count), then ACK with the number of values sent. */
static void on_profile_req(mcf_proto *ctx, uint8_t seq, const uint8_t *pl, size_t n)
{
    const mcf_profile *prof = ctx->model->profile;
    const uint8_t unit = (uint8_t)((ctx->port->ticks != NULL) ? ctx->port->tick_unit : MCF_TICK_NONE);
    const uint32_t per_frame = (MCF_PROTO_MAX_PAYLOAD - LEN_PROFILE_HDR) / 4u;
    uint32_t first;
    uint32_t count;
    uint32_t end;

    if (n != LEN_PROFILE_REQ) {
        send_error(ctx, seq, MCF_MSG_PROFILE_REQ, MCF_PROTO_E_BAD_LENGTH, "PROFILE_REQ needs 4 bytes");
        return;
    }
    if (prof == NULL || prof->stamps == NULL) {
        send_error(ctx, seq, MCF_MSG_PROFILE_REQ, MCF_PROTO_E_NO_PROFILE, "built without MCF_PROFILE");
        return;
    }
    first = (uint32_t)pl[0] | ((uint32_t)pl[1] << 8);
    count = (uint32_t)pl[2] | ((uint32_t)pl[3] << 8);
    if (first > prof->num_ops) {
        send_error(ctx, seq, MCF_MSG_PROFILE_REQ, MCF_PROTO_E_BAD_RANGE, "first beyond the operators");
        return;
    }
    if (count == 0u) {
        count = prof->num_ops - first; /* 0 = up to the last operator */
    } else if (count > prof->num_ops - first) {
        send_error(ctx, seq, MCF_MSG_PROFILE_REQ, MCF_PROTO_E_BAD_RANGE, "count beyond the operators");
        return;
    }
    end = first + count;
    while (first < end) {
        uint8_t *p = TX_PAYLOAD(ctx);
        const uint32_t k = (end - first < per_frame) ? end - first : per_frame;
        uint32_t i;
        p[0] = seq;
        p[1] = unit;
        put_u16(p + 2, prof->num_ops);
        put_u16(p + 4, (uint16_t)first);
        for (i = 0; i < k; i++) {
            put_u32(p + LEN_PROFILE_HDR + 4u * i, prof->stamps[first + i + 1u] - prof->stamps[first + i]);
        }
        send_frame(ctx, MCF_MSG_PROFILE, LEN_PROFILE_HDR + 4u * k);
        first += k;
    }
    send_ack(ctx, seq, MCF_MSG_PROFILE_REQ, count);
}

/** Called with a complete, CRC-checked frame in rx_buf[0 .. rx_len). */
static void handle_frame(mcf_proto *ctx)
{
    const uint8_t type = ctx->rx_buf[0];
    const uint8_t seq = ctx->rx_buf[1];
    const uint8_t *pl = ctx->rx_buf + HDR;
    const size_t n = (size_t)ctx->rx_len - MCF_PROTO_FRAME_OVERHEAD;

    switch (type) {
    case MCF_MSG_HELLO_REQ:
        if (n != 0u) {
            send_error(ctx, seq, type, MCF_PROTO_E_BAD_LENGTH, "HELLO_REQ has no payload");
        } else {
            send_hello(ctx, 0, seq);
        }
        break;
    case MCF_MSG_INFER_BEGIN:
        on_infer_begin(ctx, seq, pl, n);
        break;
    case MCF_MSG_INPUT_CHUNK:
        on_input_chunk(ctx, seq, pl, n);
        break;
    case MCF_MSG_INFER_RUN:
        on_infer_run(ctx, seq, n);
        break;
    case MCF_MSG_READ_TENSOR:
        on_read_tensor(ctx, seq, pl, n);
        break;
    case MCF_MSG_PROFILE_REQ:
        on_profile_req(ctx, seq, pl, n);
        break;
    default:
        /* Application extensions (host -> device ids only) get a chance first. */
        if (type < 0x40u && ctx->port->on_message != NULL &&
            ctx->port->on_message(ctx->port->user, ctx, type, seq, pl, n)) {
            break;
        }
        send_error(ctx, seq, type, MCF_PROTO_E_BAD_TYPE, "unknown message type");
        break;
    }
}

/* ---------------------------------------------------------------- receive */

static void rx_reset(mcf_proto *ctx)
{
    ctx->rx_len = 0;
    ctx->cobs_code = 0;
    ctx->cobs_left = 0;
    ctx->rx_overflow = 0;
}

static void rx_put(mcf_proto *ctx, uint8_t b)
{
    if (ctx->rx_len >= RX_CAP) {
        ctx->rx_overflow = 1; /* keep swallowing until the delimiter */
        return;
    }
    ctx->rx_buf[ctx->rx_len++] = b;
}

/** A 0x00 arrived: judge the frame collected since the previous one. @return 1 if handled. */
static int rx_end(mcf_proto *ctx)
{
    int handled = 0;
    if (ctx->rx_overflow) {
        send_nack(ctx, MCF_PROTO_NACK_TOO_LONG);
    } else if (ctx->cobs_code == 0u) {
        /* empty frame (0x00 0x00): used by hosts to flush the line; nothing to say */
    } else if (ctx->rx_len < MCF_PROTO_FRAME_OVERHEAD) {
        ctx->stats.frames_runt++; /* line noise: a NACK here would only add noise */
    } else if (ctx->cobs_left != 0u) {
        send_nack(ctx, MCF_PROTO_NACK_COBS);
    } else {
        const size_t body = (size_t)ctx->rx_len - 2u;
        const uint16_t got = (uint16_t)(ctx->rx_buf[body] | (ctx->rx_buf[body + 1u] << 8));
        if (crc16(ctx->rx_buf, body) != got) {
            send_nack(ctx, MCF_PROTO_NACK_CRC);
        } else {
            ctx->stats.frames_ok++;
            ctx->have_last_seq = 1;
            ctx->last_seq = ctx->rx_buf[1];
            handle_frame(ctx);
            handled = 1;
        }
    }
    rx_reset(ctx);
    return handled;
}

size_t mcf_proto_feed(mcf_proto *ctx, const uint8_t *data, size_t len)
{
    size_t frames = 0;
    size_t i;
    if (ctx == NULL || ctx->model == NULL || data == NULL) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        const uint8_t b = data[i];
        if (b == 0u) {
            frames += (size_t)rx_end(ctx);
        } else if (ctx->rx_overflow) {
            /* discard */
        } else if (ctx->cobs_left == 0u) {
            /* a code byte: the previous block (if any, and if shorter than 254) implied a zero */
            if (ctx->cobs_code != 0u && ctx->cobs_code != 0xFFu) {
                rx_put(ctx, 0);
            }
            ctx->cobs_code = b;
            ctx->cobs_left = (uint8_t)(b - 1u);
        } else {
            rx_put(ctx, b);
            ctx->cobs_left--;
        }
    }
    return frames;
}

size_t mcf_proto_service(mcf_proto *ctx)
{
    uint8_t buf[32];
    size_t frames = 0;
    unsigned rounds;
    if (ctx == NULL || ctx->port == NULL || ctx->port->read == NULL) {
        return 0;
    }
    /* Bounded so a chattering line cannot starve the caller's loop. */
    for (rounds = 0; rounds < 8u; rounds++) {
        size_t n = ctx->port->read(ctx->port->user, buf, sizeof buf);
        if (n == 0u) {
            break;
        }
        if (n > sizeof buf) {
            n = sizeof buf; /* a misbehaving read() must not make us read past buf */
        }
        frames += mcf_proto_feed(ctx, buf, n);
    }
    return frames;
}

/* ---------------------------------------------------------------- public senders */

mcf_proto_status mcf_proto_init(mcf_proto *ctx, const mcf_model *model, const mcf_proto_port *port)
{
    uint8_t i;
    if (ctx == NULL || model == NULL || port == NULL || port->write == NULL) {
        return MCF_PROTO_ERR_ARG;
    }
    if (model->invoke == NULL || (model->num_inputs > 0u && model->inputs == NULL) ||
        (model->num_outputs > 0u && model->outputs == NULL)) {
        return MCF_PROTO_ERR_MODEL;
    }
    if (model->num_inputs > MCF_PROTO_MAX_INPUTS) {
        return MCF_PROTO_ERR_TOO_MANY_INPUTS;
    }
    for (i = 0; i < model->num_inputs; i++) {
        if (model->inputs[i].bytes > 0u && model->inputs[i].data == NULL) {
            return MCF_PROTO_ERR_MODEL;
        }
    }
    for (i = 0; i < model->num_outputs; i++) {
        if (model->outputs[i].bytes > 0u && model->outputs[i].data == NULL) {
            return MCF_PROTO_ERR_MODEL;
        }
    }
    memset(ctx, 0, sizeof *ctx);
    ctx->model = model;
    ctx->port = port;
    ctx->state = STATE_IDLE;
    return MCF_PROTO_OK;
}

void mcf_proto_send_hello(mcf_proto *ctx)
{
    if (ctx != NULL && ctx->model != NULL) {
        send_hello(ctx, HELLO_FLAG_BOOT, 0);
    }
}

void mcf_proto_log(mcf_proto *ctx, mcf_proto_log_level level, const char *text)
{
    uint8_t *p;
    size_t n = 0;
    if (ctx == NULL || ctx->model == NULL) {
        return;
    }
    p = TX_PAYLOAD(ctx);
    p[0] = (uint8_t)level;
    if (text != NULL) {
        while (n < MCF_PROTO_MAX_PAYLOAD - 1u && text[n] != '\0') {
            n++;
        }
        memcpy(p + 1, text, n);
    }
    send_frame(ctx, MCF_MSG_LOG, 1u + n);
}

/* ---------------------------------------------------------------- for application handlers */

void mcf_proto_send_ack(mcf_proto *ctx, uint8_t req_seq, uint8_t req_type, uint32_t value)
{
    if (ctx != NULL && ctx->model != NULL) {
        send_ack(ctx, req_seq, req_type, value);
    }
}

void mcf_proto_send_error(mcf_proto *ctx, uint8_t req_seq, uint8_t req_type, mcf_proto_error_code code,
                          const char *text)
{
    if (ctx != NULL && ctx->model != NULL) {
        send_error(ctx, req_seq, req_type, code, (text != NULL) ? text : "");
    }
}

uint16_t mcf_proto_send_tensor(mcf_proto *ctx, uint8_t kind, uint8_t index)
{
    const mcf_tensor_info *t = NULL;
    if (ctx == NULL || ctx->model == NULL) {
        return 0;
    }
    if (kind == KIND_INPUT && index < ctx->model->num_inputs) {
        t = &ctx->model->inputs[index];
    } else if (kind == KIND_OUTPUT && index < ctx->model->num_outputs) {
        t = &ctx->model->outputs[index];
    }
    return (t != NULL) ? send_tensor(ctx, kind, index, t, 0, t->bytes) : 0u;
}

void mcf_proto_run(mcf_proto *ctx, uint8_t req_seq)
{
    if (ctx != NULL && ctx->model != NULL) {
        run_and_report(ctx, req_seq);
    }
}

int mcf_proto_resend_result(mcf_proto *ctx, uint8_t req_seq)
{
    if (ctx == NULL || ctx->model == NULL || !ctx->run_valid || ctx->run_seq != req_seq) {
        return 0;
    }
    send_result(ctx, req_seq);
    return 1;
}

int mcf_proto_loading(const mcf_proto *ctx)
{
    return ctx != NULL && ctx->state == STATE_LOADING;
}
