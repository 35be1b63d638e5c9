"""Host side of the mcuforge serial protocol: frames, messages and a streaming decoder.

The wire format is specified in ``docs/protocol.md``; the device side is
``runtime/protocol/mcf_proto.c``. Every message travels as one frame::

    COBS( [type u8][seq u8][payload ...][crc16 LE] ) 0x00

with CRC-16/CCITT-FALSE over type, seq and payload. This module is pure: it turns messages into
bytes and bytes into messages and never touches a port, so the serial link code (pyserial) and the
tests share one codec.

Typical use::

    frame = encode_frame(InputChunk(index=0, offset=0, data=b"..."), seq=7)
    decoder = FrameDecoder()
    for item in decoder.feed(port.read(port.in_waiting)):
        if isinstance(item, FrameError):
            ...  # counted, the session goes on
        else:
            ...  # a Message subclass, item.seq holds the frame's sequence number
"""

from __future__ import annotations

import binascii
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum, IntEnum, IntFlag
from typing import ClassVar, TypeVar

from cobs import cobs

__all__ = [
    "DEFAULT_MAX_PAYLOAD",
    "ENGINE_AOT",
    "FRAME_OVERHEAD",
    "HOST_MAX_PAYLOAD",
    "PROTOCOL_VERSION",
    "Ack",
    "BeginFlags",
    "CobsError",
    "CrcError",
    "DType",
    "DecodeError",
    "DeviceInfo",
    "EncodeError",
    "ErrorCode",
    "ErrorReport",
    "FrameDecoder",
    "FrameError",
    "FrameErrorKind",
    "FrameLengthError",
    "Hello",
    "HelloFlags",
    "HelloRequest",
    "InferBegin",
    "InferRun",
    "InputChunk",
    "Log",
    "LogLevel",
    "Message",
    "MsgType",
    "Nack",
    "NackReason",
    "PayloadError",
    "ProfileData",
    "ProfileRequest",
    "ProtocolError",
    "ReadTensor",
    "RemoteError",
    "Result",
    "ResultEnd",
    "SampleFlags",
    "Samples",
    "TensorAssembler",
    "TensorChunk",
    "TensorInfo",
    "TensorKind",
    "TickUnit",
    "UnknownMessageType",
    "crc16",
    "decode_frame",
    "encode_frame",
    "input_chunks",
    "message_class",
    "next_sample_chunk",
    "sample_chunks",
    "samples_per_frame",
]

PROTOCOL_VERSION = 1
"""Version this codec speaks; HELLO carries the device's."""

DEFAULT_MAX_PAYLOAD = 256
"""The device's default ``MCF_PROTO_MAX_PAYLOAD``; the real value comes in HELLO."""

HOST_MAX_PAYLOAD = 4096
"""Largest payload the device may be built with, so the largest frame a host must accept."""

FRAME_OVERHEAD = 4
"""Bytes around a payload inside a frame: type, seq, two CRC bytes."""

ENGINE_AOT = "mcuforge-aot"
"""Engine string of firmware built from mcuforge's generated C."""


# --------------------------------------------------------------------------- errors


class ProtocolError(Exception):
    """Base class of every error this module raises."""


class EncodeError(ProtocolError):
    """A message cannot be encoded: a field is out of range or the payload is too large."""


class DecodeError(ProtocolError):
    """Bytes received do not form a valid message."""


class CobsError(DecodeError):
    """The frame's COBS structure is broken (typically a byte lost or a zero injected)."""


class FrameLengthError(DecodeError):
    """The decoded frame is shorter than its header and CRC, or longer than allowed."""


class CrcError(DecodeError):
    """The CRC in the frame does not match its contents."""

    def __init__(self, expected: int, received: int) -> None:
        super().__init__(f"crc mismatch: computed 0x{expected:04x}, frame carries 0x{received:04x}")
        self.expected = expected
        self.received = received


class UnknownMessageType(DecodeError):
    """The frame passed the CRC but its type id is not a known message."""

    def __init__(self, type_id: int) -> None:
        super().__init__(f"unknown message type 0x{type_id:02x}")
        self.type_id = type_id


class PayloadError(DecodeError):
    """The frame passed the CRC but its payload does not fit its message type's layout."""


class RemoteError(ProtocolError):
    """The device answered a request with an ERROR frame (see ``ErrorReport.to_exception``)."""

    def __init__(self, report: ErrorReport) -> None:
        try:
            name = ErrorCode(report.code).name
        except ValueError:
            name = f"code {report.code}"
        req = _type_name(report.req_type)
        super().__init__(f"device refused {req} (seq {report.req_seq}): {name}: {report.text}")
        self.report = report


# --------------------------------------------------------------------------- enums


class MsgType(IntEnum):
    """Message type ids: the first byte of every frame."""

    # host -> device
    HELLO_REQ = 0x01
    INFER_BEGIN = 0x02
    INPUT_CHUNK = 0x03
    INFER_RUN = 0x04
    READ_TENSOR = 0x05
    SAMPLES = 0x06
    PROFILE_REQ = 0x07
    # device -> host
    HELLO = 0x40
    TENSOR_INFO = 0x41
    ACK = 0x42
    NACK = 0x43
    ERROR = 0x44
    LOG = 0x45
    RESULT = 0x46
    TENSOR_CHUNK = 0x47
    RESULT_END = 0x48
    PROFILE = 0x49


