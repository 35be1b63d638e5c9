/*
 * mcf_proto.h - device side of the mcuforge host <-> device serial protocol.
 *
 * The wire format is specified in docs/protocol.md; the host side lives in
 * hil/protocol.py (imported as mcuforge.hil.protocol). In short: every message is one frame
 *
 *     COBS( [type u8][seq u8][payload ...][crc16 LE] ) 0x00
 *
 * with CRC-16/CCITT-FALSE over type, seq and payload. A corrupted byte costs one frame: the
 * decoder resynchronises on the next 0x00.
 *
 * Porting: fill an mcf_proto_port with a write callback (required), optionally a non-blocking
 * read callback and a tick counter, then
 *
 *     static mcf_proto proto;                       // about 2 * MCF_PROTO_MAX_PAYLOAD + 80 bytes
 *     mcf_proto_init(&proto, &mymodel_model, &port);
 *     mcf_proto_send_hello(&proto);                 // lets the host notice every reset
 *     for (;;) { mcf_proto_service(&proto); }       // or mcf_proto_feed() from your RX path
 *
 * Properties: portable C99, no malloc, no stdio, no globals; all RAM is in the mcf_proto object
 * owned by the caller. Received input chunks are copied straight into the model's input tensors
 * after a bounds check against mcf_tensor_info.bytes, whatever bytes arrive on the line.
 * Frames are handled synchronously inside mcf_proto_feed() (including model->invoke()), so call
 * it from thread context, not from an interrupt handler. Nothing here is reentrant: one context
 * per serial line, used from one thread.
 */
#ifndef MCF_PROTO_H
#define MCF_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "mcf_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Protocol version sent in HELLO. Bumped on any incompatible change of docs/protocol.md. */
#define MCF_PROTO_VERSION 1

/**
 * Largest payload of one frame in either direction, in bytes (frame header and CRC excluded).
 * The context holds one receive and one transmit buffer of MCF_PROTO_MAX_PAYLOAD + 4 bytes each.
 * The host learns the value from HELLO and sizes its chunks to it. Range 128..4096 (HELLO needs
 * about 60 bytes plus its strings).
 */
#ifndef MCF_PROTO_MAX_PAYLOAD
#define MCF_PROTO_MAX_PAYLOAD 256
#endif

/** Inputs tracked for completeness (4 bytes of RAM each); models with more are refused by init. */
#ifndef MCF_PROTO_MAX_INPUTS
#define MCF_PROTO_MAX_INPUTS 8
#endif

/** Engine string reported in HELLO when the port does not name one. */
#ifndef MCF_PROTO_ENGINE
#define MCF_PROTO_ENGINE "mcuforge-aot"
#endif

#if (MCF_PROTO_MAX_PAYLOAD < 128) || (MCF_PROTO_MAX_PAYLOAD > 4096)
#error "MCF_PROTO_MAX_PAYLOAD must be within 128..4096"
#endif
#if (MCF_PROTO_MAX_INPUTS < 1) || (MCF_PROTO_MAX_INPUTS > 255)
#error "MCF_PROTO_MAX_INPUTS must be within 1..255"
#endif

/** Bytes added around a payload inside a frame: type, seq and the two CRC bytes. */
#define MCF_PROTO_FRAME_OVERHEAD 4

/** Message type ids (first byte of every frame). See docs/protocol.md for the layouts. */
typedef enum {
    /* host -> device */
    MCF_MSG_HELLO_REQ = 0x01,
    MCF_MSG_INFER_BEGIN = 0x02,
    MCF_MSG_INPUT_CHUNK = 0x03,
    MCF_MSG_INFER_RUN = 0x04,
    MCF_MSG_READ_TENSOR = 0x05,
    /* handled by the application through mcf_proto_port.on_message, not by the core */
    MCF_MSG_SAMPLES = 0x06,
    MCF_MSG_PROFILE_REQ = 0x07,
    /* device -> host */
    MCF_MSG_HELLO = 0x40,
    MCF_MSG_TENSOR_INFO = 0x41,
    MCF_MSG_ACK = 0x42,
    MCF_MSG_NACK = 0x43,
    MCF_MSG_ERROR = 0x44,
    MCF_MSG_LOG = 0x45,
    MCF_MSG_RESULT = 0x46,
    MCF_MSG_TENSOR_CHUNK = 0x47,
    MCF_MSG_RESULT_END = 0x48,
    MCF_MSG_PROFILE = 0x49
} mcf_proto_msg_type;

/** Unit of the tick counter; sent in HELLO and RESULT. */
typedef enum {
    MCF_TICK_NONE = 0,          /**< no tick source: elapsed is always 0 */
    MCF_TICK_CYCLES = 1,        /**< CPU cycles (real hardware: DWT CYCCNT, k_cycle_get) */
    MCF_TICK_INSTRUCTIONS = 2,  /**< retired instructions (QEMU with -icount) */
    MCF_TICK_MICROSECONDS = 3,
    MCF_TICK_NANOSECONDS = 4,
    MCF_TICK_RAW = 5            /**< platform timer ticks at port.tick_hz */
} mcf_proto_tick_unit;

