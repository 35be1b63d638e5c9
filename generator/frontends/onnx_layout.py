"""Which 8-bit tensors of an ONNX model onnxruntime's CPU provider holds channels-last (NHWC).

onnxruntime's NhwcTransformer runs every 8-bit QLinearConv channels-last, wraps it in Transposes and
lets its transpose optimizer push those Transposes down the graph. An operator the Transpose is
pushed through then runs on NHWC data, and for a linear Resize of uint8 / int8 data that is another
kernel (fixed-point weights, generator/ops/resize_ort.py) than the NCHW one. What decides it, as
measured with onnxruntime 1.32 (optimized graphs saved and compared) and as its optimizer's cost
check reads:

- channels-last at the source: QLinearConv's output (and a QDQ model's Conv's QuantizeLinear,
  which onnxruntime fuses into one);
- pushed always: 8-bit MaxPool (NhwcMaxPool), 4-D 8-bit linear Resize (its cost check asks for
  it), QLinearGlobalAveragePool, and QLinearAdd / QLinearMul / QLinearConcat whose non-constant data
  inputs are all channels-last (one Transpose replaces several);
- pushed only where the result leads to another Transpose to cancel (a later QLinearConv reached
  through operators a Transpose can pass): QLinearSigmoid, QLinearLeakyRelu, QLinearAveragePool,
  QLinearAdd / QLinearMul with a constant operand, nearest Resize, QuantizeLinear and
  DequantizeLinear;
- Identity is removed before, its output is its input;
- anything else (Reshape, Transpose, mixed layouts, ...) is taken as channels-first.

This is a model of the optimizer, not the optimizer: a graph shape it treats otherwise makes the
affected Resize differ by truncation only (at most one step).
"""

from __future__ import annotations

from typing import Any

_ALWAYS = {"MaxPool", "QLinearGlobalAveragePool"}
_BINARY = {"QLinearAdd": (0, 3), "QLinearMul": (0, 3)}  # data inputs
_NEUTRAL = {"QLinearSigmoid", "QLinearLeakyRelu", "QLinearAveragePool", "QuantizeLinear", "DequantizeLinear"}


def _data_inputs(node: Any) -> list[str]:
    if node.op_type in _BINARY:
        return [node.input[k] for k in _BINARY[node.op_type] if k < len(node.input)]
    if node.op_type == "QLinearConcat":
        return [node.input[k] for k in range(2, len(node.input), 3)]
    return [node.input[0]] if node.input else []


def _mode(node: Any) -> str:
    for a in node.attribute:
        if a.name == "mode":
            return a.s.decode()
    return "nearest"


def _eight_bit(nodes: list[Any]) -> set[str]:
    """Values that are uint8 / int8 activations: what QuantizeLinear and the QLinear operators
    produce, and what data movers make of them."""
    res: set[str] = set()
    movers = ("MaxPool", "Resize", "Identity", "Transpose", "Reshape")
    for n in nodes:
        made = n.op_type == "QuantizeLinear" or n.op_type.startswith("QLinear")
        if made or (n.op_type in movers and n.input and n.input[0] in res):
            res.add(n.output[0])
    return res


def ort_channels_last(model: Any) -> set[str]:
    """Names of the values onnxruntime computes channels-last."""
    g = model.graph
    consts = {i.name for i in g.initializer}
    nodes = list(g.node)
    eight_bit = _eight_bit(nodes)
    producer = {o: n for n in nodes for o in n.output}
    readers: dict[str, list[Any]] = {}
    for n in nodes:
        for name in _data_inputs(n):
            readers.setdefault(name, []).append(n)

    def passes(n: Any) -> bool:
        return n.op_type in _ALWAYS or n.op_type in _NEUTRAL or n.op_type in _BINARY or n.op_type in (
            "QLinearConcat", "Resize", "Identity")

    # values whose readers lead, through operators a Transpose passes, to a QLinearConv
    leads: set[str] = set()
    for n in reversed(nodes):
        for o in n.output:
            if any(r.op_type == "QLinearConv" or (passes(r) and any(x in leads for x in r.output))
                   for r in readers.get(o, [])):
                leads.add(o)

    last: set[str] = set()
    for n in nodes:
        if not n.output:
            continue
        op, out = n.op_type, n.output[0]
        fused_conv = op == "QuantizeLinear" and getattr(producer.get(n.input[0]), "op_type", "") == "Conv"
        if op == "QLinearConv" or fused_conv:
            # (a QDQ model's DequantizeLinear -> Conv -> QuantizeLinear becomes a QLinearConv)
            last.add(out)
            continue
        data = [x for x in _data_inputs(n) if x and x not in consts]
        if not data or any(x not in last for x in data):
            continue
        if op == "Identity":  # removed before the layout is chosen
            forced = True
        elif op in _ALWAYS:
            forced = out in eight_bit and (op != "MaxPool" or len(n.output) == 1 or not n.output[1])
        elif op == "Resize":
            forced = _mode(n) == "linear" and out in eight_bit
        elif op in _BINARY or op == "QLinearConcat":
            forced = len(data) > 1
        elif op in _NEUTRAL:
            forced = False
        else:
            continue
        if forced or out in leads:
            last.add(out)
    return last
