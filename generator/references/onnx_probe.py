"""onnxruntime's intermediate values of a quantized ONNX model, exactly as the unmodified model
computes them.

Making a tensor of the model a graph output changes what onnxruntime's graph optimizer does around
it: a QuantizeLinear whose output is a graph output is not converted to uint8 and its producer not
fused into an integer kernel (QLinearConv, QLinearMul, ...), a DequantizeLinear that becomes an
output is not folded, so the float path runs and the numbers change. So the values are taken from
onnxruntime's own optimized graph instead: the session optimizes the model as usual (CPU provider,
default options) and writes the optimized graph out; that graph runs again with every tensor a
graph output and no optimization at all, so it computes what the first session computes, node for
node. `run` checks that: the real graph outputs of both runs must be equal, else no intermediate
value is given.

The optimized graph renames most tensors (fused nodes, uint8 in place of int8 on x86, channels-last
QLinearConv, equal scales merged under one name). A tensor of the original model is found in it as
1. a tensor of the same name;
2. the input of a DequantizeLinear that kept the output name of one of the tensor's DequantizeLinear
   readers (onnxruntime adds "/duplicated" to the copies it makes of a shared one), with the same
   scale;
3. the output of a QuantizeLinear that kept the name of the tensor's QuantizeLinear, or the name
   of its float input, with the same scale;
4. the output of a fused node (QLinearConv, QGemm, NhwcMaxPool, a node the QDQ pair was dropped
   around, ...) whose first input (past Transposes) is the optimized form of an original tensor T
   and whose kind is that of the float node reading T's DequantizeLinear (its weights the same
   initializers where that is ambiguous): the QuantizeLinear of that node's result, past a Relu /
   Clip onnxruntime folds in; else a fused node named after the original node (plus "_token_N").
Its element type is brought back to the original's (uint8 = int8 + 128) and its layout to the
original's (channels last for the outputs of channels-last nodes, moved back). What cannot be
found is listed as not comparable.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .ort_session import options

_INT8, _UINT8 = 3, 2  # onnx.TensorProto element types
_TOKEN = re.compile(r"_token_\d+$")
_FOLDED = frozenset({"Relu", "Clip"})  # activations onnxruntime folds into the integer node before them
_NUMPY = {_INT8: np.dtype(np.int8), _UINT8: np.dtype(np.uint8)}
# Operators whose output keeps their first input's layout (onnxruntime moves them into a
# channels-last region as they are).
_SAME_LAYOUT = frozenset({"QuantizeLinear", "DequantizeLinear", "Add", "Sub", "Mul", "Div", "Relu", "Clip",
                          "Sigmoid", "HardSigmoid", "HardSwish", "LeakyRelu", "Tanh", "QLinearAdd", "QLinearMul",
                          "QLinearSigmoid", "QLinearLeakyRelu", "Identity", "Max", "Min"})


def _options(optimized: Path | None = None, disable: bool = False) -> Any:
    import onnxruntime as ort

    opts = options()  # the reference session's options (ort_session.py)
    if optimized is not None:
        opts.optimized_model_filepath = str(optimized)
    if disable:
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return opts


def _session(model_bytes: bytes, opts: Any) -> Any:
    import onnxruntime as ort

    return ort.InferenceSession(model_bytes, sess_options=opts, providers=["CPUExecutionProvider"])


def wanted_tensors(model: Any) -> dict[str, tuple[np.dtype, tuple[int, ...] | None]]:
    """The integer tensors (int8 / uint8) the model's nodes compute, in node order, with their
    element type and (where shape inference knows it) shape."""
    import onnx

    with contextlib.suppress(Exception):  # best effort: without it, only the declared types are known
        model = onnx.shape_inference.infer_shapes(model)
    g = model.graph
    info = {v.name: v.type.tensor_type for v in [*g.value_info, *g.output, *g.input]}
    found: dict[str, tuple[np.dtype, tuple[int, ...] | None]] = {}
    for node in g.node:
        for name in node.output:
            t = info.get(name)
            elem = t.elem_type if t is not None else 0
            if node.op_type == "QuantizeLinear" and elem not in _NUMPY:
                elem = _UINT8 if len(node.input) < 3 or not node.input[2] else _zero_point_type(model, node.input[2])
            if not name or elem not in _NUMPY or name in found:
                continue
            dims = tuple(t.shape.dim) if t is not None and t.HasField("shape") else ()
            known = bool(dims) and all(d.HasField("dim_value") for d in dims)
            shape = tuple(int(d.dim_value) for d in dims) if known else None
            found[name] = (_NUMPY[elem], shape)
    return found


def _zero_point_type(model: Any, name: str) -> int:
    for init in model.graph.initializer:
        if init.name == name:
            return int(init.data_type)
    return _UINT8


@dataclass
class Located:
    """Where an original tensor's value is in the optimized graph."""

    name: str  # tensor of the optimized graph
    nhwc: bool | None  # channels last there (None: not known)