/** Codes carried by ERROR frames. */
typedef enum {
    MCF_PROTO_E_BAD_TYPE = 1,          /**< unknown type, or a device -> host type */
    MCF_PROTO_E_BAD_LENGTH = 2,        /**< payload length wrong for its type */
    MCF_PROTO_E_BAD_STATE = 3,         /**< chunk or run outside an INFER_BEGIN .. INFER_RUN session */
    MCF_PROTO_E_BAD_INDEX = 4,         /**< tensor index out of range */
    MCF_PROTO_E_BAD_RANGE = 5,         /**< offset + length beyond the tensor's bytes */
    MCF_PROTO_E_GAP = 6,               /**< chunk starts after the bytes received so far */
    MCF_PROTO_E_INPUT_INCOMPLETE = 7,  /**< INFER_RUN before every input was fully written */
    MCF_PROTO_E_BAD_KIND = 8,          /**< READ_TENSOR kind is not input, output or state */
    MCF_PROTO_E_NO_PROFILE = 9         /**< PROFILE_REQ to firmware built without MCF_PROFILE */
} mcf_proto_error_code;

/** Why a frame was refused; carried by NACK frames. */
typedef enum {
    MCF_PROTO_NACK_CRC = 1,      /**< CRC mismatch */
    MCF_PROTO_NACK_COBS = 2,     /**< COBS structure broken (frame cut short) */
    MCF_PROTO_NACK_TOO_LONG = 3  /**< more than MCF_PROTO_MAX_PAYLOAD payload bytes */
} mcf_proto_nack_reason;

/** Levels of LOG frames. */
typedef enum {
    MCF_LOG_ERROR = 0,
    MCF_LOG_WARNING = 1,
    MCF_LOG_INFO = 2,
    MCF_LOG_DEBUG = 3
} mcf_proto_log_level;

/** Return values of mcf_proto_init(). */
typedef enum {
    MCF_PROTO_OK = 0,
    MCF_PROTO_ERR_ARG = -1,            /**< NULL context, model, port or port->write */
    MCF_PROTO_ERR_MODEL = -2,          /**< model has no invoke, or a tensor with bytes but no data */
    MCF_PROTO_ERR_TOO_MANY_INPUTS = -3 /**< model->num_inputs > MCF_PROTO_MAX_INPUTS */
} mcf_proto_status;

typedef struct mcf_proto_s mcf_proto;

/** What the platform provides. Keep it alive (static) for the life of the context. */
typedef struct {
    /** Required. Blocking write of `len` bytes to the serial line. */
    void (*write)(void *user, const uint8_t *data, size_t len);
    /** Optional (used by mcf_proto_service only). Non-blocking: copy up to `cap` received bytes
     *  into `buf` and return how many (0 when none are waiting). */
    size_t (*read)(void *user, uint8_t *buf, size_t cap);
    /** Optional. Free-running counter in `tick_unit`; NULL reports MCF_TICK_NONE. */
    uint64_t (*ticks)(void *user);
    void *user;                    /**< passed back to every callback */
    mcf_proto_tick_unit tick_unit; /**< unit of ticks() */
    uint8_t tick_bits;             /**< counter width: elapsed is taken mod 2^tick_bits (0 = 64) */
    uint32_t tick_hz;              /**< ticks per second when meaningful (cycles, raw), else 0 */
    const char *board;             /**< board id, e.g. "mps2_an386"; NULL = "" */
    const char *engine;            /**< NULL = MCF_PROTO_ENGINE */
    /** Optional. Application extension: receives every CRC-checked request whose type the core
     *  does not handle (host -> device ids 0x01..0x3F other than the six above, e.g. SAMPLES),
     *  before the core would refuse it with BAD_TYPE. Return 1 when handled: the handler then
     *  answers the request itself, exactly once (mcf_proto_send_ack(), mcf_proto_send_error(), or
     *  mcf_proto_run() for an inference); return 0 to let the core answer BAD_TYPE. `payload` is
     *  valid during the call only. The core knows nothing of what the types mean. */
    int (*on_message)(void *user, mcf_proto *ctx, uint8_t type, uint8_t seq, const uint8_t *payload,
                      size_t len);
} mcf_proto_port;

/** Counters for diagnostics; never reset by the protocol. */
typedef struct {
    uint32_t frames_ok;     /**< frames that passed the CRC */
    uint32_t frames_bad;    /**< frames refused with NACK */
    uint32_t frames_runt;   /**< frames under 4 bytes, dropped silently (line noise) */
} mcf_proto_stats;

