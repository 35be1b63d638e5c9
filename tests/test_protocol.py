"""Host codec of the serial protocol (mcuforge.hil.protocol): round trips, known bytes, errors,
and a decoder that survives whatever the line does."""

from __future__ import annotations

import random
import re
import struct
from dataclasses import fields
from pathlib import Path

import pytest
from cobs import cobs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcuforge.hil import protocol as p

ROOT = Path(__file__).resolve().parents[1]

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFF_FFFF)
i32 = st.integers(-(2**31), 2**31 - 1)
short_text = st.text(max_size=40)
blob = st.binary(max_size=300)
f32 = st.floats(width=32, allow_nan=False)  # the wire carries float32: these survive exactly

EXAMPLES: list[p.Message] = [
    p.HelloRequest(seq=1),
    p.InferBegin(seq=2),
    p.InferBegin(flags=p.BeginFlags.INPUTS_PRESET, seq=3),
    p.InputChunk(index=1, offset=250, data=b"\x00\x01\xff" * 20, seq=4),
    p.InputChunk(index=0, offset=0, data=b"", seq=5),
    p.InferRun(seq=6),
    p.ReadTensor(kind=p.TensorKind.INPUT, index=0, offset=10, length=0, seq=7),
    p.ReadTensor(kind=p.TensorKind.OUTPUT, index=3, offset=0, length=99, seq=8),
    p.Hello(
        version=1,
        flags=p.HelloFlags.BOOT,
        req_seq=0,
        max_payload=256,
        num_inputs=1,
        num_outputs=1,
        tick_unit=p.TickUnit.INSTRUCTIONS,
        tick_hz=0,
        arena_bytes=16000,
        io_bytes=0,
        weights_bytes=24376,
        sha256=bytes(range(32)),
        engine="mcuforge-aot",
        board="mps2_an386",
        model_name="kws",
        seq=0,
    ),
    p.TensorInfo(
        kind=p.TensorKind.INPUT,
        index=0,
        dtype=p.DType.INT8,
        nbytes=490,
        scale=0.5,
        zero_point=-128,
        dims=(1, 49, 10, 1),
        name="input_1",
        seq=9,
    ),
    p.TensorInfo(
        kind=p.TensorKind.OUTPUT, index=2, dtype=p.DType.FLOAT32, nbytes=4, scale=0.0, zero_point=0, dims=()
    ),
    p.Ack(req_seq=4, req_type=p.MsgType.INPUT_CHUNK, value=300, seq=10),
    p.Nack(reason=p.NackReason.CRC, last_seq=None, seq=11),
    p.Nack(reason=p.NackReason.COBS, last_seq=0, seq=12),
    p.ErrorReport(
        req_seq=5, req_type=p.MsgType.INFER_RUN, code=p.ErrorCode.INPUT_INCOMPLETE, text="x", seq=1
    ),
    p.Log(level=p.LogLevel.INFO, text="booted — ok", seq=13),
    p.Result(req_seq=6, status=0, tick_unit=p.TickUnit.CYCLES, num_outputs=1, elapsed=2**40 + 5, seq=14),
    p.TensorChunk(kind=p.TensorKind.OUTPUT, index=0, offset=0, data=bytes(250), seq=15),
    p.ResultEnd(req_seq=6, chunks=2, total_bytes=12, seq=16),
    p.Samples(flags=p.SampleFlags.START | p.SampleFlags.ECHO, first=0, data=bytes(range(24)), seq=9),
    p.Samples(flags=p.SampleFlags.END, first=70000, data=b"", seq=10),
    p.ProfileRequest(first=3, count=0, seq=11),
    p.ProfileData(req_seq=11, tick_unit=p.TickUnit.INSTRUCTIONS, num_ops=40, first=3,
                  ticks=(0, 1, 2**32 - 1, 123456), seq=17),
    p.ProfileData(req_seq=12, tick_unit=p.TickUnit.CYCLES, num_ops=0, first=0, ticks=(), seq=18),
]


# ----------------------------------------------------------------------------- round trips


def test_every_message_type_has_a_class_and_an_example() -> None:
    assert {p.message_class(t).TYPE for t in p.MsgType} == set(p.MsgType)
    assert {type(m).TYPE for m in EXAMPLES} == set(p.MsgType)


@pytest.mark.parametrize("msg", EXAMPLES, ids=lambda m: f"{type(m).__name__}")
def test_pack_unpack_round_trip(msg: p.Message) -> None:
    assert type(msg).unpack(msg.pack(), seq=msg.seq) == msg


