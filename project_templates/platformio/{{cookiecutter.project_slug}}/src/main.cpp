{%- set m = cookiecutter.mcuforge -%}
/*
 * {{ m.project_name }}: runs {{ m.model_name }} on {{ m.board_name }}.
 *
 * This file is yours. mcuforge wrote it once and will not touch it again; `mcuforge update`
 * only regenerates {{ m.generated_dir }}/ (the model, its kernels and the ports).
 *
 * The model's API is in {{ m.generated_dir }}/model/{{ m.prefix }}.h:
 *   {{ m.prefix }}_init();                      once at start-up
 *   write {{ m.prefix_upper }}_INPUT0 ...             the input tensor(s), every time (invoke reuses them)
 *   {{ m.prefix }}_invoke();                    one inference
 *   read  {{ m.prefix_upper }}_OUTPUT0 ...            the output tensor(s)
 * The same file builds for Arduino (setup/loop), Zephyr and the `native` host env (main).
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

static void run(void)
{
    mcf_port_init(); /* serial port and the tick counter */
    {{ m.prefix }}_init();

    /* Self-test: run the input embedded at generation time and print the output checksum.
     * `mcuforge validate` computes the same checksum on the host. */
    mcf_selftest(&{{ m.prefix }}_model, mcf_selftest_inputs, MCF_SELFTEST_CHECKSUM);

    /* Your application goes here: fill the input from your sensor, invoke, act on the output. */

{% if m.sensor %}    /* The sensor pipeline (`sensor:` in mcuforge.yaml, docs/sensors.md):
     *   {{ m.sensor.describe }}{% if m.sensor.live %}
     * Every {{ m.sensor.hop }} samples the latest window runs the model. To act on the outputs, pass
     * a function void on_window(const mcf_model *model, uint32_t window) instead of NULL (NULL
     * sends the top class to the host as a log line).{% endif %}
     * The host can stream samples in as well (`mcuforge test --replay recording.csv`) and gets
     * each window's input tensor and outputs back. Serves the host like mcf_host_serve(); never
     * returns. */
    mcf_sensor_serve(&{{ m.prefix }}_model, "{{ m.board_id }}", NULL);{% else %}    /* Answer the host (`mcuforge run` / `mcuforge test`) over the serial port, forever. */
    mcf_host_serve(&{{ m.prefix }}_model, "{{ m.board_id }}");{% endif %}
}

#if defined(ARDUINO)
void setup(void) { run(); }
void loop(void) {}
#else
int main(void)
{
    run();
    return 0;
}
#endif