/** Protocol state. Treat as opaque except `stats`; place it in static storage. */
struct mcf_proto_s {
    const mcf_model *model;
    const mcf_proto_port *port;
    mcf_proto_stats stats;
    uint64_t run_elapsed;                      /**< elapsed ticks of the last inference */
    uint32_t input_mark[MCF_PROTO_MAX_INPUTS]; /**< contiguous bytes written per input */
    uint16_t rx_len;                           /**< decoded bytes of the frame being received */
    uint8_t cobs_code;                         /**< code byte of the current COBS block, 0 = none */
    uint8_t cobs_left;                         /**< data bytes left in the current COBS block */
    uint8_t rx_overflow;                       /**< frame too long: discard until 0x00 */
    uint8_t state;                             /**< idle or loading (see docs/protocol.md) */
    uint8_t begin_flags;                       /**< flags of the last INFER_BEGIN */
    uint8_t tx_seq;                            /**< seq of the next frame sent */
    uint8_t have_last_seq;                     /**< last_seq is valid */
    uint8_t last_seq;                          /**< seq of the last frame that passed the CRC */
    uint8_t run_valid;                         /**< outputs of run_seq are still in memory */
    uint8_t run_seq;                           /**< seq of the INFER_RUN that produced them */
    uint8_t rx_buf[MCF_PROTO_MAX_PAYLOAD + MCF_PROTO_FRAME_OVERHEAD];
    uint8_t tx_buf[MCF_PROTO_MAX_PAYLOAD + MCF_PROTO_FRAME_OVERHEAD];
};

/**
 * Prepares `ctx` for `model` on `port`. Sends nothing (call mcf_proto_send_hello() next).
 * @return MCF_PROTO_OK, or a negative mcf_proto_status when an argument or the model is unusable.
 */
mcf_proto_status mcf_proto_init(mcf_proto *ctx, const mcf_model *model, const mcf_proto_port *port);

/** Sends HELLO with the BOOT flag plus one TENSOR_INFO per tensor. Call once after start-up. */
void mcf_proto_send_hello(mcf_proto *ctx);

/** Sends a LOG frame; `text` is truncated to fit one frame. NULL text sends an empty log. */
void mcf_proto_log(mcf_proto *ctx, mcf_proto_log_level level, const char *text);

/**
 * Feeds received bytes in any split (one byte at a time is fine). Each completed frame is
 * handled before this returns: replies are written through port->write and INFER_RUN runs the
 * model. @return the number of frames that passed the CRC and were handled.
 */
size_t mcf_proto_feed(mcf_proto *ctx, const uint8_t *data, size_t len);

/**
 * Polls port->read (if set) and feeds what arrived; call it from the main loop.
 * @return the number of frames handled, as mcf_proto_feed().
 */
size_t mcf_proto_service(mcf_proto *ctx);

/* ---- for port.on_message handlers (application message types) -------------------------------- */

/** Sends ACK for request `req_seq` of type `req_type` with `value` (meaning defined by the type). */
void mcf_proto_send_ack(mcf_proto *ctx, uint8_t req_seq, uint8_t req_type, uint32_t value);

/** Sends ERROR for request `req_seq`: `code` from mcf_proto_error_code, `text` a short reason. */
void mcf_proto_send_error(mcf_proto *ctx, uint8_t req_seq, uint8_t req_type, mcf_proto_error_code code,
                          const char *text);

/** Sends the whole input (kind 0) or output (kind 1) tensor `index` as TENSOR_CHUNK frames. Does
 *  nothing for an index out of range. @return the number of frames sent. */
uint16_t mcf_proto_send_tensor(mcf_proto *ctx, uint8_t kind, uint8_t index);

/**
 * Runs the model once on whatever its inputs hold (the caller filled them) and reports it as the
 * answer to request `req_seq`: RESULT, the outputs as TENSOR_CHUNKs, RESULT_END, exactly as for
 * INFER_RUN (timed with port->ticks). Like INFER_RUN it ends any INFER_BEGIN session (inputs are
 * expected again) and keeps the outputs for mcf_proto_resend_result().
 */
void mcf_proto_run(mcf_proto *ctx, uint8_t req_seq);

/** Sends the RESULT stream of the last run again if it answered `req_seq` and no INFER_BEGIN came
 *  since (a retried request whose answer was lost). @return 1 if sent, 0 otherwise. */
int mcf_proto_resend_result(mcf_proto *ctx, uint8_t req_seq);

/** 1 while the host is loading inputs (between INFER_BEGIN and INFER_RUN): code that writes the
 *  model's inputs on its own (a live sensor) must wait, or it would mix its data into the host's. */
int mcf_proto_loading(const mcf_proto *ctx);

#ifdef __cplusplus
}
#endif

#endif /* MCF_PROTO_H */
