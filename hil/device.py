"""The host end of the mcuforge serial protocol: a device you can ask for inferences.

``Device`` wraps an open pyserial port (``/dev/ttyACM0``, ``socket://127.0.0.1:PORT`` for an
emulator, ``rfc2217://…``) and speaks docs/protocol.md over it: it identifies the firmware,
loads input tensors in chunks, runs the model and collects the outputs and the elapsed ticks,
retrying whatever the line damaged or lost. Every failure is a typed ``DeviceError``; nothing is
printed. Typical use::

    with Device.open("socket://127.0.0.1:4321", timeout=2.0) as dev:
        info = dev.hello(expect_sha256=model_sha256)       # raises ModelMismatch if stale
        res = dev.infer([x])                                # res.outputs, res.elapsed, res.unit

Inputs are written again before every run: the generated code may reuse input memory for
activations during ``invoke()`` (as TensorFlow Lite Micro does), so an input read back after a
run shows what the engine left there.

Recovery follows docs/protocol.md section 6: a NACK or a missing reply resends the request with
the same seq (the device answers repeats idempotently; a repeated run is replayed, not run
again), lost output chunks are read again with READ_TENSOR, an ERROR is final. A BOOT HELLO in
the middle of an operation raises ``DeviceReset``; the caller decides whether to try the vector
again. A result is never dropped silently: either ``infer`` returns complete outputs, or it
raises.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import numpy as np
import serial

from mcuforge.generator.errors import McuforgeError

from .protocol import (
    HOST_MAX_PAYLOAD,
    PROTOCOL_VERSION,
    Ack,
    BeginFlags,
    DecodeError,
    DeviceInfo,
    ErrorCode,
    ErrorReport,
    Hello,
    HelloRequest,
    InferBegin,
    InferRun,
    Log,
    LogLevel,
    Message,
    MsgType,
    Nack,
    ProfileData,
    ProfileRequest,
    ReadTensor,
    RemoteError,
    Result,
    ResultEnd,
    SampleFlags,
    Samples,
    TensorAssembler,
    TensorChunk,
    TensorInfo,
    TensorKind,
    TickUnit,
    decode_frame,
    encode_frame,
    input_chunks,
    next_sample_chunk,
    samples_per_frame,
)
from .serial_link import open_serial

__all__ = [
    "Device",
    "DeviceError",
    "DeviceReset",
    "DeviceTimeout",
    "InferResult",
    "LinkLost",
    "ModelMismatch",
    "OperatorProfile",
    "ProfileUnavailable",
    "ReplayWindow",
    "RequestRefused",
    "unit_name",
]

POLL_INTERVAL = 0.01
"""Read timeout set on the link: how long one read waits before the deadlines are checked."""

UNIT_NAMES: dict[TickUnit, str] = {
    TickUnit.NONE: "none",
    TickUnit.CYCLES: "cycles",
    TickUnit.INSTRUCTIONS: "instructions",
    TickUnit.MICROSECONDS: "us",
    TickUnit.NANOSECONDS: "ns",
    TickUnit.RAW: "ticks",
}

_TEXT_BYTES = frozenset(b"\t\n\r") | frozenset(range(0x20, 0x7F))
_MAX_SEGMENT = 2 * HOST_MAX_PAYLOAD + 64  # longest legal encoded frame is ~HOST_MAX_PAYLOAD + 21
_KINDS = {"input": TensorKind.INPUT, "output": TensorKind.OUTPUT}


def unit_name(unit: TickUnit | int) -> str:
    """``"cycles"``, ``"instructions"``, ``"us"``, ``"ns"``, ``"ticks"`` (RAW) or ``"none"``."""
    try:
        return UNIT_NAMES[TickUnit(unit)]
    except ValueError:
        return f"unit {int(unit)}"


# --------------------------------------------------------------------------- errors


class DeviceError(McuforgeError):
    """Talking to the device failed."""


class DeviceTimeout(DeviceError):
    """The device did not answer within the timeout (and its retries)."""


class DeviceReset(DeviceError):
    """The device restarted (a BOOT HELLO arrived, or it lost its session state) during an
    operation. ``info`` is what it says about itself after the restart."""

    def __init__(self, message: str, info: DeviceInfo, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.info = info


class ModelMismatch(DeviceError):
    """The firmware was generated from another model than the one expected."""

    def __init__(self, message: str, expected: str, actual: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.expected = expected
        self.actual = actual


class LinkLost(DeviceError):
    """The port could not be opened, or closed under us (unplugged, emulator gone)."""


PROFILE_HINT = ("build the firmware with the per-operator profile: set `profile: true` in mcuforge.yaml (or create "
                "the project with `mcuforge new --profile`), then `mcuforge update`, `mcuforge build` and flash it")


class ProfileUnavailable(DeviceError):
    """The firmware records no per-operator profile (built without MCF_PROFILE=1)."""


class RequestRefused(DeviceError):
    """The device answered a request with an ERROR frame: ``code`` (ErrorCode) and ``text``."""

    def __init__(self, message: str, code: int, text: str, request: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.code = code
        self.text = text
        self.request = request


# --------------------------------------------------------------------------- results


@dataclass
class InferResult:
    """Outputs of one inference, shaped and typed as the device's TENSOR_INFO says.

    ``elapsed`` is the time ``invoke()`` took, in ``unit``: ``"cycles"`` (hardware cycle
    counter), ``"instructions"`` (QEMU ``-icount``), ``"us"``, ``"ns"``, ``"ticks"`` (a raw
    timer) or ``"none"`` (no counter, elapsed 0). ``retries`` counts the resends and re-reads it
    took to get the result over the line (0 on a clean line).
    """

    outputs: list[np.ndarray]
    elapsed: int
    unit: str
    retries: int = 0


@dataclass
class ReplayWindow(InferResult):
    """One window of a replayed sample stream (`Device.replay`): the outputs as for `infer`, plus
    ``window`` (0 for the first window of the stream) and ``input``, the input tensor the device's
    sensor glue built for it (None when the device was not asked to echo it, or the echo was lost on
    the line and the run had to be replayed)."""

    window: int = 0
    input: np.ndarray | None = None


@dataclass
class OperatorProfile:
    """Per-operator ticks of the device's last inference (``Device.profile``): ``ticks[i]`` is what
    operator ``i`` (the .tflite's operator order) took, in ``unit``; operators without a kernel call
    (RESHAPE, SQUEEZE, …: they share their input's bytes) are exactly 0."""

    ticks: list[int]
    unit: str
    retries: int = 0

    @property
    def total(self) -> int:
        return sum(self.ticks)


class _Resend(Exception):
    """Internal: the outstanding request must be sent again now (a NACK said it was damaged)."""


# --------------------------------------------------------------------------- the device


class Device:
    """A device running mcuforge firmware behind a pyserial port. See the module docstring.

    ``link`` must be open; the Device sets its read timeout to a short poll interval and owns it
    from then on (``close()`` closes it). ``timeout`` is the wait for each reply (and between the
    frames of one answer), ``infer_timeout`` the wait for an inference to finish after the
    device acknowledged it, ``retries`` the resends per request. ``on_log`` receives the
    firmware's LOG frames (prefixed ``"error: "``, ``"warning: "``, ``"debug: "`` unless info)
    and the text lines it prints outside frames (such as the self-test line).

    Worst case, a silent device makes a request fail after ``(retries + 2) × timeout`` seconds:
    ``retries + 1`` tries, then one HELLO_REQ to tell a lost session from a dead device.
    """

    def __init__(
        self,
        link: serial.SerialBase,
        *,
        timeout: float = 5.0,
        infer_timeout: float = 120.0,
        retries: int = 3,
        on_log: Callable[[str], None] | None = None,
    ) -> None:
        if timeout <= 0 or infer_timeout <= 0:
            raise ValueError("timeouts must be positive")
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.link = link
        self.timeout = float(timeout)
        self.infer_timeout = float(infer_timeout)
        self.retries = int(retries)
        self.on_log = on_log
        self.info: DeviceInfo | None = None
        self.boot_text = ""
        """Printable text received outside frames (e.g. the self-test line), accumulated."""
        self.logs: list[tuple[int, str]] = []
        """LOG frames received: (level, text)."""
        self.resets = 0
        """BOOT HELLOs seen after the first successful hello()."""
        self.frames_ok = 0
        self.frames_bad = 0
        self.device_frames_lost = 0
        """Gaps in the device's frame numbering (frames that never arrived intact)."""
        self._port = str(getattr(link, "port", None) or link)
        self._seq = 0
        self._max_payload = 0  # unknown until HELLO; only HELLO_REQ is sent before
        self._expect_sha256: str | None = None
        self._segment = bytearray()
        self._inbox: deque[Message] = deque()
        self._recent: deque[str] = deque(maxlen=8)
        self._text_line = ""
        self._dev_seq: int | None = None
        self._retries_now = 0
        self._closed = False
        try:
            link.timeout = POLL_INTERVAL
        except (OSError, ValueError) as exc:
            raise LinkLost(f"cannot configure {self._port}: {exc}") from None

    # ---- opening and closing -------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, baudrate: int = 115200, **kw: Any) -> Device:
        """Opens ``url`` with ``serial.serial_for_url`` (a ``socket://`` link keeping the first
        bytes: serial_link.py) and returns a Device on it. Keyword arguments other than
        ``baudrate`` go to ``Device()``. Raises LinkLost if it cannot."""
        try:
            link = open_serial(url, baudrate=baudrate, timeout=POLL_INTERVAL)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise LinkLost(
                f"cannot open {url}: {_reason(exc)}",
                hint="check that the board is plugged in and that no other program holds the port, "
                "or pass --port with the right one",
            ) from None
        try:
            return cls(link, **kw)
        except BaseException:
            with suppress(Exception):
                link.close()
            raise

    def close(self) -> None:
        """Closes the link; safe to call twice."""
        if not self._closed:
            self._closed = True
            with suppress(Exception):
                self.link.close()

    def __enter__(self) -> Device:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- public operations ---------------------------------------------------------------------

    def hello(self, *, expect_sha256: str | None = None, wait: float | None = None) -> DeviceInfo:
        """Asks the device who it is (HELLO_REQ, resent every ``timeout`` seconds) and returns
        what it says. ``wait`` bounds the whole exchange (default ``(retries + 1) × timeout``);
        give more when the device is still booting. With ``expect_sha256`` (hex SHA-256 of the
        .tflite), raises ModelMismatch when the firmware was built from another model."""
        self._drain()
        budget = wait if wait is not None else self.timeout * (self.retries + 1)
        info = self._hello_exchange(budget)
        self._check_info(info, expect_sha256)
        self._set_info(info)
        self._expect_sha256 = expect_sha256.lower() if expect_sha256 else self._expect_sha256
        return info

    def infer(self, inputs: Sequence[np.ndarray], *, reset_state: bool = False) -> InferResult:
        """Writes ``inputs`` (one array per model input, dtype and element count as the device
        reports; any shape of that size), runs the model once and returns its outputs and elapsed
        ticks. Raises DeviceReset if the device restarted meanwhile: call it again to retry.
        ``reset_state``: a stateful model starts a new stream (its state back to the initial
        values) with this inference; otherwise it continues from the state the last one left."""
        self._retries_now = 0
        self._load(inputs, reset_state=reset_state)
        return self._result()

    def load_inputs(self, inputs: Sequence[np.ndarray], *, reset_state: bool = False) -> None:
        """The first half of ``infer``: INFER_BEGIN and the inputs' chunks, nothing runs yet (so
        ``read_tensor("input", i)`` shows what arrived)."""
        self._retries_now = 0
        self._load(inputs, reset_state=reset_state)

    def run(self) -> InferResult:
        """The second half of ``infer``: INFER_RUN on the inputs loaded by ``load_inputs``."""
        self._retries_now = 0
        return self._result()

    def replay(self, samples: np.ndarray, *, window: int, hop: int, echo: bool = True,
               on_window: Callable[[ReplayWindow], None] | None = None) -> list[ReplayWindow]:
        """Streams ``samples`` (``[n, channels]`` float32, in the pipeline's channel order and
        units) into the firmware's sensor pipeline (SAMPLES messages, docs/protocol.md) and returns
        one result per window it completed: the device builds the input tensor itself, runs the
        model and sends the outputs; with ``echo`` it also sends the input tensor it built, before
        running the model. ``window`` and ``hop`` are the pipeline's (mcuforge.yaml): they split the
        stream so that each message completes at most one window, and the device must agree on how
        many windows each completes.

        Losses are recovered like those of ``infer``; an echoed input lost on the line (the device
        cannot send it again once the model ran) is recovered by restarting the stream at that
        window's first sample, which builds the same window again. Raises DeviceReset if the device
        restarted (the stream is lost: replay it again)."""
        info = self._ensure_info()
        x = np.asarray(samples)
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] < 1:
            raise DeviceError(f"samples must be [samples, channels], got {list(x.shape)}")
        data = np.ascontiguousarray(x, dtype="<f4").tobytes()
        channels, total = x.shape[1], x.shape[0]
        sample_bytes = 4 * channels
        per_frame = samples_per_frame(channels, self._max_payload)
        self._drain()

        def windows_in(n: int) -> int:
            return 0 if n < window else (n - window) // hop + 1

        results: list[ReplayWindow] = []
        pos = 0  # next sample of `samples` to send
        base = 0  # `samples` index of the device's sample 0 (moves when the stream is restarted)
        restarts = 0
        while pos < total or pos == 0:
            first = pos - base
            n = next_sample_chunk(first, total - pos, window=window, hop=hop, per_frame=per_frame)
            flags = (SampleFlags.ECHO if echo else SampleFlags.NONE) | \
                (SampleFlags.START if first == 0 else SampleFlags.NONE) | \
                (SampleFlags.END if pos + n >= total else SampleFlags.NONE)
            chunk = Samples(flags=flags, first=first, data=data[pos * sample_bytes:(pos + n) * sample_bytes])
            self._retries_now = restarts
            got = self._samples(chunk, info, windows_in(first + n) - windows_in(first), window, hop)
            pos += n
            if got is not None and echo and got.input is None:
                # The echo was lost: build this window again from its first sample.
                restarts += 1
                if restarts > self.retries:
                    raise DeviceError(f"the input tensor of window {len(results)} was lost on the line "
                                      f"{restarts} times{self._seen()}",
                                      hint="check the line for noise, or replay without comparing inputs")
                base = pos = pos - window
                continue
            if got is not None:
                got.window = len(results)
                results.append(got)
                restarts = 0
                if on_window is not None:
                    on_window(got)
            if total == 0:
                break
        return results

    def profile(self) -> OperatorProfile:
        """The per-operator profile of the last inference (PROFILE_REQ, docs/protocol.md): ticks per
        operator, in the unit of ``infer``'s ``elapsed``. Raises ProfileUnavailable (with the hint how to
        enable it) when the firmware was built without MCF_PROFILE=1. Frames lost on the line are asked
        for again (only the missing operators)."""
        info = self._ensure_info()
        if not info.hello.has_profile:
            raise ProfileUnavailable(f"the firmware on {self._port} ('{info.hello.model_name}') records no "
                                     "per-operator profile (built without MCF_PROFILE=1)", hint=PROFILE_HINT)
        self._retries_now = 0
        self._drain()
        got: dict[int, int] = {}
        state: dict[str, int] = {}
        first, count = 0, 0  # everything
        for rounds in range(self.retries + 2):
            if rounds:
                self._retries_now += 1
            self._profile_range(first, count, got, state)
            num_ops = state.get("num_ops")
            if num_ops is None:
                if state.get("acked") == 0 and first == 0:
                    return OperatorProfile([], unit_name(TickUnit(state.get("unit", 0))), self._retries_now)
                continue
            missing = [i for i in range(num_ops) if i not in got]
            if not missing:
                return OperatorProfile([got[i] for i in range(num_ops)], unit_name(TickUnit(state["unit"])),
                                       self._retries_now)
            first = missing[0]
            count = next((k for k, i in enumerate(missing) if i != first + k), len(missing))
        raise DeviceError(f"could not read the per-operator profile from the device on {self._port} in "
                          f"{self.retries + 2} tries{self._seen()}")

    def _profile_range(self, first: int, count: int, got: dict[int, int], state: dict[str, int]) -> None:
        """One PROFILE_REQ: PROFILE frames into ``got`` (operator → ticks), then its ACK."""

        def on_data(reply: Message, seq: int) -> bool:
            if isinstance(reply, ProfileData) and reply.req_seq == seq:
                state["num_ops"], state["unit"] = reply.num_ops, int(reply.tick_unit)
                for k, t in enumerate(reply.ticks):
                    if reply.first + k < reply.num_ops:
                        got[reply.first + k] = t
                return True
            if isinstance(reply, ErrorReport) and reply.req_seq == seq and \
                    reply.req_type == MsgType.PROFILE_REQ and reply.code in (ErrorCode.NO_PROFILE, ErrorCode.BAD_TYPE):
                raise ProfileUnavailable(f"the firmware on {self._port} records no per-operator profile "
                                         f"({reply.text or ErrorCode(reply.code).name})", hint=PROFILE_HINT)
            return False

        ack = self._request(ProfileRequest(first=first, count=count), f"PROFILE_REQ (operators {first}…)", on_data)
        state["acked"] = ack.value

    def read_tensor(self, kind: str, index: int) -> np.ndarray:
        """Reads input or output ``index`` as the device holds it now (``kind``: "input" or
        "output"). An input read after a run shows what the engine left there."""
        try:
            tkind = _KINDS[kind]
        except KeyError:
            raise ValueError(f"kind must be 'input' or 'output', not {kind!r}") from None
        info = self._ensure_info()
        tensors = info.inputs if tkind == TensorKind.INPUT else info.outputs
        if not 0 <= index < len(tensors):
            raise DeviceError(f"the model has {len(tensors)} {kind}s; there is no {kind} {index}")
        t = tensors[index]
        self._drain()
        asm = TensorAssembler(t.nbytes)
        self._fetch_missing(tkind, index, asm)
        return np.frombuffer(bytes(asm.data), dtype=np.dtype(t.dtype.numpy_name)).reshape(t.dims).copy()

    def read_state(self, nbytes: int) -> np.ndarray:
        """The state buffer of a stateful model (``nbytes`` long, the compiled model's state size)
        as the device holds it now, as uint8."""
        self._drain()
        asm = TensorAssembler(nbytes)
        self._fetch_missing(TensorKind.STATE, 0, asm)
        return np.frombuffer(bytes(asm.data), dtype=np.uint8).copy()

    def _load(self, inputs: Sequence[np.ndarray], *, reset_state: bool = False) -> None:
        info = self._ensure_info()
        blobs = self._input_bytes(info, inputs)
        self._drain()
        flags = BeginFlags.RESET_STATE if reset_state else BeginFlags.NONE
        self._request(InferBegin(flags=flags), "INFER_BEGIN")
        for index, data in enumerate(blobs):
            for chunk in input_chunks(index, data, self._max_payload):
                ack = self._request(chunk, f"INPUT_CHUNK (input {index}, offset {chunk.offset})")
                end = chunk.offset + len(chunk.data)
                if ack.value != end:
                    raise DeviceError(
                        f"the device holds {ack.value} bytes of input {index} after a chunk ending at {end}",
                        hint="the firmware does not follow protocol version 1; rebuild it with this mcuforge",
                    )

    def _result(self) -> InferResult:
        info = self._ensure_info()
        data, elapsed, unit = self._run(info)
        arrays = [
            np.frombuffer(bytes(buf), dtype=np.dtype(t.dtype.numpy_name)).reshape(t.dims).copy()
            for buf, t in zip(data, info.outputs, strict=True)
        ]
        return InferResult(arrays, elapsed, unit_name(unit), self._retries_now)

    # ---- identification ------------------------------------------------------------------------

    def _hello_exchange(self, budget: float) -> DeviceInfo:
        seq = self._next_seq()
        frame = encode_frame(HelloRequest(), seq, leading_delimiter=True)
        give_up = time.monotonic() + budget
        tries = 0
        while True:
            if tries:
                self._retries_now += 1
            self._write(frame)
            tries += 1
            deadline = min(time.monotonic() + self.timeout, give_up)
            hello: Hello | None = None
            infos: dict[tuple[TensorKind, int], TensorInfo] = {}
            while True:
                msg = self._next(deadline)
                if msg is None:
                    break
                if isinstance(msg, Hello):
                    if not msg.is_boot and msg.req_seq == seq:
                        hello, infos = msg, {}
                        deadline = max(deadline, time.monotonic() + self.timeout)
                        if msg.num_inputs + msg.num_outputs == 0:
                            return DeviceInfo.from_messages(msg, [])
                elif isinstance(msg, TensorInfo) and hello is not None:
                    infos[(msg.kind, msg.index)] = msg
                    deadline = max(deadline, time.monotonic() + self.timeout)
                    if len(infos) == hello.num_inputs + hello.num_outputs:
                        try:
                            return DeviceInfo.from_messages(hello, infos.values())
                        except DecodeError:
                            break  # an index outside the announced counts: ask again
                elif isinstance(msg, Nack) and msg.last_seq != seq:
                    break
                elif isinstance(msg, ErrorReport) and msg.req_seq == seq:
                    self._refused(msg)
            if time.monotonic() >= give_up:
                got = "no HELLO" if hello is None else f"HELLO but {len(infos)} of its TENSOR_INFO frames"
                raise DeviceTimeout(
                    f"no answer from the device on {self._port} to HELLO_REQ within {budget:g} s "
                    f"({tries} tries; got {got}){self._seen()}",
                    hint="check that the firmware is running and serves the host (mcf_host_serve), that the "
                    "port and baud rate are right, and that nothing else is using the port",
                )

    def _check_info(self, info: DeviceInfo, expect_sha256: str | None) -> None:
        h = info.hello
        if h.version != PROTOCOL_VERSION:
            raise DeviceError(
                f"the firmware speaks protocol version {h.version}; this mcuforge speaks {PROTOCOL_VERSION}",
                hint="rebuild the firmware with this mcuforge (`mcuforge update`, `mcuforge build`) and flash it",
            )
        want = (expect_sha256 or self._expect_sha256 or "").lower()
        if want and h.sha256_hex != want:
            actual = h.sha256_hex if any(h.sha256) else "unknown"
            raise ModelMismatch(
                f"the firmware runs model {_short(actual)} ('{h.model_name}'), not the model under test "
                f"{_short(want)}",
                expected=want,
                actual=actual,
                hint="the firmware is stale or built for another model: rebuild and flash it "
                "(`mcuforge build`, `mcuforge flash`)",
            )

    def _ensure_info(self) -> DeviceInfo:
        if self._closed:
            raise DeviceError(f"the connection to {self._port} is closed")
        if self.info is None:
            self.hello()
        assert self.info is not None
        return self.info

    def _input_bytes(self, info: DeviceInfo, inputs: Sequence[np.ndarray]) -> list[bytes]:
        if isinstance(inputs, np.ndarray):
            raise TypeError("infer() takes a list of arrays, one per model input")
        if len(inputs) != len(info.inputs):
            raise DeviceError(f"the model takes {len(info.inputs)} input(s), got {len(inputs)}")
        blobs = []
        for i, (x, t) in enumerate(zip(inputs, info.inputs, strict=True)):
            arr = np.asarray(x)
            want = np.dtype(t.dtype.numpy_name)
            if arr.dtype != want or arr.size != t.elements or arr.size * want.itemsize != t.nbytes:
                raise DeviceError(
                    f"input {i} ('{t.name}') must be {t.dtype.name.lower()} with {t.elements} elements "
                    f"{list(t.dims)}; got {arr.dtype} {list(arr.shape)}"
                )
            blobs.append(np.ascontiguousarray(arr, dtype=want).tobytes())
        return blobs

    # ---- requests ------------------------------------------------------------------------------

    def _request(self, msg: Message, what: str,
                 on_data: Callable[[Message, int], bool] | None = None) -> Ack:
        """Sends ``msg`` and waits for its ACK, resending on NACK or timeout. A request answered
        by a stream of data frames before its ACK passes ``on_data(reply, seq)``: it returns True
        for a frame it took (which restarts the reply timeout) and may raise to end the request."""
        seq = self._next_seq()
        frame = encode_frame(msg, seq, max_payload=self._max_payload, leading_delimiter=True)
        tries = 0
        while True:
            self._write(frame)
            tries += 1
            deadline = time.monotonic() + self.timeout
            with suppress(_Resend):
                while True:
                    reply = self._next(deadline, during=what)
                    if reply is None:
                        break
                    if isinstance(reply, Ack) and reply.req_seq == seq and reply.req_type == msg.TYPE:
                        return reply
                    if on_data is not None and on_data(reply, seq):
                        deadline = time.monotonic() + self.timeout
                    else:
                        self._common_reply(reply, seq, msg.TYPE)
            if tries > self.retries:
                self._give_up(what, seq, tries)
            self._retries_now += 1

    def _common_reply(self, reply: Message, seq: int, req_type: int) -> None:
        """NACK and ERROR handling shared by every request; anything else is stale: ignored."""
        if isinstance(reply, Nack):
            if reply.last_seq != seq:  # our request did not arrive intact: send it again now
                raise _Resend
        elif isinstance(reply, ErrorReport) and reply.req_seq == seq and reply.req_type == req_type:
            if reply.code == ErrorCode.BAD_STATE and req_type in (MsgType.INPUT_CHUNK, MsgType.INFER_RUN):
                # We always send INFER_BEGIN first, so a device that does not know it restarted
                # (and its BOOT HELLO was lost on the way).
                info = self._hello_exchange(self.timeout * (self.retries + 1))
                self._after_reset(info)
                raise DeviceReset(
                    f"the device on {self._port} lost its session state (it was reset; its boot HELLO "
                    "did not arrive)",
                    info,
                    hint="send the inputs again",
                )
            self._refused(reply)

    def _refused(self, report: ErrorReport) -> None:
        err = RemoteError(report)
        try:
            req = MsgType(report.req_type).name
        except ValueError:
            req = f"type 0x{report.req_type:02x}"
        raise RequestRefused(str(err), report.code, report.text, req)

    def _give_up(self, what: str, seq: int, tries: int) -> None:
        """A request got no answer after all its tries: tell a lost session from a dead device."""
        waited = f"{tries} tries of {self.timeout:g} s"
        try:
            info = self._hello_exchange(self.timeout)
        except DeviceTimeout:
            raise DeviceTimeout(
                f"no answer from the device on {self._port} to {what} (seq {seq}) after {waited}, nor to "
                f"HELLO_REQ{self._seen()}",
                hint="the device stopped responding: check it is powered and running (reset it), or raise "
                "the timeout for slow links",
            ) from None
        self._set_info(info)
        raise DeviceError(
            f"the device on {self._port} answers HELLO but not {what} (seq {seq}) after {waited}: the "
            f"session was lost{self._seen()}",
            hint="send the request again; if it keeps happening, check the line for noise",
        )

    # ---- inference -----------------------------------------------------------------------------

    def _run(self, info: DeviceInfo) -> tuple[list[bytearray], int, TickUnit]:
        """INFER_RUN and its answer: ACK, RESULT, TENSOR_CHUNK…, RESULT_END (docs/protocol.md 6).

        Phases: "ack" (reply timeout), "result" (acknowledged: inference timeout), "collect"
        (RESULT in hand: reply timeout between frames). Losses: no ACK/RESULT in time, a NACK, or
        a RESULT_END whose RESULT never came → send INFER_RUN again with the same seq (the device
        runs it if the request was lost, or replays the stored answer). Chunks or RESULT_END lost
        → the missing output bytes are read with READ_TENSOR."""
        seq = self._next_seq()
        frame = encode_frame(InferRun(), seq, max_payload=self._max_payload, leading_delimiter=True)
        what = "INFER_RUN"
        asms = [TensorAssembler(t.nbytes) for t in info.outputs]
        result: Result | None = None
        end: ResultEnd | None = None
        acked_once = False
        tries = 0
        phase = "send"
        deadline = 0.0
        while end is None:
            if phase == "send":
                if tries > self.retries:
                    self._give_up(what + (" (acknowledged, then no result)" if acked_once else ""), seq, tries)
                if tries:
                    self._retries_now += 1
                self._write(frame)
                tries += 1
                phase, deadline = "ack", time.monotonic() + self.timeout
            msg = self._next(deadline, during=what)
            now = time.monotonic()
            if msg is None:
                if phase == "collect":
                    self._retries_now += 1
                    break  # RESULT_END or some chunks were lost: read the missing bytes below
                phase = "send"
            elif isinstance(msg, Ack) and msg.req_seq == seq and msg.req_type == MsgType.INFER_RUN:
                if phase == "ack":
                    acked_once = True
                    phase, deadline = "result", now + self.infer_timeout
            elif isinstance(msg, Result) and msg.req_seq == seq:
                if result is None:
                    result = msg
                phase, deadline = "collect", now + self.timeout
            elif isinstance(msg, TensorChunk) and msg.kind == TensorKind.OUTPUT:
                # After INFER_RUN only this run's stream (or its replay: the same bytes) has chunks.
                if msg.index < len(asms) and msg.offset + len(msg.data) <= len(asms[msg.index].data):
                    asms[msg.index].add(msg)
                deadline = max(deadline, now + self.timeout)
            elif isinstance(msg, ResultEnd) and msg.req_seq == seq:
                if result is None:
                    phase = "send"  # its RESULT was lost: a repeat replays the whole answer
                else:
                    end = msg
            elif isinstance(msg, Nack):
                if phase == "ack" and msg.last_seq != seq:
                    phase = "send"  # INFER_RUN arrived damaged
            else:
                self._common_reply(msg, seq, MsgType.INFER_RUN)
        assert result is not None
        if result.status != 0:
            raise DeviceError(f"the inference failed on the device (status {result.status})")
        if result.num_outputs != len(info.outputs):
            raise DeviceError(
                f"the device returned {result.num_outputs} outputs; its HELLO announced {len(info.outputs)}"
            )
        total = sum(t.nbytes for t in info.outputs)
        if end is not None and end.total_bytes != total:
            raise DeviceError(f"RESULT_END counts {end.total_bytes} output bytes; the outputs have {total}")
        for index, asm in enumerate(asms):
            if not asm.complete:
                self._retries_now += 1
                self._fetch_missing(TensorKind.OUTPUT, index, asm)
        return [asm.data for asm in asms], result.elapsed, result.tick_unit

    def _samples(self, msg: Samples, info: DeviceInfo, expected: int, window: int, hop: int) -> ReplayWindow | None:
        """One SAMPLES request and its answer: ACK (value = windows completed, 0 or 1 here), then
        for a completed window [TENSOR_CHUNK input…] RESULT TENSOR_CHUNK… RESULT_END. Losses are
        handled as for INFER_RUN: the request is resent with the same seq, and the device answers
        a repeat without pushing the samples again (replaying the RESULT stream, not the echo)."""
        seq = self._next_seq()
        frame = encode_frame(msg, seq, max_payload=self._max_payload, leading_delimiter=True)
        what = f"SAMPLES (samples {msg.first}…)"
        echo_index = 0  # the sensor pipeline feeds input 0
        in_asm = TensorAssembler(info.inputs[echo_index].nbytes) if info.inputs else None
        asms = [TensorAssembler(t.nbytes) for t in info.outputs]
        result: Result | None = None
        end: ResultEnd | None = None
        acked: int | None = None
        tries = 0
        phase = "send"
        deadline = 0.0
        while end is None:
            if phase == "send":
                if tries > self.retries:
                    self._give_up(what, seq, tries)
                if tries:
                    self._retries_now += 1
                self._write(frame)
                tries += 1
                phase, deadline = "ack", time.monotonic() + self.timeout
            msg_in = self._next(deadline, during=what)
            now = time.monotonic()
            if msg_in is None:
                if phase == "collect":
                    self._retries_now += 1
                    break  # chunks or RESULT_END lost: read the missing output bytes below
                phase = "send"
            elif isinstance(msg_in, Ack) and msg_in.req_seq == seq and msg_in.req_type == MsgType.SAMPLES:
                if msg_in.value != expected:
                    raise DeviceError(
                        f"the device says samples {msg.first}… complete {msg_in.value} window(s); the pipeline "
                        f"(window {window}, hop {hop}) completes {expected}",
                        hint="the firmware was built with another sensor configuration: `mcuforge update`, "
                        "`mcuforge build`, then flash it",
                    )
                acked = msg_in.value
                if acked == 0:
                    return None
                if phase == "ack":
                    phase, deadline = "result", now + self.infer_timeout
            elif isinstance(msg_in, TensorChunk) and msg_in.kind == TensorKind.INPUT:
                if in_asm is not None and msg_in.index == echo_index and \
                        msg_in.offset + len(msg_in.data) <= len(in_asm.data):
                    in_asm.add(msg_in)
                deadline = max(deadline, now + self.timeout)
            elif isinstance(msg_in, Result) and msg_in.req_seq == seq:
                if result is None:
                    result = msg_in
                phase, deadline = "collect", now + self.timeout
            elif isinstance(msg_in, TensorChunk) and msg_in.kind == TensorKind.OUTPUT:
                if msg_in.index < len(asms) and msg_in.offset + len(msg_in.data) <= len(asms[msg_in.index].data):
                    asms[msg_in.index].add(msg_in)
                deadline = max(deadline, now + self.timeout)
            elif isinstance(msg_in, ResultEnd) and msg_in.req_seq == seq:
                if result is None:
                    phase = "send"  # its RESULT was lost: a repeat replays the answer
                else:
                    end = msg_in
            elif isinstance(msg_in, Nack):
                if phase == "ack" and msg_in.last_seq != seq:
                    phase = "send"
            elif isinstance(msg_in, ErrorReport) and msg_in.req_seq == seq and msg_in.req_type == MsgType.SAMPLES:
                if msg_in.code in (ErrorCode.BAD_STATE, ErrorCode.GAP):
                    info_now = self._hello_exchange(self.timeout * (self.retries + 1))
                    self._after_reset(info_now)
                    raise DeviceReset(
                        f"the device on {self._port} lost the sample stream at sample {msg.first} "
                        f"({msg_in.text}): it was reset",
                        info_now,
                        hint="replay the recording again",
                    )
                self._refused(msg_in)
            else:
                self._common_reply(msg_in, seq, MsgType.SAMPLES)
        assert result is not None
        if result.status != 0:
            raise DeviceError(f"the inference failed on the device (status {result.status})")
        for index, asm in enumerate(asms):
            if not asm.complete:
                self._retries_now += 1
                self._fetch_missing(TensorKind.OUTPUT, index, asm)
        outputs = [np.frombuffer(bytes(a.data), dtype=np.dtype(t.dtype.numpy_name)).reshape(t.dims).copy()
                   for a, t in zip(asms, info.outputs, strict=True)]
        built = None
        if in_asm is not None and in_asm.complete and msg.flags & SampleFlags.ECHO:
            t = info.inputs[echo_index]
            built = np.frombuffer(bytes(in_asm.data), dtype=np.dtype(t.dtype.numpy_name)).reshape(t.dims).copy()
        return ReplayWindow(outputs, result.elapsed, unit_name(result.tick_unit), self._retries_now, input=built)

    def _fetch_missing(self, kind: TensorKind, index: int, asm: TensorAssembler) -> None:
        """READ_TENSOR for every range ``asm`` lacks, until it is complete."""
        rounds = 0
        while not asm.complete:
            offset, length = asm.missing()[0]
            if rounds:
                self._retries_now += 1
            rounds += 1
            if rounds > self.retries + 1:
                raise DeviceError(
                    f"could not read {kind.name.lower()} {index} bytes [{offset}, {offset + length}) "
                    f"from the device on {self._port} in {rounds - 1} tries{self._seen()}"
                )
            self._read_range(kind, index, offset, length, asm)

    def _read_range(self, kind: TensorKind, index: int, offset: int, length: int, asm: TensorAssembler) -> None:
        """One READ_TENSOR: its TENSOR_CHUNK frames into ``asm``, then its ACK. Whatever is still
        missing is asked for again by the caller."""

        def on_data(reply: Message, seq: int) -> bool:
            if not isinstance(reply, TensorChunk):
                return False
            if reply.kind == kind and reply.index == index and reply.offset + len(reply.data) <= len(asm.data):
                asm.add(reply)
            return True

        msg = ReadTensor(kind=kind, index=index, offset=offset, length=length)
        self._request(msg, f"READ_TENSOR ({kind.name.lower()} {index}, [{offset}, {offset + length}))", on_data)

    # ---- resets --------------------------------------------------------------------------------

    def _on_boot_hello(self, hello: Hello, during: str | None) -> None:
        """A BOOT HELLO arrived: collect its TENSOR_INFO frames; raise DeviceReset mid-operation."""
        infos: dict[tuple[TensorKind, int], TensorInfo] = {}
        want = hello.num_inputs + hello.num_outputs
        deadline = time.monotonic() + self.timeout
        while len(infos) < want:
            msg = self._next_raw(deadline)
            if msg is None:
                break
            if isinstance(msg, TensorInfo):
                infos[(msg.kind, msg.index)] = msg
                deadline = time.monotonic() + self.timeout
            elif isinstance(msg, Hello) and msg.is_boot:
                hello, infos, want = msg, {}, msg.num_inputs + msg.num_outputs
        try:
            info = DeviceInfo.from_messages(hello, infos.values())
        except DecodeError:
            try:
                info = self._hello_exchange(self.timeout * (self.retries + 1))
            except DeviceTimeout:
                got = sorted(infos.values(), key=lambda t: (t.kind, t.index))
                info = DeviceInfo(hello, [t for t in got if t.kind == TensorKind.INPUT],
                                  [t for t in got if t.kind == TensorKind.OUTPUT])
        self._after_reset(info)
        if during is not None:
            raise DeviceReset(
                f"the device on {self._port} restarted during {during} (it sent its boot HELLO)",
                info,
                hint="everything loaded was lost; send the inputs again",
            )

    def _after_reset(self, info: DeviceInfo) -> None:
        if self.info is not None:
            self.resets += 1
        self._check_info(info, None)  # the same firmware must come back; ModelMismatch otherwise
        self._set_info(info)

    def _set_info(self, info: DeviceInfo) -> None:
        self.info = info
        self._max_payload = info.hello.max_payload

    # ---- receiving -----------------------------------------------------------------------------

    def _drain(self) -> None:
        """Takes in what is already waiting (logs, text, a boot HELLO) before a new operation."""
        while True:
            msg = self._next(time.monotonic(), during=None)
            if msg is None:
                return

    def _next(self, deadline: float, during: str | None = None) -> Message | None:
        """The next message that is not a LOG (those go to on_log), or None at ``deadline``.

        A BOOT HELLO after the first hello() is handled here: it updates ``info``, and with
        ``during`` set (an operation in progress) it raises DeviceReset."""
        while True:
            msg = self._next_raw(deadline)
            if isinstance(msg, Hello) and msg.is_boot and self.info is not None:
                self._on_boot_hello(msg, during)
                continue
            return msg

    def _next_raw(self, deadline: float) -> Message | None:
        while not self._inbox:
            if not self._receive(deadline):
                return None
        return self._inbox.popleft()

    def _receive(self, deadline: float) -> bool:
        """Reads from the link until at least one message is queued (True) or ``deadline``."""
        while True:
            data = self._read_some(block=time.monotonic() < deadline)
            if data:
                self._ingest(data)
                if self._inbox:
                    return True
            elif time.monotonic() >= deadline:
                return False

    def _read_some(self, *, block: bool) -> bytes:
        if self._closed:
            raise DeviceError(f"the connection to {self._port} is closed")
        try:
            waiting = self.link.in_waiting
            if waiting:
                return bytes(self.link.read(waiting))
            return bytes(self.link.read(1)) if block else b""
        except (serial.SerialException, OSError) as exc:
            raise self._lost(exc) from None

    def _write(self, data: bytes) -> None:
        if self._closed:
            raise DeviceError(f"the connection to {self._port} is closed")
        try:
            self.link.write(data)
        except (serial.SerialException, OSError) as exc:
            raise self._lost(exc) from None

    def _lost(self, exc: BaseException) -> LinkLost:
        return LinkLost(
            f"lost the connection to the device on {self._port}: {_reason(exc)}",
            hint="check the cable (the board may have been unplugged or reset into its bootloader); "
            "an emulator may have exited",
        )

    def _ingest(self, data: bytes) -> None:
        start = 0
        while start < len(data):
            end = data.find(b"\x00", start)
            if end < 0:
                self._segment += data[start:]
                if len(self._segment) > _MAX_SEGMENT:  # endless text (or noise) without a delimiter
                    cut = len(self._segment) - HOST_MAX_PAYLOAD
                    head = bytes(self._segment[:cut])
                    del self._segment[:cut]
                    if all(b in _TEXT_BYTES for b in head):
                        self._text(head)
                    else:
                        self.frames_bad += 1
                        self._recent.append(f"{len(head)} bytes of noise without a frame delimiter")
                return
            self._segment += data[start:end]
            segment = bytes(self._segment)
            self._segment.clear()
            if segment:
                self._segment_done(segment)
            start = end + 1

    def _segment_done(self, segment: bytes) -> None:
        """One delimiter-terminated piece of the stream: a frame, text, or text then a frame."""
        try:
            self._frame(decode_frame(segment))
            return
        except DecodeError as exc:
            error = exc
        # Text printed without a delimiter before a frame ("...\r\n" + frame): split at a newline.
        cut = len(segment)
        for _ in range(8):
            cut = segment.rfind(b"\n", 0, cut)
            if cut < 0:
                break
            try:
                msg = decode_frame(segment[cut + 1 :])
            except DecodeError:
                continue
            self._text(segment[: cut + 1])
            self._frame(msg)
            return
        if all(b in _TEXT_BYTES for b in segment):
            self._text(segment)
            return
        # A frame cut short (the device reset while sending) followed by its boot text.
        tail = len(segment)
        while tail > 0 and segment[tail - 1] in _TEXT_BYTES:
            tail -= 1
        if b"\n" in segment[tail:] and len(segment) - tail >= 8:
            self._text(segment[tail:])
            segment = segment[:tail]
        self.frames_bad += 1
        self._recent.append(f"bad frame ({error}): {segment[:24].hex(' ')}{'…' if len(segment) > 24 else ''}")

    def _frame(self, msg: Message) -> None:
        self.frames_ok += 1
        boot = isinstance(msg, Hello) and msg.is_boot
        if self._dev_seq is not None and not boot and msg.seq != (self._dev_seq + 1) & 0xFF:
            self.device_frames_lost += (msg.seq - self._dev_seq - 1) & 0xFF
        self._dev_seq = msg.seq
        self._recent.append(_describe(msg))
        if isinstance(msg, Log):
            level = msg.level
            self.logs.append((int(level), msg.text))
            if self.on_log is not None:
                prefix = "" if level == LogLevel.INFO else f"{_level_name(level)}: "
                self.on_log(prefix + msg.text)
            return
        self._inbox.append(msg)

    def _text(self, raw: bytes) -> None:
        text = raw.decode("utf-8", errors="replace")
        self.boot_text += text
        if self.on_log is None:
            return
        self._text_line += text
        *lines, self._text_line = self._text_line.split("\n")
        for line in lines:
            line = line.rstrip("\r")
            if line:
                self.on_log(line)

    # ---- small things --------------------------------------------------------------------------

    def _next_seq(self) -> int:
        seq = self._seq
        self._seq = (self._seq + 1) & 0xFF
        return seq

    def _seen(self) -> str:
        parts = []
        if self._recent:
            parts.append("last frames: " + "; ".join(self._recent))
        else:
            parts.append("no frame received")
        if self._segment:
            tail = bytes(self._segment[-48:])
            parts.append(f"unparsed bytes: {tail!r}")
        if self.boot_text.strip():
            parts.append(f"text: {self.boot_text.strip()[-120:]!r}")
        if self.logs:
            parts.append(f"last log: {self.logs[-1][1]!r}")
        return " (" + "; ".join(parts) + ")"


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0]


def _short(digest: str) -> str:
    return digest if len(digest) <= 12 else digest[:12] + "…"


def _level_name(level: int) -> str:
    try:
        return LogLevel(level).name.lower()
    except ValueError:
        return f"level {level}"


def _describe(msg: Message) -> str:
    name = msg.TYPE.name
    if isinstance(msg, (Ack, ErrorReport)):
        return f"{name} seq {msg.seq} for {_type_name(msg.req_type)} seq {msg.req_seq}"
    if isinstance(msg, (Result, ResultEnd)):
        return f"{name} seq {msg.seq} for seq {msg.req_seq}"
    if isinstance(msg, Hello):
        return f"{name}{' (boot)' if msg.is_boot else ''} seq {msg.seq}"
    return f"{name} seq {msg.seq}"


def _type_name(type_id: int) -> str:
    try:
        return MsgType(type_id).name
    except ValueError:
        return f"0x{type_id:02x}"