class DType(IntEnum):
    """Tensor element type, same values as ``mcf_dtype`` in ``mcf_model.h``."""

    INT8 = 0
    UINT8 = 1
    INT16 = 2
    INT32 = 3
    FLOAT32 = 4

    @property
    def itemsize(self) -> int:
        return {DType.INT8: 1, DType.UINT8: 1, DType.INT16: 2, DType.INT32: 4, DType.FLOAT32: 4}[self]

    @property
    def numpy_name(self) -> str:
        """Name numpy understands, little-endian: ``np.dtype(info.dtype.numpy_name)``."""
        return {
            DType.INT8: "i1",
            DType.UINT8: "u1",
            DType.INT16: "<i2",
            DType.INT32: "<i4",
            DType.FLOAT32: "<f4",
        }[self]


class TickUnit(IntEnum):
    """Unit of RESULT's elapsed count."""

    NONE = 0
    CYCLES = 1
    INSTRUCTIONS = 2
    MICROSECONDS = 3
    NANOSECONDS = 4
    RAW = 5


class TensorKind(IntEnum):
    INPUT = 0
    OUTPUT = 1
    STATE = 2  # READ_TENSOR only: a stateful model's state buffer (index 0)


class ErrorCode(IntEnum):
    """Codes of ERROR frames."""

    BAD_TYPE = 1
    BAD_LENGTH = 2
    BAD_STATE = 3
    BAD_INDEX = 4
    BAD_RANGE = 5
    GAP = 6
    INPUT_INCOMPLETE = 7
    BAD_KIND = 8
    NO_PROFILE = 9


class NackReason(IntEnum):
    CRC = 1
    COBS = 2
    TOO_LONG = 3


class LogLevel(IntEnum):
    ERROR = 0
    WARNING = 1
    INFO = 2
    DEBUG = 3


class HelloFlags(IntFlag):
    NONE = 0
    BOOT = 0x01
    """Sent unsolicited at start-up: seen mid-session, it means the device was reset."""
    PROFILE = 0x02
    """The firmware records a per-operator profile of each inference (built with MCF_PROFILE=1)."""


class SampleFlags(IntFlag):
    NONE = 0
    START = 0x01
    """A new stream: the device empties its ring buffer; ``first`` must be 0."""
    END = 0x02
    """The stream ends after this chunk (a live sensor source resumes)."""
    ECHO = 0x04
    """Send each window's input tensor (TENSOR_CHUNK, kind input) before running the model."""


class BeginFlags(IntFlag):
    NONE = 0
    INPUTS_PRESET = 0x01
    """The device fills the inputs itself; INFER_RUN skips the all-inputs-written check."""
    RESET_STATE = 0x02
    """A stateful model's state goes back to its initial values before this inference (the first
    of a stream); models without state ignore it, as does firmware older than the flag."""


def _type_name(type_id: int) -> str:
    try:
        return MsgType(type_id).name
    except ValueError:
        return f"type 0x{type_id:02x}"


# --------------------------------------------------------------------------- field helpers


def _check_uint(name: str, value: int, bits: int) -> None:
    if not 0 <= value < (1 << bits):
        raise EncodeError(f"{name}={value} does not fit in u{bits}")


def _check_int(name: str, value: int, bits: int) -> None:
    if not -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
        raise EncodeError(f"{name}={value} does not fit in i{bits}")


def _pack_str(name: str, text: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) > 255:
        raise EncodeError(f"{name} is {len(raw)} bytes long, at most 255 fit")
    return bytes([len(raw)]) + raw


def _decode_text(raw: bytes) -> str:
    # Device strings may be cut mid-character when truncated to fit a frame; never fail on that.
    return raw.decode("utf-8", errors="replace")


