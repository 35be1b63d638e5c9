"""Device side of the serial protocol (runtime/protocol/mcf_proto.c), run on the host.

The C device is built with the host gcc (AddressSanitizer + UBSan when they work here) together
with tests/c/proto_harness.c, a fake two-input, two-output model whose invoke() does
out[i] = in[i] + 1. Host bytes go in on stdin, device bytes come out on stdout, and both ends are
judged with the Python codec:

* end to end: python encodes -> C device -> python decodes, outputs equal inputs + 1;
* every refusal path (bad CRC, bad lengths, indices, ranges, states) answered as documented;
* fuzz: many thousands of random and half-valid frames; the device must never crash, never touch
  memory around its tensors, never emit a broken frame, and must answer exactly as ``Oracle``, a
  small Python model of docs/protocol.md, says it should.
"""

from __future__ import annotations

import os
import random
import shutil
import struct
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import pytest
from cobs import cobs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcuforge.hil import protocol as p

M = TypeVar("M", bound=p.Message)

ROOT = Path(__file__).resolve().parents[1]
PROTO_C = ROOT / "runtime" / "protocol" / "mcf_proto.c"
HARNESS_C = ROOT / "tests" / "c" / "proto_harness.c"
INCLUDES = ["-I", str(ROOT / "runtime" / "include"), "-I", str(ROOT / "runtime" / "protocol")]
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]

GCC = shutil.which("gcc")
ARM_GCC = shutil.which("arm-none-eabi-gcc")
needs_gcc = pytest.mark.skipif(GCC is None, reason="host gcc not found: the C device side cannot be built")

# The fake model in proto_harness.c.
IN_BYTES = (300, 7)
FAKE_OPS = 70
FAKE_ALIAS_OP = 5
GUARD_BYTE = 0xA5
SHA = bytes.fromhex("00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF")


# ----------------------------------------------------------------------------- building


