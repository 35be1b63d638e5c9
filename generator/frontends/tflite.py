"""Model import: a .tflite flatbuffer → the IR (`mcuforge.generator.ir.Graph`).

The flatbuffer is read with the schema code that ships in the `tflite-micro` package (flatc's
object API), never by hand. This module only translates and validates structure, for every
tensor type and operator TFLite defines: whether the compiler supports what it finds is decided by
`compiler.check_graph` and the operators' lowerings in `ops/`.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from ..ir import DTYPE_BYTES, NUMPY_DTYPES, PACKED_BITS, Graph, Operator, Quant, Tensor

try:  # the schema module lives at this path inside the tflite-micro wheel
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema
except ImportError as exc:  # pragma: no cover - dependency missing means a broken install
    raise ImportError("mcuforge needs the 'tflite-micro' package (pip install tflite-micro)") from exc

_TENSOR_TYPES = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
_BUILTIN_OPS = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
_PADDING = {0: "SAME", 1: "VALID"}
_ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _options(raw: Any) -> dict[str, Any]:
    """Builtin options object → plain dict with snake_case keys and readable enum values."""
    if raw is None:
        return {}
    out: dict[str, Any] = {}
    for key, value in vars(raw).items():
        k = _snake(key)
        if k == "padding":
            value = _PADDING.get(value, value)
        elif k == "fused_activation_function":
            value = _ACTIVATIONS.get(value, value)
        elif isinstance(value, np.ndarray):
            value = [int(v) for v in value]
        elif isinstance(value, bytes):  # names (VAR_HANDLE's container and shared_name, ...)
            value = value.decode(errors="replace")
        out[k] = value
    return out


def _custom_options(op: Any) -> dict[str, Any]:
    """A custom operator's options, as raw bytes under "custom_options" (their format, a flexbuffer
    for TFLite Micro's signal operators, is read by the operator's lowering)."""
    raw = getattr(op, "customOptions", None)
    if raw is None or len(raw) == 0:
        return {}
    return {"custom_options": bytes(np.asarray(raw, dtype=np.uint8))}


def _opcode_name(code: Any) -> str:
    # Old files store the op in the deprecated int8 field; new ones in the int32 field.
    builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
    name = _BUILTIN_OPS.get(builtin, f"BUILTIN_{builtin}")
    if name == "CUSTOM":
        custom = code.customCode.decode(errors="replace") if code.customCode else "?"
        return f"CUSTOM:{custom}"
    return name


def read_model(path: str | Path) -> Graph:
    """Read and structurally validate a .tflite file. Raises ModelError with one clear line."""
    from .files import model_bytes

    buf, name = model_bytes(path, ".tflite")
    return parse_model(buf, name=name)


def parse_model(buf: bytes, name: str = "model.tflite") -> Graph:
    """Translate flatbuffer bytes into a Graph; any structural problem is a ModelError."""
    if len(buf) == 0:
        raise ModelError(f"{name}: the file is empty")
    if len(buf) < 8 or not schema.Model.ModelBufferHasIdentifier(buf, 0):
        raise ModelError(f"{name}: not a TFLite model (the flatbuffer identifier 'TFL3' is missing)")
    try:
        model = schema.ModelT.InitFromPackedBuf(buf, 0)
    except Exception as exc:  # the generated reader raises anything on corrupt offsets
        raise ModelError(f"{name}: the TFLite flatbuffer is truncated or corrupted ({type(exc).__name__})") from exc
    try:
        return _to_graph(model, buf, name)
    except ModelError:
        raise
    except Exception as exc:  # inconsistent tables that the object API still unpacked
        raise ModelError(f"{name}: the TFLite flatbuffer is inconsistent ({type(exc).__name__}: {exc})") from exc


def _to_graph(model: Any, buf: bytes, name: str) -> Graph:
    subgraphs = model.subgraphs or []
    if len(subgraphs) == 0:
        raise ModelError(f"{name}: the model has no subgraph")
    codes = model.operatorCodes or []
    buffers = model.buffers or []
    sha = hashlib.sha256(buf).hexdigest()
    graphs = [_subgraph(k, sg, codes, buffers, buf, name, sha) for k, sg in enumerate(subgraphs)]
    graph = graphs[0]
    graph.num_subgraphs = len(subgraphs)
    graph.subgraphs = graphs[1:]
    return graph


def _subgraph(k: int, sg: Any, codes: list[Any], buffers: list[Any], buf: bytes, name: str, sha: str) -> Graph:
    where = "" if k == 0 else f"subgraph {k}: "
    tensors = [_tensor(i, t, buffers, buf, f"{name}: {where}".rstrip(": ")) for i, t in enumerate(sg.tensors or [])]
    n = len(tensors)

    def check_indices(what: str, idx: Any, allow_optional: bool) -> tuple[int, ...]:
        out = tuple(int(v) for v in (idx if idx is not None else []))
        for v in out:
            if not (0 <= v < n or (allow_optional and v == -1)):
                raise ModelError(f"{name}: {where}{what} refers to tensor {v}, but the subgraph has {n} tensors")
        return out

    ops: list[Operator] = []
    for i, op in enumerate(sg.operators or []):
        if not 0 <= op.opcodeIndex < len(codes):
            raise ModelError(f"{name}: {where}operator {i} uses opcode index {op.opcodeIndex}, out of range")
        ops.append(
            Operator(
                index=i,
                opcode=_opcode_name(codes[op.opcodeIndex]),
                inputs=check_indices(f"operator {i} input", op.inputs, True),
                outputs=check_indices(f"operator {i} output", op.outputs, False),
                options=_options(op.builtinOptions) | _custom_options(op),
            )
        )
    return Graph(
        name=name if k == 0 else f"{name}#{k}",
        sha256=sha,
        tensors=tensors,
        operators=ops,
        inputs=check_indices("graph input", sg.inputs, False),
        outputs=check_indices("graph output", sg.outputs, False),
    )


def _tensor(i: int, t: Any, buffers: list[Any], buf: bytes, name: str) -> Tensor:
    tname = t.name.decode(errors="replace") if isinstance(t.name, bytes) else str(t.name or f"t{i}")
    dtype = _TENSOR_TYPES.get(t.type, f"TYPE{t.type}").lower()
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
    if any(d < 0 for d in shape):
        raise ModelError(f"{name}: tensor {i} ({tname}) has a dynamic shape {list(shape)}")
    quant = None
    q = t.quantization
    if q is not None and q.scale is not None and len(q.scale) > 0:
        zps = q.zeroPoint if q.zeroPoint is not None else np.zeros(len(q.scale), dtype=np.int64)
        if len(zps) != len(q.scale):
            raise ModelError(f"{name}: tensor {i} ({tname}) has {len(q.scale)} scales but {len(zps)} zero points")
        quant = Quant(
            scale=tuple(float(np.float32(s)) for s in q.scale),
            zero_point=tuple(int(z) for z in zps),
            axis=int(q.quantizedDimension),
        )
    data: np.ndarray | None = None
    if not 0 <= t.buffer < max(len(buffers), 1):
        raise ModelError(f"{name}: tensor {i} ({tname}) refers to buffer {t.buffer}, out of range")
    b = buffers[t.buffer] if buffers else None
    raw: bytes | None = None
    if b is not None:
        if b.data is not None and len(b.data) > 0:
            raw = bytes(np.asarray(b.data, dtype=np.uint8))
        elif getattr(b, "offset", 0) > 1 and getattr(b, "size", 0) > 0:
            if b.offset + b.size > len(buf):
                raise ModelError(f"{name}: tensor {i} ({tname}) data lies past the end of the file")
            raw = buf[b.offset : b.offset + b.size]
    if raw is not None:
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if dtype in NUMPY_DTYPES:
            expected = count * DTYPE_BYTES[dtype]
        elif dtype in PACKED_BITS:
            expected = (count * PACKED_BITS[dtype] + 7) // 8
        else:  # strings, variants, resources: bytes whose layout mcuforge does not read
            return Tensor(index=i, name=tname, shape=shape, dtype=dtype, quant=quant,
                          data=np.frombuffer(raw, dtype=np.uint8))
        if len(raw) != expected:
            raise ModelError(
                f"{name}: tensor {i} ({tname}) shape {list(shape)} needs {expected} bytes of data, "
                f"the buffer has {len(raw)}"
            )
        if dtype in PACKED_BITS:  # kept packed: only inspect counts these bytes
            data = np.frombuffer(raw, dtype=np.uint8)
        else:
            data = np.frombuffer(raw, dtype=NUMPY_DTYPES[dtype]).reshape(shape)
    return Tensor(index=i, name=tname, shape=shape, dtype=dtype, quant=quant, data=data,
                  is_variable=bool(getattr(t, "isVariable", False)) and data is None)
