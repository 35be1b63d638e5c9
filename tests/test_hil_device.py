"""The host client (hil/device.py) against real firmware: a generated bare-metal CMake project for
mps2_an386, running in QEMU, serving the host through runtime/app/mcf_host.c.

The `slow` tests build the firmware once per model and start a fresh emulator per test; every
test checks that its emulator process is gone afterwards. The fast tests (port resolution, the
helpers) need nothing but Python.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from mcuforge.generator.boards import load_board
from mcuforge.generator.build import BuildResult, build_project
from mcuforge.generator.frontends import read_model
from mcuforge.generator.references import Reference
from mcuforge.generator.scaffold import new_project
from mcuforge.generator.validate import random_inputs
from mcuforge.hil.device import Device, DeviceError, InferResult
from mcuforge.hil.emulator import RunningEmulator, start_emulator
from mcuforge.hil.protocol import DType, TickUnit
from mcuforge.hil.transport import PortNotFound, resolve_port

REPO = Path(__file__).resolve().parents[1]
BOARD = "mps2_an386"
TOOLS = ("arm-none-eabi-gcc", "qemu-system-arm", "ninja", "cmake")
MISSING_TOOLS = [t for t in TOOLS if shutil.which(t) is None]
SELFTEST = re.compile(r"mcuforge: selftest model=(\w+) checksum=0x[0-9a-f]{8} ticks=(\d+) unit=(\w+) result=(\w+)")

needs_qemu = pytest.mark.skipif(
    bool(MISSING_TOOLS),
    reason=f"needs {', '.join(MISSING_TOOLS)} (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi "
    "ninja-build cmake qemu-system-arm)",
)
slow_qemu = [pytest.mark.slow, needs_qemu]

# ---------------------------------------------------------------------------------------------
# helpers shared with test_hil_robustness.py
# ---------------------------------------------------------------------------------------------

_BUILDS: dict[str, BuildResult] = {}


def add_host_sources(project: Path) -> None:
    """Puts the protocol and the host glue into the generated app/ folder and makes sure the
    generated CMake builds them (a no-op once the scaffolder does both)."""
    gen = project / "mcuforge_model"
    app = gen / "app"
    for src in (REPO / "runtime" / "protocol" / "mcf_proto.c", REPO / "runtime" / "protocol" / "mcf_proto.h",
                REPO / "runtime" / "app" / "mcf_host.c", REPO / "runtime" / "app" / "mcf_host.h"):
        shutil.copy2(src, app / src.name)
    cmake = gen / "CMakeLists.txt"
    text = cmake.read_text()
    if "app/*.c" not in text and "mcf_proto.c" not in text:
        cmake.write_text(text + "\ntarget_sources(mcf_model PRIVATE ${CMAKE_CURRENT_LIST_DIR}/app/mcf_proto.c "
                                "${CMAKE_CURRENT_LIST_DIR}/app/mcf_host.c)\n")


def build_firmware(models_dir: Path, base: Path, model: str) -> BuildResult:
    """A built project for `model` on mps2_an386 (built once per test session)."""
    if model not in _BUILDS:
        project = base / f"{model}-{BOARD}"
        new_project(project, models_dir / f"{model}.tflite", BOARD)
        main_c = (project / "src" / "main.c").read_text()
        assert "mcf_host_serve" in main_c, "the cmake template's main.c does not call mcf_host_serve()"
        add_host_sources(project)
        _BUILDS[model] = build_project(project)
    return _BUILDS[model]


def model_path(models_dir: Path, model: str) -> Path:
    return models_dir / f"{model}.tflite"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_gone(pid: int) -> None:
    """The emulator process (and its process group) no longer exists."""
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)


@contextmanager
def emulator(build: BuildResult, *, qmp: bool = False) -> Iterator[RunningEmulator]:
    """start_emulator, and afterwards the proof that QEMU is gone, whatever ended the block."""
    emu = start_emulator(build.board, build.elf, qmp=qmp)
    pid = emu.proc.pid
    try:
        with emu:
            yield emu
    finally:
        assert_gone(pid)


def check_outputs(result: InferResult, want: list[np.ndarray], what: str) -> None:
    assert len(result.outputs) == len(want), f"{what}: {len(result.outputs)} outputs, expected {len(want)}"
    for k, (got, ref) in enumerate(zip(result.outputs, want, strict=True)):
        ref = ref.reshape(got.shape)
        assert got.dtype == ref.dtype, f"{what}: output {k} is {got.dtype}, TFLM gives {ref.dtype}"
        diff = np.flatnonzero(got != ref)
        assert diff.size == 0, (f"{what}: output {k} differs from TFLite Micro at {diff.size} positions, "
                                f"first at {int(diff[0])}: device {got.flat[diff[0]]}, TFLM {ref.flat[diff[0]]}")


@pytest.fixture(scope="session")
def hil_firmware(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], BuildResult]:
    if MISSING_TOOLS:
        pytest.skip(f"needs {', '.join(MISSING_TOOLS)}")
    base = tmp_path_factory.mktemp("hil-firmware")
    return lambda model: build_firmware(models_dir, base, model)


# ---------------------------------------------------------------------------------------------
# against the emulated board
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["kws_ref_model", "ad01_int8"])
@pytest.mark.slow
@needs_qemu
def test_hello_describes_the_firmware(hil_firmware: Callable[[str], BuildResult], models_dir: Path,
                                      model: str) -> None:
    build = hil_firmware(model)
    path = model_path(models_dir, model)
    graph = read_model(path)
    with emulator(build) as emu, Device.open(emu.url, timeout=2.0) as dev:
        info = dev.hello(expect_sha256=sha256_of(path), wait=30)
        h = info.hello
        assert h.sha256_hex == sha256_of(path), "HELLO's sha256 is not the model's"
        assert (h.version, h.engine, h.board, h.is_boot) == (1, "mcuforge-aot", BOARD, False)
        assert h.tick_unit == TickUnit.INSTRUCTIONS, "QEMU -icount timings must be reported as instructions"
        assert h.arena_bytes > 0 and h.weights_bytes > 0 and h.max_payload == 256
        for kind, infos, indices in (("input", info.inputs, graph.inputs), ("output", info.outputs, graph.outputs)):
            assert len(infos) == len(indices), f"{len(infos)} {kind}s announced, the model has {len(indices)}"
            for ti, gi in zip(infos, indices, strict=True):
                t = graph.tensors[gi]
                assert ti.name == t.name and ti.dims == tuple(t.shape), f"{kind} {ti.index}: {ti} vs {t}"
                assert ti.dtype == DType[t.dtype.upper()]
                assert ti.nbytes == int(np.prod(t.shape)) * ti.dtype.itemsize
                assert ti.zero_point == t.zero_point
                assert ti.scale == pytest.approx(t.scale, rel=1e-7)
        line = SELFTEST.search(dev.boot_text)
        assert line, f"no self-test line in the boot text: {dev.boot_text!r}"
        assert line.group(1) == h.model_name, line.group(0)
        assert (line.group(3), line.group(4)) == ("instructions", "ok"), line.group(0)
        assert dev.frames_bad == 0 and dev.device_frames_lost == 0


@pytest.mark.slow
@needs_qemu
def test_boot_text_kept_when_opening_is_slow(hil_firmware: Callable[[str], BuildResult],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The guest starts when the host connects; pyserial's socket:// open() then empties its input.
    With the opening thread held up there (a loaded machine), the self-test line must still be kept."""
    import time

    from serial.urlhandler import protocol_socket

    configure = protocol_socket.Serial._reconfigure_port

    def held_up(self: object) -> None:
        time.sleep(0.3)  # the firmware prints its self-test line meanwhile
        configure(self)

    monkeypatch.setattr(protocol_socket.Serial, "_reconfigure_port", held_up)
    with emulator(hil_firmware("ad01_int8")) as emu, Device.open(emu.url, timeout=2.0) as dev:
        dev.hello(wait=30)
        assert SELFTEST.search(dev.boot_text), f"the boot text lost its self-test line: {dev.boot_text!r}"


