{%- set m = cookiecutter.mcuforge -%}
/*
 * {{ m.project_name }}: runs {{ m.model_name }} on {{ m.board_name }}.
 *
 * This file is yours. mcuforge wrote it once and will not touch it again; `mcuforge update`
 * only regenerates {{ m.generated_dir }}/, the Zephyr module with the model, its kernels and
 * the Zephyr port (options CONFIG_MCUFORGE_* in prj.conf).
 *
 * Before main() runs, the module has initialised the model and printed the self-test line
 * (CONFIG_MCUFORGE_SELFTEST).{% if not m.sensor %} With CONFIG_MCUFORGE_HOST a thread of the module answers the
 * host (`mcuforge run` / `mcuforge test`) on the console UART, asleep until a byte arrives, so main()
 * is free for the application; the console then carries binary frames, so print nothing on it.{% else %}
 * main() below runs the sensor pipeline and answers the host (`mcuforge run` / `mcuforge test`) on
 * the console UART between passes of its loop, beside the application's own code; the console
 * carries binary frames, so print nothing on it.{% endif %}
 *
 * The model's API is in {{ m.generated_dir }}/model/{{ m.prefix }}.h:
 *   write {{ m.prefix_upper }}_INPUT0 ...             the input tensor(s), every time (invoke reuses them)
 *   {{ m.prefix }}_invoke();                    one inference
 *   read  {{ m.prefix_upper }}_OUTPUT0 ...            the output tensor(s)
 * One inference at a time: hold mcf_model_lock() from writing the inputs to reading the outputs.
 */
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/sys/printk.h>

#include "mcf_selftest.h"
#include "mcf_zephyr.h"
{% if m.sensor %}#include "mcf_sensor_host.h"
{% endif %}#include "{{ m.prefix }}.h"
{% if m.sensor %}
int main(void)
{
    /* The sensor pipeline (`sensor:` in mcuforge.yaml, docs/sensors.md):
     *   {{ m.sensor.describe }}{% if m.sensor.live %}
     * Every {{ m.sensor.hop }} samples the latest window runs the model. To act on the outputs, pass
     * a function void on_window(const mcf_model *model, uint32_t window) instead of NULL (NULL
     * sends the top class to the host as a log line), or act on them in the loop below.{% endif %}
     * The host can stream samples in as well (`mcuforge test --replay recording.csv`) and gets
     * each window's input tensor and outputs back. The pipeline and the host link are served from
     * this thread (the module's host thread is off: CONFIG_MCUFORGE_HOST_THREAD=n in prj.conf):
     * mcf_sensor_poll() answers what arrived and reads the samples that are due, never waiting. */
    mcf_model_lock();
    (void)mcf_sensor_begin(&{{ m.prefix }}_model, "{{ m.board_id }}", NULL);
    mcf_model_unlock();

    for (;;) {
        mcf_model_lock();
        if (mcf_sensor_poll()) {
            /* A window of samples just ran the model: act on {{ m.prefix_upper }}_OUTPUT0 here
             * (a GPIO, a message, ...), before the lock is given back. */
        }
        mcf_model_unlock();

        /* Your application goes here; keep each pass short. The sleep lets lower-priority threads
         * run; received bytes wait in the UART's ring buffer (CONFIG_MCUFORGE_HOST_RX_BUFFER_SIZE)
         * and due samples in the source until the next pass. */
        k_msleep(1);
    }
    return 0;
}
{% else %}
/* Fills the model's input(s). This example takes the input embedded for the self-test: read
 * your sensor here and quantize it with each input's scale and zero_point. */
static void read_inputs(void)
{
    unsigned i;
    for (i = 0; i < {{ m.prefix }}_model.num_inputs; ++i) {
        memcpy({{ m.prefix }}_model.inputs[i].data, mcf_selftest_inputs[i], {{ m.prefix }}_model.inputs[i].bytes);
    }
}

/* Index of the largest value of an 8-bit output (the top class of a classifier), or -1. */
static int top_class(const mcf_tensor_info *out)
{
    int best = -1;
    int best_value = 0;
    uint32_t i;
    for (i = 0; i < out->bytes; ++i) {
        const int v = out->dtype == MCF_DTYPE_INT8 ? (int)((const int8_t *)out->data)[i]
                    : out->dtype == MCF_DTYPE_UINT8 ? (int)((const uint8_t *)out->data)[i] : 0;
        if (best < 0 || v > best_value) {
            best = (int)i;
            best_value = v;
        }
    }
    return best;
}

int main(void)
{
    for (;;) {
        int top;
        mcf_model_lock();
        read_inputs();
        {{ m.prefix }}_invoke();
        top = top_class(&{{ m.prefix }}_model.outputs[0]);
        mcf_model_unlock();

        /* Act on the result here (a GPIO, a message, ...). */
        if (!IS_ENABLED(CONFIG_MCUFORGE_HOST)) {
            printk("{{ m.prefix }}: top class %d\n", top);
        }
        k_sleep(K_SECONDS(1));
    }
    return 0;
}
{% endif %}