class _Reader:
    """Reads a payload front to back; every shortfall becomes a PayloadError."""

    def __init__(self, what: str, payload: bytes) -> None:
        self.what = what
        self.data = payload
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise PayloadError(
                f"{self.what} payload too short: needs {self.pos + n} bytes or more, has {len(self.data)}"
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple[int | float, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def u8(self) -> int:
        return self.take(1)[0]

    def string(self) -> str:
        return _decode_text(self.take(self.u8()))

    def rest(self) -> bytes:
        out = self.data[self.pos :]
        self.pos = len(self.data)
        return out

    def end(self) -> None:
        if self.pos != len(self.data):
            raise PayloadError(
                f"{self.what} payload has {len(self.data) - self.pos} unexpected trailing bytes"
            )


def _enum(what: str, cls: type[IntEnum], value: int) -> IntEnum:
    try:
        return cls(value)
    except ValueError:
        raise PayloadError(f"{what}: {value} is not a valid {cls.__name__}") from None


# --------------------------------------------------------------------------- messages

M = TypeVar("M", bound="Message")


@dataclass(frozen=True)
class Message:
    """Base of all messages. ``seq`` is the frame's sequence number, not part of the payload.

    Subclasses define ``TYPE`` and ``pack()`` / ``unpack()`` for their payload.
    """

    TYPE: ClassVar[MsgType]
    seq: int = field(default=0, kw_only=True)

    def pack(self) -> bytes:
        """The payload bytes (without type, seq or CRC)."""
        return b""

    @classmethod
    def unpack(cls: type[M], payload: bytes, *, seq: int = 0) -> M:
        """Builds the message from its payload; raises PayloadError if the layout does not fit."""
        r = _Reader(cls.TYPE.name, payload)
        r.end()
        return cls(seq=seq)


@dataclass(frozen=True)
class HelloRequest(Message):
    """Host asks for HELLO (and the TENSOR_INFO frames after it)."""

    TYPE: ClassVar[MsgType] = MsgType.HELLO_REQ


@dataclass(frozen=True)
class InferBegin(Message):
    """Host starts loading inputs for a new inference."""

    TYPE: ClassVar[MsgType] = MsgType.INFER_BEGIN
    flags: BeginFlags = BeginFlags.NONE

    def pack(self) -> bytes:
        _check_uint("flags", int(self.flags), 8)
        return bytes([int(self.flags)])

    @classmethod
    def unpack(cls, payload: bytes, *, seq: int = 0) -> InferBegin:
        r = _Reader(cls.TYPE.name, payload)
        flags = BeginFlags(r.u8())
        r.end()
        return cls(flags=flags, seq=seq)


@dataclass(frozen=True)
class InputChunk(Message):
    """Host writes ``data`` into input ``index`` at byte ``offset``."""

    TYPE: ClassVar[MsgType] = MsgType.INPUT_CHUNK
    index: int
    offset: int
    data: bytes

    def pack(self) -> bytes:
        _check_uint("index", self.index, 8)
        _check_uint("offset", self.offset, 32)
        return struct.pack("<BI", self.index, self.offset) + bytes(self.data)

    @classmethod
    def unpack(cls, payload: bytes, *, seq: int = 0) -> InputChunk:
        r = _Reader(cls.TYPE.name, payload)
        index, offset = r.unpack("BI")
        return cls(index=int(index), offset=int(offset), data=r.rest(), seq=seq)


@dataclass(frozen=True)
class InferRun(Message):
    """Host asks the device to run the model on the inputs loaded since INFER_BEGIN."""

    TYPE: ClassVar[MsgType] = MsgType.INFER_RUN


@dataclass(frozen=True)
class ReadTensor(Message):
    """Host asks for bytes of a tensor; ``length`` 0 means up to the end."""

    TYPE: ClassVar[MsgType] = MsgType.READ_TENSOR
    kind: TensorKind
    index: int
    offset: int = 0
    length: int = 0

    def pack(self) -> bytes:
        _check_uint("kind", int(self.kind), 8)
        _check_uint("index", self.index, 8)
        _check_uint("offset", self.offset, 32)
        _check_uint("length", self.length, 32)
        return struct.pack("<BBII", int(self.kind), self.index, self.offset, self.length)

    @classmethod
    def unpack(cls, payload: bytes, *, seq: int = 0) -> ReadTensor:
        r = _Reader(cls.TYPE.name, payload)
        kind, index, offset, length = r.unpack("BBII")
        r.end()
        return cls(
            kind=_enum("READ_TENSOR kind", TensorKind, int(kind)),  # type: ignore[arg-type]
            index=int(index),
            offset=int(offset),
            length=int(length),
            seq=seq,
        )


@dataclass(frozen=True)
class Samples(Message):
    """Host pushes sensor samples into the device's pipeline: float32 values, channels interleaved
    (``data`` holds them little-endian), the first being sample number ``first`` of the stream."""

    TYPE: ClassVar[MsgType] = MsgType.SAMPLES
    flags: SampleFlags
    first: int
    data: bytes

    def pack(self) -> bytes:
        _check_uint("flags", int(self.flags), 8)
        _check_uint("first", self.first, 32)
        if len(self.data) % 4:
            raise EncodeError(f"SAMPLES data is {len(self.data)} bytes, not whole float32 values")
        return struct.pack("<BI", int(self.flags), self.first) + bytes(self.data)

    @classmethod
    def unpack(cls, payload: bytes, *, seq: int = 0) -> Samples:
        r = _Reader(cls.TYPE.name, payload)
        flags, first = r.unpack("BI")
        data = r.rest()
        if len(data) % 4:
            raise PayloadError(f"SAMPLES data is {len(data)} bytes, not whole float32 values")
        return cls(flags=SampleFlags(int(flags)), first=int(first), data=data, seq=seq)

    def values(self, channels: int) -> list[tuple[float, ...]]:
        """The samples as tuples of ``channels`` floats."""
        flat = struct.unpack(f"<{len(self.data) // 4}f", self.data)
        return [tuple(flat[i:i + channels]) for i in range(0, len(flat), channels)]


@dataclass(frozen=True)
class Hello(Message):
    """Device identity and sizes; followed by ``num_inputs + num_outputs`` TENSOR_INFO frames."""

    TYPE: ClassVar[MsgType] = MsgType.HELLO
    version: int
    flags: HelloFlags
    req_seq: int
    max_payload: int
    num_inputs: int
    num_outputs: int
    tick_unit: TickUnit
    tick_hz: int
    arena_bytes: int
    io_bytes: int
    weights_bytes: int
    sha256: bytes
    engine: str
    board: str
    model_name: str

    _FIXED: ClassVar[str] = "BBBHBBBIIII32s"

    @property
    def is_boot(self) -> bool:
        """True when the device sent it unsolicited at start-up."""
        return bool(self.flags & HelloFlags.BOOT)

    @property
    def has_profile(self) -> bool:
        """True when the firmware answers PROFILE_REQ (built with MCF_PROFILE=1)."""
        return bool(self.flags & HelloFlags.PROFILE)

    @property
    def sha256_hex(self) -> str:
        return self.sha256.hex()

    def pack(self) -> bytes:
        for name, bits in (
            ("version", 8),
            ("req_seq", 8),
            ("max_payload", 16),
            ("num_inputs", 8),
            ("num_outputs", 8),
            ("tick_hz", 32),
            ("arena_bytes", 32),
            ("io_bytes", 32),
            ("weights_bytes", 32),
        ):
            _check_uint(name, getattr(self, name), bits)
        _check_uint("flags", int(self.flags), 8)
        _check_uint("tick_unit", int(self.tick_unit), 8)
        if len(self.sha256) != 32:
            raise EncodeError(f"sha256 must be 32 raw bytes, got {len(self.sha256)}")
        head = struct.pack(
            "<" + self._FIXED,
            self.version,
            int(self.flags),
            self.req_seq,
            self.max_payload,
            self.num_inputs,
            self.num_outputs,
            int(self.tick_unit),
            self.tick_hz,
            self.arena_bytes,
            self.io_bytes,
            self.weights_bytes,
            bytes(self.sha256),
        )
        return (
            head
            + _pack_str("engine", self.engine)
            + _pack_str("board", self.board)
            + _pack_str("model_name", self.model_name)
        )

    @classmethod
    def unpack(cls, payload: bytes, *, seq: int = 0) -> Hello:
        r = _Reader(cls.TYPE.name, payload)
        (version, flags, req_seq, max_payload, n_in, n_out, unit, tick_hz, arena, io, weights, sha) = (
            struct.unpack("<" + cls._FIXED, r.take(struct.calcsize("<" + cls._FIXED)))
        )
        engine = r.string()
        board = r.string()
        name = r.string()
        r.end()
        return cls(
            version=version,
            flags=HelloFlags(flags),
            req_seq=req_seq,
            max_payload=max_payload,
            num_inputs=n_in,
            num_outputs=n_out,
            tick_unit=_enum("HELLO tick_unit", TickUnit, unit),  # type: ignore[arg-type]
            tick_hz=tick_hz,
            arena_bytes=arena,
            io_bytes=io,
            weights_bytes=weights,
            sha256=sha,
            engine=engine,
            board=board,
            model_name=name,
            seq=seq,
        )


@dataclass(frozen=True)
class TensorInfo(Message):
    """Shape, type and quantization of one input or output tensor."""

    TYPE: ClassVar[MsgType] = MsgType.TENSOR_INFO
    kind: TensorKind
    index: int
    dtype: DType
    nbytes: int
    scale: float
    zero_point: int
    dims: tuple[int, ...]
    name: str = ""

    def pack(self) -> bytes:
        _check_uint("index", self.index, 8)
        _check_uint("nbytes", self.nbytes, 32)
        _check_int("zero_point", self.zero_point, 32)
        if len(self.dims) > 255:
            raise EncodeError(f"rank {len(self.dims)} does not fit in u8")
        for d in self.dims:
            _check_int("dim", d, 32)
        head = struct.pack(
            "<BBBBIfi",
            int(self.kind),
            self.index,
            int(self.dtype),
            len(self.dims),
            self.nbytes,
            self.scale,
            self.zero_point,
        )
        return head + struct.pack(f"<{len(self.dims)}i", *self.dims) + _pack_str("name", self.name)

    @classmethod
    def unpack(cls, payload: bytes, *, seq: int = 0) -> TensorInfo:
        r = _Reader(cls.TYPE.name, payload)
        kind, index, dtype, rank, nbytes, scale, zp = r.unpack("BBBBIfi")
        dims = r.unpack(f"{rank}i")
        name = r.string()
        r.end()
        return cls(
            kind=_enum("TENSOR_INFO kind", TensorKind, int(kind)),  # type: ignore[arg-type]
            index=int(index),
            dtype=_enum("TENSOR_INFO dtype", DType, int(dtype)),  # type: ignore[arg-type]
            nbytes=int(nbytes),
            scale=float(scale),
            zero_point=int(zp),
            dims=tuple(int(d) for d in dims),
            name=name,
            seq=seq,
        )

    @property
    def elements(self) -> int:
        n = 1
        for d in self.dims:
            n *= d
        return n


@dataclass(frozen=True)
class Ack(Message):
    """The device accepted request ``req_seq``. ``value``: INPUT_CHUNK → bytes of that input held
    contiguously from 0; READ_TENSOR → bytes sent; INFER_RUN → 1 when replayed from a retry."""

    TYPE: ClassVar[MsgType] = MsgType.ACK
    req_seq: int
    req_type: int
    value: int = 0

    def pack(self) -> bytes:
        _check_uint("req_seq", self.req_seq, 8)
        _check_uint("req_type", int(self.req_type), 8)
        _check_uint("value", self.value, 32)
        return struct.pack("<BBI", self.req_seq, int(self.req_type), self.value)

    @classmethod
    def unpack(cls, payload: bytes, *, seq: int = 0) -> Ack:
        r = _Reader(cls.TYPE.name, payload)
        req_seq, req_type, value = r.unpack("BBI")
        r.end()
        return cls(req_seq=int(req_seq), req_type=int(req_type), value=int(value), seq=seq)


@dataclass(frozen=True)
class Nack(Message):
    """The device received a broken frame. ``last_seq``: seq of the last good frame (None: none)."""

    TYPE: ClassVar[MsgType] = MsgType.NACK
    reason: NackReason
    last_seq: int | None = None

    def pack(self) -> bytes:
        _check_uint("reason", int(self.reason), 8)
        if self.last_seq is None:
            return bytes([int(self.reason), 0, 0])
        _check_uint("last_seq", self.last_seq, 8)
        return bytes([int(self.reason), 1, self.last_seq])

    @classmethod
    def unpack(cls, payload: bytes, *, seq: int = 0) -> Nack:
        r = _Reader(cls.TYPE.name, payload)
        reason, valid, last = r.unpack("BBB")
        r.end()
        return cls(
            reason=_enum("NACK reason", NackReason, int(reason)),  # type: ignore[arg-type]
            last_seq=int(last) if valid else None,
            seq=seq,
        )


@dataclass(frozen=True)
class ErrorReport(Message):
    """The device refused request ``req_seq`` (of type ``req_type``) with ``code``."""

    TYPE: ClassVar[MsgType] = MsgType.ERROR
    req_seq: int
    req_type: int
    code: int
    text: str = ""

    def pack(self) -> bytes:
        _check_uint("req_seq", self.req_seq, 8)
        _check_uint("req_type", int(self.req_type), 8)
        _check_uint("code", int(self.code), 16)
        return struct.pack("<BBH", self.req_seq, int(self.req_type), int(self.code)) + self.text.encode()

    @classmethod
    def unpack(cls, payload: bytes, *, seq: int = 0) -> ErrorReport:
        r = _Reader(cls.TYPE.name, payload)
        req_seq, req_type, code = r.unpack("BBH")
        return cls(
            req_seq=int(req_seq), req_type=int(req_type), code=int(code), text=_decode_text(r.rest()), seq=seq
        )

    def to_exception(self) -> RemoteError:
        return RemoteError(self)


@dataclass(frozen=True)
class Log(Message):
    """A line of text from the firmware."""

    TYPE: ClassVar[MsgType] = MsgType.LOG
    level: LogLevel
    text: str

    def pack(self) -> bytes:
        _check_uint("level", int(self.level), 8)
        return bytes([int(self.level)]) + self.text.encode()

    @classmethod
    def unpack(cls, payload: bytes, *, seq: int = 0) -> Log:
        r = _Reader(cls.TYPE.name, payload)
        level = r.u8()
        # Unknown levels are kept as plain ints rather than refused: a log line is never worth a
        # lost frame.
        lvl = LogLevel(level) if level in LogLevel._value2member_map_ else level
        return cls(level=lvl, text=_decode_text(r.rest()), seq=seq)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Result(Message):
    """Inference of request ``req_seq`` finished; the outputs follow as TENSOR_CHUNK frames."""

    TYPE: ClassVar[MsgType] = MsgType.RESULT
    req_seq: int
    status: int
    tick_unit: TickUnit
    num_outputs: int
    elapsed: int

    def pack(self) -> bytes:
        _check_uint("req_seq", self.req_seq, 8)
        _check_uint("status", self.status, 8)
        _check_uint("tick_unit", int(self.tick_unit), 8)
        _check_uint("num_outputs", self.num_outputs, 8)
        _check_uint("elapsed", self.elapsed, 64)
        return struct.pack(
            "<BBBBQ", self.req_seq, self.status, int(self.tick_unit), self.num_outputs, self.elapsed
        )

    @classmethod
    def unpack(cls, payload: bytes, *, seq: int = 0) -> Result:
        r = _Reader(cls.TYPE.name, payload)
        req_seq, status, unit, n_out, elapsed = r.unpack("BBBBQ")
        r.end()
        return cls(
            req_seq=int(req_seq),
            status=int(status),
            tick_unit=_enum("RESULT tick_unit", TickUnit, int(unit)),  # type: ignore[arg-type]
            num_outputs=int(n_out),
            elapsed=int(elapsed),
            seq=seq,
        )


@dataclass(frozen=True)
class TensorChunk(Message):
    """Bytes of a tensor, after RESULT (outputs) or in answer to READ_TENSOR."""

    TYPE: ClassVar[MsgType] = MsgType.TENSOR_CHUNK
    kind: TensorKind
    index: int
    offset: int
    data: bytes

    def pack(self) -> bytes:
        _check_uint("kind", int(self.kind), 8)
        _check_uint("index", self.index, 8)
        _check_uint("offset", self.offset, 32)
        return struct.pack("<BBI", int(self.kind), self.index, self.offset) + bytes(self.data)

    @classmethod
    def unpack(cls, payload: bytes, *, seq: int = 0) -> TensorChunk:
        r = _Reader(cls.TYPE.name, payload)
        kind, index, offset = r.unpack("BBI")
        return cls(
            kind=_enum("TENSOR_CHUNK kind", TensorKind, int(kind)),  # type: ignore[arg-type]
            index=int(index),
            offset=int(offset),
            data=r.rest(),
            seq=seq,
        )


@dataclass(frozen=True)
class ResultEnd(Message):
    """Closes the RESULT stream of ``req_seq``: how many TENSOR_CHUNK frames and bytes it sent."""

    TYPE: ClassVar[MsgType] = MsgType.RESULT_END
    req_seq: int
    chunks: int
    total_bytes: int

    def pack(self) -> bytes:
        _check_uint("req_seq", self.req_seq, 8)
        _check_uint("chunks", self.chunks, 16)
        _check_uint("total_bytes", self.total_bytes, 32)
        return struct.pack("<BHI", self.req_seq, self.chunks, self.total_bytes)

    @classmethod
    def unpack(cls, payload: bytes, *, seq: int = 0) -> ResultEnd:
        r = _Reader(cls.TYPE.name, payload)
        req_seq, chunks, total = r.unpack("BHI")
        r.end()
        return cls(req_seq=int(req_seq), chunks=int(chunks), total_bytes=int(total), seq=seq)


@dataclass(frozen=True)
class ProfileRequest(Message):
    """Host asks for the per-operator profile of the last inference: operators ``first`` ..
    ``first + count - 1`` (``count`` 0: up to the last). Answered by PROFILE frames, then ACK."""

    TYPE: ClassVar[MsgType] = MsgType.PROFILE_REQ
    first: int = 0
    count: int = 0

    def pack(self) -> bytes:
        _check_uint("first", self.first, 16)
        _check_uint("count", self.count, 16)
        return struct.pack("<HH", self.first, self.count)

    @classmethod
    def unpack(cls, payload: bytes, *, seq: int = 0) -> ProfileRequest:
        r = _Reader(cls.TYPE.name, payload)
        first, count = r.unpack("HH")
        r.end()
        return cls(first=int(first), count=int(count), seq=seq)


@dataclass(frozen=True)
class ProfileData(Message):
    """Ticks (``tick_unit``) each operator took in the last inference, for operators ``first`` ..
    ``first + len(ticks) - 1`` of ``num_ops``; answers PROFILE_REQ ``req_seq``."""

    TYPE: ClassVar[MsgType] = MsgType.PROFILE
    req_seq: int
    tick_unit: TickUnit
    num_ops: int
    first: int
    ticks: tuple[int, ...]

    def pack(self) -> bytes:
        _check_uint("req_seq", self.req_seq, 8)
        _check_uint("tick_unit", int(self.tick_unit), 8)
        _check_uint("num_ops", self.num_ops, 16)
        _check_uint("first", self.first, 16)
        for t in self.ticks:
            _check_uint("ticks", t, 32)
        return struct.pack(f"<BBHH{len(self.ticks)}I", self.req_seq, int(self.tick_unit), self.num_ops,
                           self.first, *self.ticks)

    @classmethod
    def unpack(cls, payload: bytes, *, seq: int = 0) -> ProfileData:
        r = _Reader(cls.TYPE.name, payload)
        req_seq, unit, num_ops, first = r.unpack("BBHH")
        rest = r.rest()
        if len(rest) % 4:
            raise PayloadError(f"PROFILE carries {len(rest)} bytes of ticks, not whole u32 values")
        return cls(
            req_seq=int(req_seq),
            tick_unit=_enum("PROFILE tick_unit", TickUnit, int(unit)),  # type: ignore[arg-type]
            num_ops=int(num_ops),
            first=int(first),
            ticks=tuple(int(v) for v in struct.unpack(f"<{len(rest) // 4}I", rest)),
            seq=seq,
        )


_MESSAGES: dict[int, type[Message]] = {
    cls.TYPE: cls
    for cls in (
        HelloRequest,
        InferBegin,
        InputChunk,
        InferRun,
        ReadTensor,
        Samples,
        ProfileRequest,
        Hello,
        TensorInfo,
        Ack,
        Nack,
        ErrorReport,
        Log,
        Result,
        TensorChunk,
        ResultEnd,
        ProfileData,
    )
}


def message_class(type_id: int) -> type[Message]:
    """The Message subclass for a type id; raises UnknownMessageType."""
    try:
        return _MESSAGES[type_id]
    except KeyError:
        raise UnknownMessageType(type_id) from None


# --------------------------------------------------------------------------- frames


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), as the device computes it."""
    return binascii.crc_hqx(data, 0xFFFF)


def encode_frame(
    msg: Message,
    seq: int | None = None,
    *,
    max_payload: int = HOST_MAX_PAYLOAD,
    leading_delimiter: bool = False,
) -> bytes:
    """The bytes to put on the line for ``msg``: COBS-encoded frame plus the 0x00 delimiter.

    ``seq`` overrides ``msg.seq``. ``max_payload`` is the receiver's limit (HELLO.max_payload
    when sending to a device). ``leading_delimiter`` prepends a 0x00 so that stray bytes already
    on the line end up in a frame of their own instead of spoiling this one.
    """
    seq = msg.seq if seq is None else seq
    _check_uint("seq", seq, 8)
    payload = msg.pack()
    if len(payload) > max_payload:
        raise EncodeError(f"{msg.TYPE.name} payload is {len(payload)} bytes, the limit is {max_payload}")
    body = bytes([int(msg.TYPE), seq]) + payload
    raw = body + crc16(body).to_bytes(2, "little")
    out = cobs.encode(raw) + b"\x00"
    return b"\x00" + out if leading_delimiter else out


def decode_frame(encoded: bytes, *, max_payload: int = HOST_MAX_PAYLOAD) -> Message:
    """Decodes one frame (COBS bytes, without the 0x00 delimiter); raises a DecodeError subclass."""
    try:
        raw = cobs.decode(encoded)
    except cobs.DecodeError as exc:
        raise CobsError(f"bad COBS encoding: {exc}") from None
    if len(raw) < FRAME_OVERHEAD:
        raise FrameLengthError(f"frame of {len(raw)} bytes is shorter than its header and CRC")
    if len(raw) > max_payload + FRAME_OVERHEAD:
        raise FrameLengthError(f"frame payload of {len(raw) - FRAME_OVERHEAD} bytes exceeds {max_payload}")
    computed = crc16(raw[:-2])
    received = int.from_bytes(raw[-2:], "little")
    if computed != received:
        raise CrcError(computed, received)
    cls = message_class(raw[0])
    try:
        return cls.unpack(raw[2:-2], seq=raw[1])
    except PayloadError:
        raise
    except (ValueError, struct.error) as exc:  # e.g. an out-of-range flag value
        raise PayloadError(f"{cls.TYPE.name} payload: {exc}") from None


class FrameErrorKind(Enum):
    COBS = "cobs"
    LENGTH = "length"
    CRC = "crc"
    UNKNOWN_TYPE = "unknown_type"
    PAYLOAD = "payload"


_ERROR_KINDS: tuple[tuple[type[DecodeError], FrameErrorKind], ...] = (
    (CobsError, FrameErrorKind.COBS),
    (FrameLengthError, FrameErrorKind.LENGTH),
    (CrcError, FrameErrorKind.CRC),
    (UnknownMessageType, FrameErrorKind.UNKNOWN_TYPE),
    (PayloadError, FrameErrorKind.PAYLOAD),
)


@dataclass(frozen=True)
class FrameError:
    """A frame the decoder had to drop; reported in the stream, never raised.

    ``raw`` holds the encoded bytes between the delimiters (cut to 64 bytes for oversized frames,
    whose ``size`` tells the real length).
    """

    kind: FrameErrorKind
    detail: str
    raw: bytes
    size: int
    error: DecodeError | None = field(default=None, compare=False)


class FrameDecoder:
    """Splits a byte stream on 0x00 and decodes each frame.

    ``feed()`` accepts bytes in any split and returns what completed: Message objects for good
    frames, FrameError objects for bad ones. It never raises on line data, and one bad frame
    never affects the next one. Empty frames (consecutive 0x00) are skipped silently: senders use
    them to flush the line. Frames longer than ``max_payload`` are discarded while they arrive,
    so memory stays bounded whatever the line carries.
    """

    def __init__(self, *, max_payload: int = HOST_MAX_PAYLOAD) -> None:
        self.max_payload = max_payload
        # Longest legal COBS encoding of a frame: one code byte per 254 data bytes, plus one.
        raw_max = max_payload + FRAME_OVERHEAD
        self._max_encoded = raw_max + raw_max // 254 + 1
        self._buf = bytearray()
        self._dropped = 0  # bytes of the current oversized frame that were not kept
        self.frames_ok = 0
        self.frames_bad = 0

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held since the last delimiter."""
        return len(self._buf) + self._dropped

    def reset(self) -> None:
        """Forgets any incomplete frame (e.g. after reopening the port)."""
        self._buf.clear()
        self._dropped = 0

    def feed(self, data: bytes | bytearray | memoryview) -> list[Message | FrameError]:
        out: list[Message | FrameError] = []
        view = bytes(data)
        start = 0
        while start < len(view):
            end = view.find(b"\x00", start)
            piece = view[start:] if end < 0 else view[start:end]
            self._append(piece)
            if end < 0:
                break
            item = self._finish()
            if item is not None:
                out.append(item)
            start = end + 1
        return out

    def _append(self, piece: bytes) -> None:
        room = self._max_encoded - len(self._buf)
        if self._dropped or len(piece) > room:
            keep = max(0, min(room, len(piece)))
            self._buf += piece[:keep]
            self._dropped += len(piece) - keep
        else:
            self._buf += piece

    def _finish(self) -> Message | FrameError | None:
        encoded = bytes(self._buf)
        dropped = self._dropped
        self.reset()
        if not encoded and not dropped:
            return None
        if dropped:
            self.frames_bad += 1
            size = len(encoded) + dropped
            return FrameError(
                FrameErrorKind.LENGTH, f"frame of {size} encoded bytes exceeds the limit", encoded[:64], size
            )
        try:
            msg = decode_frame(encoded, max_payload=self.max_payload)
        except DecodeError as exc:
            self.frames_bad += 1
            kind = next(k for cls, k in _ERROR_KINDS if isinstance(exc, cls))
            return FrameError(kind, str(exc), encoded, len(encoded), exc)
        self.frames_ok += 1
        return msg