@pytest.mark.parametrize("msg", EXAMPLES, ids=lambda m: f"{type(m).__name__}")
def test_frame_round_trip(msg: p.Message) -> None:
    frame = p.encode_frame(msg)
    assert frame.endswith(b"\x00") and b"\x00" not in frame[:-1]
    assert p.decode_frame(frame[:-1]) == msg
    assert p.FrameDecoder().feed(frame) == [msg]


def test_seq_argument_overrides_message_seq() -> None:
    frame = p.encode_frame(p.InferRun(seq=3), seq=200)
    assert p.decode_frame(frame[:-1]).seq == 200


def _message_strategy() -> st.SearchStrategy[p.Message]:
    seq = {"seq": u8}
    return st.one_of(
        st.builds(p.HelloRequest, **seq),
        st.builds(p.InferBegin, flags=st.sampled_from(list(p.BeginFlags)), **seq),
        st.builds(p.InputChunk, index=u8, offset=u32, data=blob, **seq),
        st.builds(p.InferRun, **seq),
        st.builds(p.ReadTensor, kind=st.sampled_from(p.TensorKind), index=u8, offset=u32, length=u32, **seq),
        st.builds(p.Samples, flags=st.sampled_from(list(p.SampleFlags)), first=u32,
                  data=st.binary(max_size=60).map(lambda b: b[: len(b) // 4 * 4]), **seq),
        st.builds(
            p.Hello,
            version=u8,
            flags=st.sampled_from(list(p.HelloFlags)),
            req_seq=u8,
            max_payload=u16,
            num_inputs=u8,
            num_outputs=u8,
            tick_unit=st.sampled_from(p.TickUnit),
            tick_hz=u32,
            arena_bytes=u32,
            io_bytes=u32,
            weights_bytes=u32,
            sha256=st.binary(min_size=32, max_size=32),
            engine=short_text,
            board=short_text,
            model_name=short_text,
            **seq,
        ),
        st.builds(
            p.TensorInfo,
            kind=st.sampled_from(p.TensorKind),
            index=u8,
            dtype=st.sampled_from(p.DType),
            nbytes=u32,
            scale=f32,
            zero_point=i32,
            dims=st.lists(i32, max_size=6).map(tuple),
            name=short_text,
            **seq,
        ),
        st.builds(p.Ack, req_seq=u8, req_type=u8, value=u32, **seq),
        st.builds(p.Nack, reason=st.sampled_from(p.NackReason), last_seq=st.none() | u8, **seq),
        st.builds(p.ErrorReport, req_seq=u8, req_type=u8, code=u16, text=short_text, **seq),
        st.builds(p.Log, level=st.sampled_from(p.LogLevel), text=short_text, **seq),
        st.builds(
            p.Result,
            req_seq=u8,
            status=u8,
            tick_unit=st.sampled_from(p.TickUnit),
            num_outputs=u8,
            elapsed=st.integers(0, 2**64 - 1),
            **seq,
        ),
        st.builds(p.TensorChunk, kind=st.sampled_from(p.TensorKind), index=u8, offset=u32, data=blob, **seq),
        st.builds(p.ResultEnd, req_seq=u8, chunks=u16, total_bytes=u32, **seq),
        st.builds(p.ProfileRequest, first=u16, count=u16, **seq),
        st.builds(p.ProfileData, req_seq=u8, tick_unit=st.sampled_from(p.TickUnit), num_ops=u16, first=u16,
                  ticks=st.lists(u32, max_size=70).map(tuple), **seq),
    )


messages = _message_strategy()


@given(messages)
def test_any_message_round_trips_through_a_frame(msg: p.Message) -> None:
    decoded = p.decode_frame(p.encode_frame(msg)[:-1])
    assert decoded == msg
    for f in fields(msg):  # the same value, not only an equal one (e.g. -0.0 vs 0.0 for scale)
        assert repr(getattr(decoded, f.name)) == repr(getattr(msg, f.name))


# ----------------------------------------------------------------------------- wire format pinned


def test_crc_is_ccitt_false() -> None:
    assert p.crc16(b"123456789") == 0x29B1  # the catalogue check value of CRC-16/CCITT-FALSE


def test_known_frames() -> None:
    # Spelled out in docs/protocol.md ("Worked example"); a change here is a protocol change.
    assert p.encode_frame(p.HelloRequest(), seq=0) == bytes.fromhex("0201033e2e00")
    frame = p.encode_frame(p.InputChunk(index=0, offset=0, data=b"\x01\x02"), seq=5)
    raw = bytes([0x03, 0x05, 0x00, 0, 0, 0, 0, 0x01, 0x02])
    raw += p.crc16(raw).to_bytes(2, "little")
    assert frame == cobs.encode(raw) + b"\x00"


def test_leading_delimiter_isolates_line_noise() -> None:
    frame = p.encode_frame(p.InferRun(seq=9), leading_delimiter=True)
    assert frame[0] == 0
    out = p.FrameDecoder().feed(b"\x13\x37" + frame)  # garbage that was already on the line
    assert isinstance(out[0], p.FrameError)
    assert out[1:] == [p.InferRun(seq=9)]


def test_docs_list_every_message_type() -> None:
    doc = (ROOT / "docs" / "protocol.md").read_text()
    for t in p.MsgType:
        assert re.search(rf"0x{t.value:02X}\b.*\b{t.name}\b|\b{t.name}\b.*0x{t.value:02X}\b", doc), t.name
    for code in p.ErrorCode:
        assert code.name in doc


# ----------------------------------------------------------------------------- errors


def test_error_hierarchy() -> None:
    for exc in (p.EncodeError, p.DecodeError, p.CobsError, p.FrameLengthError, p.PayloadError, p.RemoteError):
        assert issubclass(exc, p.ProtocolError)
    assert issubclass(p.CrcError, p.DecodeError)
    assert issubclass(p.UnknownMessageType, p.DecodeError)


@pytest.mark.parametrize(
    "msg",
    [
        p.InputChunk(index=256, offset=0, data=b""),
        p.InputChunk(index=0, offset=-1, data=b""),
        p.ReadTensor(kind=p.TensorKind.INPUT, index=0, length=2**32),
        p.Ack(req_seq=300, req_type=1),
        p.Result(req_seq=0, status=0, tick_unit=p.TickUnit.NONE, num_outputs=0, elapsed=-1),
        p.TensorInfo(
            kind=p.TensorKind.INPUT,
            index=0,
            dtype=p.DType.INT8,
            nbytes=1,
            scale=1.0,
            zero_point=2**31,
            dims=(),
        ),
        p.Log(level=p.LogLevel.INFO, text="x", seq=256),
        p.ProfileRequest(first=2**16),
        p.ProfileData(req_seq=0, tick_unit=p.TickUnit.NONE, num_ops=1, first=0, ticks=(2**32,)),
        p.ProfileData(req_seq=0, tick_unit=p.TickUnit.NONE, num_ops=2**16, first=0, ticks=()),
    ],
)
def test_out_of_range_fields_refuse_to_encode(msg: p.Message) -> None:
    with pytest.raises(p.EncodeError):
        p.encode_frame(msg)


def test_payload_larger_than_receiver_limit_refuses_to_encode() -> None:
    msg = p.InputChunk(index=0, offset=0, data=bytes(252))
    assert len(p.encode_frame(msg, max_payload=257)) > 0
    with pytest.raises(p.EncodeError, match="limit is 256"):
        p.encode_frame(msg, max_payload=256)


def test_hello_sha_must_be_raw_32_bytes() -> None:
    hello = EXAMPLES[8]
    assert isinstance(hello, p.Hello)
    with pytest.raises(p.EncodeError, match="32 raw bytes"):
        p.encode_frame(p.Hello(**{**hello.__dict__, "sha256": b"ab" * 32}))


@pytest.mark.parametrize("msg", [m for m in EXAMPLES if m.pack()], ids=lambda m: type(m).__name__)
def test_truncated_payloads_raise_payload_error(msg: p.Message) -> None:
    payload = msg.pack()
    fixed_size = {
        p.InputChunk: 5,
        p.TensorChunk: 6,
        p.ErrorReport: 4,
        p.Log: 1,
        p.Samples: 5,
        p.ProfileData: 6,
    }.get(type(msg), len(payload))
    for cut in range(fixed_size):
        with pytest.raises(p.PayloadError):
            type(msg).unpack(payload[:cut])


@pytest.mark.parametrize(
    "cls", [p.HelloRequest, p.InferBegin, p.InferRun, p.ReadTensor, p.Ack, p.Nack, p.Result, p.ResultEnd,
            p.ProfileRequest]
)
def test_trailing_bytes_raise_payload_error(cls: type[p.Message]) -> None:
    example = next(m for m in EXAMPLES if type(m) is cls)
    with pytest.raises(p.PayloadError, match="trailing"):
        cls.unpack(example.pack() + b"\x00")


def test_bad_enum_values_raise_payload_error() -> None:
    with pytest.raises(p.PayloadError, match="TensorKind"):
        p.ReadTensor.unpack(struct.pack("<BBII", 7, 0, 0, 0))
    with pytest.raises(p.PayloadError, match="NackReason"):
        p.Nack.unpack(bytes([99, 0, 0]))
    with pytest.raises(p.PayloadError, match="TickUnit"):
        p.ProfileData.unpack(bytes([0, 99, 1, 0, 0, 0]))


def test_profile_ticks_must_be_whole_u32_values() -> None:
    with pytest.raises(p.PayloadError, match="whole u32"):
        p.ProfileData.unpack(bytes([0, 2, 1, 0, 0, 0, 1, 2, 3]))


def test_hello_profile_flag() -> None:
    hello = EXAMPLES[8]
    assert isinstance(hello, p.Hello) and not hello.has_profile
    with_profile = p.Hello(**{**hello.__dict__, "flags": p.HelloFlags.BOOT | p.HelloFlags.PROFILE})
    decoded = p.decode_frame(p.encode_frame(with_profile)[:-1])
    assert isinstance(decoded, p.Hello) and decoded.has_profile and decoded.is_boot


def _raw_frame(type_id: int, seq: int, payload: bytes) -> bytes:
    body = bytes([type_id, seq]) + payload
    return cobs.encode(body + p.crc16(body).to_bytes(2, "little"))


def test_decode_frame_raises_typed_errors() -> None:
    good = p.encode_frame(p.InferRun(seq=1))[:-1]
    with pytest.raises(p.CrcError) as info:
        p.decode_frame(good[:-1] + bytes([good[-1] ^ 0x40]))
    assert info.value.expected != info.value.received
    with pytest.raises(p.CobsError):
        p.decode_frame(b"\x05\x01")
    with pytest.raises(p.FrameLengthError):
        p.decode_frame(cobs.encode(b"\x01\x02\x03"))
    with pytest.raises(p.UnknownMessageType) as unknown:
        p.decode_frame(_raw_frame(0x7E, 0, b""))
    assert unknown.value.type_id == 0x7E
    with pytest.raises(p.PayloadError):
        p.decode_frame(_raw_frame(p.MsgType.ACK, 0, b"\x01"))
    with pytest.raises(p.FrameLengthError):
        p.decode_frame(_raw_frame(p.MsgType.LOG, 0, bytes(300)), max_payload=256)


def test_log_keeps_unknown_levels() -> None:
    msg = p.decode_frame(_raw_frame(p.MsgType.LOG, 3, b"\x09hi"))
    assert isinstance(msg, p.Log) and msg.level == 9 and msg.text == "hi"


def test_error_report_becomes_remote_error() -> None:
    report = p.ErrorReport(
        req_seq=7, req_type=p.MsgType.INPUT_CHUNK, code=p.ErrorCode.BAD_RANGE, text="beyond"
    )
    exc = report.to_exception()
    assert isinstance(exc, p.RemoteError) and exc.report is report
    assert str(exc) == "device refused INPUT_CHUNK (seq 7): BAD_RANGE: beyond"


# ----------------------------------------------------------------------------- the streaming decoder


def test_decoder_accepts_any_split_and_skips_empty_frames() -> None:
    stream = b"\x00\x00" + b"".join(p.encode_frame(m) for m in EXAMPLES) + b"\x00"
    whole = p.FrameDecoder().feed(stream)
    assert whole == EXAMPLES
    dec = p.FrameDecoder()
    pieces: list[p.Message | p.FrameError] = []
    for b in stream:
        pieces += dec.feed(bytes([b]))
    assert pieces == EXAMPLES
    assert dec.pending == 0 and dec.frames_ok == len(EXAMPLES) and dec.frames_bad == 0


def test_decoder_reports_each_kind_of_bad_frame() -> None:
    streams = {
        p.FrameErrorKind.COBS: b"\x05\x01\x00",
        p.FrameErrorKind.LENGTH: b"\x02\x01\x00",
        p.FrameErrorKind.CRC: p.encode_frame(p.InferRun())[:-2] + b"\x01\x00",
        p.FrameErrorKind.UNKNOWN_TYPE: _raw_frame(0x7F, 0, b"") + b"\x00",
        p.FrameErrorKind.PAYLOAD: _raw_frame(p.MsgType.RESULT, 0, b"\x01\x02") + b"\x00",
    }
    for kind, stream in streams.items():
        out = p.FrameDecoder().feed(stream + p.encode_frame(p.InferRun(seq=4)))
        assert len(out) == 2, kind
        assert isinstance(out[0], p.FrameError) and out[0].kind is kind, (kind, out[0])
        assert out[0].error is not None and isinstance(out[0].error, p.DecodeError)
        assert out[1] == p.InferRun(seq=4)


def test_decoder_memory_is_bounded_on_endless_garbage() -> None:
    dec = p.FrameDecoder(max_payload=256)
    for _ in range(100):
        assert dec.feed(b"\x7f" * 1000) == []
    assert len(dec._buf) <= 256 + 4 + 3  # the bound is the point of this test
    out = dec.feed(b"\x00" + p.encode_frame(p.InferRun(seq=1)))
    assert isinstance(out[0], p.FrameError) and out[0].kind is p.FrameErrorKind.LENGTH
    assert out[0].size == 100_000 and len(out[0].raw) <= 64
    assert out[1:] == [p.InferRun(seq=1)]


def test_decoder_accepts_the_largest_legal_frame() -> None:
    msg = p.TensorChunk(kind=p.TensorKind.OUTPUT, index=0, offset=0, data=b"\x11" * 250)
    assert p.FrameDecoder(max_payload=256).feed(p.encode_frame(msg, max_payload=256)) == [msg]
    too_big = p.TensorChunk(kind=p.TensorKind.OUTPUT, index=0, offset=0, data=b"\x11" * 251)
    out = p.FrameDecoder(max_payload=256).feed(p.encode_frame(too_big))
    assert len(out) == 1 and isinstance(out[0], p.FrameError)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000), st.lists(st.integers(1, 64), max_size=50))
def test_decoder_never_raises_on_random_bytes(data: bytes, splits: list[int]) -> None:
    dec = p.FrameDecoder(max_payload=256)
    out: list[p.Message | p.FrameError] = []
    pos = 0
    for n in splits:
        out += dec.feed(data[pos : pos + n])
        pos += n
    out += dec.feed(data[pos:])
    assert all(isinstance(x, (p.Message, p.FrameError)) for x in out)
    # the same bytes in one piece give the same verdicts
    assert out == p.FrameDecoder(max_payload=256).feed(data)


def _code_positions(encoded: bytes) -> set[int]:
    """Indices of COBS code bytes in one encoded frame (without its delimiter)."""
    pos, codes = 0, set()
    while pos < len(encoded):
        codes.add(pos)
        pos += encoded[pos]
    return codes


def _is_subsequence(wanted: list[p.Message], got: list[p.Message]) -> bool:
    it = iter(got)
    return all(any(w == g for g in it) for w in wanted)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(messages, min_size=2, max_size=8),
    st.sampled_from(["flip", "drop", "insert"]),
    st.integers(min_value=0),
    u8,
)
def test_one_damaged_byte_costs_at_most_its_frames(
    msgs: list[p.Message], how: str, where: int, value: int
) -> None:
    frames = [p.encode_frame(m) for m in msgs]
    stream = b"".join(frames)
    pos = where % len(stream)
    # which frame does pos fall in, and is it that frame's delimiter?
    start, k = 0, 0
    while pos >= start + len(frames[k]):
        start += len(frames[k])
        k += 1
    is_delimiter = pos == start + len(frames[k]) - 1
    if how == "flip":
        if value == stream[pos]:
            value ^= 0xFF
        damaged = stream[:pos] + bytes([value]) + stream[pos + 1 :]
    elif how == "drop":
        damaged = stream[:pos] + stream[pos + 1 :]
    else:
        damaged = stream[:pos] + bytes([value]) + stream[pos:]
    lost = {k}
    if is_delimiter and how != "insert":
        lost.add(k + 1)  # the two frames run together
    survivors = [m for i, m in enumerate(msgs) if i not in lost]

    out = p.FrameDecoder().feed(damaged)
    decoded = [x for x in out if isinstance(x, p.Message)]
    assert _is_subsequence(survivors, decoded), (survivors, out)
    assert len(decoded) <= len(msgs) + 1
    # A changed data byte is a single-byte error inside the raw frame: CRC-16 always catches it.
    if (
        how == "flip"
        and value != 0
        and not is_delimiter
        and (pos - start) not in _code_positions(frames[k][:-1])
    ):
        assert decoded == survivors
        assert sum(isinstance(x, p.FrameError) for x in out) == 1