@dataclass
class Probe:
    """The optimized graph with every tensor a graph output, and where each wanted tensor is in it."""

    model: bytes
    outputs: list[str]  # the real graph outputs
    found: dict[str, Located]
    wanted: dict[str, tuple[np.dtype, tuple[int, ...] | None]]
    not_comparable: list[str] = field(default_factory=list)
    session: Any = None  # opened at the first run


def _layouts(graph: Any) -> dict[str, bool | None]:
    """Channels last (True), first (False) or unknown (None), per 4-D tensor of an optimized
    graph, from the nodes that write them: a `channels_last` attribute, a Transpose between the two
    layouts, operators that keep their input's layout."""
    import onnx

    layout: dict[str, bool | None] = {i.name: False for i in graph.input}
    for node in graph.node:  # nodes are in topological order in a saved optimized graph
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        first = layout.get(node.input[0]) if node.input else False
        if "channels_last" in attrs:
            value: bool | None = bool(attrs["channels_last"])
        elif node.op_type == "Transpose":
            perm = list(attrs.get("perm", []))
            value = (True if perm == [0, 2, 3, 1] and first is False else
                     False if perm == [0, 3, 1, 2] and first is True else None)
        elif node.op_type in _SAME_LAYOUT:
            value = first
        elif node.domain in ("", "ai.onnx"):
            value = False
        else:
            value = None
        for o in node.output:
            layout[o] = value
    return layout


def _scalars(graph: Any) -> dict[str, float]:
    """The graph's one-element float initializers (quantization scales) by name."""
    from onnx import numpy_helper

    found = {}
    for init in graph.initializer:
        if init.data_type == 1 and int(np.prod(init.dims)) == 1:
            found[init.name] = float(np.asarray(numpy_helper.to_array(init)).reshape(()))
    return found


def _same_kind(fused: str, original: str) -> bool:
    """Whether an optimized-graph node of type `fused` can be onnxruntime's form of a float node of
    type `original` between DequantizeLinear and QuantizeLinear (QLinearConv for Conv, QGemm for
    Gemm, NhwcMaxPool for MaxPool, the node itself where the pair was dropped around it)."""
    return fused == original or (original in fused and fused.startswith(("QLinear", "Q", "Nhwc")))


def _quantized_result(node: Any, readers: dict[str, list[Any]]) -> list[str]:
    """The QuantizeLinear outputs of a float node's result, past a Relu / Clip onnxruntime folds in."""
    out = node.output[0]
    nxt = readers.get(out, [])
    while len(nxt) == 1 and nxt[0].op_type in _FOLDED and nxt[0].output:
        out = nxt[0].output[0]
        nxt = readers.get(out, [])
    return [q.output[0] for q in nxt if q.op_type == "QuantizeLinear" and q.output]


def _named_result(nodes: list[Any], readers: dict[str, list[Any]]) -> str | None:
    """The one QuantizeLinear output of the one original node of a name."""
    if len(nodes) != 1 or not nodes[0].output:
        return None
    found = _quantized_result(nodes[0], readers)
    return found[0] if len(found) == 1 else None