# --------------------------------------------------------------------------- session helpers


def input_chunks(index: int, data: bytes, max_payload: int) -> list[InputChunk]:
    """Splits one input tensor's bytes into INPUT_CHUNK messages that fit ``max_payload``.

    Chunks come in ascending offset order without gaps, as the device requires. ``seq`` is left
    0: the sender numbers frames as it sends them.
    """
    step = max_payload - 5  # index u8 + offset u32
    if step <= 0:
        raise EncodeError(f"max_payload {max_payload} leaves no room for data")
    if not data:
        return [InputChunk(index=index, offset=0, data=b"")]
    return [
        InputChunk(index=index, offset=off, data=bytes(data[off : off + step]))
        for off in range(0, len(data), step)
    ]


def next_sample_chunk(first: int, remaining: int, *, window: int, hop: int, per_frame: int) -> int:
    """How many samples the next SAMPLES message carries when the device holds ``first`` samples of
    the stream: as many as fit (``per_frame``) and remain, but never past the next window's end, so
    that every message completes at most one window."""
    if window < 1 or not 1 <= hop <= window:
        raise EncodeError(f"window {window} and hop {hop}: need 1 <= hop <= window")
    end = window if first < window else first + (hop - (first - window) % hop)
    return max(0, min(per_frame, end - first, remaining))


