"""`mcuforge test`: send vectors to the device, compare with TFLite Micro, report.

Every vector ends as passed or failed with a reason; none is skipped. A device reset in the
middle of a vector is retried (up to `reset_retries` times) after the device says hello again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mcuforge.generator.errors import UsageError
from mcuforge.generator.ir import NUMPY_DTYPES, Graph
from mcuforge.generator.ops.variable_tensors import add_variable_tensors, current_values, keeps_state
from mcuforge.generator.ops.variables import is_stateful, last_assignments, plan_state
from mcuforge.generator.references import open_reference
from mcuforge.generator.sensor.pipeline import Pipeline
from mcuforge.generator.sensor.reference import input_tensors, stream_samples
from mcuforge.generator.validate import random_inputs, state_matches

from .device import Device, DeviceError, DeviceReset, ReplayWindow


@dataclass
class VectorResult:
    name: str
    passed: bool
    max_abs_diff: float | None  # None when no output came back
    elapsed: int | None
    unit: str | None
    retries: int = 0
    error: str = ""
    input_match: bool | None = None  # replay: the device built the host pipeline's input tensor
    state_match: bool | None = None  # stateful model: the device's state equals TFLite Micro's after it


@dataclass
class TestReport:
    model: str
    sha256: str
    board: str
    url: str
    tolerance: float
    vectors: list[VectorResult] = field(default_factory=list)
    memory: dict | None = None  # MemoryReport.to_json() of the firmware, when known
    profile: dict | None = None  # ProfileRun.to_json() of the last vector (`mcuforge test --profile`)
    stream: bool = False  # a stateful model: the vectors ran as one stream (run_vectors)

    @property
    def passed(self) -> int:
        return sum(v.passed for v in self.vectors)

    @property
    def failed(self) -> int:
        return len(self.vectors) - self.passed

    @property
    def ok(self) -> bool:
        return self.failed == 0 and bool(self.vectors)

    def to_json(self) -> dict:
        return {"model": self.model, "sha256": self.sha256, "board": self.board, "url": self.url,
                "tolerance": self.tolerance, "passed": self.passed, "failed": self.failed,
                "vectors": [asdict(v) for v in self.vectors], "memory": self.memory,
                "stream": self.stream, **({"profile": self.profile} if self.profile is not None else {})}

    def write_junit(self, path: Path) -> None:
        from junitparser import JUnitXml

        xml = JUnitXml()
        xml.add_testsuite(self.junit_suite())
        xml.write(str(path), pretty=True)

    def junit_suite(self) -> Any:
        """The report as one JUnit test suite (a junitparser TestSuite)."""
        from junitparser import Error, Failure, Properties, Property, TestCase, TestSuite

        suite = TestSuite(f"mcuforge.{self.board}.{Path(self.model).stem}")
        props = Properties()
        for key, value in (("model", self.model), ("sha256", self.sha256), ("board", self.board),
                           ("url", self.url), ("tolerance", str(self.tolerance))):
            props.add_property(Property(key, value))
        suite.append(props)
        for v in self.vectors:
            case = TestCase(v.name, classname=f"mcuforge.{self.board}")
            if v.elapsed is not None:
                case.system_out = f"elapsed={v.elapsed} {v.unit} retries={v.retries} max_abs_diff={v.max_abs_diff}"
            if not v.passed:
                case.result = [Error(v.error) if v.max_abs_diff is None else
                               Failure(v.error or f"max abs diff {v.max_abs_diff} > tolerance {self.tolerance}")]
            suite.append(case)
        suite.update_statistics()
        return suite


def load_vectors(graph: Graph, folder: Path) -> list[tuple[str, list[np.ndarray]]]:
    """A folder of .npy files (one input tensor each, single-input models) or .npz files (one array
    per input, in graph order: arr_0, arr_1, … or the input tensor names); or one .npy file holding
    a batch of inputs for a single-input model (leading axis = vector)."""
    if folder.is_file() and folder.suffix == ".npy":
        from mcuforge.generator.validate import load_input_files

        return [(f"{folder.stem}[{k}]", xs) for k, xs in enumerate(load_input_files(graph, [folder]))]
    if not folder.is_dir():
        raise UsageError(f"--vectors {folder}: not a folder or a .npy file")
    files = sorted([*folder.glob("*.npy"), *folder.glob("*.npz")])
    if not files:
        raise UsageError(f"--vectors {folder}: no .npy or .npz files in it")
    out = []
    ins = [graph.tensors[i] for i in graph.inputs]
    for f in files:
        try:
            data = np.load(f, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read vector {f}: {exc}") from exc
        if isinstance(data, np.ndarray):
            arrays = [data]
        else:
            keys = list(data.keys())
            arrays = [data[t.name] if t.name in keys else data[f"arr_{n}"] for n, t in enumerate(ins)
                      if t.name in keys or f"arr_{n}" in keys]
        if len(arrays) != len(ins):
            raise UsageError(f"{f}: holds {len(arrays)} input arrays, the model has {len(ins)} inputs")
        for a, t in zip(arrays, ins, strict=True):
            if a.dtype != NUMPY_DTYPES[t.dtype] or a.size != t.size:
                raise UsageError(f"{f}: {a.dtype} {list(a.shape)} does not fit input '{t.name}' "
                                 f"({t.dtype} {list(t.shape)})")
        out.append((f.stem, [a.reshape(t.shape) for a, t in zip(arrays, ins, strict=True)]))
    return out


def random_vectors(graph: Graph, count: int, seed: int = 0) -> list[tuple[str, list[np.ndarray]]]:
    return [(f"random-{seed}-{k}", xs) for k, xs in enumerate(random_inputs(graph, count, seed))]


def run_vectors(device: Device, graph: Graph, model_bytes: bytes, vectors: list[tuple[str, list[np.ndarray]]],
                report: TestReport, *, reset_retries: int = 2,
                on_result: Callable[[VectorResult], None] | None = None) -> TestReport:
    """Each vector is one inference compared with TFLite Micro. A stateful model's vectors are one
    stream: the first resets the device's state (and the reference starts afresh), each next one
    continues from the state the previous left, on the device and in the reference. A device reset
    in the middle of a stream loses the state: that vector fails and the stream starts again.
    After each vector of a stream the device's state buffer is read back (READ_TENSOR kind 2) and
    every variable compared with the value TFLite Micro assigned it: the state must match too."""
    stateful = is_stateful(graph) or keeps_state(graph)
    ref = open_reference(model_bytes, graph, keep_tensors=stateful)
    n_out = len(graph.outputs)
    plan = add_variable_tensors(graph, plan_state(graph)) if stateful else None
    assigned = {**last_assignments(graph, plan), **current_values(graph, plan)} if plan is not None else {}
    new_stream = stateful
    report.stream = stateful
    for name, inputs in vectors:
        if new_stream:
            ref.restart()
        want = ref.run(inputs, n_out)
        result = None
        attempts = 0
        while result is None:
            try:
                got = device.infer(inputs, reset_state=new_stream)
            except DeviceReset as exc:
                attempts += 1
                if stateful:
                    result = VectorResult(name, False, None, None, None, attempts,
                                          f"device reset in the middle of a stream, its state lost: {exc.message}")
                elif attempts > reset_retries:
                    result = VectorResult(name, False, None, None, None, attempts, f"device reset: {exc.message}")
                continue
            except DeviceError as exc:
                result = VectorResult(name, False, None, None, None, attempts, exc.message)
                break
            diff = max((float(np.max(np.abs(g.astype(np.float64) - w.reshape(g.shape).astype(np.float64))))
                        if g.size else 0.0) for g, w in zip(got.outputs, want, strict=True))
            result = VectorResult(name, diff <= report.tolerance, diff, got.elapsed, got.unit,
                                  attempts + got.retries)
            if plan is not None:
                try:
                    result.state_match = state_matches(plan, device.read_state(plan.bytes), ref, assigned)
                except DeviceError as exc:
                    result.state_match, result.error = False, f"state not read back: {exc.message}"
                if not result.state_match:
                    result.passed = False
                    result.error = result.error or "the device's state differs from TFLite Micro's"
        new_stream = stateful and (result.max_abs_diff is None or not result.state_match)  # state unknown: restart
        report.vectors.append(result)
        if on_result:
            on_result(result)
    return report


# ---- replay: a recording through the device's sensor pipeline ------------------------------------


def _input_difference(got: np.ndarray, want: np.ndarray) -> str:
    """'' when bit-identical, else where they differ."""
    g = got.reshape(-1)
    w = want.reshape(-1)
    same = g.view(np.uint32) == w.view(np.uint32) if g.dtype == np.float32 else g == w
    if g.shape == w.shape and bool(np.all(same)):
        return ""
    if g.shape != w.shape:
        return f"input tensor has {g.size} elements on the device, {w.size} on the host"
    bad = np.flatnonzero(~same)
    i = int(bad[0])
    return (f"input tensor differs from the host pipeline at {len(bad)} of {g.size} elements "
            f"(first: element {i}, device {g[i]!r}, host {w[i]!r})")


def run_replay(device: Device, model_bytes: bytes, pipeline: Pipeline, samples: np.ndarray, report: TestReport,
               *, reset_retries: int = 1, on_result: Callable[[VectorResult], None] | None = None) -> TestReport:
    """Streams `samples` into the device's sensor pipeline (SAMPLES, with the input echoed) and checks
    every window: the input tensor the device built must equal the host reference's bit for bit,
    and the outputs must match TFLite Micro run on that tensor (within the report's tolerance)."""
    want_inputs = input_tensors(pipeline, samples)
    ref = open_reference(model_bytes)
    windows: list[ReplayWindow] | None = None
    attempts = 0
    while windows is None:
        try:
            windows = device.replay(stream_samples(pipeline, samples), window=pipeline.window, hop=pipeline.hop,
                                    echo=True)
        except DeviceReset as exc:
            attempts += 1
            if attempts > reset_retries:
                _replay_failed(report, f"device reset: {exc.message}", on_result)
                return report
        except DeviceError as exc:
            _replay_failed(report, exc.message, on_result)
            return report
    if len(windows) != len(want_inputs):
        _replay_failed(report, f"the device completed {len(windows)} windows, the host pipeline "
                               f"{len(want_inputs)}", on_result)
        return report
    for k, (w, host_in) in enumerate(zip(windows, want_inputs, strict=True)):
        want_out = ref.run([host_in], len(w.outputs))
        diff = max((float(np.max(np.abs(g.astype(np.float64) - o.reshape(g.shape).astype(np.float64))))
                    if g.size else 0.0) for g, o in zip(w.outputs, want_out, strict=True))
        problem = "the device's input tensor was lost on the line" if w.input is None else \
            _input_difference(w.input, host_in)
        first = k * pipeline.hop
        name = f"frame-{k}" if pipeline.camera is not None else \
            f"window-{k} (samples {first}-{first + pipeline.window - 1})"
        result = VectorResult(name,
                              not problem and diff <= report.tolerance, diff, w.elapsed, w.unit, attempts + w.retries,
                              problem, input_match=not problem)
        report.vectors.append(result)
        if on_result:
            on_result(result)
    return report


def _replay_failed(report: TestReport, error: str, on_result: Callable[[VectorResult], None] | None) -> None:
    result = VectorResult("replay", False, None, None, None, 0, error)
    report.vectors.append(result)
    if on_result:
        on_result(result)


def replay_plan(root: Path, recording: Path) -> tuple[Pipeline, np.ndarray]:
    """The project's sensor pipeline and the recording's samples, checked before anything is sent."""
    from mcuforge.generator.boards import load_board
    from mcuforge.generator.frontends import read_model
    from mcuforge.generator.scaffold import _board_dirs, load_config
    from mcuforge.generator.sensor.pipeline import resolve
    from mcuforge.generator.sensor.reference import load_recording

    root = Path(root).resolve()
    cfg = load_config(root)
    if cfg.sensor is None:
        raise UsageError(f"{root} has no sensor pipeline to replay a recording into (no `sensor:` in mcuforge.yaml)",
                         hint="create the project with `mcuforge new … --sensor replay:KIND`, or add a `sensor:` "
                              "section and run `mcuforge update` and `mcuforge build`")
    board = load_board(cfg.board, _board_dirs(root, cfg))
    pipeline = resolve(cfg.sensor, read_model(root / cfg.model), board, cfg.framework)
    return pipeline, load_recording(recording, pipeline)
