"""The reference for .onnx models: onnxruntime, CPU provider, default session options.

The runner speaks the IR's types, so its results compare directly with the generated C: the ONNX
front end turns uint8 activations into int8 (zero point - 128), so a uint8 model input is given
here as int8 and shifted back by 128 before onnxruntime sees it, and a uint8 output comes back
shifted to int8.

Op by op (`keep_tensors=True`), the intermediate values come from onnxruntime's own optimized graph
of the model, run again with every tensor an output and no further optimization (onnx_probe: making
a tensor of the model itself an output would change how onnxruntime fuses the nodes around it, and
so the values); `tensor(index)` then gives the value of the IR tensor of that name (the front end
keeps ONNX names for the tensors that survive), `not_comparable` lists the integer tensors of the
model that could not be found there. The final outputs always come from the unmodified model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ModelError
from ..ir import Graph
from .ort_session import PRECISION_KEY, open_session, options, saturates_u8s8


def _session(model_bytes: bytes, *, exact: bool = True) -> Any:
    return open_session(model_bytes, options(exact=exact))


def quantized_names(model_bytes: bytes) -> dict[str, str]:
    """Float tensor name → the integer tensor holding its value: a QuantizeLinear's input and a
    DequantizeLinear's output both map to the integer tensor between them."""
    import onnx

    aliases: dict[str, str] = {}
    for node in onnx.load_from_string(model_bytes).graph.node:
        if node.op_type == "QuantizeLinear" and node.input and node.output:
            aliases.setdefault(node.input[0], node.output[0])
        elif node.op_type == "DequantizeLinear" and node.input and node.output:
            aliases.setdefault(node.output[0], node.input[0])
    return aliases


def with_outputs(model_bytes: bytes, names: list[str]) -> bytes:
    """A copy of the model in which the named tensors are graph outputs too."""
    import onnx

    model = onnx.load_from_string(model_bytes)
    have = {o.name for o in model.graph.output}
    model.graph.output.extend(onnx.ValueInfoProto(name=n) for n in names if n not in have)
    return model.SerializeToString()


# IR operators whose 4-D tensors are channels last (NHWC) whatever the model's layout was, and
# those whose output keeps their first input's layout.
_NHWC_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "MAX_POOL_2D", "AVERAGE_POOL_2D",
                       "L2_POOL_2D", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "DEPTH_TO_SPACE", "SPACE_TO_DEPTH"})
_SAME_LAYOUT_OPS = frozenset({"ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM", "QUANTIZE", "DEQUANTIZE", "LOOKUP_TABLE",
                              "LOGISTIC", "TANH", "RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU", "HARD_SWISH",
                              "PRELU", "PAD", "PADV2", "CONCATENATION", "SOFTMAX", "MEAN"})


def channels_last(graph: Graph) -> set[int]:
    """IR tensors (of 3 or more dimensions) that hold an ONNX channels-first tensor channels last:
    outputs of the NHWC operators, and what element-wise operators compute from them. Never a graph
    output: the front end writes those in ONNX order (a Transpose to NHWC before one is no TRANSPOSE)."""
    found: set[int] = set()
    for op in graph.operators:
        first = op.inputs[0] if op.inputs else -1
        if op.opcode in _NHWC_OPS or (op.opcode in _SAME_LAYOUT_OPS and first in found):
            found.update(o for o in op.outputs if len(graph.tensors[o].shape) >= 3)
    return found - set(graph.outputs)


def to_ir(x: np.ndarray, shape: tuple[int, ...] | None = None, nhwc: bool | None = None) -> np.ndarray:
    """An onnxruntime value in the IR's type (uint8 becomes int8, minus 128) and, given the IR
    tensor's shape, its layout: an NCHW value whose IR tensor is channels last (`nhwc`, see
    channels_last; None: guessed from the shapes) has its channel axis moved to the end."""
    x = np.asarray(x)
    if x.dtype == np.uint8:
        x = (x.astype(np.int16) - 128).astype(np.int8)
    if shape is not None and nhwc is not None and x.ndim >= 3:
        if nhwc:
            x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
        return x.reshape(shape) if x.size == int(np.prod(shape)) else x
    if shape is not None and tuple(x.shape) != tuple(shape) and x.ndim >= 3:
        moved = np.moveaxis(x, 1, -1)
        if moved.size == int(np.prod(shape)) and (moved.shape == tuple(shape) or moved.ndim != len(shape)):
            return np.ascontiguousarray(moved).reshape(shape)
    return x


