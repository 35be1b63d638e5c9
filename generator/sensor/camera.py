"""Camera frames → the model's image input: the host reference of ``runtime/sensor/mcf_camera.c``.

A camera pipeline (``kind: camera`` in the ``sensor:`` section) takes frames of ``width × height``
pixels in a source pixel format, crops them (by default the centred rectangle with the model's
aspect ratio), resizes the crop to the model input's ``H × W`` (downscaling only), converts the
colours to the model's 1 (gray) or 3 (RGB or BGR) channels, and normalizes and quantizes each 8-bit
value with the pipeline's offset/scale/clip and the input's scale and zero point. Everything up to
the quantization is integer arithmetic, defined in ``mcf_camera.h`` and computed here with numpy in
the same order, so the device and the host agree bit for bit; the normalization + quantization of
each channel is a 256-entry table (`value_lut`) computed here with the pipeline's float32
reference (`quantize_int8`, TFLite's QUANTIZE) and emitted as a constant array.

Frames are streamed to the device row by row; the glue never holds a whole source frame (one row
of bytes for a host-fed stream, plus two rows of the resized width for bilinear).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FORMATS", "Camera", "CameraSpec", "PixelFormat", "center_crop", "frame_bytes_from_array",
           "frame_tensor", "resize", "to_channels", "value_lut"]


@dataclass(frozen=True)
class PixelFormat:
    name: str
    code: str  # MCF_CAMERA_* macro
    bytes_per_pixel: int
    zephyr: str  # Zephyr's VIDEO_PIX_FMT_*
    description: str


FORMATS: dict[str, PixelFormat] = {f.name: f for f in (
    PixelFormat("rgb565le", "MCF_CAMERA_RGB565LE", 2, "VIDEO_PIX_FMT_RGB565",
                "RGB565, 16-bit words low byte first"),
    PixelFormat("rgb565be", "MCF_CAMERA_RGB565BE", 2, "VIDEO_PIX_FMT_RGB565X",
                "RGB565, 16-bit words high byte first"),
    PixelFormat("yuyv", "MCF_CAMERA_YUYV", 2, "VIDEO_PIX_FMT_YUYV", "YUV 4:2:2, bytes Y0 U Y1 V"),
    PixelFormat("gray8", "MCF_CAMERA_GRAY8", 1, "VIDEO_PIX_FMT_GREY", "8-bit gray"),
    PixelFormat("rgb888", "MCF_CAMERA_RGB888", 3, "VIDEO_PIX_FMT_RGB24", "bytes r, g, b"),
)}

Resize = Literal["bilinear", "nearest"]


class CameraSpec(BaseModel):
    """``sensor.camera`` in mcuforge.yaml: what the camera delivers and how it becomes the input."""

    model_config = ConfigDict(extra="forbid")

    format: str = "rgb565le"  # rgb565le | rgb565be | yuyv | gray8 | rgb888
    width: int = Field(default=160, ge=1, le=4096)
    height: int = Field(default=120, ge=1, le=4096)
    crop: Literal["center", "none"] | list[int] = "center"  # or [x, y, width, height]
    resize: Resize = "bilinear"
    yuv_range: Literal["full", "limited"] = "full"  # YUYV only: JFIF full range, or BT.601 16..235
    channel_order: Literal["rgb", "bgr"] = "rgb"  # 3-channel models


@dataclass(frozen=True)
class Camera:
    """A resolved camera stage: every number explicit."""

    format: str
    src_w: int
    src_h: int
    crop: tuple[int, int, int, int]  # x, y, w, h
    dst_w: int
    dst_h: int
    dst_c: int  # 1 or 3
    method: str  # bilinear | nearest
    yuv_limited: bool
    bgr: bool
    lut: np.ndarray  # [dst_c, 256] int8, int16 or float32: normalized + quantized value of each 8-bit level

    @property
    def pixel_format(self) -> PixelFormat:
        return FORMATS[self.format]

    @property
    def row_bytes(self) -> int:
        return self.src_w * self.pixel_format.bytes_per_pixel

    @property
    def frame_bytes(self) -> int:
        return self.row_bytes * self.src_h

    @property
    def hbuf_elems(self) -> int:
        return 2 * self.dst_w * self.dst_c if self.method == "bilinear" else 0

    def describe(self) -> str:
        x, y, w, h = self.crop
        crop = "" if (w, h) == (self.src_w, self.src_h) else f", crop {w}×{h} at ({x}, {y})"
        conv = {1: "gray", 3: "bgr" if self.bgr else "rgb"}[self.dst_c]
        yuv = f" ({'limited' if self.yuv_limited else 'full'} range)" if self.format == "yuyv" else ""
        return (f"{self.format}{yuv} {self.src_w}×{self.src_h}{crop}, {self.method} to "
                f"{self.dst_w}×{self.dst_h} {conv}")


def center_crop(src_w: int, src_h: int, dst_w: int, dst_h: int) -> tuple[int, int, int, int]:
    """The largest centred rectangle of the frame with the aspect ratio dst_w : dst_h (floor)."""
    if src_w * dst_h > src_h * dst_w:  # the frame is wider: cut the sides
        w = src_h * dst_w // dst_h
        return (src_w - w) // 2, 0, w, src_h
    h = src_w * dst_h // dst_w
    return 0, (src_h - h) // 2, src_w, h


def value_lut(quantize: Any, offset: np.ndarray, scale: np.ndarray, clip_lo: np.ndarray | None,
              clip_hi: np.ndarray | None) -> np.ndarray:
    """[C, 256]: for each channel and 8-bit level v, ``quantize(clip((v - offset) * scale))``, the
    same float32 operations as the sampled-sensor glue (``quantize`` maps float32 to the input's
    dtype: the int8 quantization, or the identity for float32 inputs)."""
    v = np.arange(256, dtype=np.float32)[None, :]
    with np.errstate(over="ignore", invalid="ignore"):
        y = (v - offset.astype(np.float32)[:, None]) * scale.astype(np.float32)[:, None]
        if clip_lo is not None and clip_hi is not None:
            lo, hi = clip_lo[:, None], clip_hi[:, None]
            y = np.where(y < lo, lo, np.where(y > hi, hi, y))
    return np.ascontiguousarray(quantize(y.astype(np.float32)))


def _shift8_clamp(t: np.ndarray) -> np.ndarray:
    return np.clip(t >> 8, 0, 255)  # numpy's >> on signed integers is a floor division


def to_channels(frame: np.ndarray, cam: Camera) -> np.ndarray:
    """uint8 [H, W * bytes per pixel] (one raw frame) → int32 [H, W, dst_c] 8-bit values."""
    f = np.asarray(frame, dtype=np.uint8).reshape(cam.src_h, cam.row_bytes).astype(np.int32)
    fmt = cam.format
    if fmt == "gray8":
        g = f[:, :, None]
        return np.repeat(g, cam.dst_c, axis=2)
    if fmt == "yuyv":
        y = f[:, 0::2]
        d = np.repeat(f[:, 1::4], 2, axis=1) - 128
        e = np.repeat(f[:, 3::4], 2, axis=1) - 128
        if cam.yuv_limited:
            c = 298 * (y - 16)
            if cam.dst_c == 1:
                return _shift8_clamp(c + 128)[:, :, None]
            r = _shift8_clamp(c + 409 * e + 128)
            g = _shift8_clamp(c - 100 * d - 208 * e + 128)
            b = _shift8_clamp(c + 516 * d + 128)
        else:
            if cam.dst_c == 1:
                return y[:, :, None]
            r = _shift8_clamp(256 * y + 359 * e + 128)
            g = _shift8_clamp(256 * y - 88 * d - 183 * e + 128)
            b = _shift8_clamp(256 * y + 454 * d + 128)
    elif fmt == "rgb888":
        r, g, b = f[:, 0::3], f[:, 1::3], f[:, 2::3]
    else:
        lo, hi = (f[:, 0::2], f[:, 1::2]) if fmt == "rgb565le" else (f[:, 1::2], f[:, 0::2])
        w = lo | (hi << 8)
        r5, g6, b5 = w >> 11, (w >> 5) & 63, w & 31
        r, g, b = (r5 << 3) | (r5 >> 2), (g6 << 2) | (g6 >> 4), (b5 << 3) | (b5 >> 2)
    if cam.dst_c == 1:
        return ((77 * r + 150 * g + 29 * b + 128) >> 8)[:, :, None]
    return np.stack([b, g, r] if cam.bgr else [r, g, b], axis=2)


def _positions(size: int, dst: int, method: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source index pairs and 8-bit weights of each output position (mcf_camera.h, resize)."""
    i = np.arange(dst, dtype=np.int64)
    if method == "nearest":
        x = (2 * i + 1) * size // (2 * dst)
        return x, x, np.zeros(dst, np.int64)
    p = np.clip((2 * i + 1) * size * 256 // (2 * dst) - 128, 0, (size - 1) * 256)
    x0 = p >> 8
    return x0, np.minimum(x0 + 1, size - 1), p & 255


def resize(img: np.ndarray, cam: Camera) -> np.ndarray:
    """int32 [H, W, C] values of the whole frame → int32 [dst_h, dst_w, C]: crop, then resize."""
    x, y, w, h = cam.crop
    crop = img[y:y + h, x:x + w].astype(np.int64)
    x0, x1, fx = _positions(w, cam.dst_w, cam.method)
    y0, y1, fy = _positions(h, cam.dst_h, cam.method)
    if cam.method == "nearest":
        return crop[y0][:, x0].astype(np.int32)
    fxc = fx[None, :, None]
    hor = crop[:, x0] * (256 - fxc) + crop[:, x1] * fxc  # exact, < 2^16
    fyc = fy[:, None, None]
    return ((hor[y0] * (256 - fyc) + hor[y1] * fyc + 32768) >> 16).astype(np.int32)


def frame_tensor(frame: np.ndarray, cam: Camera) -> np.ndarray:
    """One raw frame → the model input values [dst_h, dst_w, dst_c] (the LUT's dtype)."""
    v = resize(to_channels(frame, cam), cam)
    return cam.lut[np.arange(cam.dst_c)[None, None, :], v]


def frame_bytes_from_array(frames: np.ndarray, cam: Camera, what: str = "frames") -> np.ndarray:
    """Frames as uint8 [N, frame_bytes] raw bytes, from an array as a recording holds them:

    * uint8 ``[N, H, W, bytes per pixel]`` (``[N, H, W]`` for gray8): the raw bytes (RGB565 in the
      pipeline's byte order, YUYV as Y U / Y V byte pairs per pixel);
    * uint16 ``[N, H, W]`` RGB565 pixel values (written in the pipeline's byte order).

    Raises ValueError with a one-line message."""
    a = np.asarray(frames)
    bpp = cam.pixel_format.bytes_per_pixel
    if a.dtype.kind not in "ui":
        raise ValueError(f"{what} hold {a.dtype} values; camera frames are uint8 bytes "
                         f"(or uint16 RGB565 pixels)")
    wide = a.dtype.itemsize >= 2
    if a.size and (a.min() < 0 or a.max() > (0xFFFF if wide else 0xFF)):
        raise ValueError(f"{what}: values {a.min()}..{a.max()} do not fit {'uint16' if wide else 'uint8'}")
    want_px = (cam.src_h, cam.src_w)
    if a.dtype.itemsize >= 2 and a.dtype != np.uint8:
        if cam.format not in ("rgb565le", "rgb565be"):
            raise ValueError(f"{what}: 16-bit pixels are RGB565; the pipeline's camera delivers {cam.format} "
                             f"(give uint8 [N, {cam.src_h}, {cam.src_w}, {bpp}] bytes)")
        if a.ndim != 3 or a.shape[1:] != want_px:
            raise ValueError(f"{what}: array {list(a.shape)} is not [frames, {cam.src_h}, {cam.src_w}] RGB565 pixels")
        px = a.astype("<u2" if cam.format == "rgb565le" else ">u2")
        raw = np.frombuffer(px.tobytes(), np.uint8)
    else:
        shape = list(a.shape)
        ok = (a.ndim == 4 and tuple(shape[1:]) == (*want_px, bpp)) or (bpp == 1 and a.ndim == 3 and
                                                                        tuple(shape[1:]) == want_px)
        if not ok:
            gray = f" or [frames, {cam.src_h}, {cam.src_w}]" if bpp == 1 else ""
            rgb565 = f" (or uint16 [frames, {cam.src_h}, {cam.src_w}] pixels)" if bpp == 2 and \
                cam.format != "yuyv" else ""
            raise ValueError(f"{what}: array {shape} is not [frames, {cam.src_h}, {cam.src_w}, {bpp}]{gray} "
                             f"{cam.format} bytes{rgb565}")
        raw = np.ascontiguousarray(a, dtype=np.uint8)
    n = raw.size // cam.frame_bytes if cam.frame_bytes else 0
    if n == 0:
        raise ValueError(f"{what}: no frame")
    return np.asarray(raw, dtype=np.uint8).reshape(n, cam.frame_bytes)
