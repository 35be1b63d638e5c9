"""Per-layer profile: where the time of one inference goes, operator by operator.

Firmware built with the per-operator profile (``profile: true`` in mcuforge.yaml, ``mcuforge new
--profile``: the generated code is compiled with ``MCF_PROFILE=1``) reads its tick counter before the
first operator and after each one; the host asks for the differences with PROFILE_REQ
(docs/protocol.md). This module joins them with what the model says about each operator (type,
output shape, MACs, kernel) into rows, and renders them.

For the bench or a script::

    from mcuforge.hil.profile import measure_profile, render_markdown
    run = measure_profile(project_dir, inputs)          # a built project; QEMU starts for emulated boards
    for layer in run.layers: print(layer.index, layer.op, layer.ticks, layer.per_mac)
    print(render_markdown(run, top=5))

``run.total`` (the sum over operators) is what ``invoke()`` took between its first and last counter
reading; ``run.elapsed`` is the time the protocol measured around ``invoke()`` for the same inference,
larger by the call itself and one counter reading (``run.overhead``). Operators without a kernel call
(RESHAPE, SQUEEZE and the like share their input's bytes) are rows with 0 ticks and ``alias=True``.

Calibration: each operator's measured ticks include one reading of the counter (on the bare-metal
port under QEMU about 130 instructions: the port's 64-bit tick read and the re-basing of SysTick).
Generated code reads the counter once more right after the last operator's reading, an empty region
measured exactly as an operator is; the device reports it as one value after the operators'
(``ProfileRun.calibration``). Each row's ``net`` (and ``per_mac``) is its measured ticks minus that
value, so it is the kernel call alone, within one tick (QEMU: readings round down to whole SysTick
ticks of 40 instructions). Firmware generated before this reading reports the operators only: then
``calibration`` is None and ``net`` equals the measured ticks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from rich import box
from rich.table import Table

from mcuforge.generator.compiler import CompiledModel, compile_graph
from mcuforge.generator.errors import McuforgeError
from mcuforge.generator.ir import Graph
from mcuforge.generator.ops.base import KernelCall

from .device import PROFILE_HINT, Device, DeviceError, ProfileUnavailable

__all__ = ["LayerProfile", "ProfileRun", "compiled_for_project", "layer_rows", "legend", "measure_profile",
           "profile_on_device", "render_markdown", "render_table"]


@dataclass
class LayerProfile:
    """One operator of one inference."""

    index: int  # operator index in the .tflite (execution order)
    op: str  # e.g. "CONV_2D"
    output_shape: list[int]
    macs: int
    ticks: int  # in ProfileRun.unit, as measured: the kernel call and one counter reading
    share: float  # of the sum of ``net`` over all operators, 0..1
    kernel: str | None = None  # the C function called; None for an alias (no kernel call)
    reading: int | None = None  # the empty region measured in the same invoke (None: not measured)

    @property
    def alias(self) -> bool:
        return self.kernel is None

    @property
    def net(self) -> int:
        """The measured ticks minus one counter reading (the empty region), not below 0; an alias's
        0 (it copies the previous reading)."""
        if self.alias or not self.ticks:
            return 0
        return max(self.ticks - (self.reading or 0), 0)

    @property
    def per_mac(self) -> float | None:
        """Net ticks per multiply-accumulate (None for operators without MACs)."""
        return self.net / self.macs if self.macs else None


@dataclass
class ProfileRun:
    """The per-operator profile of one inference, and that inference's outputs and measured time."""

    layers: list[LayerProfile]
    unit: str  # "instructions" (QEMU), "cycles" (hardware, Zephyr), "us", …
    elapsed: int  # the protocol's measurement around invoke() (RESULT.elapsed)
    outputs: list[np.ndarray] = field(default_factory=list)
    model: str = ""
    board: str = ""

    @property
    def total(self) -> int:
        """Sum over operators as measured: invoke() from its first counter reading to the last
        operator's."""
        return sum(layer.ticks for layer in self.layers)

    @property
    def calibration(self) -> int | None:
        """Ticks of the empty region (one counter reading) measured in the same invoke, subtracted
        from each operator; None if the firmware did not measure it."""
        return next((layer.reading for layer in self.layers if layer.reading is not None), None)

    @property
    def net_total(self) -> int:
        """Sum of the operators' net ticks: the kernel calls without the readings."""
        return sum(layer.net for layer in self.layers)

    @property
    def overhead(self) -> int:
        """``elapsed - total - calibration``: the call to invoke() and its first counter reading."""
        return self.elapsed - self.total - (self.calibration or 0)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    def top(self, n: int) -> list[LayerProfile]:
        """The ``n`` operators that took longest (ties: graph order)."""
        return sorted(self.layers, key=lambda layer: (-layer.net, layer.index))[:n]

    def to_json(self) -> dict:
        return {"model": self.model, "board": self.board, "unit": self.unit, "elapsed": self.elapsed,
                "total": self.total, "calibration": self.calibration, "net_total": self.net_total,
                "overhead": self.overhead, "macs": self.macs,
                "layers": [{**asdict(layer), "alias": layer.alias, "net": layer.net, "per_mac": layer.per_mac}
                           for layer in self.layers]}


