/* mcf_source_zephyr.c - a board sensor through Zephyr's sensor API.
 *
 * The devicetree node (alias or node label), the channels to read and the unit factors come from
 * mcf_sensor_config.h. At MCF_SENSOR_RATE_HZ (a periodic k_timer), one sensor_sample_fetch() and
 * one sensor_channel_get() per channel group (SENSOR_CHAN_ACCEL_XYZ, ...) give a sample; Zephyr's
 * units (m/s^2, rad/s, gauss, ...) are converted to the pipeline's with one float multiply.
 * Needs CONFIG_SENSOR=y (the generated prj.conf sets it); the driver comes with the devicetree. */
#if defined(__ZEPHYR__)

#include <errno.h>

#include <zephyr/device.h>
#include <zephyr/devicetree.h>
#include <zephyr/drivers/sensor.h>
#include <zephyr/kernel.h>

#include "mcf_sensor.h"
#include "mcf_source.h"

BUILD_ASSERT(DT_NODE_HAS_STATUS_OKAY(MCF_SOURCE_ZEPHYR_NODE),
             "the sensor's devicetree node is missing or disabled: check the board's devicetree/overlay");

static const struct device *const sensor_dev = DEVICE_DT_GET(MCF_SOURCE_ZEPHYR_NODE);
static const enum sensor_channel group_chan[MCF_SOURCE_ZEPHYR_GROUPS] = MCF_SOURCE_ZEPHYR_GROUP_CHANS;
static const uint8_t group_size[MCF_SOURCE_ZEPHYR_GROUPS] = MCF_SOURCE_ZEPHYR_GROUP_SIZES;
static const uint8_t map_group[MCF_SENSOR_CHANNELS] = MCF_SOURCE_GROUP;
static const uint8_t map_component[MCF_SENSOR_CHANNELS] = MCF_SOURCE_COMPONENT;
static const float factor[MCF_SENSOR_CHANNELS] = MCF_SOURCE_FACTOR;

K_TIMER_DEFINE(mcf_source_timer, NULL, NULL);
static unsigned long overruns;
static int started;

int mcf_source_init(void)
{
    struct sensor_value rate;
    unsigned g;

    if (!device_is_ready(sensor_dev)) {
        return -ENODEV;
    }
    /* Ask for an output data rate of at least ours. Drivers whose rate is fixed in Kconfig, or
     * that have no such attribute, refuse (-ENOTSUP) and keep their own: fine when it is higher. */
    (void)sensor_value_from_float(&rate, MCF_SENSOR_RATE_HZ);
    for (g = 0; g < MCF_SOURCE_ZEPHYR_GROUPS; ++g) {
        (void)sensor_attr_set(sensor_dev, group_chan[g], SENSOR_ATTR_SAMPLING_FREQUENCY, &rate);
    }
    k_timer_start(&mcf_source_timer, K_USEC(MCF_SENSOR_PERIOD_US), K_USEC(MCF_SENSOR_PERIOD_US));
    started = 1;
    return 0;
}

int mcf_source_poll(float *sample)
{
    struct sensor_value values[MCF_SOURCE_ZEPHYR_GROUPS][3];
    uint32_t due;
    unsigned g;
    unsigned c;

    if (!started) {
        return 0;
    }
    due = k_timer_status_get(&mcf_source_timer); /* periods elapsed since the last call */
    if (due == 0u) {
        return 0;
    }
    overruns += due - 1u;
    if (sensor_sample_fetch(sensor_dev) != 0) {
        overruns++;
        return 0;
    }
    for (g = 0; g < MCF_SOURCE_ZEPHYR_GROUPS; ++g) {
        if (group_size[g] > 3u || sensor_channel_get(sensor_dev, group_chan[g], values[g]) != 0) {
            overruns++;
            return 0;
        }
    }
    for (c = 0; c < MCF_SENSOR_CHANNELS; ++c) {
        sample[c] = sensor_value_to_float(&values[map_group[c]][map_component[c]]) * factor[c];
    }
    return 1;
}

unsigned long mcf_source_overruns(void)
{
    return overruns;
}

const char *mcf_source_name(void)
{
    return "zephyr " DT_NODE_FULL_NAME(MCF_SOURCE_ZEPHYR_NODE);
}

#endif /* __ZEPHYR__ */
