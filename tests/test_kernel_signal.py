"""TFLite Micro's signal library operators (CUSTOM:Signal*, the audio front end) against the
TFLite Micro interpreter, on every kernel path: window, FFT auto-scale and the int16 RFFT alone;
energy, filter bank, square root, spectral subtraction (its noise estimate is state, compared after
every step of a stream), PCAN and log in front-end chains like TFLM's audio preprocessor; the
real preprocessor's own operators (cut out of the model) when MCUFORGE_MODEL_ZOO is set."""

import os
from pathlib import Path

import numpy as np
import pytest
from flatbuffers import flexbuffers
from kernel_check import KERNEL_PATHS
from tflite_builder import Op, T, build

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.validate import validate_compiled

ZOO = os.environ.get("MCUFORGE_MODEL_ZOO")


def fx(**kw) -> bytes:
    return bytes(flexbuffers.Dumps(kw))


def frames(rng: np.random.Generator, shape: tuple[int, ...], count: int) -> list[list[np.ndarray]]:
    """Loud, quiet and silent frames: full-range noise, noise at 1/2^k, a sine, all zeros, and -32768."""
    out = []
    n = int(np.prod(shape))
    for i in range(count):
        kind = i % 5
        if kind == 0:
            x = rng.integers(-32768, 32767, n, endpoint=True)
        elif kind == 1:
            x = rng.integers(-32768, 32767, n, endpoint=True) >> int(rng.integers(3, 14))
        elif kind == 2:
            x = np.round(int(rng.integers(50, 20000)) * np.sin(np.arange(n) * rng.uniform(0.01, 1.5)))
        elif kind == 3:
            x = np.zeros(n) if i % 2 else rng.integers(-2, 3, n)
        else:
            x = rng.integers(-300, 300, n)
            x[int(rng.integers(0, n))] = -32768
        out.append([np.asarray(x, np.int16).reshape(shape)])
    return out


def check_stream(model: bytes, batches: list[list[np.ndarray]], state: bool = False) -> None:
    cm = compile_graph(parse_model(model, name="signal.tflite"))
    for path, flags in KERNEL_PATHS.items():
        r = validate_compiled(cm, model, batches, extra_flags=flags)
        assert r.bit_exact == len(batches), (path, r.to_json())
        if state:
            assert r.state_bit_exact == len(batches), (path, r.to_json())


@pytest.mark.parametrize("frames_,length,shift", [(1, 480, 12), (3, 17, 0), (2, 64, 31)])
def test_window(frames_, length, shift):
    rng = np.random.default_rng(length)
    w = rng.integers(-32768, 32767, length, endpoint=True).astype(np.int16)
    model = build([T((frames_, length), "int16"), T((length,), "int16", data=w), T((frames_, length), "int16")],
                  [Op("CUSTOM:SignalWindow", [0, 1], [2], custom_options=fx(shift=shift))], [0], [2])
    check_stream(model, frames(rng, (frames_, length), 5))


@pytest.mark.parametrize("n", [480, 7])
def test_fft_auto_scale(n):
    model = build([T((n,), "int16"), T((n,), "int16"), T((), "int32")],
                  [Op("CUSTOM:SignalFftAutoScale", [0], [1, 2])], [0], [1, 2])
    check_stream(model, frames(np.random.default_rng(n), (n,), 10))


@pytest.mark.parametrize("fft_length,frame,count", [(512, 480, 1), (8, 8, 1), (16, 5, 2), (64, 64, 1),
                                                    (128, 100, 1), (256, 256, 2), (1024, 1000, 1)])
def test_rfft(fft_length, frame, count):
    shape = (count, frame) if count > 1 else (frame,)
    out = (count, fft_length + 2) if count > 1 else (fft_length + 2,)
    model = build([T(shape, "int16"), T(out, "int16")],
                  [Op("CUSTOM:SignalRfft", [0], [1], custom_options=fx(T=7, fft_length=fft_length))], [0], [1])
    check_stream(model, frames(np.random.default_rng(fft_length), shape, 10))


@pytest.mark.parametrize("opts,why", [
    (dict(T=1, fft_length=512), "float RFFT"),
    (dict(T=7, fft_length=480), "not a power of two"),
    (dict(T=7, fft_length=256), "do not fit"),
    (dict(T=7), "fft_length"),
])
def test_rfft_refusals(opts, why):
    dtype = "int32" if opts.get("T") == 2 else "int16"
    model = build([T((480,), dtype), T((514,), dtype)],
                  [Op("CUSTOM:SignalRfft", [0], [1], custom_options=fx(**opts))], [0], [1])
    with pytest.raises(UnsupportedModelError, match=why):
        compile_graph(parse_model(model))


