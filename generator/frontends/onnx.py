"""Model import: a quantized .onnx file → the IR, the same IR the TFLite reader emits.

The file is read with the `onnx` package (`onnx.load_from_string`, the checker and shape
inference); nothing here parses protobuf. The translation:

- QDQ models (onnxruntime's `quantize_static`, QDQ format): DequantizeLinear → float operator →
  QuantizeLinear becomes one integer operator on int8 tensors, with TFLite's opcode names and
  option keys, and `options["requant"] = "float32"` where onnxruntime's integer kernel requantizes
  in float32. QOperator models (QLinearConv, QLinearMatMul, QGemm, QLinearAdd, ...) become the
  same operators.
- Layout: ONNX tensors are NCHW, the IR's are NHWC. Weights are transposed here, once; an
  activation is transposed at run time only where an operator needs the other order (a Reshape or
  Flatten of an NCHW tensor keeps ONNX's element order through a TRANSPOSE, which
  generator/constfold.py moves into the next FULLY_CONNECTED's weights where it can).
- uint8 activations become int8 with the zero point moved by 128 (exact: the same real values).
- Element-wise float operators between DQ and Q (Sigmoid, Tanh, LeakyRelu, Clip, HardSwish, ...)
  become a 256-entry LOOKUP_TABLE computed here in float32, as onnxruntime computes them.
- Nodes whose inputs are all constant (Shape, Gather on shapes, Concat of constants, ...) are
  evaluated here with onnx's reference evaluator.

Float models, dynamic shapes and malformed files are refused with one line saying how to fix them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import ModelError, UnsupportedModelError
from ..ir import Graph, Operator, Quant, Tensor
from .onnx_layout import ort_channels_last

try:
    import onnx
    from onnx import numpy_helper
except ImportError as exc:  # frontends.read_model turns this into a ModelError naming the extra
    raise ImportError("reading ONNX models needs the 'onnx' package") from exc

MIN_OPSET = 13
_NHWC = (0, 2, 3, 1)  # ONNX NCHW → IR NHWC
_NCHW = (0, 3, 1, 2)
_QUANT_OPS = {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "QGemm", "QLinearAdd",
              "QLinearMul", "QLinearAveragePool", "QLinearGlobalAveragePool", "QLinearConcat", "QLinearSigmoid",
              "QLinearLeakyRelu", "QLinearSoftmax", "ConvInteger", "MatMulInteger"}
_FIX_FLOAT = ("quantize it first with onnxruntime.quantization.quantize_static (QDQ format, a "
              "CalibrationDataReader over representative inputs)")
_FIX_DYNAMIC = ("fix it: python -m onnxruntime.tools.make_dynamic_shape_fixed --dim_param NAME --dim_value 1 "
                "in.onnx out.onnx, or onnxsim --overwrite-input-shape, or export with static shapes "
                "(torch.onnx.export without dynamic_axes)")


def _int8_in_ort(model: Any, readers: dict[str, int]) -> set[str]:
    """The int8 activations of a QDQ model that onnxruntime (CPU provider, x86-64) keeps int8.

    There every DequantizeLinear read by several nodes is first copied once per reader
    (EnsureUniqueDQForNodeUnit), then each int8 QuantizeLinear -> DequantizeLinear pair becomes a
    uint8 one (QDQS8ToU8Transformer) where the QuantizeLinear has exactly one reader, a
    DequantizeLinear with the same scalar int8 zero point, and is no graph output. A tensor read
    by two nodes therefore stays int8, and so do int8 tensors no QuantizeLinear produces."""
    inits = {i.name: i for i in model.graph.initializer}
    outputs = {o.name for o in model.graph.output}
    consumers: dict[str, list[Any]] = {}
    for n in model.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    def zero_point(n: Any) -> np.ndarray | None:
        zp = inits.get(n.input[2]) if len(n.input) > 2 and n.input[2] else None
        return None if zp is None else numpy_helper.to_array(zp)

    kept: set[str] = set()
    for n in model.graph.node:
        if n.op_type in ("DequantizeLinear", "QuantizeLinear") and n.input and n.input[0] not in inits:
            zp = zero_point(n)
            if zp is not None and zp.dtype == np.int8:
                kept.add(n.input[0] if n.op_type == "DequantizeLinear" else n.output[0])
    for n in model.graph.node:
        if n.op_type != "QuantizeLinear" or n.output[0] not in kept:
            continue
        t = n.output[0]
        users = consumers.get(t, [])
        edges = sum(max(1, readers.get(u.output[0], 0)) if u.op_type == "DequantizeLinear" else 1 for u in users)
        zq = zero_point(n)
        if edges == 1 and t not in outputs and users[0].op_type == "DequantizeLinear" and zq is not None \
                and zq.size == 1:
            zd = zero_point(users[0])
            if zd is not None and zd.size == 1 and zd.dtype == np.int8 \
                    and int(zd.reshape(-1)[0]) == int(zq.reshape(-1)[0]):
                kept.discard(t)
    return kept


# ---- values: what an ONNX tensor name stands for while the graph is translated -----------------

@dataclass
class Act:
    """An int8 activation tensor of the IR. `nhwc`: the ONNX value is 4-D NCHW, the IR tensor holds
    it in NHWC order (shape = the ONNX shape permuted by _NHWC)."""

    tensor: int
    shape: tuple[int, ...]  # ONNX shape
    nhwc: bool = False


@dataclass
class Deq:
    """DequantizeLinear of an activation: the float view of `act` (its quantization)."""

    act: Act


@dataclass
class QConst:
    """A constant integer tensor with its quantization (a DequantizeLinear of an initializer)."""

    data: np.ndarray  # int8 / uint8 / int32 values, ONNX layout
    scale: np.ndarray  # float32, 1 or per channel
    zero_point: np.ndarray
    axis: int = 0


@dataclass
class Pending:
    """A float operator's result, waiting for its QuantizeLinear (which gives the output scale)."""

    node: Any  # onnx.NodeProto
    inputs: list[Any]
    shape: tuple[int, ...]
    clamp: tuple[float, float] | None = None  # a Relu / Clip that followed
    unary: list[Any] = field(default_factory=list)  # element-wise float functions applied after


@dataclass
class FloatIn:
    """A float32 graph input. `view`: the shape a Reshape / Flatten before its QuantizeLinear gave
    it (the IR tensor keeps `shape`; the int8 result is reshaped after QUANTIZE)."""

    tensor: int
    shape: tuple[int, ...]
    view: tuple[int, ...] | None = None


Value = Act | Deq | QConst | Pending | FloatIn | np.ndarray


def read_model(path: str | Path) -> Graph:
    """Read a quantized .onnx file. Raises ModelError with one clear line."""
    from .files import model_bytes

    buf, name = model_bytes(path, ".onnx")
    return parse_model(buf, name=name)


def parse_model(buf: bytes, name: str = "model.onnx") -> Graph:
    if len(buf) == 0:
        raise ModelError(f"{name}: the file is empty")
    try:
        model = onnx.load_from_string(buf)
    except Exception as exc:  # protobuf raises DecodeError, RuntimeWarning, ... on garbage
        raise ModelError(f"{name}: not an ONNX model (the protobuf cannot be parsed: {type(exc).__name__})") from exc
    if not model.HasField("graph") or (len(model.graph.node) == 0 and len(model.graph.output) == 0):
        raise ModelError(f"{name}: not an ONNX model (it holds no graph)")
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < MIN_OPSET:
        raise ModelError(f"{name}: the model uses opset {opset}; mcuforge reads opset {MIN_OPSET} and newer "
                         f"(export with opset_version={MIN_OPSET} or later, or convert with "
                         "onnx.version_converter.convert_version)")
    _check_static_inputs(model, name)
    try:
        onnx.checker.check_model(model)
    except Exception as exc:
        raise ModelError(f"{name}: invalid ONNX model: {_first_line(exc)}") from exc
    if not any(n.op_type in _QUANT_OPS for n in model.graph.node):
        raise ModelError(f"{name}: a float model (no QuantizeLinear / DequantizeLinear); mcuforge compiles "
                         f"integer models: {_FIX_FLOAT}")
    try:
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)  # Shape -> Reshape
    except Exception as exc:
        raise ModelError(f"{name}: ONNX shape inference failed: {_first_line(exc)}") from exc
    try:
        graph = _Importer(model, name).run()
    except (ModelError, UnsupportedModelError):
        raise
    except Exception as exc:  # inconsistent graphs the checker let through
        raise ModelError(f"{name}: the ONNX graph is inconsistent ({type(exc).__name__}: {_first_line(exc)})") from exc
    graph.sha256 = hashlib.sha256(buf).hexdigest()
    return graph


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _check_static_inputs(model: Any, name: str) -> None:
    init = {i.name for i in model.graph.initializer}
    for vi in list(model.graph.input) + list(model.graph.output):
        if vi.name in init:
            continue
        tt = vi.type.tensor_type
        if not tt.HasField("shape"):
            raise ModelError(f"{name}: '{vi.name}' has no shape; {_FIX_DYNAMIC}")
        for d in tt.shape.dim:
            if not d.HasField("dim_value") or d.dim_value <= 0:
                param = d.dim_param if d.HasField("dim_param") else ""
                what = f"'{param}'" if param else "of unknown size"
                fix = _FIX_DYNAMIC.replace("NAME", param or "NAME")
                raise ModelError(f"{name}: '{vi.name}' has a dynamic dimension {what}; {fix}")


def _attrs(node: Any) -> dict[str, Any]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _quantize(x: np.ndarray, scale: float, zp: int, lo: int = -128, hi: int = 127) -> np.ndarray:
    """onnxruntime's QuantizeLinear in float32: round half to even of x / scale, plus the zero point."""
    q = np.rint(np.asarray(x, dtype=np.float32) / np.float32(scale)).astype(np.float64) + zp
    return np.clip(q, lo, hi).astype(np.int64)


def _dequantize(q: np.ndarray, scale: float, zp: int) -> np.ndarray:
    return ((np.asarray(q, dtype=np.int32) - np.int32(zp)).astype(np.float32) * np.float32(scale)).astype(np.float32)


# Element-wise float functions, in float32 as onnxruntime evaluates them (numpy float32 math).
def _onnx_nearest(in_size: int, out_size: int, scale: np.float32, coord: str, mode: str) -> list[int]:
    """The source index of every output position of an ONNX nearest Resize along one axis, in
    float32 as onnxruntime computes it (coordinate transformation, then nearest_mode, clamped)."""
    f32 = np.float32
    res = []
    for o in range(out_size):
        x = f32(o)
        if coord == "asymmetric":
            pos = x / scale
        elif coord == "align_corners":
            pos = f32(0) if out_size == 1 else x * f32(in_size - 1) / f32(out_size - 1)
        elif coord == "tf_half_pixel_for_nn":
            pos = (x + f32(0.5)) / scale
        elif coord == "pytorch_half_pixel" and out_size == 1:
            pos = f32(0)
        elif coord in ("half_pixel", "pytorch_half_pixel"):
            pos = (x + f32(0.5)) / scale - f32(0.5)
        else:
            return []
        frac = float(pos) - np.floor(float(pos))
        if mode == "floor":
            idx = int(np.floor(pos))
        elif mode == "ceil":
            idx = int(np.ceil(pos))
        elif frac == 0.5:
            idx = int(np.floor(pos)) + (1 if mode == "round_prefer_ceil" else 0)
        else:
            idx = int(np.floor(float(pos) + 0.5))
        res.append(min(max(idx, 0), in_size - 1))
    return res


