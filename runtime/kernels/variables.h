/* variables.h - the state of stateful models (TFLite resource variables: READ_VARIABLE,
 * ASSIGN_VARIABLE) lives in one static buffer per model, outside the arena; these copy bytes
 * between it and the arena, and set it to its initial values. */
#ifndef MCF_VARIABLES_H
#define MCF_VARIABLES_H

#include <stdint.h>

typedef struct {
    uint32_t bytes; /**< bytes of the variable (the value tensor's size) */
} mcf_var_params;

/** Copies p->bytes bytes from src to dst (READ_VARIABLE: state to arena; ASSIGN_VARIABLE: back). */
void mcf_var_copy(const mcf_var_params *p, void *dst, const void *src);

/** Sets p->bytes bytes at dst to value (a variable's initial value when all its bytes are equal). */
void mcf_var_fill(const mcf_var_params *p, void *dst, uint8_t value);

#endif /* MCF_VARIABLES_H */