def samples_per_frame(channels: int, max_payload: int) -> int:
    """Samples of ``channels`` float32 one SAMPLES payload of ``max_payload`` bytes carries."""
    n = (max_payload - 5) // (4 * channels) if channels >= 1 else 0
    if n < 1:
        raise EncodeError(f"max_payload {max_payload} cannot carry one sample of {channels} channels")
    return n


def sample_chunks(samples: bytes, channels: int, max_payload: int, *, window: int, hop: int,
                  echo: bool = True) -> list[Samples]:
    """Splits a stream (float32 little-endian bytes, ``channels`` values per sample) into SAMPLES
    messages that fit ``max_payload`` and complete at most one window each (window ``window``, hop
    ``hop``), so each answer carries at most one RESULT stream and a lost answer can be replayed.
    The first chunk has START, the last END; ECHO on all when ``echo``."""
    sample_bytes = 4 * channels
    if channels < 1 or len(samples) % sample_bytes:
        raise EncodeError(f"{len(samples)} bytes are not whole samples of {channels} float32")
    per_frame = samples_per_frame(channels, max_payload)
    total = len(samples) // sample_bytes
    echo_flag = SampleFlags.ECHO if echo else SampleFlags.NONE
    out: list[Samples] = []
    pos = 0
    while pos < total or not out:
        n = next_sample_chunk(pos, total - pos, window=window, hop=hop, per_frame=per_frame)
        flags = echo_flag | (SampleFlags.START if pos == 0 else SampleFlags.NONE)
        if pos + n >= total:
            flags |= SampleFlags.END
        out.append(Samples(flags=flags, first=pos,
                           data=bytes(samples[pos * sample_bytes:(pos + n) * sample_bytes])))
        pos += n
    return out