@pytest.mark.parametrize("model", ["kws_ref_model", "ad01_int8"])
@pytest.mark.slow
@needs_qemu
def test_infer_is_bit_exact_with_tflite_micro(hil_firmware: Callable[[str], BuildResult], models_dir: Path,
                                              model: str) -> None:
    build = hil_firmware(model)
    path = model_path(models_dir, model)
    graph = read_model(path)
    ref = Reference(path.read_bytes())
    with emulator(build) as emu, Device.open(emu.url, timeout=2.0) as dev:
        dev.hello(expect_sha256=sha256_of(path), wait=30)
        for k, xs in enumerate(random_inputs(graph, 3, seed=11)):
            res = dev.infer(xs)
            check_outputs(res, ref.run(xs, len(graph.outputs)), f"{model} vector {k}")
            assert res.unit == "instructions" and res.elapsed > 0 and res.retries == 0, res
            assert [o.shape for o in res.outputs] == [tuple(graph.tensors[i].shape) for i in graph.outputs]


@pytest.mark.slow
@needs_qemu
def test_instruction_counts_repeat_exactly(hil_firmware: Callable[[str], BuildResult], models_dir: Path) -> None:
    build = hil_firmware("kws_ref_model")
    graph = read_model(model_path(models_dir, "kws_ref_model"))
    a, b = random_inputs(graph, 2, seed=5)
    counts: list[list[int]] = []
    for _launch in range(2):
        with emulator(build) as emu, Device.open(emu.url, timeout=2.0) as dev:
            dev.hello(wait=30)
            counts.append([dev.infer(x).elapsed for x in (a, a, b, a, b)])
    first = counts[0]
    assert first[0] == first[1] == first[3], f"same input, same launch, different counts: {first}"
    assert first[2] == first[4], f"same input, same launch, different counts: {first}"
    assert counts[1] == first, f"a second emulator launch counted differently: {counts}"
    # The self-test ran the same code on another input: same order of magnitude.
    assert 0.5 * first[0] < first[2] < 2 * first[0]


