{%- set m = cookiecutter.mcuforge -%}
/*
 * {{ m.project_name }}: runs {{ m.model_name }} on {{ m.board_name }}.
 *
 * This file is yours. mcuforge wrote it once and will not touch it again; `mcuforge update`
 * only regenerates {{ m.generated_dir }}/ (the model, its kernels and the ports).
 *
 * The model's API is in {{ m.generated_dir }}/include/{{ m.prefix }}.h:
 *   {{ m.prefix }}_init();                      once at start-up
 *   write {{ m.prefix_upper }}_INPUT0 ...             the input tensor(s), every time (invoke reuses them)
 *   {{ m.prefix }}_invoke();                    one inference
 *   read  {{ m.prefix_upper }}_OUTPUT0 ...            the output tensor(s)
 * The same file builds for the board's Arduino core and for the `native` host env (main() below).
 */
#if defined(ARDUINO)
#include <Arduino.h> /* declares setup() and loop(), which some cores (STM32) give C linkage */
#endif

#include "mcf_app.h"
#include "mcf_host.h"
#include "mcf_port.h"
#include "mcf_selftest.h"
{% if m.sensor %}#include "mcf_sensor_host.h"
{% endif %}#include "{{ m.prefix }}.h"

/* Once at start-up. */
void setup(void)
{
    mcf_port_init(); /* the host link (Serial; stdout on the native env) and the tick counter */
    {{ m.prefix }}_init();

    /* Self-test: run the input embedded at generation time and print the output checksum.
     * `mcuforge validate` computes the same checksum on the host. */
    mcf_selftest(&{{ m.prefix }}_model, mcf_selftest_inputs, MCF_SELFTEST_CHECKSUM);
{% if m.sensor %}
    /* The sensor pipeline (`sensor:` in mcuforge.yaml, docs/sensors.md):
     *   {{ m.sensor.describe }}{% if m.sensor.live %}
     * Every {{ m.sensor.hop }} samples the latest window runs the model. To act on the outputs, pass
     * a function void on_window(const mcf_model *model, uint32_t window) instead of NULL (NULL
     * sends the top class to the host as a log line).{% endif %}
     * The host can stream samples in as well (`mcuforge test --replay recording.csv`) and gets
     * each window's input tensor and outputs back. This starts the pipeline and the host link and
     * returns at once; loop() then reads the samples and answers the host. */
    (void)mcf_sensor_begin(&{{ m.prefix }}_model, "{{ m.board_id }}", NULL);
{%- else %}
    /* Answer the host (`mcuforge run` / `mcuforge test`) from loop(): this sends HELLO and
     * returns at once, whether or not a host is attached. */
    (void)mcf_host_begin(&{{ m.prefix }}_model, "{{ m.board_id }}", NULL);
{%- endif %}
}

/* Over and over, as long as the board runs. */
void loop(void)
{
{%- if m.sensor %}
    /* Your application goes here. Keep each pass short (no long delay()): the samples are read
     * and the host is answered between passes. */

    /* Answers what the host sent meanwhile and reads the samples that are due; returns at once
     * when nothing came. */
    if (mcf_sensor_poll()) {
        /* A window of samples just ran the model: act on {{ m.prefix_upper }}_OUTPUT0 here. */
    }
{%- else %}
    /* Your application goes here: fill {{ m.prefix_upper }}_INPUT0 from your sensor, call
     * {{ m.prefix }}_invoke(), act on {{ m.prefix_upper }}_OUTPUT0. Keep each pass short (no long
     * delay()): the host is answered between passes. */

    mcf_host_poll(); /* answers what the host sent meanwhile; returns at once when nothing came */
{%- endif %}
}

#if !defined(ARDUINO)
/* PlatformIO's native env has no Arduino core: run setup() and loop() the way one does. The
 * program prints text only; with MCUFORGE_HOST=stdio (or tcp:PORT) in its environment it speaks
 * the host protocol too: `mcuforge test --port native` runs it that way. It ends when stdin (or
 * the host's connection) ends. */
int main(void)
{
    setup();
    for (;;) {
        loop();
    }
}
#endif