def test_long_noisy_stream_recovers_every_undamaged_frame() -> None:
    rng = random.Random(1234)
    msgs: list[p.Message] = [
        p.TensorChunk(
            kind=p.TensorKind.OUTPUT,
            index=0,
            offset=i * 100,
            data=rng.randbytes(rng.randint(0, 250)),
            seq=i % 256,
        )
        for i in range(3000)
    ]
    frames = [bytearray(p.encode_frame(m)) for m in msgs]
    damaged = set(rng.sample(range(len(frames)), 300))
    for i in damaged:  # one bad byte inside the frame, never touching its delimiter
        j = rng.randrange(len(frames[i]) - 1)
        frames[i][j] = (frames[i][j] + rng.randint(1, 255)) % 256
    dec = p.FrameDecoder()
    stream = b"".join(frames)
    out: list[p.Message | p.FrameError] = []
    pos = 0
    while pos < len(stream):
        n = rng.randint(1, 700)
        out += dec.feed(stream[pos : pos + n])
        pos += n
    decoded = [x for x in out if isinstance(x, p.Message)]
    survivors = [m for i, m in enumerate(msgs) if i not in damaged]
    assert _is_subsequence(survivors, decoded)
    assert len(decoded) <= len(survivors) + 2  # CRC-16 false accepts: ~300/65536 expected
    assert dec.frames_bad >= 290