def locate(original: Any, optimized: Any, wanted: list[str]) -> tuple[dict[str, Located], list[str]]:
    """Each wanted tensor of the original model in onnxruntime's optimized graph (see the module
    text), and the ones not found."""
    names = {o for n in optimized.node for o in n.output if o} | {i.name for i in optimized.input}
    layout = _layouts(optimized)
    writer = {o: n for n in original.node for o in n.output if o}
    readers: dict[str, list[Any]] = {}
    for n in original.node:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    dq_by_output = {n.output[0]: n for n in original.node if n.op_type == "DequantizeLinear" and n.output}
    q_by_name = {n.name: n for n in original.node if n.op_type == "QuantizeLinear" and n.name and n.output}
    q_by_input = {n.input[0]: n for n in original.node if n.op_type == "QuantizeLinear" and n.input and n.output}
    at: dict[str, str] = {t: t for t in wanted if t in names}  # original tensor -> optimized tensor
    scales, opt_scales = _scalars(original), _scalars(optimized)

    def same_scale(a: str, b: str) -> bool:  # onnxruntime merges equal initializers under one name
        return a == b or (a in scales and b in opt_scales and scales[a] == opt_scales[b])

    for n in optimized.node:
        if not n.input or not n.output or len(n.input) < 2:
            continue
        if n.op_type == "DequantizeLinear":  # one that kept a DequantizeLinear reader's output name
            d = dq_by_output.get(n.output[0]) or dq_by_output.get(n.output[0].split("/duplicated")[0])
            if d is not None and len(d.input) > 1 and same_scale(d.input[1], n.input[1]):
                at.setdefault(d.input[0], n.input[0])
        elif n.op_type == "QuantizeLinear":  # one that kept its name, or its input's, and its scale
            for q in (q_by_name.get(n.name), q_by_input.get(n.input[0])):
                if q is not None and len(q.input) > 1 and same_scale(q.input[1], n.input[1]):
                    at.setdefault(q.output[0], n.output[0])
                    break
    # The rest, through fused nodes: a node reading (past Transposes) the optimized form of an
    # original integer tensor T, of the kind of the float node P that reads T's DequantizeLinear,
    # computes the QuantizeLinear of P's output.
    opt_writer = {o: n for n in optimized.node for o in n.output if o}
    back = {v: k for k, v in at.items()}
    by_name: dict[str, list[Any]] = {}
    for n in original.node:
        by_name.setdefault(n.name, []).append(n)

    def through(n: Any) -> str | None:
        """The original tensor a fused node computes: found from its first input's original tensor
        and the kind of float node that reads that tensor's DequantizeLinear, else by its name (a
        node onnxruntime made out of a named node keeps the name, plus "_token_N")."""
        src = n.input[0]
        while src not in back and src in opt_writer and opt_writer[src].op_type == "Transpose":
            src = opt_writer[src].input[0]
        candidates: list[tuple[bool, str]] = []  # (the float node's constant inputs are the node's, tensor)
        for d in readers.get(back.get(src, ""), []):
            if d.op_type != "DequantizeLinear" or not d.output:
                continue
            for p in readers.get(d.output[0], []):
                if not _same_kind(n.op_type, p.op_type) or not p.output:
                    continue
                consts = {dq_by_output[i].input[0] for i in p.input[1:] if i in dq_by_output} - set(writer)
                candidates += [(consts <= set(n.input), q) for q in _quantized_result(p, readers)]
        unique = {q for _, q in candidates}
        if len(unique) > 1:
            unique = {q for ok, q in candidates if ok}
        if len(unique) == 1:
            return unique.pop()
        if n.name and n.op_type.startswith(("QLinear", "QGemm", "Nhwc")):
            return _named_result(by_name.get(_TOKEN.sub("", n.name), []), readers)
        return None

    for n in optimized.node:
        if not n.input or not n.output or n.op_type in ("QuantizeLinear", "DequantizeLinear", "Transpose"):
            continue
        q = through(n)
        if q is not None and q not in at:
            at[q] = n.output[0]
            back[n.output[0]] = q
    located = {t: Located(at[t], layout.get(at[t])) for t in wanted if t in at}
    return located, [t for t in wanted if t not in at]