def bands(rng: np.random.Generator, channels: int, lo: int, hi: int) -> tuple[np.ndarray, ...]:
    """Triangular-ish filter bank tables over spectrum bins [lo, hi): channels + 1 bands."""
    edges = np.linspace(lo, hi, channels + 2).astype(int)
    starts, widths = edges[:-1], np.maximum(np.diff(edges), 1)
    wstarts = np.concatenate([[0], np.cumsum(widths)[:-1]])
    weights = rng.integers(0, 4096, int(widths.sum())).astype(np.int16)
    return (weights, (4096 - weights).astype(np.int16), starts.astype(np.int16), wstarts.astype(np.int16),
            widths.astype(np.int16))


def front_end(fft_length: int, frame: int, channels: int, start: int, end: int, clamping: bool,
              pcan: bool, seed: int = 0) -> bytes:
    """Window, auto-scale, RFFT, energy, filter bank, square root, spectral subtraction, [PCAN,] log:
    int16 samples in, int16 features out; the noise estimate is the only state."""
    rng = np.random.default_rng(seed)
    half = fft_length // 2
    weights, unweights, fs, ws, wd = bands(rng, channels, start, end)
    window = rng.integers(0, 32767, frame).astype(np.int16)
    lut = rng.integers(0, 4096, 125).astype(np.int16)
    tensors = [
        T((frame,), "int16"), T((frame,), "int16", data=window), T((frame,), "int16"),   # 0-2
        T((frame,), "int16"), T((), "int32"), T((2 * (half + 1),), "int16"),             # 3-5
        T((half + 1,), "uint32"),                                                          # 6
        T(weights.shape, "int16", data=weights), T(unweights.shape, "int16", data=unweights),  # 7-8
        T(fs.shape, "int16", data=fs), T(ws.shape, "int16", data=ws), T(wd.shape, "int16", data=wd),  # 9-11
        T((channels,), "uint64"), T((channels,), "uint32"), T((channels,), "uint32"),     # 12-14
        T((channels,), "uint32"), T((125,), "int16", data=lut), T((channels,), "uint32"),  # 15-17
        T((channels,), "int16"),                                                           # 18
    ]
    sub = fx(alternate_one_minus_smoothing=15401, alternate_smoothing=983, clamping=clamping,
             min_signal_remaining=819, num_channels=channels, one_minus_smoothing=15975, smoothing=409,
             smoothing_bits=10, spectral_subtraction_bits=14)
    ops = [
        Op("CUSTOM:SignalWindow", [0, 1], [2], custom_options=fx(shift=12)),
        Op("CUSTOM:SignalFftAutoScale", [2], [3, 4]),
        Op("CUSTOM:SignalRfft", [3], [5], custom_options=fx(T=7, fft_length=fft_length)),
        Op("CUSTOM:SignalEnergy", [5], [6], custom_options=fx(end_index=end, start_index=start)),
        Op("CUSTOM:SignalFilterBank", [6, 7, 8, 9, 10, 11], [12], custom_options=fx(num_channels=channels)),
        Op("CUSTOM:SignalFilterBankSquareRoot", [12, 4], [13]),
        Op("CUSTOM:SignalFilterBankSpectralSubtraction", [13], [14, 15], custom_options=sub),
    ]
    last = 14
    if pcan:
        ops.append(Op("CUSTOM:SignalPCAN", [14, 15, 16], [17], custom_options=fx(snr_shift=6)))
        last = 17
    ops.append(Op("CUSTOM:SignalFilterBankLog", [last], [18],
                  custom_options=fx(input_correction_bits=3, output_scale=64)))
    return build(tensors, ops, [0], [18])


@pytest.mark.parametrize("fft_length,frame,channels,start,end,clamping,pcan", [
    (512, 480, 40, 5, 241, False, True),
    (256, 200, 12, 1, 120, True, True),
    (64, 64, 6, 0, 33, False, False),
    (128, 90, 9, 3, 60, True, False),
])
def test_front_end_stream(fft_length, frame, channels, start, end, clamping, pcan):
    model = front_end(fft_length, frame, channels, start, end, clamping, pcan)
    cm = compile_graph(parse_model(model))
    assert cm.state.bytes >= 4 * channels and 15 not in cm.plan.offsets  # noise estimate: state buffer
    check_stream(model, frames(np.random.default_rng(frame), (frame,), 12), state=True)