def layer_rows(compiled: CompiledModel, ticks: Sequence[int]) -> list[LayerProfile]:
    """Rows for a device profile ``ticks`` of the model ``compiled``: one value per operator, then
    the empty region (one counter reading, subtracted from each operator's; older firmware: absent)."""
    graph = compiled.graph
    n = len(graph.operators)
    if len(ticks) not in (n, n + 1):
        raise DeviceError(f"the device profiled {len(ticks)} operators; {graph.name} has {n}",
                          hint="the firmware is stale: `mcuforge update`, `mcuforge build`, then flash it")
    reading = int(ticks[n]) if len(ticks) == n + 1 else None
    rows = []
    for step, t in zip(compiled.steps, ticks[:n], strict=True):
        op = step.op
        shape = list(graph.tensors[op.outputs[0]].shape) if op.outputs else []
        call = step if isinstance(step, KernelCall) else None
        rows.append(LayerProfile(op.index, op.opcode, shape, call.macs if call else 0, int(t), 0.0,
                                 (call.function or None) if call else None,  # no code (views, handles): 0 ticks
                                 reading))
    total = sum(row.net for row in rows) or 1
    for row in rows:
        row.share = row.net / total
    return rows


def profile_on_device(device: Device, graph: Graph | CompiledModel, inputs: Sequence[np.ndarray]) -> ProfileRun:
    """Runs ``inputs`` once on an open device and returns the profile of that inference. Raises
    ProfileUnavailable (before running anything) if the firmware records no profile."""
    info = device.hello() if device.info is None else device.info
    if not info.hello.has_profile:
        raise ProfileUnavailable(f"the firmware ('{info.hello.model_name}' on {info.board or 'the device'}) "
                                 "records no per-operator profile (built without MCF_PROFILE=1)", hint=PROFILE_HINT)
    compiled = graph if isinstance(graph, CompiledModel) else compile_graph(graph)
    res = device.infer(list(inputs))
    prof = device.profile()
    if prof.unit != res.unit:
        raise DeviceError(f"the profile is in {prof.unit}, the inference was timed in {res.unit}")
    return ProfileRun(layer_rows(compiled, prof.ticks), res.unit, res.elapsed, res.outputs,
                      model=compiled.graph.name, board=info.board)


def measure_profile(project: Path, inputs: Sequence[np.ndarray] | None = None, *, port: str | None = None,
                    infer_timeout: float = 600.0) -> ProfileRun:
    """The per-layer profile of one inference of ``inputs`` (one array per model input; default: the
    input the firmware's self-test embeds, ``mcuforge validate --seed 0``'s first) on a built project's
    device: its emulator (started and stopped here) or the board on ``port``. The project must have
    ``profile: true`` (else ProfileUnavailable, with the hint)."""
    from mcuforge.generator.ops.conv_fsum import onnx_settings
    from mcuforge.generator.scaffold import load_config
    from mcuforge.generator.validate import random_inputs

    from .session import open_session

    root = Path(project).resolve()
    cfg = load_config(root)
    with open_session(root, port=port, infer_timeout=infer_timeout) as s:
        xs = list(inputs) if inputs is not None else random_inputs(s.graph, 1, 0)[0]
        with onnx_settings(cfg.onnx_numerics, cfg.ort_threads):  # compiled as the project's (ops/conv_fsum.py)
            compiled = compiled_for_project(root, cfg.framework, s.graph)
        run = profile_on_device(s.device, compiled, xs)
        run.board = s.board.id
    return run


