"""TFLite Micro's stateful signal operators, which carry samples from one invoke to the next.

- SignalFramer: cuts each row of the input (outer dims x samples, a whole number of frame_step
  blocks) into frames of frame_size samples, one frame per frame_step block; the samples not yet
  framed stay for the next invoke. TFLite Micro holds them in a ring buffer of capacity
  ceil(frame_size / frame_step) * frame_step per row; its fill level starts at frame_size -
  frame_step (zeros, "prefill") or 0, and a frame is emitted, the oldest frame_size samples, when
  the fill level reaches frame_size (then frame_step samples are dropped). A frame that is not
  ready leaves its output untouched and sets the bool output_valid to false.
- SignalStacker: appends each input frame of num_channels values to a history of
  left_context + right_context + 1 frames (the very first frame after a reset is repeated
  left_context times more); when the history is full it is output whole (output_valid true) and
  stacker_step frames are dropped, else the output is left untouched (output_valid false).
- SignalDelay: each row of the innermost dimension comes out delay_length samples later (the
  first delay_length samples after a reset are zeros).
- SignalOverlapAdd (int16): each frame of frame_size samples is added, saturating to int16, into a
  per-row buffer of frame_size samples; its first frame_step samples are output and the buffer
  moves up by frame_step, zero-filled at the end.

The state TFLite Micro keeps in persistent buffers is, here, the operator's own part of the
model's state buffer (`operator_states`, placed by ops/variable_tensors.py): zeros at init() and
at `<prefix>_reset_state()`, which is TFLite Micro's reset state for every one of them (the fill
counters are stored relative to their reset value). The C kernels (runtime/kernels/
signal_stream.c) keep each history as a plain array, newest samples last. Float variants and
shapes TFLite Micro would run out of its buffers with are refused by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import UnsupportedModelError
from ..ir import Graph, Operator, Tensor
from .base import KernelCall, ParamValue, StateRef, lowering, reject
from .signal_common import arity, custom_options, io, typed

FRAMER = "CUSTOM:SignalFramer"
STACKER = "CUSTOM:SignalStacker"
DELAY = "CUSTOM:SignalDelay"
OVERLAP_ADD = "CUSTOM:SignalOverlapAdd"
_INT16_TYPE = 7  # TensorType.INT16 in the "T" option
_FLOAT32_TYPE = 0
_MAX = 1 << 20  # option bound: keeps every size computed from the options within int32


def positional(op: Operator, opts: dict[str, Any], key: str, position: int) -> Any:
    """The option TFLite Micro reads as element `position` of the flexbuffer map (keys sorted),
    refused when that element is not `key` (TFLite Micro would read another option there)."""
    keys = sorted(opts)
    if position >= len(keys) or keys[position] != key:
        raise reject(op, f"option '{key}' must be element {position} of the sorted option map, which TFLite "
                         f"Micro reads by position (the options are {keys})")
    return opts[key]


def _int(op: Operator, opts: dict[str, Any], key: str, position: int, lo: int, hi: int = _MAX) -> int:
    value = positional(op, opts, key, position)
    if isinstance(value, bool) or not isinstance(value, int):
        raise reject(op, f"option '{key}' is not an integer")
    if not lo <= value <= hi:
        raise reject(op, f"option '{key}' = {value} is out of the supported range [{lo}, {hi}]")
    return value


def _rows(t: Tensor) -> tuple[int, int]:
    """(outer rows, innermost length) of a tensor of rank >= 1."""
    inner = t.shape[-1]
    return (t.size // inner if inner else 0), inner


@dataclass(frozen=True)
class FramerShape:
    rows: int
    frames: int
    frame_size: int
    frame_step: int
    prefill: bool

    @property
    def capacity(self) -> int:
        return -(-self.frame_size // self.frame_step) * self.frame_step

    @property
    def state_bytes(self) -> int:
        return self.rows * (4 + 2 * self.capacity)


def framer_shape(graph: Graph, op: Operator) -> FramerShape:
    arity(op, 1, 2)
    (x,), (out, valid) = io(graph, op)
    x = typed(op, x, "int16", rank=None)
    out = typed(op, out, "int16", rank=len(x.shape) + 1)
    typed(op, valid, "bool", rank=0)
    opts = custom_options(op)
    size = _int(op, opts, "frame_size", 0, 1)
    step = _int(op, opts, "frame_step", 1, 1)
    prefill = positional(op, opts, "prefill", 2)
    if not isinstance(prefill, bool | int):
        raise reject(op, "option 'prefill' is not a boolean")
    rows, inner = _rows(x)
    if rows == 0 or inner < step or inner % step:
        raise reject(op, f"input rows of {inner} samples are not a whole number (>= 1) of frame_step {step} blocks")
    if prefill and step > size:
        raise reject(op, f"frame_step {step} is larger than frame_size {size} with prefill (TFLite Micro would "
                         "prefill a negative number of samples)")
    frames = inner // step
    if out.shape[:-1] != (*x.shape[:-1], frames) or out.shape[-1] != size:
        raise reject(op, f"output {list(out.shape)} is not {[*x.shape[:-1], frames, size]} (rows x frames x "
                         "frame_size)")
    return FramerShape(rows, frames, size, step, bool(prefill))


@dataclass(frozen=True)
class StackerShape:
    channels: int
    left: int
    right: int
    step: int

    @property
    def history(self) -> int:
        return self.left + self.right + 1

    @property
    def state_bytes(self) -> int:
        return 8 + 2 * self.channels * self.history


def stacker_shape(graph: Graph, op: Operator) -> StackerShape:
    arity(op, 1, 2)
    (x,), (out, valid) = io(graph, op)
    x = typed(op, x, "int16", rank=1)
    out = typed(op, out, "int16", rank=1)
    typed(op, valid, "bool", rank=0)
    opts = custom_options(op)
    channels = _int(op, opts, "num_channels", 0, 1)
    left = _int(op, opts, "stacker_left_context", 1, 0)
    right = _int(op, opts, "stacker_right_context", 2, 0)
    step = _int(op, opts, "stacker_step", 3, 1)
    s = StackerShape(channels, left, right, step)
    if x.size != channels:
        raise reject(op, f"input has {x.size} values, num_channels is {channels}")
    if out.size != channels * s.history:
        raise reject(op, f"output has {out.size} values, not num_channels x (left + right + 1) = "
                         f"{channels * s.history}")
    if step > s.history:
        raise reject(op, f"stacker_step {step} is more than the {s.history} frames held (TFLite Micro would "
                         "drop frames it does not have)")
    return s


def _delay(graph: Graph, op: Operator) -> tuple[int, int, int]:
    """(rows, frame_size, delay_length)."""
    arity(op, 1, 1)
    (x,), (out,) = io(graph, op)
    x = typed(op, x, "int16", rank=None)
    out = typed(op, out, "int16", rank=None)
    delay = _int(op, custom_options(op), "delay_length", 0, 0)
    if out.size != x.size:
        raise reject(op, f"output {list(out.shape)} does not hold the input's {x.size} samples")
    rows, inner = _rows(x)
    if rows == 0:
        raise reject(op, "the input is empty")
    return rows, inner, delay


def _overlap_add(graph: Graph, op: Operator) -> tuple[int, int, int, int]:
    """(rows, frames, frame_size, frame_step)."""
    arity(op, 1, 1)
    (x,), (out,) = io(graph, op)
    opts = custom_options(op)
    kind = positional(op, opts, "T", 0)
    if kind == _FLOAT32_TYPE:
        raise reject(op, "the float32 OverlapAdd is not supported (integer only: the int16 one is)")
    if kind != _INT16_TYPE:
        raise reject(op, f"TensorType {kind} is not an OverlapAdd type (int16 is supported)")
    step = _int(op, opts, "frame_step", 1, 1)
    if x is None or len(x.shape) < 2:
        raise reject(op, "the input must be [..., frames, frame_size]")
    x = typed(op, x, "int16", rank=None)
    out = typed(op, out, "int16", rank=len(x.shape) - 1)
    size, frames = x.shape[-1], x.shape[-2]
    rows = x.size // (size * frames) if size * frames else 0
    if rows == 0:
        raise reject(op, "the input is empty")
    if step > size:
        raise reject(op, f"frame_step {step} is larger than frame_size {size} (TFLite Micro would move its "
                         "buffer by a negative length)")
    if out.size != rows * frames * step:
        raise reject(op, f"output {list(out.shape)} does not hold {rows} x {frames} x frame_step {step} samples")
    return rows, frames, size, step


@dataclass(frozen=True)
class OperatorState:
    """An operator's own state in the model's state buffer."""

    op: int  # operator index
    name: str
    nbytes: int


def _state_bytes(graph: Graph, op: Operator) -> int:
    if op.opcode == FRAMER:
        return framer_shape(graph, op).state_bytes
    if op.opcode == STACKER:
        return stacker_shape(graph, op).state_bytes
    if op.opcode == DELAY:
        rows, _, delay = _delay(graph, op)
        return 2 * rows * delay
    if op.opcode == OVERLAP_ADD:
        rows, _, size, _ = _overlap_add(graph, op)
        return 2 * rows * size
    return 0


def operator_states(graph: Graph) -> list[OperatorState]:
    """The state of every stateful signal operator that mcuforge can lower (one it refuses has
    none: the compiler reports it), in operator order."""
    out = []
    for op in graph.operators:
        if op.opcode not in (FRAMER, STACKER, DELAY, OVERLAP_ADD):
            continue
        try:
            nbytes = _state_bytes(graph, op)
        except (UnsupportedModelError, IndexError, KeyError, ValueError, TypeError, AttributeError):
            continue
        if nbytes:
            out.append(OperatorState(op.index, f"operator {op.index} ({op.opcode[7:]}) state", nbytes))
    return out


@lowering(FRAMER)
def lower_framer(graph: Graph, op: Operator) -> KernelCall:
    s = framer_shape(graph, op)
    base = s.frame_size - s.frame_step if s.prefill else 0
    return KernelCall(
        op=op, kernel="signal_stream", function="mcf_signal_framer", params_type="mcf_signal_framer_params",
        params={"rows": s.rows, "frames": s.frames, "frame_size": s.frame_size, "frame_step": s.frame_step,
                "capacity": s.capacity, "base_count": base, "state": StateRef("int32_t")},
        args=[op.inputs[0], op.outputs[0], op.outputs[1]],
        comment=f", frame {s.frame_size} step {s.frame_step}{' prefilled' if s.prefill else ''}, "
                f"{s.state_bytes} B of state")


@lowering(STACKER)
def lower_stacker(graph: Graph, op: Operator) -> KernelCall:
    s = stacker_shape(graph, op)
    return KernelCall(
        op=op, kernel="signal_stream", function="mcf_signal_stacker", params_type="mcf_signal_stacker_params",
        params={"channels": s.channels, "left": s.left, "history": s.history, "step": s.step,
                "state": StateRef("int32_t")},
        args=[op.inputs[0], op.outputs[0], op.outputs[1]],
        comment=f", {s.channels} channels, context {s.left}+{s.right}, step {s.step}, {s.state_bytes} B of state")


@lowering(DELAY)
def lower_delay(graph: Graph, op: Operator) -> KernelCall:
    rows, size, delay = _delay(graph, op)
    params: dict[str, ParamValue] = {
        "rows": rows, "frame_size": size, "delay": delay,
        "from_state": min(size, delay),  # output samples taken from the history
        "kept": max(delay - size, 0),  # history samples that stay in the history (moved up)
        "state": StateRef("int16_t") if delay else 0,
    }
    return KernelCall(op=op, kernel="signal_stream", function="mcf_signal_delay",
                      params_type="mcf_signal_delay_params", params=params,
                      args=[op.inputs[0], op.outputs[0]],
                      comment=f", {delay} samples, {2 * rows * delay} B of state")


@lowering(OVERLAP_ADD)
def lower_overlap_add(graph: Graph, op: Operator) -> KernelCall:
    rows, frames, size, step = _overlap_add(graph, op)
    return KernelCall(
        op=op, kernel="signal_stream", function="mcf_signal_overlap_add_s16",
        params_type="mcf_signal_overlap_add_params",
        params={"rows": rows, "frames": frames, "frame_size": size, "frame_step": step,
                "state": StateRef("int16_t")},
        args=[op.inputs[0], op.outputs[0]],
        comment=f", frame {size} step {step}, {2 * rows * size} B of state")