def test_needs_no_float():
    """The kernels are integer only: no float type, no float literal, no math library."""
    root = Path(__file__).resolve().parent.parent / "runtime" / "kernels"
    for name in ("signal_spectrum.c", "signal_spectrum.h", "signal_filterbank.c", "signal_filterbank.h"):
        text = (root / name).read_text()
        assert "float" not in text.replace("no float", "") and "double" not in text and "math.h" not in text, name


@pytest.mark.parametrize("opts,why", [
    (dict(num_channels=4), "band reaches outside"),
    (dict(num_channels=5), "output has 4 channels"),
    (dict(), "num_channels"),
])
def test_filter_bank_refusals(opts, why):
    w = np.ones(8, np.int16)
    fs = np.array([0, 2, 4, 6, 30], np.int16)
    tensors = [T((16,), "int16"), T((34,), "int16"), T((17,), "uint32"), T((8,), "int16", data=w),
               T((8,), "int16", data=w), T((5,), "int16", data=fs), T((5,), "int16", data=np.zeros(5, np.int16)),
               T((5,), "int16", data=np.full(5, 2, np.int16)), T((4,), "uint64"), T((4,), "uint32"), T((4,), "int16"),
               T((), "int32", data=np.zeros(1, np.int32))]
    ops = [Op("CUSTOM:SignalRfft", [0], [1], custom_options=fx(T=7, fft_length=32)),
           Op("CUSTOM:SignalEnergy", [1], [2], custom_options=fx(end_index=17, start_index=0)),
           Op("CUSTOM:SignalFilterBank", [2, 3, 4, 5, 6, 7], [8], custom_options=fx(**opts)),
           Op("CUSTOM:SignalFilterBankSquareRoot", [8, 11], [9]),
           Op("CUSTOM:SignalFilterBankLog", [9], [10], custom_options=fx(input_correction_bits=0, output_scale=1))]
    with pytest.raises(UnsupportedModelError, match=why):
        compile_graph(parse_model(build(tensors, ops, [0], [10])))


def test_malformed_custom_options():
    model = build([T((8,), "int16"), T((8,), "int16", data=np.ones(8, np.int16)), T((8,), "int16")],
                  [Op("CUSTOM:SignalWindow", [0, 1], [2], custom_options=b"\x01\x02\x03")], [0], [2])
    with pytest.raises(UnsupportedModelError, match="custom options"):
        compile_graph(parse_model(model))


def preprocessor_chain(path: Path) -> bytes:
    """The real preprocessor's signal operators (0-4 and 9-13) joined where its int32 section was."""
    g = parse_model(path.read_bytes())
    fb_input, energy = g.operators[9].inputs[0], g.operators[4].outputs[0]
    index: dict[int, int] = {}
    tensors: list[T] = []

    def tid(i: int) -> int:
        i = energy if i == fb_input else i
        if i not in index:
            t = g.tensors[i]
            index[i] = len(tensors)
            tensors.append(T(t.shape, t.dtype, data=t.data, name=t.name))
        return index[i]

    kept = [g.operators[k] for k in (*range(5), *range(9, 14))]
    ops = [Op(op.opcode, [tid(i) for i in op.inputs], [tid(i) for i in op.outputs],
              custom_options=op.options.get("custom_options")) for op in kept]
    return build(tensors, ops, [tid(g.inputs[0])], [tid(g.operators[13].outputs[0])])


@pytest.mark.skipif(not ZOO, reason="MCUFORGE_MODEL_ZOO (the real models) is not set")
def test_real_preprocessor_signal_ops():
    path = Path(ZOO or "") / "tflite-micro" / "audio_preprocessor_int8.tflite"
    if not path.exists():
        pytest.skip(f"{path.name} is not in MCUFORGE_MODEL_ZOO")
    check_stream(preprocessor_chain(path), frames(np.random.default_rng(7), (1, 480), 12), state=True)


def test_uint32_graph_output_refused():
    """uint32 spectra stay inside the graph: as a graph output they are refused by name."""
    model = build([T((8,), "int16"), T((10,), "int16"), T((5,), "uint32")],
                  [Op("CUSTOM:SignalRfft", [0], [1], custom_options=fx(T=7, fft_length=8)),
                   Op("CUSTOM:SignalEnergy", [1], [2], custom_options=fx(start_index=0, end_index=5))], [0], [2])
    with pytest.raises(UnsupportedModelError, match="graph output 't2' is uint32"):
        compile_graph(parse_model(model))
