"""SAMPLES on the device side, run on this host: a generated project (gesture model, replay source)
compiled with gcc and the native port (stdin/stdout) speaks the protocol exactly as the firmware
does, so every rule of docs/protocol.md for SAMPLES is checked frame by frame: the order of the
checks and their error codes, the ACK value, the echo before the run, the answer to a repeat (the
same RESULT stream, the model not run again), END, and BAD_TYPE from firmware without a sensor."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from sensor_helpers import GESTURE, gesture_recording

from mcuforge.generator.references import Reference
from mcuforge.generator.scaffold import load_config, new_project
from mcuforge.generator.sensor.reference import input_tensors
from mcuforge.hil.protocol import (
    Ack,
    ErrorCode,
    ErrorReport,
    FrameDecoder,
    Hello,
    Message,
    MsgType,
    Result,
    ResultEnd,
    SampleFlags,
    Samples,
    TensorChunk,
    TensorKind,
    encode_frame,
)

REPO = Path(__file__).resolve().parents[1]
CC = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
pytestmark = pytest.mark.skipif(CC is None, reason="needs a host C compiler (apt-get install gcc)")

START, END, ECHO = SampleFlags.START, SampleFlags.END, SampleFlags.ECHO


def host_firmware(root: Path) -> Path:
    """The project's main.c, generated folder and the native port, built for this host."""
    gen = root / "mcuforge_model"
    exe = root / "host_firmware"
    sources = [*sorted((gen / "app").glob("*.c")), *sorted((gen / "model").glob("*.c")),
               REPO / "runtime" / "ports" / "native" / "mcf_port_native.c", root / "src" / "main.c"]
    subprocess.run([CC, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-I", gen / "app", "-I", gen / "model",
                    "-I", gen / "include", *sources, "-o", exe, "-lm"], check=True, capture_output=True)
    return exe


@pytest.fixture(scope="module")
def sensor_fw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fw") / "g"
    new_project(root, GESTURE, "mps2_an386", sensor="replay:accelerometer")
    return host_firmware(root)


def talk(exe: Path, requests: list[tuple[Message, int]]) -> list[Message]:
    """Sends the requests (message, seq) and returns every frame the device sent after its boot HELLO."""
    stdin = b"".join(encode_frame(m, seq, leading_delimiter=True) for m, seq in requests)
    out = subprocess.run([exe], input=stdin, capture_output=True, timeout=60, check=True).stdout
    start = out.index(b"\x00") + 1  # the self-test line, then a lone delimiter
    frames = [f for f in FrameDecoder().feed(out[start:]) if isinstance(f, Message)]
    assert isinstance(frames[0], Hello) and frames[0].is_boot
    return [f for f in frames[1:] if f.TYPE != MsgType.TENSOR_INFO]


def samples(x: np.ndarray, first: int, flags: SampleFlags) -> Samples:
    return Samples(flags=flags, first=first, data=np.ascontiguousarray(x, "<f4").tobytes())


def test_samples_rules_frame_by_frame(sensor_fw: Path) -> None:
    x, _ = gesture_recording(2)  # 64 samples
    want = input_tensors(_pipeline(sensor_fw.parent), x)
    frames = talk(sensor_fw, [
        (samples(x[:4], 0, ECHO), 1),                   # no stream open
        (samples(x[:4], 3, START), 2),                  # START needs first 0
        (Samples(flags=START, first=0, data=b"\x00" * 8), 3),  # 2 floats: not whole samples of 3
        (samples(x[:20], 0, START | ECHO), 4),          # ACK 0: no window yet
        (samples(x[25:30], 25, ECHO), 5),               # gap: expected 20
        (samples(x[20:32], 20, ECHO), 6),               # completes window 0
        (samples(x[20:32], 20, ECHO), 6),               # a repeat: same answer, no echo, no new run
        (samples(x[32:48], 32, ECHO | END), 7),         # completes window 1, ends the stream
        (samples(x[48:50], 48, ECHO), 8),               # stream ended
    ])
    it = iter(frames)

    def error(seq: int, code: ErrorCode, text: str) -> None:
        f = next(it)
        assert isinstance(f, ErrorReport) and (f.req_seq, f.req_type, f.code) == (seq, MsgType.SAMPLES, code), f
        assert text in f.text

    def ack(seq: int, value: int) -> None:
        f = next(it)
        assert isinstance(f, Ack) and (f.req_seq, f.req_type, f.value) == (seq, MsgType.SAMPLES, value), f

    def window(seq: int, k: int, echo: bool) -> Result:
        data = bytearray()
        f = next(it)
        while isinstance(f, TensorChunk) and f.kind == TensorKind.INPUT:
            assert echo
            data += f.data
            f = next(it)
        if echo:
            assert np.array_equal(np.frombuffer(bytes(data), "<f4").view(np.uint32),
                                  want[k].reshape(-1).view(np.uint32))
        assert isinstance(f, Result) and f.req_seq == seq
        out = bytearray()
        f2 = next(it)
        while isinstance(f2, TensorChunk):
            out += f2.data
            f2 = next(it)
        assert isinstance(f2, ResultEnd) and f2.req_seq == seq
        ref = Reference(GESTURE.read_bytes()).run([want[k]], 1)[0]
        assert bytes(out) == ref.tobytes()
        return f

    error(1, ErrorCode.BAD_STATE, "no stream open")
    error(2, ErrorCode.BAD_RANGE, "START needs first = 0")
    error(3, ErrorCode.BAD_LENGTH, "whole samples")
    ack(4, 0)
    error(5, ErrorCode.GAP, "expected first = 20")
    ack(6, 1)
    first = window(6, 0, echo=True)
    ack(6, 1)
    again = window(6, 0, echo=False)
    assert again.elapsed == first.elapsed  # replayed from memory: the model did not run again
    ack(7, 1)
    window(7, 1, echo=True)
    error(8, ErrorCode.BAD_STATE, "no stream open")
    assert next(it, None) is None


def _pipeline(root: Path):
    from mcuforge.generator.boards import load_board
    from mcuforge.generator.frontends import read_model
    from mcuforge.generator.sensor.pipeline import resolve

    cfg = load_config(root)
    assert cfg.sensor is not None
    return resolve(cfg.sensor, read_model(root / cfg.model), load_board(cfg.board), cfg.framework)


def test_chunks_completing_several_windows(sensor_fw: Path) -> None:
    """The device accepts any split: a message completing two windows gets two RESULT streams."""
    x, _ = gesture_recording(3)  # windows end at samples 32, 48, 64, …
    frames = talk(sensor_fw, [(samples(x[:20], 0, START), 1), (samples(x[20:40], 20, ECHO), 2),
                              (samples(x[40:47], 40, ECHO), 3), (samples(x[47:67], 47, ECHO), 4)])
    acks = [f.value for f in frames if isinstance(f, Ack)]
    assert acks == [0, 1, 0, 2]
    ends = [f.req_seq for f in frames if isinstance(f, ResultEnd)]
    assert ends == [2, 4, 4]
    echoed = [f for f in frames if isinstance(f, TensorChunk) and f.kind == TensorKind.INPUT]
    assert sum(len(f.data) for f in echoed) == 3 * 96 * 4


def test_firmware_without_a_sensor_refuses_samples(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    new_project(root, GESTURE, "mps2_an386")
    frames = talk(host_firmware(root), [(Samples(flags=START, first=0, data=struct.pack("<3f", 1, 2, 3)), 9)])
    assert isinstance(frames[0], ErrorReport) and frames[0].code == ErrorCode.BAD_TYPE and frames[0].req_seq == 9
