/* mcf_sensor_camera.c - the sensor glue of a camera pipeline (MCF_SENSOR_CAMERA in the generated
 * mcf_sensor_config.h): mcf_camera.c configured for this model, its static buffers, and the
 * stream counters mcf_sensor_host.c uses. See mcf_sensor.h and mcf_camera.h.
 *
 * RAM: one source row (MCF_CAMERA_ROW_BYTES) for the host-fed byte stream, the bilinear line
 * buffer (2 x DST_W x DST_C uint16_t) and the state; a live source's frame buffer is the video
 * driver's (mcf_source_zephyr_video.c). The whole source frame is never copied. */
#include "mcf_sensor.h"

#if MCF_SENSOR_CAMERA

#include "mcf_camera.h"

#if MCF_SENSOR_INPUT_INT8
static const int8_t camera_lut[MCF_CAMERA_DST_C * 256u] = MCF_CAMERA_LUT;
#define LUT_S8 camera_lut
#define LUT_F32 NULL
#define LUT_S16 NULL
#elif MCF_SENSOR_INPUT_INT16
static const int16_t camera_lut[MCF_CAMERA_DST_C * 256u] = MCF_CAMERA_LUT;
#define LUT_S8 NULL
#define LUT_F32 NULL
#define LUT_S16 camera_lut
#else
static const float camera_lut[MCF_CAMERA_DST_C * 256u] = MCF_CAMERA_LUT;
#define LUT_S8 NULL
#define LUT_F32 camera_lut
#define LUT_S16 NULL
#endif

static const mcf_camera_config camera_cfg = {
    MCF_CAMERA_SRC_W, MCF_CAMERA_SRC_H, MCF_CAMERA_CROP_X, MCF_CAMERA_CROP_Y, MCF_CAMERA_CROP_W,
    MCF_CAMERA_CROP_H, MCF_CAMERA_DST_W, MCF_CAMERA_DST_H, MCF_CAMERA_DST_C, MCF_CAMERA_FORMAT,
    MCF_CAMERA_METHOD, MCF_CAMERA_FLAGS, LUT_S8, LUT_F32, LUT_S16};

#define HBUF_ELEMS (MCF_CAMERA_METHOD == MCF_CAMERA_BILINEAR ? 2u * MCF_CAMERA_DST_W * MCF_CAMERA_DST_C : 1u)

/* Named like the sampled pipelines' ring so that `mcuforge build` finds it in the map. */
static struct {
    uint16_t hbuf[HBUF_ELEMS];
    uint8_t row[MCF_CAMERA_ROW_BYTES]; /* the host-fed stream's current row (SAMPLES) */
} mcf_sensor_ring MCF_SENSOR_ATTR;

static mcf_camera_state state;
static uint32_t stream_bytes; /* bytes pushed since the last reset (modulo 2^32) */

void mcf_sensor_reset(void)
{
    mcf_camera_begin(&state, &camera_cfg, mcf_sensor_ring.hbuf);
    stream_bytes = 0;
}

uint32_t mcf_sensor_windows_after(uint32_t n)
{
    const uint32_t in_frame = (stream_bytes / 4u) % (uint32_t)MCF_SENSOR_WINDOW;
    return (uint32_t)(((uint64_t)in_frame + n) / (uint64_t)MCF_SENSOR_WINDOW);
}

uint32_t mcf_sensor_count(void)
{
    return stream_bytes / 4u;
}

size_t mcf_sensor_camera_feed(const uint8_t *data, size_t n, void *input, int *frame_done)
{
    const size_t used = mcf_camera_feed(&state, mcf_sensor_ring.row, data, n, input, frame_done);
    stream_bytes += (uint32_t)used;
    return used;
}

void mcf_sensor_camera_frame(const uint8_t *frame, uint32_t pitch, void *input)
{
    uint32_t y;
    mcf_camera_begin(&state, &camera_cfg, mcf_sensor_ring.hbuf);
    for (y = 0; y < (uint32_t)MCF_CAMERA_SRC_H; ++y) {
        (void)mcf_camera_row(&state, frame + (size_t)y * pitch, input);
    }
}

#endif /* MCF_SENSOR_CAMERA */
