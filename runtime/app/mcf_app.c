/* mcf_app.c - see mcf_app.h. */
#include "mcf_app.h"

#include <string.h>

#include "mcf_port.h"

/*
 * Emulated instruction counts are exact only if the tick grid does not depend on when the host's
 * bytes arrived. Under QEMU `-icount`, the bare-metal port counts SysTick ticks of 40
 * instructions; the phase of that grid relative to the start of invoke() depends on the
 * instruction at which the guest noticed the host's INFER_RUN, which depends on host timing. So
 * two runs of the same input could differ by one tick (40 instructions). Writing SYST_CVR
 * restarts SysTick's period at the current instruction (QEMU re-bases its timer there, hardware
 * clears the counter), so re-basing at each reading makes the difference between two readings a
 * function of the code executed between them alone (rounded down to whole ticks). The jump this
 * causes in mcf_port_ticks() is added to `offset`, so the values returned here keep increasing.
 *
 * Done only on M-profile cores, and only when the port reports "instructions" (the bare-metal
 * port under an emulator): an RTOS that owns SysTick (Zephyr) reports "cycles" and is left alone.
 * Build with -DMCF_HOST_REBASE_SYSTICK=0 to turn it off. Every reading the host sees goes through
 * here: the protocol's timing of invoke() and the per-operator profile (mcf_profile_ticks()).
 */
#ifndef MCF_HOST_REBASE_SYSTICK
#if defined(__ARM_ARCH_PROFILE) && (__ARM_ARCH_PROFILE == 'M')
#define MCF_HOST_REBASE_SYSTICK 1
#else
#define MCF_HOST_REBASE_SYSTICK 0
#endif
#endif

#if MCF_HOST_REBASE_SYSTICK
#define MCF_APP_SYST_CVR (*(volatile uint32_t *)0xE000E018u)

static int rebase_ticks = -1; /* -1: not decided yet (the port may not be initialised) */
static uint64_t ticks_offset;

uint64_t mcf_app_ticks(void)
{
    uint64_t before;
    uint64_t after;
    if (rebase_ticks < 0) {
        rebase_ticks = strcmp(mcf_port_tick_unit(), "instructions") == 0;
    }
    if (!rebase_ticks) {
        return mcf_port_ticks();
    }
    before = mcf_port_ticks();
    MCF_APP_SYST_CVR = 0u;
    after = mcf_port_ticks();
    ticks_offset += before - after;
    return after + ticks_offset;
}
#else
uint64_t mcf_app_ticks(void)
{
    return mcf_port_ticks();
}
#endif

#if MCF_PROFILE
uint32_t mcf_profile_ticks(void)
{
    return (uint32_t)mcf_app_ticks();
}
#endif

void mcf_print(const char *text)
{
    mcf_port_write((const uint8_t *)text, strlen(text));
}

void mcf_print_u64(uint64_t value)
{
    char buf[21];
    int pos = (int)sizeof(buf) - 1;
    buf[pos] = '\0';
    do {
        buf[--pos] = (char)('0' + (int)(value % 10u));
        value /= 10u;
    } while (value != 0u && pos > 0);
    mcf_print(&buf[pos]);
}

void mcf_print_hex32(uint32_t value)
{
    static const char digits[] = "0123456789abcdef";
    char buf[11];
    int i;
    buf[0] = '0';
    buf[1] = 'x';
    for (i = 0; i < 8; ++i) {
        buf[2 + i] = digits[(value >> (28 - 4 * i)) & 0xFu];
    }
    buf[10] = '\0';
    mcf_print(buf);
}

uint32_t mcf_output_checksum(const mcf_model *model)
{
    uint32_t hash = 0x811C9DC5u;
    unsigned o;
    for (o = 0; o < model->num_outputs; ++o) {
        const uint8_t *bytes = (const uint8_t *)model->outputs[o].data;
        uint32_t i;
        for (i = 0; i < model->outputs[o].bytes; ++i) {
            hash = (hash ^ bytes[i]) * 0x01000193u;
        }
    }
    return hash;
}

int mcf_selftest(const mcf_model *model, const uint8_t *const inputs[], uint32_t expected_checksum)
{
    unsigned i;
    uint64_t start;
    uint64_t elapsed;
    uint32_t checksum;
    for (i = 0; i < model->num_inputs; ++i) {
        memcpy(model->inputs[i].data, inputs[i], model->inputs[i].bytes);
    }
    start = mcf_app_ticks();
    model->invoke();
    elapsed = mcf_app_ticks() - start;
    checksum = mcf_output_checksum(model);
    if (model->reset_state != NULL) {
        model->reset_state(); /* a streaming model starts its real stream from the initial state */
    }
    mcf_print("mcuforge: selftest model=");
    mcf_print(model->name);
    mcf_print(" checksum=");
    mcf_print_hex32(checksum);
    mcf_print(" ticks=");
    mcf_print_u64(elapsed);
    mcf_print(" unit=");
    mcf_print(mcf_port_tick_unit());
    mcf_print(checksum == expected_checksum ? " result=ok\r\n" : " result=MISMATCH\r\n");
    return checksum == expected_checksum;
}
