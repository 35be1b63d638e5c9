"""What an operator lowers to, and the registry of lowerings.

Each supported TFLite operator has a `lower` function (its "Prepare"): it validates the operator,
computes every parameter ahead of time and returns a `KernelCall`, which codegen turns into one
`static const` parameter struct plus one C call. Operators register themselves with `@lowering`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import UnsupportedModelError
from ..ir import Graph, Operator, Tensor


@dataclass(frozen=True)
class ConstRef:
    """Reference, inside a parameter struct, to one of the call's constant arrays."""

    name: str


@dataclass
class ConstArray:
    """A constant table computed at compile time (multipliers, shifts, folded biases, LUTs).

    `fast_only` arrays exist only in builds with the fast kernel paths (MCF_KERNELS_FAST in
    runtime/kernels/mcf_dsp.h): weights rearranged into the layout those paths read, passed with
    `FastOr`, so a build holds one copy of the weights, never two.

    `float_build` "hw" / "int": the array exists only in builds whose ONNX float convolutions use
    the FPU's float32 arithmetic, or only in those that compute it in integers (MCF_FSUM_INT in
    runtime/kernels/mcf_dsp.h); a reference to it reads 0 in the other kind of build.
    """

    name: str  # unique within the call; codegen prefixes it with model and op
    ctype: str  # int8_t, int16_t, int32_t, uint32_t, uint8_t, float
    values: np.ndarray
    fast_only: bool = False
    float_build: str = ""


@dataclass(frozen=True)
class FastOr:
    """A kernel argument that is `fast` (a fast_only ConstArray, passed as `(ctype *)`) when the
    fast kernel paths are compiled and the constant tensor `portable` otherwise. The tensor's own
    array is then emitted for portable builds only (unless another operator reads it too)."""

    fast: ConstRef
    portable: int
    ctype: str = "const int8_t"


@dataclass(frozen=True)
class ScratchRef:
    """Reference, inside a parameter struct, to the call's scratch buffer (`scratch_bytes` in the
    arena, 16-byte aligned); codegen writes its address as `(ctype *)` into the struct field."""

    ctype: str = "int16_t"


@dataclass(frozen=True)
class StateRef:
    """Reference, inside a parameter struct, to the operator's own state in the model's state buffer
    (TFLite Micro's persistent buffers of a stateful kernel, see ops/variable_tensors.py
    `operator_states`); codegen writes its address as `(ctype *)` into the struct field."""

    ctype: str = "int16_t"


ParamValue = int | float | str | ConstRef | ScratchRef | StateRef


@dataclass
class KernelCall:
    """One kernel invocation in the generated invoke function.

    `args` are passed after the parameter struct pointer: an int is a tensor index (codegen
    passes the tensor's data pointer: the arena, the IO buffer or a weight array), a ConstRef
    names one of `consts`, a FastOr picks between a rearranged constant and the tensor.
    """

    op: Operator
    kernel: str  # runtime/kernels/<kernel>.c and <kernel>.h
    function: str  # C function name
    params_type: str | None  # C struct type of the parameters, or None for no struct
    params: dict[str, ParamValue] = field(default_factory=dict)
    args: list[int | ConstRef | FastOr] = field(default_factory=list)
    consts: list[ConstArray] = field(default_factory=list)
    scratch_bytes: int = 0  # kernel scratch, planned in the arena: a ScratchRef param, else the last argument
    macs: int = 0
    comment: str = ""
    # The same operation without scratch (a slower loop), used when the scratch would make the
    # arena bigger than the model needs without it (see compiler.choose_scratch).
    fallback: KernelCall | None = None
    # The fast operation without scratch, its working memory taken from its first input's bytes
    # (and its output's, before they are written): allowed only when that input dies with it.
    in_place: KernelCall | None = None
    # Input tensor index -> the smallest shift (bytes) by which the output may start below that
    # input and overlap it when the input dies with this operator (generator/overlap.py proves it
    # from the kernel's loop order); 0 means fully in place.
    overlap: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Alias:
    """The operator is a view: its output shares its input's bytes (RESHAPE, SQUEEZE)."""

    op: Operator
    source: int  # tensor index the output aliases
    target: int


LowerFn = Callable[[Graph, Operator], "KernelCall | Alias"]
_REGISTRY: dict[str, LowerFn] = {}


def lowering(*opcodes: str) -> Callable[[LowerFn], LowerFn]:
    def register(fn: LowerFn) -> LowerFn:
        for code in opcodes:
            _REGISTRY[code] = fn
        return fn

    return register


def registry() -> dict[str, LowerFn]:
    from . import load_all  # noqa: F401  (importing registers every op module)

    return _REGISTRY


def reject(op: Operator, why: str) -> UnsupportedModelError:
    return UnsupportedModelError(f"operator {op.index} ({op.opcode}): {why}")


def unary_tensors(graph: Graph, op: Operator) -> tuple[Tensor, Tensor]:
    """The input and output of an operator that has exactly one of each (the input present)."""
    if len(op.inputs) != 1 or len(op.outputs) != 1:
        raise reject(op, f"expected 1 input and 1 output, got {len(op.inputs)} and {len(op.outputs)}")
    inp = graph.op_inputs(op)[0]
    if inp is None:
        raise reject(op, "the input tensor is missing")
    return inp, graph.op_outputs(op)[0]


def require_int8(op: Operator, *tensors: Tensor | None) -> None:
    for t in tensors:
        if t is not None and t.dtype == "uint8":
            # TFLite Micro computes uint8 only in QUANTIZE, DEQUANTIZE and REVERSE_V2 (none of which
            # come here): a model quantized to uint8 throughout (TensorFlow 1 style) runs nowhere.
            raise reject(op, f"tensor '{t.name}' is uint8; TFLite Micro has no uint8 {op.opcode} kernel either "
                             "(convert the model again with int8 quantization)")
        if t is not None and t.dtype != "int8":
            raise reject(op, f"tensor '{t.name}' is {t.dtype}; only int8 is supported here")
        if t is not None and t.quant is None:
            raise reject(op, f"tensor '{t.name}' has no quantization parameters")


def padding_offsets(padding: str, in_size: int, filt: int, stride: int, dilation: int) -> tuple[int, int]:
    """(output size, leading padding) for SAME/VALID, as TFLite's ComputePaddingHeightWidth."""
    eff = (filt - 1) * dilation + 1
    out = (in_size + stride - 1) // stride if padding == "SAME" else (in_size + stride - eff) // stride
    total = max((out - 1) * stride + eff - in_size, 0)
    return out, total // 2


def explicit_padding(op: Operator, pads: object, size: tuple[int, int], filt: tuple[int, int],
                     stride: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int, int, int]:
    """(output_h, pad_top, output_w, pad_left) for explicit padding `pads` = (top, left, bottom,
    right), as an ONNX Conv or pool states it; taps in the padding are skipped like SAME's."""
    try:
        top, left, bottom, right = (int(v) for v in pads)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise reject(op, f"pads must be (top, left, bottom, right), got {pads!r}") from None
    if min(top, left, bottom, right) < 0:
        raise reject(op, f"negative padding {[top, left, bottom, right]} is not supported")
    out = [(n + lo + hi - (f - 1) * d - 1) // s + 1
           for n, lo, hi, f, s, d in zip(size, (top, left), (bottom, right), filt, stride, dilation, strict=True)]
    return out[0], top, out[1], left


def nhwc(t: Tensor) -> tuple[int, int, int, int]:
    if len(t.shape) != 4:
        raise ValueError(f"tensor {t.name} is not 4-D")
    n, h, w, c = t.shape
    return n, h, w, c
