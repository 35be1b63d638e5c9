"""The IR → a standard .tflite flatbuffer (schema object API from the `tflite-micro` package).

The IR uses TFLite's operator names and option fields, so writing it is mostly the reader run
backwards: tensors with their quantization and constant data, operators with their builtin
options table, every subgraph. What TFLite cannot say is turned into what it can, or refused:
explicit padding (`options["pads"]`, e.g. from an ONNX Conv) becomes SAME or VALID where it is
one of them, else a PAD operator in front (convolutions, max pooling); the IR's LOOKUP_TABLE (an
int8 function as a 256-entry table, from the ONNX front end) becomes CAST to int32, ADD 128 and
GATHER from the table, which TFLite Micro runs exactly, and a DEQUANTIZE through a float32 table
(`options["table"]`) the same way with the float32 table as GATHER's params; a TRANSPOSE_CONV's
explicit output crop becomes SAME or VALID where it is one. An operator with onnxruntime's float32
output stage (`options["requant"] == "float32"`) and otherwise TFLite's arithmetic is written with
TFLite's fixed-point requantization, which rounds some results one step differently:
`written_model.inexact` names them. So are ADD / SUB / MUL in onnxruntime's float32 arithmetic
(binary_s8_f32: `float_ops`, uint8 bytes via `zero_point_shift`, a folded broadcast constant):
the IR already holds their tensors and constants as int8 (uint8 zero points shifted by -128), so
TFLite's integer operator takes the same quantized values and differs only in rounding. Forms whose
arithmetic TFLite has no operator for (the ONNX front end's other float32 kernels: PRELU with float
slopes, LOG_SOFTMAX in onnxruntime's formula, an average pool that rescales or counts its padding,
`float_ops` on any other operator; a binary operand that is not per-tensor int8) are refused with
the reason (`refusal`), never written approximately.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import flatbuffers
import numpy as np

from ..errors import UnsupportedModelError
from ..ir import NUMPY_DTYPES, Graph, Operator, Tensor
from ..ops.base import padding_offsets

try:  # the schema module lives at this path inside the tflite-micro wheel
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema
except ImportError as exc:  # pragma: no cover - dependency missing means a broken install
    raise ImportError("mcuforge needs the 'tflite-micro' package (pip install tflite-micro)") from exc

_TYPES = {k.lower(): v for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
_PADDING = {"SAME": schema.Padding.SAME, "VALID": schema.Padding.VALID}
_ACTIVATIONS = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3, "TANH": 4, "SIGN_BIT": 5}
# Operators whose options table is not named after the operator.
_OPTIONS_OF = {"AVERAGE_POOL_2D": "Pool2DOptions", "MAX_POOL_2D": "Pool2DOptions", "L2_POOL_2D": "Pool2DOptions",
               "MEAN": "ReducerOptions", "SUM": "ReducerOptions", "REDUCE_MAX": "ReducerOptions",
               "REDUCE_MIN": "ReducerOptions", "REDUCE_PROD": "ReducerOptions", "REDUCE_ANY": "ReducerOptions",
               "REDUCE_ALL": "ReducerOptions"}
_BY_KEY = {re.sub(r"Options$", "", k).lower(): k for k in vars(schema.BuiltinOptions) if not k.startswith("_")}
# Option keys the IR may carry that are not TFLite fields (handled here, not written).
_IR_ONLY = {"pads", "requant", "custom_options"}
_PADDED = {"CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D"}


@dataclass
class WrittenModel:
    data: bytes
    # Operators (index, opcode) that use onnxruntime's float32 output stage in the IR: TFLite's
    # fixed-point requantization rounds some of their results differently.
    inexact: list[tuple[int, str]] = field(default_factory=list)
    pads_added: int = 0  # PAD operators written in front of operators with explicit padding
    tables: int = 0  # LOOKUP_TABLE / table DEQUANTIZE operators written as CAST + ADD + GATHER


def refusal(graph: Graph, op: Operator) -> str | None:
    """Why the operator cannot be written as TFLite operators that compute what mcuforge's C
    computes for it (None where it can)."""
    opts, f32 = op.options, op.options.get("requant") == "float32"
    binary = op.opcode in ("ADD", "SUB", "MUL")
    if binary and f32:
        # onnxruntime's float32 arithmetic (binary_s8_f32: float_ops, uint8 bytes, a folded broadcast)
        # is written as TFLite's integer operator on the same int8 values (the IR holds uint8 tensors
        # shifted to int8 already), which differs from it by rounding only: listed as inexact.
        for t in graph.op_inputs(op)[:2] + graph.op_outputs(op)[:1]:
            if t is None or t.dtype != "int8" or t.quant is None or len(t.quant.scale) != 1:
                return (f"has an operand that is not an int8 tensor quantized per tensor, which TFLite's integer "
                        f"{op.opcode} needs")
    elif opts.get("float_ops"):
        return ("runs onnxruntime's float32 operator between DequantizeLinear and QuantizeLinear (float_ops), "
                "which no TFLite integer operator computes")
    if op.opcode == "PRELU" and opts.get("slopes") is not None:
        return ("multiplies by float32 per-channel slopes as onnxruntime does; TFLite's PRELU takes int8 alphas "
                "and fixed-point rescaling, which give other results")
    if op.opcode == "LOG_SOFTMAX" and f32:
        return ("computes onnxruntime's float32 LogSoftmax with the model's own output quantization; TFLite's "
                "LOG_SOFTMAX needs scale 16/256 and zero point 127 on the last axis and rounds otherwise")
    if op.opcode == "AVERAGE_POOL_2D" and f32:
        x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
        pads = opts.get("pads")
        if x.quant is None or y.quant is None or x.quant != y.quant:
            return ("averages in float32 with a different input and output quantization; TFLite's "
                    "AVERAGE_POOL_2D does not rescale")
        if pads is not None and any(int(v) for v in pads):
            return ("averages in float32 over explicit padding; TFLite's AVERAGE_POOL_2D has only SAME and VALID "
                    "and rounds its integer sum otherwise")
    if op.opcode == "DEQUANTIZE" and opts.get("table") is not None:
        x = graph.tensors[op.inputs[0]]
        if x.dtype != "int8" or np.asarray(opts["table"]).size != 256:
            return "needs an int8 input and a 256-value float32 table"
    return None


def options_table(opcode: str) -> str | None:
    """The BuiltinOptions union member an operator's options are written as."""
    if opcode in _OPTIONS_OF:
        return _OPTIONS_OF[opcode]
    return _BY_KEY.get(opcode.replace("_", "").lower())


