/* mcf_source_zephyr_video.c - a camera through Zephyr's video API (camera pipelines).
 *
 * At start: video_set_format() asks the driver of the devicetree node MCF_SOURCE_ZEPHYR_NODE for
 * the pipeline's pixel format and resolution (mcf_sensor_config.h), video_get_format() checks
 * what it took (and its line pitch), video_set_frmival() asks for MCF_SENSOR_RATE_HZ frames per
 * second (drivers without frame intervals keep theirs), then MCF_CAMERA_FRAME_BUFFERS static
 * frame buffers are handed over with video_enqueue() and video_stream_start() starts the capture.
 * Capture drivers that stream by DMA want more than one buffer queued before they start (the
 * STM32 DCMI keeps one as its DMA target and copies each frame into another): the board YAML says
 * how many (camera.frame_buffers), and init fails with -ENOMEM if the driver's video_caps ask for
 * more. mcf_source_poll_frame() takes a filled buffer with video_dequeue(K_NO_WAIT), builds the
 * model input from it row by row (mcf_sensor_camera_frame) and gives it back with video_enqueue().
 *
 * RAM: MCF_CAMERA_FRAME_BUFFERS × MCF_CAMERA_FRAME_BYTES (the driver fills whole frames), aligned
 * to 64 bytes for DMA, in the arena's memory region (MCF_SENSOR_ATTR; mcuforge refuses a region
 * the board's capture DMA does not reach). Needs CONFIG_VIDEO=y (the generated prj.conf sets it).
 * No heap: Zephyr's video buffer pool is not used. */
#if defined(__ZEPHYR__)

#include <errno.h>

#include <zephyr/device.h>
#include <zephyr/devicetree.h>
#include <zephyr/drivers/video.h>
#include <zephyr/kernel.h>

#include "mcf_sensor.h"
#include "mcf_source.h"

BUILD_ASSERT(DT_NODE_HAS_STATUS_OKAY(MCF_SOURCE_ZEPHYR_NODE),
             "the camera's devicetree node is missing or disabled: check the board's devicetree/overlay");

static const struct device *const camera_dev = DEVICE_DT_GET(MCF_SOURCE_ZEPHYR_NODE);
#ifndef MCF_CAMERA_FRAME_BUFFERS
#define MCF_CAMERA_FRAME_BUFFERS 1u
#endif

static uint8_t mcf_camera_frame_buf[MCF_CAMERA_FRAME_BUFFERS][MCF_CAMERA_FRAME_BYTES] __aligned(64) MCF_SENSOR_ATTR;
static struct video_buffer frame_vbuf[MCF_CAMERA_FRAME_BUFFERS];
static uint32_t pitch = MCF_CAMERA_ROW_BYTES;
static unsigned long overruns;
static int started;

int mcf_source_init(void)
{
    struct video_format fmt = {0};
    struct video_caps caps = {0};
    struct video_frmival ival;
    uint32_t i;
    int ret;

    if (!device_is_ready(camera_dev)) {
        return -ENODEV;
    }
    caps.type = VIDEO_BUF_TYPE_OUTPUT;
    if (video_get_caps(camera_dev, &caps) == 0 && caps.min_vbuf_count > MCF_CAMERA_FRAME_BUFFERS) {
        return -ENOMEM; /* the driver wants more buffers queued: raise camera.frame_buffers in the board YAML */
    }
    fmt.type = VIDEO_BUF_TYPE_OUTPUT;
    fmt.pixelformat = MCF_CAMERA_ZEPHYR_PIXFMT;
    fmt.width = MCF_CAMERA_SRC_W;
    fmt.height = MCF_CAMERA_SRC_H;
    fmt.pitch = MCF_CAMERA_ROW_BYTES;
    ret = video_set_format(camera_dev, &fmt);
    if (ret != 0) {
        return ret;
    }
    ret = video_get_format(camera_dev, &fmt);
    if (ret != 0) {
        return ret;
    }
    if (fmt.pixelformat != MCF_CAMERA_ZEPHYR_PIXFMT || fmt.width != MCF_CAMERA_SRC_W ||
        fmt.height != MCF_CAMERA_SRC_H) {
        return -ENOTSUP;
    }
    if (fmt.pitch != 0u) {
        pitch = fmt.pitch;
    }
    if (pitch < MCF_CAMERA_ROW_BYTES ||
        (uint64_t)pitch * (MCF_CAMERA_SRC_H - 1u) + MCF_CAMERA_ROW_BYTES > sizeof mcf_camera_frame_buf[0]) {
        return -ENOMEM; /* padded lines: the frame buffer is sized for tightly packed rows */
    }
    ival.numerator = 1000u;
    ival.denominator = (uint32_t)(MCF_SENSOR_RATE_HZ * 1000.0f + 0.5f);
    (void)video_set_frmival(camera_dev, &ival);

    for (i = 0; i < MCF_CAMERA_FRAME_BUFFERS; i++) {
        frame_vbuf[i].type = VIDEO_BUF_TYPE_OUTPUT;
        frame_vbuf[i].buffer = mcf_camera_frame_buf[i];
        frame_vbuf[i].index = (uint8_t)i;
        frame_vbuf[i].size = sizeof mcf_camera_frame_buf[i];
        frame_vbuf[i].bytesused = 0;
        ret = video_enqueue(camera_dev, &frame_vbuf[i]);
        if (ret != 0) {
            return ret;
        }
    }
    ret = video_stream_start(camera_dev, VIDEO_BUF_TYPE_OUTPUT);
    if (ret != 0) {
        return ret;
    }
    started = 1;
    return 0;
}

int mcf_source_poll_frame(void *input)
{
    struct video_buffer *vbuf = NULL;

    if (!started || video_dequeue(camera_dev, &vbuf, K_NO_WAIT) != 0 || vbuf == NULL) {
        return 0;
    }
    if (vbuf->bytesused < pitch * (MCF_CAMERA_SRC_H - 1u) + MCF_CAMERA_ROW_BYTES) {
        overruns++; /* a short frame */
        (void)video_enqueue(camera_dev, vbuf);
        return 0;
    }
    mcf_sensor_camera_frame(vbuf->buffer, pitch, input);
    (void)video_enqueue(camera_dev, vbuf);
    return 1;
}

int mcf_source_poll(float *sample)
{
    (void)sample; /* frames, not samples: mcf_source_poll_frame */
    return 0;
}

unsigned long mcf_source_overruns(void)
{
    return overruns;
}

const char *mcf_source_name(void)
{
    return "zephyr video " DT_NODE_FULL_NAME(MCF_SOURCE_ZEPHYR_NODE);
}

#endif /* __ZEPHYR__ */
