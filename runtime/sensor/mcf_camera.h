/*
 * mcf_camera.h - camera frames to the model's image input: crop, resize, colour conversion and
 * quantization, in integer arithmetic, one source row at a time (C99, no malloc, no libm, no
 * floating point).
 *
 * A frame is W x H pixels in one of the source formats below, row after row. Each source row is
 * handed over once (mcf_camera_row, or mcf_camera_feed for a byte stream that arrives in pieces);
 * the output rows of the model input (dst_h x dst_w x dst_c, NHWC, row-major) are written as soon
 * as the source rows they depend on have arrived, so no whole source frame is ever held here.
 *
 * What each output value is (generator/sensor/camera.py computes the same on the host, bit for bit):
 *
 *   pixel -> 8-bit channels:
 *     RGB565 (little or big endian 16-bit words): r5 g6 b5 -> (r5 << 3 | r5 >> 2),
 *                                                 (g6 << 2 | g6 >> 4), (b5 << 3 | b5 >> 2)
 *     RGB888: bytes r, g, b.   GRAY8: one byte.
 *     YUYV (Y0 U Y1 V per pixel pair), BT.601 with 8 fractional bits, d = U - 128, e = V - 128:
 *       full range (JFIF):  r = (256 Y + 359 e + 128) >> 8,  g = (256 Y - 88 d - 183 e + 128) >> 8,
 *                           b = (256 Y + 454 d + 128) >> 8
 *       limited (16..235):  c = 298 (Y - 16):  r = (c + 409 e + 128) >> 8,
 *                           g = (c - 100 d - 208 e + 128) >> 8,  b = (c + 516 d + 128) >> 8
 *       each clamped to 0..255 (>> is a floor division by 256).
 *     1-channel models: gray = GRAY8 byte; Y (full range) or clamp((298 (Y - 16) + 128) >> 8)
 *       (limited); (77 r + 150 g + 29 b + 128) >> 8 for RGB sources. 3-channel models of a GRAY8
 *       source get the gray value three times. MCF_CAMERA_BGR swaps r and b in the output.
 *   crop: the rectangle crop_x, crop_y, crop_w x crop_h of the frame (e.g. centred, with the
 *     model's aspect ratio); the resize maps it onto dst_w x dst_h (crop >= dst: downscaling).
 *   resize, source coordinate of output column i (rows alike), pixel centres aligned
 *     (TensorFlow's half_pixel_centers, OpenCV's INTER_LINEAR/INTER_NEAREST_EXACT):
 *     nearest:  x = floor((2 i + 1) crop_w / (2 dst_w))
 *     bilinear: p = floor((2 i + 1) crop_w 256 / (2 dst_w)) - 128, clamped to 0..(crop_w - 1) 256;
 *               x0 = p >> 8, fx = p & 255, x1 = min(x0 + 1, crop_w - 1);
 *               h = v[x0] (256 - fx) + v[x1] fx       (per row; exact, < 2^16)
 *               out = (h[y0] (256 - fy) + h[y1] fy + 32768) >> 16   (one rounding)
 *   normalization + quantization: one table lookup per value, lut[c * 256 + v], a table the
 *     generator computes with the pipeline's offset/scale/clip and the input's scale and zero
 *     point (TFLite QUANTIZE, as mcf_sensor.c): int8_t for int8 inputs, int16_t for int16 inputs,
 *     float for float32 inputs.
 *
 * RAM: the caller's mcf_camera_state (about 60 bytes), for bilinear a line buffer of
 * 2 x dst_w x dst_c uint16_t (mcf_camera_hbuf_elems), and for mcf_camera_feed one source row of
 * bytes (mcf_camera_row_bytes). Time: per output value one table lookup plus, for bilinear,
 * two conversions and three multiply-adds; source rows no output row needs are skipped.
 */
#ifndef MCF_CAMERA_H
#define MCF_CAMERA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Source pixel formats. */
#define MCF_CAMERA_RGB565LE 0u /* 16-bit words, low byte first (Zephyr VIDEO_PIX_FMT_RGB565) */
#define MCF_CAMERA_RGB565BE 1u /* high byte first (VIDEO_PIX_FMT_RGB565X, many sensors' default) */
#define MCF_CAMERA_YUYV 2u     /* Y0 U Y1 V (VIDEO_PIX_FMT_YUYV); width must be even */
#define MCF_CAMERA_GRAY8 3u    /* VIDEO_PIX_FMT_GREY */
#define MCF_CAMERA_RGB888 4u   /* r, g, b bytes (VIDEO_PIX_FMT_RGB24) */

