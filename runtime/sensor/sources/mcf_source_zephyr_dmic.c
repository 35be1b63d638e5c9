/* mcf_source_zephyr_dmic.c - a PDM microphone through Zephyr's DMIC API (audio pipelines).
 *
 * At start: dmic_configure() asks the driver of the devicetree node MCF_SOURCE_ZEPHYR_NODE for one
 * stream of 16-bit PCM, mono (left channel of PDM controller 0), at MCF_AUDIO_RATE_HZ, in blocks of
 * MCF_AUDIO_BLOCK_SAMPLES taken from a static k_mem_slab (MCF_AUDIO_BLOCKS of them), with the PDM
 * clock limits of the microphone (MCF_AUDIO_PDM_CLK_MIN/MAX, from its datasheet); then
 * dmic_trigger(DMIC_TRIGGER_START) and a capture thread is started.
 *
 * The capture thread (cooperative priority: it runs as soon as a block is there and only blocks in
 * dmic_read) copies each block into a static single-producer/single-consumer FIFO
 * (mcf_audio_fifo.h) and gives the block back to the slab at once, so the driver never runs out of
 * blocks while the main thread is inside a long invoke(). The main thread's mcf_source_poll() takes
 * one sample at a time from the FIFO and hands it to the pipeline as a float holding the int16
 * value (the same values a 16-bit WAV replays as). A block that finds the FIFO full is dropped whole
 * and counted; a failed dmic_read is counted too and the stream restarted.
 *
 * RAM (all static, no heap): the slab, MCF_AUDIO_BLOCKS x MCF_AUDIO_BLOCK_SAMPLES x 2 bytes; the
 * FIFO, MCF_AUDIO_FIFO_SAMPLES x 2 bytes; the thread's stack, MCF_AUDIO_THREAD_STACK bytes.
 * Needs CONFIG_AUDIO=y and CONFIG_AUDIO_DMIC=y (the generated prj.conf sets them); the driver comes
 * with the devicetree node (e.g. CONFIG_AUDIO_DMIC_NRFX_PDM, CONFIG_AUDIO_MPXXDTYY). */
#if defined(__ZEPHYR__)

#include <errno.h>

#include <zephyr/audio/dmic.h>
#include <zephyr/device.h>
#include <zephyr/devicetree.h>
#include <zephyr/kernel.h>
#include <zephyr/sys/atomic.h>

#include "mcf_audio_fifo.h"
#include "mcf_sensor.h"
#include "mcf_source.h"

#if !defined(CONFIG_AUDIO_DMIC)
#error "the microphone source needs CONFIG_AUDIO=y and CONFIG_AUDIO_DMIC=y in prj.conf"
#endif
#if MCF_SENSOR_CHANNELS != 1
#error "the microphone source delivers one channel (mono PCM)"
#endif

BUILD_ASSERT(DT_NODE_HAS_STATUS_OKAY(MCF_SOURCE_ZEPHYR_NODE),
             "the microphone's devicetree node is missing or disabled: check the board's devicetree/overlay");

#define BLOCK_BYTES (MCF_AUDIO_BLOCK_SAMPLES * sizeof(int16_t))
#define READ_TIMEOUT_MS 1000
#ifndef MCF_AUDIO_THREAD_STACK
#define MCF_AUDIO_THREAD_STACK 1024
#endif

static const struct device *const mic_dev = DEVICE_DT_GET(MCF_SOURCE_ZEPHYR_NODE);
K_MEM_SLAB_DEFINE_STATIC(mcf_audio_slab, BLOCK_BYTES, MCF_AUDIO_BLOCKS, 4);
static mcf_audio_fifo mcf_audio_fifo_buf MCF_SENSOR_ATTR;
static atomic_t read_errors;
static int started;

static struct pcm_stream_cfg stream_cfg = {
    .pcm_rate = MCF_AUDIO_RATE_HZ,
    .pcm_width = 16,
    .block_size = BLOCK_BYTES,
    .mem_slab = &mcf_audio_slab,
};

static struct dmic_cfg mic_cfg = {
    .io =
        {
            .min_pdm_clk_freq = MCF_AUDIO_PDM_CLK_MIN,
            .max_pdm_clk_freq = MCF_AUDIO_PDM_CLK_MAX,
            .min_pdm_clk_dc = 40,
            .max_pdm_clk_dc = 60,
        },
    .streams = &stream_cfg,
    .channel =
        {
            .req_num_chan = 1,
            .req_num_streams = 1,
        },
};

static void capture(void *p1, void *p2, void *p3)
{
    ARG_UNUSED(p1);
    ARG_UNUSED(p2);
    ARG_UNUSED(p3);
    for (;;) {
        void *block = NULL;
        size_t size = 0;
        const int ret = dmic_read(mic_dev, 0, &block, &size, READ_TIMEOUT_MS);

        if (ret != 0 || block == NULL) {
            /* no block in time, or the driver stopped on an overrun: count it, restart the stream */
            (void)atomic_inc(&read_errors);
            (void)dmic_trigger(mic_dev, DMIC_TRIGGER_STOP);
            (void)dmic_configure(mic_dev, &mic_cfg);
            (void)dmic_trigger(mic_dev, DMIC_TRIGGER_START);
            k_sleep(K_MSEC(10));
            continue;
        }
        if (size > BLOCK_BYTES) {
            size = BLOCK_BYTES;
        }
        (void)mcf_audio_fifo_put(&mcf_audio_fifo_buf, (const int16_t *)block, (uint32_t)(size / sizeof(int16_t)));
        k_mem_slab_free(&mcf_audio_slab, block);
    }
}

K_THREAD_DEFINE(mcf_audio_thread, MCF_AUDIO_THREAD_STACK, capture, NULL, NULL, NULL,
                K_PRIO_COOP(CONFIG_NUM_COOP_PRIORITIES - 1), 0, SYS_FOREVER_MS);

int mcf_source_init(void)
{
    int ret;

    if (!device_is_ready(mic_dev)) {
        return -ENODEV;
    }
    mic_cfg.channel.req_chan_map_lo = dmic_build_channel_map(0, 0, PDM_CHAN_LEFT);
    ret = dmic_configure(mic_dev, &mic_cfg);
    if (ret != 0) {
        return ret; /* e.g. no PDM clock within the microphone's limits gives this rate */
    }
    ret = dmic_trigger(mic_dev, DMIC_TRIGGER_START);
    if (ret != 0) {
        return ret;
    }
    k_thread_start(mcf_audio_thread);
    started = 1;
    return 0;
}

int mcf_source_poll(float *sample)
{
    return mcf_audio_fifo_poll(&mcf_audio_fifo_buf, started, sample);
}

int mcf_source_poll_frame(void *input)
{
    (void)input; /* samples, not frames */
    return 0;
}

unsigned long mcf_source_overruns(void)
{
    return (unsigned long)mcf_audio_fifo_dropped(&mcf_audio_fifo_buf) + (unsigned long)atomic_get(&read_errors);
}

const char *mcf_source_name(void)
{
    return "zephyr dmic " DT_NODE_FULL_NAME(MCF_SOURCE_ZEPHYR_NODE);
}

#endif /* __ZEPHYR__ */