@dataclass
class DeviceInfo:
    """HELLO plus its TENSOR_INFO frames: what the firmware says it runs."""

    hello: Hello
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]

    @classmethod
    def from_messages(cls, hello: Hello, infos: Iterable[TensorInfo]) -> DeviceInfo:
        """Sorts ``infos`` by kind and index; raises PayloadError if one is missing or doubled."""
        slots: dict[tuple[TensorKind, int], TensorInfo] = {}
        for info in infos:
            key = (info.kind, info.index)
            if key in slots:
                raise PayloadError(f"TENSOR_INFO for {info.kind.name.lower()} {info.index} received twice")
            slots[key] = info
        inputs: list[TensorInfo] = []
        outputs: list[TensorInfo] = []
        for kind, count, dest in (
            (TensorKind.INPUT, hello.num_inputs, inputs),
            (TensorKind.OUTPUT, hello.num_outputs, outputs),
        ):
            for i in range(count):
                if (kind, i) not in slots:
                    raise PayloadError(f"TENSOR_INFO for {kind.name.lower()} {i} is missing")
                dest.append(slots.pop((kind, i)))
        if slots:
            extra = ", ".join(f"{k.name.lower()} {i}" for k, i in sorted(slots))
            raise PayloadError(f"TENSOR_INFO for tensors HELLO does not announce: {extra}")
        return cls(hello=hello, inputs=inputs, outputs=outputs)

    # Shorthands for what callers ask most.
    @property
    def engine(self) -> str:
        return self.hello.engine

    @property
    def board(self) -> str:
        return self.hello.board

    @property
    def sha256(self) -> str:
        return self.hello.sha256.hex()

    @property
    def arena_bytes(self) -> int:
        return self.hello.arena_bytes

    @property
    def num_inputs(self) -> int:
        return self.hello.num_inputs

    @property
    def num_outputs(self) -> int:
        return self.hello.num_outputs

    def tensor(self, kind: TensorKind, index: int) -> TensorInfo:
        return (self.inputs if kind == TensorKind.INPUT else self.outputs)[index]