/* Resize methods. */
#define MCF_CAMERA_NEAREST 0u
#define MCF_CAMERA_BILINEAR 1u

/* Flags. */
#define MCF_CAMERA_BGR 1u         /* output channel order b, g, r */
#define MCF_CAMERA_YUV_LIMITED 2u /* YUYV in studio range (Y 16..235), else full range */
#define MCF_CAMERA_OUT_F32 4u     /* float32 output (lut_f32), else int8 (lut_s8) */
#define MCF_CAMERA_OUT_S16 8u     /* int16 output (lut_s16, 16x8 models) */

/** One frame geometry and conversion (the generated mcf_sensor_config.h fills one). */
typedef struct {
    uint16_t src_w, src_h;          /**< source frame, pixels */
    uint16_t crop_x, crop_y;        /**< top-left corner of the crop in the source */
    uint16_t crop_w, crop_h;        /**< crop size: >= dst size */
    uint16_t dst_w, dst_h;          /**< model input width and height */
    uint8_t dst_c;                  /**< model input channels: 1 or 3 */
    uint8_t format;                 /**< MCF_CAMERA_RGB565LE ... */
    uint8_t method;                 /**< MCF_CAMERA_NEAREST or MCF_CAMERA_BILINEAR */
    uint8_t flags;                  /**< MCF_CAMERA_BGR | MCF_CAMERA_YUV_LIMITED | MCF_CAMERA_OUT_F32 | _S16 */
    const int8_t *lut_s8;           /**< [dst_c * 256]: value of 8-bit level v in channel c */
    const float *lut_f32;           /**< the same for float32 inputs */
    const int16_t *lut_s16;         /**< the same for int16 inputs */
} mcf_camera_config;

/** floor(((2 i + 1) * size * unit) / (2 * dst)) for i = 0, 1, ... (q), without divisions. */
typedef struct {
    uint32_t q, r, dq, dr, den;
} mcf_camera_stepper;

/** Progress through one frame. */
typedef struct {
    const mcf_camera_config *cfg;
    uint16_t *hbuf;        /**< bilinear: 2 rows of dst_w * dst_c horizontally resized values */
    uint32_t row;          /**< next source row (0..src_h) */
    uint32_t out_row;      /**< next output row (0..dst_h) */
    uint32_t y0, y1, fy;   /**< source rows (crop coordinates) and weight of output row out_row */
    mcf_camera_stepper ys; /**< source position of output row out_row */
    uint32_t fill;         /**< mcf_camera_feed: bytes of the current row held */
} mcf_camera_state;

/** Bytes of one source row (src_w pixels of the format). */
uint32_t mcf_camera_row_bytes(const mcf_camera_config *cfg);

/** uint16_t elements of the bilinear line buffer: 2 * dst_w * dst_c (0 for nearest). */
#define mcf_camera_hbuf_elems(dst_w, dst_c, method)                                                \
    ((method) == MCF_CAMERA_BILINEAR ? 2u * (uint32_t)(dst_w) * (uint32_t)(dst_c) : 0u)

/** 0 when cfg is usable (sizes, crop inside the frame, crop >= dst, format, channels), else < 0. */
int mcf_camera_check(const mcf_camera_config *cfg);

/** Starts a frame. `hbuf`: mcf_camera_hbuf_elems(...) elements (NULL for nearest). */
void mcf_camera_begin(mcf_camera_state *s, const mcf_camera_config *cfg, uint16_t *hbuf);

/**
 * Consumes the next source row (mcf_camera_row_bytes bytes at `row`) and writes every output
 * row that becomes complete into `out` (the model input: dst_h * dst_w * dst_c int8 or float).
 * @return 1 when this was the frame's last row (all of `out` is written; the next call starts a
 *         new frame), else 0.
 */
int mcf_camera_row(mcf_camera_state *s, const uint8_t *row, void *out);

/**
 * Byte-stream form of mcf_camera_row: appends up to `n` bytes of the frame stream to the row
 * buffer `rowbuf` (mcf_camera_row_bytes bytes), processing each row once complete. Stops right
 * after the byte that completes a frame.
 * @param[out] frame_done 1 when a frame was completed (then `out` holds it), else 0
 * @return the bytes consumed (n, or fewer when a frame completed)
 */
size_t mcf_camera_feed(mcf_camera_state *s, uint8_t *rowbuf, const uint8_t *data, size_t n, void *out,
                       int *frame_done);

#ifdef __cplusplus
}
#endif

#endif /* MCF_CAMERA_H */
