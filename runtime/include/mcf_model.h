/*
 * mcf_model.h - the description every generated model exports.
 *
 * `mcuforge compile` emits, next to `<name>_invoke()`, one `const mcf_model <name>_model`
 * that tells application code (and the serial protocol in runtime/protocol) everything
 * about the model's inputs and outputs without knowing the model: where each tensor lives,
 * its type, shape and quantization. Everything here is computed ahead of time; nothing is
 * allocated at run time.
 */
#ifndef MCF_MODEL_H
#define MCF_MODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Element type of an input or output tensor. */
typedef enum {
    MCF_DTYPE_INT8 = 0,
    MCF_DTYPE_UINT8 = 1,
    MCF_DTYPE_INT16 = 2,
    MCF_DTYPE_INT32 = 3,
    MCF_DTYPE_FLOAT32 = 4
} mcf_dtype;

#define MCF_MAX_RANK 6

/* 16-byte alignment for the arena and IO buffers (GCC/Clang syntax; other compilers: define it). */
#ifndef MCF_ALIGNED16
#if defined(__GNUC__) || defined(__clang__)
#define MCF_ALIGNED16 __attribute__((aligned(16)))
#else
#define MCF_ALIGNED16
#endif
#endif

/** One graph input or output. `data` points into the arena or the IO buffer. */
typedef struct {
    const char *name;          /**< tensor name from the .tflite file */
    void *data;                /**< where the application writes (inputs) or reads (outputs) */
    uint32_t bytes;            /**< size of the tensor in bytes */
    mcf_dtype dtype;
    uint8_t rank;
    int32_t dims[MCF_MAX_RANK];
    float scale;               /**< real = scale * (q - zero_point); 0 for float tensors */
    int32_t zero_point;
} mcf_tensor_info;

/*
 * Per-operator profile. Built only with MCF_PROFILE=1 (the generated code compiles the stamps out
 * otherwise: no RAM, no instructions). invoke() then stores the tick counter before the first
 * operator (stamps[0]) and after each operator i (stamps[i + 1]), reading it with
 * mcf_profile_ticks(), which the application provides (runtime/app/mcf_app.c in mcuforge
 * projects: the port's counter, re-based like the host protocol's). Operators without a kernel
 * call (RESHAPE, SQUEEZE, ... share their input's bytes) copy the previous stamp: they take 0.
 * Operator i took (uint32_t)(stamps[i + 1] - stamps[i]) ticks of the last invoke(), its kernel call
 * plus one reading of the counter. Generated code reads the counter once more right after the
 * last operator's reading: value num_ops - 1 (one more than the graph's operators) is an empty
 * region measured like an operator, the cost of a reading, which a host subtracts from each.
 */
#ifndef MCF_PROFILE
#define MCF_PROFILE 0
#endif

typedef struct {
    uint16_t num_ops;          /**< values: the graph's operators in execution order (aliases included),
                                    then the empty region (generated code) */
    const uint32_t *stamps;    /**< num_ops + 1 counter values of the last invoke() */
} mcf_profile;

#if MCF_PROFILE
/** Tick counter read between operators (only builds with MCF_PROFILE=1 need it). */
uint32_t mcf_profile_ticks(void);
#endif

/** The whole model: sizes, IO tensors and the entry points. */
typedef struct {
    const char *name;          /**< C prefix given to `mcuforge compile --prefix` */
    const char *sha256;        /**< hex SHA-256 of the .tflite file the code was generated from */
    uint32_t arena_bytes;      /**< size of the activation arena */
    uint32_t io_bytes;         /**< size of the separate IO buffer (0 when IO lives in the arena) */
    uint32_t weights_bytes;    /**< bytes of constant data (weights, biases, quantization tables) */
    uint8_t num_inputs;
    uint8_t num_outputs;
    const mcf_tensor_info *inputs;
    const mcf_tensor_info *outputs;
    /** Runs one inference. Inputs must be written before every call (see the model header). */
    void (*invoke)(void);
    /** Per-operator profile of the last invoke(); NULL unless built with MCF_PROFILE=1. */
    const mcf_profile *profile;
    /** Bytes of state kept from one invoke() to the next (a streaming model's resource
     *  variables, in their own static buffer); 0 for a model without state. */
    uint32_t state_bytes;
    /** Puts the state back to its initial values, as after init(): the next invoke() starts a
     *  new stream. Does nothing for a model without state. */
    void (*reset_state)(void);
    /** The state buffer (state_bytes bytes), e.g. for a host that checks it; NULL without state. */
    uint8_t *state;
} mcf_model;

#ifdef __cplusplus
}
#endif

#endif /* MCF_MODEL_H */