def _camel_fields(obj: Any) -> dict[str, str]:
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower(): k for k in vars(obj)}


def _builtin_options(op: Operator) -> tuple[int, Any] | None:
    opts = {k: v for k, v in op.options.items() if k not in _IR_ONLY}
    if not opts:
        return None
    table = options_table(op.opcode)
    if table is None or not hasattr(schema, table + "T"):
        raise UnsupportedModelError(f"operator {op.index} ({op.opcode}): no TFLite options table for its options")
    obj = getattr(schema, table + "T")()
    fields = _camel_fields(obj)
    for key, value in opts.items():
        if key not in fields:
            raise UnsupportedModelError(f"operator {op.index} ({op.opcode}): option {key!r} has no TFLite field")
        if key == "padding" and isinstance(value, str):
            value = _PADDING[value]
        elif key.endswith("activation_function") and isinstance(value, str):
            value = _ACTIVATIONS[value]
        elif isinstance(value, (list, tuple)):
            value = np.asarray(value, dtype=np.int32)
        elif isinstance(value, str):
            value = value.encode()
        setattr(obj, fields[key], value)
    return getattr(schema.BuiltinOptions, table), obj


def _same_pads(in_size: int, out_size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TFLite's SAME padding (before, after) along one axis."""
    eff = (kernel - 1) * dilation + 1
    total = max((out_size - 1) * stride + eff - in_size, 0)
    return total // 2, total - total // 2


class _Writer:
    def __init__(self) -> None:
        self.model = schema.ModelT()
        self.model.version = 3
        self.model.description = b"written by mcuforge convert"
        self.model.buffers = [schema.BufferT()]  # buffer 0: the conventional empty buffer
        self.model.operatorCodes = []
        self.codes: dict[str, int] = {}
        self.buffer_of: dict[int, int] = {}
        # the arrays keyed by id() in buffer_of, kept alive so that no later array reuses an id
        self.buffered: list[np.ndarray] = []

    def code(self, opcode: str) -> int:
        if opcode not in self.codes:
            c = schema.OperatorCodeT()
            if opcode.startswith("CUSTOM:"):
                builtin = schema.BuiltinOperator.CUSTOM
                c.customCode = opcode.split(":", 1)[1].encode()
            elif hasattr(schema.BuiltinOperator, opcode):
                builtin = getattr(schema.BuiltinOperator, opcode)
            else:
                raise UnsupportedModelError(f"{opcode} is not a TFLite operator")
            c.builtinCode = builtin
            c.deprecatedBuiltinCode = min(builtin, 127)
            c.version = 1
            self.codes[opcode] = len(self.model.operatorCodes)
            self.model.operatorCodes.append(c)
        return self.codes[opcode]

    def buffer(self, data: np.ndarray, dtype: str) -> int:
        key = id(data)
        if key not in self.buffer_of:
            buf = schema.BufferT()
            raw = (np.ascontiguousarray(data, dtype=NUMPY_DTYPES[dtype]) if dtype in NUMPY_DTYPES
                   else np.ascontiguousarray(data))
            buf.data = np.frombuffer(raw.tobytes(), dtype=np.uint8)
            self.model.buffers.append(buf)
            self.buffer_of[key] = len(self.model.buffers) - 1
            self.buffered.append(data)
        return self.buffer_of[key]

    def tensor(self, t: Tensor) -> Any:
        if t.dtype not in _TYPES:
            raise UnsupportedModelError(f"tensor {t.index} ({t.name}): type {t.dtype} has no TFLite type")
        tt = schema.TensorT()
        tt.name = t.name.encode()
        tt.shape = np.array(t.shape, dtype=np.int32)
        tt.type = _TYPES[t.dtype]
        tt.buffer = self.buffer(t.data, t.dtype) if t.data is not None else 0
        tt.isVariable = t.is_variable
        if t.quant is not None:
            q = schema.QuantizationParametersT()
            q.scale = np.array(t.quant.scale, dtype=np.float32)
            q.zeroPoint = np.array(t.quant.zero_point, dtype=np.int64)
            q.quantizedDimension = t.quant.axis
            tt.quantization = q
        return tt

    def subgraph(self, graph: Graph, name: bytes, result: WrittenModel) -> Any:
        sg = schema.SubGraphT()
        sg.name = name
        sg.tensors = [self.tensor(t) for t in graph.tensors]
        sg.operators = []
        for op in graph.operators:
            why = refusal(graph, op)
            if why is not None:
                raise UnsupportedModelError(f"operator {op.index} ({op.opcode}): {why}")
            if op.opcode == "LOOKUP_TABLE" or (op.opcode == "DEQUANTIZE" and op.options.get("table") is not None):
                self.lookup_table(graph, sg, op)
                result.tables += 1
                continue
            inputs = list(op.inputs)
            opts = dict(op.options)
            # IR-only options refusal() has let through: float_ops of ADD / SUB / MUL or a falsy one;
            # the uint8 view of an average pool or binary operator whose float32 output stage is
            # listed as inexact anyway
            opts.pop("zero_point_shift", None)
            # onnxruntime's float Conv (ops/conv_fsum.py; requant float32 too, so listed as inexact)
            opts.pop("float_conv", None)
            opts.pop("float_bias", None)
            opts.pop("onnx_groups", None)
            if not opts.get("float_ops") or op.opcode in ("ADD", "SUB", "MUL"):
                opts.pop("float_ops", None)
            if not any(int(v) for v in opts.get("pads") or ()):
                opts.pop("count_include_pad", None)
            if opts.get("requant") == "float32":
                result.inexact.append((op.index, op.opcode))
            ort_linear = opts.pop("ort_linear", None)
            if ort_linear is not None:
                # onnxruntime's 8-bit linear Resize truncates a float32 interpolation; TFLite's rounds
                result.inexact.append((op.index, op.opcode))
            outputs = list(op.outputs)
            x_q, y_q = graph.tensors[op.inputs[0]].quant, graph.tensors[op.outputs[0]].quant
            requantize = ort_linear is not None and x_q is not None and y_q is not None and (
                x_q.scale, x_q.zero_point) != (y_q.scale, y_q.zero_point)
            if requantize:
                # DequantizeLinear -> Resize -> QuantizeLinear to another scale: TFLite's resize keeps
                # its input's, a QUANTIZE follows
                y = graph.tensors[op.outputs[0]]
                outputs[0] = len(sg.tensors)
                sg.tensors.append(self.tensor(Tensor(outputs[0], f"{y.name}/resized", y.shape, y.dtype, x_q)))
            if opts.get("pads") is not None and op.opcode in _PADDED:
                padded = self.explicit_padding(graph, sg, op, opts)
                if padded is not None:
                    inputs[0] = padded
                    result.pads_added += 1
            elif opts.get("pads") is not None and op.opcode == "TRANSPOSE_CONV":
                opts["padding"] = self.transpose_conv_padding(graph, op, opts.pop("pads"))
            elif any(int(v) for v in opts.get("pads") or ()):
                raise UnsupportedModelError(f"operator {op.index} ({op.opcode}): explicit padding "
                                            f"{list(opts['pads'])} has no TFLite form for this operator")
            o = schema.OperatorT()
            o.opcodeIndex = self.code(op.opcode)
            o.inputs = np.array(inputs, dtype=np.int32)
            o.outputs = np.array(outputs, dtype=np.int32)
            built = _builtin_options(Operator(op.index, op.opcode, op.inputs, op.outputs, opts))
            if built is not None:
                o.builtinOptionsType, o.builtinOptions = built
            if "custom_options" in op.options:
                o.customOptions = np.frombuffer(op.options["custom_options"], dtype=np.uint8)
            sg.operators.append(o)
            if requantize:
                rq = schema.OperatorT()
                rq.opcodeIndex = self.code("QUANTIZE")
                rq.inputs = np.array([outputs[0]], dtype=np.int32)
                rq.outputs = np.array([op.outputs[0]], dtype=np.int32)
                sg.operators.append(rq)
        sg.inputs = np.array(graph.inputs, dtype=np.int32)
        sg.outputs = np.array(graph.outputs, dtype=np.int32)
        return sg

    @staticmethod
    def transpose_conv_padding(graph: Graph, op: Operator, pads: Any) -> str:
        """The TFLite padding whose leading crop equals the explicit one (the output shape input
        fixes the rest), as TFLite Micro computes it from the output size."""
        w, y = graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
        sh, sw = int(op.options.get("stride_h", 1)), int(op.options.get("stride_w", 1))
        top, left = int(pads[0]), int(pads[1])
        for padding in ("SAME", "VALID"):
            if (padding_offsets(padding, y.shape[1], w.shape[1], sh, 1)[1],
                    padding_offsets(padding, y.shape[2], w.shape[2], sw, 1)[1]) == (top, left):
                return padding
        raise UnsupportedModelError(
            f"operator {op.index} (TRANSPOSE_CONV): output crop {[int(v) for v in pads]} is neither TFLite's SAME "
            "nor VALID, and TFLite's TRANSPOSE_CONV cannot take another")

    def lookup_table(self, graph: Graph, sg: Any, op: Operator) -> None:
        """out = table[x & 0xff] as TFLite operators: i = int32(x) + 128; out = GATHER(t, i) with
        t[i] = table[(i - 128) & 0xff]. The table is int8 for LOOKUP_TABLE, float32 for DEQUANTIZE."""
        x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
        kind = "int8" if op.opcode == "LOOKUP_TABLE" else "float32"
        table = np.asarray(op.options.get("table", ()), dtype=np.int64 if kind == "int8" else np.float32).reshape(-1)
        if table.size != 256 or x.dtype != "int8" or y.dtype != kind:
            raise UnsupportedModelError(f"operator {op.index} ({op.opcode}): needs an int8 input, a {kind} output "
                                        "and 256 entries")
        n = len(sg.tensors)
        wide = self.tensor(Tensor(n, f"{y.name}/index", x.shape, "int32"))
        offset = self.tensor(Tensor(n + 1, f"{y.name}/offset", (), "int32", data=np.array(128, dtype=np.int32)))
        index = self.tensor(Tensor(n + 2, f"{y.name}/index128", x.shape, "int32"))
        params: np.ndarray = np.concatenate([table[128:], table[:128]]).astype(NUMPY_DTYPES[kind])
        values = self.tensor(Tensor(n + 3, f"{y.name}/table", (256,), kind, y.quant, data=params))
        sg.tensors.extend([wide, offset, index, values])
        for opcode, ins, outs, opts in (
                ("CAST", [op.inputs[0]], [n], None),
                ("ADD", [n, n + 1], [n + 2], ("AddOptions", schema.AddOptionsT())),
                ("GATHER", [n + 3, n + 2], [op.outputs[0]], ("GatherOptions", schema.GatherOptionsT()))):
            o = schema.OperatorT()
            o.opcodeIndex = self.code(opcode)
            o.inputs = np.array(ins, dtype=np.int32)
            o.outputs = np.array(outs, dtype=np.int32)
            if opts is not None:
                o.builtinOptionsType = getattr(schema.BuiltinOptions, opts[0])
                o.builtinOptions = opts[1]
            sg.operators.append(o)

    def explicit_padding(self, graph: Graph, sg: Any, op: Operator, opts: dict[str, Any]) -> int | None:
        """Turn `pads` into `padding`: SAME or VALID where it equals one, else a PAD operator in
        front (its new tensor's index returned; `opts` then says VALID)."""
        top, left, bottom, right = (int(v) for v in opts.pop("pads"))
        x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
        if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            w = graph.tensors[op.inputs[1]]
            kh, kw = w.shape[1], w.shape[2]
        else:
            kh, kw = int(opts.get("filter_height", 1)), int(opts.get("filter_width", 1))
        sh, sw = int(opts.get("stride_h", 1)), int(opts.get("stride_w", 1))
        dh, dw = int(opts.get("dilation_h_factor", 1)), int(opts.get("dilation_w_factor", 1))
        if (top, left, bottom, right) == (0, 0, 0, 0):
            opts["padding"] = "VALID"
            return None
        # SAME as TFLite computes it: output ceil(in / stride), the padding that gives it.
        oh, ow = -(-x.shape[1] // sh), -(-x.shape[2] // sw)
        same_h = _same_pads(x.shape[1], oh, kh, sh, dh)
        same_w = _same_pads(x.shape[2], ow, kw, sw, dw)
        if (top, bottom) == same_h and (left, right) == same_w and tuple(y.shape[1:3]) == (oh, ow):
            opts["padding"] = "SAME"
            return None
        if op.opcode == "AVERAGE_POOL_2D":
            raise UnsupportedModelError(
                f"operator {op.index} (AVERAGE_POOL_2D): padding {[top, left, bottom, right]} is neither SAME nor "
                "VALID, and TFLite's average pool cannot take other padding")
        if x.quant is None:
            raise UnsupportedModelError(f"operator {op.index} ({op.opcode}): explicit padding of an unquantized input")
        opts["padding"] = "VALID"
        n = len(sg.tensors)
        pads = np.array([[0, 0], [top, bottom], [left, right], [0, 0]], dtype=np.int32)
        pt = schema.TensorT()
        pt.name = f"{x.name}/pads{op.index}".encode()
        pt.shape = np.array([4, 2], dtype=np.int32)
        pt.type = schema.TensorType.INT32
        pt.buffer = self.buffer(pads, "int32")
        padded_shape = (x.shape[0], x.shape[1] + top + bottom, x.shape[2] + left + right, x.shape[3])
        out = self.tensor(Tensor(n + 1, f"{x.name}/padded{op.index}", padded_shape, x.dtype, x.quant))
        sg.tensors.extend([pt, out])
        pad = schema.OperatorT()
        # A max pool pads with the lowest value so padding never wins; a convolution with the
        # input's zero point (real 0), as TFLite does inside its own SAME padding.
        if op.opcode == "MAX_POOL_2D":
            lowest = schema.TensorT()
            lowest.name = f"{x.name}/pad_value{op.index}".encode()
            lowest.shape = np.array([], dtype=np.int32)
            lowest.type = _TYPES[x.dtype]
            lowest.buffer = self.buffer(np.array(np.iinfo(NUMPY_DTYPES[x.dtype]).min, dtype=NUMPY_DTYPES[x.dtype]),
                                        x.dtype)
            lowest.quantization = out.quantization
            sg.tensors.append(lowest)
            pad.opcodeIndex = self.code("PADV2")
            pad.inputs = np.array([op.inputs[0], n, n + 2], dtype=np.int32)
        else:
            pad.opcodeIndex = self.code("PAD")
            pad.inputs = np.array([op.inputs[0], n], dtype=np.int32)
        pad.outputs = np.array([n + 1], dtype=np.int32)
        sg.operators.append(pad)
        return n + 1


def write_tflite(graph: Graph) -> WrittenModel:
    """The graph (and its further subgraphs) as .tflite bytes. Raises UnsupportedModelError naming
    what TFLite cannot express."""
    w = _Writer()
    result = WrittenModel(b"")
    try:
        w.model.subgraphs = [w.subgraph(graph, b"main", result)]
        for k, sub in enumerate(graph.subgraphs):
            w.model.subgraphs.append(w.subgraph(sub, f"sub{k + 1}".encode(), result))
    except UnsupportedModelError as exc:
        raise UnsupportedModelError(f"{graph.name}: cannot be written as .tflite: {exc.message}") from exc
    b = flatbuffers.Builder(1024)
    b.Finish(w.model.Pack(b), file_identifier=b"TFL3")
    result.data = bytes(b.Output())
    return result