def _unary_fn(node: Any) -> Any:
    op = node.op_type
    a = _attrs(node)
    f32 = np.float32
    if op == "Sigmoid":
        return lambda x: (f32(1) / (f32(1) + np.exp(-x))).astype(f32)
    if op == "Tanh":
        return lambda x: np.tanh(x).astype(f32)
    if op == "Relu":
        return lambda x: np.maximum(x, f32(0))
    if op == "LeakyRelu":
        alpha = f32(a.get("alpha", 0.01))
        return lambda x: np.where(x >= 0, x, x * alpha).astype(f32)
    if op == "HardSigmoid":
        alpha, beta = f32(a.get("alpha", 0.2)), f32(a.get("beta", 0.5))
        return lambda x: np.clip(x * alpha + beta, f32(0), f32(1)).astype(f32)
    if op == "HardSwish":
        return lambda x: (x * np.clip(x * f32(1 / 6) + f32(0.5), f32(0), f32(1))).astype(f32)
    if op == "Elu":
        alpha = f32(a.get("alpha", 1.0))
        return lambda x: np.where(x >= 0, x, alpha * (np.exp(x) - f32(1))).astype(f32)
    if op == "Abs":
        return lambda x: np.abs(x)
    if op == "Neg":
        return lambda x: -x
    if op == "Exp":
        return lambda x: np.exp(x).astype(f32)
    if op == "Softsign":
        return lambda x: (x / (f32(1) + np.abs(x))).astype(f32)
    if op == "Identity":
        return lambda x: x
    return None


_UNARY = ("Sigmoid", "Tanh", "Relu", "LeakyRelu", "HardSigmoid", "HardSwish", "Elu", "Abs", "Neg", "Exp",
          "Softsign")
_LAYOUT = ("Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Identity", "MaxPool", "GlobalMaxPool",
           "Concat", "Split", "Slice", "Pad", "Resize")
_COMPUTE = ("Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Sub", "Mul", "AveragePool", "GlobalAveragePool",
            "ReduceMean", "Softmax", "LogSoftmax", "PRelu")


