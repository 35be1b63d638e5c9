/* mcf_app.c - see mcf_app.h. */
#include "mcf_app.h"

#include <string.h>

#include "mcf_port.h"

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
    start = mcf_port_ticks();
    model->invoke();
    elapsed = mcf_port_ticks() - start;
    checksum = mcf_output_checksum(model);
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
