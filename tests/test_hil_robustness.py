"""What the host client does when the link or the device misbehaves.

Faults are injected deterministically by hil/proxy.py between the host and QEMU (a flipped
byte or a dropped frame in either direction, silence, a closed connection) or by QEMU itself
(a board reset through QMP). Every test runs whole vectors and checks that each one either comes
back bit-exact or fails with the right typed error and a message that says what happened; none
is lost silently. Every emulator is checked to be gone afterwards, also after a Ctrl-C.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from test_hil_device import (
    assert_gone,
    check_outputs,
    emulator,
    hil_firmware,
    model_path,
    needs_qemu,
    sha256_of,
)

from mcuforge.generator.build import BuildResult
from mcuforge.generator.frontends import read_model
from mcuforge.generator.references import Reference
from mcuforge.generator.validate import random_inputs
from mcuforge.hil.device import (
    Device,
    DeviceError,
    DeviceReset,
    DeviceTimeout,
    LinkLost,
    ModelMismatch,
    RequestRefused,
)
from mcuforge.hil.emulator import start_emulator
from mcuforge.hil.protocol import (
    Ack,
    DType,
    ErrorCode,
    ErrorReport,
    FrameDecoder,
    Hello,
    HelloFlags,
    HelloRequest,
    InferBegin,
    InputChunk,
    Log,
    LogLevel,
    Message,
    MsgType,
    TensorInfo,
    TensorKind,
    TickUnit,
    encode_frame,
)
from mcuforge.hil.proxy import TO_DEVICE, TO_HOST, Fault, FaultProxy

__all__ = ["hil_firmware"]  # the session fixture, shared with test_hil_device.py

TIMEOUT = 0.5  # reply timeout used against the emulator (its replies take milliseconds)


@contextmanager
def _proxied(url: str, faults: list[Fault], **kw: float) -> Iterator[tuple[FaultProxy, Device]]:
    with FaultProxy(url, faults) as proxy, Device.open(proxy.url, timeout=TIMEOUT, **kw) as dev:
        yield proxy, dev


def _vectors(models_dir: Path, model: str, count: int, seed: int) -> tuple[list[list[np.ndarray]], Reference, int]:
    path = model_path(models_dir, model)
    graph = read_model(path)
    return random_inputs(graph, count, seed), Reference(path.read_bytes()), len(graph.outputs)


# ---------------------------------------------------------------------------------------------
# damaged and lost frames: every vector still comes back bit-exact
# ---------------------------------------------------------------------------------------------

# ad01_int8 moves 640 bytes each way: per vector the host sends INFER_BEGIN, 3 INPUT_CHUNKs and
# INFER_RUN; the device answers 5 ACKs, RESULT, 3 TENSOR_CHUNKs and RESULT_END. Before that,
# the boot HELLO and HELLO each come with 2 TENSOR_INFO frames.
WIRE_FAULTS = {
    "flip host->device INFER_BEGIN": Fault.flip(TO_DEVICE, frame_type=MsgType.INFER_BEGIN),
    "flip host->device 2nd INPUT_CHUNK": Fault.flip(TO_DEVICE, frame_type=MsgType.INPUT_CHUNK, nth=2),
    "flip host->device INPUT_CHUNK COBS code byte": Fault.flip(TO_DEVICE, frame_type=MsgType.INPUT_CHUNK,
                                                               nth=4, offset=0, mask=0x40),
    "flip host->device INFER_RUN": Fault.flip(TO_DEVICE, frame_type=MsgType.INFER_RUN, nth=2),
    "flip device->host chunk ACK": Fault.flip(TO_HOST, frame_type=MsgType.ACK, nth=3),
    "flip device->host INFER_RUN ACK": Fault.flip(TO_HOST, frame_type=MsgType.ACK, nth=5),
    "flip device->host RESULT": Fault.flip(TO_HOST, frame_type=MsgType.RESULT),
    "flip device->host 2nd TENSOR_CHUNK": Fault.flip(TO_HOST, frame_type=MsgType.TENSOR_CHUNK, nth=2),
    "flip device->host TENSOR_CHUNK COBS code byte": Fault.flip(TO_HOST, frame_type=MsgType.TENSOR_CHUNK,
                                                                nth=4, offset=0, mask=0x20),
    "flip device->host RESULT_END": Fault.flip(TO_HOST, frame_type=MsgType.RESULT_END, nth=2),
    "flip device->host TENSOR_INFO of HELLO": Fault.flip(TO_HOST, frame_type=MsgType.TENSOR_INFO, nth=3),
    "drop host->device INFER_BEGIN": Fault.drop(TO_DEVICE, frame_type=MsgType.INFER_BEGIN, nth=2),
    "drop host->device 3rd INPUT_CHUNK": Fault.drop(TO_DEVICE, frame_type=MsgType.INPUT_CHUNK, nth=3),
    "drop host->device INFER_RUN": Fault.drop(TO_DEVICE, frame_type=MsgType.INFER_RUN),
    "drop device->host chunk ACK": Fault.drop(TO_HOST, frame_type=MsgType.ACK, nth=2),
    "drop device->host INFER_RUN ACK": Fault.drop(TO_HOST, frame_type=MsgType.ACK, nth=10),
    "drop device->host RESULT": Fault.drop(TO_HOST, frame_type=MsgType.RESULT, nth=3),
    "drop device->host last TENSOR_CHUNK": Fault.drop(TO_HOST, frame_type=MsgType.TENSOR_CHUNK, nth=3),
    "drop device->host RESULT_END": Fault.drop(TO_HOST, frame_type=MsgType.RESULT_END),
    "drop device->host HELLO": Fault.drop(TO_HOST, frame_type=MsgType.HELLO, nth=2),
}


@pytest.mark.parametrize("name", list(WIRE_FAULTS))
@pytest.mark.slow
@needs_qemu
def test_damaged_or_lost_frame_is_recovered(hil_firmware: Callable[[str], BuildResult], models_dir: Path,
                                            name: str) -> None:
    fault = WIRE_FAULTS[name]
    fault = Fault(fault.direction, fault.action, fault.nth, fault.frame_type, fault.offset, fault.mask)  # fresh
    build = hil_firmware("ad01_int8")
    vectors, ref, n_out = _vectors(models_dir, "ad01_int8", 3, seed=21)
    with emulator(build) as emu, FaultProxy(emu.url, [fault]) as proxy, \
            Device.open(proxy.url, timeout=TIMEOUT, retries=3) as dev:
        dev.hello(expect_sha256=sha256_of(model_path(models_dir, "ad01_int8")), wait=30)
        retries = []
        for k, xs in enumerate(vectors):
            res = dev.infer(xs)
            check_outputs(res, ref.run(xs, n_out), f"{name}: vector {k}")
            retries.append(res.retries)
        assert proxy.applied == [fault.describe()], f"{name}: the fault did not fire: {proxy.applied}"
        assert not proxy.errors, proxy.errors
        if "INFER_RUN ACK" in name:  # the RESULT that follows answers the run: nothing to resend
            assert sum(retries) == 0, f"{name}: needless retries {retries}"
        elif fault.frame_type not in (MsgType.TENSOR_INFO, MsgType.HELLO):
            assert sum(retries) >= 1, f"{name}: recovered without a retry? retries per vector {retries}"
        if fault.direction == TO_HOST and fault.action.value == "flip":
            assert dev.frames_bad >= 1, f"{name}: the damaged frame was not noticed"


# ---------------------------------------------------------------------------------------------
# device resets
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@needs_qemu
def test_reset_before_the_result_arrives_raises_device_reset(hil_firmware: Callable[[str], BuildResult],
                                                             models_dir: Path) -> None:
    """The board restarts after it took a run and before its answer reached the host: the host
    must report the restart, not wait for a RESULT that never comes.

    The reset is tied to the end of the device's answer (RESULT, its one output chunk and
    RESULT_END are all dropped), not timed into the run: a kws run is ~5.6 M instructions, a few
    milliseconds under QEMU, shorter than a QMP round trip under load. From the host's side the
    two cases are the same: the run was acknowledged, then a boot HELLO came instead of a RESULT."""
    build = hil_firmware("kws_ref_model")
    vectors, ref, n_out = _vectors(models_dir, "kws_ref_model", 2, seed=8)
    with emulator(build, qmp=True) as emu:
        faults = [Fault.drop(TO_HOST, frame_type=MsgType.RESULT),
                  Fault.drop(TO_HOST, frame_type=MsgType.TENSOR_CHUNK),
                  Fault.drop(TO_HOST, frame_type=MsgType.RESULT_END),
                  Fault.call(TO_HOST, emu.reset, frame_type=MsgType.RESULT_END)]
        with FaultProxy(emu.url, faults) as proxy, Device.open(proxy.url, timeout=1.0) as dev:
            info = dev.hello(expect_sha256=sha256_of(model_path(models_dir, "kws_ref_model")), wait=30)
            with pytest.raises(DeviceReset) as exc:
                dev.infer(vectors[0])
            assert "restarted during INFER_RUN" in exc.value.message, exc.value.message
            assert exc.value.info.hello.is_boot and exc.value.info.hello.sha256 == info.hello.sha256
            assert proxy.applied == [f.describe() for f in faults] and not proxy.errors
            assert dev.resets == 1
            for k, xs in enumerate(vectors):  # the caller retries the vector: it now succeeds
                check_outputs(dev.infer(xs), ref.run(xs, n_out), f"vector {k} after the reset")
            assert dev.boot_text.count("result=ok") == 2, dev.boot_text


@pytest.mark.slow
@needs_qemu
def test_reset_whose_boot_hello_is_lost_is_still_detected(hil_firmware: Callable[[str], BuildResult],
                                                          models_dir: Path) -> None:
    build = hil_firmware("kws_ref_model")
    vectors, ref, n_out = _vectors(models_dir, "kws_ref_model", 1, seed=9)
    with emulator(build, qmp=True) as emu:
        # The RUN that triggers the reset is dropped too: the proxy forwards a frame before its
        # hook runs, so otherwise the old firmware could still execute it under load.
        faults = [Fault.call(TO_DEVICE, emu.reset, frame_type=MsgType.INFER_RUN),
                  Fault.drop(TO_DEVICE, frame_type=MsgType.INFER_RUN),
                  Fault.drop(TO_HOST, frame_type=MsgType.HELLO, nth=3)]  # boot, reply, then the 2nd boot
        with FaultProxy(emu.url, faults) as proxy, \
                Device.open(proxy.url, timeout=TIMEOUT, infer_timeout=3.0) as dev:
            dev.hello(wait=30)
            with pytest.raises(DeviceReset, match="lost its session state"):
                dev.infer(vectors[0])
            assert len(proxy.applied) == 3, proxy.applied
            check_outputs(dev.infer(vectors[0]), ref.run(vectors[0], n_out), "the vector after the reset")


@pytest.mark.slow
@needs_qemu
def test_reset_between_runs_is_noted_not_raised(hil_firmware: Callable[[str], BuildResult],
                                                models_dir: Path) -> None:
    build = hil_firmware("ad01_int8")
    vectors, ref, n_out = _vectors(models_dir, "ad01_int8", 2, seed=4)
    with emulator(build, qmp=True) as emu, Device.open(emu.url, timeout=TIMEOUT) as dev:
        dev.hello(wait=30)
        check_outputs(dev.infer(vectors[0]), ref.run(vectors[0], n_out), "before the reset")
        emu.reset()
        time.sleep(1.5)  # the boot HELLO is waiting when the next operation starts
        check_outputs(dev.infer(vectors[1]), ref.run(vectors[1], n_out), "after the reset")
        assert dev.resets == 1


# ---------------------------------------------------------------------------------------------
# a device that never answers
# ---------------------------------------------------------------------------------------------


def test_silent_device_times_out_with_a_helpful_message() -> None:
    with FaultProxy(None) as hole, Device.open(hole.url, timeout=0.3, retries=2) as dev:
        t0 = time.monotonic()
        with pytest.raises(DeviceTimeout) as exc:
            dev.hello()
        took = time.monotonic() - t0
    assert 0.85 <= took <= 0.9 + 0.5, f"gave up after {took:.2f} s; configured 3 tries of 0.3 s"
    msg = exc.value.message
    assert "no answer from the device on socket://127.0.0.1:" in msg and "HELLO_REQ" in msg, msg
    assert "3 tries" in msg and "no frame received" in msg, msg
    assert "mcf_host_serve" in (exc.value.hint or "")


@pytest.mark.slow
@needs_qemu
def test_device_going_silent_mid_session_times_out(hil_firmware: Callable[[str], BuildResult],
                                                   models_dir: Path) -> None:
    build = hil_firmware("ad01_int8")
    vectors, ref, n_out = _vectors(models_dir, "ad01_int8", 1, seed=2)
    with emulator(build) as emu, FaultProxy(emu.url) as proxy, \
            Device.open(proxy.url, timeout=TIMEOUT, retries=2) as dev:
        dev.hello(wait=30)
        check_outputs(dev.infer(vectors[0]), ref.run(vectors[0], n_out), "before the silence")
        proxy.go_silent()
        t0 = time.monotonic()
        with pytest.raises(DeviceTimeout) as exc:
            dev.infer(vectors[0])
        took = time.monotonic() - t0
    bound = (2 + 2) * TIMEOUT  # retries + 1 tries, then one HELLO_REQ
    assert took <= bound + 0.5, f"gave up after {took:.2f} s, bound {bound} s"
    msg = exc.value.message
    assert "to INFER_BEGIN" in msg and "nor to HELLO_REQ" in msg and "last frames:" in msg, msg


@pytest.mark.slow
@needs_qemu
def test_device_silent_after_acknowledging_a_run_times_out(hil_firmware: Callable[[str], BuildResult],
                                                           models_dir: Path) -> None:
    build = hil_firmware("ad01_int8")
    vectors, _, _ = _vectors(models_dir, "ad01_int8", 1, seed=2)
    silence = Fault.silence(TO_HOST, frame_type=MsgType.RESULT)
    with emulator(build) as emu, _proxied(emu.url, [silence], infer_timeout=1.0) as (_, dev):
        dev.hello(wait=30)
        dev.load_inputs(vectors[0])
        t0 = time.monotonic()
        with pytest.raises(DeviceTimeout) as exc:
            dev.run()
        took = time.monotonic() - t0
    bound = 1.0 + 3 * TIMEOUT + TIMEOUT  # inference timeout, the 3 retries, the HELLO probe
    assert took <= bound + 0.5, f"gave up after {took:.2f} s, bound {bound} s"
    assert "INFER_RUN (acknowledged, then no result)" in exc.value.message, exc.value.message


# ---------------------------------------------------------------------------------------------
# stale firmware
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@needs_qemu
def test_firmware_of_another_model_is_a_model_mismatch(hil_firmware: Callable[[str], BuildResult],
                                                       models_dir: Path) -> None:
    build = hil_firmware("ad01_int8")
    want = sha256_of(model_path(models_dir, "kws_ref_model"))
    have = sha256_of(model_path(models_dir, "ad01_int8"))
    with emulator(build) as emu, Device.open(emu.url, timeout=TIMEOUT) as dev:
        with pytest.raises(ModelMismatch) as exc:
            dev.hello(expect_sha256=want, wait=30)
        assert (exc.value.expected, exc.value.actual) == (want, have)
        assert want[:12] in exc.value.message and have[:12] in exc.value.message, exc.value.message
        assert "rebuild and flash" in (exc.value.hint or "")
        assert dev.info is None, "a mismatching firmware must not be taken as the device's identity"


# ---------------------------------------------------------------------------------------------
# an unplugged port
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["host->device 2nd INPUT_CHUNK", "device->host RESULT"])
@pytest.mark.slow
@needs_qemu
def test_connection_closed_mid_infer_is_link_lost(hil_firmware: Callable[[str], BuildResult], models_dir: Path,
                                                  where: str) -> None:
    fault = (Fault.close(TO_DEVICE, frame_type=MsgType.INPUT_CHUNK, nth=2) if where.startswith("host")
             else Fault.close(TO_HOST, frame_type=MsgType.RESULT))
    build = hil_firmware("ad01_int8")
    vectors, _, _ = _vectors(models_dir, "ad01_int8", 1, seed=2)
    with emulator(build) as emu, _proxied(emu.url, [fault]) as (proxy, dev):
        dev.hello(wait=30)
        t0 = time.monotonic()
        with pytest.raises(LinkLost) as exc:
            dev.infer(vectors[0])
        assert time.monotonic() - t0 < TIMEOUT * 2, "an unplugged port must be reported at once, not timed out"
        assert proxy.applied == [fault.describe()]
    assert "lost the connection to the device on socket://127.0.0.1:" in exc.value.message, exc.value.message
    assert "unplugged" in (exc.value.hint or "")


@pytest.mark.slow
@needs_qemu
def test_emulator_exiting_mid_session_is_link_lost(hil_firmware: Callable[[str], BuildResult],
                                                   models_dir: Path) -> None:
    build = hil_firmware("kws_ref_model")
    vectors, _, _ = _vectors(models_dir, "kws_ref_model", 1, seed=2)
    with emulator(build) as emu, Device.open(emu.url, timeout=TIMEOUT) as dev:
        dev.hello(wait=30)
        emu.stop()
        with pytest.raises(LinkLost, match="lost the connection"):
            dev.infer(vectors[0])


def test_missing_serial_port_is_link_lost() -> None:
    t0 = time.monotonic()
    with pytest.raises(LinkLost, match="cannot open /dev/ttyMCF_does_not_exist") as exc:
        Device.open("/dev/ttyMCF_does_not_exist")
    assert time.monotonic() - t0 < 2
    assert "No such file" in exc.value.message or "could not open" in exc.value.message.lower(), exc.value.message
    assert "--port" in (exc.value.hint or "")


# ---------------------------------------------------------------------------------------------
# Ctrl-C
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["in the with block", "inside hello()"])
@pytest.mark.slow
@needs_qemu
def test_keyboard_interrupt_stops_the_emulator(hil_firmware: Callable[[str], BuildResult], where: str) -> None:
    build = hil_firmware("kws_ref_model")

    def interrupt(line: str) -> None:
        if where == "inside hello()" and "selftest" in line:
            raise KeyboardInterrupt

    pid = 0
    qmp_dir = None
    with pytest.raises(KeyboardInterrupt), start_emulator(build.board, build.elf, qmp=True) as emu:
        pid, qmp_dir = emu.proc.pid, emu.qmp_path.parent if emu.qmp_path else None
        assert emu.alive()
        with Device.open(emu.url, timeout=TIMEOUT, on_log=interrupt) as dev:
            dev.hello(wait=30)
            raise KeyboardInterrupt
    assert pid, "the emulator never started"
    assert_gone(pid)
    assert qmp_dir is not None and not qmp_dir.exists(), "the QMP socket folder was left behind"


# ---------------------------------------------------------------------------------------------
# refusals and odd firmware, against a scripted device (no emulator needed)
# ---------------------------------------------------------------------------------------------


class ScriptedDevice:
    """A tiny device on a TCP port, written with the host codec: answers HELLO_REQ (after a line
    of text printed without a delimiter, and a LOG frame), ACKs INFER_BEGIN and refuses
    INPUT_CHUNK with ERROR BAD_RANGE."""

    def __init__(self, *, version: int = 1) -> None:
        self.version = version
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"socket://127.0.0.1:{self.server.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        seq = 0

        def send(msg: Message) -> None:
            nonlocal seq
            conn.sendall(encode_frame(msg, seq))
            seq = (seq + 1) & 0xFF

        decoder = FrameDecoder()
        with conn:
            while data := conn.recv(4096):
                for req in decoder.feed(data):
                    if isinstance(req, HelloRequest):
                        conn.sendall(b"fake firmware v0 says hi\r\n")  # no delimiter before the frame
                        send(Log(level=LogLevel.WARNING, text="running on a fake"))
                        send(Hello(version=self.version, flags=HelloFlags.NONE, req_seq=req.seq, max_payload=128,
                                   num_inputs=1, num_outputs=1, tick_unit=TickUnit.CYCLES, tick_hz=0,
                                   arena_bytes=16, io_bytes=0, weights_bytes=8, sha256=bytes(32),
                                   engine="fake", board="fake", model_name="fake"))
                        for kind in (TensorKind.INPUT, TensorKind.OUTPUT):
                            send(TensorInfo(kind=kind, index=0, dtype=DType.INT8, nbytes=4, scale=1.0,
                                            zero_point=0, dims=(1, 4), name="t"))
                    elif isinstance(req, InferBegin):
                        send(Ack(req_seq=req.seq, req_type=MsgType.INFER_BEGIN))
                    elif isinstance(req, InputChunk):
                        send(ErrorReport(req_seq=req.seq, req_type=MsgType.INPUT_CHUNK, code=ErrorCode.BAD_RANGE,
                                         text="chunk beyond input"))

    def close(self) -> None:
        self.server.close()


def test_refused_request_raises_with_the_device_code_and_text() -> None:
    fake = ScriptedDevice()
    logs: list[str] = []
    try:
        with Device.open(fake.url, timeout=0.5, on_log=logs.append) as dev:
            info = dev.hello()
            assert (info.hello.engine, info.hello.max_payload) == ("fake", 128)
            with pytest.raises(RequestRefused) as exc:
                dev.infer([np.arange(4, dtype=np.int8)])
            assert exc.value.code == ErrorCode.BAD_RANGE and exc.value.request == "INPUT_CHUNK"
            assert "BAD_RANGE: chunk beyond input" in exc.value.message, exc.value.message
            assert dev.boot_text == "fake firmware v0 says hi\r\n"
            assert logs == ["fake firmware v0 says hi", "warning: running on a fake"]
            assert dev.logs == [(LogLevel.WARNING, "running on a fake")] and dev.frames_bad == 0
    finally:
        fake.close()


def test_unknown_protocol_version_is_refused() -> None:
    fake = ScriptedDevice(version=2)
    try:
        with Device.open(fake.url, timeout=0.5) as dev, pytest.raises(DeviceError, match="protocol version 2"):
            dev.hello()
    finally:
        fake.close()
