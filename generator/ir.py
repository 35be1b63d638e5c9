"""The intermediate representation: what the rest of the pipeline knows about a model.

It is deliberately small: tensors (shape, type, quantization, constant data), operators in
execution order (with their builtin options as a plain dict) and the graph's inputs and outputs.
Nothing here refers to the flatbuffer any more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Bytes per element of every fixed-size TFLite tensor type (the reader and `inspect` meet them
# all; the compiler supports few). A resource tensor is a 4-byte variable handle in TFLite Micro.
# Packed sub-byte types (int4, uint4, int2) and strings/variants have no whole-byte element size.
DTYPE_BYTES = {"int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "int32": 4, "uint32": 4, "int64": 8, "uint64": 8,
               "float16": 2, "bfloat16": 2, "float32": 4, "float64": 8, "complex64": 8, "complex128": 16,
               "bool": 1, "resource": 4, "float8_e4m3fn": 1, "float8_e5m2": 1}
# Bits per element of the packed types.
PACKED_BITS = {"int4": 4, "uint4": 4, "int2": 2}
NUMPY_DTYPES = {
    "int8": np.int8,
    "uint8": np.uint8,
    "int16": np.int16,
    "uint16": np.uint16,
    "int32": np.int32,
    "uint32": np.uint32,
    "int64": np.int64,
    "uint64": np.uint64,
    "float16": np.float16,
    "float32": np.float32,
    "float64": np.float64,
    "complex64": np.complex64,
    "complex128": np.complex128,
    "bool": np.bool_,
}


@dataclass(frozen=True)
class Quant:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per channel (`axis`)."""

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    quant: Quant | None = None
    data: np.ndarray | None = None  # set for constant tensors (weights, biases, shapes)
    is_variable: bool = False  # a variable tensor: an operator's state kept across invokes (SVDF, LSTM)

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        """Bytes of the tensor; for types without a fixed element size (string, variant), the bytes
        of its constant data, else 0."""
        if self.dtype in DTYPE_BYTES:
            return self.size * DTYPE_BYTES[self.dtype]
        if self.dtype in PACKED_BITS:
            return (self.size * PACKED_BITS[self.dtype] + 7) // 8
        return int(self.data.nbytes) if self.data is not None else 0

    @property
    def scale(self) -> float:
        """Per-tensor scale (the first one for per-channel tensors)."""
        assert self.quant is not None, f"tensor {self.name!r} has no quantization"
        return self.quant.scale[0]

    @property
    def zero_point(self) -> int:
        assert self.quant is not None, f"tensor {self.name!r} has no quantization"
        return self.quant.zero_point[0]


@dataclass
class Operator:
    index: int
    opcode: str  # builtin operator name, e.g. "CONV_2D"; custom ops are "CUSTOM:<name>"
    inputs: tuple[int, ...]  # tensor indices; -1 marks an omitted optional input
    outputs: tuple[int, ...]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Graph:
    name: str  # file name the model came from
    sha256: str
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    num_subgraphs: int = 1
    # The model's other subgraphs (index k - 1 holds subgraph k), each with its own tensor indices:
    # CALL_ONCE initialisers (generator/ops/variables.py), or the bodies of WHILE / IF (refused).
    subgraphs: list[Graph] = field(default_factory=list)
    # The front end that read the model: "tflite" or "onnx" (ONNX models are checked against
    # onnxruntime, whose integer kernels requantize in float32).
    source_format: str = "tflite"

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]

    def op_inputs(self, op: Operator) -> list[Tensor | None]:
        return [self.tensors[i] if i >= 0 else None for i in op.inputs]

    def op_outputs(self, op: Operator) -> list[Tensor]:
        return [self.tensors[i] for i in op.outputs]

    @property
    def weights_bytes(self) -> int:
        """Bytes of constant tensor data the model carries (each buffer counted once)."""
        seen: set[int] = set()
        total = 0
        for t in self.tensors:
            if t.data is not None and id(t.data) not in seen:
                seen.add(id(t.data))
                total += t.nbytes
        return total