@pytest.mark.slow
@needs_qemu
def test_read_tensor_returns_what_was_sent(hil_firmware: Callable[[str], BuildResult], models_dir: Path) -> None:
    build = hil_firmware("ad01_int8")
    path = model_path(models_dir, "ad01_int8")
    graph = read_model(path)
    (x,), (y,) = random_inputs(graph, 2, seed=3)
    with emulator(build) as emu, Device.open(emu.url, timeout=2.0) as dev:
        dev.hello(wait=30)
        dev.load_inputs([x])
        got = dev.read_tensor("input", 0)
        assert got.dtype == x.dtype and got.shape == x.shape
        assert np.array_equal(got, x), "READ_TENSOR(input 0) is not what INPUT_CHUNK wrote"
        res = dev.run()
        check_outputs(res, Reference(path.read_bytes()).run([x], 1), "ad01 after read_tensor")
        assert np.array_equal(dev.read_tensor("output", 0), res.outputs[0])
        # infer() = load_inputs() + run(); a second vector, read back before it runs
        dev.load_inputs([y])
        assert np.array_equal(dev.read_tensor("input", 0), y)
        with pytest.raises(ValueError, match="kind"):
            dev.read_tensor("weights", 0)
        with pytest.raises(DeviceError, match="no input 3"):
            dev.read_tensor("input", 3)


@pytest.mark.slow
@needs_qemu
def test_bad_inputs_are_refused_on_the_host(hil_firmware: Callable[[str], BuildResult], models_dir: Path) -> None:
    build = hil_firmware("ad01_int8")
    graph = read_model(model_path(models_dir, "ad01_int8"))
    (x,) = random_inputs(graph, 1, seed=1)[0]
    with emulator(build) as emu, Device.open(emu.url, timeout=2.0) as dev:
        dev.hello(wait=30)
        with pytest.raises(DeviceError, match="must be int8 with 640 elements"):
            dev.infer([x.astype(np.float32)])
        with pytest.raises(DeviceError, match="takes 1 input"):
            dev.infer([x, x])
        assert dev.infer([x.reshape(-1)]).outputs[0].shape == (1, 640)  # any shape with the same size


# ---------------------------------------------------------------------------------------------
# port resolution (no hardware needed)
# ---------------------------------------------------------------------------------------------


def _port(device: str, vid: int | None, pid: int | None, description: str = "n/a") -> SimpleNamespace:
    return SimpleNamespace(device=device, vid=vid, pid=pid, description=description, serial_number=None)


def test_resolve_port_passes_explicit_ports_through() -> None:
    board = load_board("nucleo_f746zg")
    for port in ("/dev/ttyACM3", "COM7", "socket://127.0.0.1:4000", "rfc2217://lab:2217", "loop://"):
        assert resolve_port(board, port, comports=lambda: []) == port
    assert resolve_port(load_board(BOARD), "socket://127.0.0.1:5") == "socket://127.0.0.1:5"


def test_resolve_port_finds_the_board_by_usb_id() -> None:
    board = load_board("nucleo_f746zg")  # usb: 0483:374b, 0483:3752
    ports = [_port("/dev/ttyS0", None, None), _port("/dev/ttyACM1", 0x0483, 0x374B, "STM32 STLink"),
             _port("/dev/ttyUSB0", 0x1A86, 0x7523, "USB Serial")]
    assert resolve_port(board, None, comports=lambda: ports) == "/dev/ttyACM1"


def test_resolve_port_lists_what_it_found_when_nothing_matches() -> None:
    board = load_board("nucleo_f746zg")
    ports = [_port("/dev/ttyUSB0", 0x1A86, 0x7523, "USB Serial")]
    with pytest.raises(PortNotFound) as exc:
        resolve_port(board, None, comports=lambda: ports)
    assert "/dev/ttyUSB0 [1a86:7523] USB Serial" in exc.value.message
    assert "0483:374b" in exc.value.message and "--port" in (exc.value.hint or "")
    with pytest.raises(PortNotFound, match="no serial ports at all"):
        resolve_port(board, None, comports=lambda: [])


def test_resolve_port_refuses_to_guess_between_two_boards() -> None:
    board = load_board("nucleo_f746zg")
    ports = [_port("/dev/ttyACM0", 0x0483, 0x374B), _port("/dev/ttyACM1", 0x0483, 0x3752)]
    with pytest.raises(PortNotFound) as exc:
        resolve_port(board, None, comports=lambda: ports)
    assert "2 serial ports match" in exc.value.message
    assert "/dev/ttyACM0" in exc.value.message and "/dev/ttyACM1" in exc.value.message
    assert "--port /dev/ttyACM0" in (exc.value.hint or "")


def test_resolve_port_on_an_emulated_board_needs_the_emulator() -> None:
    with pytest.raises(DeviceError, match="emulated") as exc:
        resolve_port(load_board(BOARD), None, comports=lambda: [])
    assert "socket://" in (exc.value.hint or "")

