"""`mcuforge validate`: generated C on the host versus the model's reference runtime (TFLite Micro
for .tflite, onnxruntime for .onnx), bit for bit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .codegen import generate
from .compiler import CompiledModel, compile_graph
from .divergence import Divergence, Search, search, steps, top1
from .errors import UsageError
from .frontends import read_model
from .hostbuild import HostModel
from .ir import NUMPY_DTYPES, Graph, Tensor
from .ops.variable_tensors import current_values
from .ops.variables import StatePlan, last_assignments
from .references import ReferenceRunner, is_tflite, open_reference


@dataclass
class OutputStats:
    name: str
    bit_exact: int = 0  # inferences whose output matched exactly
    max_abs_diff: float = 0.0
    max_steps: float = 0.0  # largest difference in quantization steps (divergence.steps)
    top1_agree: int = 0  # inferences whose arg-max (last axis, every row) matched
    elements: int = 0  # elements compared, over all inferences
    differing_elements: int = 0


@dataclass
class ValidationResult:
    model: str
    sha256: str
    inputs: int
    bit_exact: int  # inferences where every output matched exactly
    max_abs_diff: float
    arena_bytes: int
    io_bytes: int
    weights_bytes: int
    lower_bound_bytes: int
    macs: int
    outputs: list[OutputStats] = field(default_factory=list)
    checksums: list[int] = field(default_factory=list)  # per inference, see output_checksum()
    # A stateful model's inputs are one stream: each inference starts from the state the previous
    # one left, on the host as in TFLite Micro, so every step checks the state too.
    state_bytes: int = 0
    state_bit_exact: int = 0  # inferences after which the state equalled TFLite Micro's, byte for byte
    reference: str = "TFLite Micro"
    # Differences of at most this many steps (with the same top-1) still pass: 1 for an ONNX model
    # with operators onnxruntime computes in float between DequantizeLinear and QuantizeLinear.
    tolerance_steps: int = 0
    first_difference: Divergence | None = None  # on the first inference that differed
    # The op-by-op comparison behind it (None: not run, every output was bit-exact).
    intermediate: Search | None = None
    # Which onnxruntime session the reference is, where it is not the default (references.onnxrt.saturation_note).
    note: str = ""

    @property
    def ok(self) -> bool:
        if self.state_bytes and self.state_bit_exact != self.inputs:
            return False
        if self.bit_exact == self.inputs:
            return True
        return bool(self.tolerance_steps) and all(
            o.max_steps <= self.tolerance_steps and o.top1_agree == self.inputs for o in self.outputs)

    def to_json(self) -> dict:
        return {
            "model": self.model, "sha256": self.sha256, "inputs": self.inputs, "bit_exact": self.bit_exact,
            "max_abs_diff": self.max_abs_diff, "arena_bytes": self.arena_bytes, "io_bytes": self.io_bytes,
            "weights_bytes": self.weights_bytes, "lower_bound_bytes": self.lower_bound_bytes,
            "macs": self.macs, "checksums": self.checksums, "state_bytes": self.state_bytes,
            "state_bit_exact": self.state_bit_exact, "reference": self.reference,
            "tolerance_steps": self.tolerance_steps, "ok": self.ok,
            "first_difference": self.first_difference.to_json() if self.first_difference else None,
            "intermediate": self.intermediate.to_json() if self.intermediate else None,
            "note": self.note,
            "outputs": [{"name": o.name, "bit_exact": o.bit_exact, "max_abs_diff": o.max_abs_diff,
                         "max_steps": o.max_steps, "top1_agree": o.top1_agree, "elements": o.elements,
                         "differing_elements": o.differing_elements}
                        for o in self.outputs],
        }


def output_checksum(outputs: list[np.ndarray]) -> int:
    """FNV-1a (32-bit) over the output bytes in graph order: what firmware prints to prove a run."""
    h = 0x811C9DC5
    for o in outputs:
        for b in np.ascontiguousarray(o).tobytes():
            h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def _float_range(graph: Graph, t: Tensor) -> tuple[float, float]:
    """Range for random float inputs: what the QUANTIZE that consumes the input can represent."""
    for op in graph.operators:
        if op.opcode == "QUANTIZE" and op.inputs and op.inputs[0] == t.index:
            q = graph.tensors[op.outputs[0]]
            if q.quant:
                lo, hi = (-32768, 32767) if q.dtype == "int16" else (-128, 127)
                return q.scale * (lo - q.zero_point), q.scale * (hi - q.zero_point)
    return -1.0, 1.0


def random_inputs(graph: Graph, count: int, seed: int) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(count):
        xs = []
        for i in graph.inputs:
            t = graph.tensors[i]
            if t.dtype == "float32":
                lo, hi = _float_range(graph, t)
                xs.append(rng.uniform(lo, hi, size=t.shape).astype(np.float32))
            else:
                info = np.iinfo(NUMPY_DTYPES[t.dtype])
                xs.append(rng.integers(info.min, info.max, size=t.shape, endpoint=True).astype(NUMPY_DTYPES[t.dtype]))
        batches.append(xs)
    return batches


def load_input_files(graph: Graph, files: list[Path]) -> list[list[np.ndarray]]:
    """Each .npy holds one input tensor, or a batch of them (leading axis = inference)."""
    if len(graph.inputs) != 1:
        raise UsageError("--input files are supported for single-input models only")
    t = graph.tensors[graph.inputs[0]]
    batches = []
    for f in files:
        try:
            arr = np.load(f, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read input file {f}: {exc}") from exc
        if arr.dtype != NUMPY_DTYPES[t.dtype]:
            raise UsageError(f"{f}: dtype {arr.dtype} does not match the model input ({t.dtype})")
        if tuple(arr.shape) == t.shape:
            batches.append([arr])
        elif tuple(arr.shape[1:]) == t.shape:
            batches.extend([a] for a in arr)
        else:
            raise UsageError(f"{f}: shape {list(arr.shape)} does not match the model input {list(t.shape)}")
    return batches


def validate_compiled(cm: CompiledModel, model_bytes: bytes, batches: list[list[np.ndarray]],
                      prefix: str = "model", extra_flags: tuple[str, ...] = ()) -> ValidationResult:
    """`extra_flags` go to the host C compiler, e.g. -DMCF_PORTABLE_KERNELS (the reference loops)
    or -DMCF_EMULATE_DSP (the DSP paths, with the instructions written in C).

    The batches run in order through one host process and one TFLite Micro interpreter, so for a
    stateful model they are one stream, compared step by step: the outputs, and after each step
    every variable against the value TFLite Micro assigned it."""
    graph = cm.graph
    lib = generate(cm, prefix)
    ref = open_reference(model_bytes, graph, keep_tensors=bool(cm.state.bytes))
    with HostModel(lib, extra_flags=extra_flags) as host:
        got_all = host.run(batches)
        states = host.states
    assigned = {**last_assignments(graph, cm.state), **current_values(graph, cm.state)}
    state_exact = 0
    stats = [OutputStats(graph.tensors[i].name) for i in graph.outputs]
    exact = 0
    worst = 0.0
    checksums = []
    first_bad: list[np.ndarray] | None = None
    for inputs, got in zip(batches, got_all, strict=True):
        want = ref.run(inputs, len(graph.outputs))
        all_ok = True
        for s, g, w, index in zip(stats, got, want, graph.outputs, strict=True):
            w = w.reshape(g.shape)
            diff = float(np.max(np.abs(g.astype(np.float64) - w.astype(np.float64)))) if g.size else 0.0
            same = bool(np.array_equal(g, w))
            s.bit_exact += same
            s.max_abs_diff = max(s.max_abs_diff, diff)
            s.max_steps = max(s.max_steps, steps(graph, index, g, w))
            s.top1_agree += bool(g.size == 0 or np.array_equal(top1(g), top1(w)))
            s.elements += int(g.size)
            s.differing_elements += int(np.count_nonzero(g != w))
            worst = max(worst, diff)
            all_ok &= same
        exact += all_ok
        if not all_ok and first_bad is None:
            first_bad = inputs
        checksums.append(output_checksum(got))
        if cm.state.bytes:
            state_exact += state_matches(cm.state, states[len(checksums) - 1], ref, assigned)
    onnx = not is_tflite(model_bytes)
    # The op-by-op search runs stateless models only: a stateful one's intermediate values depend
    # on the whole stream before them.
    where = (search(cm.source or graph, model_bytes, first_bad, extra_flags)
             if first_bad is not None and not cm.state.bytes else None)
    return ValidationResult(
        model=graph.name, sha256=graph.sha256, inputs=len(batches), bit_exact=exact, max_abs_diff=worst,
        arena_bytes=cm.plan.arena_bytes, io_bytes=cm.plan.io_bytes, weights_bytes=graph.weights_bytes,
        lower_bound_bytes=cm.plan.lower_bound, macs=cm.macs, outputs=stats, checksums=checksums,
        state_bytes=cm.state.bytes, state_bit_exact=state_exact,
        reference="onnxruntime" if onnx else "TFLite Micro",
        tolerance_steps=1 if onnx and any(op.opcode in FLOAT_IN_ONNXRUNTIME for op in graph.operators) else 0,
        first_difference=where.first if where else None, intermediate=where,
        note=_saturation_note(graph, model_bytes, batches, got_all) if onnx else "",
    )


def _saturation_note(graph: Graph, model_bytes: bytes, batches: list[list[np.ndarray]],
                     got_all: list[list[np.ndarray]]) -> str:
    """Where this onnxruntime's default 8-bit kernel saturates and the model has full-range
    weights, the reference took onnxruntime's exact path: say so, with how the same outputs
    compare with a session on default options."""
    from .references.onnxrt import OnnxReference, full_range_layers, saturates_u8s8, saturation_note

    if not full_range_layers(graph) or not saturates_u8s8():
        return ""
    default = OnnxReference(model_bytes, graph, exact=False)
    same = 0
    for inputs, got in zip(batches, got_all, strict=True):
        want = default.run(inputs, len(graph.outputs))
        same += all(np.array_equal(g, w.reshape(g.shape)) for g, w in zip(got, want, strict=True))
    return saturation_note(graph, (same, len(batches)))


# Operators onnxruntime computes in float between DequantizeLinear and QuantizeLinear (the
# generated C uses tables or fixed point for them): their outputs may differ by one step.
FLOAT_IN_ONNXRUNTIME = frozenset({"LOGISTIC", "TANH", "SOFTMAX", "LOG_SOFTMAX", "HARD_SWISH", "LEAKY_RELU",
                                  "ELU", "GELU", "PRELU", "EXP", "LOG", "SQRT", "RSQRT", "LUT"})


def state_matches(plan: StatePlan, state: np.ndarray, ref: ReferenceRunner, assigned: dict[int, int]) -> bool:
    """Whether every variable in a state buffer (host or device) holds what TFLite Micro (a
    keep_tensors TflmReference) assigned it in the same inference; a variable the main subgraph never
    assigns keeps its initial value. `assigned`: ops.variables.last_assignments."""
    if state.size < plan.bytes:
        return False
    for k, var in enumerate(plan.variables):
        if var.private:  # an operator's own state: TFLite Micro shows no tensor of it
            continue
        want = (np.ascontiguousarray(ref.tensor(assigned[k])).view(np.uint8).reshape(-1) if k in assigned
                else var.initial)
        if not np.array_equal(state[var.offset:var.offset + var.nbytes], want):
            return False
    return True


def validate_model(path: Path, *, count: int = 10, seed: int = 0, input_files: list[Path] | None = None,
                   separate_io: bool = False) -> ValidationResult:
    graph = read_model(path)
    cm = compile_graph(graph, separate_io=separate_io)
    batches = load_input_files(graph, input_files) if input_files else random_inputs(graph, count, seed)
    return validate_compiled(cm, Path(path).read_bytes(), batches)