class TensorAssembler:
    """Collects TENSOR_CHUNK data for one tensor and tells which byte ranges are still missing."""

    def __init__(self, size: int) -> None:
        self.data = bytearray(size)
        self._have: list[tuple[int, int]] = []  # sorted, merged [start, end) ranges

    def add(self, chunk: TensorChunk) -> None:
        """Stores the chunk; raises PayloadError if it reaches past the tensor's end."""
        start, end = chunk.offset, chunk.offset + len(chunk.data)
        if end > len(self.data):
            raise PayloadError(f"chunk [{start}, {end}) is beyond the tensor's {len(self.data)} bytes")
        self.data[start:end] = chunk.data
        if start == end:
            return
        merged: list[tuple[int, int]] = []
        for s, e in sorted([*self._have, (start, end)]):
            if merged and s <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], e))
            else:
                merged.append((s, e))
        self._have = merged

    def missing(self) -> list[tuple[int, int]]:
        """Byte ranges ``(offset, length)`` not received yet; ask for them with READ_TENSOR."""
        gaps: list[tuple[int, int]] = []
        pos = 0
        for s, e in self._have:
            if s > pos:
                gaps.append((pos, s - pos))
            pos = e
        if pos < len(self.data):
            gaps.append((pos, len(self.data) - pos))
        return gaps

    @property
    def complete(self) -> bool:
        return not self.missing()
