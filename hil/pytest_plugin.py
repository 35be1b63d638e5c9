"""pytest plugin: hardware-in-the-loop tests against an mcuforge project's device.

Installed with mcuforge (entry point `pytest11`), so in any project:

    def test_wake_word(dut):
        out = dut.infer([features])        # list of input arrays, graph order
        assert out.outputs[0].argmax() == 2

Options (group "mcuforge"):
  --mcuforge-project DIR   project folder (default: the current folder)
  --mcuforge-port URL      serial port or pyserial URL (default: the board's USB id, or its emulator)
  --mcuforge-timeout S     reply timeout in seconds (default 5)
With labgrid's `--lg-env env.yaml`, the device is the place of the environment's `main` target
(a RemotePlace): acquired if free, flashed through the target, reached over its NetworkSerialPort.
Each option is also a fixture (`mcuforge_project`, `mcuforge_port`) that tests can parametrize.
The `dut` fixture opens the device once per test session and always closes it (and stops the
emulator) at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mcuforge", "mcuforge hardware-in-the-loop")
    group.addoption("--mcuforge-project", default=None, help="mcuforge project folder (default: current folder)")
    group.addoption("--mcuforge-port", default=None,
                    help="serial port or pyserial URL (default: the board's USB id, or its emulator)")
    group.addoption("--mcuforge-timeout", type=float, default=5.0, help="device reply timeout in s (default: 5)")


@pytest.fixture(scope="session")
def mcuforge_project(request: pytest.FixtureRequest) -> Path:
    value = getattr(request, "param", None) or request.config.getoption("--mcuforge-project")
    return Path(value or ".").resolve()


@pytest.fixture(scope="session")
def mcuforge_port(request: pytest.FixtureRequest) -> str | None:
    return getattr(request, "param", None) or request.config.getoption("--mcuforge-port")


class Dut:
    """The device under test: thin wrapper over an open mcuforge session."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.board = session.board
        self.graph = session.graph
        self.info = session.info

    def hello(self) -> Any:
        return self.session.device.hello()

    def infer(self, inputs: Any, *, reset_state: bool = False) -> Any:
        """inputs: one array (single-input models) or a list of arrays. Returns InferResult.
        A stateful (streaming) model continues from the state the last inference left, unless
        `reset_state` starts a new stream."""
        import numpy as np

        xs = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
        return self.session.device.infer(xs, reset_state=reset_state)

    def reference(self, inputs: Any, *, stream: Any = None) -> list[Any]:
        """What TFLite Micro computes for the same inputs: from a fresh interpreter, or for a
        stateful model continuing `stream` (a Reference from `reference_stream()`)."""
        import numpy as np

        xs = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
        ref = stream if stream is not None else self.reference_stream()
        return ref.run(xs, len(self.graph.outputs))

    def reference_stream(self) -> Any:
        """The model's reference (TFLite Micro, or onnxruntime for an .onnx model) whose successive
        runs are one stream (pass it to reference())."""
        from mcuforge.generator.ops.conv_fsum import onnx_settings
        from mcuforge.generator.references import open_reference

        cfg = self.session.config  # an .onnx model's float convolutions: onnxruntime on their thread count
        with onnx_settings(cfg.onnx_numerics, cfg.ort_threads):
            return open_reference(self.session.model_bytes, self.graph)

    @property
    def pipeline(self) -> Any:
        """The project's sensor pipeline (`sensor:` in mcuforge.yaml), resolved; None without one."""
        from mcuforge.generator.sensor.pipeline import resolve

        cfg = self.session.config
        return resolve(cfg.sensor, self.graph, self.board, cfg.framework) if cfg.sensor is not None else None

    def replay(self, samples: Any) -> list[Any]:
        """Streams `samples` ([n, channels] float32 in the pipeline's channel order and units; camera
        pipelines: frames, uint8 [frames, frame bytes]) into the firmware's sensor glue; one
        ReplayWindow (input tensor the device built, outputs) per window."""
        from mcuforge.generator.sensor.reference import stream_samples

        p = self.pipeline
        if p is None:
            pytest.fail("mcuforge: the project has no sensor pipeline (no `sensor:` in mcuforge.yaml)", pytrace=False)
        return list(self.session.device.replay(stream_samples(p, samples), window=p.window, hop=p.hop))

    def sensor_inputs(self, samples: Any) -> Any:
        """The input tensors the host pipeline builds from `samples`: what replay() must bring back."""
        from mcuforge.generator.sensor.reference import input_tensors

        return input_tensors(self.pipeline, samples)


def _labgrid_env(request: pytest.FixtureRequest) -> Any:
    """labgrid's Environment when its pytest plugin was given --lg-env (or $LG_ENV), else None."""
    import os

    if getattr(request.config.option, "lg_env", None) is None and not os.environ.get("LG_ENV"):
        return None
    try:
        from labgrid.pytestplugin.hooks import LABGRID_ENV_KEY
    except ImportError:
        return None
    return request.config.stash.get(LABGRID_ENV_KEY, None)


@pytest.fixture(scope="session")
def dut(mcuforge_project: Path, mcuforge_port: str | None, request: pytest.FixtureRequest) -> Iterator[Dut]:
    from mcuforge.generator.errors import McuforgeError
    from mcuforge.hil.session import open_session

    timeout = request.config.getoption("--mcuforge-timeout")
    lg_env = _labgrid_env(request)
    try:
        if lg_env is not None:  # `pytest --lg-env env.yaml`: the device is a labgrid place (hil/farm/lgtarget.py)
            from mcuforge.hil.farm.lgtarget import labgrid_session

            cm = labgrid_session(lg_env, mcuforge_project, timeout=timeout)
        else:
            cm = open_session(mcuforge_project, port=mcuforge_port, timeout=timeout)
        session = cm.__enter__()
    except McuforgeError as exc:
        pytest.fail(f"mcuforge: {exc.message}" + (f"\nHint: {exc.hint}" if exc.hint else ""), pytrace=False)
    try:
        yield Dut(session)
    finally:
        cm.__exit__(None, None, None)


@pytest.fixture(scope="session")
def board(dut: Dut) -> Any:
    return dut.board
