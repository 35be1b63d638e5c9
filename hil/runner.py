"""`mcuforge test`: send vectors to the device, compare with TFLite Micro, report.

Every vector ends as passed or failed with a reason; none is skipped. A device reset in the
middle of a vector is retried (up to `reset_retries` times) after the device says hello again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from mcuforge.generator.errors import UsageError
from mcuforge.generator.ir import NUMPY_DTYPES, Graph
from mcuforge.generator.reference import Reference
from mcuforge.generator.validate import random_inputs

from .device import Device, DeviceError, DeviceReset


@dataclass
class VectorResult:
    name: str
    passed: bool
    max_abs_diff: float | None  # None when no output came back
    elapsed: int | None
    unit: str | None
    retries: int = 0
    error: str = ""


@dataclass
class TestReport:
    model: str
    sha256: str
    board: str
    url: str
    tolerance: float
    vectors: list[VectorResult] = field(default_factory=list)
    memory: dict | None = None  # MemoryReport.to_json() of the firmware, when known

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
                "vectors": [asdict(v) for v in self.vectors], "memory": self.memory}

    def write_junit(self, path: Path) -> None:
        from junitparser import Error, Failure, JUnitXml, Properties, Property, TestCase, TestSuite

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
                               Failure(f"max abs diff {v.max_abs_diff} > tolerance {self.tolerance}")]
            suite.append(case)
        suite.update_statistics()
        xml = JUnitXml()
        xml.add_testsuite(suite)
        xml.write(str(path), pretty=True)


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
    ref = Reference(model_bytes)
    n_out = len(graph.outputs)
    for name, inputs in vectors:
        want = ref.run(inputs, n_out)
        result = None
        attempts = 0
        while result is None:
            try:
                got = device.infer(inputs)
            except DeviceReset as exc:
                attempts += 1
                if attempts > reset_retries:
                    result = VectorResult(name, False, None, None, None, attempts, f"device reset: {exc.message}")
                continue
            except DeviceError as exc:
                result = VectorResult(name, False, None, None, None, attempts, exc.message)
                break
            diff = max((float(np.max(np.abs(g.astype(np.float64) - w.reshape(g.shape).astype(np.float64))))
                        if g.size else 0.0) for g, w in zip(got.outputs, want, strict=True))
            result = VectorResult(name, diff <= report.tolerance, diff, got.elapsed, got.unit,
                                  attempts + got.retries)
        report.vectors.append(result)
        if on_result:
            on_result(result)
    return report