def compiled_for_project(root: Path, framework: str, graph: Graph) -> CompiledModel:
    """The model compiled as the project's generated code was (separate IO or not): the kernel names."""
    from mcuforge.generator.scaffold import GENERATED_DIR

    generated = root / GENERATED_DIR[framework]
    # PlatformIO's library keeps its sources under src/ (model/ there)
    manifest = next((d / "mcuforge_model.json" for d in (generated / "model", generated / "src" / "model")
                     if (d / "mcuforge_model.json").is_file()), generated / "model" / "mcuforge_model.json")
    try:
        separate_io = bool(json.loads(manifest.read_text()).get("io_bytes"))
    except (OSError, ValueError):
        separate_io = False
    try:
        return compile_graph(graph, separate_io=separate_io)
    except McuforgeError:
        return compile_graph(graph)


# ---- rendering --------------------------------------------------------------------------------------


def _ratio(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def _shape(shape: list[int]) -> str:
    return "×".join(str(d) for d in shape) or "scalar"


def legend(run: ProfileRun) -> str:
    """What each operator's figure is: net of the counter reading, and what was subtracted."""
    if run.calibration is None:
        return (f"each operator's {run.unit} include one counter reading (the firmware measured no empty "
                "region to subtract: regenerate it)")
    return (f"each operator's {run.unit}: measured minus an empty measured region (a counter reading with "
            f"nothing to time, {run.calibration:,} {run.unit}, read in the same invoke); exact within one tick "
            "of the counter (40 instructions under QEMU)")


def _column(run: ProfileRun) -> str:
    return run.unit + (" (net)" if run.calibration is not None else "")


def _footer(run: ProfileRun) -> str:
    cal = run.calibration
    return (f"sum of operators {run.net_total:,} {run.unit} net ({run.total:,} measured); invoke() measured "
            f"{run.elapsed:,} {run.unit} (+{run.overhead:,}: the call and the first counter reading"
            + (f"; +{cal:,}: the empty region" if cal is not None else "") + f"); {run.macs:,} MACs, "
            f"{(run.net_total / run.macs if run.macs else 0):.2f} {run.unit}/MAC net. " + legend(run))


def render_table(run: ProfileRun, *, title: str | None = None, top: int | None = None) -> Table:
    """A rich table, one row per operator in graph order (``top``: only the n longest, longest first)."""
    where = f"{run.model} on {run.board}" if run.board else run.model
    t = Table(title=title or f"per-layer profile: {where}", caption=_footer(run), box=box.SIMPLE_HEAD,
              caption_justify="left", pad_edge=False, show_edge=False)
    for col, justify in (("#", "right"), ("op", "left"), ("output", "left"), ("MACs", "right"), (_column(run), "right"),
                         ("per MAC", "right"), ("share", "right")):
        t.add_column(col, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    layers = run.top(top) if top else run.layers
    for layer in layers:
        op = layer.op + (" (alias)" if layer.alias else "")
        t.add_row(str(layer.index), op, _shape(layer.output_shape), f"{layer.macs:,}", f"{layer.net:,}",
                  _ratio(layer.per_mac), f"{100 * layer.share:.1f}%")
    return t


def render_markdown(run: ProfileRun, *, top: int | None = None) -> str:
    """The same table in Markdown, with the sum-versus-measured line under it."""
    unit = run.unit
    lines = [f"| # | op | output | MACs | {_column(run)} | {unit}/MAC | share |", "|---:|---|---|---:|---:|---:|---:|"]
    for layer in run.top(top) if top else run.layers:
        op = layer.op + (" (alias)" if layer.alias else "")
        lines.append(f"| {layer.index} | {op} | {_shape(layer.output_shape)} | {layer.macs:,} | {layer.net:,} | "
                     f"{_ratio(layer.per_mac)} | {100 * layer.share:.1f}% |")
    return "\n".join(lines) + "\n\n" + _footer(run) + "\n"
