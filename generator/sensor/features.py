"""Audio feature stage: log-mel / MFCC, as a numpy host reference and as tables for the C runtime.

Three things live here (FEATURES.md in this folder states the definition and its sources):

* `mfcc_reference_float64` - the documented definition (MLPerf Tiny KWS training front end, i.e.
  TensorFlow's `tf.signal` STFT -> magnitude -> mel -> log -> HTK-scaled DCT-II), in double
  precision with numpy's FFT. It is the yardstick, not what the device runs.
* `config_tables` / `emit_c_tables` - everything that can be known ahead of time (window, FFT
  bit-reversal and twiddles, sparse mel filterbank, DCT matrix) computed once here and emitted as
  `static const` C arrays for `runtime/sensor/mcf_mfcc.c`, which only loops.
* `mfcc` - a float32 mirror of the C code: the same radix-2 FFT, the same summation orders, the
  same logarithm polynomial, so that C and numpy agree bit for bit when the C code is compiled
  without floating-point contraction (`-ffp-contract=off`, the default in ISO C mode `-std=c99`).

Nothing here prints, exits or allocates anything on the device side.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..errors import McuforgeError
from .feature_stage import register_feature_stage

WindowKind = Literal["hann", "hamming", "rect"]
SpectrumKind = Literal["magnitude", "power"]
OutputKind = Literal["mfcc", "log_mel"]
Normalization = Literal["peak", "full_scale"]

F32 = np.float32
INT16_FULL_SCALE = 32768.0
# Largest FFT the C runtime's uint16_t table indices and the scratch layout are checked for.
MAX_FFT_LENGTH = 4096


class FeatureConfigError(McuforgeError):
    """A feature configuration that cannot be computed (or not by the C runtime)."""


@dataclass(frozen=True)
class MfccConfig:
    """One audio feature front end. Defaults: the MLPerf Tiny KWS reference (49 x 10 MFCCs / s).

    sample_rate:   Hz of the int16 input.
    frame_length:  samples per analysis frame (30 ms = 480 at 16 kHz).
    frame_step:    samples between frame starts (20 ms = 320).
    fft_length:    FFT size, a power of two >= frame_length; frames are zero-padded to it.
    window:        "hann" | "hamming" | "rect"; `periodic` selects the periodic (DFT-even) form
                   that tf.signal uses by default, else the symmetric one.
    n_mels:        triangular mel bands between f_min and f_max (HTK mel: 1127 ln(1 + f/700)).
    n_mfcc:        DCT-II coefficients kept (output "mfcc"); ignored for output "log_mel".
    log_offset:    added to each mel energy before the natural log.
    spectrum:      "magnitude" |X| (the reference) or "power" |X|^2.
    normalization: "peak" divides the clip by its largest sample value (the reference's
                   `wav / tf.reduce_max(wav)`); "full_scale" divides by 32768.
    clip_samples:  samples per model input window (1 s = 16000); `frames_per_clip` follows.
    """

    sample_rate: int = 16000
    frame_length: int = 480
    frame_step: int = 320
    fft_length: int = 512
    window: WindowKind = "hann"
    periodic: bool = True
    n_mels: int = 40
    f_min: float = 20.0
    f_max: float = 4000.0
    n_mfcc: int = 10
    log_offset: float = 1e-6
    spectrum: SpectrumKind = "magnitude"
    output: OutputKind = "mfcc"
    normalization: Normalization = "peak"
    clip_samples: int = 16000

    def __post_init__(self) -> None:
        def bad(msg: str, hint: str | None = None) -> FeatureConfigError:
            return FeatureConfigError(f"invalid feature config: {msg}", hint=hint)

        for key in ("sample_rate", "frame_length", "frame_step", "fft_length", "n_mels", "n_mfcc", "clip_samples"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise bad(f"{key} must be an integer, got {value!r}")
        for key in ("f_min", "f_max", "log_offset"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
                raise bad(f"{key} must be a number, got {value!r}")
        if not isinstance(self.periodic, bool):
            raise bad(f"periodic must be true or false, got {self.periodic!r}")
        if self.sample_rate <= 0:
            raise bad(f"sample_rate must be positive, got {self.sample_rate}")
        n = self.fft_length
        if n < 8 or n > MAX_FFT_LENGTH or n & (n - 1):
            raise bad(f"fft_length must be a power of two in 8..{MAX_FFT_LENGTH}, got {n}")
        if not 1 <= self.frame_length <= n:
            raise bad(f"frame_length must be in 1..fft_length ({n}), got {self.frame_length}",
                      hint=f"use fft_length={1 << (max(self.frame_length, 1) - 1).bit_length()}")
        if self.frame_step < 1:
            raise bad(f"frame_step must be at least 1, got {self.frame_step}")
        if self.window not in ("hann", "hamming", "rect"):
            raise bad(f"unknown window {self.window!r}", hint="use 'hann', 'hamming' or 'rect'")
        if self.spectrum not in ("magnitude", "power"):
            raise bad(f"unknown spectrum {self.spectrum!r}", hint="use 'magnitude' or 'power'")
        if self.output not in ("mfcc", "log_mel"):
            raise bad(f"unknown output {self.output!r}", hint="use 'mfcc' or 'log_mel'")
        if self.normalization not in ("peak", "full_scale"):
            raise bad(f"unknown normalization {self.normalization!r}", hint="use 'peak' or 'full_scale'")
        if not 1 <= self.n_mels <= n // 2 + 1:
            raise bad(f"n_mels must be in 1..{n // 2 + 1} (the FFT's bins), got {self.n_mels}")
        if self.output == "mfcc" and not 1 <= self.n_mfcc <= self.n_mels:
            raise bad(f"n_mfcc must be in 1..n_mels ({self.n_mels}), got {self.n_mfcc}")
        if not 0.0 <= self.f_min < self.f_max <= self.sample_rate / 2:
            raise bad(f"need 0 <= f_min < f_max <= sample_rate/2 ({self.sample_rate / 2:g} Hz), "
                      f"got f_min={self.f_min:g}, f_max={self.f_max:g}")
        if not (self.log_offset > 0.0 and math.isfinite(self.log_offset)):
            raise bad(f"log_offset must be positive and finite, got {self.log_offset}")
        if self.clip_samples < self.frame_length:
            raise bad(f"clip_samples ({self.clip_samples}) is shorter than one frame ({self.frame_length})")

    @property
    def n_out(self) -> int:
        """Features per frame: n_mfcc, or n_mels for log-mel output."""
        return self.n_mfcc if self.output == "mfcc" else self.n_mels

    @property
    def frames_per_clip(self) -> int:
        return n_frames(self, self.clip_samples)

    def to_json(self) -> str:
        """Canonical JSON (sorted keys): what the emitted tables' banner hashes."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True, separators=(",", ":"))

    def sha256(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()


KWS_MLPERF_TINY = MfccConfig()
"""The MLPerf Tiny KWS front end (benchmark/training/keyword_spotting, feature_type=mfcc)."""


def n_frames(cfg: MfccConfig, n_samples: int) -> int:
    """Frames that fit in `n_samples` without padding the end (tf.signal.stft pad_end=False)."""
    return 0 if n_samples < cfg.frame_length else 1 + (n_samples - cfg.frame_length) // cfg.frame_step


# --------------------------------------------------------------------------------------------
# The definition in double precision
# --------------------------------------------------------------------------------------------


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    """HTK mel scale, as tf.signal and CMSIS-DSP use it."""
    return 1127.0 * np.log1p(np.asarray(f, dtype=np.float64) / 700.0)


def window_float64(cfg: MfccConfig) -> np.ndarray:
    """The analysis window, length frame_length (raised cosine a - b cos(2 pi n / d))."""
    length = cfg.frame_length
    if cfg.window == "rect" or length == 1:
        return np.ones(length)
    a, b = (0.5, 0.5) if cfg.window == "hann" else (0.54, 0.46)
    # tf.signal: the periodic form divides by L (only for even L), the symmetric one by L - 1.
    denom = length if (cfg.periodic and length % 2 == 0) else length - 1
    return a - b * np.cos(2.0 * np.pi * np.arange(length) / denom)


def mel_weight_matrix(cfg: MfccConfig) -> np.ndarray:
    """[fft_length/2 + 1, n_mels] triangular weights, linear in mel, DC bin excluded.

    Same construction as tf.signal.linear_to_mel_weight_matrix: n_mels + 2 edges evenly spaced
    in mel from f_min to f_max; band m rises from edge m to edge m+1 and falls to edge m+2; the
    bin frequencies are linspace(0, sample_rate/2, bins) and bin 0 (DC) gets no weight.
    """
    bins = cfg.fft_length // 2 + 1
    bin_mel = hz_to_mel(np.linspace(0.0, cfg.sample_rate / 2.0, bins))[1:, None]
    edges = np.linspace(hz_to_mel(cfg.f_min), hz_to_mel(cfg.f_max), cfg.n_mels + 2)
    lower, center, upper = edges[None, :-2], edges[None, 1:-1], edges[None, 2:]
    rising = (bin_mel - lower) / (center - lower)
    falling = (upper - bin_mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.vstack([np.zeros((1, cfg.n_mels)), weights])


def dct_matrix(cfg: MfccConfig) -> np.ndarray:
    """[n_mfcc, n_mels] HTK-scaled DCT-II: sqrt(2/M) cos(pi k (m + 1/2) / M) for every k.

    This is tf.signal.mfccs_from_log_mel_spectrograms (unnormalised DCT-II times 1/sqrt(2M)):
    orthonormal except that row 0 is sqrt(2) too large.
    """
    m = cfg.n_mels
    k = np.arange(cfg.n_mfcc)[:, None]
    return np.sqrt(2.0 / m) * np.cos(np.pi * k * (np.arange(m)[None, :] + 0.5) / m)


def peak_gain_float64(audio: np.ndarray) -> float:
    """1 / max(audio) like the reference's `wav / tf.reduce_max(wav)` (signed maximum).

    Where the reference divides by zero (a clip whose largest value is 0) we use 1/32768.
    """
    peak = float(np.max(audio)) if audio.size else 0.0
    return 1.0 / peak if peak != 0.0 else 1.0 / INT16_FULL_SCALE


def mfcc_reference_float64(audio: np.ndarray, cfg: MfccConfig = KWS_MLPERF_TINY) -> np.ndarray:
    """The documented definition in float64: [frames, n_out] features of one clip.

    `audio` holds int16 sample values (any integer or float dtype). Steps: normalise (peak or
    full scale), frame (no end padding), window, zero-padded rfft, |X| (or |X|^2), dense mel
    matrix, log(x + offset), DCT.
    """
    x = np.asarray(audio, dtype=np.float64).ravel()
    if cfg.normalization == "peak":
        peak = float(np.max(x)) if x.size else 0.0
        x = x / peak if peak != 0.0 else x / INT16_FULL_SCALE
    else:
        x = x / INT16_FULL_SCALE
    count = n_frames(cfg, x.size)
    if count == 0:
        return np.zeros((0, cfg.n_out))
    idx = np.arange(cfg.frame_length)[None, :] + cfg.frame_step * np.arange(count)[:, None]
    spectrum = np.abs(np.fft.rfft(x[idx] * window_float64(cfg)[None, :], n=cfg.fft_length, axis=1))
    if cfg.spectrum == "power":
        spectrum = spectrum**2
    log_mel = np.log(spectrum @ mel_weight_matrix(cfg) + cfg.log_offset)
    if cfg.output == "log_mel":
        return log_mel
    return log_mel @ dct_matrix(cfg).T


# --------------------------------------------------------------------------------------------
# Tables for the C runtime (and for the float32 mirror)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MfccTables:
    """Constant data of one config, as the C code reads it (float32 / uint16)."""

    window: np.ndarray  # float32 [frame_length]
    bitrev: np.ndarray  # uint16 [fft_length/2]: complex FFT input position of each packed pair
    fft_twiddle: np.ndarray  # float32 [fft_length/4, 2]: cos, sin of 2 pi j / (fft_length/2)
    bin_lo: int  # first spectrum bin any mel band reads
    bin_hi: int  # last one (bin_hi < bin_lo when no band reads any bin)
    rfft_twiddle: np.ndarray  # float32 [bin_hi - bin_lo + 1, 2]: cos, sin of 2 pi k / fft_length
    mel_start: np.ndarray  # uint16 [n_mels]: first bin of each band
    mel_length: np.ndarray  # uint16 [n_mels]: bins in each band (0 allowed)
    mel_weights: np.ndarray  # float32 [sum(mel_length)]: the bands' non-zero weights, band after band
    dct: np.ndarray | None  # float32 [n_mfcc, n_mels] row-major, None for log-mel output
    gain_full_scale: float  # 1/32768, the fixed gain of normalization "full_scale"

    @property
    def scratch_floats(self) -> int:
        """Floats of scratch mcf_mfcc_frame needs: complex FFT buffer + magnitudes."""
        return scratch_floats(len(self.bitrev) * 2)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"window": self.window, "bitrev": self.bitrev, "fft_twiddle": self.fft_twiddle,
               "rfft_twiddle": self.rfft_twiddle, "mel_start": self.mel_start,
               "mel_length": self.mel_length, "mel_weights": self.mel_weights}
        if self.dct is not None:
            out["dct"] = self.dct
        return out


def scratch_floats(fft_length: int) -> int:
    """Same formula as the C macro mcf_mfcc_scratch_bytes (divided by sizeof(float))."""
    return fft_length + fft_length // 2 + 1


def _exact_trig(angle_num: np.ndarray, angle_den: int) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin of 2 pi * num / den in float64, exact 0 and +-1 at the quarter turns."""
    num = np.asarray(angle_num, dtype=np.int64) % angle_den
    theta = 2.0 * np.pi * num / angle_den
    c, s = np.cos(theta), np.sin(theta)
    quarter = (4 * num) % angle_den == 0
    q = (4 * num) // angle_den
    c = np.where(quarter, np.choose(q % 4, [1.0, 0.0, -1.0, 0.0]), c)
    s = np.where(quarter, np.choose(q % 4, [0.0, 1.0, 0.0, -1.0]), s)
    return c, s


def config_tables(cfg: MfccConfig = KWS_MLPERF_TINY) -> MfccTables:
    """Compute every constant the C code needs, once, in float64, rounded to float32 at the end."""
    n = cfg.fft_length
    half = n // 2
    bits = half.bit_length() - 1
    bitrev = np.array([int(f"{i:0{bits}b}"[::-1], 2) if bits else 0 for i in range(half)], dtype=np.uint16)
    c, s = _exact_trig(np.arange(max(half // 2, 1)), half)
    fft_twiddle = np.stack([c, s], axis=1).astype(F32)

    dense = mel_weight_matrix(cfg)
    starts, lengths, weights = [], [], []
    for m in range(cfg.n_mels):
        nz = np.flatnonzero(dense[:, m] > 0.0)
        if nz.size == 0:
            starts.append(0)
            lengths.append(0)
            continue
        lo, hi = int(nz[0]), int(nz[-1])  # a triangle's support is one contiguous run
        starts.append(lo)
        lengths.append(hi - lo + 1)
        weights.append(dense[lo:hi + 1, m])
    used = [(st, st + ln - 1) for st, ln in zip(starts, lengths, strict=True) if ln > 0]
    bin_lo = min((u[0] for u in used), default=1)
    bin_hi = max((u[1] for u in used), default=0)
    ks = np.arange(bin_lo, bin_hi + 1)
    rc, rs = _exact_trig(ks, n)
    rfft_twiddle = np.stack([rc, rs], axis=1).astype(F32).reshape(-1, 2)

    return MfccTables(
        window=window_float64(cfg).astype(F32),
        bitrev=bitrev,
        fft_twiddle=fft_twiddle,
        bin_lo=bin_lo,
        bin_hi=bin_hi,
        rfft_twiddle=rfft_twiddle,
        mel_start=np.array(starts, dtype=np.uint16),
        mel_length=np.array(lengths, dtype=np.uint16),
        mel_weights=(np.concatenate(weights) if weights else np.zeros(0)).astype(F32),
        dct=dct_matrix(cfg).astype(F32) if cfg.output == "mfcc" else None,
        gain_full_scale=1.0 / INT16_FULL_SCALE,
    )


# --------------------------------------------------------------------------------------------
# float32 mirror of runtime/sensor/mcf_mfcc.c
# --------------------------------------------------------------------------------------------

# Natural log, float32 (mcf_mfcc_log in C): x = 2^e * m with m in [sqrt(1/2), sqrt(2)),
# f = m - 1 (exact), s = f / (2 + f), log(m) = 2 atanh(s) = 2s + (2/3) s^3 + (2/5) s^5 + ...
# |s| <= 0.1716, so the series to s^9 leaves a relative error below 3e-9 (under float32's
# 6e-8). e * ln 2 uses a two-part constant (hi has 9 significant bits, so e * hi is exact).
LOG_C3 = F32(2.0 / 3.0)
LOG_C5 = F32(2.0 / 5.0)
LOG_C7 = F32(2.0 / 7.0)
LOG_C9 = F32(2.0 / 9.0)
LN2_HI = F32(0.693359375)
LN2_LO = F32(math.log(2.0) - 0.693359375)
SQRT2_BITS = 0x3FB504F3  # float32 nearest sqrt(2): mantissas above it are halved


def log_f32(x: np.ndarray) -> np.ndarray:
    """Bit-exact numpy twin of mcf_mfcc_log for normal, positive, finite float32 inputs."""
    x = np.asarray(x, dtype=F32)
    bits = x.view(np.uint32).astype(np.int64)
    e = ((bits >> 23) & 0xFF) - 127
    mant = (bits & 0x7FFFFF) | 0x3F800000  # m in [1, 2)
    big = mant > SQRT2_BITS  # m > sqrt(2): use m / 2 and e + 1
    mant = np.where(big, mant - 0x00800000, mant)
    e = np.where(big, e + 1, e)
    m = mant.astype(np.uint32).view(F32)
    f = m - F32(1.0)
    s = f / (F32(2.0) + f)
    z = s * s
    poly = LOG_C3 + z * (LOG_C5 + z * (LOG_C7 + z * LOG_C9))
    log_m = (s + s) + s * (z * poly)
    ef = e.astype(F32)
    return (ef * LN2_LO + log_m) + ef * LN2_HI


def peak_gain(audio: np.ndarray) -> np.float32:
    """float32 twin of mcf_mfcc_peak_gain(_f32): 1.0f / max(samples), NaNs skipped; 1/32768 when
    the maximum is 0 or there is none."""
    a = _as_samples(audio)
    finite = a[~np.isnan(a)]
    peak = F32(finite.max()) if finite.size else F32(-np.inf)
    if peak == 0 or peak == -np.inf:
        return F32(1.0 / INT16_FULL_SCALE)
    return F32(1.0) / peak


def _as_samples(audio: np.ndarray) -> np.ndarray:
    """1-D float32 samples: int16-range integers (exact in float32) or floats (rounded to float32,
    which is what a device holding float32 sees)."""
    a = np.asarray(audio)
    if np.issubdtype(a.dtype, np.integer):
        if a.size and (a.min() < -32768 or a.max() > 32767):
            raise FeatureConfigError(f"audio must hold int16 samples, got values {a.min()}..{a.max()} ({a.dtype})",
                                     hint="clip to -32768..32767, or pass float samples")
    elif not np.issubdtype(a.dtype, np.floating):
        raise FeatureConfigError(f"audio must be int16 or float samples, got dtype {a.dtype}")
    return a.astype(F32).ravel()


def _padded_mel(t: MfccTables) -> tuple[np.ndarray, np.ndarray]:
    """Mel weights as [n_mels, longest band] with zero padding, and the bin each weight reads."""
    n_mels = len(t.mel_length)
    width = int(t.mel_length.max()) if n_mels else 0
    weights = np.zeros((n_mels, width), dtype=F32)
    cols = np.zeros((n_mels, width), dtype=np.int64)
    offset = 0
    for m in range(n_mels):
        length, start = int(t.mel_length[m]), int(t.mel_start[m])
        weights[m, :length] = t.mel_weights[offset:offset + length]
        cols[m, :length] = np.arange(start, start + length)
        offset += length
    return weights, cols


def mfcc_frames(frames: np.ndarray, gains: np.ndarray | float | np.floating, cfg: MfccConfig = KWS_MLPERF_TINY,
                tables: MfccTables | None = None) -> np.ndarray:
    """float32 features of frames [count, frame_length] (int16 or float samples), each scaled by
    its gain.

    Same arithmetic, in the same order, as mcf_mfcc_frame_gain() / mcf_mfcc_frame_f32() in C.
    """
    t = tables or config_tables(cfg)
    fr = np.asarray(frames)
    fr = (fr if np.issubdtype(fr.dtype, np.integer) else fr.astype(F32)).reshape(-1, cfg.frame_length)
    count = fr.shape[0]
    g = np.broadcast_to(np.asarray(gains, dtype=F32), (count,)).reshape(count, 1)
    n = cfg.fft_length
    half = n // 2

    # 1. scale, window, zero-pad; pack pairs (x[2i], x[2i+1]) as complex z[bitrev[i]].
    x = np.zeros((count, n), dtype=F32)
    x[:, :cfg.frame_length] = (fr.astype(F32) * g) * t.window[None, :]  # int16 -> float32 is exact
    re = np.empty((count, half), dtype=F32)
    im = np.empty((count, half), dtype=F32)
    re[:, t.bitrev] = x[:, 0::2]
    im[:, t.bitrev] = x[:, 1::2]

    # 2. radix-2 decimation-in-time complex FFT of length half (W = cos - i sin).
    size = 2
    while size <= half:
        hs = size // 2
        step = half // size
        wr = t.fft_twiddle[np.arange(hs) * step, 0][None, None, :]
        wi = t.fft_twiddle[np.arange(hs) * step, 1][None, None, :]
        r4 = re.reshape(count, half // size, 2, hs)
        i4 = im.reshape(count, half // size, 2, hs)
        ar, ai, br, bi = r4[:, :, 0, :], i4[:, :, 0, :], r4[:, :, 1, :], i4[:, :, 1, :]
        tr = wr * br + wi * bi
        ti = wr * bi - wi * br
        re = np.stack([ar + tr, ar - tr], axis=2).reshape(count, half)
        im = np.stack([ai + ti, ai - ti], axis=2).reshape(count, half)
        size *= 2

    # 3. split into the real-input spectrum, bins bin_lo..bin_hi, as 2X[k]; |X| = sqrt(.) / 2.
    mag = np.zeros((count, half + 1), dtype=F32)
    if t.bin_hi >= t.bin_lo:
        ks = np.arange(t.bin_lo, t.bin_hi + 1)
        a_idx, b_idx = ks % half, (half - ks) % half
        c, s = t.rfft_twiddle[:, 0][None, :], t.rfft_twiddle[:, 1][None, :]
        ar, ai, br, bi = re[:, a_idx], im[:, a_idx], re[:, b_idx], im[:, b_idx]
        sum_re = ar + br
        dif_re = br - ar
        sum_im = ai - bi
        dif_im = ai + bi
        xr = (sum_re + c * dif_im) + s * dif_re
        xi = (sum_im + c * dif_re) - s * dif_im
        p = xr * xr + xi * xi
        mag[:, ks] = p * F32(0.25) if cfg.spectrum == "power" else np.sqrt(p) * F32(0.5)

    # 4. mel bands: acc += w[j] * mag[start + j], j ascending (padding with zero weights is exact).
    weights, cols = _padded_mel(t)
    acc: np.ndarray = np.zeros((count, cfg.n_mels), dtype=F32)
    for j in range(weights.shape[1]):
        acc = acc + weights[None, :, j] * mag[:, cols[:, j]]

    # 5. log(energy + offset).
    log_mel = log_f32(acc + F32(cfg.log_offset))
    if t.dct is None:
        return log_mel

    # 6. DCT: out[k] = sum_m dct[k][m] * log_mel[m], m ascending.
    out = np.zeros((count, t.dct.shape[0]), dtype=F32)
    for m in range(cfg.n_mels):
        out = out + t.dct[None, :, m] * log_mel[:, m:m + 1]
    return out


def mfcc(audio: np.ndarray, cfg: MfccConfig = KWS_MLPERF_TINY, tables: MfccTables | None = None) -> np.ndarray:
    """float32 [frames, n_out] features of one clip, as mcf_mfcc_clip() (int16 samples) or
    mcf_mfcc_clip_f32() (float samples) computes them.

    The gain comes from the whole clip (peak) or is 1/32768 (full_scale); frames start every
    frame_step samples and the end is not padded.
    """
    a = _as_samples(audio)
    count = n_frames(cfg, a.size)
    if count == 0:
        return np.zeros((0, cfg.n_out), dtype=F32)
    gain = peak_gain(a) if cfg.normalization == "peak" else F32(1.0 / INT16_FULL_SCALE)
    idx = np.arange(cfg.frame_length)[None, :] + cfg.frame_step * np.arange(count)[:, None]
    return mfcc_frames(a[idx], gain, cfg, tables)


def pad_clip(audio: np.ndarray, cfg: MfccConfig = KWS_MLPERF_TINY) -> np.ndarray:
    """Zero-pad a short clip to clip_samples (as the reference pads short recordings)."""
    a = np.asarray(audio).ravel()
    _as_samples(a)  # checks the dtype and range
    if a.size > cfg.clip_samples:
        raise FeatureConfigError(f"clip has {a.size} samples, more than clip_samples={cfg.clip_samples}",
                                 hint="cut the recording into windows first")
    return np.pad(a, (0, cfg.clip_samples - a.size))


def quantize(features: np.ndarray, scale: float, zero_point: int, dtype: str = "int8") -> np.ndarray:
    """int8 (or int16) = clamp(round_half_away(x / scale) + zero_point), float32 division (TFLite
    QUANTIZE).

    Bit-exact twin of mcf_mfcc_quantize_s8 / mcf_mfcc_quantize_s16 in C. NaN maps to the minimum.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # huge values become ±inf, then ±1e6, as in C
        v = np.asarray(features, dtype=F32) / F32(scale)
    v = np.where(v > F32(-1e6), v, F32(-1e6)).astype(F32)
    v = np.where(v < F32(1e6), v, F32(1e6)).astype(F32)
    t = np.trunc(v)
    frac = v - t
    r = t.astype(np.int64) + (frac >= F32(0.5)) - (frac <= F32(-0.5))
    if dtype == "int16":
        return np.clip(r + int(zero_point), -32768, 32767).astype(np.int16)
    return np.clip(r + int(zero_point), -128, 127).astype(np.int8)


def model_input(audio: np.ndarray, scale: float, zero_point: int,
                cfg: MfccConfig = KWS_MLPERF_TINY, dtype: str = "int8") -> np.ndarray:
    """int8 (or int16) [frames_per_clip, n_out] input tensor of one clip (zero-padded to clip_samples)."""
    return quantize(mfcc(pad_clip(audio, cfg), cfg), scale, zero_point, dtype)


# --------------------------------------------------------------------------------------------
# C emission
# --------------------------------------------------------------------------------------------

_C_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _c_float(v: float | np.floating) -> str:
    """Shortest decimal that reads back as the same float32, with the C 'f' suffix."""
    return np.format_float_scientific(F32(v), unique=True, exp_digits=2) + "f"


def _c_array(ctype: str, name: str, values: np.ndarray, per_line: int) -> str:
    flat = values.ravel()
    items = [_c_float(v) for v in flat] if ctype == "float" else [str(int(v)) for v in flat]
    if not items:  # ISO C has no zero-length arrays
        items = ["0"] if ctype != "float" else ["0.0f"]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    body = ",\n    ".join(lines)
    return f"static const {ctype} {name}[{len(items)}] = {{\n    {body}\n}};\n"


def _check_name(name: str) -> None:
    if not _C_NAME.match(name):
        raise FeatureConfigError(f"'{name}' is not a C identifier")


def _banner(cfg: MfccConfig) -> str:
    settings = ", ".join(f"{k}={v!r}" for k, v in dataclasses.asdict(cfg).items())
    return (f"/* generated by mcuforge from feature config sha256 {cfg.sha256()}, do not edit */\n"
            f"/* {settings} */\n")


def _c_macros(cfg: MfccConfig, name: str) -> str:
    up = name.upper()
    return (
        f"#define {up}_SAMPLE_RATE {cfg.sample_rate}\n"
        f"#define {up}_FRAME_LENGTH {cfg.frame_length}\n"
        f"#define {up}_FRAME_STEP {cfg.frame_step}\n"
        f"#define {up}_CLIP_SAMPLES {cfg.clip_samples}\n"
        f"#define {up}_FRAMES_PER_CLIP {cfg.frames_per_clip}\n"
        f"#define {up}_N_OUT {cfg.n_out}\n"
        f"#define {up}_SCRATCH_BYTES mcf_mfcc_scratch_bytes({cfg.fft_length})\n"
    )


def _c_definitions(cfg: MfccConfig, name: str, config_storage: str) -> str:
    """The static const tables and the config object (`config_storage` "" or "static ")."""
    t = config_tables(cfg)
    parts = [
        _c_array("float", f"{name}_window", t.window, 8),
        _c_array("uint16_t", f"{name}_bitrev", t.bitrev, 16),
        _c_array("float", f"{name}_fft_twiddle", t.fft_twiddle, 8),
        _c_array("float", f"{name}_rfft_twiddle", t.rfft_twiddle, 8),
        _c_array("uint16_t", f"{name}_mel_start", t.mel_start, 16),
        _c_array("uint16_t", f"{name}_mel_length", t.mel_length, 16),
        _c_array("float", f"{name}_mel_weights", t.mel_weights, 8),
    ]
    if t.dct is not None:
        parts.append(_c_array("float", f"{name}_dct", t.dct, 8))
    flags = []
    if cfg.spectrum == "power":
        flags.append("MCF_MFCC_POWER")
    if cfg.normalization == "peak":
        flags.append("MCF_MFCC_PEAK_NORMALIZE")
    tables = ["window", "bitrev", "fft_twiddle", "rfft_twiddle", "mel_start", "mel_length", "mel_weights"]
    pointers = [f"{name}_{tn}" for tn in tables] + [f"{name}_dct" if t.dct is not None else "NULL"]
    parts.append(
        f"\n{config_storage}const mcf_mfcc_config {name} = {{\n"
        f"    /* fft_length */ {cfg.fft_length}u,\n"
        f"    /* frame_length */ {cfg.frame_length}u,\n"
        f"    /* frame_step */ {cfg.frame_step}u,\n"
        f"    /* n_mels */ {cfg.n_mels}u,\n"
        f"    /* n_out */ {cfg.n_out}u,\n"
        f"    /* bin_lo */ {t.bin_lo}u,\n"
        f"    /* bin_hi */ {t.bin_hi}u,\n"
        f"    /* flags */ {' | '.join(flags) if flags else '0u'},\n"
        f"    /* gain */ {_c_float(F32(t.gain_full_scale))},\n"
        f"    /* log_offset */ {_c_float(F32(cfg.log_offset))},\n"
        + "".join(f"    {ptr},\n" for ptr in pointers[:-1]) + f"    {pointers[-1]}\n}};\n"
    )
    return "".join(parts)


def emit_c_header(cfg: MfccConfig = KWS_MLPERF_TINY, name: str = "mcf_mfcc_tables") -> str:
    """Header declaring the config object emit_c_tables defines, plus its sizes as macros."""
    _check_name(name)
    guard = f"{name.upper()}_H"
    return (
        f"{_banner(cfg)}#ifndef {guard}\n#define {guard}\n\n#include \"mcf_mfcc.h\"\n\n{_c_macros(cfg, name)}\n"
        f"#ifdef __cplusplus\nextern \"C\" {{\n#endif\n\n"
        f"extern const mcf_mfcc_config {name};\n\n"
        f"#ifdef __cplusplus\n}}\n#endif\n\n#endif /* {guard} */\n"
    )


def emit_c_tables(cfg: MfccConfig = KWS_MLPERF_TINY, name: str = "mcf_mfcc_tables") -> str:
    """C source defining `const mcf_mfcc_config <name>` and its static const tables (goes with
    emit_c_header's `<name>.h`).

    Deterministic: the same config gives the same bytes (floats printed in their shortest
    round-tripping form, no timestamps).
    """
    _check_name(name)
    return f'{_banner(cfg)}#include "{name}.h"\n\n{_c_definitions(cfg, name, "")}'


def emit_c_static_header(cfg: MfccConfig = KWS_MLPERF_TINY, name: str = "mcf_mfcc_tables") -> str:
    """One header holding the tables, `static const mcf_mfcc_config <name>` and a static scratch
    buffer `<name>_scratch`: for glue that includes it in exactly one C file (nothing to add to
    the build)."""
    _check_name(name)
    guard = f"{name.upper()}_H"
    return (
        f"{_banner(cfg)}/* Include in one C file only: the tables and the scratch buffer are static. */\n"
        f"#ifndef {guard}\n#define {guard}\n\n#include \"mcf_mfcc.h\"\n\n{_c_macros(cfg, name)}\n"
        f"{_c_definitions(cfg, name, 'static ')}\n"
        f"static float {name}_scratch[{name.upper()}_SCRATCH_BYTES / sizeof(float)];\n\n#endif /* {guard} */\n"
    )


# --------------------------------------------------------------------------------------------
# Feature stage of the sensor pipeline (generator/sensor/pipeline.py)
# --------------------------------------------------------------------------------------------


@dataclass
class MfccStage:
    """`features: {kind: mfcc, ...}` of a sensor pipeline: one window of float32 samples (one
    channel) -> [frames_per_clip * n_out] float32 features, on the host and on the device."""

    cfg: MfccConfig
    table_name: str = "mcf_mfcc_tables"
    kind: str = "mfcc"

    @property
    def output_elements(self) -> int:
        return self.cfg.frames_per_clip * self.cfg.n_out

    @property
    def ram_bytes(self) -> int:
        """The static scratch buffer (the tables are const and stay in flash)."""
        return 4 * scratch_floats(self.cfg.fft_length)

    @property
    def c_sources(self) -> tuple[str, ...]:
        return ("mcf_mfcc.c", "mcf_mfcc.h")

    def c_files(self) -> dict[str, str]:
        """Generated files the project needs besides c_sources (file name -> text)."""
        return {f"{self.table_name}.h": emit_c_static_header(self.cfg, self.table_name)}

    def reference(self, window: np.ndarray) -> np.ndarray:
        return mfcc(np.asarray(window, dtype=F32), self.cfg).reshape(-1)

    #: The stage can read an int16 ring buffer in place (MCF_SENSOR_FEATURE_RUN_RING_S16): audio
    #: pipelines without scaling keep their samples as int16, and no float copy of the window.
    ring_int16: bool = True

    def c_macros(self) -> dict[str, str]:
        n = self.table_name
        return {
            "MCF_SENSOR_FEATURE_INCLUDE": f'"{n}.h"',
            "MCF_SENSOR_FEATURE_RUN(window, out)":
                f"((void)mcf_mfcc_clip_f32(&{n}, (window), {self.cfg.clip_samples}u, (out), {n}_scratch))",
            "MCF_SENSOR_FEATURE_RUN_RING_S16(ring, start, out)":
                f"((void)mcf_mfcc_clip_ring_s16(&{n}, (ring), {self.cfg.clip_samples}u, (start), (out), {n}_scratch))",
        }


def mfcc_stage(params: dict[str, Any], rate_hz: float, window: int, channels: int, layout: str) -> MfccStage:
    """Factory for feature_stage.register_feature_stage: MfccConfig fields from `params` (defaults:
    the MLPerf Tiny KWS front end), sample rate and clip length from the pipeline."""
    del layout  # one channel: both layouts are the same
    if channels != 1:
        raise ValueError(f"the mfcc stage takes one audio channel, the pipeline has {channels}")
    if rate_hz != int(rate_hz):
        raise ValueError(f"the mfcc stage needs an integer sample rate, got {rate_hz:g} Hz")
    for key in ("sample_rate", "clip_samples"):
        if key in params:
            raise ValueError(f"'{key}' comes from the pipeline (rate_hz, window), not from the feature stage")
    known = {f.name for f in dataclasses.fields(MfccConfig)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"unknown mfcc parameter(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    try:
        cfg = MfccConfig(sample_rate=int(rate_hz), clip_samples=window, **params)
    except FeatureConfigError as exc:
        raise ValueError(exc.message + (f" ({exc.hint})" if exc.hint else "")) from exc
    return MfccStage(cfg)


register_feature_stage("mfcc", mfcc_stage)