def from_ir(x: np.ndarray, onnx_type: str, onnx_shape: list | None = None) -> np.ndarray:
    """An IR-typed input as onnxruntime wants it (`onnx_type` as onnxruntime names it): uint8
    from int8, and channels back to axis 1 where the IR holds the input channels last."""
    if onnx_type == "tensor(uint8)" and x.dtype == np.int8:
        x = (x.astype(np.int16) + 128).astype(np.uint8)
    if onnx_shape and all(isinstance(d, int) for d in onnx_shape) and tuple(x.shape) != tuple(onnx_shape):
        if x.ndim >= 3 and np.moveaxis(x, -1, 1).shape == tuple(onnx_shape):
            return np.ascontiguousarray(np.moveaxis(x, -1, 1))
        if x.size == int(np.prod(onnx_shape)):
            return x.reshape(onnx_shape)
    return x


class OnnxReference:
    """One onnxruntime session (no state: ONNX models here are stateless, so `restart` is a no-op).

    `graph`: the IR read from the same model; with `keep_tensors`, `tensor(index)` gives IR tensor
    `index`'s value after the last run, when onnxruntime computed a tensor of that name."""

    def __init__(self, model_bytes: bytes, graph: Graph | None = None, *, keep_tensors: bool = False,
                 exact: bool = True) -> None:
        self._model = model_bytes
        self._graph = graph
        self.session = _session(model_bytes, exact=exact)
        self._inputs = self.session.get_inputs()
        self._outputs = [o.name for o in self.session.get_outputs()]
        self._probe: Any = None
        self.probe_error = ""  # why no intermediate value can be given, if so
        self.not_comparable: list[str] = []  # integer tensors of the model onnxruntime gives no value for
        self._writers: dict[str, str] = {}
        if keep_tensors:
            self._open_probe()
        self._values: dict[str, np.ndarray] = {}
        self._aliases = quantized_names(model_bytes) if keep_tensors else {}
        self._nhwc = channels_last(graph) if graph is not None else set()

    def _open_probe(self) -> None:
        from .onnx_probe import computing_nodes, probe  # the module, not the package: no import cycle

        try:
            self._probe = probe(self._model)
            self._writers = computing_nodes(self._model)
        except Exception as exc:  # onnx / onnxruntime raise their own types for graphs they cannot handle
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self.probe_error = f"onnxruntime's optimized graph cannot be probed: {first}"
            self._probe = None

    def _feed(self, inputs: list[np.ndarray]) -> dict[str, np.ndarray]:
        if len(inputs) != len(self._inputs):
            raise ModelError(f"the model takes {len(self._inputs)} inputs, got {len(inputs)}")
        return {i.name: from_ir(np.asarray(x), i.type, i.shape) for i, x in zip(self._inputs, inputs, strict=True)}

    def run(self, inputs: list[np.ndarray], num_outputs: int) -> list[np.ndarray]:
        feed = self._feed(inputs)
        outs = self.session.run(None, feed)
        self._values = dict(zip(self._outputs, outs, strict=True))
        if self._probe is not None:
            from .onnx_probe import run as run_probe

            try:
                kept, self.not_comparable, agreed = run_probe(self._probe, feed, outs)
            except Exception as exc:  # onnxruntime's own exception types
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                kept, self.not_comparable, agreed = {}, list(self._probe.wanted), True
                self.probe_error = f"onnxruntime cannot run its optimized graph with every tensor an output: {first}"
            if not agreed:
                self.probe_error = ("onnxruntime's optimized graph, run with every tensor an output, gave other "
                                    "final outputs than the model: no intermediate value is taken from it")
            for name, v in kept.items():
                self._values.setdefault(name, v)  # the graph outputs stay the unmodified model's
        if self._graph is None:
            return [to_ir(o) for o in outs[:num_outputs]]
        return [to_ir(o, self._graph.tensors[i].shape, True if i in self._nhwc else None)
                for o, i in zip(outs[:num_outputs], self._graph.outputs, strict=False)]

    def restart(self) -> None:
        self._values = {}

    def names(self) -> list[str]:
        """The tensors `value` can give after a run: with keep_tensors, the integer tensors the
        model's nodes compute, in node order; then the graph outputs."""
        kept = [n for n in self._probe.wanted if n not in self._outputs] if self._probe is not None else []
        return [*kept, *self._outputs]

    def onnx_node(self, name: str) -> str:
        """The ONNX node that computed a tensor's value (for a QuantizeLinear's output, the node
        whose float result it quantizes), by tensor name or the float name of an integer tensor;
        empty if unknown (needs keep_tensors)."""
        return self._writers.get(name) or self._writers.get(self._aliases.get(name, ""), "")

    def value(self, name: str, shape: tuple[int, ...] | None = None, nhwc: bool | None = None) -> np.ndarray | None:
        """A tensor by ONNX name after the last run (IR type; IR layout given its IR shape), or None
        if it was not kept. The name may also be the float tensor a QuantizeLinear quantizes or
        the one a DequantizeLinear computes: the IR's integer tensor may carry either name."""
        v = self._values.get(name)
        if v is None and name in self._aliases:
            v = self._values.get(self._aliases[name])
        return None if v is None else to_ir(v, shape, nhwc)

    def tensor(self, index: int) -> np.ndarray:
        if self._graph is None:
            raise ModelError("the onnxruntime reference reads tensors by IR index only when given the graph")
        t = self._graph.tensors[index]
        name, nhwc = t.name, (True if index in self._nhwc else None)
        if name.endswith(("/nhwc", "/nchw")) and len(t.shape) == 4:
            # a layout change the front end added: the ONNX tensor itself, channels last or as it is
            name, nhwc = name[:-5], name.endswith("/nhwc")
        v = self.value(name, t.shape, nhwc)
        if v is None:
            raise ModelError(f"onnxruntime computed no tensor named {t.name!r}")
        return v


