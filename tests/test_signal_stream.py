"""TFLite Micro's stateful signal operators (CUSTOM:SignalFramer, SignalStacker, SignalDelay,
SignalOverlapAdd) against the TFLite Micro interpreter: each as a single-operator model run over a
stream of invokes (the interpreter on the same stream), on every kernel path; their state lives in
the model's state buffer and reset_state() starts the stream again. Options and shapes TFLite Micro
cannot run, or float variants, are refused by name."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from flatbuffers import flexbuffers
from tflite_builder import Op, T, build

from mcuforge.generator.codegen import generate
from mcuforge.generator.compiler import CompiledModel, compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.hostbuild import WARNING_FLAGS, HostModel
from mcuforge.generator.references import open_reference
from mcuforge.generator.tools import run_tool
from mcuforge.generator.validate import validate_compiled

STEPS = 12


def fx(**kw: object) -> bytes:
    return bytes(flexbuffers.Dumps(kw))


def stream(rng: np.random.Generator, shape: tuple[int, ...], count: int = STEPS) -> list[list[np.ndarray]]:
    """Full-range noise, with the int16 extremes in every step (they saturate the overlap-add)."""
    out = []
    for _ in range(count):
        x = rng.integers(-32768, 32767, int(np.prod(shape)), endpoint=True)
        x[rng.integers(0, x.size, 2)] = [-32768, 32767]
        out.append([x.astype(np.int16).reshape(shape)])
    return out


def check_stream(model: bytes, batches: list[list[np.ndarray]]) -> None:
    """The outputs after every step bit-exact (signal_stream.c has no per-path code: one build)."""
    cm = compile_graph(parse_model(model, name="stream.tflite"))
    assert cm.state.private, "the operator's state is not in the state buffer"
    r = validate_compiled(cm, model, batches)
    assert r.bit_exact == len(batches), r.to_json()
    assert r.state_bit_exact == len(batches), r.to_json()


_FLAG_HARNESS = """\
#include <stdio.h>
#include "model.h"
extern uint8_t model_arena[];
int main(void)
{
    model_init();
    while (fread(model_model.inputs[0].data, 1, model_model.inputs[0].bytes, stdin) == model_model.inputs[0].bytes) {
        model_invoke();
        fwrite(model_model.outputs[0].data, 1, model_model.outputs[0].bytes, stdout);
        fputc(model_arena[%d], stdout);
    }
    return 0;
}
"""


def run_with_flag(cm: CompiledModel, batches: list[list[np.ndarray]], flag: int) -> tuple[list[np.ndarray], list[int]]:
    """The single output and the bool tensor `flag` (in the arena) after each step of one stream."""
    space, offset = cm.tensor_location(flag)
    assert space == "arena"
    with HostModel(generate(cm, "model")) as host:
        (host.dir / "harness_main.c").write_text(_FLAG_HARNESS % offset)
        sources = [host.dir / n for n in host.lib.manifest["sources"]] + [host.dir / "harness_main.c"]
        cc = os.environ.get("CC") or "cc"
        run_tool([cc, *WARNING_FLAGS, "-O2", "-I", host.dir, *sources, "-o", host.exe], timeout=600)
        raw = run_tool([host.exe], input=b"".join(x[0].tobytes() for x in batches), timeout=600).stdout
    out = cm.graph.tensors[cm.graph.outputs[0]]
    step = out.nbytes + 1
    assert len(raw) == step * len(batches)
    return ([np.frombuffer(raw[k * step:k * step + out.nbytes], np.int16).reshape(out.shape) for k in
             range(len(batches))], [raw[k * step + out.nbytes] for k in range(len(batches))])


def check_valid_stream(model: bytes, batches: list[list[np.ndarray]], valid: int, frame: int) -> int:
    """For an operator with an output_valid flag (tensor `valid`): the flag as TFLite Micro's after
    every step; where it is set the output must be bit-exact; where not, TFLite Micro leaves (part
    of) the output unwritten, whatever its arena held, and each `frame` values of the output here
    must be TFLite Micro's or unwritten too (as after the step before, zeros before the first).
    Returns the number of valid steps."""
    cm = compile_graph(parse_model(model, name="stream.tflite"))
    assert cm.state.private
    ref = open_reference(model, keep_tensors=True)
    got, flags = run_with_flag(cm, batches, valid)
    before = np.zeros_like(got[0])
    valid_steps = 0
    for step, (inputs, g, flag) in enumerate(zip(batches, got, flags, strict=True)):
        want = ref.run(inputs, 1)[0].reshape(g.shape)
        assert flag == int(bool(ref.tensor(valid))), step
        if flag:
            valid_steps += 1
            assert np.array_equal(g, want), step
        else:
            for k, (a, b, w) in enumerate(zip(g.reshape(-1, frame), before.reshape(-1, frame),
                                              want.reshape(-1, frame), strict=True)):
                assert np.array_equal(a, w) or np.array_equal(a, b), (step, k)
        before = g
    return valid_steps


def framer(shape: tuple[int, ...], size: int, step: int, prefill: bool) -> bytes:
    frames = shape[-1] // step
    return build([T(shape, "int16"), T((*shape[:-1], frames, size), "int16"), T((), "bool")],
                 [Op("CUSTOM:SignalFramer", [0], [1, 2],
                     custom_options=fx(frame_size=size, frame_step=step, prefill=prefill))], [0], [1])


@pytest.mark.parametrize("shape,size,step,prefill", [
    ((160,), 400, 160, True), ((2, 6), 5, 2, False), ((9,), 7, 3, True), ((8,), 3, 4, False),
])
def test_framer(shape, size, step, prefill):
    model, batches = framer(shape, size, step, prefill), stream(np.random.default_rng(size), shape)
    if prefill:  # every frame is ready from the first invoke on
        check_stream(model, batches)
    assert check_valid_stream(model, batches, 2, size) >= STEPS - 2


def stacker(channels: int, left: int, right: int, step: int) -> bytes:
    return build([T((channels,), "int16"), T((channels * (left + right + 1),), "int16"), T((), "bool")],
                 [Op("CUSTOM:SignalStacker", [0], [1, 2],
                     custom_options=fx(num_channels=channels, stacker_left_context=left,
                                       stacker_right_context=right, stacker_step=step))], [0], [1])


@pytest.mark.parametrize("channels,left,right,step", [(10, 1, 0, 2), (4, 2, 3, 3), (2, 0, 2, 3)])
def test_stacker(channels, left, right, step):
    valid = check_valid_stream(stacker(channels, left, right, step), stream(np.random.default_rng(channels),
                                                                              (channels,)), 2,
                               channels * (left + right + 1))
    assert valid >= (STEPS - right - 1) // step


def delay(shape: tuple[int, ...], length: int) -> bytes:
    return build([T(shape, "int16"), T(shape, "int16")],
                 [Op("CUSTOM:SignalDelay", [0], [1], custom_options=fx(delay_length=length))], [0], [1])


@pytest.mark.parametrize("shape,length", [((10,), 3), ((3, 4), 11)])
def test_delay(shape, length):
    check_stream(delay(shape, length), stream(np.random.default_rng(length), shape))


def overlap_add(shape: tuple[int, ...], step: int) -> bytes:
    out = (*shape[:-2], shape[-2] * step)
    return build([T(shape, "int16"), T(out, "int16")],
                 [Op("CUSTOM:SignalOverlapAdd", [0], [1], custom_options=fx(T=7, frame_step=step))], [0], [1])


@pytest.mark.parametrize("shape,step", [((1, 512), 160), ((2, 3, 6), 2)])
def test_overlap_add(shape, step):
    check_stream(overlap_add(shape, step), stream(np.random.default_rng(step), shape))


def test_reset_state_clears_the_operators_state():
    """reset_state() (and init) zero every operator's own state: TFLite Micro's state after a reset."""
    model = build([T((4,), "int16"), T((4,), "int16"), T((2, 4), "int16"), T((12,), "int16"), T((), "bool")],
                  [Op("CUSTOM:SignalDelay", [0], [1], custom_options=fx(delay_length=6)),
                   Op("CUSTOM:SignalFramer", [1], [2, 4], custom_options=fx(frame_size=4, frame_step=2, prefill=True)),
                   Op("CUSTOM:SignalStacker", [1], [3, 4], custom_options=fx(
                       num_channels=4, stacker_left_context=1, stacker_right_context=1, stacker_step=1))],
                  [0], [2, 3])
    cm = compile_graph(parse_model(model))
    own = [v for v in cm.state.variables if v.private]
    assert [v.nbytes for v in own] == [12, 4 + 2 * 4, 8 + 2 * 12] and cm.state.bytes == 12 + 12 + 32
    source = generate(cm, "m").files["m.c"].decode()
    reset = source[source.index("void m_reset_state"):source.index("void m_init")]
    for v in own:
        assert f"m_state + {v.offset}, 0u);" in reset
    assert f"(int32_t *)(void *)&m_state[{cm.state.private[1]}]" in source


@pytest.mark.parametrize("op,ins,outs,opts,why", [
    ("SignalFramer", [(8,)], [(2, 5), ()], dict(frame_size=5, frame_step=3, prefill=True), "whole number"),
    ("SignalFramer", [(8,)], [(2, 3), ()], dict(frame_size=3, frame_step=4, prefill=True), "larger than"),
    ("SignalFramer", [(6,)], [(2, 3), ()], dict(frame_size=3, frame_step=4, prefill=False), "whole number"),
    ("SignalFramer", [(8,)], [(4, 6), ()], dict(frame_size=5, frame_step=2, prefill=True), "is not"),
    ("SignalFramer", [(8,)], [(4, 5), ()], dict(frame_size=5, frame_step=2), "prefill"),
    ("SignalStacker", [(3,)], [(6,), ()], dict(num_channels=3, stacker_left_context=1, stacker_right_context=1,
                                               stacker_step=1), "output has 6"),
    ("SignalStacker", [(3,)], [(6,), ()], dict(num_channels=3, stacker_left_context=1, stacker_right_context=0,
                                               stacker_step=3), "more than"),
    ("SignalDelay", [(8,)], [(8,)], dict(delay_length=-1), "out of the supported range"),
    ("SignalDelay", [(8,)], [(8,)], dict(T=7, delay_length=3), "by position"),
    ("SignalOverlapAdd", [(2, 8)], [(6,)], dict(T=0, frame_step=3), "float32 OverlapAdd"),
    ("SignalOverlapAdd", [(2, 4)], [(10,)], dict(T=7, frame_step=5), "larger than frame_size"),
    ("SignalOverlapAdd", [(2, 8)], [(8,)], dict(T=7, frame_step=3), "does not hold"),
])
def test_refusals(op, ins, outs, opts, why):
    shapes = [*ins, *outs]
    tensors = [T(s, "bool" if s == () else "int16") for s in shapes]
    model = build(tensors, [Op(f"CUSTOM:{op}", list(range(len(ins))), list(range(len(ins), len(shapes))),
                               custom_options=fx(**opts))], list(range(len(ins))), [len(ins)])
    with pytest.raises(UnsupportedModelError, match=why):
        compile_graph(parse_model(model))


def irfft(dtype: str, fft_length: int, frames: int, bins: int) -> bytes:
    shape = (frames, 2 * bins) if frames > 1 else (2 * bins,)
    out = (frames, fft_length) if frames > 1 else (fft_length,)
    kind = {"int16": 7, "int32": 2}[dtype]
    return build([T(shape, dtype), T(out, dtype)],
                 [Op("CUSTOM:SignalIrfft", [0], [1], custom_options=fx(T=kind, fft_length=fft_length))], [0], [1])


def spectra(rng: np.random.Generator, dtype: str, shape: tuple[int, ...], count: int) -> list[list[np.ndarray]]:
    """Full-range values, values of a few bits, and the extremes of the type (they wrap in kiss_fft)."""
    info = np.iinfo(dtype)
    out = []
    for i in range(count):
        x = rng.integers(info.min, info.max, shape, endpoint=True, dtype=np.int64)
        if i % 3 == 1:
            x >>= int(rng.integers(4, info.bits - 4))
        elif i % 3 == 2:
            x.reshape(-1)[rng.integers(0, x.size, 4)] = [info.min, info.max, info.min, info.max]
        out.append([x.astype(dtype)])
    return out


@pytest.mark.parametrize("dtype,fft_length,frames,bins", [
    ("int16", 512, 1, 257), ("int16", 8, 3, 5), ("int32", 512, 1, 257), ("int32", 4, 2, 20),
])
def test_irfft(dtype, fft_length, frames, bins):
    model = irfft(dtype, fft_length, frames, bins)
    shape = (frames, 2 * bins) if frames > 1 else (2 * bins,)
    r = validate_compiled(compile_graph(parse_model(model)), model,
                          spectra(np.random.default_rng(fft_length), dtype, shape, 6))
    assert r.bit_exact == 6, r.to_json()


@pytest.mark.parametrize("fft_length,frame,frames", [(512, 480, 1), (8, 8, 3)])
def test_rfft_int32(fft_length, frame, frames):
    """The forward int32 RFFT (kiss_fftr, FIXED_POINT 32) built from the same 32-bit butterflies."""
    shape = (frames, frame) if frames > 1 else (frame,)
    out = (frames, fft_length + 2) if frames > 1 else (fft_length + 2,)
    model = build([T(shape, "int32"), T(out, "int32")],
                  [Op("CUSTOM:SignalRfft", [0], [1], custom_options=fx(T=2, fft_length=fft_length))], [0], [1])
    r = validate_compiled(compile_graph(parse_model(model)), model,
                          spectra(np.random.default_rng(fft_length), "int32", shape, 6))
    assert r.bit_exact == 6, r.to_json()


@pytest.mark.parametrize("kind,fft_length,bins,out,why", [
    (1, 16, 9, 16, "float32 IRFFT"), (9, 16, 9, 16, "not an IRFFT type"), (7, 24, 13, 24, "power of two"),
    (7, 16, 8, 16, "at least"), (7, 16, 9, 18, "fft_length 16 samples"),
])
def test_irfft_refusals(kind, fft_length, bins, out, why):
    model = build([T((2 * bins,), "int16"), T((out,), "int16")],
                  [Op("CUSTOM:SignalIrfft", [0], [1], custom_options=fx(T=kind, fft_length=fft_length))], [0], [1])
    with pytest.raises(UnsupportedModelError, match=why):
        compile_graph(parse_model(model))


def resynthesis(hop: int = 32, delay_length: int = 3) -> bytes:
    """An STFT round trip through every stateful signal operator: framer (2 x hop, prefilled), RFFT,
    IRFFT, overlap-add, delay, stacker (one frame of left context): int16 samples in, two hops out."""
    n = 2 * hop
    tensors = [T((hop,), "int16"), T((1, n), "int16"), T((), "bool"), T((1, n + 2), "int16"),   # 0-3
               T((1, n), "int16"), T((hop,), "int16"), T((hop,), "int16"), T((n,), "int16"),   # 4-7
               T((), "bool")]                                                                   # 8
    ops = [Op("CUSTOM:SignalFramer", [0], [1, 2], custom_options=fx(frame_size=n, frame_step=hop, prefill=True)),
           Op("CUSTOM:SignalRfft", [1], [3], custom_options=fx(T=7, fft_length=n)),
           Op("CUSTOM:SignalIrfft", [3], [4], custom_options=fx(T=7, fft_length=n)),
           Op("CUSTOM:SignalOverlapAdd", [4], [5], custom_options=fx(T=7, frame_step=hop)),
           Op("CUSTOM:SignalDelay", [5], [6], custom_options=fx(delay_length=delay_length)),
           Op("CUSTOM:SignalStacker", [6], [7, 8], custom_options=fx(
               num_channels=hop, stacker_left_context=1, stacker_right_context=0, stacker_step=1))]
    return build(tensors, ops, [0], [7])


def test_resynthesis_chain():
    """Five stateful operators in a row, each step of a 12-step stream bit-exact."""
    check_stream(resynthesis(), stream(np.random.default_rng(7), (32,)))


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("arm-none-eabi-objdump")
                         and shutil.which("qemu-system-arm") and shutil.which("ninja")),
                    reason="needs arm-none-eabi-gcc, arm-none-eabi-objdump, ninja and qemu-system-arm")
def test_resynthesis_stream_on_mps2_an386(tmp_path: Path) -> None:
    """The chain on emulated Cortex-M4 through `mcuforge test`: a 12-step stream (reset_state at its
    start) bit-exact with TFLite Micro run on the same stream; the stream kernels call no float helper."""
    model = tmp_path / "resynthesis.tflite"
    model.write_bytes(resynthesis())
    project = tmp_path / "p"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", *args], capture_output=True,
                              text=True, timeout=1800)

    for cmd in (("new", str(project), "--model", str(model), "--board", "mps2_an386"), ("build", str(project))):
        proc = cli(*cmd)
        assert proc.returncode == 0, proc.stderr
    proc = cli("test", str(project), "--random", str(STEPS), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["passed"] == STEPS and report["stream"] is True
    assert all(v["max_abs_diff"] == 0 for v in report["vectors"])
    elf = next(project.glob("build/*.elf"))
    dis = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True, text=True, check=True).stdout
    bodies = re.findall(r"^[0-9a-f]+ <(mcf_signal_(?:framer|stacker|delay|overlap_add_s16|irfft_s16))>:\n(.*?)\n\n",
                        dis, re.S | re.M)
    assert len(bodies) == 5, [name for name, _ in bodies]
    for name, body in bodies:
        assert not re.findall(r"\bbl\s+[0-9a-f]+ <(__aeabi_[fd]\w*)>", body), name