# ----------------------------------------------------------------------------- helpers for sessions


@given(st.binary(max_size=2000), st.integers(16, 600))
def test_input_chunks_cover_the_tensor_in_order(data: bytes, max_payload: int) -> None:
    chunks = p.input_chunks(2, data, max_payload)
    assert b"".join(c.data for c in chunks) == data
    assert [c.offset for c in chunks] == sorted(c.offset for c in chunks)
    for c in chunks:
        assert c.index == 2 and len(c.pack()) <= max_payload
    with pytest.raises(p.EncodeError):
        p.input_chunks(0, data, 5)


def test_tensor_assembler_tracks_missing_ranges() -> None:
    asm = p.TensorAssembler(10)
    assert asm.missing() == [(0, 10)] and not asm.complete
    asm.add(p.TensorChunk(kind=p.TensorKind.OUTPUT, index=0, offset=2, data=b"ab"))
    asm.add(p.TensorChunk(kind=p.TensorKind.OUTPUT, index=0, offset=6, data=b"cd"))
    assert asm.missing() == [(0, 2), (4, 2), (8, 2)]
    asm.add(p.TensorChunk(kind=p.TensorKind.OUTPUT, index=0, offset=0, data=b"0123456789"))
    assert asm.complete and bytes(asm.data) == b"0123456789"
    with pytest.raises(p.PayloadError):
        asm.add(p.TensorChunk(kind=p.TensorKind.OUTPUT, index=0, offset=9, data=b"xy"))