def probe(model_bytes: bytes) -> Probe:
    """The probe model for a .onnx file's bytes (see the module text). Raises what onnx and
    onnxruntime raise for a model they cannot read."""
    import onnx

    original = onnx.load_from_string(model_bytes)
    wanted = wanted_tensors(original)
    with tempfile.TemporaryDirectory(prefix="mcuforge-ort-") as tmp:
        path = Path(tmp) / "optimized.onnx"
        _session(model_bytes, _options(path))
        optimized = onnx.load(str(path))
    outputs = [o.name for o in optimized.graph.output]
    found, missing = locate(original.graph, optimized.graph, [t for t in wanted if t not in outputs])
    keep = {loc.name for loc in found.values()} - set(outputs)
    optimized.graph.output.extend(onnx.ValueInfoProto(name=n) for n in sorted(keep))
    return Probe(optimized.SerializeToString(), outputs, found, wanted, missing)


def _original_form(v: np.ndarray, dtype: np.dtype, shape: tuple[int, ...] | None,
                   nhwc: bool | None) -> np.ndarray | None:
    """A value of the optimized graph in the original tensor's type and layout; None where the
    layout cannot be told."""
    if v.dtype != dtype:
        if {v.dtype, dtype} != {np.dtype(np.int8), np.dtype(np.uint8)}:
            return None
        shift = 128 if dtype == np.uint8 else -128
        v = (v.astype(np.int16) + shift).astype(dtype)
    if shape is None or v.ndim != 4 or len(shape) != 4:
        return v if shape is None or tuple(v.shape) == shape else None
    first = tuple(v.shape) == shape
    last = tuple(np.moveaxis(v, -1, 1).shape) == shape
    if nhwc is None and first != last:
        nhwc = last
    if nhwc is True and last:
        return np.ascontiguousarray(np.moveaxis(v, -1, 1))
    if nhwc is False and first:
        return v
    return None


def run(p: Probe, feed: dict[str, np.ndarray],
        expect: list[np.ndarray]) -> tuple[dict[str, np.ndarray], list[str], bool]:
    """The wanted tensors' values on one input (original names, types and layouts), the tensors
    that are not comparable, and whether the probe's final outputs equal `expect`, the unmodified
    model's on the same input (if not, no value is given: every wanted tensor is not comparable)."""
    if p.session is None:
        p.session = _session(p.model, _options(disable=True))
    session = p.session
    inputs = {i.name for i in session.get_inputs()}
    got = dict(zip([o.name for o in session.get_outputs()],
                   session.run(None, {k: v for k, v in feed.items() if k in inputs}), strict=True))
    if len(expect) != len(p.outputs) or not all(
            np.array_equal(np.asarray(got[n]), np.asarray(e)) for n, e in zip(p.outputs, expect, strict=True)):
        return {}, list(p.wanted), False
    values: dict[str, np.ndarray] = {}
    missing = list(p.not_comparable)
    for t, loc in p.found.items():
        dtype, shape = p.wanted[t]
        v = _original_form(np.asarray(got[loc.name]), dtype, shape, loc.nhwc)
        if v is None:
            missing.append(t)
        else:
            values[t] = v
    return values, missing, True


def computing_nodes(model_bytes: bytes) -> dict[str, str]:
    """Tensor name -> the ONNX node that computed its value: for a QuantizeLinear's output (and
    its float input), the node whose float result it quantizes; nodes without a name by type."""
    import onnx

    g = onnx.load_from_string(model_bytes).graph
    writer = {o: n for n in g.node for o in n.output if o}
    found: dict[str, str] = {}
    for name, node in writer.items():
        src = writer.get(node.input[0]) if node.op_type == "QuantizeLinear" and node.input else None
        found[name] = (src or node).name or (src or node).op_type
    return found
