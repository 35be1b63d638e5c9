"""Build small .tflite models in tests, with the flatbuffer schema code from `tflite-micro`.

Kernel tests make single-operator models with chosen shapes, strides, paddings and quantization,
so every kernel is checked against TFLite Micro on cases the shipped models do not cover.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

_TYPES = {"int8": schema.TensorType.INT8, "int16": schema.TensorType.INT16, "int32": schema.TensorType.INT32,
          "float32": schema.TensorType.FLOAT32, "uint8": schema.TensorType.UINT8, "int64": schema.TensorType.INT64}
# Any other TensorType by its lower-case name (resource, string, uint32, complex64, ...): T(..., dtype="resource").
_TYPES.update({k.lower(): v for k, v in vars(schema.TensorType).items() if not k.startswith("_")})
_NP = {"int8": np.int8, "int16": np.int16, "int32": np.int32, "float32": np.float32, "uint8": np.uint8,
       "int64": np.int64, "uint32": np.uint32, "uint64": np.uint64}


@dataclass
class T:
    """A tensor: shape, type, quantization (scale/zero point lists for per-channel) and constant data."""

    shape: tuple[int, ...]
    dtype: str = "int8"
    scale: float | list[float] | None = None
    zero_point: int | list[int] | None = None
    axis: int = 0
    data: np.ndarray | None = None
    name: str = ""
    variable: bool = False  # is_variable: state an operator keeps across invokes (SVDF, LSTM)


@dataclass
class Op:
    opcode: str  # BuiltinOperator name, e.g. "CONV_2D"
    inputs: list[int]
    outputs: list[int]
    options: Any = None  # an XxxOptionsT object from the schema module, or None
    custom_options: bytes | None = None  # a custom operator's options (e.g. a flexbuffer), as stored


def options(kind: str, **fields: Any) -> Any:
    """options("Conv2DOptions", padding=schema.Padding.SAME, strideW=2, ...) → Conv2DOptionsT."""
    obj = getattr(schema, kind + "T")()
    for k, v in fields.items():
        if not hasattr(obj, k):
            raise AttributeError(f"{kind} has no field {k}")
        setattr(obj, k, v)
    return obj


@dataclass
class Subgraph:
    """A further subgraph (e.g. a CALL_ONCE initialiser), with its own tensor indices."""

    tensors: list[T]
    ops: list[Op]
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)


def build(tensors: list[T], ops: list[Op], inputs: list[int], outputs: list[int],
          extra_subgraphs: int = 0, subgraphs: list[Subgraph] | None = None) -> bytes:
    """`extra_subgraphs` copies of the main subgraph, or the given `subgraphs`, follow it."""
    model = schema.ModelT()
    model.version = 3
    model.description = b"mcuforge test model"
    model.buffers = [schema.BufferT()]  # buffer 0 is the conventional empty buffer
    codes: dict[str, int] = {}
    model.operatorCodes = []
    sg = _subgraph(model, codes, tensors, ops, inputs, outputs, b"main")
    model.subgraphs = [sg] + [sg] * extra_subgraphs
    for k, extra in enumerate(subgraphs or []):
        model.subgraphs.append(_subgraph(model, codes, extra.tensors, extra.ops, extra.inputs, extra.outputs,
                                         f"sub{k + 1}".encode()))
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def _subgraph(model: Any, codes: dict[str, int], tensors: list[T], ops: list[Op], inputs: list[int],
              outputs: list[int], name: bytes) -> Any:
    sg = schema.SubGraphT()
    sg.name = name
    sg.tensors = []
    for i, t in enumerate(tensors):
        tt = schema.TensorT()
        tt.name = (t.name or f"t{i}").encode()
        tt.shape = np.array(t.shape, dtype=np.int32)
        tt.type = _TYPES[t.dtype]
        tt.buffer = 0
        tt.isVariable = t.variable
        if t.data is not None:
            buf = schema.BufferT()
            raw = np.ascontiguousarray(t.data, dtype=_NP[t.dtype]) if t.dtype in _NP else np.asarray(t.data)
            buf.data = np.frombuffer(raw.tobytes(), dtype=np.uint8)
            model.buffers.append(buf)
            tt.buffer = len(model.buffers) - 1
        if t.scale is not None:
            q = schema.QuantizationParametersT()
            scales = t.scale if isinstance(t.scale, list) else [t.scale]
            zps = t.zero_point if isinstance(t.zero_point, list) else [t.zero_point or 0] * len(scales)
            q.scale = np.array(scales, dtype=np.float32)
            q.zeroPoint = np.array(zps, dtype=np.int64)
            q.quantizedDimension = t.axis
            tt.quantization = q
        sg.tensors.append(tt)
    sg.operators = []
    for op in ops:
        if op.opcode not in codes:
            code = schema.OperatorCodeT()
            if op.opcode.startswith("CUSTOM:"):  # e.g. "CUSTOM:ethos-u"
                builtin = schema.BuiltinOperator.CUSTOM
                code.customCode = op.opcode.split(":", 1)[1].encode()
            else:
                builtin = getattr(schema.BuiltinOperator, op.opcode)
            code.builtinCode = builtin
            code.deprecatedBuiltinCode = min(builtin, 127)
            code.version = 1
            codes[op.opcode] = len(model.operatorCodes)
            model.operatorCodes.append(code)
        o = schema.OperatorT()
        o.opcodeIndex = codes[op.opcode]
        o.inputs = np.array(op.inputs, dtype=np.int32)
        o.outputs = np.array(op.outputs, dtype=np.int32)
        if op.options is not None:
            o.builtinOptionsType = getattr(schema.BuiltinOptions, type(op.options).__name__[:-1])
            o.builtinOptions = op.options
        if op.custom_options is not None:
            o.customOptions = np.frombuffer(op.custom_options, dtype=np.uint8)
        sg.operators.append(o)
    sg.inputs = np.array(inputs, dtype=np.int32)
    sg.outputs = np.array(outputs, dtype=np.int32)
    return sg


def single_op(opcode: str, ins: list[T], outs: list[T], opts: Any = None) -> bytes:
    """One operator; non-constant inputs become graph inputs, all outputs graph outputs."""
    tensors = ins + outs
    n = len(ins)
    graph_inputs = [i for i, t in enumerate(ins) if t.data is None]
    return build(tensors, [Op(opcode, list(range(n)), list(range(n, n + len(outs))), opts)],
                 graph_inputs, list(range(n, n + len(outs))))


def rng_int8(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-128, 127, size=shape, endpoint=True).astype(np.int8)


Padding = schema.Padding
Activation = schema.ActivationFunctionType