# ---- onnxruntime's 8-bit matrix kernel on this CPU ---------------------------------------------------
#
# On x86 with AVX2 but without VNNI, onnxruntime's (MLAS's) u8 x s8 GEMM, which QLinearConv, QGemm,
# QLinearMatMul and the QDQ forms of Conv / Gemm / MatMul run on, multiplies with vpmaddubsw: two
# neighbouring u8 * s8 products are added into an int16 with saturation. An int8 activation is
# shifted to uint8 first, so both activation types are affected. With weights quantized to 7 bits
# (quantize_static(..., reduce_range=True)) a pair is at most 2 * 255 * 64 = 32,640 and never
# saturates; full-range weights (|w| up to 127) can, and the default kernel's result then is not
# the exact integer sum that the generated C and onnxruntime on VNNI or Arm CPUs compute. On such a
# CPU the reference session takes onnxruntime's exact u8 x u8 path instead (ort_session.py).

SATURATION_OPS = frozenset({"CONV_2D", "FULLY_CONNECTED"})
_SEVEN_BITS = 64  # |w| <= 64: no pair of products reaches 32,767


def full_range_layers(graph: Graph) -> list[int]:
    """Operators that run on onnxruntime's u8 x s8 matrix kernel with constant int8 weights beyond
    7 bits (|w| > 64), whose pair sums can saturate there."""
    found = []
    for op in graph.operators:
        if op.opcode not in SATURATION_OPS or len(op.inputs) < 2 or op.inputs[1] < 0:
            continue
        w = graph.tensors[op.inputs[1]]
        if w.data is None or w.dtype != "int8":
            continue
        if int(np.max(np.abs(w.data.astype(np.int16)), initial=0)) > _SEVEN_BITS:
            found.append(op.index)
    return found


def saturation_note(graph: Graph, default_exact: tuple[int, int] | None = None) -> str:
    """One line for a validate report when this onnxruntime's default 8-bit kernel saturates and
    the model has full-range weights, so the reference ran with PRECISION_KEY; `default_exact`:
    (bit-exact inferences, inferences) against a session with default options. Empty otherwise."""
    layers = full_range_layers(graph)
    if not layers or not saturates_u8s8():
        return ""
    where = ", ".join(f"#{i}" for i in layers[:6]) + (", ..." if len(layers) > 6 else "")
    default = (f" (against default options here: {default_exact[0]} of {default_exact[1]} inferences bit-exact)"
               if default_exact is not None else "")
    return (f"note: the reference is onnxruntime with {PRECISION_KEY}=1: its default 8-bit matrix kernel on this "
            f"CPU (x86 without VNNI) adds pairs of products in int16 with saturation, and {len(layers)} layer(s) "
            f"of this model ({where}) have full-range int8 weights; with that option onnxruntime computes the "
            f"exact sums, as it does by default on VNNI and Arm CPUs{default}")