class _Importer:
    def __init__(self, model: Any, name: str) -> None:
        self.model = model
        self.name = name
        self.tensors: list[Tensor] = []
        self.ops: list[Operator] = []
        self.values: dict[str, Value] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.elem: dict[str, int] = {}
        for vi in list(model.graph.value_info) + list(model.graph.input) + list(model.graph.output):
            tt = vi.type.tensor_type
            self.elem[vi.name] = tt.elem_type
            if tt.HasField("shape"):
                self.shapes[vi.name] = tuple(int(d.dim_value) for d in tt.shape.dim)
        self.node_name = ""
        # outputs onnxruntime computes as uint8 (int8 here, zero point - 128): every QuantizeLinear of a
        # QDQ model (on x86 onnxruntime turns int8 QDQ pairs into uint8 ones, QDQS8ToU8Transformer),
        # uint8 outputs of QOperator nodes
        self.uint8_out: set[str] = set()
        # how many nodes (and graph outputs) read each value: onnxruntime fuses DQ -> op -> Q into its
        # integer kernel only where every DequantizeLinear feeding the op feeds nothing else
        self.readers: dict[str, int] = {}
        for n in list(model.graph.node):
            for i in n.input:
                self.readers[i] = self.readers.get(i, 0) + 1
        for o in model.graph.output:
            self.readers[o.name] = self.readers.get(o.name, 0) + 1
        # DequantizeLinear outputs of uint8 tensors: onnxruntime gives a shared one a copy per reader
        # and still fuses (measured: MobileNetV2 / V3 and ResNet-18 with uint8 activations run every
        # Conv, Add and Mul as QLinear operators); an int8 one read twice stays unfused (float)
        inits = {i.name: i.data_type for i in model.graph.initializer}
        self.dq_uint8: set[str] = set()
        for n in model.graph.node:
            if n.op_type == "DequantizeLinear" and n.input:
                zp_type = inits.get(n.input[2]) if len(n.input) > 2 and n.input[2] else None
                if onnx.TensorProto.UINT8 in (zp_type, inits.get(n.input[0])):
                    self.dq_uint8.add(n.output[0])
        # int8 activations onnxruntime keeps int8: a QDQ Conv next to one runs in float (float_conv)
        self.int8_in_ort = _int8_in_ort(model, self.readers)
        self.producer = {o: n for n in model.graph.node for o in n.output}
        # 8-bit values onnxruntime holds channels-last (its linear Resize kernel differs there)
        self.ort_nhwc = ort_channels_last(model)

    # ---- IR building -----------------------------------------------------------------------
    def error(self, why: str) -> UnsupportedModelError:
        where = f"node '{self.node_name}': " if self.node_name else ""
        return UnsupportedModelError(f"{self.name}: {where}{why}")

    def tensor(self, name: str, shape: tuple[int, ...], dtype: str, quant: Quant | None = None,
               data: np.ndarray | None = None) -> int:
        i = len(self.tensors)
        self.tensors.append(Tensor(index=i, name=name, shape=tuple(int(d) for d in shape), dtype=dtype,
                                   quant=quant, data=data))
        return i

    def const(self, name: str, data: np.ndarray, dtype: str, quant: Quant | None = None) -> int:
        arr = np.ascontiguousarray(np.asarray(data).astype(dtype))
        return self.tensor(name, arr.shape, dtype, quant, arr)

    def op(self, opcode: str, inputs: list[int], outputs: list[int], **options: Any) -> Operator:
        o = Operator(index=len(self.ops), opcode=opcode, inputs=tuple(inputs), outputs=tuple(outputs),
                     options=dict(options))
        self.ops.append(o)
        return o

    def act_tensor(self, name: str, shape: tuple[int, ...], scale: float, zp: int) -> int:
        return self.tensor(name, shape, "int8", Quant((float(np.float32(scale)),), (int(zp),)))

    def quant_of(self, a: Act) -> tuple[float, int]:
        q = self.tensors[a.tensor].quant
        assert q is not None
        return q.scale[0], q.zero_point[0]

    def ir_shape(self, a: Act) -> tuple[int, ...]:
        return self.tensors[a.tensor].shape

    # ---- layout ------------------------------------------------------------------------------
    def to_nhwc(self, a: Act) -> Act:
        if a.nhwc or len(a.shape) != 4:
            return a
        s, z = self.quant_of(a)
        shape = tuple(a.shape[p] for p in _NHWC)
        out = self.act_tensor(self.tensors[a.tensor].name + "/nhwc", shape, s, z)
        perm = self.const(self.tensors[a.tensor].name + "/perm", np.array(_NHWC), "int32")
        self.op("TRANSPOSE", [a.tensor, perm], [out])
        return Act(out, a.shape, True)

    def to_onnx(self, a: Act) -> Act:
        if not a.nhwc:
            return a
        s, z = self.quant_of(a)
        out = self.act_tensor(self.tensors[a.tensor].name + "/nchw", a.shape, s, z)
        perm = self.const(self.tensors[a.tensor].name + "/perm", np.array(_NCHW), "int32")
        self.op("TRANSPOSE", [a.tensor, perm], [out])
        return Act(out, a.shape, False)

    # ---- driver ------------------------------------------------------------------------------
    def run(self) -> Graph:
        g = self.model.graph
        for init in g.initializer:
            self.values[init.name] = numpy_helper.to_array(init)
        inputs = []
        for vi in g.input:
            if vi.name in self.values:
                continue
            shape = self.shapes[vi.name]
            et = vi.type.tensor_type.elem_type
            if et == onnx.TensorProto.FLOAT:
                t = self.tensor(vi.name, shape, "float32")
                self.values[vi.name] = FloatIn(t, shape)
            elif et in (onnx.TensorProto.INT8, onnx.TensorProto.UINT8):
                raise self.error(f"graph input '{vi.name}' is an integer tensor; mcuforge takes the float input "
                                 "of a QDQ model (a QuantizeLinear after it)")
            else:
                raise self.error(f"graph input '{vi.name}' has element type "
                                 f"{onnx.TensorProto.DataType.Name(et)}; only float32 inputs are supported")
            inputs.append(t)
        for node in g.node:
            self.node_name = node.name or node.op_type
            self.visit(node)
        self.node_name = ""
        outputs = [self.graph_output(o.name) for o in g.output]
        return Graph(name=self.name, sha256="", tensors=self.tensors, operators=self.live_ops(outputs),
                     inputs=tuple(inputs), outputs=tuple(outputs), source_format="onnx")

    def live_ops(self, outputs: list[int]) -> list[Operator]:
        """The operators a graph output depends on (nodes whose results nothing reads are dropped),
        renumbered in order."""
        needed = set(outputs)
        live = []
        for o in reversed(self.ops):
            if needed & set(o.outputs):
                live.append(o)
                needed.update(i for i in o.inputs if i >= 0)
        return [Operator(index=k, opcode=o.opcode, inputs=o.inputs, outputs=o.outputs, options=o.options)
                for k, o in enumerate(reversed(live))]

    def graph_output(self, name: str) -> int:
        v = self.values.get(name)
        if isinstance(v, Deq):
            a = self.to_onnx(v.act)
            out = self.tensor(name, a.shape, "float32")
            self.op("DEQUANTIZE", [a.tensor], [out])
            return out
        if isinstance(v, Pending) and isinstance(v.inputs[0], Deq) and v.clamp is None:
            return self.float_output(v, name)
        if isinstance(v, FloatIn):
            raise self.error(f"graph output '{name}' is a graph input")
        raise self.error(f"graph output '{name}' is not the DequantizeLinear of a quantized tensor; "
                         "mcuforge needs float outputs of a QDQ model (quantize_static, QDQ format)")

    def float_output(self, p: Pending, name: str) -> int:
        """A graph output computed in float after the last DequantizeLinear (operators the quantizer
        does not quantize): element-wise chains as a float32 table, LogSoftmax as a float32 result."""
        saved, self.node_name = self.node_name, p.node.name or p.node.op_type
        x = p.inputs[0].act
        if p.node.op_type == "LogSoftmax" and not p.unary:
            a = self.to_onnx(x)
            axis = int(_attrs(p.node).get("axis", -1)) % len(a.shape)
            out = self.tensor(name, a.shape, "float32")
            self.op("LOG_SOFTMAX", [a.tensor], [out], requant="float32", axis=axis)
        elif p.node.op_type in (*_UNARY, "Clip", "PRelu") or self.is_scalar_arith(p):
            a = self.to_onnx(x)
            si, zi = self.quant_of(a)
            real = _dequantize(np.arange(-128, 128), si, zi)
            for fn in p.unary:
                real = fn(real)
            table = np.zeros(256, dtype=np.float32)
            table[np.arange(-128, 128) & 0xFF] = real
            out = self.tensor(name, a.shape, "float32")
            self.op("DEQUANTIZE", [a.tensor], [out], table=table)
        else:
            raise self.error(f"graph output '{name}' is a float {p.node.op_type} the quantizer left unquantized; "
                             f"mcuforge computes it only as an integer operator ({_FIX_FLOAT})")
        self.node_name = saved
        return out

    def get(self, node: Any, k: int) -> Value | None:
        if k >= len(node.input) or node.input[k] == "":
            return None
        name = node.input[k]
        if name not in self.values:
            raise self.error(f"input '{name}' is not produced by any earlier node")
        return self.values[name]

    def const_of(self, node: Any, k: int, what: str) -> np.ndarray | None:
        v = self.get(node, k)
        if v is None:
            return None
        if not isinstance(v, np.ndarray):
            raise self.error(f"{what} (input {k}) must be constant")
        return v

    def visit(self, node: Any) -> None:
        op = node.op_type
        ins = [self.get(node, k) for k in range(len(node.input))]
        if any(o and o not in self.shapes for o in node.output) and op != "Constant":
            self.infer_shapes(node, ins)
        if node.domain not in ("", "ai.onnx", "com.microsoft"):
            raise self.error(f"operator {node.domain}.{op} is not supported")
        if op == "Constant":
            self.values[node.output[0]] = self.eval_const(node, [])
            return
        if op in ("Shape", "Size") and isinstance(ins[0], (Act, Deq, FloatIn, Pending)):
            shape = self.shapes.get(node.input[0]) or self.value_shape(ins[0])
            full = np.array(shape, dtype=np.int64)
            if op == "Size":
                self.values[node.output[0]] = np.array(int(np.prod(full)), dtype=np.int64)
            else:
                a = _attrs(node)
                self.values[node.output[0]] = full[a.get("start", 0):a.get("end", len(full))]
            return
        if op != "DequantizeLinear" and all(v is None or isinstance(v, np.ndarray) for v in ins) and ins:
            outs = self.eval_const(node, ins)
            for name, v in zip(node.output, outs if isinstance(outs, list) else [outs], strict=False):
                self.values[name] = v
            return
        if op == "DequantizeLinear":
            self.values[node.output[0]] = self.dequantize_linear(node, ins)
        elif op == "QuantizeLinear":
            self.values[node.output[0]] = self.quantize_linear(node, ins)
        elif op.startswith("QLinear") or op == "QGemm":
            self.values[node.output[0]] = self.qoperator(node, ins)
        elif op in ("Relu", "Clip") and isinstance(ins[0], Pending) and not ins[0].unary and ins[0].clamp is None:
            lo, hi = self.clamp_range(node, ins)
            p = ins[0]
            self.values[node.output[0]] = Pending(p.node, p.inputs, p.shape, (lo, hi))
        elif op == "PRelu" and self.scalar(ins[1]) is not None:
            slope = np.float32(self.scalar(ins[1]))
            x = ins[0]

            def prelu(v: np.ndarray) -> np.ndarray:
                return np.where(v >= 0, v, v * slope).astype(np.float32)

            if isinstance(x, Deq):
                self.values[node.output[0]] = Pending(node, [x], x.act.shape, None, [prelu])
            else:
                raise self.error("PRelu needs a dequantized input (QDQ)")
        elif op == "PRelu":
            if not isinstance(ins[0], Deq) or not isinstance(ins[1], (np.ndarray, QConst)):
                raise self.error("PRelu needs a dequantized input (QDQ) and a constant slope")
            self.values[node.output[0]] = Pending(node, [ins[0], self.real_const(ins[1])], ins[0].act.shape)
        elif op in _UNARY or op == "Clip":
            x = ins[0]
            fn = _unary_fn(node) if op != "Clip" else self.clip_fn(node, ins)
            if isinstance(x, Pending):
                self.values[node.output[0]] = Pending(x.node, x.inputs, x.shape, x.clamp, [*x.unary, fn])
            elif isinstance(x, Deq):
                self.values[node.output[0]] = Pending(node, [x], x.act.shape, None, [fn])
            else:
                raise self.error(f"{op} needs a dequantized input (QDQ)")
        elif (op in ("Add", "Sub", "Mul", "Div") and len(ins) == 2
              and (fn := self.scalar_arith(op, ins)) is not None):
            # a float constant the quantizer left unquantized: an element-wise function of the other
            # input, in float32 as onnxruntime computes it (a table once quantized)
            x = ins[1] if isinstance(ins[0], np.ndarray) else ins[0]
            if isinstance(x, Pending) and (x.node.op_type in (*_UNARY, "Clip", "PRelu") or self.is_scalar_arith(x)):
                self.values[node.output[0]] = Pending(x.node, x.inputs, x.shape, x.clamp, [*x.unary, fn])
            elif isinstance(x, Deq):
                self.values[node.output[0]] = Pending(node, [x], x.act.shape, None, [fn])
            else:
                raise self.error(f"{op} of a float constant needs a dequantized input (QDQ)")
        elif op in _LAYOUT:
            self.layout(node, ins)
        elif op in _COMPUTE:
            for v in ins:
                if isinstance(v, (Pending, FloatIn)):
                    raise self.error(f"{op} reads a float tensor that was not quantized; mcuforge needs a "
                                     f"QuantizeLinear / DequantizeLinear pair around every operator ({_FIX_FLOAT})")
            out_shape = self.shapes.get(node.output[0])
            if out_shape is None:
                raise self.error(f"the shape of '{node.output[0]}' is unknown")
            self.values[node.output[0]] = Pending(node, list(ins), out_shape)
        else:
            raise self.error(f"operator {op} is not supported")

    # float operators whose shapes stand for the contrib QOperator ops' (inputs taken from the node)
    _SHAPE_AS: ClassVar[dict[str, tuple[str, tuple[int, ...]]]] = {
                 "QGemm": ("Gemm", (0, 3, 6)), "QLinearAdd": ("Add", (0, 3)), "QLinearMul": ("Mul", (0, 3)),
                 "QLinearAveragePool": ("AveragePool", (0,)), "QLinearGlobalAveragePool": ("GlobalAveragePool", (0,)),
                 "QLinearSigmoid": ("Sigmoid", (0,)), "QLinearLeakyRelu": ("LeakyRelu", (0,)),
                 "QLinearSoftmax": ("Softmax", (0,))}

    def infer_shapes(self, node: Any, ins: list[Any]) -> None:
        """Output shapes onnx's model-wide inference left unknown (after a contrib operator): the
        node alone, its inputs as float tensors of their known shapes (contrib QOperator nodes as
        their float operator)."""
        op_type, picks = self._SHAPE_AS.get(node.op_type, (node.op_type, tuple(range(len(node.input)))))
        if node.op_type == "QLinearConcat":
            op_type, picks = "Concat", tuple(range(2, len(node.input), 3))
        drop = {"channels_last", "domain", "opset"}
        feeds, inits, names = [], [], []
        for k in picks:
            v = ins[k] if k < len(ins) else None
            if v is None:
                names.append("")
                continue
            nm = f"i{k}"
            names.append(nm)
            if isinstance(v, np.ndarray) and node.op_type == op_type:
                inits.append(numpy_helper.from_array(v, nm))
            else:
                shape = v.shape if isinstance(v, np.ndarray) else self.value_shape(v)
                if isinstance(v, QConst):
                    shape = tuple(v.data.shape)
                feeds.append(onnx.helper.make_tensor_value_info(nm, onnx.TensorProto.FLOAT, list(shape)))
        if op_type not in ("Gemm", "AveragePool", "Concat", "LeakyRelu"):
            drop |= {"transA", "transB", "alpha"}
        n = onnx.helper.make_node(op_type, names, [f"o{k}" for k in range(len(node.output))])
        n.attribute.extend(a for a in node.attribute if a.name not in drop)
        g = onnx.helper.make_graph([n], "shape", feeds, [], initializer=inits)
        opset = max(o.version for o in self.model.opset_import if o.domain in ("", "ai.onnx"))
        m = onnx.helper.make_model(g, opset_imports=[onnx.helper.make_opsetid("", opset)])
        try:
            inferred = onnx.shape_inference.infer_shapes(m, strict_mode=True)
        except Exception as exc:
            raise self.error(f"the output shapes cannot be inferred ({_first_line(exc)})") from exc
        for vi in inferred.graph.value_info:
            k = int(vi.name[1:])
            dims = vi.type.tensor_type.shape.dim
            if k < len(node.output) and node.output[k] and all(d.HasField("dim_value") for d in dims):
                self.shapes[node.output[k]] = tuple(int(d.dim_value) for d in dims)

    def scalar(self, v: Any) -> float | None:
        """The one real value of a constant (plain or quantized) holding a single value, else None."""
        if isinstance(v, np.ndarray) and v.size == 1:
            return float(v.reshape(-1)[0])
        if isinstance(v, QConst) and v.data.size == 1 and v.scale.size == 1:
            return float(_dequantize(v.data.reshape(-1)[:1], float(v.scale[0]), int(v.zero_point[0]))[0])
        return None

    @staticmethod
    def is_scalar_arith(p: Pending) -> bool:
        """A Pending of an arithmetic node with a float constant (one input: a function of it)."""
        return p.node.op_type in ("Add", "Sub", "Mul", "Div") and len(p.inputs) == 1

    def scalar_arith(self, op: str, ins: list[Any]) -> Any:
        """x op c or c op x with a single float32 constant c (not quantized) as a float32 function of
        x, else None."""
        k = 0 if isinstance(ins[0], np.ndarray) else 1
        c = ins[k]
        if not isinstance(c, np.ndarray) or c.size != 1 or c.dtype.kind != "f" or isinstance(ins[1 - k], np.ndarray):
            return None
        v = np.float32(c.reshape(-1)[0])
        f32 = np.float32
        fns = {"Add": lambda x: (x + v).astype(f32), "Mul": lambda x: (x * v).astype(f32),
               "Sub": (lambda x: (v - x).astype(f32)) if k == 0 else (lambda x: (x - v).astype(f32)),
               "Div": (lambda x: (v / x).astype(f32)) if k == 0 else (lambda x: (x / v).astype(f32))}
        return fns[op]

    def real_const(self, v: np.ndarray | QConst) -> np.ndarray:
        """A constant's float32 values (a quantized one dequantized as DequantizeLinear does)."""
        if isinstance(v, np.ndarray):
            return np.asarray(v, dtype=np.float32)
        shape = [1] * v.data.ndim
        if v.scale.size > 1:
            shape[v.axis] = v.scale.size
        scale, zp = v.scale.reshape(shape), v.zero_point.reshape(shape)
        return ((v.data.astype(np.int32) - zp.astype(np.int32)).astype(np.float32) * scale).astype(np.float32)

    def prelu(self, a: Act, slope: np.ndarray, name: str, s: float, z: int) -> Act:
        """PRelu with a slope per channel (ONNX axis 1): PRELU with onnxruntime's float32 arithmetic."""
        rank = len(a.shape)
        try:
            full = np.broadcast_to(slope, a.shape)
        except ValueError:
            raise self.error(f"the PRelu slope {list(slope.shape)} does not broadcast to {list(a.shape)}") from None
        if rank < 2 or not np.array_equal(full, np.broadcast_to(full[(0, slice(None)) + (0,) * (rank - 2)]
                                                                .reshape((1, -1) + (1,) * (rank - 2)), a.shape)):
            raise self.error("a PRelu slope that varies along an axis other than the channels (axis 1)")
        slopes = np.ascontiguousarray(full[(0, slice(None)) + (0,) * (rank - 2)], dtype=np.float32)
        axis = 3 if a.nhwc else 1
        amax = float(np.abs(slopes).max(initial=0.0)) or 1.0
        ascale = float(np.float32(amax / 127))
        alpha_shape = (-1,) if a.nhwc else (-1,) + (1,) * (rank - 2)  # broadcasts along the IR channel axis
        alpha = self.const(name + "/alpha", np.clip(np.rint(slopes / ascale), -127, 127).reshape(alpha_shape), "int8",
                           Quant((ascale,), (0,)))
        out = self.act_tensor(name, self.ir_shape(a), s, z)
        self.op("PRELU", [a.tensor, alpha], [out], requant="float32", slopes=slopes, channel_axis=axis)
        return Act(out, a.shape, a.nhwc)

    def value_shape(self, v: Value) -> tuple[int, ...]:
        if isinstance(v, FloatIn) and v.view is not None:
            return v.view
        if isinstance(v, (Act, FloatIn, Pending)):
            return v.shape
        if isinstance(v, Deq):
            return v.act.shape
        if isinstance(v, QConst):
            return tuple(v.data.shape)
        return tuple(np.asarray(v).shape)

    def eval_const(self, node: Any, ins: list[Any]) -> Any:
        from onnx.reference import ReferenceEvaluator

        names = [f"i{k}" if v is not None else "" for k, v in enumerate(ins)]
        n = onnx.helper.make_node(node.op_type, names, [f"o{k}" for k in range(len(node.output))],
                                  domain=node.domain or None)
        n.attribute.extend(node.attribute)
        feeds = {f"i{k}": np.asarray(v) for k, v in enumerate(ins) if v is not None}
        try:
            ev = ReferenceEvaluator(n, opsets={"": max(o.version for o in self.model.opset_import
                                                       if o.domain in ("", "ai.onnx"))})
            outs: list[Any] = list(ev.run(None, feeds))
        except Exception as exc:
            raise self.error(f"{node.op_type} on constants could not be evaluated ({_first_line(exc)})") from exc
        return [np.asarray(o) for o in outs] if len(outs) > 1 else np.asarray(outs[0])

    # ---- Q / DQ ------------------------------------------------------------------------------
    def qparams(self, node: Any, ins: list[Any], k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(scale, zero point as int8-shifted int64, original zero point array) of a Q/DQ node."""
        scale = self.const_of(node, k, "the scale")
        assert scale is not None
        zp = self.const_of(node, k + 1, "the zero point")
        if zp is None:
            zp = np.zeros(np.shape(scale), dtype=np.uint8 if node.op_type == "QuantizeLinear" else np.int8)
        return np.asarray(scale, dtype=np.float32), np.asarray(zp), zp

    def dequantize_linear(self, node: Any, ins: list[Any]) -> Value:
        x = ins[0]
        scale, zp, _ = self.qparams(node, ins, 1)
        axis = int(_attrs(node).get("axis", 1))
        if isinstance(x, np.ndarray):
            if x.dtype not in (np.int8, np.uint8, np.int32):
                raise self.error(f"DequantizeLinear of a {x.dtype} constant is not supported")
            return QConst(x, scale.reshape(-1), zp.reshape(-1).astype(np.int64), axis + x.ndim if axis < 0 else axis)
        if isinstance(x, Act):
            if scale.size != 1:
                raise self.error("activations must be quantized per tensor")
            s, z = self.quant_of(x)
            zq = int(zp.reshape(-1)[0]) - (128 if zp.dtype == np.uint8 else 0)
            if float(np.float32(scale.reshape(-1)[0])) != s or zq != z:
                raise self.error("DequantizeLinear's scale and zero point differ from its QuantizeLinear's")
            return Deq(x)
        raise self.error("DequantizeLinear of a tensor that is not quantized")

    def out_quant(self, node: Any, ins: list[Any], k: int) -> tuple[float, int]:
        scale, zp, _ = self.qparams(node, ins, k)
        if scale.size != 1:
            raise self.error("activations must be quantized per tensor (one scale)")
        if zp.dtype not in (np.int8, np.uint8):
            raise self.error(f"activations must be int8 or uint8, not {zp.dtype}")
        return float(scale.reshape(-1)[0]), int(zp.reshape(-1)[0]) - (128 if zp.dtype == np.uint8 else 0)

    def quantize_linear(self, node: Any, ins: list[Any]) -> Value:
        x = ins[0]
        s, z = self.out_quant(node, ins, 1)
        name = node.output[0]
        self.uint8_out.add(name)
        if isinstance(x, FloatIn):
            out = self.act_tensor(name + ("/q" if x.view else ""), x.shape, s, z)
            self.op("QUANTIZE", [x.tensor], [out], requant="float32")  # half to even, as QuantizeLinear
            if x.view is None:
                return Act(out, x.shape)
            view = self.act_tensor(name, x.view, s, z)
            self.op("RESHAPE", [out, self.const(name + "/shape", np.array(x.view), "int32")], [view],
                    new_shape=list(x.view))
            return Act(view, x.view)
        if isinstance(x, Deq):
            a = x.act
            if self.quant_of(a) == (float(np.float32(s)), z):
                return a
            out = self.act_tensor(name, self.ir_shape(a), s, z)
            self.op("QUANTIZE", [a.tensor], [out], requant="float32")
            return Act(out, a.shape, a.nhwc)
        if isinstance(x, Pending):
            return self.finish(x, name, s, z)
        raise self.error("QuantizeLinear of a value mcuforge cannot quantize here")

    # ---- compute operators -------------------------------------------------------------------
    def finish(self, p: Pending, name: str, s: float, z: int) -> Act:
        """Emit the integer operator of a DQ → op → Q pattern, output quantization (s, z)."""
        node = p.node
        saved = self.node_name
        self.node_name = node.name or node.op_type
        try:
            if node.op_type == "PRelu" and len(p.inputs) == 2:
                return self.prelu(p.inputs[0].act, p.inputs[1], name, s, z)
            if node.op_type in (*_UNARY, "Clip", "PRelu") or self.is_scalar_arith(p):
                x = p.inputs[0]
                assert isinstance(x, Deq)
                return self.table(x.act, p.unary, name, s, z)
            out = self.compute(node, p.inputs, p.shape, name, s, z, p.clamp)
            if p.unary:
                out = self.table(out, p.unary, name + "/fn", s, z, in_place_quant=True)
            return out
        finally:
            self.node_name = saved

    def clamp_range(self, node: Any, ins: list[Any]) -> tuple[float, float]:
        if node.op_type == "Relu":
            return 0.0, float("inf")
        lo = ins[1] if len(ins) > 1 and ins[1] is not None else None
        hi = ins[2] if len(ins) > 2 and ins[2] is not None else None
        a = _attrs(node)
        vlo = float(np.asarray(lo).reshape(-1)[0]) if isinstance(lo, np.ndarray) else a.get("min", -float("inf"))
        vhi = float(np.asarray(hi).reshape(-1)[0]) if isinstance(hi, np.ndarray) else a.get("max", float("inf"))
        if (lo is not None and not isinstance(lo, np.ndarray)) or (hi is not None and not isinstance(hi, np.ndarray)):
            raise self.error("Clip bounds must be constant")
        return float(vlo), float(vhi)

    def clip_fn(self, node: Any, ins: list[Any]) -> Any:
        lo, hi = self.clamp_range(node, ins)
        return lambda x: np.clip(x, np.float32(lo), np.float32(hi)).astype(np.float32)

    def table(self, a: Act, fns: list[Any], name: str, s: float, z: int, in_place_quant: bool = False) -> Act:
        si, zi = self.quant_of(a)
        q = np.arange(-128, 128)
        x = _dequantize(q, si, zi)
        for fn in fns:
            x = fn(x)
        y = _quantize(x, s, z)
        if in_place_quant and np.array_equal(y, q):
            return a
        out = self.act_tensor(name, self.ir_shape(a), s, z)
        table = np.zeros(256, dtype=np.int64)
        table[q & 0xFF] = y
        self.op("LOOKUP_TABLE", [a.tensor], [out], table=table,
                function="/".join(sorted({getattr(f, "__qualname__", "f").split(".")[0] for f in fns})))
        return Act(out, a.shape, a.nhwc)

    def activation(self, clamp: tuple[float, float] | None, s: float, z: int) -> tuple[str, tuple[int, int] | None]:
        """A Relu / Clip folded into the output: (fused activation, extra int8 clamp bounds or None)."""
        if clamp is None:
            return "NONE", None
        lo = int(_quantize(np.array([clamp[0]]), s, z)[0]) if np.isfinite(clamp[0]) else -128
        hi = int(_quantize(np.array([clamp[1]]), s, z)[0]) if np.isfinite(clamp[1]) else 127
        if lo <= -128 and hi >= 127:
            return "NONE", None
        if lo == z and hi >= 127:
            return "RELU", None  # TFLite's RELU clamps at the zero point: exact
        return "NONE", (lo, hi)

    def activation_bounds(self, act: str, out: int) -> tuple[int, int] | None:
        """A fused RELU for an operator that has no fused activation: a clamp at the zero point."""
        if act != "RELU":
            return None
        q = self.tensors[out].quant
        assert q is not None
        return q.zero_point[0], 127

    def post_clamp(self, out: Act, bounds: tuple[int, int] | None, name: str) -> Act:
        if bounds is None:
            return out
        s, z = self.quant_of(out)
        lo, hi = bounds
        table = np.zeros(256, dtype=np.int64)
        q = np.arange(-128, 128)
        table[q & 0xFF] = np.clip(q, lo, hi)
        res = self.act_tensor(name + "/clip", self.ir_shape(out), s, z)
        self.op("LOOKUP_TABLE", [out.tensor], [res], table=table, function="clip")
        return Act(res, out.shape, out.nhwc)

    def deq(self, v: Any, what: str) -> Act:
        if not isinstance(v, Deq):
            raise self.error(f"{what} must be a quantized activation (DequantizeLinear of a QuantizeLinear)")
        return v.act

    def weights(self, v: Any, what: str) -> QConst:
        if not isinstance(v, QConst):
            raise self.error(f"{what} must be a constant quantized tensor (DequantizeLinear of an initializer)")
        if v.data.dtype == np.uint8:
            if np.any(v.zero_point != 128):
                raise self.error(f"{what}: uint8 weights are supported only with zero point 128 (symmetric); "
                                 "quantize with weight_type=QuantType.QInt8")
            return QConst((v.data.astype(np.int16) - 128).astype(np.int8), v.scale, v.zero_point - 128, v.axis)
        if v.data.dtype != np.int8:
            raise self.error(f"{what} must be int8, not {v.data.dtype}")
        if np.any(v.zero_point != 0):
            raise self.error(f"{what}: int8 weights must be symmetric (zero point 0); quantize_static does this "
                             "with WeightSymmetric=True (its default)")
        return v

    def weight_quant(self, w: QConst, axis: int) -> Quant:
        scales = tuple(float(np.float32(v)) for v in w.scale)
        return Quant(scales, tuple(0 for _ in scales), axis if len(scales) > 1 else 0)

    def bias(self, v: Any, channels: int, in_scale: float, w: QConst, name: str) -> int:
        if v is None:
            return -1
        if isinstance(v, QConst):
            if v.data.dtype != np.int32:
                raise self.error("the bias must be int32")
            data = v.data.reshape(-1)
            want = (np.float32(in_scale) * w.scale.astype(np.float32)).astype(np.float64)
            have = np.broadcast_to(v.scale.astype(np.float64), want.shape if want.size > 1 else v.scale.shape)
            if np.any(np.abs(have - want) > 1e-6 * np.abs(want)) or np.any(v.zero_point != 0):
                # a bias quantized with another scale (a shared bias): onnxruntime then runs the
                # operator in float; the nearest int32 on the accumulator's scale is the closest match
                real = (data.astype(np.float64) - v.zero_point) * v.scale.astype(np.float64)
                data = np.rint(real / want).astype(np.int64)
                if data.min(initial=0) < -(2**31) or data.max(initial=0) > 2**31 - 1:
                    raise self.error("the bias does not fit in int32 on the accumulator's scale")
        elif isinstance(v, np.ndarray) and v.dtype == np.int32:
            data = v.reshape(-1)
        else:
            raise self.error("the bias must be a constant int32 tensor (quantize_static quantizes it)")
        if data.size != channels:
            data = np.broadcast_to(data, (channels,))
        return self.const(name, data, "int32")

    def compute(self, node: Any, ins: list[Any], shape: tuple[int, ...], name: str, s: float, z: int,
                clamp: tuple[float, float] | None) -> Act:
        op = node.op_type
        act, bounds = self.activation(clamp, s, z)
        if op == "Conv":
            out = self.conv(node, ins, shape, name, s, z, act)
        elif op == "ConvTranspose":
            out = self.conv_transpose(node, ins, shape, name, s, z, act)
        elif op in ("Gemm", "MatMul"):
            out = self.gemm(node, ins, shape, name, s, z, act)
        elif op in ("Add", "Sub", "Mul"):
            out = self.binary(node, ins, shape, name, s, z, act)
        elif op in ("AveragePool", "GlobalAveragePool"):
            out = self.avgpool(node, ins, shape, name, s, z, act)
        elif op == "ReduceMean":
            out = self.reduce_mean(node, ins, shape, name, s, z)
        elif op == "Softmax":
            out = self.softmax(node, ins, shape, name, s, z)
        elif op == "LogSoftmax":
            x = self.deq(ins[0], "the LogSoftmax input")
            axis = int(_attrs(node).get("axis", -1)) % len(x.shape)
            t = self.act_tensor(name, self.ir_shape(x), s, z)
            self.op("LOG_SOFTMAX", [x.tensor], [t], requant="float32", axis=_NHWC.index(axis) if x.nhwc else axis)
            out = Act(t, x.shape, x.nhwc)
        elif op == "Concat":
            acts = [Deq(self.table(self.deq(v, "a Concat input"), [], f"{name}/in{k}", s, z, in_place_quant=True))
                    for k, v in enumerate(ins)]
            out = self.concat(node, acts, shape, name, _attrs(node))
        else:
            raise self.error(f"operator {op} is not supported yet")
        return self.post_clamp(out, bounds, name)

    def conv(self, node: Any, ins: list[Any], shape: tuple[int, ...], name: str, s: float, z: int,
             act: str, attrs: dict[str, Any] | None = None) -> Act:
        x = self.deq(ins[0], "the Conv input")
        w = self.weights(ins[1], "the Conv weights")
        a = _attrs(node) if attrs is None else attrs
        if w.data.ndim == 3 and len(x.shape) == 3:
            # Conv1d: a 2-D convolution of height 1 on (N, C, 1, L)
            x = self.as_2d(x, name)
            w = QConst(w.data[:, :, None, :], w.scale, w.zero_point, w.axis)
            a = self.attrs_2d(a)
            res = self.conv(node, [Deq(x), w, *ins[2:]], (shape[0], shape[1], 1, shape[2]), name, s, z, act, a)
            return self.as_1d(res, name)
        if w.data.ndim != 4:
            raise self.error(f"only 1-D and 2-D convolutions are supported (weights {list(w.data.shape)})")
        x = self.to_nhwc(x)
        x_n, c, h, wd = x.shape
        o, cg, kh, kw = w.data.shape
        group = int(a.get("group", 1))
        strides = list(a.get("strides", [1, 1]))
        dil = list(a.get("dilations", [1, 1]))
        pads = self.pads(a, (h, wd), (kh, kw), strides, dil)
        opts: dict[str, Any] = {"stride_h": strides[0], "stride_w": strides[1], "dilation_h_factor": dil[0],
                                "dilation_w_factor": dil[1], "fused_activation_function": act,
                                "requant": "float32", **pads}
        out_shape = (shape[0], shape[2], shape[3], shape[1])
        out = self.act_tensor(name, out_shape, s, z)
        si, _ = self.quant_of(x)
        b = self.bias(ins[2] if len(ins) > 2 else None, o, si, w, name + "/bias")
        float_bias = None
        if self.float_conv(node, name):
            # onnxruntime leaves this Conv unfused: DequantizeLinear, float Conv, QuantizeLinear
            # (generator/ops/conv_fsum.py), with the bias its own DequantizeLinear gives
            opts["float_conv"] = True
            bq = ins[2] if len(ins) > 2 else None
            if isinstance(bq, QConst) and bq.data.dtype == np.int32:
                real = (bq.data.reshape(-1).astype(np.int64) - bq.zero_point.reshape(-1).astype(np.int64))
                float_bias = np.broadcast_to(real.astype(np.float32) * bq.scale.reshape(-1).astype(np.float32), (o,))
                opts["float_bias"] = tuple(float(v) for v in float_bias)
        if group == 1:
            wt = self.const(name + "/weights", w.data.transpose(0, 2, 3, 1), "int8", self.weight_quant(w, 0))
            self.op("CONV_2D", [x.tensor, wt, b], [out], **opts)
        elif group == c and cg == 1:
            wt = self.const(name + "/weights", w.data.transpose(1, 2, 3, 0), "int8", self.weight_quant(w, 3))
            self.op("DEPTHWISE_CONV_2D", [x.tensor, wt, b], [out], depth_multiplier=o // c, **opts)
        elif c % group == 0 and o % group == 0 and cg == c // group:
            # a grouped convolution: SPLIT_V of the channels, one CONV_2D per group, CONCATENATION
            og = o // group
            parts = [self.act_tensor(f"{name}/in{k}", (x_n, h, wd, cg), si, self.quant_of(x)[1]) for k in range(group)]
            self.op("SPLIT_V", [x.tensor, self.const(name + "/sizes", np.full(group, cg), "int32"),
                                self.const(name + "/axis", np.array(3), "int32")], parts, num_splits=group)
            outs = []
            for k in range(group):
                sl = slice(k * og, (k + 1) * og)
                wq = QConst(w.data[sl], w.scale[sl] if w.scale.size > 1 else w.scale, w.zero_point, w.axis)
                wt = self.const(f"{name}/weights{k}", wq.data.transpose(0, 2, 3, 1), "int8", self.weight_quant(wq, 0))
                bk = -1
                if b >= 0:
                    bdata = self.tensors[b].data
                    assert bdata is not None
                    bk = self.const(f"{name}/bias{k}", bdata[sl], "int32")
                ok = self.act_tensor(f"{name}/out{k}", (*out_shape[:3], og), s, z)
                part_opts = dict(opts)
                if float_bias is not None:
                    part_opts["float_bias"] = tuple(float(v) for v in float_bias[sl])
                if opts.get("float_conv"):
                    # onnxruntime runs each group's product whole on one thread (ops/conv_fsum.py)
                    part_opts["onnx_groups"] = group
                self.op("CONV_2D", [parts[k], wt, bk], [ok], **part_opts)
                outs.append(ok)
            self.op("CONCATENATION", outs, [out], axis=3, fused_activation_function="NONE")
        else:
            raise self.error(f"group={group} does not divide the {c} input and {o} output channels")
        return Act(out, shape, True)

    def float_conv(self, node: Any, name: str) -> bool:
        """Whether onnxruntime runs this QDQ Conv in float: its integer QLinearConv needs uint8 input
        and output on x86-64, and the input or the output (`name`, the QuantizeLinear's) stays int8
        there (_int8_in_ort)."""
        if node.op_type != "Conv" or not node.input:
            return False
        dq = self.producer.get(node.input[0])
        if dq is None or dq.op_type != "DequantizeLinear":
            return False
        return dq.input[0] in self.int8_in_ort or name in self.int8_in_ort

    @staticmethod
    def attrs_2d(a: dict[str, Any]) -> dict[str, Any]:
        """A 1-D operator's attributes for the height-1 2-D operator on (N, C, 1, L)."""
        res = dict(a)
        for key in ("strides", "dilations", "kernel_shape"):
            if key in a:
                res[key] = [1, *[int(v) for v in a[key]]]
        if "pads" in a:
            p = [int(v) for v in a["pads"]]
            res["pads"] = [0, p[0], 0, p[1]]
        return res

    def softmax(self, node: Any, ins: list[Any], shape: tuple[int, ...], name: str, s: float, z: int) -> Act:
        """SOFTMAX over the IR's last axis (TRANSPOSEs around it for another axis) into int16 (scale
        1/65536), then QUANTIZE to the model's int8 output: within one step of onnxruntime's float."""
        x = self.deq(ins[0], "the Softmax input")
        rank = len(x.shape)
        axis = int(_attrs(node).get("axis", -1)) % rank
        ir_axis = _NHWC.index(axis) if x.nhwc else axis
        si, zi = self.quant_of(x)
        src, ir = x.tensor, self.ir_shape(x)
        perm = [d for d in range(rank) if d != ir_axis] + [ir_axis]
        moved = perm != list(range(rank))
        if moved:
            t_shape = tuple(ir[d] for d in perm)
            t = self.act_tensor(name + "/last", t_shape, si, zi)
            self.op("TRANSPOSE", [src, self.const(name + "/perm", np.array(perm), "int32")], [t])
            src, ir = t, t_shape
        wide = self.tensor(name + "/p16", ir, "int16", Quant((1 / 65536,), (-32768,)))
        self.op("SOFTMAX", [src], [wide], beta=1.0)
        q = self.act_tensor(name + ("/q" if moved else ""), ir, s, z)
        self.op("QUANTIZE", [wide], [q])
        if not moved:
            return Act(q, x.shape, x.nhwc)
        back = [perm.index(d) for d in range(rank)]
        out = self.act_tensor(name, self.ir_shape(x), s, z)
        self.op("TRANSPOSE", [q, self.const(name + "/perm_back", np.array(back), "int32")], [out])
        return Act(out, x.shape, x.nhwc)

    def conv_transpose(self, node: Any, ins: list[Any], shape: tuple[int, ...], name: str, s: float, z: int,
                       act: str) -> Act:
        x = self.to_nhwc(self.deq(ins[0], "the ConvTranspose input"))
        w = self.weights(ins[1], "the ConvTranspose weights")
        a = _attrs(node)
        if w.data.ndim != 4:
            raise self.error("only 2-D ConvTranspose is supported")
        if w.scale.size > 1 and w.axis != 1:
            raise self.error("per-channel ConvTranspose weights must be quantized along the output channels (axis 1)")
        group = int(a.get("group", 1))
        cin, cout_g = w.data.shape[:2]
        if group < 1 or cin % group or x.shape[1] != cin:
            raise self.error(f"group={group} does not divide the {cin} input channels")
        wdata = w.data
        dil = [int(v) for v in a.get("dilations", [1, 1])]
        if any(d != 1 for d in dil):  # the dilated kernel, zeros between the taps: the same sums
            kh0, kw0 = wdata.shape[2:]
            wdata = np.zeros((cin, cout_g, (kh0 - 1) * dil[0] + 1, (kw0 - 1) * dil[1] + 1), np.int8)
            wdata[:, :, ::dil[0], ::dil[1]] = w.data
        kh, kw = wdata.shape[2:]
        cout = cout_g * group
        strides = list(a.get("strides", [1, 1]))
        n, _, h, wd = x.shape
        oh, ow = shape[2], shape[3]
        # the full output is (in - 1) * stride + kernel; ONNX crops pads_begin off its top and left
        full = ((h - 1) * strides[0] + kh, (wd - 1) * strides[1] + kw)
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else str(auto)
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            tot = (full[0] - oh, full[1] - ow)
            lo = [t // 2 if auto == "SAME_UPPER" else t - t // 2 for t in tot]
        else:
            p = [int(v) for v in a.get("pads", [0, 0, 0, 0])]
            lo = [p[0], p[1]] if auto != "VALID" else [0, 0]
        if lo[0] + oh > full[0] or lo[1] + ow > full[1]:
            raise self.error("ConvTranspose output_padding beyond the full output is not supported")
        si, zi = self.quant_of(x)
        scales = np.tile(w.scale, group) if w.scale.size > 1 else w.scale  # per output channel of every group
        b = self.bias(ins[2] if len(ins) > 2 else None, cout, si, QConst(wdata, scales, w.zero_point, 1),
                      name + "/bias")
        opts = {"stride_h": strides[0], "stride_w": strides[1], "fused_activation_function": act,
                "pads": (lo[0], lo[1], full[0] - oh - lo[0], full[1] - ow - lo[1])}
        out = self.act_tensor(name, (shape[0], oh, ow, cout), s, z)
        cin_g = cin // group
        if group == 1:
            parts = [x.tensor]
        else:  # SPLIT_V of the input channels, one TRANSPOSE_CONV per group, CONCATENATION
            parts = [self.act_tensor(f"{name}/in{k}", (n, h, wd, cin_g), si, zi) for k in range(group)]
            self.op("SPLIT_V", [x.tensor, self.const(name + "/sizes", np.full(group, cin_g), "int32"),
                                self.const(name + "/axis", np.array(3), "int32")], parts, num_splits=group)
        outs = []
        for k, part in enumerate(parts):
            wk = QConst(wdata[k * cin_g:(k + 1) * cin_g], w.scale, w.zero_point, 1)
            wt = self.const(f"{name}/weights{k}", wk.data.transpose(1, 2, 3, 0), "int8", self.weight_quant(wk, 0))
            bk = b
            if b >= 0 and group > 1:
                bdata = self.tensors[b].data
                assert bdata is not None
                bk = self.const(f"{name}/bias{k}", bdata[k * cout_g:(k + 1) * cout_g], "int32")
            osz = self.const(f"{name}/output_shape{k}", np.array([n, oh, ow, cout_g]), "int32")
            ok = out if group == 1 else self.act_tensor(f"{name}/out{k}", (n, oh, ow, cout_g), s, z)
            self.op("TRANSPOSE_CONV", [osz, wt, part, bk], [ok], **opts)
            outs.append(ok)
        if group > 1:
            self.op("CONCATENATION", outs, [out], axis=3, fused_activation_function="NONE")
        return Act(out, shape, True)

    def pads(self, a: dict[str, Any], size: tuple[int, int], k: tuple[int, int], strides: list[int],
             dil: list[int]) -> dict[str, Any]:
        """ONNX auto_pad / pads → {"padding": SAME|VALID} when TFLite's rule gives the same, else {"pads"}."""
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else str(auto)
        if auto == "VALID":
            return {"padding": "VALID"}
        tl = []
        for d in range(2):
            eff = (k[d] - 1) * dil[d] + 1
            out = -(-size[d] // strides[d])
            total = max((out - 1) * strides[d] + eff - size[d], 0)
            tl.append((total // 2, total - total // 2))
        if auto == "SAME_UPPER":
            return {"padding": "SAME"}
        if auto == "SAME_LOWER":
            return {"pads": (tl[0][1], tl[1][1], tl[0][0], tl[1][0])}
        p = [int(v) for v in a.get("pads", [0, 0, 0, 0])]
        if len(p) != 4:
            raise self.error(f"pads {p} are not 2-D")
        if not any(p):
            return {"padding": "VALID"}
        if (p[0], p[2]) == tl[0] and (p[1], p[3]) == tl[1]:
            return {"padding": "SAME"}
        return {"pads": (p[0], p[1], p[2], p[3])}

    def gemm(self, node: Any, ins: list[Any], shape: tuple[int, ...], name: str, s: float, z: int,
             act: str) -> Act:
        a = _attrs(node)
        x = self.to_onnx(self.deq(ins[0], f"the {node.op_type} input A"))
        if node.op_type == "MatMul" and isinstance(ins[1], Deq):
            # two activations (attention): BATCH_MATMUL, onnxruntime's QLinearMatMul
            y = self.to_onnx(ins[1].act)
            out = self.act_tensor(name, shape, s, z)
            self.op("BATCH_MATMUL", [x.tensor, y.tensor], [out], adj_x=False, adj_y=False, requant="float32")
            return self.post_clamp(Act(out, shape), self.activation_bounds(act, out), name)
        w = self.weights(ins[1], f"the {node.op_type} input B")
        if node.op_type == "Gemm":
            if a.get("transA", 0) or float(a.get("alpha", 1.0)) != 1.0 or float(a.get("beta", 1.0)) != 1.0:
                raise self.error("Gemm with transA, alpha or beta other than the defaults is not supported")
            wmat = w.data if a.get("transB", 0) else w.data.T
            axis_out = 0 if a.get("transB", 0) else 1
        else:
            if w.data.ndim != 2:
                raise self.error("MatMul needs a 2-D constant B")
            wmat, axis_out = w.data.T, 1
        if w.scale.size > 1 and w.axis != axis_out:
            raise self.error("per-channel weights must be quantized along the output axis")
        units = wmat.shape[0]
        si, _ = self.quant_of(x)
        bias = self.bias(ins[2] if node.op_type == "Gemm" and len(ins) > 2 else None, units, si, w, name + "/bias")
        wt = self.const(name + "/weights", wmat, "int8", self.weight_quant(w, 0))
        out = self.act_tensor(name, shape, s, z)
        self.op("FULLY_CONNECTED", [x.tensor, wt, bias], [out], fused_activation_function=act,
                keep_num_dims=len(shape) > 2, requant="float32")
        return Act(out, shape)

    def binary(self, node: Any, ins: list[Any], shape: tuple[int, ...], name: str, s: float, z: int,
               act: str) -> Act:
        opnds = [v for v in ins[:2]]
        acts = [v.act for v in opnds if isinstance(v, Deq)]
        if not acts:
            raise self.error(f"{node.op_type} needs a quantized activation input")
        nhwc = len(shape) == 4 and all(a.nhwc or len(a.shape) != 4 for a in acts) and any(a.nhwc for a in acts)
        idx = []
        for v in opnds:
            if isinstance(v, Deq):
                a = v.act
                if nhwc and len(a.shape) == 4:
                    a = self.to_nhwc(a)
                elif not nhwc:
                    a = self.to_onnx(a)
                if nhwc and len(a.shape) < 4 and a.shape and any(d != 1 for d in a.shape):
                    raise self.error(f"{node.op_type} broadcasting a {len(a.shape)}-D activation over a 4-D one")
                idx.append(a.tensor)
            elif isinstance(v, QConst):
                if v.scale.size != 1:
                    raise self.error(f"the constant operand of {node.op_type} must be quantized per tensor")
                data = v.data
                zp = int(v.zero_point[0])
                if data.dtype == np.uint8:
                    data, zp = (data.astype(np.int16) - 128).astype(np.int8), zp - 128
                if data.dtype != np.int8:
                    raise self.error(f"the constant operand of {node.op_type} must be int8 or uint8")
                if nhwc:
                    data = np.broadcast_to(data, (1,) * (4 - data.ndim) + data.shape) if data.ndim < 4 else data
                    data = data.transpose(_NHWC)
                idx.append(self.const(name + "/const", data, "int8", Quant((float(v.scale[0]),), (zp,))))
            else:
                raise self.error(f"{node.op_type} operands must be quantized")
        out_shape = tuple(shape[p] for p in _NHWC) if nhwc else shape
        out = self.act_tensor(name, out_shape, s, z)
        opcode = {"Add": "ADD", "Sub": "SUB", "Mul": "MUL"}[node.op_type]
        # a shared DequantizeLinear (or a result read by more than its QuantizeLinear) keeps onnxruntime
        # from fusing: it runs the float operator between DequantizeLinear and QuantizeLinear (float_ops)
        shared = any(self.readers.get(i, 0) > 1 and i not in self.dq_uint8
                     for i, v in zip(node.input, opnds, strict=False) if isinstance(v, Deq))
        shared = shared or (len(node.input) > 0 and self.readers.get(node.output[0], 0) > 1)
        self.op(opcode, idx, [out], fused_activation_function=act, requant="float32",
                zero_point_shift=128 if name in self.uint8_out else 0, float_ops=shared)
        return Act(out, shape, nhwc)

    def avgpool(self, node: Any, ins: list[Any], shape: tuple[int, ...], name: str, s: float, z: int,
                act: str) -> Act:
        """AveragePool / GlobalAveragePool → MEAN or AVERAGE_POOL_2D with onnxruntime's float32
        arithmetic: a window covering the whole unpadded image is onnxruntime's integer global
        average (MEAN), any other its float32 QLinearAveragePool (generator/ops/pooling_f32.py)."""
        x = self.deq(ins[0], f"the {node.op_type} input")
        one_d = len(x.shape) == 3
        if one_d:
            x, shape = self.as_2d(x, name), (shape[0], shape[1], 1, shape[2])
        x = self.to_nhwc(x)
        if len(x.shape) != 4:
            raise self.error("only 1-D and 2-D pooling (3-D or 4-D input) is supported")
        _n, _c, h, w = x.shape
        out_shape = (shape[0], shape[2], shape[3], shape[1])
        out = self.act_tensor(name, out_shape, s, z)
        a = _attrs(node)
        k, strides, p = self.pool_geometry(node, a, (h, w), shape[2:])
        if node.op_type == "GlobalAveragePool" or ((k[0], k[1]) == (h, w) and not any(p)):
            axes = self.const(name + "/axes", np.array([1, 2]), "int32")
            self.op("MEAN", [x.tensor, axes], [out], keep_dims=True, requant="float32")
            res = self.post_clamp(Act(out, shape, True), self.activation_bounds(act, out), name)
            return self.as_1d(res, name) if one_d else res
        self.op("AVERAGE_POOL_2D", [x.tensor], [out], filter_height=k[0], filter_width=k[1], stride_h=strides[0],
                stride_w=strides[1], fused_activation_function=act, requant="float32", pads=p,
                count_include_pad=bool(int(a.get("count_include_pad", 0))),
                zero_point_shift=128 if name in self.uint8_out else 0)
        return self.as_1d(Act(out, shape, True), name) if one_d else Act(out, shape, True)

    def as_2d(self, a: Act, name: str) -> Act:
        """A 3-D (N, C, L) activation as the 4-D (N, C, 1, L) a 2-D operator reads (a RESHAPE: a view)."""
        a = self.to_onnx(a)
        n, c, length = a.shape
        s, z = self.quant_of(a)
        shape = (n, c, 1, length)
        out = self.act_tensor(name + "/2d", shape, s, z)
        self.op("RESHAPE", [a.tensor, self.const(name + "/2d_shape", np.array(shape), "int32")], [out],
                new_shape=list(shape))
        return Act(out, shape)

    def as_1d(self, a: Act, name: str) -> Act:
        """The (N, C, 1, L) result of a 2-D operator as the 3-D (N, C, L) ONNX value."""
        a = self.to_onnx(a)
        n, c, _, length = a.shape
        s, z = self.quant_of(a)
        shape = (n, c, length)
        out = self.act_tensor(name + "/1d", shape, s, z)
        self.op("RESHAPE", [a.tensor, self.const(name + "/1d_shape", np.array(shape), "int32")], [out],
                new_shape=list(shape))
        return Act(out, shape)

    def pool_geometry(self, node: Any, a: dict[str, Any], size: tuple[int, int],
                      out_hw: tuple[int, ...]) -> tuple[list[int], list[int], tuple[int, int, int, int]]:
        """(kernel, strides, explicit pads (top, left, bottom, right)) of a 2-D pool; a ceil_mode
        pool's extra last window is more bottom / right padding (its taps lie outside the input)."""
        if node.op_type in ("GlobalAveragePool", "GlobalMaxPool"):
            return [size[0], size[1]], [1, 1], (0, 0, 0, 0)
        if len(a["kernel_shape"]) == 1:
            a = self.attrs_2d(a)
        k = [int(v) for v in a["kernel_shape"]]
        strides = [int(v) for v in a.get("strides", [1] * len(k))]
        if any(d != 1 for d in a.get("dilations", [1] * len(k))):
            raise self.error(f"{node.op_type} with dilations is not supported")
        pd = self.pads(a, size, (k[0], k[1]), strides, [1, 1])
        p = pd.get("pads") or (self.same_pads(size, (k[0], k[1]), strides) if pd.get("padding") == "SAME"
                               else (0, 0, 0, 0))
        top, left, bottom, right = p
        bottom = max(bottom, (out_hw[0] - 1) * strides[0] + k[0] - size[0] - top)
        right = max(right, (out_hw[1] - 1) * strides[1] + k[1] - size[1] - left)
        return k, strides, (top, left, bottom, right)

    def same_pads(self, size: tuple[int, int], k: tuple[int, int], strides: list[int]) -> tuple[int, ...]:
        tl = []
        for d in range(2):
            out = -(-size[d] // strides[d])
            total = max((out - 1) * strides[d] + k[d] - size[d], 0)
            tl.append((total // 2, total - total // 2))
        return (tl[0][0], tl[1][0], tl[0][1], tl[1][1])

    def reduce_mean(self, node: Any, ins: list[Any], shape: tuple[int, ...], name: str, s: float, z: int) -> Act:
        x = self.deq(ins[0], "the ReduceMean input")
        a = _attrs(node)
        axes = a.get("axes")
        if axes is None and len(ins) > 1 and isinstance(ins[1], np.ndarray):
            axes = [int(v) for v in ins[1].reshape(-1)]
        rank = len(x.shape)
        axes = sorted(int(v) % rank for v in (axes if axes is not None else range(rank)))
        keep = bool(a.get("keepdims", 1))
        if x.nhwc and keep:
            ir_axes = sorted(_NHWC.index(v) for v in axes)
            out_ir = tuple(shape[p] for p in _NHWC)
            nhwc = True
        else:
            x = self.to_onnx(x)
            ir_axes, out_ir, nhwc = axes, shape, False
        ax = self.const(name + "/axes", np.array(ir_axes), "int32")
        out = self.act_tensor(name, out_ir, s, z)
        self.op("MEAN", [x.tensor, ax], [out], keep_dims=keep, requant="float32")
        return Act(out, shape, nhwc)

    # ---- layout operators (quantization passes through) --------------------------------------
    def layout(self, node: Any, ins: list[Any]) -> None:
        op = node.op_type
        x = ins[0]
        if isinstance(x, FloatIn) and op in ("Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"):
            # the float graph input reshaped before its QuantizeLinear (an MLP's leading Flatten):
            # a float32 view; QuantizeLinear is element-wise, so quantizing after it is the same
            new = self.shapes.get(node.output[0])
            if new is None:
                raise self.error(f"the output shape of {op} is unknown")
            self.values[node.output[0]] = FloatIn(x.tensor, x.shape, None if tuple(new) == x.shape else tuple(new))
            return
        raw = isinstance(x, Act)  # a QOperator model's int8 tensor: the result stays one
        if raw:
            x = Deq(x)
            ins = [Deq(v) if isinstance(v, Act) else v for v in ins]
        if not isinstance(x, Deq):
            raise self.error(f"{op} needs a quantized input (a DequantizeLinear before it)")
        a = x.act
        s, z = self.quant_of(a)
        outs = [self.shapes.get(o) for o in node.output]
        if any(o is None for o in outs):
            raise self.error(f"the output shape of {op} is unknown")
        shape: tuple[int, ...] = outs[0]  # type: ignore[assignment]
        name = node.output[0]
        attrs = _attrs(node)
        res: Act
        if op == "Identity":
            res = a
        elif op in ("Reshape", "Flatten", "Squeeze", "Unsqueeze"):
            if a.nhwc and len(shape) == 4 and shape == a.shape:
                res = a
            else:
                a = self.to_onnx(a)
                out = self.act_tensor(name, shape, s, z)
                sh = self.const(name + "/shape", np.array(shape), "int32")
                self.op("RESHAPE", [a.tensor, sh], [out], new_shape=list(shape))
                res = Act(out, shape)
        elif op == "Transpose":
            perm = [int(v) for v in attrs["perm"]] if "perm" in attrs else list(range(len(a.shape)))[::-1]
            # the IR axes in the output's ONNX order
            q = [list(_NHWC).index(p) for p in perm] if a.nhwc else perm
            if q == list(range(len(q))):
                res = Act(a.tensor, shape)
            else:
                out = self.act_tensor(name, shape, s, z)
                pt = self.const(name + "/perm", np.array(q), "int32")
                self.op("TRANSPOSE", [a.tensor, pt], [out])
                res = Act(out, shape)
        elif op in ("MaxPool", "GlobalMaxPool"):
            res = self.maxpool(node, a, shape, name, attrs)
        elif op == "Concat":
            if any(not isinstance(v, Deq) or self.quant_of(v.act) != (s, z) for v in ins):
                # inputs on other scales: requantized to the output's, known at the QuantizeLinear
                self.values[name] = Pending(node, list(ins), shape)
                return
            res = self.concat(node, ins, shape, name, attrs)
        elif op == "Slice":
            res = self.slice(node, a, ins, shape, name)
        elif op == "Pad":
            res = self.pad(node, a, ins, shape, name, attrs)
        elif op == "Split":
            self.split(node, a, ins, outs, attrs)  # type: ignore[arg-type]
            if raw:
                for o in node.output:
                    v = self.values[o]
                    self.values[o] = v.act if isinstance(v, Deq) else v
            return
        elif op == "Resize":
            res = self.resize(node, a, shape, name, attrs, raw)
        else:
            raise self.error(f"operator {op} is not supported yet")
        self.values[name] = res if raw else Deq(res)

    def maxpool(self, node: Any, a: Act, shape: tuple[int, ...], name: str, attrs: dict[str, Any]) -> Act:
        if len(node.output) > 1 and node.output[1]:
            raise self.error("MaxPool's Indices output is not supported")
        one_d = len(a.shape) == 3
        if one_d:
            a, shape = self.as_2d(a, name), (shape[0], shape[1], 1, shape[2])
        if len(a.shape) != 4:
            raise self.error("only 1-D and 2-D pooling (3-D or 4-D input) is supported")
        x = self.to_nhwc(a)
        s, z = self.quant_of(x)
        k, strides, p = self.pool_geometry(node, attrs, (x.shape[2], x.shape[3]), shape[2:])
        out = self.act_tensor(name, (shape[0], shape[2], shape[3], shape[1]), s, z)
        self.op("MAX_POOL_2D", [x.tensor], [out], filter_height=k[0], filter_width=k[1], stride_h=strides[0],
                stride_w=strides[1], fused_activation_function="NONE",
                **({"pads": p} if any(p) else {"padding": "VALID"}))
        return self.as_1d(Act(out, shape, True), name) if one_d else Act(out, shape, True)

    def concat(self, node: Any, ins: list[Any], shape: tuple[int, ...], name: str, attrs: dict[str, Any]) -> Act:
        acts = []
        for v in ins:
            if not isinstance(v, Deq):
                raise self.error("Concat inputs must be quantized activations")
            acts.append(v.act)
        axis = int(attrs.get("axis", 0)) % len(shape)
        nhwc = len(shape) == 4 and any(a.nhwc for a in acts)
        acts = [self.to_nhwc(a) if nhwc else self.to_onnx(a) for a in acts]
        s, z = self.quant_of(acts[0])
        if any(self.quant_of(a) != (s, z) for a in acts):
            raise self.error("Concat inputs with different quantization reached the layout path")
        out_shape = tuple(shape[p] for p in _NHWC) if nhwc else shape
        out = self.act_tensor(name, out_shape, s, z)
        self.op("CONCATENATION", [a.tensor for a in acts], [out], axis=_NHWC.index(axis) if nhwc else axis,
                fused_activation_function="NONE")
        return Act(out, shape, nhwc)

    def slice(self, node: Any, a: Act, ins: list[Any], shape: tuple[int, ...], name: str) -> Act:
        consts = [self.const_of(node, k, "Slice's starts/ends/axes/steps") for k in range(1, 5)]
        starts, ends, axes, steps = consts
        rank = len(a.shape)
        assert starts is not None and ends is not None
        axes_l = [int(v) % rank for v in (axes if axes is not None else range(len(starts)))]
        steps_l = [int(v) for v in (steps if steps is not None else [1] * len(axes_l))]
        begin, end, stride = [0] * rank, list(a.shape), [1] * rank
        to_first = [0] * rank  # 1: a negative step runs through index 0 (STRIDED_SLICE's end_mask)
        for ax, st, en, sp in zip(axes_l, starts.reshape(-1), ends.reshape(-1), steps_l, strict=True):
            size = a.shape[ax]
            if sp == 0:
                raise self.error("Slice with a zero step")
            st, en = int(st), int(en)
            st, en = st + size if st < 0 else st, en + size if en < 0 else en
            if sp > 0:
                st, en = max(0, min(size, st)), max(0, min(size, en))
            else:  # ONNX clamps starts to [0, size - 1] and ends to [-1, size - 1]
                st, en = max(0, min(size - 1, st)), max(-1, min(size - 1, en))
                if en == -1:
                    en, to_first[ax] = 0, 1
            begin[ax], end[ax], stride[ax] = st, en, sp
        s, z = self.quant_of(a)
        if a.nhwc:
            begin, end, stride, to_first = ([v[p] for p in _NHWC] for v in (begin, end, stride, to_first))
            out_shape = tuple(shape[p] for p in _NHWC)
        else:
            out_shape = shape
        out = self.act_tensor(name, out_shape, s, z)
        ts = [self.const(name + f"/{k}", np.array(v), "int32") for k, v in (("begin", begin), ("end", end),
                                                                           ("strides", stride))]
        self.op("STRIDED_SLICE", [a.tensor, *ts], [out], begin_mask=0, ellipsis_mask=0, new_axis_mask=0,
                end_mask=sum(bit << d for d, bit in enumerate(to_first)), shrink_axis_mask=0, offset=False)
        return Act(out, shape, a.nhwc)

    def pad(self, node: Any, a: Act, ins: list[Any], shape: tuple[int, ...], name: str,
            attrs: dict[str, Any]) -> Act:
        mode = attrs.get("mode", b"constant")
        mode = mode.decode() if isinstance(mode, bytes) else str(mode)
        if mode not in ("constant", "reflect"):
            raise self.error(f"Pad mode {mode!r} is not supported (constant, reflect)")
        pads = self.const_of(node, 1, "Pad's pads")
        assert pads is not None
        s, z = self.quant_of(a)
        value = ins[2] if len(ins) > 2 else None
        pad_q = z
        if isinstance(value, QConst):
            pad_q = int(value.data.reshape(-1)[0]) - (128 if value.data.dtype == np.uint8 else 0)
        elif isinstance(value, np.ndarray) and value.dtype in (np.int8, np.uint8):  # QOperator: already quantized
            pad_q = int(value.reshape(-1)[0]) - (128 if value.dtype == np.uint8 else 0)
        elif isinstance(value, np.ndarray):
            pad_q = int(_quantize(value.reshape(-1)[:1], s, z)[0])
        elif isinstance(value, Deq):
            raise self.error("Pad's constant value must be constant")
        rank = len(a.shape)
        if len(ins) > 3 and ins[3] is not None:
            raise self.error("Pad with axes is not supported")
        p = [int(v) for v in pads.reshape(-1)]
        pairs = [[p[d], p[d + rank]] for d in range(rank)]
        if any(v < 0 for v in p):
            raise self.error("negative pads (cropping) are not supported")
        if a.nhwc:
            pairs = [pairs[q] for q in _NHWC]
            out_shape = tuple(shape[q] for q in _NHWC)
        else:
            out_shape = shape
        out = self.act_tensor(name, out_shape, s, z)
        pt = self.const(name + "/paddings", np.array(pairs), "int32")
        if mode == "reflect":
            self.op("MIRROR_PAD", [a.tensor, pt], [out], mode=0)  # REFLECT: the edge row is not repeated
        elif pad_q == z:
            self.op("PAD", [a.tensor, pt], [out])
        else:
            cv = self.const(name + "/value", np.array([pad_q]), "int8", Quant((float(np.float32(s)),), (z,)))
            self.op("PADV2", [a.tensor, pt, cv], [out])
        return Act(out, shape, a.nhwc)

    def resize(self, node: Any, a: Act, shape: tuple[int, ...], name: str, attrs: dict[str, Any],
               raw: bool = False) -> Act:
        """Resize of the two spatial axes → RESIZE_NEAREST_NEIGHBOR / RESIZE_BILINEAR where TFLite's
        coordinate rule is ONNX's."""
        given = self.const_of(node, 2, "Resize's scales") if len(node.input) > 2 else None
        if given is not None and given.size == len(shape):
            scales = [np.float32(v) for v in given.reshape(-1)]
        else:  # from the sizes, as onnxruntime derives them
            scales = [np.float32(o) / np.float32(i) for o, i in zip(shape, a.shape, strict=True)]

        def text(key: str, default: str) -> str:
            v = attrs.get(key, default)
            return v.decode() if isinstance(v, bytes) else str(v)

        mode = text("mode", "nearest")
        coord = text("coordinate_transformation_mode", "half_pixel")
        nearest = text("nearest_mode", "round_prefer_floor")
        if len(a.shape) != 4 or shape[:2] != a.shape[:2]:
            raise self.error("Resize is supported on the two spatial axes of a 4-D NCHW tensor only")
        if mode == "nearest":
            # the TFLite rule that picks the same source row and column for every output pixel
            # (onnxruntime's index maps computed in float32; e.g. half_pixel with round_prefer_floor
            # is TFLite's plain rule at integer upscales)
            from ..ops.resize import nearest_indices

            want = [_onnx_nearest(a.shape[d], shape[d], scales[d], coord, nearest) for d in (2, 3)]
            opcode, flags = "RESIZE_NEAREST_NEIGHBOR", None
            for cand in ({}, {"half_pixel_centers": True}, {"align_corners": True}):
                if all(nearest_indices(a.shape[d], shape[d], bool(cand.get("align_corners")),
                                       bool(cand.get("half_pixel_centers"))) == want[d - 2] for d in (2, 3)):
                    flags = cand
                    break
        elif mode == "linear":
            if coord == "pytorch_half_pixel" and min(shape[2:]) > 1:
                coord = "half_pixel"
            linear_rules: dict[str, dict[str, bool]] = {
                "asymmetric": {}, "half_pixel": {"half_pixel_centers": True}, "align_corners": {"align_corners": True}}
            opcode, flags = "RESIZE_BILINEAR", linear_rules.get(coord)
        else:
            raise self.error(f"Resize mode {mode!r} is not supported (nearest, linear)")
        if flags is None:
            raise self.error(f"Resize {mode} with coordinate_transformation_mode={coord!r}"
                             + (f" and nearest_mode={nearest!r}" if mode == "nearest" else "")
                             + " has no TFLite equivalent")
        x = self.to_nhwc(a)
        s, z = self.quant_of(x)
        out = self.act_tensor(name, (shape[0], shape[2], shape[3], shape[1]), s, z)
        size = self.const(name + "/size", np.array(shape[2:]), "int32")
        extra: dict[str, Any] = {}
        if raw and mode == "linear":
            # a QOperator model: onnxruntime's 8-bit Resize kernel (generator/ops/resize_ort.py):
            # float32 interpolation truncated on NCHW data, 1/1024 weights on NHWC data (after a
            # QLinearConv); uint8 data is interpolated as uint8
            u8 = self.elem.get(node.input[0]) == onnx.TensorProto.UINT8
            kind = "nhwc_int" if node.input[0] in self.ort_nhwc else "float"
            extra["ort_linear"] = (coord, float(scales[2]), float(scales[3]), 128 if u8 else 0, kind)
        elif mode == "linear":
            # DequantizeLinear -> Resize -> QuantizeLinear stays that in onnxruntime (linear Resize is
            # not among the operators whose Q / DQ pair it drops): float32 interpolation of the
            # dequantized values, quantized by the QuantizeLinear that reads the result
            q = self.sole_quantize_reader(node.output[0])
            if q is not None:
                s, z = q
                out = self.act_tensor(name, (shape[0], shape[2], shape[3], shape[1]), s, z)
                extra["ort_linear"] = (coord, float(scales[2]), float(scales[3]), 0, "qdq")
        self.op(opcode, [x.tensor, size], [out], align_corners=bool(flags.get("align_corners", False)),
                half_pixel_centers=bool(flags.get("half_pixel_centers", False)), **extra)
        return Act(out, shape, True)

    def sole_quantize_reader(self, value: str) -> tuple[float, int] | None:
        """The output quantization of the QuantizeLinear that is the only reader of `value`, if so."""
        if self.readers.get(value) != 1:
            return None
        q = next((n for n in self.model.graph.node if value in n.input), None)
        if q is None or q.op_type != "QuantizeLinear" or q.input[0] != value:
            return None
        return self.out_quant(q, [], 1)

    def split(self, node: Any, a: Act, ins: list[Any], outs: list[tuple[int, ...]], attrs: dict[str, Any]) -> None:
        axis = int(attrs.get("axis", 0)) % len(a.shape)
        sizes = [o[axis] for o in outs]
        s, z = self.quant_of(a)
        ir_axis = _NHWC.index(axis) if a.nhwc else axis
        res = []
        for name, shape in zip(node.output, outs, strict=True):
            ir = tuple(shape[p] for p in _NHWC) if a.nhwc else shape
            res.append(self.act_tensor(name, ir, s, z))
        st = self.const(node.output[0] + "/sizes", np.array(sizes), "int32")
        ax = self.const(node.output[0] + "/axis", np.array(ir_axis), "int32")
        self.op("SPLIT_V", [a.tensor, st, ax], res, num_splits=len(sizes))
        for name, t, shape in zip(node.output, res, outs, strict=True):
            self.values[name] = Deq(Act(t, shape, a.nhwc))

    # ---- QOperator ---------------------------------------------------------------------------
    def qact(self, node: Any, ins: list[Any], k: int, what: str) -> Deq:
        """Input k of a QLinear op (with its scale and zero point at k + 1, k + 2) as a Deq."""
        v = ins[k]
        if not isinstance(v, Act):
            raise self.error(f"{what} must be a quantized activation")
        s, z = self.out_quant_at(node, ins, k + 1)
        if self.quant_of(v) != (float(np.float32(s)), z):
            raise self.error(f"{what}'s scale and zero point differ from its producer's")
        return Deq(v)

    def out_quant_at(self, node: Any, ins: list[Any], k: int) -> tuple[float, int]:
        scale = self.const_of(node, k, "the scale")
        zp = self.const_of(node, k + 1, "the zero point")
        if scale is None or scale.size != 1:
            raise self.error("activations must be quantized per tensor")
        if zp is None:
            zp = np.zeros(1, dtype=np.uint8)
        return float(np.float32(scale.reshape(-1)[0])), int(zp.reshape(-1)[0]) - (128 if zp.dtype == np.uint8 else 0)

    def qweights(self, node: Any, ins: list[Any], k: int, axis: int) -> QConst:
        data = ins[k]
        scale, zp = ins[k + 1], ins[k + 2] if k + 2 < len(ins) else None
        if not isinstance(data, np.ndarray) or not isinstance(scale, np.ndarray):
            raise self.error("weights must be constant")
        if zp is None:
            zp = np.zeros(1, dtype=data.dtype)
        return QConst(data, np.asarray(scale, dtype=np.float32).reshape(-1),
                      np.asarray(zp).reshape(-1).astype(np.int64), axis)

    def qoperator(self, node: Any, ins: list[Any]) -> Act:
        op = node.op_type
        name = node.output[0]
        shape = self.shapes.get(name)
        if shape is None:
            raise self.error(f"the shape of '{name}' is unknown")
        float_node = onnx.helper.make_node("X", [], [name], name=node.name)
        float_node.attribute.extend(node.attribute)
        if op == "QLinearConv":
            x = self.qact(node, ins, 0, "QLinearConv's x")
            w = self.qweights(node, ins, 3, 0)
            s, z = self.out_quant_at(node, ins, 6)
            b = ins[8] if len(ins) > 8 else None
            float_node.op_type = "Conv"
            return self.compute(float_node, [x, w, b], shape, name, s, z, None)
        if op == "QLinearMatMul":
            x = self.qact(node, ins, 0, "QLinearMatMul's a")
            # b an activation (attention's two inputs): BATCH_MATMUL, as for a QDQ MatMul
            mb: Deq | QConst = (self.qact(node, ins, 3, "QLinearMatMul's b") if isinstance(ins[3], Act)
                                else self.qweights(node, ins, 3, 1))
            s, z = self.out_quant_at(node, ins, 6)
            float_node.op_type = "MatMul"
            return self.compute(float_node, [x, mb], shape, name, s, z, None)
        if op == "QGemm":
            x = self.qact(node, ins, 0, "QGemm's A")
            transb = int(_attrs(node).get("transB", 0))
            w = self.qweights(node, ins, 3, 0 if transb else 1)
            c = ins[6] if len(ins) > 6 else None
            if len(ins) < 8 or ins[7] is None:
                raise self.error("QGemm with a float output (no y_scale) is not supported")
            s, z = self.out_quant_at(node, ins, 7)
            float_node.op_type = "Gemm"
            return self.compute(float_node, [x, w, c], shape, name, s, z, None)
        if op in ("QLinearAdd", "QLinearMul"):
            opnds: list[Any] = []
            for k in (0, 3):
                v = ins[k]
                if isinstance(v, np.ndarray):
                    opnds.append(self.qweights_any(ins, k))
                else:
                    opnds.append(self.qact(node, ins, k, f"{op}'s input"))
            s, z = self.out_quant_at(node, ins, 6)
            if len(ins) > 7 and isinstance(ins[7], np.ndarray) and ins[7].dtype == np.uint8:
                self.uint8_out.add(name)
            float_node.op_type = "Add" if op == "QLinearAdd" else "Mul"
            return self.compute(float_node, opnds, shape, name, s, z, None)
        if op in ("QLinearAveragePool", "QLinearGlobalAveragePool"):
            if int(_attrs(node).get("channels_last", 0)):
                raise self.error(f"{op} with channels_last=1 is not supported")
            x = self.qact(node, ins, 0, f"{op}'s x")
            s, z = self.out_quant_at(node, ins, 3)
            if len(ins) > 4 and isinstance(ins[4], np.ndarray) and ins[4].dtype == np.uint8:
                self.uint8_out.add(name)
            float_node.op_type = "AveragePool" if op == "QLinearAveragePool" else "GlobalAveragePool"
            float_node.attribute.extend([])
            return self.compute(float_node, [x], shape, name, s, z, None)
        if op == "QLinearSoftmax":  # what quantize_static writes for Softmax in QOperator format
            if int(_attrs(node).get("opset", 13)) < 13:
                raise self.error("QLinearSoftmax of opset 12 or older (a 2-D coerced softmax) is not supported")
            x = self.qact(node, ins, 0, "QLinearSoftmax's X")
            s, z = self.out_quant_at(node, ins, 3)
            float_node.op_type = "Softmax"
            return self.compute(float_node, [x], shape, name, s, z, None)
        if op in ("QLinearSigmoid", "QLinearLeakyRelu"):
            x = self.qact(node, ins, 0, f"{op}'s X")
            s, z = self.out_quant_at(node, ins, 3)
            float_node.op_type = "Sigmoid" if op == "QLinearSigmoid" else "LeakyRelu"
            return self.table(x.act, [_unary_fn(float_node)], name, s, z)
        if op == "QLinearConcat":
            s, z = self.out_quant_at(node, ins, 0)
            acts = []
            for k in range(2, len(ins), 3):
                d = self.qact(node, ins, k, "QLinearConcat's input")
                a = d.act
                if self.quant_of(a) != (float(np.float32(s)), z):
                    a = self.table(a, [], name + f"/in{k}", s, z, in_place_quant=True)
                acts.append(Deq(a))
            float_node.op_type = "Concat"
            return self.concat(float_node, acts, shape, name, _attrs(node))
        raise self.error(f"operator {op} is not supported")

    def qweights_any(self, ins: list[Any], k: int) -> QConst:
        data, scale = ins[k], ins[k + 1]
        zp = ins[k + 2] if k + 2 < len(ins) and ins[k + 2] is not None else np.zeros(1, dtype=np.asarray(data).dtype)
        if not isinstance(scale, np.ndarray):
            raise self.error("scales must be constant")
        return QConst(np.asarray(data), np.asarray(scale, dtype=np.float32).reshape(-1),
                      np.asarray(zp).reshape(-1).astype(np.int64))