def test_device_info_from_messages() -> None:
    hello = EXAMPLES[8]
    assert isinstance(hello, p.Hello)
    tin = p.TensorInfo(
        kind=p.TensorKind.INPUT, index=0, dtype=p.DType.INT8, nbytes=4, scale=1.0, zero_point=0, dims=(4,)
    )
    tout = p.TensorInfo(
        kind=p.TensorKind.OUTPUT, index=0, dtype=p.DType.INT8, nbytes=2, scale=1.0, zero_point=0, dims=(2,)
    )
    info = p.DeviceInfo.from_messages(hello, [tout, tin])
    assert info.inputs == [tin] and info.outputs == [tout]
    assert info.tensor(p.TensorKind.OUTPUT, 0) is tout
    assert hello.is_boot and hello.sha256_hex == bytes(range(32)).hex()
    with pytest.raises(p.PayloadError, match="missing"):
        p.DeviceInfo.from_messages(hello, [tin])
    with pytest.raises(p.PayloadError, match="twice"):
        p.DeviceInfo.from_messages(hello, [tin, tin, tout])
    extra = p.TensorInfo(
        kind=p.TensorKind.INPUT, index=1, dtype=p.DType.INT8, nbytes=1, scale=1.0, zero_point=0, dims=(1,)
    )
    with pytest.raises(p.PayloadError, match="does not announce"):
        p.DeviceInfo.from_messages(hello, [tin, tout, extra])


def test_dtype_helpers() -> None:
    assert [d.itemsize for d in p.DType] == [1, 1, 2, 4, 4]
    assert p.DType.INT16.numpy_name == "<i2"