def _sanitizers_work(tmp: Path) -> bool:
    src = tmp / "probe.c"
    src.write_text("int main(void) { return 0; }\n")
    exe = tmp / "probe"
    build = subprocess.run([GCC or "gcc", *SANITIZE, str(src), "-o", str(exe)], capture_output=True)
    return build.returncode == 0 and subprocess.run([str(exe)], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def build_harness(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Path]:
    """Builds (once per MCF_PROTO_MAX_PAYLOAD) the harness and returns its path."""
    if GCC is None:
        pytest.skip("host gcc not found: the C device side cannot be built")
    tmp = tmp_path_factory.mktemp("proto_harness")
    sanitize = SANITIZE if _sanitizers_work(tmp) else []
    built: dict[int, Path] = {}

    def build(max_payload: int) -> Path:
        if max_payload not in built:
            exe = tmp / f"proto_harness_{max_payload}"
            cmd = [
                GCC or "gcc",
                *STRICT,
                "-g",
                "-O1",
                *sanitize,
                f"-DMCF_PROTO_MAX_PAYLOAD={max_payload}",
                *INCLUDES,
                str(PROTO_C),
                str(HARNESS_C),
                "-o",
                str(exe),
            ]
            res = subprocess.run(cmd, capture_output=True, text=True)
            assert res.returncode == 0, f"'{' '.join(cmd)}' exited with {res.returncode}:\n{res.stderr}"
            built[max_payload] = exe
        return built[max_payload]

    return build


@dataclass
class DeviceRun:
    messages: list[p.Message]
    stderr: str

    def of(self, cls: type[M]) -> list[M]:
        return [m for m in self.messages if isinstance(m, cls)]


def run_device(exe: Path, host_bytes: bytes, *, seed: int = 1, ticks: bool = True, profile: bool = True) -> DeviceRun:
    args = [str(exe), "run", str(seed)] + ([] if ticks else ["noticks"]) + ([] if profile else ["noprofile"])
    env = {
        **os.environ,
        "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
        "UBSAN_OPTIONS": "print_stacktrace=1",
    }
    res = subprocess.run(args, input=host_bytes, capture_output=True, env=env, timeout=120)
    stderr = res.stderr.decode(errors="replace")
    assert res.returncode == 0, f"device harness exited with {res.returncode}:\n{stderr[-3000:]}"
    assert "Sanitizer" not in stderr and "runtime error" not in stderr, stderr[-3000:]
    decoder = p.FrameDecoder()
    out = decoder.feed(res.stdout)
    bad = [x for x in out if isinstance(x, p.FrameError)]
    assert not bad, f"the device sent broken frames: {bad[:3]}"
    assert decoder.pending == 0, "the device left a frame unterminated"
    return DeviceRun([x for x in out if isinstance(x, p.Message)], stderr)


class Host:
    """Numbers frames like a real host would and collects the bytes to send."""

    def __init__(self, max_payload: int = p.DEFAULT_MAX_PAYLOAD) -> None:
        self.max_payload = max_payload
        self.seq = 0
        self.out = bytearray()

    def send(self, msg: p.Message, *, seq: int | None = None) -> int:
        if seq is None:
            self.seq = (self.seq + 1) % 256
            seq = self.seq
        self.out += p.encode_frame(msg, seq=seq, max_payload=self.max_payload)
        return seq

    def load(self, *inputs: bytes, flags: p.BeginFlags = p.BeginFlags.NONE) -> None:
        self.send(p.InferBegin(flags=flags))
        for i, data in enumerate(inputs):
            for chunk in p.input_chunks(i, data, self.max_payload):
                self.send(chunk)


def plus_one(data: bytes) -> bytes:
    return bytes((b + 1) % 256 for b in data)


def outputs_of(run: DeviceRun, req_seq: int) -> tuple[p.Result, list[bytes], p.ResultEnd]:
    """RESULT, the assembled outputs and RESULT_END for one INFER_RUN."""
    msgs = run.messages
    start = next(i for i, m in enumerate(msgs) if isinstance(m, p.Result) and m.req_seq == req_seq)
    result = msgs[start]
    assert isinstance(result, p.Result)
    asm = [p.TensorAssembler(n) for n in IN_BYTES]
    for chunks, m in enumerate(msgs[start + 1 :]):
        if isinstance(m, p.ResultEnd):
            assert m.req_seq == req_seq and m.chunks == chunks and m.total_bytes == sum(IN_BYTES)
            assert all(a.complete for a in asm)
            return result, [bytes(a.data) for a in asm], m
        assert isinstance(m, p.TensorChunk) and m.kind == p.TensorKind.OUTPUT, m
        asm[m.index].add(m)
    raise AssertionError(f"no RESULT_END for seq {req_seq}")


# ----------------------------------------------------------------------------- strictness and size


@needs_gcc
@pytest.mark.parametrize("max_payload", [128, 256, 4096])
def test_device_code_compiles_warning_free_with_host_gcc(tmp_path: Path, max_payload: int) -> None:
    cmd = [
        GCC or "gcc",
        *STRICT,
        "-Wconversion",
        "-Wshadow",
        "-Wcast-qual",
        "-O2",
        f"-DMCF_PROTO_MAX_PAYLOAD={max_payload}",
        *INCLUDES,
        "-c",
        str(PROTO_C),
        "-o",
        str(tmp_path / "mcf_proto.o"),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


@needs_gcc
@pytest.mark.parametrize("max_payload", [64, 5000])
def test_out_of_range_max_payload_is_a_compile_error(tmp_path: Path, max_payload: int) -> None:
    cmd = [
        GCC or "gcc",
        *STRICT,
        f"-DMCF_PROTO_MAX_PAYLOAD={max_payload}",
        *INCLUDES,
        "-c",
        str(PROTO_C),
        "-o",
        str(tmp_path / "x.o"),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode != 0 and "MCF_PROTO_MAX_PAYLOAD must be within" in res.stderr


@pytest.mark.skipif(ARM_GCC is None, reason="arm-none-eabi-gcc not found")
def test_device_code_is_small_on_cortex_m4(tmp_path: Path) -> None:
    obj = tmp_path / "mcf_proto.o"
    cmd = [
        ARM_GCC or "arm-none-eabi-gcc",
        "-mcpu=cortex-m4",
        "-mthumb",
        "-Os",
        *STRICT,
        *INCLUDES,
        "-c",
        str(PROTO_C),
        "-o",
        str(obj),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    size_tool = shutil.which("arm-none-eabi-size")
    if size_tool is None:
        return
    text, data, bss = map(
        int,
        subprocess.run([size_tool, str(obj)], capture_output=True, text=True, check=True)
        .stdout.splitlines()[1]
        .split()[:3],
    )
    assert data == 0 and bss == 0, "all protocol state must live in the caller's mcf_proto object"
    assert text < 4096, f"mcf_proto.c grew to {text} bytes of code"


@needs_gcc
def test_selftest(build_harness: Callable[[int], Path]) -> None:
    res = subprocess.run([str(build_harness(256)), "selftest"], capture_output=True, text=True)
    assert res.returncode == 0 and "selftest ok" in res.stderr, res.stderr


# ----------------------------------------------------------------------------- end to end


@needs_gcc
@pytest.mark.parametrize("max_payload", [128, 256, 1024])
def test_session_end_to_end(build_harness: Callable[[int], Path], max_payload: int) -> None:
    rng = random.Random(max_payload)
    in0, in1 = rng.randbytes(IN_BYTES[0]), rng.randbytes(IN_BYTES[1])
    host = Host(max_payload)
    hello_seq = host.send(p.HelloRequest())
    host.load(in0, in1)
    run_seq = host.send(p.InferRun())
    read_seq = host.send(p.ReadTensor(kind=p.TensorKind.INPUT, index=0, offset=17, length=0))
    run = run_device(build_harness(max_payload), bytes(host.out))

    # boot HELLO + TENSOR_INFO, then the requested ones
    hellos = run.of(p.Hello)
    assert [h.is_boot for h in hellos] == [True, False]
    boot, answer = hellos
    assert run.messages[0] == boot and boot.seq == 0
    assert isinstance(answer, p.Hello) and answer.req_seq == hello_seq
    k = run.messages.index(answer)
    infos = [m for m in run.messages[k + 1 : k + 5] if isinstance(m, p.TensorInfo)]
    info = p.DeviceInfo.from_messages(answer, infos)
    assert answer.version == p.PROTOCOL_VERSION and answer.max_payload == max_payload
    assert answer.engine == p.ENGINE_AOT and answer.board == "host-harness" and answer.model_name == "fake"
    assert answer.sha256 == SHA and answer.arena_bytes == 4096 and answer.weights_bytes == 1234
    assert answer.tick_unit == p.TickUnit.INSTRUCTIONS
    assert [(t.name, t.dtype, t.dims, t.nbytes, t.scale, t.zero_point) for t in info.inputs] == [
        ("in0", p.DType.INT8, (1, 300), 300, 0.25, -1),
        ("in1", p.DType.UINT8, (7,), 7, 1.0, 128),
    ]
    assert [(t.name, t.scale, t.zero_point) for t in info.outputs] == [("out0", 0.25, 0), ("out1", 0.5, 3)]

    # every host frame up to INFER_RUN was acknowledged, in order
    acks = run.of(p.Ack)
    assert [a.req_seq for a in acks][: run_seq - hello_seq] == list(range(hello_seq + 1, run_seq + 1))
    result, outs, _ = outputs_of(run, run_seq)
    assert outs == [plus_one(in0), plus_one(in1)]
    assert result.status == 0 and result.num_outputs == 2
    assert result.tick_unit == p.TickUnit.INSTRUCTIONS and result.elapsed == 1000  # across a 32-bit wrap
    assert [m.text for m in run.of(p.Log)] == ["invoke 1"]

    # READ_TENSOR of an input returns what was written, then an ACK with the byte count
    chunks = [m for m in run.messages if isinstance(m, p.TensorChunk) and m.kind == p.TensorKind.INPUT]
    assert b"".join(c.data for c in chunks) == in0[17:] and chunks[0].offset == 17
    assert run.messages[-1] == p.Ack(
        req_seq=read_seq, req_type=p.MsgType.READ_TENSOR, value=300 - 17, seq=run.messages[-1].seq
    )
    # device frame numbers count up without gaps
    assert [m.seq for m in run.messages] == [i % 256 for i in range(len(run.messages))]
    assert "frames_bad=0" in run.stderr


@needs_gcc
def test_cobs_block_boundaries_in_device_frames(build_harness: Callable[[int], Path]) -> None:
    """READ_TENSOR replies whose last zero-free run is 250..262 bytes long: the C encoder's
    254-byte blocks, including one ending exactly at the frame's end, must decode."""
    rng = random.Random(7)
    in0 = bytes(rng.randint(1, 255) for _ in range(IN_BYTES[0]))
    in1 = b"\x01" * IN_BYTES[1]
    host = Host(1024)
    host.load(in0, in1)
    expected = []
    for length in range(240, 265):
        offset = rng.randint(1, 30)
        host.send(p.ReadTensor(kind=p.TensorKind.INPUT, index=0, offset=offset, length=length))
        expected.append(in0[offset : offset + length])
    run = run_device(build_harness(1024), bytes(host.out))
    got = [m.data for m in run.of(p.TensorChunk)]
    assert got == expected


@needs_gcc
def test_retried_run_replays_without_invoking_again(build_harness: Callable[[int], Path]) -> None:
    host = Host()
    in0, in1 = bytes(range(256)) + bytes(44), b"\xff" * 7
    host.load(in0, in1)
    run_seq = host.send(p.InferRun())
    host.send(p.InferRun(), seq=run_seq)  # the host lost the replies and retries
    other = host.send(p.InferRun())  # a new run needs new inputs
    run = run_device(build_harness(256), bytes(host.out))
    assert [m.text for m in run.of(p.Log)] == ["invoke 1"]
    run_acks = [a for a in run.of(p.Ack) if a.req_type == p.MsgType.INFER_RUN]
    assert [(a.req_seq, a.value) for a in run_acks] == [(run_seq, 0), (run_seq, 1)]
    results = run.of(p.Result)
    assert len(results) == 2 and replace(results[0], seq=0) == replace(results[1], seq=0)
    assert outputs_of(run, run_seq)[1] == [plus_one(in0), plus_one(in1)]
    assert run.messages[-1] == p.ErrorReport(
        req_seq=other,
        req_type=p.MsgType.INFER_RUN,
        code=p.ErrorCode.BAD_STATE,
        text="no INFER_BEGIN",
        seq=run.messages[-1].seq,
    )


@needs_gcc
def test_device_without_tick_source(build_harness: Callable[[int], Path]) -> None:
    host = Host()
    host.load(bytes(300), bytes(7))
    seq = host.send(p.InferRun())
    run = run_device(build_harness(256), bytes(host.out), ticks=False)
    assert run.of(p.Hello)[0].tick_unit == p.TickUnit.NONE
    result = outputs_of(run, seq)[0]
    assert result.tick_unit == p.TickUnit.NONE and result.elapsed == 0


@needs_gcc
def test_inputs_preset_flag_skips_the_completeness_check(build_harness: Callable[[int], Path]) -> None:
    host = Host()
    host.load(flags=p.BeginFlags.INPUTS_PRESET)
    seq = host.send(p.InferRun())
    run = run_device(build_harness(256), bytes(host.out))
    # the harness fills tensors with guard bytes at start-up
    assert outputs_of(run, seq)[1] == [plus_one(bytes([GUARD_BYTE]) * n) for n in IN_BYTES]


@needs_gcc
@pytest.mark.parametrize("max_payload", [128, 256])
def test_profile_of_the_last_run(build_harness: Callable[[int], Path], max_payload: int) -> None:
    host = Host(max_payload)
    before = host.send(p.ProfileRequest())  # nothing ran yet: every operator 0
    host.load(bytes(300), bytes(7))
    host.send(p.InferRun())
    whole = host.send(p.ProfileRequest())
    part = host.send(p.ProfileRequest(first=29, count=3))
    again = host.send(p.ProfileRequest(first=29, count=3), seq=part)  # a retry: answered again
    run = run_device(build_harness(max_payload), bytes(host.out))
    assert run.of(p.Hello)[0].has_profile
    frames = run.of(p.ProfileData)
    per_frame = (max_payload - 6) // 4

    def collected(seq: int) -> list[int]:
        got = [f for f in frames if f.req_seq == seq]
        assert all(f.num_ops == FAKE_OPS and f.tick_unit == p.TickUnit.INSTRUCTIONS for f in got)
        assert all(len(f.ticks) <= per_frame for f in got)
        assert [f.first for f in got] == sorted(f.first for f in got)
        return [t for f in got for t in f.ticks]

    assert collected(before) == [0] * FAKE_OPS
    want = [0 if i == FAKE_ALIAS_OP else 7 * i + 1 for i in range(FAKE_OPS)]  # across a 32-bit wrap
    assert collected(whole) == want
    assert collected(part) == want[29:32] * 2 and again == part
    acks = [a for a in run.of(p.Ack) if a.req_type == p.MsgType.PROFILE_REQ]
    assert [(a.req_seq, a.value) for a in acks] == [(before, FAKE_OPS), (whole, FAKE_OPS), (part, 3), (part, 3)]


@needs_gcc
def test_profile_refusals(build_harness: Callable[[int], Path]) -> None:
    host = Host()
    host.send(p.ProfileRequest(first=FAKE_OPS + 1))
    host.send(p.ProfileRequest(first=FAKE_OPS, count=1))
    host.send(p.ProfileRequest(first=FAKE_OPS))  # nothing left: no frame, ACK 0
    run = run_device(build_harness(256), bytes(host.out))
    codes = [m.code for m in run.of(p.ErrorReport)]
    assert codes == [p.ErrorCode.BAD_RANGE, p.ErrorCode.BAD_RANGE]
    assert not run.of(p.ProfileData) and run.messages[-1].value == 0  # type: ignore[attr-defined]

    host = Host()
    seq = host.send(p.ProfileRequest())
    run = run_device(build_harness(256), bytes(host.out), profile=False)
    assert not run.of(p.Hello)[0].has_profile
    (reply,) = _replies(run)
    assert isinstance(reply, p.ErrorReport) and reply.code == p.ErrorCode.NO_PROFILE and reply.req_seq == seq
    assert "MCF_PROFILE" in reply.text


def _replies(run: DeviceRun) -> list[p.Message]:
    """Device messages after the boot HELLO and its TENSOR_INFO frames."""
    return run.messages[5:]


@needs_gcc
@pytest.mark.parametrize(
    ("build_requests", "code"),
    [
        (lambda h: h.send(p.InputChunk(index=0, offset=0, data=b"x")), p.ErrorCode.BAD_STATE),
        (lambda h: (h.load(), h.send(p.InputChunk(index=2, offset=0, data=b"x"))), p.ErrorCode.BAD_INDEX),
        (lambda h: (h.load(), h.send(p.InputChunk(index=1, offset=5, data=b"xyz"))), p.ErrorCode.BAD_RANGE),
        (
            lambda h: (h.load(), h.send(p.InputChunk(index=1, offset=2**32 - 1, data=b"xy"))),
            p.ErrorCode.BAD_RANGE,
        ),
        (lambda h: (h.load(), h.send(p.InputChunk(index=0, offset=10, data=b"x"))), p.ErrorCode.GAP),
        (lambda h: (h.load(bytes(300)), h.send(p.InferRun())), p.ErrorCode.INPUT_INCOMPLETE),
        (lambda h: (h.load(bytes(300), bytes(6)), h.send(p.InferRun())), p.ErrorCode.INPUT_INCOMPLETE),
        (lambda h: h.send(p.ReadTensor(kind=p.TensorKind.OUTPUT, index=2)), p.ErrorCode.BAD_INDEX),
        (lambda h: h.send(p.ReadTensor(kind=p.TensorKind.OUTPUT, index=1, offset=8)), p.ErrorCode.BAD_RANGE),
        (
            lambda h: h.send(p.ReadTensor(kind=p.TensorKind.INPUT, index=1, offset=3, length=5)),
            p.ErrorCode.BAD_RANGE,
        ),
        (lambda h: h.send(p.Ack(req_seq=0, req_type=0)), p.ErrorCode.BAD_TYPE),
        (lambda h: h.send(p.Log(level=p.LogLevel.INFO, text="hi")), p.ErrorCode.BAD_TYPE),
    ],
)
def test_refusals(
    build_harness: Callable[[int], Path], build_requests: Callable[[Host], object], code: p.ErrorCode
) -> None:
    host = Host()
    build_requests(host)
    run = run_device(build_harness(256), bytes(host.out))
    last = run.messages[-1]
    assert isinstance(last, p.ErrorReport) and last.code == code and last.req_seq == host.seq, last
    assert last.text  # a human-readable reason


@needs_gcc
@pytest.mark.parametrize(
    ("type_id", "payload"),
    [
        (p.MsgType.HELLO_REQ, b"\x00"),
        (p.MsgType.INFER_BEGIN, b""),
        (p.MsgType.INFER_BEGIN, b"\x00\x00"),
        (p.MsgType.INPUT_CHUNK, b"\x00\x00\x00\x00"),
        (p.MsgType.INFER_RUN, b"\x01"),
        (p.MsgType.READ_TENSOR, bytes(9)),
        (p.MsgType.READ_TENSOR, bytes(11)),
        (p.MsgType.PROFILE_REQ, b""),
        (p.MsgType.PROFILE_REQ, bytes(5)),
    ],
)
def test_wrong_payload_lengths(build_harness: Callable[[int], Path], type_id: int, payload: bytes) -> None:
    body = bytes([type_id, 42]) + payload
    frame = cobs.encode(body + p.crc16(body).to_bytes(2, "little")) + b"\x00"
    (reply,) = _replies(run_device(build_harness(256), frame))
    assert isinstance(reply, p.ErrorReport) and reply.code == p.ErrorCode.BAD_LENGTH
    assert (reply.req_seq, reply.req_type) == (42, type_id)


@needs_gcc
def test_kind_out_of_range(build_harness: Callable[[int], Path]) -> None:
    body = bytes([p.MsgType.READ_TENSOR, 9]) + struct.pack("<BBII", 3, 0, 0, 0)
    frame = cobs.encode(body + p.crc16(body).to_bytes(2, "little")) + b"\x00"
    (reply,) = _replies(run_device(build_harness(256), frame))
    assert isinstance(reply, p.ErrorReport) and reply.code == p.ErrorCode.BAD_KIND
    # kind 2 (the state buffer) exists, but the fake model keeps no state
    body = bytes([p.MsgType.READ_TENSOR, 9]) + struct.pack("<BBII", 2, 0, 0, 0)
    frame = cobs.encode(body + p.crc16(body).to_bytes(2, "little")) + b"\x00"
    (reply,) = _replies(run_device(build_harness(256), frame))
    assert isinstance(reply, p.ErrorReport) and reply.code == p.ErrorCode.BAD_INDEX


@needs_gcc
def test_broken_frames_are_nacked_and_the_session_goes_on(build_harness: Callable[[int], Path]) -> None:
    host = Host()
    host.send(p.InferBegin())  # seq 1
    good = p.encode_frame(p.InputChunk(index=1, offset=0, data=b"abcdefg"), seq=2)
    bad_crc = good[:9] + bytes([good[9] ^ 0x01]) + good[10:]  # 'a' -> '`'
    host.out += bad_crc
    host.out += good[:-4] + b"\x00"  # cut short: the last COBS block is incomplete
    host.out += b"\x00\x00\x00"  # empty frames: flushes, ignored
    host.out += b"\x07\x00" + b"\x31\x32\x00"  # runts (line noise): dropped silently
    host.out += b"\x55" * 600 + b"\x00"  # too long
    host.out += good  # the retry
    run = run_device(build_harness(256), bytes(host.out))
    replies = _replies(run)
    assert [type(m).__name__ for m in replies] == ["Ack", "Nack", "Nack", "Nack", "Ack"]
    nacks = run.of(p.Nack)
    assert [n.reason for n in nacks] == [p.NackReason.CRC, p.NackReason.COBS, p.NackReason.TOO_LONG]
    assert all(n.last_seq == 1 for n in nacks)
    assert replies[-1] == p.Ack(req_seq=2, req_type=p.MsgType.INPUT_CHUNK, value=7, seq=replies[-1].seq)
    assert "frames_bad=3 frames_runt=2" in run.stderr


@needs_gcc
def test_nack_before_any_good_frame_has_no_last_seq(build_harness: Callable[[int], Path]) -> None:
    frame = bytearray(p.encode_frame(p.InferRun(seq=3)))
    frame[2] ^= 0x10
    (reply,) = _replies(run_device(build_harness(256), bytes(frame)))
    assert reply == p.Nack(reason=p.NackReason.CRC, last_seq=None, seq=5)


# ----------------------------------------------------------------------------- the oracle


@dataclass
class Oracle:
    """What the device must answer, written from docs/protocol.md, byte-exact but for error texts."""

    max_payload: int
    ticks: bool = True
    profile: bool = True
    rx: bytearray = field(default_factory=bytearray)
    code: int = 0
    left: int = 0
    overflow: bool = False
    loading: bool = False
    begin_flags: int = 0
    marks: list[int] = field(default_factory=lambda: [0, 0])
    run_valid: bool = False
    run_seq: int = 0
    last_seq: int | None = None
    tx_seq: int = 0
    invocations: int = 0
    inputs: list[bytearray] = field(default_factory=lambda: [bytearray([GUARD_BYTE]) * n for n in IN_BYTES])
    outputs: list[bytearray] = field(default_factory=lambda: [bytearray([GUARD_BYTE]) * n for n in IN_BYTES])
    sent: list[p.Message] = field(default_factory=list)

    def emit(self, msg: p.Message) -> None:
        if isinstance(msg, p.ErrorReport):
            msg = replace(msg, text="")
        self.sent.append(replace(msg, seq=self.tx_seq))
        self.tx_seq = (self.tx_seq + 1) % 256

    @property
    def unit(self) -> p.TickUnit:
        return p.TickUnit.INSTRUCTIONS if self.ticks else p.TickUnit.NONE

    def hello(self, flags: p.HelloFlags, req_seq: int) -> None:
        self.emit(
            p.Hello(
                version=1,
                flags=flags | (p.HelloFlags.PROFILE if self.profile else p.HelloFlags.NONE),
                req_seq=req_seq,
                max_payload=self.max_payload,
                num_inputs=2,
                num_outputs=2,
                tick_unit=self.unit,
                tick_hz=0,
                arena_bytes=4096,
                io_bytes=0,
                weights_bytes=1234,
                sha256=SHA,
                engine="mcuforge-aot",
                board="host-harness",
                model_name="fake",
            )
        )
        shapes = [((1, 300), p.DType.INT8), ((7,), p.DType.UINT8)]
        quant = {(0, 0): (0.25, -1), (0, 1): (1.0, 128), (1, 0): (0.25, 0), (1, 1): (0.5, 3)}
        for kind, prefix in ((p.TensorKind.INPUT, "in"), (p.TensorKind.OUTPUT, "out")):
            for i, (dims, dtype) in enumerate(shapes):
                scale, zp = quant[(kind, i)]
                self.emit(
                    p.TensorInfo(
                        kind=kind,
                        index=i,
                        dtype=dtype,
                        nbytes=IN_BYTES[i],
                        scale=scale,
                        zero_point=zp,
                        dims=dims,
                        name=f"{prefix}{i}",
                    )
                )

    def boot(self) -> None:
        self.hello(p.HelloFlags.BOOT, 0)

    def feed(self, data: bytes) -> None:
        for b in data:
            if b == 0:
                self.end()
            elif self.overflow:
                pass
            elif self.left == 0:
                if self.code not in (0, 0xFF):
                    self.put(0)
                self.code, self.left = b, b - 1
            else:
                self.put(b)
                self.left -= 1

    def put(self, b: int) -> None:
        if len(self.rx) >= self.max_payload + 4:
            self.overflow = True
        else:
            self.rx.append(b)

    def nack(self, reason: p.NackReason) -> None:
        self.emit(p.Nack(reason=reason, last_seq=self.last_seq))

    def end(self) -> None:
        raw = bytes(self.rx)
        if self.overflow:
            self.nack(p.NackReason.TOO_LONG)
        elif self.code == 0 or len(raw) < 4:
            pass
        elif self.left != 0:
            self.nack(p.NackReason.COBS)
        elif p.crc16(raw[:-2]) != int.from_bytes(raw[-2:], "little"):
            self.nack(p.NackReason.CRC)
        else:
            self.last_seq = raw[1]
            self.handle(raw[0], raw[1], raw[2:-2])
        self.rx.clear()
        self.code = self.left = 0
        self.overflow = False

    def error(self, seq: int, type_id: int, code: p.ErrorCode) -> None:
        self.emit(p.ErrorReport(req_seq=seq, req_type=type_id, code=code))

    def ack(self, seq: int, type_id: int, value: int) -> None:
        self.emit(p.Ack(req_seq=seq, req_type=type_id, value=value))

    def send_tensor(self, kind: p.TensorKind, index: int, data: bytes, offset: int, length: int) -> int:
        step = self.max_payload - 6
        end, frames = offset + length, 0
        while offset < end:
            n = min(step, end - offset)
            self.emit(p.TensorChunk(kind=kind, index=index, offset=offset, data=data[offset : offset + n]))
            offset += n
            frames += 1
        return frames

    def result(self, seq: int) -> None:
        self.emit(
            p.Result(
                req_seq=seq, status=0, tick_unit=self.unit, num_outputs=2, elapsed=1000 if self.ticks else 0
            )
        )
        frames = sum(
            self.send_tensor(p.TensorKind.OUTPUT, i, bytes(o), 0, len(o)) for i, o in enumerate(self.outputs)
        )
        self.emit(p.ResultEnd(req_seq=seq, chunks=frames, total_bytes=sum(IN_BYTES)))

    def handle(self, t: int, seq: int, pl: bytes) -> None:
        n = len(pl)
        T = p.MsgType
        if t == T.HELLO_REQ:
            if n:
                self.error(seq, t, p.ErrorCode.BAD_LENGTH)
            else:
                self.hello(p.HelloFlags.NONE, seq)
        elif t == T.INFER_BEGIN:
            if n != 1:
                return self.error(seq, t, p.ErrorCode.BAD_LENGTH)
            self.marks = [0, 0]
            self.begin_flags, self.loading, self.run_valid = pl[0], True, False
            self.ack(seq, t, 0)
        elif t == T.INPUT_CHUNK:
            if n < 5:
                return self.error(seq, t, p.ErrorCode.BAD_LENGTH)
            if not self.loading:
                return self.error(seq, t, p.ErrorCode.BAD_STATE)
            index, offset = struct.unpack_from("<BI", pl)
            data = pl[5:]
            if index >= 2:
                return self.error(seq, t, p.ErrorCode.BAD_INDEX)
            if offset > IN_BYTES[index] or len(data) > IN_BYTES[index] - offset:
                return self.error(seq, t, p.ErrorCode.BAD_RANGE)
            if offset > self.marks[index]:
                return self.error(seq, t, p.ErrorCode.GAP)
            self.inputs[index][offset : offset + len(data)] = data
            self.marks[index] = max(self.marks[index], offset + len(data))
            self.ack(seq, t, self.marks[index])
        elif t == T.INFER_RUN:
            if n:
                return self.error(seq, t, p.ErrorCode.BAD_LENGTH)
            if not self.loading:
                if self.run_valid and seq == self.run_seq:
                    self.ack(seq, t, 1)
                    self.result(seq)
                else:
                    self.error(seq, t, p.ErrorCode.BAD_STATE)
                return None
            if not self.begin_flags & 1 and self.marks != list(IN_BYTES):
                return self.error(seq, t, p.ErrorCode.INPUT_INCOMPLETE)
            self.ack(seq, t, 0)
            self.outputs = [bytearray(plus_one(bytes(x))) for x in self.inputs]
            self.invocations += 1
            self.emit(p.Log(level=p.LogLevel.DEBUG, text=f"invoke {self.invocations}"))
            self.loading, self.run_valid, self.run_seq = False, True, seq
            self.result(seq)
        elif t == T.READ_TENSOR:
            if n != 10:
                return self.error(seq, t, p.ErrorCode.BAD_LENGTH)
            kind, index, offset, length = struct.unpack("<BBII", pl)
            if kind > 2:
                return self.error(seq, t, p.ErrorCode.BAD_KIND)
            if index >= 2 or kind == 2:  # kind 2: the state buffer; the fake model has none
                return self.error(seq, t, p.ErrorCode.BAD_INDEX)
            data = bytes((self.inputs if kind == 0 else self.outputs)[index])
            if offset > len(data):
                return self.error(seq, t, p.ErrorCode.BAD_RANGE)
            if length == 0:
                length = len(data) - offset
            elif length > len(data) - offset:
                return self.error(seq, t, p.ErrorCode.BAD_RANGE)
            self.send_tensor(p.TensorKind(kind), index, data, offset, length)
            self.ack(seq, t, length)
        elif t == T.PROFILE_REQ:
            if n != 4:
                return self.error(seq, t, p.ErrorCode.BAD_LENGTH)
            if not self.profile:
                return self.error(seq, t, p.ErrorCode.NO_PROFILE)
            first, count = struct.unpack("<HH", pl)
            if first > FAKE_OPS:
                return self.error(seq, t, p.ErrorCode.BAD_RANGE)
            if count == 0:
                count = FAKE_OPS - first
            elif count > FAKE_OPS - first:
                return self.error(seq, t, p.ErrorCode.BAD_RANGE)
            ticks = profile_ticks(self.invocations)[first : first + count]
            step = (self.max_payload - 6) // 4
            for k in range(0, count, step):
                self.emit(p.ProfileData(req_seq=seq, tick_unit=self.unit, num_ops=FAKE_OPS, first=first + k,
                                        ticks=tuple(ticks[k : k + step])))
            self.ack(seq, t, count)
        else:
            self.error(seq, t, p.ErrorCode.BAD_TYPE)
        return None


def profile_ticks(invocations: int) -> list[int]:
    """The fake model's per-operator profile after `invocations` runs (see proto_harness.c)."""
    if invocations == 0:
        return [0] * FAKE_OPS
    return [0 if i == FAKE_ALIAS_OP else 7 * i + invocations for i in range(FAKE_OPS)]


def _normalised(msgs: list[p.Message]) -> list[p.Message]:
    return [replace(m, text="") if isinstance(m, p.ErrorReport) else m for m in msgs]


def check_against_oracle(
    exe: Path, max_payload: int, stream: bytes, *, seed: int = 1, ticks: bool = True, profile: bool = True
) -> DeviceRun:
    run = run_device(exe, stream, seed=seed, ticks=ticks, profile=profile)
    oracle = Oracle(max_payload, ticks=ticks, profile=profile)
    oracle.boot()
    oracle.feed(stream)
    got = _normalised(run.messages)
    if got != oracle.sent:
        first = next(
            (i for i, (a, b) in enumerate(zip(got, oracle.sent, strict=False)) if a != b),
            min(len(got), len(oracle.sent)),
        )
        raise AssertionError(
            f"device and oracle differ at message {first}:\n device: {got[first : first + 3]}\n"
            f" oracle: {oracle.sent[first : first + 3]}\n ({len(got)} vs {len(oracle.sent)} messages)"
        )
    assert f"invocations={oracle.invocations}" in run.stderr
    return run


# ----------------------------------------------------------------------------- fuzzing


class StreamMaker:
    """Random host traffic: mostly plausible sessions, salted with every kind of rubbish."""

    def __init__(self, rng: random.Random, max_payload: int) -> None:
        self.rng = rng
        self.max_payload = max_payload
        self.seq = 0

    def frame(self, type_id: int, payload: bytes, seq: int | None = None) -> bytes:
        self.seq = (self.seq + 1) % 256
        body = bytes([type_id, self.seq if seq is None else seq]) + payload
        return cobs.encode(body + p.crc16(body).to_bytes(2, "little")) + b"\x00"

    def pieces(self) -> Iterator[bytes]:
        r = self.rng
        while True:
            pick = r.random()
            if pick < 0.25:  # a plausible chunk, sometimes misplaced
                index = r.choice([0, 0, 1, 1, 2])
                size = IN_BYTES[index] if index < 2 else 10
                offset = r.choice([0, r.randrange(0, size + 2), size, 2**32 - 1])
                n = r.randint(0, min(self.max_payload - 5, size + 3))
                yield self.frame(p.MsgType.INPUT_CHUNK, struct.pack("<BI", index, offset) + r.randbytes(n))
            elif pick < 0.35:
                yield self.frame(p.MsgType.INFER_BEGIN, bytes([r.choice([0, 0, 0, 1, 0xFE])]))
            elif pick < 0.45:
                seq = self.seq if r.random() < 0.3 else None  # a retry reuses the last seq
                yield self.frame(p.MsgType.INFER_RUN, b"", seq=seq)
            elif pick < 0.5:  # a complete, valid load
                out = self.frame(p.MsgType.INFER_BEGIN, b"\x00")
                for i, size in enumerate(IN_BYTES):
                    for c in p.input_chunks(i, r.randbytes(size), self.max_payload):
                        out += self.frame(p.MsgType.INPUT_CHUNK, c.pack())
                yield out
            elif pick < 0.57:
                kind, index = r.choice([0, 1, 1, 2, 255]), r.choice([0, 1, 2])
                yield self.frame(
                    p.MsgType.READ_TENSOR,
                    struct.pack(
                        "<BBII", kind, index, r.choice([0, 5, 299, 301]), r.choice([0, 1, 7, 300, 2**32 - 1])
                    ),
                )
            elif pick < 0.6:
                yield self.frame(p.MsgType.HELLO_REQ, b"" if r.random() < 0.8 else b"\x01")
            elif pick < 0.64:
                first, count = r.choice([0, 0, 1, 29, 30, 69, 70, 71, 2**16 - 1]), r.choice([0, 0, 1, 31, 70, 71])
                payload = struct.pack("<HH", first, count)
                yield self.frame(p.MsgType.PROFILE_REQ, payload if r.random() < 0.9 else payload[: r.randrange(4)])
            elif pick < 0.75:  # any type id, any payload, valid CRC
                yield self.frame(r.randrange(256), r.randbytes(r.randint(0, self.max_payload + 8)))
            elif pick < 0.85:  # a valid frame with one byte changed, dropped or added
                f = bytearray(self.frame(p.MsgType.INPUT_CHUNK, struct.pack("<BI", 1, 0) + r.randbytes(7)))
                j = r.randrange(len(f))
                op = r.randrange(3)
                if op == 0:
                    f[j] = (f[j] + r.randint(1, 255)) % 256
                elif op == 1:
                    del f[j]
                else:
                    f.insert(j, r.randrange(256))
                yield bytes(f)
            elif pick < 0.95:  # line noise
                yield r.randbytes(r.randint(1, 40))
            else:  # a long zero-free burst
                yield (
                    bytes(r.randint(1, 255) for _ in range(r.randint(200, 2 * self.max_payload + 20)))
                    + b"\x00"
                )

    def stream(self, pieces: int) -> bytes:
        it = self.pieces()
        return b"".join(next(it) for _ in range(pieces))


@needs_gcc
@pytest.mark.parametrize("max_payload", [128, 256, 1024])
@pytest.mark.parametrize("seed", range(4))
def test_fuzz_device_against_oracle(
    build_harness: Callable[[int], Path], max_payload: int, seed: int
) -> None:
    rng = random.Random(1000 * seed + max_payload)
    stream = StreamMaker(rng, max_payload).stream(2500)
    run = check_against_oracle(
        build_harness(max_payload), max_payload, stream, seed=seed + 1, ticks=seed != 3, profile=seed != 2
    )
    # the stream must have reached the interesting places, not only the refusals
    assert run.of(p.ResultEnd) and run.of(p.Nack) and run.of(p.ErrorReport)
    assert bool(run.of(p.ProfileData)) == (seed != 2)


@needs_gcc
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.binary(max_size=3000), seed=st.integers(1, 2**31))
def test_random_bytes_against_oracle(build_harness: Callable[[int], Path], data: bytes, seed: int) -> None:
    check_against_oracle(build_harness(128), 128, data, seed=seed)


@needs_gcc
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    msgs=st.lists(
        st.one_of(
            st.builds(p.InferBegin, flags=st.sampled_from(list(p.BeginFlags))),
            st.builds(
                p.InputChunk,
                index=st.integers(0, 2),
                offset=st.integers(0, 310),
                data=st.binary(max_size=123),
            ),
            st.builds(p.InferRun),
            st.builds(
                p.ReadTensor,
                kind=st.sampled_from(p.TensorKind),
                index=st.integers(0, 2),
                offset=st.integers(0, 310),
                length=st.integers(0, 310),
            ),
            st.builds(p.HelloRequest),
            st.builds(p.ProfileRequest, first=st.integers(0, 72), count=st.integers(0, 72)),
        ),
        max_size=60,
    ),
    seqs=st.lists(st.integers(0, 255), min_size=60, max_size=60),
)
def test_message_sequences_against_oracle(
    build_harness: Callable[[int], Path], msgs: list[p.Message], seqs: list[int]
) -> None:
    stream = b"".join(p.encode_frame(m, seq=s) for m, s in zip(msgs, seqs, strict=False))
    check_against_oracle(build_harness(128), 128, stream)
